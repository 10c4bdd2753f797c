//! Recommending the method that selects the node-network address on every node, in the order of the
//! specification: `cidr=` the node subnets, `kubernetes-internal-ip`, `can-reach=` an off-node
//! address, then an anchored `interface=` list. Each candidate is judged by `fleet_eval`.

use serde::Serialize;

use super::fleet_eval::{
    eligible_in, evaluate_method, has_host_prefix, Evaluation, Keep, NodeNetworks,
};
use super::go_format::quote_meta;
use super::method::K8S_INTERNAL_IP_SINCE;
use super::nodes::Fleet;
use super::predict::Model;
use crate::facts::Family;
use crate::network::{self, routes};

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
        let alternatives: Vec<String> = names.iter().map(|n| quote_meta(n)).collect();
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

    use crate::calico::fleet_eval::node_networks;
    use crate::calico::nodes::build_fleet;
    use crate::facts::testkit::host;
    use crate::peers::Peer;
    use crate::profile::calico_version::CalicoVersion;

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
}
