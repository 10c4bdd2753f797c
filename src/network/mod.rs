//! The node's network, defined once over a facts snapshot: the node subnets and the NIC that carries
//! them (here), which addresses count and which interface owns one (`addresses`), the default routes,
//! multipath included, and the kernel's source-address choice (`routes`), the NIC's hardware (`nic`),
//! and how IPv6 stands on the host (`ipv6`).
//!
//! Checks, peer parity, the Calico model and `profile init` all ask these questions; they ask them
//! here, so they cannot disagree. Pure functions of [`crate::facts::Facts`] and plain values.

pub mod addresses;
pub mod ipv6;
pub mod nic;
pub mod owners;
pub mod routes;

use ipnet::IpNet;

use crate::facts::{Address, Facts, Family, Interface};
use addresses::is_global;

/// Where the node subnets came from.
#[derive(Debug, Clone, PartialEq)]
pub enum SubnetSource {
    /// The profile's `node_network.cidrs`.
    Profile,
    /// The default route, through these devices (see [`routes::default_route_subnets`]).
    DefaultRoute(Vec<String>),
    /// The profile names none and no default route leads to a global address.
    Unknown,
}

/// The node subnets (IPv4 first, then IPv6) and where they came from.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeSubnets {
    pub cidrs: Vec<IpNet>,
    pub source: SubnetSource,
}

/// The node subnets: the profile's `node_network.cidrs` when it names some, else the subnets the
/// default route of each family shows.
pub fn node_subnets(facts: &Facts, profile_cidrs: &[IpNet]) -> NodeSubnets {
    if !profile_cidrs.is_empty() {
        return NodeSubnets {
            cidrs: profile_cidrs.to_vec(),
            source: SubnetSource::Profile,
        };
    }
    let mut cidrs = Vec::new();
    let mut devices: Vec<String> = Vec::new();
    for family in [Family::Ipv4, Family::Ipv6] {
        let (subnets, through) = routes::default_route_subnets(facts, family);
        cidrs.extend(subnets);
        for d in through {
            if !devices.iter().any(|known| known == d) {
                devices.push(d.to_string());
            }
        }
    }
    let source = if cidrs.is_empty() {
        SubnetSource::Unknown
    } else {
        SubnetSource::DefaultRoute(devices)
    };
    NodeSubnets { cidrs, source }
}

/// The node subnets of one family: the profile's of that family when it names some, else the
/// default route's.
pub fn node_subnets_of(facts: &Facts, profile_cidrs: &[IpNet], family: Family) -> Vec<IpNet> {
    let from_profile: Vec<IpNet> = profile_cidrs
        .iter()
        .copied()
        .filter(|c| Family::of(&c.addr()) == family)
        .collect();
    if !from_profile.is_empty() {
        return from_profile;
    }
    routes::default_route_subnets(facts, family).0
}

/// Interfaces (in kernel order) holding a global address inside `cidrs`, with those addresses.
pub fn carriers<'f>(facts: &'f Facts, cidrs: &[IpNet]) -> Vec<(&'f Interface, Vec<&'f Address>)> {
    facts
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
        .collect()
}

/// The node NIC by the network alone: the first interface in kernel order holding a global address
/// in the node subnets. When the facts do not keep the kernel's interface order (Ansible's), "first"
/// means nothing: only a single carrier is one. (The node checks prefer the NIC the profile names.)
pub fn node_nic<'f>(facts: &'f Facts, subnets: &NodeSubnets) -> Option<&'f Interface> {
    let carriers = carriers(facts, &subnets.cidrs);
    if carriers.len() > 1 && !facts.interface_order_known() {
        return None;
    }
    carriers.first().map(|(i, _)| *i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::testkit::host;

    fn nets(texts: &[&str]) -> Vec<IpNet> {
        texts.iter().map(|t| t.parse().unwrap()).collect()
    }

    /// Two default routes: the kernel uses the lower metric, whatever the dump order, and so does
    /// every reader of the node network.
    #[test]
    fn of_several_default_routes_the_preferred_one_decides() {
        let facts = host("worker-1")
            .nic("eth1", &["192.168.9.5/24"])
            .nic("eth0", &["10.0.0.5/24"])
            .route("default", Some("192.168.9.1"), "eth1", Some(200), None)
            .route("default", Some("10.0.0.1"), "eth0", Some(100), None)
            .build();
        let subnets = node_subnets(&facts, &[]);
        assert_eq!(subnets.cidrs, nets(&["10.0.0.0/24"]));
        assert_eq!(
            subnets.source,
            SubnetSource::DefaultRoute(vec!["eth0".into()])
        );
        assert_eq!(
            node_nic(&facts, &subnets).map(|i| i.name.as_str()),
            Some("eth0")
        );
        assert_eq!(
            node_subnets_of(&facts, &[], Family::Ipv4),
            nets(&["10.0.0.0/24"])
        );
        assert_eq!(
            routes::default_route_devices(&facts, Family::Ipv4),
            ["eth0"]
        );
    }

    #[test]
    fn a_multipath_default_route_spans_every_next_hop() {
        let facts = host("worker-1")
            .nic("eth0", &["10.0.0.5/24"])
            .nic("eth1", &["10.0.1.5/24"])
            .multipath_default(&[("10.0.0.1", "eth0"), ("10.0.1.1", "eth1")], None)
            .build();
        let subnets = node_subnets(&facts, &[]);
        assert_eq!(subnets.cidrs, nets(&["10.0.0.0/24", "10.0.1.0/24"]));
        assert_eq!(
            subnets.source,
            SubnetSource::DefaultRoute(vec!["eth0".into(), "eth1".into()])
        );
        assert_eq!(
            routes::default_route_devices(&facts, Family::Ipv4),
            ["eth0", "eth1"]
        );
        assert_eq!(
            node_nic(&facts, &subnets).map(|i| i.name.as_str()),
            Some("eth0")
        );
    }

    #[test]
    fn the_subnet_holding_the_gateway_wins_over_secondary_addresses() {
        let facts = host("worker-1")
            .nic("eth0", &["172.31.0.5/16", "10.0.0.5/24", "fd00:1::5/64"])
            .route("default", Some("10.0.0.1"), "eth0", None, None)
            .route("default", Some("fd00:1::1"), "eth0", None, None)
            .build();
        assert_eq!(
            node_subnets(&facts, &[]).cidrs,
            nets(&["10.0.0.0/24", "fd00:1::/64"])
        );
        // Without a gateway (a device route), every global subnet of the device counts.
        let facts = host("worker-1")
            .nic("ppp0", &["172.31.0.5/16", "10.0.0.5/24"])
            .route("default", None, "ppp0", None, None)
            .build();
        assert_eq!(
            node_subnets(&facts, &[]).cidrs,
            nets(&["172.31.0.0/16", "10.0.0.0/24"])
        );
    }

    #[test]
    fn the_profile_names_the_subnets_when_it_has_them() {
        let facts = host("worker-1")
            .nic("eth0", &["10.0.0.5/24"])
            .nic("eth3", &["10.20.41.5/24"])
            .route("default", Some("10.0.0.1"), "eth0", None, None)
            .build();
        let profile = nets(&["10.20.41.0/24"]);
        let subnets = node_subnets(&facts, &profile);
        assert_eq!(subnets.source, SubnetSource::Profile);
        assert_eq!(
            node_nic(&facts, &subnets).map(|i| i.name.as_str()),
            Some("eth3")
        );
        // Per family: a family the profile does not name falls back to the default route.
        assert_eq!(node_subnets_of(&facts, &profile, Family::Ipv6), nets(&[]));
        assert_eq!(
            node_subnets_of(&facts, &nets(&["fd00::/64"]), Family::Ipv4),
            nets(&["10.0.0.0/24"])
        );
    }

    #[test]
    fn no_default_route_leaves_the_subnets_unknown() {
        let facts = host("worker-1").nic("eth0", &["10.0.0.5/24"]).build();
        let subnets = node_subnets(&facts, &[]);
        assert_eq!(subnets.source, SubnetSource::Unknown);
        assert!(node_nic(&facts, &subnets).is_none());
    }

    #[test]
    fn the_interface_that_owns_an_address() {
        let facts = host("worker-1")
            .nic("eth0", &["10.0.0.5/24"])
            .link("docker0", Some("bridge"), &["172.17.0.1/16"])
            .build();
        let owner =
            |ip: &str| addresses::owner_of(&facts, ip.parse().unwrap()).map(|i| i.name.clone());
        assert_eq!(owner("172.17.0.1").as_deref(), Some("docker0"));
        assert_eq!(owner("10.0.0.5").as_deref(), Some("eth0"));
        assert_eq!(owner("10.0.0.6"), None);
    }
}
