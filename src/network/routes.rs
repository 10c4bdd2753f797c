//! Route arithmetic over a facts snapshot: the default routes (multipath next hops included), the kernel's
//! source-address choice for a destination (what Calico's `can-reach=` sees when judged from a snapshot),
//! the default-route interface's subnets (the node network when the profile names none), and kubelet's
//! default node IP.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::Serialize;

use super::addresses::{is_global, is_global_unicast, owner_of};
use crate::facts::{Address, Facts, Family, Route};

/// The source address the kernel would use towards a destination, and how that was worked out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceChoice {
    pub source: IpAddr,
    pub how: String,
}

/// Why no source address comes out: the Go text of the connect error (`network is unreachable`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteFailure(pub &'static str);

fn is_unicast(route: &Route) -> bool {
    matches!(route.route_type.as_str(), "unicast" | "")
}

fn output_device(route: &Route) -> Option<&str> {
    route
        .device
        .as_deref()
        .or_else(|| route.nexthops.first().and_then(|h| h.device.as_deref()))
}

fn gateway(route: &Route) -> Option<IpAddr> {
    route
        .gateway
        .or_else(|| route.nexthops.first().and_then(|h| h.gateway))
}

/// The main-table route the kernel uses for `dest`: longest prefix, then lowest metric, then dump order.
fn lookup(facts: &Facts, dest: IpAddr) -> Option<&Route> {
    let family = Family::of(&dest);
    let mut best: Option<&Route> = None;
    for route in facts
        .routes
        .iter()
        .filter(|r| r.family == family && r.destination.contains(&dest))
    {
        let better = match best {
            None => true,
            Some(b) => {
                let (rp, bp) = (route.destination.prefix_len(), b.destination.prefix_len());
                rp > bp || (rp == bp && route.metric.unwrap_or(0) < b.metric.unwrap_or(0))
            }
        };
        if better {
            best = Some(route);
        }
    }
    best
}

fn addresses_of<'a>(facts: &'a Facts, device: &str, family: Family) -> Vec<&'a Address> {
    facts
        .interface(device)
        .map(|i| i.addresses.iter().filter(|a| a.family == family).collect())
        .unwrap_or_default()
}

/// The source address of a UDP connect to `dest`, evaluated from the snapshot's routes.
pub fn source_for(facts: &Facts, dest: IpAddr) -> Result<SourceChoice, RouteFailure> {
    let family = Family::of(&dest);
    // The kernel's local table comes first: a destination held by this host answers with itself.
    if let Some(interface) = owner_of(facts, dest) {
        return Ok(SourceChoice {
            source: dest,
            how: format!(
                "{dest} is an address of this node (on {}): the local table answers with the address itself",
                interface.name
            ),
        });
    }
    let route = lookup(facts, dest).ok_or(RouteFailure("network is unreachable"))?;
    match route.route_type.as_str() {
        "blackhole" => return Err(RouteFailure("invalid argument")),
        "unreachable" => return Err(RouteFailure("no route to host")),
        "prohibit" => return Err(RouteFailure("permission denied")),
        _ if !is_unicast(route) => return Err(RouteFailure("network is unreachable")),
        _ => {}
    }
    let route_text = format!(
        "route {}{}{}",
        route.destination,
        gateway(route)
            .map(|g| format!(" via {g}"))
            .unwrap_or_default(),
        output_device(route)
            .map(|d| format!(" dev {d}"))
            .unwrap_or_default()
    );
    if let Some(src) = route.preferred_source {
        return Ok(SourceChoice {
            source: src,
            how: format!("{route_text} has preferred source {src}"),
        });
    }
    let device = output_device(route).unwrap_or_default();
    let next = gateway(route).unwrap_or(dest);
    let candidates: Vec<&Address> = addresses_of(facts, device, family)
        .into_iter()
        .filter(|a| is_global_unicast(&a.address))
        .collect();
    if let Some(a) = candidates
        .iter()
        .find(|a| a.network().is_some_and(|n| n.contains(&next)))
    {
        return Ok(SourceChoice {
            source: a.address,
            how: format!(
                "{route_text}: first address of {device} in the subnet of {next} ({}/{})",
                a.address, a.prefix_len
            ),
        });
    }
    if let Some(a) = candidates.first() {
        return Ok(SourceChoice {
            source: a.address,
            how: format!("{route_text}: first address of {device}"),
        });
    }
    facts
        .interfaces
        .iter()
        .flat_map(|i| i.addresses.iter().map(move |a| (i, a)))
        .find(|(_, a)| a.family == family && is_global_unicast(&a.address))
        .map(|(i, a)| SourceChoice {
            source: a.address,
            how: format!(
                "{route_text}: {device} has no usable address, the kernel falls back to {} of {}",
                a.address, i.name
            ),
        })
        .ok_or(RouteFailure("network is unreachable"))
}

/// The default route of a family the kernel would use (lowest metric, then dump order).
pub fn default_route(facts: &Facts, family: Family) -> Option<&Route> {
    let mut best: Option<&Route> = None;
    for r in facts
        .routes
        .iter()
        .filter(|r| r.family == family && r.is_default() && is_unicast(r))
    {
        if best.is_none_or(|b| r.metric.unwrap_or(0) < b.metric.unwrap_or(0)) {
            best = Some(r);
        }
    }
    best
}

/// The default gateway of a family.
pub fn default_gateway(facts: &Facts, family: Family) -> Option<IpAddr> {
    default_route(facts, family).and_then(gateway)
}

/// The default-route interface's subnet: the subnet holding the gateway, else the subnet of its first
/// global address. Empty when there is no default route or the interface has no address.
pub fn default_route_subnets(facts: &Facts, family: Family) -> Vec<IpNet> {
    let Some(route) = default_route(facts, family) else {
        return Vec::new();
    };
    let Some(device) = output_device(route) else {
        return Vec::new();
    };
    let addresses: Vec<&Address> = addresses_of(facts, device, family)
        .into_iter()
        .filter(|a| is_global_unicast(&a.address))
        .collect();
    let via_gateway = gateway(route).and_then(|g| {
        addresses
            .iter()
            .filter_map(|a| a.network())
            .find(|n| n.contains(&g) && n.prefix_len() < n.max_prefix_len())
    });
    via_gateway
        .or_else(|| addresses.first().and_then(|a| a.network()))
        .into_iter()
        .collect()
}

/// Interface of the default route, by name.
pub fn default_route_device(facts: &Facts, family: Family) -> Option<&str> {
    default_route(facts, family).and_then(output_device)
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

/// kubelet's node IP without `--node-ip` or a cloud provider, approximated by its last resort
/// (`ChooseHostInterface`): the first global address of the default-route interface, IPv4 routes
/// first. kubelet reports one address, so a dual-stack node gets no IPv6 InternalIP this way.
pub fn kubelet_default_node_ip(facts: &Facts) -> Option<IpAddr> {
    [Family::Ipv4, Family::Ipv6].into_iter().find_map(|family| {
        let device = default_route_device(facts, family)?;
        addresses_of(facts, device, family)
            .into_iter()
            .map(|a| a.address)
            .find(is_global_unicast)
    })
}
