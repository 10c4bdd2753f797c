//! Gathering: the only place that does I/O to learn about the host. Builds a [`Facts`] snapshot from
//! netlink dumps (`netlink`), sysfs (`sysfs`), host identity files (`host`), and the kernel's /proc
//! views; everything after this is a pure function of the snapshot.
//!
//! A fact that cannot be read is `null` in the snapshot, with the reason under its dotted path in
//! `Facts::unavailable`; only a failed netlink dump (without which there is nothing to judge) is an
//! error.

pub mod clock;
pub mod host;
pub mod netlink;
pub mod sysfs;

use std::collections::{BTreeMap, HashMap};

use crate::facts::{Facts, Interface, NextHop, Route, SCHEMA_VERSION};

use netlink::{AddressRecord, LinkRecord, RouteRecord};

/// Gathers the live host's facts.
pub fn gather_facts() -> anyhow::Result<Facts> {
    let mut unavailable = BTreeMap::new();
    let cmdline = std::fs::read_to_string("/proc/cmdline").unwrap_or_else(|e| {
        unavailable.insert("host.cmdline".into(), format!("/proc/cmdline: {e}"));
        String::new()
    });
    let host = host::gather_host(&cmdline, &mut unavailable);
    let dumps = netlink::dump_all()?;
    let interfaces = assemble_interfaces(&dumps.links, dumps.addresses);
    let routes = assemble_routes(&dumps.routes, &dumps.links);
    Ok(Facts {
        schema_version: SCHEMA_VERSION,
        nodecheck_version: env!("CARGO_PKG_VERSION").to_string(),
        collected_at: clock::now_rfc3339(),
        host,
        interfaces,
        routes,
        ipv6: Default::default(),
        sysctls: BTreeMap::new(),
        modules: Default::default(),
        swap: Default::default(),
        docker: Default::default(),
        runtime_sockets: Vec::new(),
        listening_ports: Vec::new(),
        unavailable,
    })
}

/// Joins links with their addresses (both in dump order) and resolves controller names.
fn assemble_interfaces(links: &[LinkRecord], addresses: Vec<AddressRecord>) -> Vec<Interface> {
    let names: HashMap<u32, &str> = links.iter().map(|l| (l.index, l.name.as_str())).collect();
    let mut by_link: HashMap<u32, Vec<crate::facts::Address>> = HashMap::new();
    for record in addresses {
        by_link
            .entry(record.link_index)
            .or_default()
            .push(record.address);
    }
    links
        .iter()
        .map(|link| Interface {
            index: link.index,
            name: link.name.clone(),
            altnames: link.altnames.clone(),
            kind: link.kind.clone(),
            physical: sysfs::physical_device(
                &link.name,
                sysfs::NetlinkParent {
                    device: link.parent_device.as_deref(),
                    bus: link.parent_bus.as_deref(),
                },
            ),
            mac: link.mac.clone(),
            permanent_mac: link.permanent_mac.clone(),
            admin_up: link.admin_up,
            operstate: link.operstate.clone(),
            carrier: link.carrier,
            mtu: link.mtu,
            master: link
                .controller_index
                .and_then(|i| names.get(&i).map(|n| n.to_string())),
            ipv6_disabled: link.ipv6_disabled,
            addresses: by_link.remove(&link.index).unwrap_or_default(),
        })
        .collect()
}

/// Resolves route and next-hop interface indexes to names.
fn assemble_routes(routes: &[RouteRecord], links: &[LinkRecord]) -> Vec<Route> {
    let names: HashMap<u32, &str> = links.iter().map(|l| (l.index, l.name.as_str())).collect();
    let name_of = |index: Option<u32>| index.and_then(|i| names.get(&i).map(|n| n.to_string()));
    routes
        .iter()
        .map(|r| Route {
            family: r.family,
            destination: r.destination,
            gateway: r.gateway,
            device: name_of(r.link_index),
            protocol: r.protocol.clone(),
            route_type: r.route_type.clone(),
            scope: r.scope.clone(),
            metric: r.metric,
            preferred_source: r.preferred_source,
            nexthops: r
                .nexthops
                .iter()
                .map(|h| NextHop {
                    gateway: h.gateway,
                    device: name_of(h.link_index),
                    weight: h.weight,
                })
                .collect(),
        })
        .collect()
}
