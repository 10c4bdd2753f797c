//! Route arithmetic over a facts snapshot: the default routes (multipath next hops included), the kernel's
//! source-address choice for a destination (what Calico's `can-reach=` sees when judged from a snapshot),
//! the default-route interface's subnets (the node network when the profile names none). kubelet's
//! node IP is modelled in `crate::kubelet`.

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

/// The device of the main-table route the kernel uses for `dest` (a multipath route: its first next
/// hop's), as `ip route get` shows it; `None` without such a route.
pub fn route_device(facts: &Facts, dest: IpAddr) -> Option<&str> {
    lookup(facts, dest).and_then(output_device)
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

/// Interface of the default route, by name (a multipath route: its first next hop's).
pub fn default_route_device(facts: &Facts, family: Family) -> Option<&str> {
    default_route(facts, family).and_then(output_device)
}

/// The next hops of the default route the kernel uses, as (device, gateway): one for a plain route,
/// one per path for a multipath route. Empty when the family has no default route.
pub fn default_next_hops(facts: &Facts, family: Family) -> Vec<(Option<&str>, Option<IpAddr>)> {
    let Some(route) = default_route(facts, family) else {
        return Vec::new();
    };
    if route.nexthops.is_empty() {
        return vec![(route.device.as_deref(), route.gateway)];
    }
    route
        .nexthops
        .iter()
        .map(|h| (h.device.as_deref(), h.gateway))
        .collect()
}

/// The devices the default route leaves by, each once, in next-hop order (several for multipath).
pub fn default_route_devices(facts: &Facts, family: Family) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for device in default_next_hops(facts, family)
        .into_iter()
        .filter_map(|(d, _)| d)
    {
        if !out.contains(&device) {
            out.push(device);
        }
    }
    out
}

/// The node subnets of one family as the default route shows them: for each next hop, the subnet of
/// its device that holds the gateway, else every subnet of the device's global addresses. Each subnet
/// once, with the devices they came from. Empty when there is no default route or no such address.
pub fn default_route_subnets(facts: &Facts, family: Family) -> (Vec<IpNet>, Vec<&str>) {
    let mut subnets: Vec<IpNet> = Vec::new();
    let mut devices: Vec<&str> = Vec::new();
    for (device, gateway) in default_next_hops(facts, family) {
        let Some(device) = device else { continue };
        let own: Vec<IpNet> = addresses_of(facts, device, family)
            .into_iter()
            .filter(|a| is_global(a) && is_global_unicast(&a.address))
            .filter_map(Address::network)
            .collect();
        let holding_gateway = gateway.and_then(|g| {
            own.iter()
                .find(|n| n.contains(&g) && n.prefix_len() < n.max_prefix_len())
        });
        let found: Vec<IpNet> = match holding_gateway {
            Some(n) => vec![*n],
            None => own,
        };
        for net in found {
            if !subnets.contains(&net) {
                subnets.push(net);
            }
            if !devices.contains(&device) {
                devices.push(device);
            }
        }
    }
    (subnets, devices)
}
