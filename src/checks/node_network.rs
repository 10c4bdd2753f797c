//! Where the node network is on this host: its CIDRs (from the profile, or derived from the default
//! route when the profile names none), the interfaces carrying addresses in it, the NIC the profile
//! expects, and the one NIC the node checks judge. Shared by the node-NIC, bridge and IPv6 checks.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::facts::{Address, Facts, Family, Interface};
use crate::profile::validate::compile_anchored;
use crate::profile::{NicExpectation, Profile};

/// Where the node CIDRs came from.
#[derive(Debug, Clone, PartialEq)]
pub enum CidrSource {
    Profile,
    /// Derived from the addresses of the interface(s) carrying the default route.
    DefaultRoute(Vec<String>),
    /// The profile names none and there is no default route with a global address.
    Unknown,
}

/// The node network as seen on this host.
pub struct NodeNetwork<'a> {
    pub cidrs: Vec<IpNet>,
    pub source: CidrSource,
    /// Interfaces (in kernel order) holding a global address in `cidrs`, with those addresses.
    pub carriers: Vec<(&'a Interface, Vec<&'a Address>)>,
    /// The interface matching the profile's `node_network.nic` by name (or pattern when no name).
    pub expected: Option<&'a Interface>,
    /// The NIC the state/MTU/route checks judge: the expected one if present, else the first carrier.
    pub nic: Option<&'a Interface>,
}

impl NodeNetwork<'_> {
    pub fn cidrs_text(&self) -> String {
        join(self.cidrs.iter())
    }
}

/// Comma-joins displayable values.
pub fn join<T: std::fmt::Display>(items: impl Iterator<Item = T>) -> String {
    items.map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
}

/// Resolves the node network for this host and profile.
pub fn resolve<'a>(facts: &'a Facts, profile: &Profile) -> NodeNetwork<'a> {
    let (cidrs, source) = if profile.node_network.cidrs.is_empty() {
        let (cidrs, devices) = derived_from_default_route(facts);
        if cidrs.is_empty() {
            (cidrs, CidrSource::Unknown)
        } else {
            (cidrs, CidrSource::DefaultRoute(devices))
        }
    } else {
        (profile.node_network.cidrs.clone(), CidrSource::Profile)
    };
    let carriers: Vec<_> = facts
        .interfaces
        .iter()
        .filter_map(|i| {
            let inside: Vec<&Address> = i
                .addresses
                .iter()
                .filter(|a| is_global(a) && cidrs.iter().any(|c| c.contains(&a.address)))
                .collect();
            (!inside.is_empty()).then_some((i, inside))
        })
        .collect();
    let expected = profile
        .node_network
        .nic
        .as_ref()
        .and_then(|exp| find_expected(facts, exp));
    // Without the kernel's interface order (facts from Ansible), the first of several carriers is a guess.
    let first_carrier = match carriers.as_slice() {
        [(only, _)] => Some(*only),
        [(first, _), ..] if facts.interface_order_known() => Some(*first),
        _ => None,
    };
    let nic = expected.or(first_carrier);
    NodeNetwork {
        cidrs,
        source,
        carriers,
        expected,
        nic,
    }
}

/// A global-scope address (not loopback, not link-local).
pub fn is_global(a: &Address) -> bool {
    a.scope == "global" && !a.address.is_loopback()
}

/// Devices of the default routes of one family, in route order; multipath next hops included.
pub fn default_route_devices(facts: &Facts, family: Family) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for r in facts
        .routes
        .iter()
        .filter(|r| r.family == family && r.is_default() && r.route_type == "unicast")
    {
        let devices = r
            .device
            .iter()
            .map(String::as_str)
            .chain(r.nexthops.iter().filter_map(|h| h.device.as_deref()));
        for d in devices {
            if !out.contains(&d) {
                out.push(d);
            }
        }
    }
    out
}

/// The subnets of the default-route interfaces' global addresses (IPv4 first, then IPv6).
pub fn derived_from_default_route(facts: &Facts) -> (Vec<IpNet>, Vec<String>) {
    let mut cidrs = Vec::new();
    let mut devices = Vec::new();
    for family in [Family::Ipv4, Family::Ipv6] {
        for dev in default_route_devices(facts, family) {
            let Some(iface) = facts.interface(dev) else {
                continue;
            };
            for a in iface
                .addresses
                .iter()
                .filter(|a| a.family == family && is_global(a))
            {
                if let Some(net) = a.network() {
                    if !cidrs.contains(&net) {
                        cidrs.push(net);
                    }
                    if !devices.iter().any(|d| d == dev) {
                        devices.push(dev.to_string());
                    }
                }
            }
        }
    }
    (cidrs, devices)
}

/// Whether the interface has the expected name (or one of the accepted alternatives).
pub fn has_expected_name(iface: &Interface, exp: &NicExpectation) -> bool {
    exp.name.as_deref() == Some(iface.name.as_str()) || exp.alternatives.contains(&iface.name)
}

/// The PCI address of a device path (`pci0000:00/0000:00:15.0/0000:0b:00.0` gives `0000:0b:00.0`).
pub fn pci_address(iface: &Interface) -> Option<&str> {
    let path = iface.physical.as_ref()?.device_path.as_deref()?;
    path.split('/').rev().find(|c| looks_like_pci_address(c))
}

fn looks_like_pci_address(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 12 && b[4] == b':' && b[7] == b':' && b[10] == b'.'
}

/// Which of the expectation's MAC/PCI patterns the interface fails, as messages; empty when it passes.
pub fn pattern_mismatches(iface: &Interface, exp: &NicExpectation) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(p) = &exp.mac_pattern {
        let matches = compile_anchored(p).is_ok_and(|re| {
            [&iface.mac, &iface.permanent_mac]
                .into_iter()
                .flatten()
                .any(|m| re.is_match(&m.to_ascii_lowercase()))
        });
        if !matches {
            out.push(format!(
                "MAC {} does not match mac_pattern `{p}`",
                iface.mac.as_deref().unwrap_or("(none)")
            ));
        }
    }
    if let Some(p) = &exp.pci_pattern {
        let device_path = iface
            .physical
            .as_ref()
            .and_then(|d| d.device_path.as_deref());
        let matches = compile_anchored(p).is_ok_and(|re| {
            pci_address(iface).is_some_and(|a| re.is_match(a))
                || device_path.is_some_and(|d| re.is_match(d))
        });
        if !matches {
            out.push(format!(
                "PCI device {} does not match pci_pattern `{p}`",
                pci_address(iface).or(device_path).unwrap_or("(none)")
            ));
        }
    }
    out
}

/// The interface an expectation names: by name or alternative, else (no name given) by pattern.
pub fn find_expected<'a>(facts: &'a Facts, exp: &NicExpectation) -> Option<&'a Interface> {
    if exp.name.is_some() || !exp.alternatives.is_empty() {
        // The primary name first, then alternatives in the order the profile lists them.
        let names = exp.name.iter().chain(exp.alternatives.iter());
        for n in names {
            if let Some(i) = facts.interface(n) {
                return Some(i);
            }
        }
        return None;
    }
    if exp.mac_pattern.is_none() && exp.pci_pattern.is_none() {
        return None;
    }
    facts
        .interfaces
        .iter()
        .find(|i| i.physical.is_some() && pattern_mismatches(i, exp).is_empty())
}

/// `name (MAC m, driver d, PCI p)` for messages.
pub fn describe_nic(iface: &Interface) -> String {
    let mut parts = Vec::new();
    if let Some(mac) = &iface.mac {
        parts.push(format!("MAC {mac}"));
    }
    if let Some(dev) = &iface.physical {
        if let Some(d) = &dev.driver {
            parts.push(format!("driver {d}"));
        }
        match (pci_address(iface), &dev.device_path) {
            (Some(p), _) => parts.push(format!("PCI {p}")),
            (None, Some(path)) => parts.push(format!("device {path}")),
            _ => {}
        }
    } else if let Some(kind) = &iface.kind {
        parts.push(format!("{kind} device"));
    }
    if parts.is_empty() {
        iface.name.clone()
    } else {
        format!("{} ({})", iface.name, parts.join(", "))
    }
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
