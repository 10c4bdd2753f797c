//! The fleet as the model sees it: this node and every peer that has interface facts, each with its
//! Kubernetes InternalIP (from `kubectl get nodes -o json` input, else kubelet's choice predicted by
//! `crate::kubelet` from the node's own inputs) and the
//! address Calico stored on it. Peers known only from kubectl are listed but cannot be predicted.

use super::predict::{InternalIpOrigin, InternalIps, KernelReach, NodeInput};
use crate::facts::{Facts, Family};
use crate::peers::{KubeNode, Peer};

/// One node to predict for, with what decides the outcome of a failure.
#[derive(Debug, Clone)]
pub struct FleetNode<'a> {
    pub input: NodeInput<'a>,
    pub is_this_node: bool,
    pub kube: Option<&'a KubeNode>,
}

impl FleetNode<'_> {
    /// The address Calico stored on the Node for a family, when kubectl input shows it.
    pub fn stored_address(&self, family: Family) -> Option<&str> {
        let kube = self.kube?;
        match family {
            Family::Ipv4 => kube.calico_ipv4_address.as_deref(),
            Family::Ipv6 => kube.calico_ipv6_address.as_deref(),
        }
    }
    pub fn name(&self) -> &str {
        &self.input.name
    }
}

/// This node first, then the peers with facts, and the names of peers without facts.
#[derive(Debug, Clone)]
pub struct Fleet<'a> {
    pub nodes: Vec<FleetNode<'a>>,
    pub without_facts: Vec<String>,
}

/// Kubernetes' view of each node named in the peers, indexed once: a fleet of 10,000 looks it up
/// per node, and a scan per lookup would be quadratic. The first entry of a name wins.
fn kube_nodes_by_name(peers: &[Peer]) -> std::collections::HashMap<&str, &KubeNode> {
    let mut index = std::collections::HashMap::new();
    for node in peers.iter().filter_map(|p| p.node.as_deref()) {
        index.entry(node.name.as_str()).or_insert(node);
    }
    index
}

/// The node's InternalIPs: Kubernetes' own when a Node object is known, else kubelet's predicted.
pub fn internal_ips(kube: Option<&KubeNode>, facts: &Facts) -> InternalIps {
    match kube {
        Some(k) => InternalIps {
            addresses: k
                .addresses
                .iter()
                .filter(|(kind, _)| kind == "InternalIP")
                .map(|(_, a)| a.clone())
                .collect(),
            origin: InternalIpOrigin::Kubectl,
            reason: None,
            dns_dependent: false,
        },
        None => {
            let prediction = crate::kubelet::predict_node_ip(facts);
            let origin = if prediction.step == crate::kubelet::Step::CloudProvider {
                InternalIpOrigin::CloudProvider
            } else if prediction.assumed.is_some() {
                InternalIpOrigin::KubeletAssumed
            } else {
                InternalIpOrigin::KubeletModel
            };
            InternalIps {
                addresses: prediction.addresses.iter().map(|a| a.to_string()).collect(),
                origin,
                reason: Some(prediction.reason.clone()),
                dns_dependent: prediction.dns_dependent,
            }
        }
    }
}

/// Builds the fleet from this node's facts, Kubernetes' view of this node (when kubectl input held it),
/// the loaded peers, and this node's live kernel answers. Without `this_kube`, a kubectl peer entry
/// named like this host stands in.
pub fn build_fleet<'a>(
    facts: &'a Facts,
    this_kube: Option<&'a KubeNode>,
    peers: &'a [Peer],
    kernel_reach: &'a [KernelReach],
) -> Fleet<'a> {
    let this_name = facts.host.hostname.clone();
    let kube_by_name = kube_nodes_by_name(peers);
    let this_kube = this_kube.or_else(|| kube_by_name.get(this_name.as_str()).copied());
    let mut nodes = vec![FleetNode {
        input: NodeInput {
            name: this_name.to_string(),
            facts,
            internal_ips: internal_ips(this_kube, facts),
            kernel_reach,
        },
        is_this_node: true,
        kube: this_kube,
    }];
    for peer in peers {
        let Some(peer_facts) = peer.facts.as_ref() else {
            continue;
        };
        let kube = peer
            .node
            .as_deref()
            .or_else(|| kube_by_name.get(peer.name.as_str()).copied());
        nodes.push(FleetNode {
            input: NodeInput {
                name: peer.name.clone(),
                facts: peer_facts,
                internal_ips: internal_ips(kube, peer_facts),
                kernel_reach: &[],
            },
            is_this_node: false,
            kube,
        });
    }
    let with_facts: std::collections::HashSet<&str> =
        nodes.iter().map(|n| n.input.name.as_str()).collect();
    let without_facts = peers
        .iter()
        .filter(|p| p.facts.is_none() && !with_facts.contains(p.name.as_str()))
        .map(|p| p.name.clone())
        .collect();
    Fleet {
        nodes,
        without_facts,
    }
}
