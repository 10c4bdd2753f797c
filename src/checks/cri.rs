//! The container runtime as kubelet will see it over its CRI socket (`Runtime-CRI`; kubeadm's
//! `ContainerRuntimeVersion` preflight, kubernetes#134906): it answers `Version`, it implements
//! `RuntimeConfig` (from which kubelet takes the cgroup driver; kubeadm 1.35 and 1.36 warn when it
//! does not, and kubelet 1.37 no longer falls back to its own `cgroupDriver`), and the driver it
//! reports agrees with the one kubelet is configured with.

use super::{Area, CheckResult, Context, Status};
use crate::facts::preflight::{CriRuntime, CriStatus};

const ID: &str = "Runtime-CRI";
const AREA: Area = Area::Runtime;

/// The first Kubernetes minor whose kubeadm warns about a runtime without `RuntimeConfig`.
pub const KUBEADM_WARNS_FROM: (u32, u32) = (1, 35);
/// The first kubelet minor that no longer falls back to its own `cgroupDriver` (kubeadm's warning
/// names it: "will be removed in 1.37", kubernetes#136898).
pub const KUBELET_REQUIRES_FROM: (u32, u32) = (1, 37);

pub fn evaluate(ctx: &Context) -> Vec<CheckResult> {
    let Some(cri) = ctx.facts.preflight.as_ref().and_then(|p| p.cri.as_ref()) else {
        return Vec::new();
    };
    let r = judge(ctx, cri);
    vec![r
        .with("socket", cri.socket.clone())
        .with("selected_by", cri.selected_by.clone())
        .with("runtime_name", cri.runtime_name.clone())
        .with("runtime_version", cri.runtime_version.clone())
        .with("runtime_api_version", cri.runtime_api_version.clone())
        .with("runtime_config", cri.runtime_config)
        .with("cgroup_driver", cri.cgroup_driver.clone())]
}

fn judge(ctx: &Context, cri: &CriRuntime) -> CheckResult {
    let socket = cri.socket.as_deref().unwrap_or("the CRI socket");
    let detail = cri.detail.as_deref().unwrap_or("no detail");
    match cri.status {
        CriStatus::NoSocket => {
            return CheckResult::skip(
                ID,
                AREA,
                format!("no container runtime to ask: {detail} (see Runtime-Socket)"),
            )
        }
        CriStatus::Timeout | CriStatus::Error => {
            return CheckResult::fail(
                ID,
                AREA,
                format!("the container runtime does not answer over CRI: {detail}"),
            )
            .fix(format!(
                "start or restart the runtime listening on {socket} (`systemctl restart containerd` or `crio`) and check its log"
            ))
        }
        CriStatus::Answered => {}
    }
    let name = cri.runtime_name.as_deref().unwrap_or("the runtime");
    let version = cri.runtime_version.as_deref().unwrap_or("?");
    let runtime = format!("{name} {version}");
    if cri.runtime_config == Some(false) {
        return without_runtime_config(ctx, &runtime);
    }
    let kubelet = ctx
        .facts
        .node_setup
        .as_ref()
        .and_then(|s| s.cgroup_drivers.kubelet.as_deref());
    match (cri.cgroup_driver.as_deref(), kubelet) {
        (Some(reported), Some(configured)) if reported != configured => CheckResult::warn(
            ID,
            AREA,
            format!(
                "{runtime} reports the {reported} cgroup driver over CRI, kubelet is configured with {configured}: kubelet takes the runtime's driver and ignores its own setting, which misleads whoever reads it"
            ),
        )
        .fix(format!(
            "set cgroupDriver: {reported} in kubelet's configuration, or change the runtime's driver (containerd: SystemdCgroup) so both say the same"
        )),
        (Some(reported), _) => CheckResult::ok(
            ID,
            AREA,
            format!("{runtime} answers over CRI and reports the {reported} cgroup driver (RuntimeConfig)"),
        ),
        (None, _) => CheckResult::ok(
            ID,
            AREA,
            format!("{runtime} answers over CRI; RuntimeConfig reports no Linux settings"),
        ),
    }
}

/// A runtime without `RuntimeConfig`, judged by kubeadm's rule for the profile's version.
fn without_runtime_config(ctx: &Context, runtime: &str) -> CheckResult {
    let fix = "upgrade the runtime to one that implements the CRI RuntimeConfig call (containerd 2.0 or later)";
    let Some(version) = ctx.profile.kubernetes_version.as_ref() else {
        return CheckResult::warn(
            ID,
            AREA,
            format!("{runtime} does not implement the CRI RuntimeConfig call: kubeadm 1.35 and later warn about it and kubelet 1.37 and later need it (the profile names no kubernetes_version)"),
        )
        .fix(fix);
    };
    let minor = (version.0, version.1);
    let (status, message) = if minor >= KUBELET_REQUIRES_FROM {
        (
            Status::Fail,
            format!("{runtime} does not implement the CRI RuntimeConfig call: kubelet {version} takes the cgroup driver only from it and no longer falls back to its own cgroupDriver"),
        )
    } else if minor >= KUBEADM_WARNS_FROM {
        (
            Status::Warn,
            format!("{runtime} does not implement the CRI RuntimeConfig call: kubeadm {version} warns (ContainerRuntimeVersion) and kubelet 1.37 will no longer fall back to its own cgroupDriver"),
        )
    } else {
        (
            Status::Ok,
            format!("{runtime} answers over CRI; it does not implement RuntimeConfig, so kubelet {version} uses its own cgroupDriver (kubelet 1.37 and later will need the call)"),
        )
    };
    let r = CheckResult::new(ID, AREA, status, message);
    if status == Status::Ok {
        r
    } else {
        r.fix(fix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{expect, pre_join_with_preflight};
    use crate::facts::preflight::Preflight;

    fn answered(runtime_config: Option<bool>, driver: Option<&str>) -> Preflight {
        Preflight {
            cri: Some(CriRuntime {
                socket: Some("/run/containerd/containerd.sock".into()),
                selected_by: Some("containerd's well-known socket".into()),
                status: CriStatus::Answered,
                runtime_name: Some("containerd".into()),
                runtime_version: Some("1.7.24".into()),
                runtime_api_version: Some("v1".into()),
                runtime_config,
                cgroup_driver: driver.map(str::to_string),
                detail: None,
            }),
            ..Default::default()
        }
    }

    fn profile(version: &str) -> String {
        format!("cluster: t\nkubernetes_version: \"{version}\"\n")
    }

    #[test]
    fn kubeadm_version_rule_for_a_runtime_without_runtime_config() {
        let host = || crate::facts::testkit::host("n").build();
        let r = pre_join_with_preflight(host(), answered(Some(false), None), &profile("1.34"));
        expect(
            &r,
            ID,
            Status::Ok,
            &["containerd 1.7.24", "own cgroupDriver"],
        );
        let r = pre_join_with_preflight(host(), answered(Some(false), None), &profile("1.35"));
        expect(&r, ID, Status::Warn, &["ContainerRuntimeVersion", "1.37"]);
        let r = pre_join_with_preflight(host(), answered(Some(false), None), &profile("1.36"));
        expect(&r, ID, Status::Warn, &["RuntimeConfig"]);
        let r = pre_join_with_preflight(host(), answered(Some(false), None), &profile("1.37"));
        expect(&r, ID, Status::Fail, &["no longer falls back"]);
        let r = pre_join_with_preflight(host(), answered(Some(false), None), "cluster: t\n");
        expect(&r, ID, Status::Warn, &["kubernetes_version"]);
    }

    #[test]
    fn reported_driver_against_kubelet() {
        let mut host = crate::facts::testkit::host("n").build();
        let mut setup = crate::facts::node_setup::NodeSetup::default();
        setup.cgroup_drivers.kubelet = Some("cgroupfs".into());
        host.node_setup = Some(Box::new(setup));
        let r = pre_join_with_preflight(
            host.clone(),
            answered(Some(true), Some("systemd")),
            &profile("1.37"),
        );
        expect(&r, ID, Status::Warn, &["systemd", "cgroupfs"]);
        let r = pre_join_with_preflight(
            host,
            answered(Some(true), Some("cgroupfs")),
            &profile("1.37"),
        );
        expect(&r, ID, Status::Ok, &["cgroupfs"]);
    }

    #[test]
    fn silence_and_absence() {
        let host = || crate::facts::testkit::host("n").build();
        let mut p = answered(None, None);
        let cri = p.cri.as_mut().unwrap();
        cri.status = CriStatus::Timeout;
        cri.detail = Some("/run/containerd/containerd.sock did not answer within 2 s".into());
        let r = pre_join_with_preflight(host(), p, &profile("1.35"));
        expect(&r, ID, Status::Fail, &["within 2 s"]);
        let p = Preflight {
            cri: Some(CriRuntime::default()),
            ..Default::default()
        };
        let r = pre_join_with_preflight(host(), p, &profile("1.35"));
        expect(&r, ID, Status::Skip, &["Runtime-Socket"]);
    }
}
