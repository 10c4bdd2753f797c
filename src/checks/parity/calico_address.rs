//! `Parity-CalicoAddress`: the address calico-node autodetected on each node, as its
//! `projectcalico.org/IPv4Address` / `IPv6Address` annotation records it, must lie in the node network.
//!
//! This is the "Calico bound the wrong NIC" case named per node: a node whose annotation holds a
//! docker or compose bridge address (`172.18.0.1/16`) never builds its BGP mesh. Only nodes known from a
//! `kubectl get nodes -o json` list have the annotations — this node too, when the list holds it.
//! Without `node_network.cidrs` in the profile, the reference is the node's own InternalIP.

use std::net::IpAddr;

use ipnet::IpNet;

use super::group::{Grouping, Member};
use super::nodes::{parse_address, NodeView};
use crate::checks::{Area, CheckResult, Context, Status};
use crate::facts::Family;
use crate::peers::KubeNode;

pub const ID: &str = "Parity-CalicoAddress";

const INSIDE: &str = "inside the node network";
const OUTSIDE: &str = "outside the node network";
const NONE: &str = "no Calico address annotation";

pub fn evaluate(ctx: &Context, nodes: &[NodeView]) -> CheckResult {
    let cidrs = &ctx.profile.node_network.cidrs;
    let judged: Vec<(Member, Option<String>)> = nodes
        .iter()
        .filter_map(|n| Some((n, n.kube?)))
        .map(|(n, kube)| {
            let mut member = n.member();
            let value = match placement(kube, cidrs) {
                Placement::NoAnnotation => Some(NONE.to_string()),
                Placement::Unjudged => None,
                Placement::Inside => Some(INSIDE.to_string()),
                Placement::Outside(bad) => {
                    member.detail = Some(bad.join(", "));
                    Some(OUTSIDE.to_string())
                }
            };
            (member, value)
        })
        .collect();
    if judged.is_empty() {
        return CheckResult::skip(
            ID,
            Area::Parity,
            "no kubectl node list among the peers: Calico's address annotations come from \
             `kubectl get nodes -o json`",
        );
    }
    let grouping = Grouping::of(judged);
    let reference = if cidrs.is_empty() {
        "each node's InternalIP".to_string()
    } else {
        cidrs
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let outside = grouping.groups.iter().find(|g| g.value == OUTSIDE);
    let this_outside = outside.is_some_and(|g| g.has_this_node());
    let line = grouping.line();
    let unknown = grouping.unknown_note();
    let (status, message) = match outside {
        None => (
            Status::Ok,
            format!("calico-node's address is in the node network ({reference}) wherever it is recorded: {line}{unknown}"),
        ),
        Some(_) if this_outside => (
            Status::Fail,
            format!("calico-node on this node recorded an address outside the node network ({reference}): {line}{unknown}"),
        ),
        Some(g) => (
            Status::Warn,
            format!(
                "calico-node on {} peer{} recorded an address outside the node network ({reference}): {line}{unknown}",
                g.members.len(),
                if g.members.len() == 1 { "" } else { "s" }
            ),
        ),
    };
    let mut result =
        CheckResult::new(ID, Area::Parity, status, message).with("node_network", reference);
    if let serde_json::Value::Object(groups) = grouping.evidence() {
        result.evidence.extend(groups);
    }
    if outside.is_some() {
        result = result.fix(
            "calico-node autodetected a wrong interface on the nodes named (often a docker or compose \
             bridge): set an IP_AUTODETECTION_METHOD that selects the node network on every node \
             (`nodecheck calico` computes one), then delete the calico-node pods on those nodes so they \
             redetect",
        );
    }
    result
}

enum Placement {
    NoAnnotation,
    /// Neither a node network in the profile nor an InternalIP of the family to compare with.
    Unjudged,
    Inside,
    /// The annotations outside the node network.
    Outside(Vec<String>),
}

fn placement(node: &KubeNode, cidrs: &[IpNet]) -> Placement {
    let annotations: Vec<&String> = [&node.calico_ipv4_address, &node.calico_ipv6_address]
        .into_iter()
        .flatten()
        .collect();
    if annotations.is_empty() {
        return Placement::NoAnnotation;
    }
    let mut outside = Vec::new();
    let mut judged = false;
    for annotation in annotations {
        let Some(address) = parse_address(annotation) else {
            outside.push(format!("{annotation} (not an address)"));
            continue;
        };
        match inside(node, cidrs, address) {
            Some(true) => judged = true,
            Some(false) => outside.push(annotation.clone()),
            None => {}
        }
    }
    match (outside.is_empty(), judged) {
        (false, _) => Placement::Outside(outside),
        (true, true) => Placement::Inside,
        (true, false) => Placement::Unjudged,
    }
}

/// Whether `address` is in the node network of its family: the profile's CIDRs of that family, or
/// else the node's InternalIPs of that family. `None` when there is nothing to compare with.
fn inside(node: &KubeNode, cidrs: &[IpNet], address: IpAddr) -> Option<bool> {
    let family = Family::of(&address);
    let same_family: Vec<&IpNet> = cidrs
        .iter()
        .filter(|c| Family::of(&c.addr()) == family)
        .collect();
    if !same_family.is_empty() {
        return Some(same_family.iter().any(|c| c.contains(&address)));
    }
    let internal: Vec<IpAddr> = node
        .addresses
        .iter()
        .filter(|(kind, _)| kind == "InternalIP")
        .filter_map(|(_, a)| a.parse().ok())
        .filter(|a| Family::of(a) == family)
        .collect();
    if internal.is_empty() {
        return None;
    }
    Some(internal.contains(&address))
}
