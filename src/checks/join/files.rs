//! `Kubelet-Joined`: before the join, kubeadm refuses to run over the files of an earlier join
//! (`FileAvailable--etc-kubernetes-kubelet.conf`, `...-bootstrap-kubelet.conf`, `...-pki-ca.crt`) and
//! a non-empty `manifests/` means a control-plane node. After the join, `kubelet.conf` must be there.

use crate::checks::{Area, CheckResult, Context, Phase};
use crate::facts::node_setup::NodeSetup;

pub const ID: &str = "Kubelet-Joined";
const AREA: Area = Area::Join;
const KUBELET_CONF: &str = "/etc/kubernetes/kubelet.conf";

pub fn evaluate(ctx: &Context, setup: &NodeSetup) -> Vec<CheckResult> {
    let files = &setup.kubeadm_files;
    let r = if ctx.phase == Phase::PreJoin {
        if files.present.is_empty() && files.manifests.is_empty() {
            CheckResult::ok(ID, AREA, "no earlier join: /etc/kubernetes holds no kubelet.conf, bootstrap-kubelet.conf, pki/ca.crt or static pod manifests")
        } else {
            let mut found = files.present.clone();
            if !files.manifests.is_empty() {
                found.push(format!(
                    "/etc/kubernetes/manifests/{{{}}}",
                    files.manifests.join(",")
                ));
            }
            CheckResult::fail(
                ID,
                AREA,
                format!(
                    "this node was joined before: {} exist; kubeadm join stops on them (FileAvailable / DirAvailable errors)",
                    &found.join(", ")
                ),
            )
            .fix("if the node is meant to rejoin: `kubeadm reset` (then remove /etc/cni/net.d and flush iptables/ipvs as it prints); if it is already a member, run nodecheck with --phase post-join")
        }
    } else if files.present.iter().any(|p| p == KUBELET_CONF) {
        CheckResult::ok(ID, AREA, "joined: /etc/kubernetes/kubelet.conf exists")
    } else {
        CheckResult::fail(
            ID,
            AREA,
            "/etc/kubernetes/kubelet.conf does not exist: this node has not joined (or was reset)",
        )
        .fix("run `kubeadm join`, or judge this node with --phase pre-join")
    };
    vec![r
        .with("present", files.present.clone())
        .with("manifests", files.manifests.clone())]
}
