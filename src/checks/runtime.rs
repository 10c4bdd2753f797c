//! A container runtime kubelet can talk to (a CRI socket), and the profile's accepted runtimes.

use super::{Area, CheckResult, Context};

const ID: &str = "Runtime-Socket";
const AREA: Area = Area::Runtime;

pub fn evaluate(ctx: &Context) -> Vec<CheckResult> {
    let sockets = &ctx.facts.runtime_sockets;
    if sockets.is_empty() {
        let reason = ctx
            .facts
            .unavailable
            .get("runtime_sockets")
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        return vec![CheckResult::skip(
            ID,
            AREA,
            format!("container runtime sockets were not gathered in this snapshot{reason}"),
        )];
    }
    let present: Vec<_> = sockets.iter().filter(|s| s.present).collect();
    let accepted = &ctx.profile.runtimes;
    let is_cri = |runtime: &str| runtime != "docker";
    let usable: Vec<_> = present
        .iter()
        .filter(|s| {
            is_cri(&s.runtime) && (accepted.is_empty() || accepted.iter().any(|r| *r == s.runtime))
        })
        .collect();
    let listed = |v: &[&&crate::facts::RuntimeSocket]| {
        v.iter()
            .map(|s| format!("{} ({})", s.runtime, s.path))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let found: Vec<&&crate::facts::RuntimeSocket> = present.iter().collect();
    let r = if let Some(first) = usable.first() {
        let more = if usable.len() > 1 {
            format!(
                "; several CRI sockets present ({}): give kubeadm --cri-socket",
                listed(&usable.to_vec())
            )
        } else {
            String::new()
        };
        let message = format!("{} socket at {}{more}", first.runtime, first.path);
        if usable.len() > 1 {
            CheckResult::warn(ID, AREA, message).fix(format!(
                "pass `--cri-socket unix://{}` to kubeadm join",
                first.path
            ))
        } else {
            CheckResult::ok(ID, AREA, message)
        }
    } else if present.iter().any(|s| is_cri(&s.runtime)) {
        CheckResult::fail(
            ID,
            AREA,
            format!(
                "runtime sockets present: {}; the profile accepts only {}",
                listed(&found),
                accepted.join(", ")
            ),
        )
        .fix(format!(
            "install and start {} as on the other nodes, or extend runtimes in the profile",
            accepted.join(" or ")
        ))
    } else if present.iter().any(|s| s.runtime == "docker") {
        CheckResult::fail(
            ID,
            AREA,
            "only Docker's socket is present: kubelet (since 1.24) needs a CRI runtime such as containerd or cri-dockerd",
        )
        .fix("install containerd (`systemctl enable --now containerd`) or cri-dockerd")
    } else {
        let looked: Vec<String> = sockets.iter().map(|s| s.path.to_string()).collect();
        CheckResult::fail(
            ID,
            AREA,
            format!(
                "no container runtime socket found (looked for {})",
                if looked.is_empty() {
                    "none".to_string()
                } else {
                    looked.join(", ")
                }
            ),
        )
        .fix("install and start a CRI runtime (containerd: `systemctl enable --now containerd`)")
    };
    vec![r
        .with(
            "present",
            present.iter().map(|s| s.path.as_str()).collect::<Vec<_>>(),
        )
        .with("accepted", accepted.clone())]
}
