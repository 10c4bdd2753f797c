//! Addresses: which count as the node's own (global scope; Go's `IsGlobalUnicast`, the rule Calico and
//! kubelet apply), how they are written, and which interface holds one.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use crate::facts::{Address, Facts, Interface};

/// A global-scope address (not loopback, not link-local).
pub fn is_global(a: &Address) -> bool {
    a.scope == "global" && !a.address.is_loopback()
}

/// `10.20.41.41/24` for an address.
pub fn cidr_of(a: &Address) -> String {
    format!("{}/{}", a.address, a.prefix_len)
}

/// Whether two networks share any address.
pub fn overlaps(a: &IpNet, b: &IpNet) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// Whether `ip` lies in any of `nets`.
pub fn in_any(ip: &IpAddr, nets: &[IpNet]) -> bool {
    nets.iter().any(|n| n.contains(ip))
}

/// The interface that holds `ip`, in kernel order (the kernel's local table answers for it).
pub fn owner_of(facts: &Facts, ip: IpAddr) -> Option<&Interface> {
    facts
        .interfaces
        .iter()
        .find(|i| i.addresses.iter().any(|a| a.address == ip))
}

/// Go stores an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) as IPv4.
pub fn go_normalised(ip: IpAddr, prefix_len: u8) -> (IpAddr, u8) {
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

/// Parses an address as Go's `netutils.ParseIPSloppy` does: IPv4 octets may carry leading zeros
/// (read as decimal), IPv6 as usual.
pub fn parse_ip_sloppy(text: &str) -> Option<IpAddr> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ip);
    }
    let octets: Vec<&str> = text.split('.').collect();
    if octets.len() != 4 {
        return None;
    }
    let mut bytes = [0u8; 4];
    for (slot, octet) in bytes.iter_mut().zip(&octets) {
        if octet.is_empty() || octet.len() > 3 || !octet.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *slot = octet.parse().ok()?;
    }
    Some(IpAddr::V4(Ipv4Addr::from(bytes)))
}

/// Global addresses that are meant to stay (not IPv6 privacy addresses, which rotate by design).
pub fn stable_global_addresses(iface: &Interface) -> impl Iterator<Item = &Address> {
    iface.addresses.iter().filter(|a| is_stable_global(a))
}

fn is_stable_global(a: &Address) -> bool {
    a.scope == "global" && !a.flags.iter().any(|f| f == "temporary")
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
