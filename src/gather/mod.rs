//! Gathering: the only place that does I/O to learn about the host. Builds a [`Facts`] snapshot from
//! netlink dumps (`netlink`), sysfs (`sysfs`), host identity files (`host`), `/proc/sys` (`kernel`),
//! module lists (`modules`), swap (`swap`), the Docker API (`docker`), runtime sockets (`sockets`) and
//! `/proc/net/tcp*` (`ports`); everything after this is a pure function of the snapshot.
//!
//! A fact that cannot be read is `null` in the snapshot, with the reason under its dotted path in
//! `Facts::unavailable`; only a failed netlink dump (without which there is nothing to judge) is an
//! error. The netlink dumps and the Docker API query run concurrently on one current-thread runtime.

pub mod clock;
pub mod docker;
pub mod host;
pub mod kernel;
pub mod modules;
pub mod netlink;
pub mod ports;
pub mod reach;
pub mod sockets;
pub mod swap;
pub mod sysfs;

use std::collections::{BTreeMap, HashMap};

use anyhow::Context;

use crate::facts::{Docker, Facts, Interface, NextHop, Route, SCHEMA_VERSION};

use netlink::{AddressRecord, LinkRecord, RouteRecord};

/// Gathers the live host's facts.
pub fn gather_facts() -> anyhow::Result<Facts> {
    let mut unavailable = BTreeMap::new();
    let cmdline = std::fs::read_to_string("/proc/cmdline").unwrap_or_else(|e| {
        unavailable.insert("host.cmdline".into(), format!("/proc/cmdline: {e}"));
        String::new()
    });
    let host = host::gather_host(&cmdline, &mut unavailable);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the gathering runtime")?;
    let docker_socket = docker::api_socket_path();
    let (dumps, (docker_api, docker_networks)) = runtime.block_on(async {
        tokio::join!(netlink::dump_all(), docker::query_networks(&docker_socket))
    });
    let dumps = dumps?;

    let interfaces = assemble_interfaces(&dumps.links, dumps.addresses);
    let routes = assemble_routes(&dumps.routes, &dumps.links);
    let docker = Docker {
        api: docker_api,
        networks: docker_networks,
        bridges: interfaces
            .iter()
            .filter(|i| {
                i.kind.as_deref() == Some("bridge") && docker::is_docker_bridge_name(&i.name)
            })
            .map(|i| i.name.clone())
            .collect(),
    };
    let sysctls = kernel::gather_sysctls(&mut unavailable);
    let ipv6 = kernel::gather_ipv6(&host.cmdline, &sysctls);
    let modules = modules::gather_modules(&host.kernel_release);
    Ok(Facts {
        schema_version: SCHEMA_VERSION,
        nodecheck_version: env!("CARGO_PKG_VERSION").to_string(),
        collected_at: clock::now_rfc3339(),
        host,
        interfaces,
        routes,
        ipv6,
        sysctls,
        modules,
        swap: swap::gather_swap(&mut unavailable),
        docker,
        runtime_sockets: sockets::gather_runtime_sockets(),
        listening_ports: ports::gather_listening_ports(&mut unavailable),
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
