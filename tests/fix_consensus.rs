//! `nodecheck fix` pinning every component to one address: kubelet, flanneld and Antrea on a
//! kubeadm node, and k3s with its embedded flannel whose keys live in `config.yaml` and a
//! `config.yaml.d` drop-in. Plan (proven on the planned state) → apply → re-plan has nothing left
//! for the host → rollback is byte-identical; comments in the YAML stay.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::util::{assert_exit, bin, fixture, json_stdout, nix_is_root, skip, HostTree};

/// worker-78: the node network 10.20.41.0/24 is on ens192; the default route leaves through ens224
/// (10.99.0.78).
const FACTS: &str = "fix/worker-78.json";

fn profile(tree: &HostTree, cni: &str) -> PathBuf {
    let base = std::fs::read_to_string(fixture("fix/profile.yaml")).unwrap();
    let path = tree.dir.with_extension("profile.yaml");
    std::fs::write(&path, format!("{base}{cni}")).unwrap();
    path
}

fn fix(root: &Path, profile: &Path, extra: &[&str]) -> Output {
    std::process::Command::new(bin())
        .arg("fix")
        .arg("--facts")
        .arg(fixture(FACTS))
        .arg("--profile")
        .arg(profile)
        .arg("--root")
        .arg(root)
        .args(["--only", "Address-Consensus,K3s-NodeIP,Flannel-Interface"])
        .args(extra)
        .output()
        .expect("run nodecheck")
}

/// Every regular file under `root` with its content, except the run records.
fn files(root: &Path) -> BTreeMap<PathBuf, String> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<PathBuf, String>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap().to_path_buf();
            if rel.starts_with("var/lib/nodecheck") {
                continue;
            }
            if p.is_dir() {
                walk(&p, root, out);
            } else {
                out.insert(rel, std::fs::read_to_string(&p).unwrap_or_default());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// After `--apply`: a second plan has nothing left for the host, and `--rollback` restores the
/// tree byte for byte.
fn replan_is_empty_and_rollback_restores(
    r: &Path,
    profile: &Path,
    before: &BTreeMap<PathBuf, String>,
) {
    let again = json_stdout(&fix(r, profile, &["--format", "json"]));
    let left = again["plan"]["changes"]
        .as_array()
        .or(again["changes"].as_array())
        .unwrap();
    assert!(left.is_empty(), "nothing left for the host: {again:#}");
    assert_exit(&fix(r, profile, &["--rollback"]), 0);
    assert_eq!(&files(r), before, "rollback is byte-identical");
}

fn can_apply() -> bool {
    if !nix_is_root() {
        skip("fix --apply needs root (it records the run)");
        return false;
    }
    true
}

#[test]
fn fix_pins_kubelet_and_plans_antrea_so_every_component_agrees() {
    let tree = HostTree::new("fix-consensus-kubeadm");
    tree.write("/etc/hostname", "worker-78\n");
    let profile = profile(
        &tree,
        "cni:\n  components: [kubelet, flannel, antrea]\n  flannel:\n    args: [\"--iface=ens192\"]\n  antrea: {}\n",
    );
    let r = tree.dir.as_path();
    let plan = json_stdout(&fix(r, &profile, &["--format", "json"]));
    let changes = plan["plan"]["changes"]
        .as_array()
        .or(plan["changes"].as_array())
        .unwrap();
    assert_eq!(changes.len(), 1, "{plan:#}");
    let kubelet = &changes[0];
    assert_eq!(kubelet["kind"], "node-ip");
    assert_eq!(kubelet["fixes"][0], "Address-Consensus");
    let notes = kubelet["notes"].to_string();
    assert!(
        notes.contains(
            "proof: the address models run again on the planned state agree on 10.20.41.41"
        ),
        "{notes}"
    );
    assert!(notes.contains("antrea 10.20.41.41 (ens192)"), "{notes}");
    let manual = plan["plan"]["manual"]
        .as_array()
        .or(plan["manual"].as_array())
        .unwrap();
    let antrea = manual
        .iter()
        .find(|m| m["what"].as_str().unwrap().contains("antrea"))
        .expect("Antrea's step");
    assert!(
        antrea["what"]
            .as_str()
            .unwrap()
            .contains("transportInterfaceCIDRs: [10.20.41.0/24]"),
        "{antrea:#}"
    );
    assert!(
        !manual
            .iter()
            .any(|m| m["what"].as_str().unwrap().contains("flannel:")),
        "flanneld already takes ens192: {manual:?}"
    );
    if !can_apply() {
        return;
    }
    let before = files(r);
    assert_exit(&fix(r, &profile, &["--apply"]), 0);
    assert_eq!(
        std::fs::read_to_string(r.join("etc/default/kubelet")).unwrap(),
        "KUBELET_EXTRA_ARGS=\"--node-ip=10.20.41.41\"\n"
    );
    replan_is_empty_and_rollback_restores(r, &profile, &before);
}

const CONFIG: &str = "# k3s agent (written by the image build)\n\
server: https://10.20.41.10:6443\n\
node-ip: 10.99.0.78   # the VPN, by mistake\n\
node-label:\n  - \"tier=db\"\n\
# keep this comment\n";
const DROP_IN: &str =
    "# flannel over the second NIC\nflannel-iface: ens224\nflannel-backend: vxlan\n";

#[test]
fn fix_edits_k3s_config_files_keeping_comments_and_proves_the_result() {
    let tree = HostTree::new("fix-consensus-k3s");
    tree.write("/etc/rancher/k3s/config.yaml", CONFIG)
        .write("/etc/rancher/k3s/config.yaml.d/50-net.yaml", DROP_IN);
    let profile = profile(&tree, "cni:\n  k3s: {}\n");
    let r = tree.dir.as_path();
    let plan = json_stdout(&fix(r, &profile, &["--format", "json"]));
    let changes = plan["plan"]["changes"]
        .as_array()
        .or(plan["changes"].as_array())
        .unwrap();
    let by_path = |p: &str| {
        changes
            .iter()
            .find(|c| c["target"]["path"] == p)
            .unwrap_or_else(|| panic!("a change of {p}: {plan:#}"))
    };
    let base = by_path("/etc/rancher/k3s/config.yaml");
    assert_eq!(base["kind"], "k3s-config");
    assert_eq!(
        base["target"]["after"],
        CONFIG.replace(
            "node-ip: 10.99.0.78   # the VPN",
            "node-ip: 10.20.41.41   # the VPN"
        )
    );
    assert!(
        base["fixes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "K3s-NodeIP"),
        "{base:#}"
    );
    let drop_in = by_path("/etc/rancher/k3s/config.yaml.d/50-net.yaml");
    assert_eq!(
        drop_in["target"]["after"],
        DROP_IN.replace("flannel-iface: ens224", "flannel-iface: ens192"),
        "the drop-in wins for flannel-iface, so it is the file edited"
    );
    assert!(
        base["notes"].to_string().contains("k3s 10.20.41.41"),
        "{base:#}"
    );
    assert!(
        base["notes"]
            .to_string()
            .contains("flannel 10.20.41.41 (ens192)"),
        "{base:#}"
    );
    if !can_apply() {
        return;
    }
    let before = files(r);
    assert_exit(&fix(r, &profile, &["--apply"]), 0);
    let written = std::fs::read_to_string(r.join("etc/rancher/k3s/config.yaml")).unwrap();
    assert!(written.contains("# keep this comment\n") && written.contains("node-ip: 10.20.41.41"));
    replan_is_empty_and_rollback_restores(r, &profile, &before);
}

#[test]
fn fix_holds_a_key_the_k3s_command_line_sets() {
    let tree = HostTree::new("fix-consensus-k3s-unit");
    tree.write("/etc/rancher/k3s/config.yaml", "flannel-iface: ens224\n")
        .write(
            "/etc/systemd/system/k3s.service",
            "[Service]\nExecStart=/usr/local/bin/k3s agent --node-ip=10.99.0.78\n",
        );
    let profile = profile(&tree, "cni:\n  k3s: {}\n");
    let plan = json_stdout(&fix(&tree.dir, &profile, &["--format", "json"]));
    let changes = plan["plan"]["changes"]
        .as_array()
        .or(plan["changes"].as_array())
        .unwrap();
    assert!(changes.is_empty(), "{plan:#}");
    let held = plan["plan"]["held"]
        .as_array()
        .or(plan["held"].as_array())
        .unwrap();
    assert!(
        held.iter()
            .any(|h| h["reason"].as_str().unwrap().contains(
                "--node-ip is set on the command line in /etc/systemd/system/k3s.service"
            )),
        "{plan:#}"
    );
}

/// A plan the models do not prove is held: kube-router with `--enable-ipv6` exits on a Node with no
/// IPv6 address whatever kubelet registers, so pinning kubelet alone cannot make every component
/// agree.
#[test]
fn fix_holds_a_plan_the_models_do_not_prove() {
    let tree = HostTree::new("fix-consensus-unproven");
    tree.write("/etc/hostname", "worker-78\n");
    let profile = profile(
        &tree,
        "cni:\n  components: [kubelet, flannel, kube-router]\n  flannel:\n    args: [\"--iface=ens192\"]\n  kube_router:\n    args: [\"--enable-ipv6=true\"]\n",
    );
    let plan = json_stdout(&fix(&tree.dir, &profile, &["--format", "json"]));
    let changes = plan["plan"]["changes"]
        .as_array()
        .or(plan["changes"].as_array())
        .unwrap();
    assert!(changes.is_empty(), "nothing is written unproven: {plan:#}");
    let held = plan["plan"]["held"]
        .as_array()
        .or(plan["held"].as_array())
        .unwrap();
    let reason = held[0]["reason"].as_str().unwrap();
    assert!(reason.starts_with("not proven:"), "{reason}");
    assert!(
        reason.contains("kube-router would exit: failed to run kube-router: failed to create network routing controller: IPv6 was enabled, but no IPv6 address was found on the node"),
        "{reason}"
    );
    assert_eq!(held[0]["kind"], "node-ip");
}

/// Every component agrees on the default route's 10.99.0.78, but kubelet's is outside the node
/// network: pinning kubelet alone would break the agreement, so the plan carries the cluster-wide
/// steps that move flanneld, Antrea and Calico with it, and the proof covers all four.
#[test]
fn fix_for_kubelets_address_moves_the_components_that_agreed_with_it() {
    let tree = HostTree::new("fix-consensus-kubelet");
    let profile = profile(
        &tree,
        "cni:\n  components: [kubelet, flannel, antrea, calico]\n  flannel:\n    args: [\"--iface=ens224\"]\n  antrea: {}\n",
    );
    let plan = json_stdout(&fix(
        &tree.dir,
        &profile,
        &["--only", "Kubelet-NodeIP", "--format", "json"],
    ));
    let changes = plan["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{plan:#}");
    assert_eq!(changes[0]["fixes"], serde_json::json!(["Kubelet-NodeIP"]));
    assert!(changes[0]["notes"].to_string().contains(
        "agree on 10.20.41.41: kubelet 10.20.41.41 (ens192), flannel 10.20.41.41 (ens192), antrea 10.20.41.41 (ens192), calico 10.20.41.41 (ens192)"
    ), "{plan:#}");
    let manual: Vec<String> = plan["manual"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["what"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(manual.len(), 3, "{manual:?}");
    // A name-independent pin: the route into the node network, whatever the NIC is called on
    // each node (the incident's `--iface=eth3`).
    assert!(
        manual[0].contains("flannel: set `--iface-can-reach=10.20.41.1`")
            && manual[0].contains("removing any --iface and --iface-regex"),
        "{manual:?}"
    );
    assert!(
        manual[0].contains("flannel 10.20.41.41 (ens192)"),
        "the proof ran flanneld's model with the pin: {manual:?}"
    );
    assert!(
        manual[2].contains("IP_AUTODETECTION_METHOD=cidr=10.20.41.0/24"),
        "{manual:?}"
    );
    assert_eq!(
        plan["manual"][2]["commands"][0],
        "kubectl -n kube-system set env daemonset/calico-node IP_AUTODETECTION_METHOD=cidr=10.20.41.0/24"
    );
}
