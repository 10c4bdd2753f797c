//! The InternalIP(s) kubelet registers, decided in kubelet's order:
//!
//! 1. `--node-ip` (one address, or a dual-stack pair; `0.0.0.0`/`::` only choose the preferred
//!    family). A given address must be valid and assigned to a local interface, else kubelet fails.
//! 2. The node name, when it parses as an IP address.
//! 3. The addresses the node name resolves to (Go's resolver: `/etc/hosts` and DNS in
//!    `/etc/nsswitch.conf` order): the first valid one (not loopback, link-local, multicast or
//!    unspecified, and assigned to a local interface) of the preferred family, else of the other.
//! 4. The default-route interface: default routes as `/proc/net/route` lists them (IPv4), then
//!    `/proc/net/ipv6_route` (IPv6 routes with a gateway), preferred family first; the first global
//!    unicast address of that family on the route's interface when it is up, else one on an up
//!    loopback interface. No default route, or nothing found: kubelet cannot register an address.
//!
//! With `--cloud-provider` set the cloud provider decides and nothing is modelled.

use compact_str::CompactString;
use std::net::IpAddr;

use serde::Serialize;

use super::parse_ip_sloppy;
use crate::facts::kubelet::{DnsLookupStatus, HostsOrder, KubeletFacts, NameLookup};
use crate::facts::{Facts, Family};
use crate::network::addresses::{is_global_unicast, owner_of};

/// The step that decided the address (the `step` of `Kubelet-NodeIP`'s evidence).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    NodeIp,
    HostnameIsIp,
    Lookup,
    DefaultRoute,
    /// A cloud provider sets the addresses.
    CloudProvider,
    /// Nothing gives an address: kubelet cannot register the node's InternalIP.
    None,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Step::NodeIp => "node-ip",
            Step::HostnameIsIp => "hostname-is-ip",
            Step::Lookup => "lookup",
            Step::DefaultRoute => "default-route",
            Step::CloudProvider => "cloud-provider",
            Step::None => "none",
        }
    }
}

/// What kubelet will register, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeIpPrediction {
    /// The InternalIP(s), the primary first; empty when kubelet fails or a cloud decides.
    pub addresses: Vec<IpAddr>,
    pub step: Step,
    /// The one-sentence reason ("/etc/hosts line 2 maps worker-41 to 10.20.41.41").
    pub reason: String,
    /// Every step passed on the way, for the operator.
    pub trace: Vec<String>,
    /// kubelet's own error when it cannot register an address (or refuses its flags).
    pub error: Option<String>,
    /// The answer depends on DNS: DNS gave it, or DNS did not answer and a later step decided.
    pub dns_dependent: bool,
    /// The node name maps only to addresses kubelet rejects (127.0.1.1 and the like) and the
    /// default route decided.
    pub rejected_mapping_only: bool,
    /// The prediction stands in for missing inputs (a snapshot without kubelet facts).
    pub assumed: Option<String>,
    /// The family kubelet prefers (IPv4 unless `--node-ip` starts with an IPv6 address or `::`).
    pub preferred: Family,
}

impl NodeIpPrediction {
    pub fn primary(&self) -> Option<IpAddr> {
        self.addresses.first().copied()
    }
}

/// Why kubelet rejects an address as its node IP, `None` when it accepts it.
pub fn rejection(facts: &Facts, ip: &IpAddr) -> Option<&'static str> {
    if ip.is_loopback() {
        return Some("loopback");
    }
    if ip.is_multicast() {
        return Some("multicast");
    }
    let link_local = match ip {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
    };
    if link_local {
        return Some("link-local");
    }
    if ip.is_unspecified() {
        return Some("unspecified");
    }
    if owner_of(facts, *ip).is_none() {
        return Some("not assigned to any interface of this host");
    }
    None
}

struct Builder {
    trace: Vec<String>,
    dns_dependent: bool,
    rejected_mapping_only: bool,
    preferred: Family,
}

impl Builder {
    fn done(self, addresses: Vec<IpAddr>, step: Step, reason: String) -> NodeIpPrediction {
        NodeIpPrediction {
            addresses,
            step,
            reason,
            trace: self.trace,
            error: None,
            dns_dependent: self.dns_dependent,
            rejected_mapping_only: self.rejected_mapping_only,
            assumed: None,
            preferred: self.preferred,
        }
    }
    fn failed(self, step: Step, error: String) -> NodeIpPrediction {
        NodeIpPrediction {
            addresses: Vec::new(),
            step,
            reason: error.clone(),
            trace: self.trace,
            error: Some(error),
            dns_dependent: self.dns_dependent,
            rejected_mapping_only: self.rejected_mapping_only,
            assumed: None,
            preferred: self.preferred,
        }
    }
}

/// The prediction for a host. Without kubelet facts (a schema-1 snapshot, a peer known only from
/// Ansible facts) the default-route step stands in, and `assumed` says so.
pub fn predict_node_ip(facts: &Facts) -> NodeIpPrediction {
    match facts.kubelet.as_ref() {
        Some(kubelet) => predict_with(facts, kubelet),
        None => {
            let mut builder = Builder {
                trace: vec!["no kubelet inputs in this snapshot: only the default-route step can be followed".into()],
                dns_dependent: false,
                rejected_mapping_only: false,
                preferred: Family::Ipv4,
            };
            let mut prediction = default_route_step(facts, &mut builder, Family::Ipv4)
                .unwrap_or_else(|error| builder.failed(Step::None, error));
            prediction.assumed = Some(format!(
                "the snapshot of {} has no kubelet inputs, so kubelet's last resort, the default route, stands in",
                facts.host.hostname
            ));
            prediction
        }
    }
}

/// apimachinery's `ChooseHostInterface` on its own (what k3s and RKE2 call when `--node-ip` is not
/// given): the address of the default-route interface, the reason, and the walk; or its error.
pub fn choose_host_interface(facts: &Facts) -> Result<(IpAddr, String, Vec<String>), String> {
    let mut builder = empty_builder(Family::Ipv4);
    let prediction = default_route_step(facts, &mut builder, Family::Ipv4)?;
    let ip = prediction
        .primary()
        .ok_or_else(|| "unable to select an IP from default routes".to_string())?;
    Ok((ip, prediction.reason, prediction.trace))
}

/// The prediction from gathered kubelet inputs.
pub fn predict_with(facts: &Facts, kubelet: &KubeletFacts) -> NodeIpPrediction {
    let mut builder = Builder {
        trace: Vec::new(),
        dns_dependent: false,
        rejected_mapping_only: false,
        preferred: Family::Ipv4,
    };
    if let Some(cloud) = kubelet
        .flags
        .cloud_provider
        .as_ref()
        .filter(|c| !c.value.is_empty())
    {
        let reason = format!(
            "--cloud-provider={} ({}): the cloud provider sets the node's addresses, nodecheck does not model them",
            cloud.value, cloud.source
        );
        builder.trace.push(reason.clone());
        return builder.done(Vec::new(), Step::CloudProvider, reason);
    }

    // Step 1: --node-ip.
    let mut node_ips: Vec<IpAddr> = Vec::new();
    if let Some(flag) = kubelet
        .flags
        .node_ip
        .as_ref()
        .filter(|f| !f.value.trim().is_empty())
    {
        let parts: Vec<&str> = flag.value.split(',').map(str::trim).collect();
        for part in &parts {
            match parse_ip_sloppy(part) {
                Some(ip) => node_ips.push(ip),
                None => {
                    builder
                        .trace
                        .push(format!("--node-ip={} ({})", flag.value, flag.source));
                    return builder.failed(
                        Step::NodeIp,
                        format!(
                            "--node-ip={} ({}): {part:?} is not an IP address; kubelet refuses to start",
                            flag.value, flag.source
                        ),
                    );
                }
            }
        }
        let dual_pair = node_ips.len() == 2 && Family::of(&node_ips[0]) != Family::of(&node_ips[1]);
        if node_ips.len() > 2 || (node_ips.len() == 2 && !dual_pair) {
            return builder.failed(
                Step::NodeIp,
                format!(
                    "--node-ip={} ({}): must be one address or a dual-stack pair (one IPv4, one IPv6); kubelet refuses to start",
                    flag.value, flag.source
                ),
            );
        }
        builder.preferred = Family::of(&node_ips[0]);
        let specified: Vec<IpAddr> = node_ips
            .iter()
            .copied()
            .filter(|ip| !ip.is_unspecified())
            .collect();
        for ip in &specified {
            if let Some(why) = rejection(facts, ip) {
                builder
                    .trace
                    .push(format!("--node-ip={} ({})", flag.value, flag.source));
                return builder.failed(
                    Step::NodeIp,
                    format!(
                        "--node-ip {ip} ({}) is {why}: kubelet reports \"failed to validate nodeIP\" and registers no address",
                        flag.source
                    ),
                );
            }
        }
        if !node_ips[0].is_unspecified() {
            let addresses = if specified.len() == 2 {
                specified
            } else {
                vec![node_ips[0]]
            };
            let shown: Vec<String> = addresses.iter().map(|a| a.to_string()).collect();
            let reason = format!(
                "--node-ip={} ({}) sets {}",
                flag.value,
                flag.source,
                shown.join(" and ")
            );
            builder.trace.push(reason.clone());
            return builder.done(addresses, Step::NodeIp, reason);
        }
        builder.trace.push(format!(
            "--node-ip={} ({}) only chooses the family: IPv{} preferred",
            flag.value,
            flag.source,
            builder.preferred.number()
        ));
    }

    // Step 2: the node name is an IP.
    let name = kubelet.node_name.as_str();
    if let Some(ip) = parse_ip_sloppy(name) {
        let source = kubelet
            .flags
            .hostname_override
            .as_ref()
            .map(|f| format!("--hostname-override ({})", f.source))
            .unwrap_or_else(|| "the host name".into());
        let reason = format!("{source} is the IP address {ip}");
        builder.trace.push(reason.clone());
        return builder.done(vec![ip], Step::HostnameIsIp, reason);
    }

    // Step 3: name lookup.
    let preferred = builder.preferred;
    if let Some(lookup) = kubelet.name_lookup.as_ref() {
        // kubelet's resolver reads /etc/hosts however large it is: when nodecheck could not, the
        // lookup may have gone otherwise, and the verdict says so rather than changing silently.
        let unread_hosts = lookup
            .hosts_file_error
            .as_ref()
            .filter(|_| HostsOrder::of(lookup.nsswitch_hosts.as_deref()).files)
            .map(|error| {
                format!(
                    "/etc/hosts could not be read ({error}) and kubelet's resolver reads it, so a line for {:?} there could decide instead",
                    lookup.name
                )
            });
        let mut prediction = match lookup_step(facts, lookup, &mut builder) {
            Some(prediction) => prediction,
            None => match default_route_step(facts, &mut builder, preferred) {
                Ok(prediction) => prediction,
                Err(error) => builder.failed(
                    Step::None,
                    format!("kubelet cannot get an address for node {name}: {error}"),
                ),
            },
        };
        if prediction.assumed.is_none() {
            prediction.assumed = unread_hosts;
        }
        return prediction;
    } else {
        builder
            .trace
            .push(format!("no name lookup of {name:?} was gathered"));
    }

    // Step 4: the default-route interface.
    match default_route_step(facts, &mut builder, preferred) {
        Ok(prediction) => prediction,
        Err(error) => builder.failed(
            Step::None,
            format!("kubelet cannot get an address for node {name}: {error}"),
        ),
    }
}

/// One resolver answer: the addresses and where each came from.
struct Answer {
    addresses: Vec<(IpAddr, String)>,
    from_dns: bool,
}

fn lookup_step(
    facts: &Facts,
    lookup: &NameLookup,
    builder: &mut Builder,
) -> Option<NodeIpPrediction> {
    let name = &lookup.name;
    let hosts_order = HostsOrder::of(lookup.nsswitch_hosts.as_deref());
    let (files_allowed, dns_allowed, dns_first) =
        (hosts_order.files, hosts_order.dns, hosts_order.dns_first);
    let files_answer = || -> Option<Answer> {
        (files_allowed && !lookup.hosts_file.is_empty()).then(|| Answer {
            addresses: lookup
                .hosts_file
                .iter()
                .map(|e| (e.address, format!("/etc/hosts line {}", e.line)))
                .collect(),
            from_dns: false,
        })
    };
    let dns = &lookup.dns;
    let dns_answer = || -> Option<Answer> {
        (dns_allowed && dns.status == DnsLookupStatus::Answered).then(|| Answer {
            addresses: dns
                .addresses
                .iter()
                .map(|a| {
                    (
                        *a,
                        format!(
                            "DNS ({} answered for {})",
                            dns.server.as_deref().unwrap_or("?"),
                            dns.query_name.as_deref().unwrap_or(name)
                        ),
                    )
                })
                .collect(),
            from_dns: true,
        })
    };
    let order = match &lookup.nsswitch_hosts {
        Some(words) => format!("nsswitch.conf hosts: {}", words.join(" ")),
        None => "no nsswitch.conf hosts line: files, then DNS".into(),
    };
    if hosts_order.consults_dns(lookup.hosts_file.len())
        && matches!(
            dns.status,
            DnsLookupStatus::Timeout | DnsLookupStatus::Error
        )
    {
        builder.dns_dependent = true;
        builder.trace.push(format!(
            "DNS for {name} did not answer ({}): kubelet's lookup then depends on DNS being down or up at the moment it starts",
            dns.detail.as_deref().unwrap_or("no detail")
        ));
    }
    let answer = if dns_first {
        dns_answer().or_else(files_answer)
    } else {
        files_answer().or_else(dns_answer)
    };
    let Some(answer) = answer else {
        builder.trace.push(format!(
            "{name} does not resolve ({order}; /etc/hosts has no line for it; DNS: {})",
            dns_status_text(lookup)
        ));
        return None;
    };
    builder.trace.push(format!("{name} resolves ({order})"));
    let mut chosen: Option<(IpAddr, String)> = None;
    for (ip, source) in &answer.addresses {
        match rejection(facts, ip) {
            Some(why) => builder
                .trace
                .push(format!("{source}: {ip} skipped ({why})")),
            None => {
                if Family::of(ip) == builder.preferred {
                    chosen = Some((*ip, source.clone()));
                    break;
                }
                if chosen.is_none() {
                    chosen = Some((*ip, source.clone()));
                }
            }
        }
    }
    match chosen {
        Some((ip, source)) => {
            if answer.from_dns {
                builder.dns_dependent = true;
            }
            let reason = format!("{source} maps {name} to {ip}");
            builder.trace.push(reason.clone());
            Some(
                std::mem::replace(builder, empty_builder(builder.preferred)).done(
                    vec![ip],
                    Step::Lookup,
                    reason,
                ),
            )
        }
        None => {
            builder.rejected_mapping_only = true;
            builder.trace.push(format!(
                "no address {name} resolves to is usable: kubelet falls through to the default route"
            ));
            None
        }
    }
}

/// Ends the walk with `ip` from the default-route step, recording `reason` in the trace.
fn decided_by_default_route(
    builder: &mut Builder,
    preferred: Family,
    ip: IpAddr,
    reason: String,
) -> NodeIpPrediction {
    builder.trace.push(reason.clone());
    std::mem::replace(builder, empty_builder(preferred)).done(vec![ip], Step::DefaultRoute, reason)
}

fn empty_builder(preferred: Family) -> Builder {
    Builder {
        trace: Vec::new(),
        dns_dependent: false,
        rejected_mapping_only: false,
        preferred,
    }
}

fn dns_status_text(lookup: &NameLookup) -> String {
    let dns = &lookup.dns;
    match dns.status {
        DnsLookupStatus::Answered => "answered".into(),
        DnsLookupStatus::NoSuchName => "no such name".into(),
        DnsLookupStatus::Timeout => "no answer".into(),
        DnsLookupStatus::NoServers => "no servers".into(),
        DnsLookupStatus::Error => format!("error: {}", dns.detail.as_deref().unwrap_or("?")),
        DnsLookupStatus::NotAsked => "not asked (nsswitch: files only)".into(),
    }
}

/// One default route as kubelet reads the route files: family and output interface.
fn default_routes(facts: &Facts) -> Vec<(Family, Option<CompactString>)> {
    let mut routes = Vec::new();
    for route in facts.routes.iter().filter(|r| r.is_default()) {
        if !matches!(route.route_type.as_str(), "unicast") {
            continue;
        }
        match route.family {
            // /proc/net/route shows one line per route, with the first next hop's device.
            Family::Ipv4 => routes.push((
                Family::Ipv4,
                route
                    .device
                    .clone()
                    .or_else(|| route.nexthops.first().and_then(|n| n.device.clone())),
            )),
            // /proc/net/ipv6_route lists each next hop; kubelet skips routes without a gateway.
            Family::Ipv6 => {
                if route.nexthops.is_empty() {
                    if route.gateway.is_some() {
                        routes.push((Family::Ipv6, route.device.clone()));
                    }
                } else {
                    for hop in route.nexthops.iter().filter(|h| h.gateway.is_some()) {
                        routes.push((Family::Ipv6, hop.device.clone()));
                    }
                }
            }
        }
    }
    routes
}

fn first_global(interface: &crate::facts::Interface, family: Family) -> Option<IpAddr> {
    interface
        .addresses
        .iter()
        .map(|a| a.address)
        .find(|ip| Family::of(ip) == family && is_global_unicast(ip))
}

fn default_route_step(
    facts: &Facts,
    builder: &mut Builder,
    preferred: Family,
) -> Result<NodeIpPrediction, String> {
    let routes = default_routes(facts);
    if routes.is_empty() {
        builder
            .trace
            .push("no default route (IPv4, or IPv6 with a gateway)".into());
        return Err(
            "no default routes found in \"/proc/net/route\" or \"/proc/net/ipv6_route\"".into(),
        );
    }
    let other = match preferred {
        Family::Ipv4 => Family::Ipv6,
        Family::Ipv6 => Family::Ipv4,
    };
    for family in [preferred, other] {
        for (route_family, device) in &routes {
            if *route_family != family {
                continue;
            }
            let Some(device) = device else {
                return Err("a default route has no interface".into());
            };
            let Some(interface) = facts.interface(device) else {
                return Err(format!(
                    "route interface {device}: no such network interface"
                ));
            };
            if interface.admin_up {
                if let Some(ip) = first_global(interface, family) {
                    let reason = format!(
                        "the IPv{} default route leaves through {device}, whose first global address is {ip}",
                        family.number()
                    );
                    return Ok(decided_by_default_route(builder, preferred, ip, reason));
                }
                builder.trace.push(format!(
                    "{device} (IPv{} default route) has no global IPv{} address",
                    family.number(),
                    family.number()
                ));
            } else {
                builder.trace.push(format!(
                    "{device} (IPv{} default route) is down",
                    family.number()
                ));
            }
            let loopback = facts
                .interfaces
                .iter()
                .filter(|i| i.admin_up && (i.name == "lo" || i.kind.as_deref() == Some("loopback")))
                .find_map(|i| first_global(i, family).map(|ip| (i.name.clone(), ip)));
            if let Some((lo, ip)) = loopback {
                let reason = format!(
                    "the IPv{} default route's interface {device} has no global address; kubelet takes {ip} from {lo} (unnumbered routing)",
                    family.number()
                );
                return Ok(decided_by_default_route(builder, preferred, ip, reason));
            }
        }
    }
    Err("unable to select an IP from default routes".into())
}
