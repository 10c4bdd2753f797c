//! Binaries (`Binary-<name>`, kubeadm's `FileExisting-<name>`), CPUs and memory (`Host-Cpu`,
//! `Host-Memory`, kubeadm's `NumCPU` and `Mem`) and the kernel clock (`Clock-Sync`, no kubeadm
//! counterpart: an unsynchronised clock makes the TLS bootstrap fail with "certificate is not yet
//! valid").

use crate::checks::{Area, CheckResult, Context, Status};
use crate::facts::node_setup::NodeSetup;

const AREA: Area = Area::Join;

/// kubeadm's control-plane minimums (`ControlPlaneNumCPU`, `ControlPlaneMem` in MiB).
pub const KUBEADM_CONTROL_PLANE_CPUS: u32 = 2;
pub const KUBEADM_CONTROL_PLANE_MEMORY_MIB: u64 = 1700;

/// Whether kubeadm of the target version requires (error) or only recommends (warning) a binary, or
/// no longer looks for it at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Required,
    Recommended,
    /// kubeadm of this version does not look for it; the text says since when and why.
    NotChecked(&'static str),
}

const SOCAT_EBTABLES_DROPPED: &str =
    "kubeadm stopped looking for it in 1.32 and the 1.28-1.31 patch releases (kubernetes#127151)";
const CONNTRACK_DROPPED: &str =
    "kube-proxy 1.32 and newer do not use it, so kubeadm stopped looking for it (kubernetes#126953)";
const NETWORK_TOOLS_DROPPED: &str = "kubeadm stopped looking for it in 1.33 (kubernetes#129131)";

/// The executables kubeadm looks for on `PATH` for a target version (`None`: current kubeadm), as
/// in its `addExecChecks`: `crictl` was required up to 1.30, `conntrack` up to 1.31 (kube-proxy
/// needs it no more from 1.32, kubernetes#126953); `socat` and `ebtables` were dropped in 1.32 and
/// the 1.28-1.31 patch releases (kubernetes#127151), `ip`, `iptables`, `ethtool` and `tc` in 1.33
/// (kubernetes#129131). `crictl` stays recommended because operators debug the runtime with it.
/// `kubeadm` itself is required to join at all.
pub fn kubeadm_binaries(version: Option<(u32, u32)>) -> Vec<(&'static str, Need)> {
    let before = |minor: u32| version.is_some_and(|(major, m)| major == 1 && m < minor);
    let until = |minor: u32, need: Need, dropped: &'static str| {
        if before(minor) {
            need
        } else {
            Need::NotChecked(dropped)
        }
    };
    vec![
        ("kubeadm", Need::Required),
        ("mount", Need::Required),
        ("nsenter", Need::Required),
        ("ip", until(33, Need::Required, NETWORK_TOOLS_DROPPED)),
        ("iptables", until(33, Need::Required, NETWORK_TOOLS_DROPPED)),
        (
            "crictl",
            if before(31) {
                Need::Required
            } else {
                Need::Recommended
            },
        ),
        ("conntrack", until(32, Need::Required, CONNTRACK_DROPPED)),
        (
            "ebtables",
            until(28, Need::Recommended, SOCAT_EBTABLES_DROPPED),
        ),
        (
            "ethtool",
            until(33, Need::Recommended, NETWORK_TOOLS_DROPPED),
        ),
        (
            "socat",
            until(28, Need::Recommended, SOCAT_EBTABLES_DROPPED),
        ),
        ("tc", until(33, Need::Recommended, NETWORK_TOOLS_DROPPED)),
        ("touch", Need::Recommended),
    ]
}

pub fn binaries(ctx: &Context, setup: &NodeSetup) -> Vec<CheckResult> {
    let version = super::target_minor(ctx);
    let searched = setup.binary_search_path.join(":");
    kubeadm_binaries(version)
        .into_iter()
        .map(|(name, need)| {
            let id = format!("Binary-{name}");
            match setup.binaries.get(name).cloned().flatten() {
                Some(path) => {
                    CheckResult::ok(&id, AREA, format!("{name} is {}", &path)).with("path", path)
                }
                None if matches!(need, Need::NotChecked(_)) => {
                    let Need::NotChecked(dropped) = need else {
                        unreachable!()
                    };
                    CheckResult::ok(
                        &id,
                        AREA,
                        format!(
                            "{name} is not on PATH; not needed{}: {dropped}",
                            for_version(ctx)
                        ),
                    )
                    .with("path", serde_json::Value::Null)
                }
                None => {
                    let why = match need {
                        Need::Required => "kubeadm join requires it",
                        _ => "kubeadm warns without it",
                    };
                    let status = if need == Need::Required {
                        Status::Fail
                    } else {
                        Status::Warn
                    };
                    CheckResult::new(
                        &id,
                        AREA,
                        status,
                        format!(
                            "{name} is not on PATH ({}): {why}{}",
                            &searched,
                            for_version(ctx)
                        ),
                    )
                    .fix(install_hint(name))
                    .with("path", serde_json::Value::Null)
                }
            }
            .with("required", need == Need::Required)
            .with("checked_by_kubeadm", !matches!(need, Need::NotChecked(_)))
            .with("searched", setup.binary_search_path.clone())
        })
        .collect()
}

/// ` for Kubernetes 1.33` when the profile names a version; empty otherwise (current kubeadm).
fn for_version(ctx: &Context) -> String {
    ctx.profile
        .kubernetes_version
        .as_ref()
        .map(|v| format!(" for Kubernetes {v}"))
        .unwrap_or_default()
}

fn install_hint(name: &str) -> String {
    let package = match name {
        "ip" | "tc" => "iproute2 (iproute-tc on RHEL)",
        "mount" | "nsenter" => "util-linux",
        "crictl" => "cri-tools",
        "conntrack" => "conntrack (conntrack-tools on RHEL)",
        "touch" => "coreutils",
        "kubeadm" => "kubeadm from the Kubernetes package repository (pkgs.k8s.io)",
        other => other,
    };
    format!("install {package}")
}

pub fn resources(ctx: &Context, setup: &NodeSetup) -> Vec<CheckResult> {
    let res = &setup.resources;
    let minimums = &ctx.profile.resources;
    let cpu = match res.cpus {
        None => CheckResult::skip("Host-Cpu", AREA, "the number of CPUs could not be read"),
        Some(n) => judge_minimum(
            "Host-Cpu",
            n as u64,
            minimums.min_cpus.map(u64::from),
            KUBEADM_CONTROL_PLANE_CPUS as u64,
            "CPUs",
        ),
    }
    .with("cpus", res.cpus);
    let memory_mib = res.memory_kib.map(|k| k / 1024);
    let memory = match memory_mib {
        None => CheckResult::skip(
            "Host-Memory",
            AREA,
            "MemTotal could not be read from /proc/meminfo",
        ),
        Some(mib) => judge_minimum(
            "Host-Memory",
            mib,
            minimums.min_memory_mib,
            KUBEADM_CONTROL_PLANE_MEMORY_MIB,
            "MiB of memory",
        ),
    }
    .with("memory_mib", memory_mib);
    vec![cpu, memory]
}

/// A profile minimum fails when not met; kubeadm's control-plane minimum only warns (a worker join
/// does not check it).
fn judge_minimum(
    id: &str,
    have: u64,
    profile: Option<u64>,
    kubeadm: u64,
    unit: &str,
) -> CheckResult {
    match profile {
        Some(min) if have < min => CheckResult::fail(
            id,
            AREA,
            format!("{have} {unit}, the profile requires at least {min}"),
        )
        .fix("give the node more resources, or lower the profile's resources minimum")
        .with("minimum", min),
        Some(min) => CheckResult::ok(id, AREA, format!("{have} {unit} (profile minimum {min})"))
            .with("minimum", min),
        None if have < kubeadm => CheckResult::warn(
            id,
            AREA,
            format!("{have} {unit}: enough for a worker, but kubeadm requires {kubeadm} on a control-plane node"),
        )
        .fix("set resources.min_cpus / min_memory_mib in the profile to state what workers need")
        .with("minimum", kubeadm),
        None => CheckResult::ok(id, AREA, format!("{have} {unit} (kubeadm's control-plane minimum is {kubeadm})"))
            .with("minimum", kubeadm),
    }
}

pub fn clock(setup: &NodeSetup) -> Vec<CheckResult> {
    const ID: &str = "Clock-Sync";
    let r = match &setup.clock {
        None => CheckResult::skip(ID, AREA, "the kernel clock state could not be read (adjtimex)"),
        Some(c) if c.synchronized => CheckResult::ok(
            ID,
            AREA,
            format!("the kernel clock is synchronised (maximum error {} ms)", c.max_error_us / 1000),
        ),
        Some(c) => CheckResult::warn(
            ID,
            AREA,
            format!(
                "the kernel clock is not synchronised (adjtimex state {}, maximum error {} ms): a clock that is off makes the TLS bootstrap of kubeadm join fail with \"certificate is not yet valid\"",
                c.state,
                c.max_error_us / 1000
            ),
        )
        .fix("enable time synchronisation (`timedatectl set-ntp true`, chronyd or systemd-timesyncd) and wait until `timedatectl` says synchronized: yes"),
    };
    let r = match &setup.clock {
        Some(c) => r
            .with("synchronized", c.synchronized)
            .with("max_error_us", c.max_error_us)
            .with("est_error_us", c.est_error_us)
            .with("state", c.state),
        None => r,
    };
    vec![r]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binaries_per_version() {
        let need = |v, name| {
            kubeadm_binaries(v)
                .into_iter()
                .find(|(n, _)| *n == name)
                .unwrap()
                .1
        };
        assert_eq!(need(Some((1, 30)), "crictl"), Need::Required);
        assert_eq!(need(Some((1, 31)), "crictl"), Need::Recommended);
        assert_eq!(need(Some((1, 31)), "conntrack"), Need::Required);
        assert_eq!(
            need(Some((1, 32)), "conntrack"),
            Need::NotChecked(CONNTRACK_DROPPED)
        );
        assert_eq!(need(None, "conntrack"), Need::NotChecked(CONNTRACK_DROPPED));
        assert_eq!(need(None, "nsenter"), Need::Required);
        assert_eq!(need(Some((1, 27)), "socat"), Need::Recommended);
        assert_eq!(need(Some((1, 27)), "ebtables"), Need::Recommended);
        assert!(matches!(need(Some((1, 28)), "socat"), Need::NotChecked(_)));
        assert!(matches!(
            need(Some((1, 30)), "ebtables"),
            Need::NotChecked(_)
        ));
        assert_eq!(need(Some((1, 32)), "iptables"), Need::Required);
        assert_eq!(need(Some((1, 32)), "tc"), Need::Recommended);
        assert!(matches!(
            need(Some((1, 33)), "iptables"),
            Need::NotChecked(_)
        ));
        assert!(matches!(need(None, "ethtool"), Need::NotChecked(_)));
        assert_eq!(need(None, "touch"), Need::Recommended);
    }
}
