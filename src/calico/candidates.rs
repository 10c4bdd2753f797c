//! calico-node's view of the host's interfaces: the link dump walked backwards, each interface's
//! addresses of one family in dump order, with the prefix length calico-node reports, and Go's
//! `IsGlobalUnicast` eligibility. Interface flags (up, operstate) are deliberately ignored: Calico
//! never looks at them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::Serialize;

use crate::facts::{Facts, Family, Interface};
use crate::network::addresses::go_normalised;
use crate::profile::calico_version::CalicoVersion;

/// One address as calico-node sees it: the host IP plus the prefix length it reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CalicoAddress {
    pub ip: IpAddr,
    pub prefix_len: u8,
}

impl std::fmt::Display for CalicoAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.ip, self.prefix_len)
    }
}

impl CalicoAddress {
    pub fn network(&self) -> ipnet::IpNet {
        ipnet::IpNet::new(self.ip, self.prefix_len)
            .map(|n| n.trunc())
            .unwrap_or_else(|_| ipnet::IpNet::from(self.ip))
    }
}

/// One interface in calico-node's enumeration order, with its addresses of the requested family.
#[derive(Debug, Clone)]
pub struct CalicoInterface<'a> {
    pub interface: &'a Interface,
    pub addresses: Vec<CalicoAddress>,
}

/// The release from which addresses come from one netlink address dump (vishvananda/netlink), where a
/// point-to-point address (`ip addr add A peer P/24`) is reported as `A/32` (`A/128`) instead of `A/24`.
pub const HOST_MASK_FOR_PEER_SINCE: CalicoVersion = CalicoVersion::new(3, 32, 0);

/// The interfaces in the order calico-node walks them: the kernel's link dump, reversed.
pub fn calico_interfaces<'a>(
    facts: &'a Facts,
    family: Family,
    version: &CalicoVersion,
) -> Vec<CalicoInterface<'a>> {
    facts
        .interfaces
        .iter()
        .rev()
        .map(|interface| CalicoInterface {
            interface,
            addresses: calico_addresses(interface, family, version),
        })
        .collect()
}

/// An interface's addresses of one family, as Go's `ip.Version()` classifies them (an IPv4-mapped IPv6
/// address counts as IPv4), in dump order.
pub fn calico_addresses(
    interface: &Interface,
    family: Family,
    version: &CalicoVersion,
) -> Vec<CalicoAddress> {
    let host_mask_for_peer = version.triple() >= HOST_MASK_FOR_PEER_SINCE.triple();
    interface
        .addresses
        .iter()
        .filter_map(|a| {
            let (ip, mut prefix_len) = go_normalised(a.address, a.prefix_len);
            if Family::of(&ip) != family {
                return None;
            }
            if host_mask_for_peer && a.peer.is_some_and(|p| p != a.address) {
                prefix_len = if ip.is_ipv4() { 32 } else { 128 };
            }
            Some(CalicoAddress { ip, prefix_len })
        })
        .collect()
}

/// Why an address is not eligible, in words (for the trace).
pub fn ineligibility(ip: &IpAddr) -> &'static str {
    match go_normalised(*ip, 0).0 {
        IpAddr::V4(v4) if v4.is_loopback() => "loopback",
        IpAddr::V4(v4) if v4.is_multicast() => "multicast",
        IpAddr::V4(v4) if v4.is_unspecified() => "unspecified",
        IpAddr::V4(v4) if v4 == Ipv4Addr::BROADCAST => "broadcast",
        IpAddr::V4(_) => "link-local",
        IpAddr::V6(v6) if v6 == Ipv6Addr::LOCALHOST => "loopback",
        IpAddr::V6(v6) if v6.is_multicast() => "multicast",
        IpAddr::V6(v6) if v6.is_unspecified() => "unspecified",
        IpAddr::V6(_) => "link-local",
    }
}
