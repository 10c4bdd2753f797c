//! Evaluating one method across the fleet, and recommending the method that selects the node-network
//! address on every node, in the order of the specification: `cidr=` the node subnets,
//! `kubernetes-internal-ip`, `can-reach=` an off-node address, then an anchored `interface=` list.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::Serialize;

use super::candidates::calico_addresses;
use super::method::K8S_INTERNAL_IP_SINCE;
use super::nodes::Fleet;
use super::outcome::{outcome, Effect, NodeState, Outcome};
use super::predict::{predict, Model, Prediction, Verdict};
use crate::facts::{Facts, Family, Interface};
use crate::network::addresses::is_global_unicast;
use crate::network::{self, routes};

/// The node network of each node (same order as the fleet), and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeNetworks {
    /// `profile node_network.cidrs` or `default-route interface subnet`.
    pub source: String,
    pub per_node: Vec<Vec<IpNet>>,
}

impl NodeNetworks {
    /// Every node-network CIDR of the fleet, first occurrence order.
    pub fn union(&self) -> Vec<IpNet> {
        let mut all: Vec<IpNet> = Vec::new();
        for n in self.per_node.iter().flatten() {
            if !all.contains(n) {
                all.push(*n);
            }
        }
        all
    }
}

/// The node network of every node: the profile's CIDRs of the family, else each node's default-route
/// interface subnet.
pub fn node_networks(fleet: &Fleet, profile_cidrs: &[IpNet], family: Family) -> NodeNetworks {
    let source = if profile_cidrs
        .iter()
        .any(|c| Family::of(&c.addr()) == family)
    {
        "profile node_network.cidrs"
    } else {
        "default-route interface subnet"
    };
    NodeNetworks {
        source: source.into(),
        per_node: fleet
            .nodes
            .iter()
            .map(|n| network::node_subnets_of(n.input.facts, profile_cidrs, family))
            .collect(),
    }
}

/// One node's result for one method.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeResult {
    pub prediction: Prediction,
    pub outcome: Outcome,
    /// Whether the selected address is this node's node-network address; `None` when nothing was
    /// selected or the node network is unknown.
    pub in_node_network: Option<bool>,
    /// Why this node does not get its node-network address; `None` when it does.
    pub problem: Option<String>,
}

/// How many per-node results an evaluation keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Every node's result (`nodecheck calico` shows them).
    EveryNode,
    /// This node's result (the fleet's first) and the first node with a problem (the rejection
    /// reason); the others are only counted. With a large fleet the results are most of the memory,
    /// and a check or an env line needs no more.
    Counts,
}

/// One method evaluated on every node with facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evaluation {
    pub method: String,
    pub family: Family,
    pub nodes: Vec<NodeResult>,
    /// Nodes where it selects the node-network address.
    pub good: usize,
    pub total: usize,
    pub warnings: Vec<String>,
}

impl Evaluation {
    pub fn works_everywhere(&self) -> bool {
        self.total > 0 && self.good == self.total
    }
    /// "selects the node-network address on 3/4 nodes".
    pub fn count_text(&self) -> String {
        format!(
            "selects the node-network address on {}/{} nodes",
            self.good, self.total
        )
    }
    /// The first node's problem, as the reason this method is rejected.
    pub fn rejection(&self) -> Option<String> {
        let first = self.nodes.iter().find_map(|n| n.problem.as_ref())?;
        let mut text = first.clone();
        let bad = self.total - self.good;
        if bad > 1 {
            text.push_str(&format!(" (and {} more nodes)", bad - 1));
        }
        Some(text)
    }
}

fn has_host_prefix(prefix_len: u8, ip: &IpAddr) -> bool {
    prefix_len == if ip.is_ipv4() { 32 } else { 128 }
}

/// Eligible addresses of a node inside some CIDRs, in calico-node's order: (interface, address).
fn eligible_in<'a>(
    facts: &'a Facts,
    cidrs: &[IpNet],
    family: Family,
    model: &Model,
) -> Vec<(&'a Interface, String, u8, IpAddr)> {
    facts
        .interfaces
        .iter()
        .rev()
        .flat_map(|i| {
            calico_addresses(i, family, model.version)
                .into_iter()
                .filter(|a| is_global_unicast(&a.ip) && cidrs.iter().any(|c| c.contains(&a.ip)))
                .map(move |a| (i, a.to_string(), a.prefix_len, a.ip))
        })
        .collect()
}

/// A method value as messages show it: escaped, and `first-found` for the unset (empty) value.
pub fn shown_method(method: &str) -> String {
    if method.is_empty() {
        "first-found".to_string()
    } else {
        method.to_string()
    }
}

fn problem_text(method: &str, node: &str, p: &Prediction, o: &Outcome) -> String {
    let method_shown = shown_method(method);
    match &p.verdict {
        Verdict::Failed { log } => {
            let first = log.first().cloned().unwrap_or_default();
            let what = if first.ends_with("no valid host interfaces found") {
                "no interface matches"
            } else if first.contains("no valid IPv") {
                "no eligible address"
            } else {
                "autodetection fails"
            };
            let then = match (o.effect, o.log.last()) {
                (Effect::KeepsStoredAddress, Some(last)) => format!(
                    "then \"{last}\": it keeps running with that stale address"
                ),
                _ => "and exit (CrashLoopBackOff on a new node; a node with a stored address keeps that stale address)".to_string(),
            };
            format!("`{method_shown}`: {what} on {node}; calico-node would log \"{first}\" {then}")
        }
        Verdict::Terminated { log } => format!(
            "`{method_shown}`: calico-node logs \"{}\" and terminates on {node} and every other node",
            log
        ),
        Verdict::Undetermined { reason } => {
            format!("`{method_shown}`: cannot be verified on {node}: {}", reason)
        }
        Verdict::Selected { .. } => format!("`{method_shown}` on {node}: {}", &o.summary),
    }
}

/// Fleets at least this large are predicted on several threads; below it, threads cost more than
/// they save.
const PARALLEL_FLEET_SIZE: usize = 512;

/// A large fleet is predicted this many nodes at a time, so that only one round's predictions (and
/// their traces) are alive at once: 10,000 nodes' worth would be about 7 MiB.
const ROUND_SIZE: usize = 1024;

/// Predicts `method` on every node of the fleet and hands each prediction to `use_one` in fleet
/// order. Nodes are independent, so a large fleet is split over the available cores, one round of
/// [`ROUND_SIZE`] nodes at a time. The first node is predicted here first, so the method's regexes
/// are compiled once and every worker starts with its own copy of them (no shared lock).
fn for_each_prediction(
    model: &Model,
    fleet: &Fleet,
    method: &str,
    family: Family,
    mut use_one: impl FnMut(usize, Prediction),
) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || fleet.nodes.len() < PARALLEL_FLEET_SIZE {
        for (i, node) in fleet.nodes.iter().enumerate() {
            use_one(i, predict(model, &node.input, method, family));
        }
        return;
    }
    use_one(0, predict(model, &fleet.nodes[0].input, method, family));
    let mut next = 1;
    for round in fleet.nodes[1..].chunks(ROUND_SIZE) {
        let chunk = round.len().div_ceil(threads);
        let predicted: Vec<Vec<Prediction>> = std::thread::scope(|scope| {
            let workers: Vec<_> = round
                .chunks(chunk)
                .map(|nodes| {
                    let own = model.for_another_thread();
                    scope.spawn(move || {
                        nodes
                            .iter()
                            .map(|n| predict(&own, &n.input, method, family))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().expect("a prediction thread panicked"))
                .collect()
        });
        for p in predicted.into_iter().flatten() {
            use_one(next, p);
            next += 1;
        }
    }
}

/// Every node's prediction, in fleet order.
#[cfg(test)]
fn predict_fleet(model: &Model, fleet: &Fleet, method: &str, family: Family) -> Vec<Prediction> {
    let mut all = Vec::with_capacity(fleet.nodes.len());
    for_each_prediction(model, fleet, method, family, |_, p| all.push(p));
    all
}

/// Evaluates one method value on every node of the fleet.
pub fn evaluate_method(
    model: &Model,
    fleet: &Fleet,
    networks: &NodeNetworks,
    method: &str,
    family: Family,
    keep: Keep,
) -> Evaluation {
    let mut good = 0;
    let mut first_problem_kept = false;
    // The first node to take an address keeps it; any later node selecting it conflicts.
    let mut owners: BTreeMap<IpAddr, &str> = BTreeMap::new();
    let mut nodes = Vec::new();
    let mut warnings = Vec::new();
    for_each_prediction(model, fleet, method, family, |i, p| {
        let node = &fleet.nodes[i];
        let network = &networks.per_node[i];
        let mut conflicting = None;
        if let Some((_, a)) = p.selected() {
            match owners.get(&a.ip) {
                Some(owner) => conflicting = Some(*owner),
                None => {
                    owners.insert(a.ip, node.name());
                }
            }
        }
        let state = NodeState {
            stored_address: node.stored_address(family),
            conflicting_node: conflicting,
        };
        let o = outcome(&p, model.version, state);
        let in_network = p
            .selected()
            .filter(|_| !network.is_empty())
            .map(|(_, a)| network.iter().any(|c| c.contains(&a.ip)));
        let problem = match (&p.verdict, in_network) {
            (Verdict::Selected { interface, address, .. }, _) if o.effect == Effect::ConflictTerminates => Some(format!(
                "`{}`: selects {address} on {} on {} as well as on {}: address conflict, calico-node terminates",
                shown_method(method), interface, node.name(), conflicting.unwrap_or_default()
            )),
            (Verdict::Selected { interface, address, .. }, Some(false)) => Some(format!(
                "`{}`: selects {} {address} on {}, outside the node network {}",
                shown_method(method),
                interface,
                node.name(),
                network.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", ")
            )),
            (Verdict::Selected { interface, address, .. }, Some(true)) => {
                // A /32 (/128) VIP in the node network while the node has a real subnet address there.
                let own = eligible_in(node.input.facts, network, family, model)
                    .into_iter()
                    .find(|(_, _, len, ip)| !has_host_prefix(*len, ip));
                match own {
                    Some((own_if, own_addr, _, _)) if has_host_prefix(address.prefix_len, &address.ip) => Some(format!(
                        "`{}`: selects the host-prefix address {address} on {} on {} instead of {} {own_addr} (a VIP held by this node)",
                        shown_method(method), interface, node.name(), own_if.name
                    )),
                    _ => None,
                }
            }
            (Verdict::Selected { .. }, None) => Some(format!(
                "`{}`: the node network of {} is unknown (no profile node_network.cidrs and no default route)",
                shown_method(method),
                node.name()
            )),
            _ => Some(problem_text(method, node.name(), &p, &o)),
        };
        let eligible = if method.starts_with("cidr=") {
            eligible_in(node.input.facts, network, family, model)
        } else {
            Vec::new()
        };
        if eligible.len() > 1 {
            warnings.push(format!(
                "{} has {} eligible addresses in the node network ({}); calico-node takes the first in reverse interface order: {} on {}",
                node.name(),
                eligible.len(),
                eligible.iter().map(|(i, a, _, _)| format!("{a} on {}", i.name)).collect::<Vec<_>>().join(", "),
                eligible[0].1,
                eligible[0].0.name
            ));
        }
        let kept = match keep {
            Keep::EveryNode => true,
            Keep::Counts => i == 0 || (problem.is_some() && !first_problem_kept),
        };
        if problem.is_none() {
            good += 1;
        } else if kept {
            first_problem_kept = true;
        }
        if kept {
            nodes.push(NodeResult {
                prediction: p,
                outcome: o,
                in_node_network: in_network,
                problem,
            });
        }
    });
    Evaluation {
        method: method.to_string(),
        family,
        total: fleet.nodes.len(),
        good,
        nodes,
        warnings,
    }
}

/// A method the recommendation considered and turned down.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    pub method: String,
    pub reason: String,
}

/// The recommendation for one family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recommendation {
    pub family: Family,
    /// The method that selects the node-network address on every node; `None` when no candidate does.
    pub chosen: Option<Evaluation>,
    /// Candidates in recommendation order that were evaluated and rejected, or could not be formed.
    pub rejected: Vec<Rejection>,
    pub warnings: Vec<String>,
}

/// Go's `regexp.QuoteMeta`, except that U+FFFD is written `\x{fffd}`: that is how calico-node's
/// regexp sees each byte of an interface name that is not UTF-8 ([`Interface::go_name`]), and the
/// escape keeps the method plain ASCII to read and paste.
pub fn go_quote_meta(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == char::REPLACEMENT_CHARACTER {
            out.push_str("\\x{fffd}");
            continue;
        }
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The candidate method values, in recommendation order, or why one cannot be formed.
pub fn candidate_methods(
    model: &Model,
    fleet: &Fleet,
    networks: &NodeNetworks,
    family: Family,
    can_reach: Option<&str>,
) -> Vec<Result<String, Rejection>> {
    let mut out = Vec::new();
    // 1. cidr= the node subnets.
    let union = networks.union();
    out.push(if union.is_empty() {
        Err(Rejection {
            method: "cidr=<node subnets>".into(),
            reason: format!(
                "no IPv{} node network is known: set node_network.cidrs in the profile (no default route to infer it from)",
                family.number()
            ),
        })
    } else {
        Ok(format!(
            "cidr={}",
            union.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(",")
        ))
    });
    // 2. kubernetes-internal-ip.
    out.push(if model.version.triple() >= K8S_INTERNAL_IP_SINCE.triple() {
        Ok("kubernetes-internal-ip".into())
    } else {
        Err(Rejection {
            method: "kubernetes-internal-ip".into(),
            reason: format!(
                "needs Calico {K8S_INTERNAL_IP_SINCE} or later; Calico {} would terminate with \"Invalid IP autodetection method: kubernetes-internal-ip\"",
                model.version
            ),
        })
    });
    // 3. can-reach= an off-node address.
    out.push(match can_reach {
        Some(dest) => Ok(format!("can-reach={dest}")),
        None => {
            let this = fleet.nodes.first().map(|n| n.input.facts);
            let gateway = this.and_then(|f| routes::default_gateway(f, family));
            let on_network = gateway.filter(|g| union.iter().any(|c| c.contains(g)));
            let held_by_a_node = on_network.filter(|g| {
                fleet
                    .nodes
                    .iter()
                    .any(|n| network::addresses::owner_of(n.input.facts, *g).is_some())
            });
            match (gateway, on_network, held_by_a_node) {
                (_, Some(g), None) => Ok(format!("can-reach={g}")),
                (_, Some(g), Some(_)) => Err(Rejection {
                    method: format!("can-reach={g}"),
                    reason: format!("the default gateway {g} is an address of a node (a VIP); set calico.can_reach in the profile to an off-node router"),
                }),
                (Some(g), None, _) => Err(Rejection {
                    method: "can-reach=<off-node address>".into(),
                    reason: format!("the default gateway {g} is not on the node network; set calico.can_reach in the profile to a router on the node network"),
                }),
                (None, _, _) => Err(Rejection {
                    method: "can-reach=<off-node address>".into(),
                    reason: format!("no IPv{} default gateway here and no calico.can_reach in the profile", family.number()),
                }),
            }
        }
    });
    // 4. interface=^(names)$, the interfaces holding each node's node-network address, each name as
    // calico-node's regexp sees it (a byte that is not UTF-8 is U+FFFD there).
    let mut names: Vec<String> = Vec::new();
    let mut missing: Vec<String> = Vec::new();
    for (i, node) in fleet.nodes.iter().enumerate() {
        let found = eligible_in(node.input.facts, &networks.per_node[i], family, model)
            .into_iter()
            .find(|(_, _, len, ip)| !has_host_prefix(*len, ip))
            .map(|(interface, ..)| interface.go_name().into_owned());
        match found {
            Some(name) if !names.contains(&name) => names.push(name),
            Some(_) => {}
            None => missing.push(node.name().to_string()),
        }
    }
    out.push(if names.is_empty() || !missing.is_empty() {
        Err(Rejection {
            method: "interface=^(…)$".into(),
            reason: format!(
                "no interface holds the node-network address on {}",
                if missing.is_empty() {
                    "any node".to_string()
                } else {
                    missing.join(", ")
                }
            ),
        })
    } else {
        let alternatives: Vec<String> = names.iter().map(|n| go_quote_meta(n)).collect();
        Ok(if alternatives.len() == 1 {
            format!("interface=^{}$", alternatives[0])
        } else {
            format!("interface=^({})$", alternatives.join("|"))
        })
    });
    out
}

/// What the verification of a recommended method rests on, when it is not the nodes' own answer.
fn assumption_warnings(fleet: &Fleet, method: &str) -> Vec<String> {
    let mut out = Vec::new();
    if method.starts_with("kubernetes-internal-ip") {
        use super::predict::InternalIpOrigin;
        let with_origin = |origin: InternalIpOrigin| -> Vec<&str> {
            fleet
                .nodes
                .iter()
                .filter(|n| n.input.internal_ips.origin == origin)
                .map(|n| n.name())
                .collect()
        };
        let assumed = with_origin(InternalIpOrigin::KubeletAssumed);
        if !assumed.is_empty() {
            out.push(format!(
                "assumed: verified against kubelet's last resort (the default-route interface's address) on {}: neither `kubectl get nodes -o json` input nor kubelet inputs name their InternalIP; a --node-ip or /etc/hosts line there changes the answer",
                assumed.join(", ")
            ));
        }
        let predicted = with_origin(InternalIpOrigin::KubeletModel);
        if !predicted.is_empty() {
            out.push(format!(
                "verified against the InternalIP kubelet will register on {} (predicted from its flags, /etc/hosts, DNS and routes; see Kubelet-NodeIP)",
                predicted.join(", ")
            ));
        }
        let dns: Vec<&str> = fleet
            .nodes
            .iter()
            .filter(|n| n.input.internal_ips.dns_dependent)
            .map(|n| n.name())
            .collect();
        if !dns.is_empty() {
            out.push(format!(
                "kubelet's InternalIP depends on DNS answering on {}: pin --node-ip there before relying on kubernetes-internal-ip",
                dns.join(", ")
            ));
        }
    }
    if method.starts_with("can-reach=") {
        let from_routes: Vec<&str> = fleet
            .nodes
            .iter()
            .filter(|n| n.input.kernel_reach.is_empty())
            .map(|n| n.name())
            .collect();
        if !from_routes.is_empty() {
            out.push(format!(
                "verified from the saved routes of {}; calico-node asks the kernel at every start and poll, so a missing route at boot or policy routing changes the answer",
                from_routes.join(", ")
            ));
        }
    }
    out
}

/// Recommends the first candidate that selects the node-network address on every node; the others
/// that do not are listed with their reason. Only the chosen evaluation is kept (with `keep`'s
/// results): with a large fleet each holds a prediction per node, so the others are dropped as soon
/// as they are judged.
pub fn recommend(
    model: &Model,
    fleet: &Fleet,
    networks: &NodeNetworks,
    family: Family,
    can_reach: Option<&str>,
    keep: Keep,
) -> Recommendation {
    let mut rejected = Vec::new();
    let mut chosen: Option<Evaluation> = None;
    for candidate in candidate_methods(model, fleet, networks, family, can_reach) {
        match candidate {
            Err(r) => rejected.push(r),
            Ok(method) => {
                let e = evaluate_method(model, fleet, networks, &method, family, keep);
                if e.works_everywhere() {
                    chosen.get_or_insert(e);
                } else {
                    rejected.push(Rejection {
                        method: method.clone(),
                        reason: e
                            .rejection()
                            .unwrap_or_else(|| "no node to verify it on".into()),
                    });
                }
            }
        }
    }
    let mut warnings = chosen
        .as_ref()
        .map(|c| c.warnings.clone())
        .unwrap_or_default();
    if let Some(c) = &chosen {
        warnings.extend(assumption_warnings(fleet, &c.method));
    }
    Recommendation {
        family,
        chosen,
        rejected,
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use crate::calico::nodes::build_fleet;
    use crate::facts::testkit::host;
    use crate::peers::Peer;
    use crate::profile::calico_version::CalicoVersion;

    /// A fleet large enough to be predicted on several threads, in more than one round, gives exactly
    /// the sequential answer, node for node, in fleet order.
    #[test]
    fn a_large_fleet_predicted_in_parallel_matches_the_sequential_walk() {
        let this = host("worker-0")
            .nic("eth3", &["10.20.41.10/24"])
            .link("br-3f2a1b4c5d6e", Some("bridge"), &["172.18.0.1/16"])
            .build();
        let peers: Vec<Peer> = (1..ROUND_SIZE + PARALLEL_FLEET_SIZE)
            .map(|i| {
                let name = format!("worker-{i}");
                let nic = if i % 3 == 0 { "ens192" } else { "eth3" };
                let address = format!("10.20.{}.{}/16", 41 + i / 250, i % 250 + 1);
                let facts = host(&name)
                    .nic(nic, &[address.as_str()])
                    .link("docker0", Some("bridge"), &["172.17.0.1/16"])
                    .build();
                Peer {
                    name: name.clone(),
                    source: format!("{name}.json"),
                    facts: Some(Box::new(facts)),
                    node: None,
                }
            })
            .collect();
        let fleet = build_fleet(&this, None, &peers, &[]);
        assert!(fleet.nodes.len() > ROUND_SIZE + 1);
        let version = CalicoVersion::new(3, 24, 1);
        let model = Model::new(&version, &[]);
        for method in ["first-found", "interface=eth3", "cidr=10.20.0.0/16"] {
            let sequential: Vec<Prediction> = fleet
                .nodes
                .iter()
                .map(|n| predict(&model, &n.input, method, Family::Ipv4))
                .collect();
            assert_eq!(
                predict_fleet(&model, &fleet, method, Family::Ipv4),
                sequential,
                "{method}"
            );
        }
    }

    /// The `interface=` candidate names a NIC that is not UTF-8 as calico-node's regexp reads it, and
    /// that method selects the node address on every node.
    #[test]
    fn an_interface_candidate_for_a_name_that_is_not_utf8_selects_it() {
        let this = host("worker-0")
            .nic("x", &["10.20.41.10/24"])
            .bytes_name(b"n\xff")
            .build();
        let peer = host("worker-1")
            .nic("x", &["10.20.41.11/24"])
            .bytes_name(b"n\xff")
            .build();
        let peers = [Peer {
            name: "worker-1".into(),
            source: "worker-1.json".into(),
            facts: Some(Box::new(peer)),
            node: None,
        }];
        let fleet = build_fleet(&this, None, &peers, &[]);
        let version = CalicoVersion::new(3, 28, 0);
        let model = Model::new(&version, &[]);
        let networks = node_networks(&fleet, &["10.20.41.0/24".parse().unwrap()], Family::Ipv4);
        let candidates = candidate_methods(&model, &fleet, &networks, Family::Ipv4, None);
        let interface = candidates
            .iter()
            .flatten()
            .find(|m| m.starts_with("interface="))
            .expect("an interface= candidate");
        assert_eq!(interface, "interface=^n\\x{fffd}$");
        let evaluation = evaluate_method(
            &model,
            &fleet,
            &networks,
            interface,
            Family::Ipv4,
            Keep::EveryNode,
        );
        assert_eq!((evaluation.good, evaluation.total), (2, 2));
    }

    /// Counting instead of keeping every node's result changes neither the counts, nor this node's
    /// result, nor the rejection reason; only this node and the first node with a problem are kept.
    #[test]
    fn an_evaluation_that_only_counts_keeps_this_node_and_the_first_problem() {
        let this = host("worker-0").nic("eth3", &["10.20.41.10/24"]).build();
        let peers: Vec<Peer> = (1..40)
            .map(|i| {
                let name = format!("worker-{i}");
                let nic = if i % 4 == 0 { "ens192" } else { "eth3" };
                let address = format!("10.20.41.{}/24", i + 10);
                Peer {
                    name: name.clone(),
                    source: format!("{name}.json"),
                    facts: Some(Box::new(host(&name).nic(nic, &[address.as_str()]).build())),
                    node: None,
                }
            })
            .collect();
        let fleet = build_fleet(&this, None, &peers, &[]);
        let version = CalicoVersion::new(3, 24, 1);
        let model = Model::new(&version, &[]);
        let networks = node_networks(&fleet, &["10.20.41.0/24".parse().unwrap()], Family::Ipv4);
        for method in ["interface=^eth3$", "cidr=10.20.41.0/24"] {
            let every = evaluate_method(
                &model,
                &fleet,
                &networks,
                method,
                Family::Ipv4,
                Keep::EveryNode,
            );
            let counts = evaluate_method(
                &model,
                &fleet,
                &networks,
                method,
                Family::Ipv4,
                Keep::Counts,
            );
            assert_eq!(
                (counts.good, counts.total),
                (every.good, every.total),
                "{method}"
            );
            assert_eq!(counts.rejection(), every.rejection(), "{method}");
            assert_eq!(counts.nodes.first(), every.nodes.first(), "{method}");
            if let Some(first_problem) = every.nodes.iter().find(|n| n.problem.is_some()) {
                assert!(counts.nodes.contains(first_problem), "{method}");
            }
            assert!(counts.nodes.len() <= 2, "{method}");
        }
        // The fixture has something to reject: ens192 nodes are missed by an eth3 regex.
        let every = evaluate_method(
            &model,
            &fleet,
            &networks,
            "interface=^eth3$",
            Family::Ipv4,
            Keep::EveryNode,
        );
        assert_eq!((every.good, every.total), (31, 40));
    }

    /// Workers start from the regexes the calling thread compiled: a fresh model predicting a large
    /// fleet gives the sequential answer, and a copy for another thread carries the compiled
    /// patterns (and the rejected ones) without compiling them again.
    #[test]
    fn a_model_for_another_thread_starts_with_the_compiled_regexes() {
        let version = CalicoVersion::new(3, 24, 1);
        let model = Model::new(&version, &[]);
        let ok = model.regex("^eth[0-9]+$").unwrap();
        let rejected = model.regex("a**").unwrap_err();
        let other = model.for_another_thread();
        let copied = other.regex("^eth[0-9]+$").unwrap();
        assert!(!Arc::ptr_eq(&ok, &copied), "each thread has its own regex");
        assert_eq!(copied.rust_pattern, ok.rust_pattern);
        assert_eq!(other.regex("a**").unwrap_err(), rejected);

        let this = host("worker-0").nic("eth3", &["10.20.41.10/24"]).build();
        let peers: Vec<Peer> = (1..PARALLEL_FLEET_SIZE + 8)
            .map(|i| {
                let name = format!("worker-{i}");
                let address = format!("10.20.{}.{}/16", 41 + i / 250, i % 250 + 1);
                Peer {
                    name: name.clone(),
                    source: format!("{name}.json"),
                    facts: Some(Box::new(
                        host(&name).nic("eth3", &[address.as_str()]).build(),
                    )),
                    node: None,
                }
            })
            .collect();
        let fleet = build_fleet(&this, None, &peers, &[]);
        let method = "skip-interface=^br-.*,docker0";
        let parallel = predict_fleet(&Model::new(&version, &[]), &fleet, method, Family::Ipv4);
        let fresh = Model::new(&version, &[]);
        let sequential: Vec<Prediction> = fleet
            .nodes
            .iter()
            .map(|n| predict(&fresh, &n.input, method, Family::Ipv4))
            .collect();
        assert_eq!(parallel, sequential);
    }
}
