//! Host limits the 2025–2026 preflights of other tools (k0s `sysinfo`, embedded-cluster's host
//! preflights, kubeadm) look at and nodecheck judges alongside: free space where kubelet and the
//! runtime keep their data, open-file limits, what `localhost` names, inotify and per-interface
//! reverse-path/ARP sysctls, the kernel build configuration, the runtime's sandbox image and its CRI answers. Gathered by `crate::gather::preflight`; judged by the `checks` files named
//! after each part.
//!
//! Every field has a default, so snapshots written before this section existed still load.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The whole section (`preflight` in the snapshot).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Preflight {
    /// The filesystems holding kubelet's and the runtime's data.
    pub disks: Vec<DiskSpace>,
    pub open_files: OpenFiles,
    pub localhost: Localhost,
    /// Sysctls read for these checks (`fs.inotify.*`, `fs.nr_open`, `fs.file-max`, and
    /// `net.ipv4.conf.<interface>.rp_filter`/`arp_ignore`/`arp_filter` for `all`, `default` and
    /// every interface with an IPv4 address); `null` when the key does not exist.
    pub sysctls: BTreeMap<String, Option<String>>,
    pub kernel_config: KernelConfig,
    /// The sandbox (pause) image containerd is configured with; `null` when containerd's
    /// configuration file does not exist.
    pub sandbox_image: Option<SandboxImage>,
    /// The nftables base chains on the IPv4 forward hook (iptables-nft's `FORWARD`); `null` in
    /// snapshots from before this field.
    pub forward: Option<ForwardPolicy>,
    /// The container runtime's answers over its CRI socket; `null` in snapshots from before this
    /// field.
    pub cri: Option<CriRuntime>,
    /// Which iptables the host's `iptables` command is, and whether legacy x_tables exist; `null`
    /// in snapshots from before this field.
    pub iptables: Option<IptablesBackend>,
}

/// The backend behind the host's `iptables` command (iptables 1.8 ships both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IptablesMode {
    /// `iptables-nft` / `xtables-nft-multi`: rules live in nftables.
    Nft,
    /// `iptables-legacy` / `xtables-legacy-multi`: rules live in the kernel's x_tables.
    Legacy,
}

/// What decides iptables' backend on the host, and what the legacy backend holds.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IptablesBackend {
    /// The link read (`/etc/alternatives/iptables`, else the command's own path) and its target.
    pub link: Option<String>,
    pub target: Option<String>,
    /// The mode the target names; `null` when no link names one.
    pub mode: Option<IptablesMode>,
    /// The tables of the legacy x_tables (`/proc/net/ip_tables_names`): a table exists once a
    /// legacy iptables used it. `null` when the file does not exist (ip_tables not loaded).
    pub legacy_tables: Option<Vec<String>>,
}

/// What came of asking the container runtime over its CRI socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CriStatus {
    /// `Version` answered (and `RuntimeConfig` answered or said it is not implemented).
    Answered,
    /// No CRI socket exists at the configured or well-known paths.
    #[default]
    NoSocket,
    /// The runtime did not answer within the deadline.
    Timeout,
    /// The connection or a call failed (refused, denied, an error status).
    Error,
}

/// The runtime's `Version` and `RuntimeConfig` answers (CRI `runtime.v1.RuntimeService`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CriRuntime {
    /// The socket asked (a host path, or `CONTAINER_RUNTIME_ENDPOINT`'s path as given); `null`
    /// when none exists.
    pub socket: Option<String>,
    /// Why that socket: `CONTAINER_RUNTIME_ENDPOINT`, or the runtime whose well-known socket it is.
    pub selected_by: Option<String>,
    pub status: CriStatus,
    /// `VersionResponse.runtime_name` (`containerd`, `cri-o`, `docker`).
    pub runtime_name: Option<String>,
    pub runtime_version: Option<String>,
    /// `VersionResponse.runtime_api_version` (`v1`).
    pub runtime_api_version: Option<String>,
    /// Whether the runtime implements `RuntimeConfig` (an `Unimplemented` status is `false`);
    /// `null` when not asked.
    pub runtime_config: Option<bool>,
    /// The cgroup driver `RuntimeConfig` reports (`systemd` or `cgroupfs`).
    pub cgroup_driver: Option<String>,
    /// What went wrong, in words.
    pub detail: Option<String>,
}

/// The policies of the base chains on the IPv4 forward hook.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ForwardPolicy {
    /// Base chains of the `ip` and `inet` families on the forward hook, in the kernel's order.
    pub nftables: Vec<NftForwardChain>,
    /// Why nftables could not be read.
    pub nftables_error: Option<String>,
    /// The policy of iptables-legacy's `filter FORWARD` (`drop`, `accept`), when the legacy
    /// `filter` table exists; `null` when it does not (or in snapshots from before this field).
    pub iptables_legacy: Option<String>,
    /// Why iptables-legacy's `filter` table could not be read.
    pub iptables_legacy_error: Option<String>,
}

/// One nftables base chain on the IPv4 forward hook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NftForwardChain {
    /// `ip` or `inet`.
    pub family: String,
    pub table: String,
    pub chain: String,
    /// `accept` or `drop`.
    pub policy: String,
    pub priority: i32,
}

/// The runtime's sandbox image setting (containerd's, else CRI-O's).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SandboxImage {
    /// `containerd` or `cri-o`; snapshots from before CRI-O was read hold containerd's.
    #[serde(default = "containerd")]
    pub runtime: String,
    /// The configuration file read (host path); for CRI-O the file that sets the image (the last
    /// one read when none does).
    pub config_file: String,
    /// containerd's `version` (1, 2 or 3; 1 when absent); 0 for CRI-O.
    pub schema_version: i64,
    /// The image, as written; `null` when the file does not set it (containerd's built-in default).
    pub image: Option<String>,
    /// Where it is (or would be) set: the TOML table and key.
    pub setting: String,
    /// Why the file could not be read or parsed.
    pub error: Option<String>,
}

fn containerd() -> String {
    "containerd".to_string()
}

/// Whose data a filesystem holds: kubelet's `nodefs` or the runtime's `imagefs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DiskRole {
    /// `/var/lib/kubelet`: kubelet's `nodefs`.
    Kubelet,
    /// The runtime's root (`/var/lib/containerd`): kubelet's `imagefs` when on its own filesystem.
    Runtime,
}

/// Space on the filesystem holding one directory (`statvfs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiskSpace {
    pub role: DiskRole,
    /// The directory asked about (host path).
    pub path: String,
    /// The configuration file that set `path` (containerd's `root`); `null` for the default.
    #[serde(default)]
    pub configured_by: Option<String>,
    /// The directory measured: `path`, or its nearest existing parent before the directory exists
    /// (before the runtime or kubelet is installed); `null` when nothing could be measured.
    pub measured: Option<String>,
    pub total_bytes: u64,
    /// Bytes available to unprivileged users (`f_bavail`), as kubelet's `nodefs.available` counts.
    pub available_bytes: u64,
    pub inodes_total: u64,
    pub inodes_free: u64,
    /// The filesystem's device number (`f_fsid`), to tell whether both roles share one filesystem.
    pub filesystem_id: u64,
    /// Why it could not be measured.
    pub error: Option<String>,
}

/// Open-file limits: systemd's default for services and the `LimitNOFILE=` of kubelet's and the
/// runtime's units.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OpenFiles {
    /// `DefaultLimitNOFILE=` of `/etc/systemd/system.conf` and its drop-ins, as written; `null`
    /// when unset (systemd's built-in default since v240 is `1024:524288`).
    pub systemd_default: Option<String>,
    /// `FILE:LINE` of the setting that won.
    pub systemd_default_source: Option<String>,
    pub units: Vec<UnitOpenFiles>,
}

/// `LimitNOFILE=` of one service unit, after its drop-ins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitOpenFiles {
    pub unit: String,
    /// A unit file for it exists.
    pub installed: bool,
    /// The value as written (`infinity`, `1048576`, `1024:524288`); `null` when unset.
    pub limit_nofile: Option<String>,
    /// `FILE:LINE` of the setting that won.
    pub source: Option<String>,
}

/// What the host's own files say `localhost` is.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Localhost {
    /// The addresses `/etc/hosts` gives `localhost`, in file order, as written.
    pub hosts_addresses: Vec<String>,
    /// The `hosts:` sources of `/etc/nsswitch.conf` (`files`, `dns`, `myhostname`, `resolve`);
    /// empty when the file is absent (glibc then uses `files dns`).
    pub nsswitch_hosts: Vec<String>,
    /// What could not be read.
    pub notes: Vec<String>,
}

/// Options of the running kernel's build configuration.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KernelConfig {
    /// The file read (`/proc/config.gz` or `/boot/config-<release>`, host path); `null` when none.
    pub source: Option<String>,
    /// The options the checks ask about: `y`, `m` or a value; `null` when not set.
    pub options: BTreeMap<String, Option<String>>,
    /// Why no configuration could be read.
    pub error: Option<String>,
}

/// The kernel configuration options recorded in [`KernelConfig::options`]: what pods, Services,
/// Calico's policy and each encapsulation need (the checks say which needs which).
pub const KERNEL_CONFIG_OPTIONS: &[&str] = &[
    "CONFIG_VETH",
    "CONFIG_OVERLAY_FS",
    "CONFIG_BRIDGE_NETFILTER",
    "CONFIG_NF_CONNTRACK",
    "CONFIG_NF_NAT",
    "CONFIG_NETFILTER_XT_MATCH_STATISTIC",
    "CONFIG_NETFILTER_XT_MATCH_COMMENT",
    "CONFIG_NETFILTER_XT_TARGET_MASQUERADE",
    "CONFIG_NETFILTER_XT_MATCH_ADDRTYPE",
    "CONFIG_NETFILTER_XT_MATCH_CONNTRACK",
    "CONFIG_NETFILTER_XT_MATCH_MARK",
    "CONFIG_NETFILTER_XT_MATCH_MULTIPORT",
    "CONFIG_NETFILTER_XT_SET",
    "CONFIG_IP_SET",
    "CONFIG_IP_SET_HASH_IP",
    "CONFIG_IP_SET_HASH_NET",
    "CONFIG_IP_NF_MATCH_RPFILTER",
    "CONFIG_NET_IPIP",
    "CONFIG_VXLAN",
    "CONFIG_WIREGUARD",
    "CONFIG_BPF_SYSCALL",
    "CONFIG_BPF_JIT",
    "CONFIG_NET_CLS_BPF",
    "CONFIG_NET_SCH_INGRESS",
];
