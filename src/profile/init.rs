//! `profile init`: a profile describing a known-good node, written from its facts as commented YAML,
//! so an operator can capture one healthy node and apply the result to every new one.

use std::fmt::Write;

use ipnet::IpNet;

use crate::error::BadInput;
use crate::facts::{Facts, Family, Interface, ModuleState};
use crate::network::addresses::is_global;
use crate::network::ipv6::Ipv6Host;
use crate::network::nic::pci_address;
use crate::network::routes::default_route_devices;
use crate::network::{self, SubnetSource};
use crate::profile::defaults;
use crate::profile::parsed::KernelRelease;

/// Modules Kubernetes networking and Calico use; those loaded on the known-good node are required.
pub const KUBERNETES_MODULES: &[&str] = &[
    "br_netfilter",
    "overlay",
    "ip_tables",
    "ip6_tables",
    "iptable_nat",
    "iptable_filter",
    "nf_conntrack",
    "nf_nat",
    "xt_set",
    "ip_set",
    "ipip",
    "vxlan",
    "wireguard",
    "ip_vs",
    "ip_vs_rr",
    "ip_vs_wrr",
    "ip_vs_sh",
    "nf_tables",
];

/// Ports a worker needs free before the join: kubelet, kube-proxy health, Calico BGP, Felix health.
pub const WORKER_PORTS: &[u16] = &[10250, 10256, 179, 9099];

/// A YAML scalar that reads back as exactly `s` (a JSON string is a YAML double-quoted scalar).
fn quoted(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialise")
}

/// Calico's default pod CIDR (the manifest's CALICO_IPV4POOL_CIDR), written when nothing better is known.
pub const DEFAULT_POD_CIDR: &str = "192.168.0.0/16";
/// kubeadm's default service CIDR.
pub const DEFAULT_SERVICE_CIDR: &str = "10.96.0.0/12";

/// What `profile init` is told on the command line.
#[derive(Debug, Default)]
pub struct InitOptions<'a> {
    pub cluster: Option<&'a str>,
    /// `--node-network`: the node network, when it is not the default route's.
    pub node_network: Option<IpNet>,
    /// `--node-nic`: the node NIC, when it is not the default route's.
    pub node_nic: Option<&'a str>,
}

/// A written profile and the conflicts flagged in it (also to be told on stderr).
#[derive(Debug)]
pub struct Generated {
    pub yaml: String,
    pub conflicts: Vec<String>,
    /// Requirements written on top of the captured node (a sysctl value it does not have), each as
    /// `key: wanted (this node: value)`: the node fails them until fixed, and the file marks them.
    pub added: Vec<String>,
}

/// The node network and NIC to describe, and a comment saying where they came from.
fn choose_node_network<'f>(
    facts: &'f Facts,
    options: &InitOptions,
) -> Result<(Vec<IpNet>, Option<&'f Interface>, &'static str), BadInput> {
    let nic = match options.node_nic {
        Some(name) => Some(facts.interface(name).ok_or_else(|| {
            BadInput(format!(
                "--node-nic {}: no such interface on {}",
                crate::escape::for_terminal(name),
                crate::escape::for_terminal(&facts.host.hostname)
            ))
        })?),
        None => None,
    };
    match (options.node_network, nic) {
        (Some(cidr), Some(nic)) => Ok((
            vec![cidr],
            Some(nic),
            "given with --node-network and --node-nic",
        )),
        (Some(cidr), None) => {
            let holder = facts
                .interfaces
                .iter()
                .find(|i| i.addresses.iter().any(|a| cidr.contains(&a.address)));
            Ok((
                vec![cidr],
                holder,
                "given with --node-network, and the NIC holding an address in it",
            ))
        }
        (None, Some(nic)) => {
            let mut cidrs = Vec::new();
            for a in nic.addresses.iter().filter(|a| is_global(a)) {
                if let Some(net) = a.network() {
                    if !cidrs.contains(&net) {
                        cidrs.push(net);
                    }
                }
            }
            Ok((
                cidrs,
                Some(nic),
                "the subnet(s) of the NIC given with --node-nic",
            ))
        }
        (None, None) => {
            let subnets = network::node_subnets(facts, &[]);
            let nic = match &subnets.source {
                SubnetSource::DefaultRoute(devices) => {
                    devices.first().and_then(|d| facts.interface(d))
                }
                SubnetSource::Profile | SubnetSource::Unknown => None,
            };
            let cidrs = subnets.cidrs;
            Ok((
                cidrs,
                nic,
                "the subnet(s) of the interface carrying the default route here, and that NIC",
            ))
        }
    }
}

/// A default range the node network overlaps, with the comment and the message that flag it.
fn overlap_with_default(
    key: &str,
    default: &str,
    node_cidrs: &[IpNet],
    setting: &str,
) -> Option<(String, String)> {
    let default: IpNet = default.parse().expect("a valid built-in CIDR");
    let node = node_cidrs
        .iter()
        .find(|c| c.contains(&default.network()) || default.contains(&c.network()))?;
    let message = format!(
        "the node network {node} overlaps the default {key} {default}: {key} is written empty; set it to your cluster's ({setting}), which must not overlap the node network"
    );
    let comment = format!("# CONFLICT: {message}.\n{key}: []\n");
    Some((comment, message))
}

/// Writes the profile for a node like this one. Fails only when `--node-nic` names no interface.
pub fn profile_yaml(facts: &Facts, options: &InitOptions) -> Result<Generated, BadInput> {
    let cluster = options.cluster;
    let mut conflicts = Vec::new();
    let mut y = String::new();
    let host = &facts.host;
    let _ = writeln!(
        y,
        "# nodecheck cluster profile, written by `nodecheck profile init` from {} ({}, kernel {}) on {}.",
        crate::escape::for_terminal(&host.hostname),
        crate::escape::for_terminal(host.os.pretty_name.as_deref().unwrap_or("unknown OS")),
        crate::escape::for_terminal(&host.kernel_release),
        crate::escape::for_terminal(&facts.collected_at)
    );
    y.push_str("# It describes that node as the norm for every node of the cluster. Review it, then apply it on\n");
    y.push_str("# new nodes with `nodecheck check --profile FILE` before `kubeadm join`. Reference: docs/profile.md\n\n");

    y.push_str("# Cluster name, shown in reports.\n");
    let _ = writeln!(
        y,
        "cluster: {}\n",
        cluster.map(quoted).unwrap_or_else(|| "null".into())
    );

    let (cidrs, nic, source) = choose_node_network(facts, options)?;
    let _ = writeln!(y, "# The node network: {source}.");
    y.push_str("node_network:\n");
    if cidrs.is_empty() {
        y.push_str("  # No node network was found (no default route with a global address, or the NIC has none):\n");
        y.push_str("  # fill in the node subnet(s), or run `nodecheck profile init --node-network CIDR`.\n  cidrs: []\n");
    } else {
        let _ = writeln!(
            y,
            "  cidrs: [{}]",
            cidrs
                .iter()
                .map(|c| quoted(&c.to_string()))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    match nic {
        Some(nic) => {
            y.push_str("  # Every node is expected to name this NIC the same (Calico's interface= method relies on it).\n");
            y.push_str("  nic:\n");
            let _ = writeln!(y, "    name: {}", quoted(&nic.name));
            y.push_str("    role: node\n");
            y.push_str("    # Other names accepted for it, e.g. [ens192] on nodes that use predictable names.\n");
            y.push_str("    alternatives: []\n");
            y.push_str("    # Optional: recognise the NIC by hardware too (anchored regexes). This node's values:\n");
            match &nic.mac {
                Some(mac) => {
                    let _ = writeln!(y, "    # mac_pattern: {}", quoted(&regex::escape(mac)));
                }
                None => y.push_str("    # mac_pattern: null\n"),
            }
            match pci_address(nic) {
                Some(pci) => {
                    let _ = writeln!(y, "    # pci_pattern: {}", quoted(&regex::escape(pci)));
                }
                None => y.push_str("    # pci_pattern: null\n"),
            }
            y.push_str("  # MTU of the node NIC on every node.\n");
            let _ = writeln!(y, "  mtu: {}\n", nic.mtu);
        }
        None => y.push_str("  nic: null\n  mtu: null\n\n"),
    }

    y.push_str("# Other NICs every node has (storage, management), as {name, role, cidrs}.\n");
    y.push_str("other_nics: []\n\n");
    y.push_str("# Pod and service ranges are not visible from a node: these are kubeadm's and Calico's defaults.\n");
    y.push_str(
        "# Set them to your cluster's (kubeadm-config: networking.podSubnet / serviceSubnet).\n",
    );
    for (key, default, setting) in [
        (
            "pod_cidrs",
            DEFAULT_POD_CIDR,
            "kubeadm-config networking.podSubnet, Calico's CALICO_IPV4POOL_CIDR",
        ),
        (
            "service_cidrs",
            DEFAULT_SERVICE_CIDR,
            "kubeadm-config networking.serviceSubnet",
        ),
    ] {
        match overlap_with_default(key, default, &cidrs, setting) {
            Some((comment, message)) => {
                y.push_str(&comment);
                conflicts.push(message);
            }
            None => {
                let _ = writeln!(y, "{key}: [\"{default}\"]");
            }
        }
    }
    y.push('\n');

    y.push_str("# Bridges: names (anchored regexes) expected here; docker0/compose bridges fail instead of warn.\n");
    y.push_str("bridges:\n  allowed: []\n  docker_bridges_fail: false\n\n");

    let v6_node = cidrs.iter().any(|c| c.addr().is_ipv6());
    y.push_str("# Calico as deployed on the cluster: version and the DaemonSet's IP_AUTODETECTION_METHOD (null = first-found).\n");
    y.push_str("# `nodecheck calico` recommends a method that is right on every node.\n");
    y.push_str("calico:\n  version: null\n  ipv4_method: null\n  ipv6_method: null\n");
    let _ = writeln!(
        y,
        "  families: [{}]",
        if v6_node { "ipv4, ipv6" } else { "ipv4" }
    );
    y.push_str("  can_reach: null\n\n");
    y.push_str("# The API server endpoint (host:port).\napi_server: null\n\n");

    y.push_str(
        "# Kernel: at least this node's major.minor; peers must run the same minor release.\n",
    );
    y.push_str("kernel:\n");
    match KernelRelease::parse(&host.kernel_release) {
        Some(k) => {
            let _ = writeln!(y, "  minimum: \"{}.{}\"", k.major, k.minor);
        }
        None => y.push_str("  minimum: null\n"),
    }
    y.push_str("  allowed: []\n  parity: same-minor\n\n");

    let node_nic_name = nic.map(|n| n.name.as_str());
    let state = Ipv6Host::of(facts, node_nic_name);
    let has_v6_global = nic.is_some_and(|n| {
        n.addresses
            .iter()
            .any(|a| a.family == Family::Ipv6 && is_global(a))
    });
    let expectation = match state {
        Ipv6Host::On { .. } if has_v6_global => "required",
        Ipv6Host::On { .. } => "as-peers",
        _ => "disabled",
    };
    let _ = writeln!(
        y,
        "# IPv6: required, disabled, or as-peers. Here: {}.",
        state.describe()
    );
    let _ = writeln!(y, "ipv6: {expectation}\n");

    y.push_str("# Sysctls every node must have (these are also checked when not listed).\n");
    y.push_str("# A line marked `added` is required on top of what this node has: it fails it until fixed.\n");
    y.push_str("sysctls:\n");
    let mut added = Vec::new();
    let ipv6_forwarding = [("net.ipv6.conf.all.forwarding", "1")];
    let wanted = defaults::BUILT_IN_SYSCTLS
        .iter()
        .chain(ipv6_forwarding.iter().filter(|_| v6_node));
    for (k, v) in wanted {
        let have = facts.sysctls.get(*k).and_then(|h| h.as_deref());
        // Only a value the snapshot shows and that differs is marked: an unknown one (facts gathered
        // without root, plain Ansible facts) is not known to differ.
        match have.map(str::trim).filter(|have| have != v) {
            Some(have) => {
                let have = quoted(have);
                let _ = writeln!(y, "  {k}: \"{v}\"  # added: this node has {have}");
                added.push(format!("{k}: {v} (this node: {have})"));
            }
            None => {
                let _ = writeln!(y, "  {k}: \"{v}\"");
            }
        }
    }
    y.push('\n');

    let loaded: Vec<&str> = KUBERNETES_MODULES
        .iter()
        .copied()
        .filter(|m| !defaults::BUILT_IN_MODULES.contains(m))
        .filter(|m| {
            matches!(
                facts.modules.state.get(*m),
                Some(ModuleState::Loaded | ModuleState::Builtin)
            )
        })
        .collect();
    y.push_str("# Modules loaded (or built in) on this node, beyond br_netfilter and overlay (always required).\n");
    let _ = writeln!(y, "modules: [{}]\n", loaded.join(", "));

    y.push_str("# Ports that must be free before the join: kubelet, kube-proxy health, Calico BGP, Felix health.\n");
    let _ = writeln!(
        y,
        "ports_free: [{}]\n",
        WORKER_PORTS
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    y.push_str("# kubelet's default: swap off.\nswap: off\n\n");

    let runtimes: Vec<String> = facts
        .runtime_sockets
        .iter()
        .filter(|s| s.present && s.runtime != "docker")
        .map(|s| s.runtime.to_string())
        .fold(Vec::new(), |mut acc, r| {
            if !acc.contains(&r) {
                acc.push(r);
            }
            acc
        });
    y.push_str(
        "# Container runtimes accepted (those with a CRI socket on this node); [] accepts any.\n",
    );
    let _ = writeln!(y, "runtimes: [{}]\n", runtimes.join(", "));

    y.push_str("# Post-join and post-boot checks.\n");
    y.push_str("post_join:\n  felix_health_port: 9099\n  cluster_dns: null\n  cluster_domain: cluster.local\n\n");
    y.push_str(
        "# Check IDs to skip (a trailing * matches a prefix); merged with --skip.\nskip: []\n",
    );

    // Keep the node's default-route facts in view for whoever reviews the file.
    let v4 = default_route_devices(facts, Family::Ipv4);
    if v4.len() > 1 {
        let _ = writeln!(
            y,
            "# Note: this node's IPv4 default route is multipath over {}; node_network.nic names the first.",
            v4.join(", ")
        );
    }
    Ok(Generated {
        yaml: y,
        conflicts,
        added,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn libvirt_host() -> Facts {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/incident/worker-41.json"
        ))
        .unwrap()
        .replace("10.20.41.", "192.168.122.");
        crate::facts::load::parse_facts(&text).unwrap()
    }

    #[test]
    fn a_node_network_inside_the_default_pod_cidr_is_flagged_not_fatal() {
        let facts = libvirt_host();
        let generated = profile_yaml(&facts, &InitOptions::default()).unwrap();
        assert_eq!(generated.conflicts.len(), 1, "{:?}", generated.conflicts);
        assert!(generated.conflicts[0]
            .contains("192.168.122.0/24 overlaps the default pod_cidrs 192.168.0.0/16"));
        assert!(generated
            .yaml
            .contains("# CONFLICT: the node network 192.168.122.0/24"));
        let profile = crate::profile::load::parse_profile(&generated.yaml, "generated").unwrap();
        assert!(profile.pod_cidrs.is_empty());
        assert_eq!(
            profile.service_cidrs,
            vec!["10.96.0.0/12".parse::<IpNet>().unwrap()]
        );
    }

    #[test]
    fn node_network_and_nic_can_be_given() {
        let facts = libvirt_host();
        let nic = facts
            .interfaces
            .iter()
            .find(|i| i.name != "lo")
            .unwrap()
            .name
            .clone();
        let options = InitOptions {
            node_network: Some("10.200.0.0/24".parse().unwrap()),
            node_nic: Some(&nic),
            ..Default::default()
        };
        let generated = profile_yaml(&facts, &options).unwrap();
        assert!(generated.conflicts.is_empty());
        let profile = crate::profile::load::parse_profile(&generated.yaml, "generated").unwrap();
        assert_eq!(
            profile.node_network.cidrs,
            vec!["10.200.0.0/24".parse::<IpNet>().unwrap()]
        );
        assert_eq!(
            profile.node_network.nic.unwrap().name.as_deref(),
            Some(nic.as_str())
        );
        let missing = InitOptions {
            node_nic: Some("nope0"),
            ..Default::default()
        };
        assert!(profile_yaml(&facts, &missing)
            .unwrap_err()
            .0
            .contains("--node-nic nope0: no such interface"));
    }

    #[test]
    fn requirements_this_node_does_not_meet_are_marked_added() {
        let mut facts = crate::facts::testkit::host("w1")
            .nic("eth0", &["10.0.0.5/24", "2001:db8::5/64"])
            .route("default", Some("10.0.0.1"), "eth0", None, None)
            .route("default", Some("2001:db8::1"), "eth0", None, None)
            .build();
        facts
            .sysctls
            .insert("net.ipv4.ip_forward".into(), Some("1".into()));
        facts
            .sysctls
            .insert("net.ipv6.conf.all.forwarding".into(), Some("0".into()));
        let options = InitOptions {
            cluster: None,
            node_network: None,
            node_nic: None,
        };
        let generated = profile_yaml(&facts, &options).unwrap();
        assert!(
            generated.yaml.contains("  net.ipv4.ip_forward: \"1\"\n"),
            "{}",
            generated.yaml
        );
        assert!(
            generated
                .yaml
                .contains("  net.ipv6.conf.all.forwarding: \"1\"  # added: this node has \"0\"\n"),
            "{}",
            generated.yaml
        );
        assert_eq!(
            generated.added,
            ["net.ipv6.conf.all.forwarding: 1 (this node: \"0\")"]
        );
        crate::profile::load::parse_profile(&generated.yaml, "generated").unwrap();
    }

    #[test]
    fn quoted_strings_read_back() {
        assert_eq!(quoted("eth3"), "\"eth3\"");
        assert_eq!(quoted("a\"b\u{1b}"), "\"a\\\"b\\u001b\"");
    }
}
