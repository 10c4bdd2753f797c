//! calico-node's view of the host's interfaces: the link dump walked backwards, each interface's
//! addresses of one family in dump order, with the prefix length calico-node reports, and Go's
//! `IsGlobalUnicast` eligibility. Interface flags (up, operstate) are deliberately ignored: Calico
//! never looks at them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::Serialize;

use super::version::CalicoVersion;
use crate::facts::{Facts, Family, Interface};

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

/// Go stores an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) as IPv4.
fn go_normalised(ip: IpAddr, prefix_len: u8) -> (IpAddr, u8) {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => (IpAddr::V4(v4), prefix_len.saturating_sub(96)),
            None => (ip, prefix_len),
        },
        IpAddr::V4(_) => (ip, prefix_len),
    }
}

/// Go's `net.IP.IsGlobalUnicast`: everything except unspecified, loopback, link-local, multicast and the
/// IPv4 broadcast address. RFC 1918, CGNAT (100.64/10), ULA (fc00::/7) and /32 VIPs are all eligible.
pub fn is_global_unicast(ip: &IpAddr) -> bool {
    match go_normalised(*ip, 0).0 {
        IpAddr::V4(v4) => {
            let link_local = v4.octets()[0] == 169 && v4.octets()[1] == 254;
            !(v4 == Ipv4Addr::BROADCAST
                || v4.is_unspecified()
                || v4.is_loopback()
                || v4.is_multicast()
                || link_local)
        }
        IpAddr::V6(v6) => {
            !v6.is_unspecified()
                && v6 != Ipv6Addr::LOCALHOST
                && !v6.is_multicast()
                && (v6.segments()[0] & 0xffc0) != 0xfe80
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_unicast_like_go() {
        let cases = [
            ("10.0.0.5", true),
            ("172.18.0.1", true),
            ("100.64.1.2", true),
            ("192.0.2.1", true),
            ("0.1.2.3", true),
            ("240.0.0.1", true),
            ("0.0.0.0", false),
            ("127.0.1.1", false),
            ("169.254.3.4", false),
            ("224.0.0.1", false),
            ("255.255.255.255", false),
            ("fd00::5", true),
            ("2001:db8::1", true),
            ("::", false),
            ("::1", false),
            ("fe80::1", false),
            ("febf::1", false),
            ("fec0::1", true),
            ("ff02::1", false),
            ("::ffff:127.0.0.1", false),
            ("::ffff:10.0.0.1", true),
        ];
        for (ip, expected) in cases {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(is_global_unicast(&ip), expected, "{ip}");
        }
    }
}
