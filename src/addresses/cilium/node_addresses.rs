//! The addresses Cilium serves NodePort on and masquerades to, per selected device
//! (`tables.NodeAddress`): the device's addresses sorted primary before secondary
//! (`IFA_F_SECONDARY`, which IPv6 reports for temporary addresses) and then by scope, link- and
//! host-scope and loopback addresses dropped, the first of each family taken. BPF masquerading
//! uses the same primary address of the device the packet leaves by.

use std::net::IpAddr;

use crate::facts::{Address, Interface};

/// An address scope as a number (`global` 0, `site` 200, `link` 253, `host` 254, `nowhere` 255).
fn scope_number(a: &Address) -> u8 {
    match a.scope.as_str() {
        "global" | "universe" => 0,
        "site" => 200,
        "link" => 253,
        "host" => 254,
        "nowhere" => 255,
        other => other.parse().unwrap_or(0),
    }
}

fn secondary(a: &Address) -> bool {
    a.flags
        .iter()
        .any(|f| f.as_str() == "secondary" || f.as_str() == "temporary")
}

/// The NodePort (and masquerade) addresses of `iface`, IPv4 first.
pub fn node_port_addresses(iface: &Interface) -> Vec<IpAddr> {
    let mut sorted: Vec<&Address> = iface.addresses.iter().collect();
    // A stable sort: primary before secondary, then the lower scope.
    sorted.sort_by_key(|a| (secondary(a), scope_number(a)));
    let usable = || {
        sorted
            .iter()
            .filter(|a| scope_number(a) < 253 && !a.address.is_loopback())
            .map(|a| a.address)
    };
    let v4 = usable().find(IpAddr::is_ipv4);
    let v6 = usable().find(IpAddr::is_ipv6);
    v4.into_iter().chain(v6).collect()
}
