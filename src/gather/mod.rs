//! Gathering: the only place that does I/O to learn about the host. Builds a [`Facts`] snapshot from
//! netlink dumps (`netlink`), sysfs (`sysfs`), host identity files (`host`), `/proc/sys` (`kernel`),
//! module lists (`modules`), swap (`swap`), the Docker API (`docker`), runtime sockets (`sockets`),
//! the container runtime over its CRI socket (`cri`),
//! `/proc/net/tcp*` (`ports`), ethtool netlink (`ethtool`, offload features of a few links) and
//! disk space, open-file limits, `localhost` and the kernel configuration (`preflight`);
//! everything after this is a pure function of the snapshot.
//!
//! A fact that cannot be read is `null` in the snapshot, with the reason under its dotted path in
//! `Facts::unavailable`; only a failed netlink dump (without which there is nothing to judge) is an
//! error. The netlink dumps, the Docker API query and the CRI query run concurrently on one
//! current-thread runtime.

pub mod clock;
pub mod cri;
pub mod dns_wire;
pub mod docker;
pub mod ethtool;
pub mod forward_policy;
pub mod host;
pub mod http;
pub mod k3s_config;
pub mod kernel;
pub mod kubeadm_config;
pub mod kubelet;
pub mod modules;
pub mod name_lookup;
pub mod netlink;
pub mod netlink_dump;
pub mod node_setup;
pub mod ports;
pub mod preflight;
pub mod reach;
pub mod sockets;
pub mod swap;
pub mod sysfs;
pub mod systemd;

use std::collections::{BTreeMap, HashMap};

use anyhow::Context;
use compact_str::CompactString;

use crate::facts::{
    Docker, Facts, Host, Interface, Ipv6State, ListeningPort, Modules, Route, RuntimeSocket, Swap,
    SCHEMA_VERSION,
};
use crate::host_root::HostRoot;

use netlink::{AddressRecord, LinkRecord, RouteRecord};

/// Sysctls and kernel modules to read beyond the ones every snapshot records: what the profile asks
/// for (`vm.overcommit_memory`, `kernel.panic` for kubelet's `protectKernelDefaults`, a module of
/// its own). Names that could not name a `/proc/sys` key or a module are left out.
#[derive(Debug, Clone, Default)]
pub struct Wanted {
    pub sysctls: Vec<String>,
    pub modules: Vec<String>,
}

/// Gathers the host's facts: files, `/proc` and `/sys` under `root` (`/` for the live host), netlink
/// and sockets in the caller's network namespace.
pub fn gather_facts(root: &HostRoot) -> anyhow::Result<Facts> {
    gather_facts_with(root, None, &Wanted::default())
}

/// [`gather_facts`], with a kubeadm configuration (`--kubeadm-config`) whose flags stand in for the
/// ones kubeadm writes at join time, also reading the sysctls and modules in `wanted`.
pub fn gather_facts_with(
    root: &HostRoot,
    kubeadm_config: Option<crate::facts::kubelet::KubeadmNodeRegistration>,
    wanted: &Wanted,
) -> anyhow::Result<Facts> {
    let mut unavailable = BTreeMap::new();
    let cmdline = root.read_to_string("/proc/cmdline").unwrap_or_else(|e| {
        unavailable.insert(
            "host.cmdline".into(),
            format!("{}: {e}", root.show("/proc/cmdline")),
        );
        String::new()
    });
    let host = host::gather_host(root, &cmdline, &mut unavailable);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the gathering runtime")?;
    // The Docker query is started first and collected last: dockerd works on its answer while the
    // netlink dumps run and the /proc files are read.
    // The node-name lookup may wait on DNS (bounded to 2 s): it runs on its own thread meanwhile.
    // The CRI query, like Docker's, runs while the rest is read.
    let (dumps, local, (docker_api, docker_networks), kubelet, cri) = runtime.block_on(async {
        let docker_query = tokio::spawn(docker::query_networks(docker::api_socket_path(root)));
        // kubelet's unit and configuration file are read first (files only): they name the CRI
        // socket kubelet uses.
        let kubelet_setup = kubelet::gather_kubelet_setup(root, &host.hostname, kubeadm_config);
        let endpoint = kubelet::runtime_endpoint(&kubelet_setup);
        let cri_query = tokio::spawn(cri::query_runtime(cri::select_socket(root, endpoint)));
        let kubelet_query = {
            let (root, hostname) = (root.clone(), host.hostname.clone());
            tokio::task::spawn_blocking(move || {
                let mut facts = kubelet_setup;
                kubelet::lookup_node_name(&root, &hostname, &mut facts);
                facts
            })
        };
        tokio::task::yield_now().await;
        let dumps = netlink::dump_all().await;
        let local = gather_local_files(root, &host, wanted, &mut unavailable);
        let docker = docker_query
            .await
            .unwrap_or_else(|e| docker::query_failed(root, &e));
        let kubelet = kubelet_query.await;
        let cri = cri_query.await;
        (dumps, local, docker, kubelet, cri)
    });
    let kubelet = match kubelet {
        Ok(k) => Some(k),
        Err(e) => {
            unavailable.insert("kubelet".into(), format!("gathering failed: {e}"));
            None
        }
    };
    let dumps = dumps?;
    unavailable.extend(dumps.notes.iter().cloned());

    let mut interfaces = assemble_interfaces(root, &dumps.links, dumps.addresses);
    let routes = assemble_routes(dumps.routes, &dumps.links);
    let wanted_offloads = ethtool::wanted(&interfaces, &routes);
    for (index, answer) in runtime.block_on(ethtool::read_offloads(&wanted_offloads)) {
        match answer {
            Ok(offload) => {
                if let Some(i) = interfaces.iter_mut().find(|i| i.index == index) {
                    i.offload = Some(offload);
                }
            }
            Err(reason) => {
                unavailable.insert(format!("interfaces[{index}].offload"), reason);
            }
        }
    }
    let mut preflight =
        preflight::gather_preflight(root, &host.kernel_release, &interfaces, &local.node_setup);
    let legacy_filter = preflight
        .iptables
        .as_ref()
        .and_then(|b| b.legacy_tables.as_ref())
        .is_some_and(|tables| tables.iter().any(|t| t == "filter"));
    preflight.forward = Some(forward_policy::gather_forward_policy(legacy_filter));
    preflight.cri = Some(cri.unwrap_or_else(|e| crate::facts::preflight::CriRuntime {
        status: crate::facts::preflight::CriStatus::Error,
        detail: Some(format!("the CRI query failed: {e}")),
        ..Default::default()
    }));
    let docker = Docker {
        api: docker_api,
        networks: docker_networks,
        bridges: interfaces
            .iter()
            .filter(|i| {
                i.kind.as_deref() == Some("bridge") && crate::facts::is_docker_bridge(&i.name)
            })
            .map(|i| i.name.to_string())
            .collect(),
    };
    Ok(Facts {
        schema_version: SCHEMA_VERSION,
        nodecheck_version: env!("CARGO_PKG_VERSION").to_string(),
        collected_at: clock::now_rfc3339().into(),
        host,
        interfaces,
        routes,
        ipv6: local.ipv6,
        sysctls: local.sysctls,
        modules: local.modules,
        swap: local.swap,
        docker,
        runtime_sockets: local.runtime_sockets,
        listening_ports: local.listening_ports,
        node_setup: Some(Box::new(local.node_setup)),
        kubelet: kubelet.map(Box::new),
        preflight: Some(Box::new(preflight)),
        unavailable,
    })
}

/// The facts read from /proc, /sys and the filesystem (everything but netlink and Docker).
struct LocalFacts {
    sysctls: BTreeMap<String, Option<String>>,
    ipv6: Ipv6State,
    modules: Modules,
    swap: Swap,
    runtime_sockets: Vec<RuntimeSocket>,
    listening_ports: Vec<ListeningPort>,
    node_setup: crate::facts::node_setup::NodeSetup,
}

fn gather_local_files(
    root: &HostRoot,
    host: &Host,
    wanted: &Wanted,
    unavailable: &mut BTreeMap<String, String>,
) -> LocalFacts {
    let sysctls = kernel::gather_sysctls(root, &wanted.sysctls, unavailable);
    LocalFacts {
        ipv6: kernel::gather_ipv6(root, &host.cmdline, &sysctls),
        sysctls,
        modules: modules::gather_modules(root, &host.kernel_release, &wanted.modules),
        swap: swap::gather_swap(root, unavailable),
        runtime_sockets: sockets::gather_runtime_sockets(root),
        listening_ports: ports::gather_listening_ports(root, unavailable),
        node_setup: node_setup::gather_node_setup(root),
    }
}

/// Joins links with their addresses (both in dump order), resolves controller names and looks up
/// physical devices.
fn assemble_interfaces(
    root: &HostRoot,
    links: &[LinkRecord],
    addresses: Vec<AddressRecord>,
) -> Vec<Interface> {
    let names = names_by_index(links);
    let mut by_link: HashMap<u32, Vec<crate::facts::Address>> = HashMap::new();
    for record in addresses {
        by_link
            .entry(record.link_index)
            .or_default()
            .push(record.address);
    }
    links
        .iter()
        .map(|link| {
            let mut interface = link.interface.clone();
            interface.physical = sysfs::physical_device(
                root,
                interface.raw_name(),
                sysfs::NetlinkHints {
                    kind: interface.kind.as_deref(),
                    device: link.parent_device.as_deref(),
                    bus: link.parent_bus.as_deref(),
                },
            )
            .map(Box::new);
            interface.master = link
                .controller_index
                .and_then(|i| names.get(&i).map(|n| (*n).into()));
            interface.addresses = by_link.remove(&interface.index).unwrap_or_default();
            interface
        })
        .collect()
}

fn names_by_index(links: &[LinkRecord]) -> HashMap<u32, &str> {
    links
        .iter()
        .map(|l| (l.interface.index, l.interface.name.as_str()))
        .collect()
}

/// Resolves route and next-hop interface indexes to names.
fn assemble_routes(records: Vec<RouteRecord>, links: &[LinkRecord]) -> Vec<Route> {
    let names = names_by_index(links);
    let name_of = |index: Option<u32>| -> Option<CompactString> {
        index.and_then(|i| names.get(&i).map(|n| (*n).into()))
    };
    records
        .into_iter()
        .map(|record| {
            let mut route = record.route;
            route.device = name_of(record.link_index);
            for (hop, index) in route.nexthops.iter_mut().zip(record.nexthop_link_indexes) {
                hop.device = name_of(index);
            }
            route
        })
        .collect()
}
