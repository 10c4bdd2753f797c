//! The addresses flanneld takes from an interface, in its order (`GetInterfaceIP4Addrs` and
//! `GetInterfaceIP6Addrs` of flannel's `pkg/ip`), per release:
//!
//! - before v0.28.0: global unicast addresses in the kernel's dump order, then link-local ones;
//!   deprecated addresses count and flags are ignored;
//! - from v0.28.0: deprecated addresses are dropped, and the rest sorted with `slices.SortFunc`:
//!   global before link-local, permanent before not, non-temporary before temporary, otherwise
//!   equal. Go sorts up to 12 elements by insertion (stable); beyond that its pattern-defeating
//!   quicksort is not stable, so the order among equal-ranked addresses is then reported as
//!   uncertain rather than guessed.

use std::net::IpAddr;

use crate::addresses::{go_is_global_unicast, go_is_link_local_unicast};
use crate::facts::{Family, Interface};
use crate::profile::cni::FlannelVersion;

/// The release that introduced the flag-aware filter and sort (flannel#2295).
pub const SORTED_FROM: FlannelVersion = FlannelVersion::new(0, 28, 0);

/// Longest slice Go's sort orders by insertion (stable).
const GO_INSERTION_SORT_MAX: usize = 12;

/// An interface's addresses of one family in flanneld's order, and whether that order is uncertain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Eligible {
    pub addresses: Vec<IpAddr>,
    /// Set when Go's unstable sort decides the order among addresses of equal rank.
    pub uncertain: Option<String>,
}

fn has_flag(flags: &[crate::facts::Label], name: &str) -> bool {
    flags.iter().any(|f| f.as_str() == name)
}

/// The rank `compareAddrs` gives: lower first.
fn rank(ip: &IpAddr, flags: &[crate::facts::Label]) -> (u8, u8, u8) {
    (
        u8::from(!go_is_global_unicast(ip)),
        u8::from(!has_flag(flags, "permanent")),
        u8::from(has_flag(flags, "temporary")),
    )
}

/// The addresses of `family` on `interface`, in the order flanneld `version` uses.
pub fn eligible(interface: &Interface, family: Family, version: FlannelVersion) -> Eligible {
    let of_family = interface.addresses.iter().filter(|a| a.family == family);
    if version < SORTED_FROM {
        let mut global = Vec::new();
        let mut link_local = Vec::new();
        for a in of_family {
            if go_is_global_unicast(&a.address) {
                global.push(a.address);
            } else if go_is_link_local_unicast(&a.address) {
                link_local.push(a.address);
            }
        }
        global.extend(link_local);
        return Eligible {
            addresses: global,
            uncertain: None,
        };
    }
    let mut kept: Vec<(IpAddr, (u8, u8, u8))> = of_family
        .filter(|a| {
            (go_is_global_unicast(&a.address) || go_is_link_local_unicast(&a.address))
                && !has_flag(&a.flags, "deprecated")
        })
        .map(|a| (a.address, rank(&a.address, &a.flags)))
        .collect();
    // A stable sort is Go's answer up to 12 elements; beyond, only where no two ranks tie.
    kept.sort_by_key(|(_, r)| *r);
    let uncertain = (kept.len() > GO_INSERTION_SORT_MAX
        && kept.windows(2).any(|w| w[0].1 == w[1].1))
    .then(|| {
        format!(
            "{} has {} IPv{} addresses: beyond {GO_INSERTION_SORT_MAX}, Go's sort is not stable, so flanneld's order among addresses of equal rank (global/link-local, permanent, temporary) is not predictable; the kernel's order is shown",
            interface.name,
            kept.len(),
            family.number()
        )
    });
    Eligible {
        addresses: kept.into_iter().map(|(ip, _)| ip).collect(),
        uncertain,
    }
}

/// The addresses as flanneld's error messages list them: Go's `%v` of a `[]net.IP`.
pub fn go_list(addresses: &[IpAddr]) -> String {
    let shown: Vec<String> = addresses.iter().map(|a| a.to_string()).collect();
    format!("[{}]", shown.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::testkit::host;
    use crate::facts::Label;

    const V027: FlannelVersion = FlannelVersion::new(0, 27, 4);
    const V028: FlannelVersion = FlannelVersion::new(0, 28, 0);

    fn ips(list: &[&str]) -> Vec<IpAddr> {
        list.iter().map(|t| t.parse().unwrap()).collect()
    }

    /// A DHCP lease (dynamic) first in the dump, a keepalived VIP (permanent) second: v0.27 takes
    /// the lease, v0.28 the VIP (flannel#2295's own warning).
    #[test]
    fn a_permanent_vip_overtakes_a_dhcp_lease_from_v0_28() {
        let mut facts = host("w")
            .nic("eth0", &["10.0.0.5/24", "10.0.0.100/32"])
            .build();
        let eth0 = &mut facts.interfaces[1];
        eth0.addresses[0].flags = vec![Label::new("dynamic")];
        eth0.addresses[1].flags = vec![Label::new("permanent")];
        let eth0 = &facts.interfaces[1];
        assert_eq!(
            eligible(eth0, Family::Ipv4, V027).addresses,
            ips(&["10.0.0.5", "10.0.0.100"])
        );
        assert_eq!(
            eligible(eth0, Family::Ipv4, V028).addresses,
            ips(&["10.0.0.100", "10.0.0.5"])
        );
    }

    #[test]
    fn link_local_comes_last_and_loopback_never() {
        let facts = host("w")
            .nic("eth0", &["169.254.7.7/16", "127.0.0.9/8", "192.168.1.4/24"])
            .build();
        for v in [V027, V028] {
            assert_eq!(
                eligible(&facts.interfaces[1], Family::Ipv4, v).addresses,
                ips(&["192.168.1.4", "169.254.7.7"])
            );
        }
    }

    /// Deprecated and temporary IPv6 addresses (privacy extensions, flannel#2081).
    #[test]
    fn deprecated_goes_and_temporary_sorts_last_from_v0_28() {
        let mut facts = host("w")
            .nic(
                "eth0",
                &[
                    "2001:db8::aaaa/64",
                    "2001:db8::bbbb/64",
                    "2001:db8::10/64",
                    "fe80::1/64",
                ],
            )
            .build();
        let a = &mut facts.interfaces[1].addresses;
        a[0].flags = vec![Label::new("temporary"), Label::new("deprecated")];
        a[1].flags = vec![Label::new("temporary")];
        a[2].flags = vec![Label::new("permanent")];
        a[3].flags = vec![Label::new("permanent")];
        let eth0 = &facts.interfaces[1];
        assert_eq!(
            eligible(eth0, Family::Ipv6, V027).addresses,
            ips(&[
                "2001:db8::aaaa",
                "2001:db8::bbbb",
                "2001:db8::10",
                "fe80::1"
            ])
        );
        assert_eq!(
            eligible(eth0, Family::Ipv6, V028).addresses,
            ips(&["2001:db8::10", "2001:db8::bbbb", "fe80::1"])
        );
    }

    /// Thirteen addresses of equal rank: Go's sort is no longer stable, and the answer says so; twelve
    /// are sorted by insertion and certain.
    #[test]
    fn more_than_twelve_equal_addresses_are_uncertain() {
        let texts: Vec<String> = (1..=13).map(|i| format!("10.0.0.{i}/24")).collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let facts = host("w").nic("eth0", &refs).build();
        let e = eligible(&facts.interfaces[1], Family::Ipv4, V028);
        assert_eq!(e.addresses.len(), 13);
        assert!(e.uncertain.unwrap().contains("13 IPv4 addresses"));
        let facts = host("w").nic("eth0", &refs[..12]).build();
        assert!(eligible(&facts.interfaces[1], Family::Ipv4, V028)
            .uncertain
            .is_none());
        // Before v0.28 nothing is sorted.
        let facts = host("w").nic("eth0", &refs).build();
        assert!(eligible(&facts.interfaces[1], Family::Ipv4, V027)
            .uncertain
            .is_none());
    }
}
