//! Evaluating one `IP_AUTODETECTION_METHOD` across the fleet: calico-node's pick on every node
//! (predicted on several threads, in rounds, for large fleets), whether each pick is in that node's
//! node network, and what the method would keep or break. The recommendation (`recommend`) asks
//! this for each candidate method.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::Serialize;

use super::candidates::calico_addresses;
use super::nodes::Fleet;
use super::outcome::{outcome, Effect, NodeState, Outcome};
use super::predict::{predict, Model, Prediction, Verdict};
use crate::facts::{Facts, Family, Interface};
use crate::network::addresses::is_global_unicast;
use crate::network::{self};

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

pub(super) fn has_host_prefix(prefix_len: u8, ip: &IpAddr) -> bool {
    prefix_len == if ip.is_ipv4() { 32 } else { 128 }
}

/// Eligible addresses of a node inside some CIDRs, in calico-node's order: (interface, address).
pub(super) fn eligible_in<'a>(
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
