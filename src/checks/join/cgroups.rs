//! `Cgroups-Version` (kubeadm's `SystemVerification` cgroups validator) and `Cgroups-Driver` (no
//! kubeadm counterpart; the mismatch joins fail on most): kubelet's cgroup driver against the one
//! containerd's runc uses.

use crate::checks::{Area, CheckResult, Context};
use crate::facts::node_setup::NodeSetup;
use crate::profile::CgroupDriver;

const AREA: Area = Area::Join;

/// Controllers kubelet needs on cgroup v2 (the system validator's required list).
pub const REQUIRED_V2_CONTROLLERS: &[&str] = &["cpu", "cpuset", "memory", "pids"];
/// On v1: the same, with `cpuacct` (v1 accounts CPU in its own controller).
pub const REQUIRED_V1_CONTROLLERS: &[&str] = &["cpu", "cpuacct", "cpuset", "memory", "pids"];

pub fn evaluate(ctx: &Context, setup: &NodeSetup) -> Vec<CheckResult> {
    vec![version(ctx, setup), driver(ctx, setup)]
}

fn version(ctx: &Context, setup: &NodeSetup) -> CheckResult {
    const ID: &str = "Cgroups-Version";
    let cgroups = &setup.cgroups;
    let Some(version) = cgroups.version.as_deref() else {
        return CheckResult::skip(ID, AREA, "no cgroup hierarchy found under /sys/fs/cgroup");
    };
    let required = if version == "v2" {
        REQUIRED_V2_CONTROLLERS
    } else {
        REQUIRED_V1_CONTROLLERS
    };
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|c| !cgroups.controllers.iter().any(|have| have == c))
        .collect();
    let target = super::target_minor(ctx);
    let r = if !missing.is_empty() {
        CheckResult::fail(
            ID,
            AREA,
            format!(
                "cgroup {version} lacks the controllers kubelet needs: {}",
                missing.join(", ")
            ),
        )
        .fix("enable them on the kernel command line (e.g. cgroup_enable=memory) or in the kernel configuration, and reboot")
    } else if version == "v2" {
        CheckResult::ok(ID, AREA, format!("cgroup v2 with {}", required.join(", ")))
    } else if target.is_some_and(|(major, minor)| major == 1 && minor >= 35) {
        CheckResult::fail(
            ID,
            AREA,
            format!("cgroup {version}: kubelet 1.35 and later refuse to start on cgroup v1 (failCgroupV1)"),
        )
        .fix("boot with the unified hierarchy (systemd.unified_cgroup_hierarchy=1) or a distribution release that defaults to cgroup v2")
    } else {
        CheckResult::warn(
            ID,
            AREA,
            format!("cgroup {version}: Kubernetes keeps cgroup v1 in maintenance mode and kubelet 1.35 refuses it by default"),
        )
        .fix("move to cgroup v2 (systemd.unified_cgroup_hierarchy=1) before upgrading past 1.34")
    };
    r.with("version", version)
        .with("controllers", cgroups.controllers.clone())
        .with("missing", missing)
}

fn driver(ctx: &Context, setup: &NodeSetup) -> CheckResult {
    const ID: &str = "Cgroups-Driver";
    let drivers = &setup.cgroup_drivers;
    let (kubelet, kubelet_source) = match (&drivers.kubelet, ctx.profile.cgroup_driver) {
        (Some(d), _) => (
            d.clone(),
            drivers.kubelet_source.clone().unwrap_or_default(),
        ),
        (None, Some(d)) => (
            d.as_str().to_string(),
            "the profile's cgroup_driver".to_string(),
        ),
        (None, None) => (
            CgroupDriver::Systemd.as_str().to_string(),
            "kubeadm's default for the KubeletConfiguration it writes at join".to_string(),
        ),
    };
    let containerd_installed = setup.containerd.unit.is_some()
        || drivers.containerd_systemd_cgroup.is_some()
        || ctx
            .facts
            .runtime_sockets
            .iter()
            .any(|s| s.runtime == "containerd" && s.present);
    let containerd_source = drivers.containerd_source.clone().unwrap_or_default();
    let r = if !containerd_installed {
        CheckResult::skip(
            ID,
            AREA,
            "containerd is not installed (no unit, config or socket); other runtimes' drivers are not read",
        )
    } else {
        let runc = match drivers.containerd_systemd_cgroup {
            Some(true) => "systemd",
            _ => "cgroupfs",
        };
        let shown_source = &containerd_source;
        if runc == kubelet {
            CheckResult::ok(
                ID,
                AREA,
                format!("kubelet and containerd both use the {kubelet} cgroup driver (containerd: {shown_source})"),
            )
        } else {
            CheckResult::fail(
                ID,
                AREA,
                format!(
                    "kubelet uses the {kubelet} cgroup driver ({}) but containerd's runc uses {runc} ({shown_source}): pods crash-loop after the join",
                    &kubelet_source
                ),
            )
            .fix(if kubelet == "systemd" {
                "set `SystemdCgroup = true` in the runc options table of /etc/containerd/config.toml (`containerd config default` writes the table) and `systemctl restart containerd`"
            } else {
                "set `SystemdCgroup = false` in /etc/containerd/config.toml, or better switch kubelet to cgroupDriver: systemd (kubeadm's default), then restart containerd"
            })
        }
    };
    r.with("kubelet", kubelet)
        .with("kubelet_source", kubelet_source)
        .with(
            "containerd_systemd_cgroup",
            drivers.containerd_systemd_cgroup,
        )
        .with("containerd_source", containerd_source)
}
