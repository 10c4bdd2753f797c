//! Whether a node's components agree on its address, and whether two nodes picked the same one.
//!
//! Per node and family, each component's node address ([`Pick::node_address`]: the InternalIP for
//! kubelet/k3s/RKE2, flannel's public address, Calico's autodetected address) is compared; more
//! than one distinct address is a disagreement. Across the fleet, one component picking the same
//! address on several nodes (a Vagrant NAT `10.0.2.15` on every node) is a shared address.

use std::collections::HashMap;
use std::net::IpAddr;

use serde::Serialize;

use super::{Component, Pick};
use crate::facts::Family;

/// One component's address in a disagreement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Vote {
    pub component: Component,
    pub address: IpAddr,
    pub interface: Option<String>,
}

impl Vote {
    /// `flannel 10.0.2.15 (eth0)`: the component, its address and the interface, exact bytes (the
    /// renderers escape).
    pub fn describe(&self) -> String {
        match &self.interface {
            Some(i) => format!("{} {} ({i})", self.component.as_str(), self.address),
            None => format!("{} {}", self.component.as_str(), self.address),
        }
    }
}

/// The components of one node do not agree on its address of `family`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Disagreement {
    pub family: Family,
    pub votes: Vec<Vote>,
}

/// The same address picked by one component on several nodes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SharedAddress {
    pub component: Component,
    pub address: IpAddr,
    pub nodes: Vec<String>,
}

/// The disagreements among one node's picks (fatal picks have no address and take no part).
pub fn disagreements(picks: &[Pick]) -> Vec<Disagreement> {
    let mut out = Vec::new();
    for family in [Family::Ipv4, Family::Ipv6] {
        let votes: Vec<Vote> = picks
            .iter()
            .filter_map(|p| {
                p.node_address(family).map(|address| Vote {
                    component: p.component,
                    address,
                    interface: p.interface.clone(),
                })
            })
            .collect();
        let first = votes.first().map(|v| v.address);
        if votes.iter().any(|v| Some(v.address) != first) {
            out.push(Disagreement { family, votes });
        }
    }
    out
}

/// Counts, node by node, which addresses each component picked, keeping names only for addresses
/// picked more than once: ten thousand peers cost a map of small numbers, not their names.
#[derive(Debug, Default)]
pub struct SharedTally {
    /// (component, address) → the first node that picked it and any later ones.
    seen: HashMap<(Component, IpAddr), Pickers>,
}

/// The first node that picked an address, and any later ones.
type Pickers = (u32, Vec<u32>);

impl SharedTally {
    /// Adds node number `node`'s picks.
    pub fn add(&mut self, node: u32, picks: &[Pick]) {
        for pick in picks {
            for family in [Family::Ipv4, Family::Ipv6] {
                if let Some(address) = pick.node_address(family) {
                    let entry = self
                        .seen
                        .entry((pick.component, address))
                        .or_insert((node, Vec::new()));
                    if entry.0 != node && entry.1.last() != Some(&node) {
                        entry.1.push(node);
                    }
                }
            }
        }
    }

    /// The addresses picked on more than one node, in the order of their first node, named by `name`.
    pub fn finish(self, name: impl Fn(u32) -> String) -> Vec<SharedAddress> {
        let mut shared: Vec<((Component, IpAddr), Pickers)> = self
            .seen
            .into_iter()
            .filter(|(_, (_, more))| !more.is_empty())
            .collect();
        shared.sort_by_key(|((component, address), (first, _))| (*first, *component, *address));
        shared
            .into_iter()
            .map(|((component, address), (first, more))| SharedAddress {
                component,
                address,
                nodes: std::iter::once(first).chain(more).map(&name).collect(),
            })
            .collect()
    }
}

/// Addresses one component picked on more than one node. `nodes`: each node's name and picks.
pub fn shared_addresses<'a>(
    nodes: impl IntoIterator<Item = (&'a str, &'a [Pick])>,
) -> Vec<SharedAddress> {
    let mut tally = SharedTally::default();
    let mut names = Vec::new();
    for (i, (name, picks)) in nodes.into_iter().enumerate() {
        tally.add(i as u32, picks);
        names.push(name);
    }
    tally.finish(|i| names[i as usize].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(component: Component, v4: &str) -> Pick {
        let mut p = Pick::new(component, None);
        let ip: IpAddr = v4.parse().unwrap();
        if component.registers_internal_ip() {
            p.node_ips = vec![ip];
        } else {
            p.address = Some(ip);
        }
        p
    }

    #[test]
    fn components_that_agree_make_no_disagreement() {
        let picks = [
            pick(Component::Kubelet, "10.0.0.5"),
            pick(Component::Flannel, "10.0.0.5"),
        ];
        assert!(disagreements(&picks).is_empty());
    }

    /// k3s#12056: kubelet registers the --node-ip, flannel takes the default-route NIC.
    #[test]
    fn flannel_on_another_nic_than_the_node_ip_disagrees() {
        let picks = [
            pick(Component::K3s, "192.168.56.11"),
            pick(Component::Flannel, "10.0.2.15"),
        ];
        let d = disagreements(&picks);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].family, Family::Ipv4);
        assert_eq!(d[0].votes.len(), 2);
        // The public-ip-overwrite is what peers use: it counts, not the interface address.
        let mut flannel = pick(Component::Flannel, "10.0.2.15");
        flannel.public_address = Some("192.168.56.11".parse().unwrap());
        assert!(disagreements(&[pick(Component::K3s, "192.168.56.11"), flannel]).is_empty());
        // A fatal pick takes no part.
        let dead = pick(Component::Flannel, "10.0.2.15").fatal("default-route", "x".into());
        assert!(disagreements(&[pick(Component::K3s, "192.168.56.11"), dead]).is_empty());
    }

    /// k3s#1365: every Vagrant node's NAT eth0 is 10.0.2.15.
    #[test]
    fn the_same_address_on_several_nodes_is_shared() {
        let a = [
            pick(Component::Flannel, "10.0.2.15"),
            pick(Component::K3s, "192.168.56.11"),
        ];
        let b = [
            pick(Component::Flannel, "10.0.2.15"),
            pick(Component::K3s, "192.168.56.12"),
        ];
        let shared = shared_addresses([("node-a", &a[..]), ("node-b", &b[..])]);
        assert_eq!(shared.len(), 1);
        assert_eq!(shared[0].component, Component::Flannel);
        assert_eq!(shared[0].nodes, ["node-a", "node-b"]);
    }
}
