//! Gathers [`NodeSetup`]: what `kubeadm join` and the data plane depend on beyond interfaces and
//! sysctls. Every read goes through the host root; nothing here needs D-Bus or a running systemd.
//!
//! `services` (kubelet and containerd units, enablement, versions), `cgroups` (hierarchy and both
//! cgroup drivers), `binaries` (`PATH` lookup), `resources` (CPUs, memory), `clock` (`adjtimex`),
//! `firewall` (firewalld, ufw) and `network_manager` (running, unmanaged devices).

pub mod binaries;
pub mod cgroups;
pub mod clock;
pub mod firewall;
pub mod network_manager;
pub mod services;

use crate::facts::node_setup::{Firewall, KubeadmFiles, NodeSetup, Resources};
use crate::host_root::HostRoot;

/// The files `kubeadm join` refuses to overwrite (kubeadm's `FileAvailable--etc-kubernetes-*`).
pub const JOIN_ARTEFACTS: &[&str] = &[
    "/etc/kubernetes/kubelet.conf",
    "/etc/kubernetes/bootstrap-kubelet.conf",
    "/etc/kubernetes/pki/ca.crt",
];
pub const MANIFESTS_DIR: &str = "/etc/kubernetes/manifests";

/// Gathers the section.
pub fn gather_node_setup(root: &HostRoot) -> NodeSetup {
    let meminfo = root.read_to_string("/proc/meminfo").unwrap_or_default();
    let kubelet = services::gather_service(root, "kubelet.service", services::Versioned::Kubelet);
    let containerd = services::gather_service(root, "containerd.service", services::Versioned::No);
    let cgroup_drivers = cgroups::gather_drivers(root, kubelet.unit.as_ref());
    let (binaries, binary_search_path) = binaries::gather_binaries(root);
    NodeSetup {
        kubeadm_files: gather_kubeadm_files(root),
        kubelet,
        containerd,
        cgroups: cgroups::gather_cgroups(root),
        cgroup_drivers,
        binaries,
        binary_search_path,
        resources: Resources {
            cpus: root
                .read_to_string("/sys/devices/system/cpu/online")
                .ok()
                .and_then(|text| count_cpu_list(&text))
                .or_else(|| {
                    std::thread::available_parallelism()
                        .ok()
                        .map(|n| n.get() as u32)
                }),
            memory_kib: meminfo_kib(&meminfo, "MemTotal:"),
        },
        clock: clock::read_clock(),
        firewall: Firewall {
            firewalld: firewall::gather_firewalld(root),
            ufw: firewall::gather_ufw(root),
        },
        network_manager: network_manager::gather_network_manager(root),
    }
}

fn gather_kubeadm_files(root: &HostRoot) -> KubeadmFiles {
    KubeadmFiles {
        present: JOIN_ARTEFACTS
            .iter()
            .filter(|p| root.symlink_metadata(p).is_ok())
            .map(|p| p.to_string())
            .collect(),
        manifests: root
            .read_dir_names(MANIFESTS_DIR)
            .unwrap_or_default()
            .into_iter()
            .map(|n| n.to_string_lossy().into_owned())
            .collect(),
    }
}

/// Counts a kernel CPU list (`0-3,5,7-8` → 7).
pub fn count_cpu_list(text: &str) -> Option<u32> {
    let mut total = 0u32;
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        let (lo, hi) = match part.split_once('-') {
            Some((a, b)) => (a.parse::<u32>().ok()?, b.parse::<u32>().ok()?),
            None => {
                let n = part.parse::<u32>().ok()?;
                (n, n)
            }
        };
        total += hi.checked_sub(lo)? + 1;
    }
    (total > 0).then_some(total)
}

/// One `/proc/meminfo` value in KiB (`MemTotal:` → 4030000).
pub fn meminfo_kib(meminfo: &str, key: &str) -> Option<u64> {
    meminfo.lines().find_map(|line| {
        let rest = line.strip_prefix(key)?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// Whether systemd has the unit running: systemd (v232+) keeps `/run/systemd/units/invocation:<unit>`
/// while a unit is active. `None` when systemd's runtime directory is not there at all.
pub fn unit_active(root: &HostRoot, unit: &str) -> Option<bool> {
    if !root.exists("/run/systemd/units") {
        return None;
    }
    Some(
        root.symlink_metadata(format!("/run/systemd/units/invocation:{unit}"))
            .is_ok(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists_and_meminfo() {
        assert_eq!(count_cpu_list("0-3,5,7-8\n"), Some(7));
        assert_eq!(count_cpu_list("0\n"), Some(1));
        assert_eq!(count_cpu_list("garbage"), None);
        assert_eq!(count_cpu_list(""), None);
        let meminfo = "MemTotal:        4030000 kB\nMemFree: 1 kB\n";
        assert_eq!(meminfo_kib(meminfo, "MemTotal:"), Some(4030000));
        assert_eq!(meminfo_kib(meminfo, "SwapTotal:"), None);
    }
}
