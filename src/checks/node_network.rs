//! The node network as the node checks judge it: the node subnets and their carriers (defined in
//! `network`), the NIC the profile expects, and the one NIC the checks judge. Shared by the node-NIC,
//! bridge, IPv6, Calico-health and drift checks.

use ipnet::IpNet;

use crate::facts::{Address, Facts, Interface};
use crate::network::nic::pci_address;
use crate::network::{self, NodeSubnets, SubnetSource};
use crate::profile::{NicExpectation, Profile};

/// The node network as seen on this host.
pub struct NodeNetwork<'a> {
    pub cidrs: Vec<IpNet>,
    pub source: SubnetSource,
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
    let NodeSubnets { cidrs, source } = network::node_subnets(facts, &profile.node_network.cidrs);
    let carriers = network::carriers(facts, &cidrs);
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

/// Whether the interface has the expected name (or one of the accepted alternatives).
pub fn has_expected_name(iface: &Interface, exp: &NicExpectation) -> bool {
    exp.name.as_deref() == Some(iface.name.as_str())
        || exp.alternatives.iter().any(|a| *a == iface.name)
}

/// Which of the expectation's MAC/PCI patterns the interface fails, as messages; empty when it passes.
pub fn pattern_mismatches(iface: &Interface, exp: &NicExpectation) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(p) = &exp.mac_pattern {
        let matches = [&iface.mac, &iface.permanent_mac]
            .into_iter()
            .flatten()
            .any(|m| p.is_match(&m.to_ascii_lowercase()));
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
        let matches = pci_address(iface).is_some_and(|a| p.is_match(a))
            || device_path.is_some_and(|d| p.is_match(d));
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
        iface.name.to_string()
    } else {
        format!("{} ({})", iface.name, parts.join(", "))
    }
}
