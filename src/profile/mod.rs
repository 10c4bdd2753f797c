//! The cluster profile: what every node of one cluster is expected to look like.
//!
//! A profile is YAML written by the operator (or by `nodecheck profile init` from a known-good node).
//! This module holds the validated, typed form that checks consume; nothing downstream parses profile
//! text again: CIDRs, address families, the Calico release and the kernel minimum are parsed and
//! regexes compiled at load time (`parsed`), and the sysctls and modules every node needs are added
//! to the profile's own (`defaults`).

pub mod calico_version;
pub mod cni;
pub mod defaults;
pub mod init;
pub mod load;
pub mod parsed;
pub mod schema;
mod suggest;
pub mod validate;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use calico_version::CalicoVersion;
use parsed::{KernelRelease, KubernetesMinor, Parsed, Pattern};

/// The validated profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Cluster name, shown in reports.
    #[serde(default)]
    pub cluster: Option<String>,
    #[serde(default)]
    pub node_network: NodeNetwork,
    /// Other NICs every node should have (storage, management networks).
    #[serde(default)]
    #[serde(deserialize_with = "validate::de_nics")]
    pub other_nics: Vec<NicExpectation>,
    #[serde(default)]
    pub bridges: BridgePolicy,
    #[serde(default)]
    #[serde(deserialize_with = "validate::de_cidrs")]
    pub pod_cidrs: Vec<IpNet>,
    #[serde(default)]
    #[serde(deserialize_with = "validate::de_cidrs")]
    pub service_cidrs: Vec<IpNet>,
    #[serde(default)]
    pub calico: CalicoSettings,
    /// The API server endpoint (`host:port`), informational and for reachability.
    #[serde(default)]
    #[serde(deserialize_with = "validate::de_endpoint")]
    pub api_server: Option<String>,
    /// The cluster's Kubernetes version (`1.30` or `1.30.2`): decides kubeadm's required binaries
    /// and the kubelet version skew.
    #[serde(default)]
    #[serde(deserialize_with = "validate::de_kubernetes_version")]
    pub kubernetes_version: Option<Parsed<KubernetesMinor>>,
    /// The cgroup driver the cluster's KubeletConfiguration sets (kubeadm's default: `systemd`).
    #[serde(default)]
    pub cgroup_driver: Option<CgroupDriver>,
    /// Minimum CPUs and memory (default: kubeadm's control-plane minimums, as warnings).
    #[serde(default)]
    pub resources: ResourceMinimums,
    #[serde(default)]
    pub kernel: KernelPolicy,
    #[serde(default)]
    pub ipv6: Ipv6Expectation,
    /// Sysctls that must have these values.
    #[serde(default)]
    #[serde(deserialize_with = "validate::de_sysctls")]
    pub sysctls: std::collections::BTreeMap<String, String>,
    /// Kernel modules that must be loaded or built in.
    #[serde(default)]
    #[serde(deserialize_with = "validate::de_modules")]
    pub modules: Vec<String>,
    /// TCP ports that must be free before the join.
    #[serde(default)]
    #[serde(deserialize_with = "validate::de_ports")]
    pub ports_free: Vec<u16>,
    #[serde(default)]
    pub swap: SwapPolicy,
    /// Container runtimes accepted (`containerd`, `cri-o`, `docker`); empty means any.
    #[serde(default)]
    #[serde(deserialize_with = "validate::de_runtimes")]
    pub runtimes: Vec<String>,
    #[serde(default)]
    pub post_join: PostJoinSettings,
    /// The address-choosing components besides kubelet and Calico (flanneld, k3s, RKE2).
    #[serde(default)]
    pub cni: cni::CniSettings,
    /// Check IDs to skip (merged with `--skip`).
    #[serde(default)]
    #[serde(deserialize_with = "validate::de_strings")]
    pub skip: Vec<String>,
}

/// The node network: the addresses Kubernetes and Calico must use.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeNetwork {
    /// Node subnets (IPv4 and/or IPv6). Empty: the subnet of the default route's interface.
    #[serde(default)]
    #[serde(deserialize_with = "validate::de_cidrs")]
    pub cidrs: Vec<IpNet>,
    /// The NIC expected to carry it.
    #[serde(default)]
    pub nic: Option<NicExpectation>,
    /// Expected MTU of the node NIC.
    #[serde(default)]
    #[serde(deserialize_with = "validate::de_mtu")]
    pub mtu: Option<u32>,
}

/// How a NIC is recognised: by name (with accepted alternatives), or by MAC / PCI path patterns.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NicExpectation {
    /// Expected interface name, e.g. `eth3`.
    #[serde(default)]
    pub name: Option<String>,
    /// Other accepted names (e.g. `ens192` on VMware nodes).
    #[serde(default)]
    #[serde(deserialize_with = "validate::de_strings")]
    pub alternatives: Vec<String>,
    /// Regex over the MAC (lower-case, colon-separated).
    #[serde(default)]
    #[serde(deserialize_with = "validate::de_pattern")]
    pub mac_pattern: Option<Pattern>,
    /// Regex over the sysfs device path (e.g. `0000:0b:00.0`).
    #[serde(default)]
    #[serde(deserialize_with = "validate::de_pattern")]
    pub pci_pattern: Option<Pattern>,
    /// What this NIC is for (`node`, `storage`, `management`), for messages.
    #[serde(default)]
    pub role: Option<String>,
    /// For `other_nics`: the subnets it should carry.
    #[serde(default)]
    #[serde(deserialize_with = "validate::de_cidrs")]
    pub cidrs: Vec<IpNet>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BridgePolicy {
    /// Bridge names (regexes, anchored) that are expected and not reported as a warning.
    #[serde(default)]
    #[serde(deserialize_with = "validate::de_patterns")]
    pub allowed: Vec<Pattern>,
    /// Report docker0 and compose bridges as failures instead of warnings.
    #[serde(default)]
    #[serde(deserialize_with = "validate::de_strict_bool")]
    pub docker_bridges_fail: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalicoSettings {
    /// Calico version the cluster runs (decides first-found's exclusion list). Default: see
    /// [`CalicoSettings::release`].
    #[serde(default)]
    #[serde(deserialize_with = "validate::de_calico_version")]
    pub version: Option<Parsed<CalicoVersion>>,
    /// The `IP_AUTODETECTION_METHOD` the DaemonSet uses now (unset = first-found).
    #[serde(default)]
    pub ipv4_method: Option<String>,
    /// The `IP6_AUTODETECTION_METHOD`, when IPv6 autodetection is on.
    #[serde(default)]
    pub ipv6_method: Option<String>,
    /// Address families Calico autodetects: `ipv4`, `ipv6`.
    #[serde(
        default = "default_families",
        deserialize_with = "validate::de_families"
    )]
    pub families: Vec<crate::facts::Family>,
    /// An off-node address usable for `can-reach=` (a router), if the operator knows one.
    #[serde(default)]
    pub can_reach: Option<String>,
    /// Encapsulation of the IP pools (default: `ipip`, the calico.yaml manifest's).
    #[serde(default)]
    pub encapsulation: Option<Encapsulation>,
    /// The veth MTU set in Calico's configuration (`veth_mtu`, operator `calicoNetwork.mtu`);
    /// default: auto-detected, the node NIC's MTU minus the encapsulation overhead.
    #[serde(default)]
    #[serde(deserialize_with = "validate::de_mtu")]
    pub veth_mtu: Option<u32>,
}

fn default_families() -> Vec<crate::facts::Family> {
    vec![crate::facts::Family::Ipv4]
}

impl Default for CalicoSettings {
    fn default() -> Self {
        CalicoSettings {
            version: None,
            ipv4_method: None,
            ipv6_method: None,
            families: default_families(),
            can_reach: None,
            encapsulation: None,
            veth_mtu: None,
        }
    }
}

/// A kubelet / container runtime cgroup driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CgroupDriver {
    Systemd,
    Cgroupfs,
}

impl CgroupDriver {
    pub fn as_str(self) -> &'static str {
        match self {
            CgroupDriver::Systemd => "systemd",
            CgroupDriver::Cgroupfs => "cgroupfs",
        }
    }
}

/// Minimum resources a node must have.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceMinimums {
    #[serde(default)]
    pub min_cpus: Option<u32>,
    #[serde(default)]
    pub min_memory_mib: Option<u64>,
}

/// Calico's encapsulation of pod traffic between nodes (the IP pool's `ipipMode`/`vxlanMode`, or
/// WireGuard encryption).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encapsulation {
    None,
    Ipip,
    IpipCrossSubnet,
    Vxlan,
    VxlanCrossSubnet,
    Wireguard,
}

impl Encapsulation {
    pub fn as_str(self) -> &'static str {
        match self {
            Encapsulation::None => "none",
            Encapsulation::Ipip => "ipip",
            Encapsulation::IpipCrossSubnet => "ipip-cross-subnet",
            Encapsulation::Vxlan => "vxlan",
            Encapsulation::VxlanCrossSubnet => "vxlan-cross-subnet",
            Encapsulation::Wireguard => "wireguard",
        }
    }
    pub fn is_vxlan(self) -> bool {
        matches!(self, Encapsulation::Vxlan | Encapsulation::VxlanCrossSubnet)
    }
}

/// The Calico version assumed when neither the profile nor `--calico-version` names one.
pub const DEFAULT_CALICO_VERSION: &str = "3.28.0";

impl CalicoSettings {
    /// The Calico release to model: `calico.version`, else [`DEFAULT_CALICO_VERSION`].
    pub fn release(&self) -> Parsed<CalicoVersion> {
        self.version
            .clone()
            .unwrap_or_else(|| Parsed::known(DEFAULT_CALICO_VERSION, CalicoVersion::new(3, 28, 0)))
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KernelPolicy {
    /// Minimum kernel release (e.g. `5.4`).
    #[serde(default)]
    #[serde(deserialize_with = "validate::de_kernel_minimum")]
    pub minimum: Option<Parsed<KernelRelease>>,
    /// Regexes one of which the release must match.
    #[serde(default)]
    #[serde(deserialize_with = "validate::de_patterns")]
    pub allowed: Vec<Pattern>,
    /// How close peers' kernels must be.
    #[serde(default)]
    pub parity: KernelParity,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KernelParity {
    Exact,
    #[default]
    SameMinor,
    SameMajor,
    Ignore,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ipv6Expectation {
    Required,
    Disabled,
    /// Whatever the peers have (checked by parity); no expectation on its own.
    #[default]
    AsPeers,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SwapPolicy {
    /// kubelet's default: swap must be off.
    #[default]
    Off,
    Allowed,
}

/// Settings for the post-join and post-boot checks.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostJoinSettings {
    /// Felix health port on localhost (default 9099).
    #[serde(default)]
    #[serde(deserialize_with = "validate::de_port")]
    pub felix_health_port: Option<u16>,
    /// Cluster DNS server address; default: kubelet config `clusterDNS`.
    #[serde(default)]
    pub cluster_dns: Option<std::net::IpAddr>,
    /// Cluster domain (default `cluster.local`).
    #[serde(default)]
    pub cluster_domain: Option<String>,
}
