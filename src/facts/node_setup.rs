//! What `kubeadm join` and the data plane depend on beyond interfaces and sysctls: files an earlier
//! join left behind, the kubelet and containerd services, cgroups and the cgroup drivers, the
//! binaries kubeadm looks for, CPUs and memory, the kernel clock's sync state, host
//! firewalls and NetworkManager. Gathered by `crate::gather::node_setup`; judged by `crate::checks::join` and
//! `crate::checks::data_plane`.
//!
//! Every field has a default, so snapshots written before this section existed still load.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::systemd::ServiceUnit;

/// The whole section (`node_setup` in the snapshot).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NodeSetup {
    pub kubeadm_files: KubeadmFiles,
    pub kubelet: ServiceState,
    pub containerd: ServiceState,
    pub cgroups: Cgroups,
    pub cgroup_drivers: CgroupDrivers,
    /// Executables kubeadm requires or recommends, by name: where on `PATH` each was found, or
    /// `null` when not found.
    pub binaries: BTreeMap<String, Option<String>>,
    /// The `PATH` directories searched (host paths), in order.
    pub binary_search_path: Vec<String>,
    pub resources: Resources,
    /// The kernel clock's synchronisation state (`adjtimex`); `null` when it could not be read.
    pub clock: Option<ClockSync>,
    pub firewall: Firewall,
    pub network_manager: NetworkManager,
}

/// Files under `/etc/kubernetes` that `kubeadm join` refuses to overwrite.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KubeadmFiles {
    /// Host paths of the join artefacts that exist: `kubelet.conf`, `bootstrap-kubelet.conf`,
    /// `pki/ca.crt`.
    pub present: Vec<String>,
    /// Entries of `/etc/kubernetes/manifests` (static pods: a control-plane node), sorted.
    pub manifests: Vec<String>,
}

/// A systemd service read from its unit files (no D-Bus needed).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServiceState {
    /// The unit as systemd would load it; `null` when no unit file exists.
    pub unit: Option<ServiceUnit>,
    /// `wants`/`requires` links that enable it (`/etc/systemd/system/multi-user.target.wants/...`).
    pub enabled_by: Vec<String>,
    /// Active right now: systemd's `/run/systemd/units/invocation:<unit>` marker exists.
    pub active: Option<bool>,
    /// The installed version (`v1.30.2` for kubelet, as its `--version` prints it), when known.
    pub version: Option<String>,
    /// Where the version came from (the binary, or the package database).
    pub version_source: Option<String>,
}

/// The cgroup hierarchy kubelet and the runtime will use.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Cgroups {
    /// `v2` (unified), `v1` (legacy) or `hybrid`; `null` when `/sys/fs/cgroup` shows neither.
    pub version: Option<String>,
    /// Controllers available: from `cgroup.controllers` on v2, the enabled rows of `/proc/cgroups`
    /// on v1.
    pub controllers: Vec<String>,
}

/// The cgroup driver kubelet is told to use, and the one containerd's runc runtime uses.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CgroupDrivers {
    /// `systemd` or `cgroupfs` from the KubeletConfiguration (`cgroupDriver`) or kubelet's
    /// `--cgroup-driver` flag; `null` before the join (kubeadm writes the file then).
    pub kubelet: Option<String>,
    /// Where the kubelet value came from.
    pub kubelet_source: Option<String>,
    /// `SystemdCgroup` of containerd's default runc runtime; `null` when containerd's config was
    /// not found (containerd's built-in default is `false`).
    pub containerd_systemd_cgroup: Option<bool>,
    /// Where the containerd value came from (file and TOML table), or why it is unknown.
    pub containerd_source: Option<String>,
}

/// CPUs and memory as the kernel reports them.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Resources {
    /// Online CPUs (`/sys/devices/system/cpu/online`).
    pub cpus: Option<u32>,
    /// `MemTotal` of `/proc/meminfo`, in KiB.
    pub memory_kib: Option<u64>,
}

/// The kernel clock discipline (`adjtimex(2)` with no modes: read only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockSync {
    /// The kernel considers the clock synchronised (no `STA_UNSYNC`, state not `TIME_ERROR`).
    pub synchronized: bool,
    /// Maximum error, microseconds (grows by 500 ppm while nothing disciplines the clock).
    pub max_error_us: i64,
    /// Estimated error, microseconds.
    pub est_error_us: i64,
    /// `adjtimex`'s return value: 0 TIME_OK ... 5 TIME_ERROR.
    pub state: i32,
}

/// Host firewalls that can drop Calico's and kubelet's traffic; `null` when not installed.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Firewall {
    pub firewalld: Option<FirewalldState>,
    pub ufw: Option<UfwState>,
}

/// firewalld, from its unit state and its permanent configuration.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FirewalldState {
    /// Running: systemd's invocation marker for `firewalld.service`.
    pub active: bool,
    /// Enabled through a `wants` link.
    pub enabled: bool,
    /// `DefaultZone` of `/etc/firewalld/firewalld.conf` (`public` when unset).
    pub default_zone: String,
    /// The zone file read (host path), when found.
    pub zone_file: Option<String>,
    /// The zone's target (`ACCEPT`, `DROP`, `%%REJECT%%`; `null`: firewalld's default, reject).
    pub target: Option<String>,
    /// Ports the zone opens, `PORT/PROTO` or `FROM-TO/PROTO`, its services expanded.
    pub open_ports: Vec<String>,
    /// IP protocols the zone accepts (`ipip`, `4`).
    pub open_protocols: Vec<String>,
    /// What could not be read.
    pub notes: Vec<String>,
}

/// ufw, from its configuration and rule files.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UfwState {
    /// `ENABLED=yes` in `/etc/ufw/ufw.conf`.
    pub enabled: bool,
    /// `DEFAULT_INPUT_POLICY` of `/etc/default/ufw` (`DROP`, `ACCEPT`, `REJECT`).
    pub default_input_policy: Option<String>,
    /// Ports allowed in, `PORT/PROTO`, from `user.rules` and `user6.rules`.
    pub allowed_ports: Vec<String>,
    /// IP protocols allowed in (`ipip`, `any`).
    pub allowed_protocols: Vec<String>,
}

/// NetworkManager: whether it runs and which devices it is told to leave alone.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkManager {
    /// Running: its unit's invocation marker or its PID in `/run/NetworkManager/NetworkManager.pid`.
    pub running: bool,
    /// The configuration files read, in NetworkManager's order (host paths).
    pub config_files: Vec<String>,
    /// The effective `[keyfile] unmanaged-devices` specs (`interface-name:cali*`), after later
    /// files override earlier ones.
    pub unmanaged_devices: Vec<String>,
}

/// Whether a NetworkManager device spec (`interface-name:cali*`, `interface-name:=tunl0`, `*`) matches
/// the interface name. Specs on MACs, drivers or types never match a name alone and are ignored;
/// `except:` specs are not modelled.
pub fn spec_matches_name(spec: &str, name: &str) -> bool {
    let spec = spec.trim();
    let pattern = match spec.split_once(':') {
        Some(("interface-name", p)) => p,
        Some(_) => return false,
        None => spec,
    };
    let pattern = pattern.strip_prefix('~').unwrap_or(pattern);
    if let Some(exact) = pattern.strip_prefix('=') {
        return exact == name;
    }
    glob_match(pattern.as_bytes(), name.as_bytes())
}

/// Shell-style `*` and `?` matching, as NetworkManager's interface-name specs use.
fn glob_match(pattern: &[u8], name: &[u8]) -> bool {
    match pattern.split_first() {
        None => name.is_empty(),
        Some((b'*', rest)) => (0..=name.len()).any(|i| glob_match(rest, &name[i..])),
        Some((b'?', rest)) => !name.is_empty() && glob_match(rest, &name[1..]),
        Some((c, rest)) => name.first() == Some(c) && glob_match(rest, &name[1..]),
    }
}

impl NetworkManager {
    /// Whether the effective configuration leaves the interface `name` unmanaged.
    pub fn leaves_unmanaged(&self, name: &str) -> bool {
        self.unmanaged_devices
            .iter()
            .any(|spec| spec_matches_name(spec, name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_match_names() {
        assert!(spec_matches_name("interface-name:cali*", "cali12ab34cd"));
        assert!(spec_matches_name("interface-name:=tunl0", "tunl0"));
        assert!(!spec_matches_name("interface-name:=tunl", "tunl0"));
        assert!(spec_matches_name(
            "interface-name:vxlan?calico",
            "vxlan.calico"
        ));
        assert!(!spec_matches_name("mac:00:11:22:33:44:55", "cali0"));
        assert!(spec_matches_name("*", "anything"));
    }
}
