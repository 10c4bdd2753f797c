//! The host snapshot: one serialisable, versioned document gathered once and judged anywhere.
//!
//! Everything nodecheck decides is a pure function of a [`Facts`] value (plus a profile, peers and an
//! optional baseline). The gathering code (`crate::gather`) is the only place that does I/O to build it.
//! The JSON form is a public, documented format (`docs/facts.md`): other nodes' snapshots are peer input,
//! and a saved snapshot can be checked on another machine. Interfaces and addresses keep the kernel's
//! netlink dump order, never sorted, because Calico's choice depends on it.

pub mod ifname;
pub mod kubelet;
pub mod label;
pub mod load;
pub mod node_setup;
pub mod preflight;
pub mod redact;
pub mod systemd;
#[cfg(test)]
pub mod testkit;

use std::collections::BTreeMap;
use std::net::IpAddr;

use compact_str::CompactString;
pub use label::Label;
use serde::{Deserialize, Serialize};

/// Version of the snapshot format. Bumped on any incompatible change; readers reject newer versions.
pub const SCHEMA_VERSION: u32 = 2;

/// One host's facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Facts {
    pub schema_version: u32,
    pub nodecheck_version: String,
    /// RFC 3339 UTC time of collection.
    pub collected_at: CompactString,
    pub host: Host,
    /// Interfaces in netlink (RTM_GETLINK) dump order.
    pub interfaces: Vec<Interface>,
    /// Main-table routes, IPv4 then IPv6, each in dump order.
    pub routes: Vec<Route>,
    pub ipv6: Ipv6State,
    /// Sysctl name (dotted, e.g. `net.ipv4.ip_forward`) to value; `null` when the key does not exist.
    #[serde(deserialize_with = "load::unique_keys")]
    pub sysctls: BTreeMap<String, Option<String>>,
    pub modules: Modules,
    pub swap: Swap,
    pub docker: Docker,
    pub runtime_sockets: Vec<RuntimeSocket>,
    pub listening_ports: Vec<ListeningPort>,
    /// Join artefacts, kubelet and containerd services, cgroups, binaries, resources, clock and
    /// NetworkManager (`docs/facts.md`); `null` in snapshots written before this section existed,
    /// which are then judged without the checks on it.
    #[serde(default)]
    pub node_setup: Option<Box<node_setup::NodeSetup>>,
    /// What decides kubelet's node address (flags, node name, name resolution); `null` in snapshots
    /// of schema version 1, which did not gather it.
    #[serde(default)]
    pub kubelet: Option<Box<kubelet::KubeletFacts>>,
    /// Disk space, open-file limits, `localhost`, inotify and reverse-path/ARP sysctls and the
    /// kernel configuration (`docs/facts.md`); `null` in snapshots written before this section
    /// existed, which are then judged without the checks on it.
    #[serde(default)]
    pub preflight: Option<Box<preflight::Preflight>>,
    /// Facts that could not be gathered, by dotted path (`host.product_uuid`), with the reason.
    #[serde(default, deserialize_with = "load::unique_keys")]
    pub unavailable: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Host {
    pub hostname: CompactString,
    pub machine_id: Option<CompactString>,
    /// `/sys/class/dmi/id/product_uuid`, readable by root only; `null` otherwise (see `unavailable`).
    pub product_uuid: Option<CompactString>,
    pub kernel_release: CompactString,
    pub kernel_version: CompactString,
    pub architecture: CompactString,
    pub os: OsRelease,
    pub cmdline: KernelCmdline,
    /// Effective user id when gathered: several facts need root.
    pub gathered_as_root: bool,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OsRelease {
    pub id: Option<CompactString>,
    pub version_id: Option<CompactString>,
    pub pretty_name: Option<CompactString>,
}

/// Kernel command-line flags that change NIC naming or IPv6; `null` when the flag is absent.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KernelCmdline {
    pub net_ifnames: Option<CompactString>,
    pub biosdevname: Option<CompactString>,
    pub ipv6_disable: Option<CompactString>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interface {
    pub index: u32,
    /// The name; for a name that is not UTF-8, its display form with `\xNN` for each invalid byte
    /// (see [`ifname`]). Other facts (`master`, route devices) refer to the interface by this.
    pub name: CompactString,
    /// The kernel's bytes of a name that is not UTF-8 (hex in JSON); absent for every other name.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "ifname::hex_bytes"
    )]
    pub name_bytes: Option<Box<[u8]>>,
    #[serde(default)]
    pub altnames: Vec<CompactString>,
    /// Netlink link kind (`bridge`, `veth`, `vxlan`, `vlan`, `bond`, `tun`, `wireguard`, ...); `null` for
    /// physical NICs and `lo`, which carry no IFLA_LINKINFO.
    pub kind: Option<Label>,
    /// Present when `/sys/class/net/<name>/device` exists: a real (or virtio) device.
    pub physical: Option<Box<PhysicalDevice>>,
    pub mac: Option<CompactString>,
    pub permanent_mac: Option<CompactString>,
    /// IFF_UP: administratively up.
    pub admin_up: bool,
    /// The link's raw IFF_* flags (`ifi_flags`, e.g. 0x1003 for an up broadcast link: IFF_UP,
    /// IFF_BROADCAST, IFF_MULTICAST), as the kernel reports them; `null` in snapshots from before
    /// this field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flags: Option<u32>,
    /// RFC 2863 operstate as the kernel names it, lower case: `up`, `down`, `unknown`, `lowerlayerdown`, ...
    pub operstate: Label,
    pub carrier: Option<bool>,
    pub mtu: u32,
    /// Name of the controller (bridge/bond) this interface is enslaved to.
    pub master: Option<CompactString>,
    /// `null` when IPv6 is off in the kernel (no per-interface setting exists).
    pub ipv6_disabled: Option<bool>,
    /// Addresses in dump order (IPv4 then IPv6 as the kernel reports them).
    pub addresses: Vec<Address>,
    /// TX checksum and UDP-tunnel offload features (ethtool netlink), read for links backed by a
    /// device, default-route devices and Calico's VXLAN devices; `null` for other links, in snapshots
    /// from before this field, and when unreadable (the reason under
    /// `unavailable["interfaces[<ifindex>].offload"]`).
    #[serde(default)]
    pub offload: Option<Offload>,
}

/// One offload feature as `ethtool -k` shows it: on or off, and whether the driver lets it change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FeatureState {
    #[serde(rename = "on")]
    On,
    #[serde(rename = "off")]
    Off,
    #[serde(rename = "on [fixed]")]
    OnFixed,
    #[serde(rename = "off [fixed]")]
    OffFixed,
}

impl FeatureState {
    pub fn from_bits(active: bool, changeable: bool) -> FeatureState {
        match (active, changeable) {
            (true, true) => FeatureState::On,
            (false, true) => FeatureState::Off,
            (true, false) => FeatureState::OnFixed,
            (false, false) => FeatureState::OffFixed,
        }
    }
    pub fn is_on(self) -> bool {
        matches!(self, FeatureState::On | FeatureState::OnFixed)
    }
    pub fn changeable(self) -> bool {
        matches!(self, FeatureState::On | FeatureState::Off)
    }
}

/// The offload features that decide whether a NIC computes the checksums of UDP-tunnelled (VXLAN)
/// packets itself, under the kernel's feature names. `null`: the kernel reported no such feature.
/// A fixed set of small fields rather than a map: every peer snapshot carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Offload {
    #[serde(rename = "tx-checksum-ip-generic")]
    pub tx_checksum_ip_generic: Option<FeatureState>,
    #[serde(rename = "tx-checksum-ipv4")]
    pub tx_checksum_ipv4: Option<FeatureState>,
    #[serde(rename = "tx-checksum-ipv6")]
    pub tx_checksum_ipv6: Option<FeatureState>,
    #[serde(rename = "tx-udp_tnl-segmentation")]
    pub tx_udp_tnl_segmentation: Option<FeatureState>,
    #[serde(rename = "tx-udp_tnl-csum-segmentation")]
    pub tx_udp_tnl_csum_segmentation: Option<FeatureState>,
}

impl Offload {
    /// The kernel's names of the features recorded, in `ethtool -k` order.
    pub const NAMES: [&'static str; 5] = [
        "tx-checksum-ipv4",
        "tx-checksum-ip-generic",
        "tx-checksum-ipv6",
        "tx-udp_tnl-segmentation",
        "tx-udp_tnl-csum-segmentation",
    ];

    /// The recorded state of the feature the kernel names `name`.
    pub fn get(&self, name: &str) -> Option<FeatureState> {
        self.slot(name).and_then(|s| *s)
    }

    /// Records `state` for `name`; names not in [`Offload::NAMES`] are ignored.
    pub fn set(&mut self, name: &str, state: FeatureState) {
        if let Some(slot) = self.slot_mut(name) {
            *slot = Some(state);
        }
    }

    fn slot(&self, name: &str) -> Option<&Option<FeatureState>> {
        Some(match name {
            "tx-checksum-ip-generic" => &self.tx_checksum_ip_generic,
            "tx-checksum-ipv4" => &self.tx_checksum_ipv4,
            "tx-checksum-ipv6" => &self.tx_checksum_ipv6,
            "tx-udp_tnl-segmentation" => &self.tx_udp_tnl_segmentation,
            "tx-udp_tnl-csum-segmentation" => &self.tx_udp_tnl_csum_segmentation,
            _ => return None,
        })
    }

    fn slot_mut(&mut self, name: &str) -> Option<&mut Option<FeatureState>> {
        Some(match name {
            "tx-checksum-ip-generic" => &mut self.tx_checksum_ip_generic,
            "tx-checksum-ipv4" => &mut self.tx_checksum_ipv4,
            "tx-checksum-ipv6" => &mut self.tx_checksum_ipv6,
            "tx-udp_tnl-segmentation" => &mut self.tx_udp_tnl_segmentation,
            "tx-udp_tnl-csum-segmentation" => &mut self.tx_udp_tnl_csum_segmentation,
            _ => return None,
        })
    }
}

impl Interface {
    /// The kernel's bytes for the name.
    pub fn raw_name(&self) -> &[u8] {
        self.name_bytes.as_deref().unwrap_or(self.name.as_bytes())
    }

    /// The name as calico-node's Go regexps see it ([`ifname::go_view`]): the name itself unless it is
    /// not UTF-8.
    pub fn go_name(&self) -> std::borrow::Cow<'_, str> {
        match &self.name_bytes {
            Some(bytes) => ifname::go_view(bytes),
            None => std::borrow::Cow::Borrowed(&self.name),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhysicalDevice {
    /// `pci`, `usb`, `virtio`, `platform`, ... (the subsystem of the parent device)
    pub bus: Option<CompactString>,
    /// The device path below `/sys/devices`, e.g. `pci0000:00/0000:00:03.0/virtio0`.
    pub device_path: Option<CompactString>,
    pub driver: Option<CompactString>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Ipv4,
    Ipv6,
}

impl Family {
    pub fn of(ip: &IpAddr) -> Family {
        match ip {
            IpAddr::V4(_) => Family::Ipv4,
            IpAddr::V6(_) => Family::Ipv6,
        }
    }
    pub fn number(self) -> u8 {
        match self {
            Family::Ipv4 => 4,
            Family::Ipv6 => 6,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Address {
    pub family: Family,
    pub address: IpAddr,
    pub prefix_len: u8,
    /// `global`, `site`, `link`, `host`, `nowhere` or a number.
    pub scope: Label,
    /// Lower-case IFA_F_* names: `secondary`, `deprecated`, `tentative`, `temporary`, `permanent`, ...
    #[serde(default)]
    pub flags: Vec<Label>,
    /// Point-to-point peer address, when it differs from `address`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer: Option<IpAddr>,
}

impl Address {
    /// The network the address sits in (`10.20.41.41/24` → `10.20.41.0/24`).
    pub fn network(&self) -> Option<ipnet::IpNet> {
        ipnet::IpNet::new(self.address, self.prefix_len)
            .ok()
            .map(|n| n.trunc())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    pub family: Family,
    /// CIDR, `0.0.0.0/0` or `::/0` for a default route.
    pub destination: ipnet::IpNet,
    pub gateway: Option<IpAddr>,
    pub device: Option<CompactString>,
    /// `kernel`, `boot`, `static`, `dhcp`, `ra`, `bird`, ... or the number.
    pub protocol: Label,
    /// `unicast`, `local`, `blackhole`, `unreachable`, ...
    pub route_type: Label,
    pub scope: Label,
    pub metric: Option<u32>,
    pub preferred_source: Option<IpAddr>,
    /// Next hops of a multipath route (no `device`/`gateway` of its own then).
    #[serde(default)]
    pub nexthops: Vec<NextHop>,
}

impl Route {
    pub fn is_default(&self) -> bool {
        self.destination.prefix_len() == 0
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NextHop {
    pub gateway: Option<IpAddr>,
    pub device: Option<CompactString>,
    pub weight: u16,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ipv6State {
    /// `ipv6.disable=1` on the kernel command line.
    pub disabled_on_cmdline: bool,
    /// `/proc/sys/net/ipv6` exists (IPv6 is compiled in and not disabled at boot).
    pub proc_present: bool,
    pub all_disable_ipv6: Option<bool>,
    pub default_disable_ipv6: Option<bool>,
    pub all_forwarding: Option<bool>,
}

impl Ipv6State {
    /// IPv6 is unavailable in the kernel (command line or not built in).
    pub fn kernel_off(&self) -> bool {
        self.disabled_on_cmdline || !self.proc_present
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Modules {
    /// Where module facts came from (`/proc/modules`, `/sys/module`, `modules.builtin`), or why not.
    pub sources: Vec<String>,
    /// Module name to its state, for the modules Kubernetes networking cares about.
    #[serde(deserialize_with = "load::unique_keys")]
    pub state: BTreeMap<String, ModuleState>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModuleState {
    Loaded,
    Builtin,
    /// Present in /lib/modules but not loaded.
    Available,
    Missing,
    /// No module information could be read (e.g. a container without /lib/modules).
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Swap {
    pub total_kib: u64,
    pub used_kib: u64,
    /// Active swap devices or files from /proc/swaps.
    pub devices: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Docker {
    /// What the Docker API socket did.
    pub api: DockerApi,
    /// Docker networks as the API reports them (empty when it did not answer).
    pub networks: Vec<DockerNetwork>,
    /// Bridges named like Docker's (`docker0`, `br-<12 hex>`), from netlink, in dump order. Known even
    /// when the API does not answer.
    #[serde(default)]
    pub bridges: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DockerApi {
    pub socket: String,
    pub status: DockerApiStatus,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DockerApiStatus {
    Answered,
    #[default]
    NoSocket,
    PermissionDenied,
    Timeout,
    Error,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DockerNetwork {
    pub id: String,
    pub name: String,
    pub driver: String,
    pub subnets: Vec<ipnet::IpNet>,
    /// The Linux bridge device: `com.docker.network.bridge.name`, else `br-<first 12 hex of id>`.
    pub bridge_device: Option<String>,
    pub compose_project: Option<String>,
    pub compose_network: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeSocket {
    /// `containerd`, `cri-o`, `docker`, `cri-dockerd`
    pub runtime: CompactString,
    pub path: CompactString,
    pub present: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListeningPort {
    /// `tcp` or `tcp6`
    pub protocol: String,
    pub address: IpAddr,
    pub port: u16,
}

/// The `unavailable` key saying that the order of `interfaces` is not the kernel's (facts mapped from
/// a source that does not keep it, such as Ansible's `setup` facts).
pub const INTERFACE_ORDER: &str = "interfaces.order";

/// The reason recorded in `unavailable` for what plain Ansible facts do not tell.
pub const NOT_IN_ANSIBLE_FACTS: &str = "not in Ansible facts";

/// `br-` followed by 12 hex digits: the bridge `docker network create` (and compose) makes.
pub fn is_docker_network_bridge(name: &str) -> bool {
    name.strip_prefix("br-")
        .is_some_and(|id| id.len() == 12 && id.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A bridge Docker makes: its default `docker0`, or a network bridge.
pub fn is_docker_bridge(name: &str) -> bool {
    name == "docker0" || is_docker_network_bridge(name)
}

/// Calico's VXLAN tunnel device (`vxlan.calico`, or `vxlan-v6.calico` for IPv6).
pub fn is_calico_vxlan_device(name: &str) -> bool {
    name == "vxlan.calico" || name == "vxlan-v6.calico"
}

impl Facts {
    /// Whether `interfaces` is in the kernel's dump order (always, for a gathered snapshot).
    pub fn interface_order_known(&self) -> bool {
        !self.unavailable.contains_key(INTERFACE_ORDER)
    }

    /// Whether the fact at `path` (a top-level field such as `sysctls` or `ipv6`) is known.
    pub fn knows(&self, path: &str) -> bool {
        !self.unavailable.contains_key(path)
    }

    /// `Some("from Ansible facts")` for facts mapped from Ansible's `setup` module, which tell less than
    /// a snapshot: messages add it to "not known for NODE".
    pub fn partial_source(&self) -> Option<&'static str> {
        (self.unavailable.get(INTERFACE_ORDER).map(String::as_str) == Some(NOT_IN_ANSIBLE_FACTS))
            .then_some("from Ansible facts")
    }

    /// Refuses an interface whose `name_bytes` disagree with its `name` (a hand-edited snapshot): the
    /// two would name different interfaces to a person and to a command.
    pub fn check_interface_names(&self) -> Result<(), String> {
        for (i, interface) in self.interfaces.iter().enumerate() {
            if let Some(bytes) = &interface.name_bytes {
                let shown = ifname::display(bytes);
                if shown != interface.name {
                    return Err(format!(
                        "interfaces[{i}]: name {:?} does not match name_bytes (which read {:?}); `name` must be the display form of `name_bytes`",
                        crate::escape::for_terminal(&interface.name),
                        crate::escape::for_terminal(&shown),
                    ));
                }
            }
        }
        Ok(())
    }

    pub fn interface(&self, name: &str) -> Option<&Interface> {
        self.interfaces.iter().find(|i| i.name == name)
    }
    pub fn interface_by_index(&self, index: u32) -> Option<&Interface> {
        self.interfaces.iter().find(|i| i.index == index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A name that is not UTF-8 keeps its bytes through JSON (`facts --format json` → `--facts`), and
    /// ordinary names serialise exactly as before.
    #[test]
    fn a_name_that_is_not_utf8_round_trips() {
        let facts = testkit::host("w")
            .link("x", Some("bridge"), &["10.9.9.1/24"])
            .bytes_name(b"n\xff")
            .nic("eth0", &["10.0.0.2/24"])
            .build();
        let json = serde_json::to_string(&facts).unwrap();
        assert!(
            json.contains(r#""name":"n\\xff","name_bytes":"6eff","#),
            "{json}"
        );
        assert_eq!(json.matches("name_bytes").count(), 1, "only where needed");
        let back = load::parse_facts(&json).unwrap();
        assert_eq!(back, facts);
        let bridge = back.interface("n\\xff").unwrap();
        assert_eq!(bridge.raw_name(), b"n\xff");
        assert_eq!(bridge.go_name(), "n\u{fffd}");
        assert_eq!(back.interface("eth0").unwrap().raw_name(), b"eth0");

        // A hand-edited snapshot whose two forms disagree names two interfaces: refused.
        let edited = json.replace(r#""name_bytes":"6eff""#, r#""name_bytes":"6efe""#);
        let e = load::parse_facts(&edited).unwrap_err().0;
        assert!(e.contains("does not match name_bytes"), "{e}");
        let e = load::parse_facts(&json.replace("6eff", "6")).unwrap_err().0;
        assert!(e.contains("name_bytes must be"), "{e}");
    }

    #[test]
    fn docker_bridge_names() {
        assert!(is_docker_bridge("docker0"));
        assert!(is_docker_bridge("br-3f2a1b4c5d6e"));
        assert!(is_docker_network_bridge("br-3f2a1b4c5d6e"));
        assert!(!is_docker_network_bridge("docker0"));
        assert!(!is_docker_bridge("br-3f2a1b4c5d6"));
        assert!(!is_docker_bridge("br-lan"));
        assert!(!is_docker_bridge("br0"));
        assert!(!is_docker_bridge("cni0"));
    }
}
