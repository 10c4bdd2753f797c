//! Every component's pick on this node and on each peer with facts, and the consensus over them:
//! what `nodecheck addresses` prints (its JSON form is a documented contract, docs/addresses.md)
//! and what `Address-Consensus` judges.

use serde::Serialize;

use super::consensus::{disagreements, Disagreement, SharedAddress, SharedTally};
use super::stack::Stack;
use super::{NodeView, Pick};
use crate::facts::Facts;
use crate::peers::{KubeNode, Peer};

/// One node's picks.
#[derive(Debug, Clone, Serialize)]
pub struct NodePicks {
    pub name: String,
    pub this_node: bool,
    pub components: Vec<Pick>,
}

/// A disagreement on one node.
#[derive(Debug, Clone, Serialize)]
pub struct NodeDisagreement {
    pub node: String,
    #[serde(flatten)]
    pub disagreement: Disagreement,
}

/// The consensus over the fleet.
#[derive(Debug, Clone, Serialize)]
pub struct Consensus {
    /// No node's components disagree and no address is shared.
    pub agreed: bool,
    pub disagreements: Vec<NodeDisagreement>,
    pub shared_addresses: Vec<SharedAddress>,
}

/// The whole answer.
#[derive(Debug, Clone, Serialize)]
pub struct FleetPicks {
    pub nodes: Vec<NodePicks>,
    pub consensus: Consensus,
    /// Peers known without interface facts (a kubectl node list only): nothing to predict.
    pub peers_without_facts: Vec<String>,
}

impl FleetPicks {
    /// Whether any node's component would exit.
    pub fn any_fatal(&self) -> bool {
        self.nodes
            .iter()
            .any(|n| n.components.iter().any(|p| p.fatal.is_some()))
    }
}

/// How much of each peer's picks to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerDetail {
    /// Everything, walks included (`nodecheck addresses`).
    Full,
    /// This node's picks only; the peers' are judged (disagreements, shared addresses) and not
    /// kept: what the checks need, at a fraction of the memory for ten thousand peers.
    Addresses,
}

/// Picks for this node (with Kubernetes' view of it when known) and every peer with facts.
pub fn evaluate(
    stack: &Stack,
    facts: &Facts,
    this_kube: Option<&KubeNode>,
    peers: &[Peer],
    detail: PeerDetail,
) -> FleetPicks {
    let this_picks = stack.picks(&NodeView {
        name: &facts.host.hostname,
        facts,
        kube: this_kube,
        is_this_node: true,
    });
    let mut node_disagreements = Vec::new();
    let mut tally = SharedTally::default();
    let mut judge = |number: u32, name: &str, picks: &[Pick]| {
        node_disagreements.extend(disagreements(picks).into_iter().map(|d| NodeDisagreement {
            node: name.to_string(),
            disagreement: d,
        }));
        tally.add(number, picks);
    };
    judge(0, &facts.host.hostname, &this_picks);
    let mut nodes = vec![NodePicks {
        name: facts.host.hostname.to_string(),
        this_node: true,
        components: this_picks,
    }];
    let mut without = Vec::new();
    for (i, peer) in peers.iter().enumerate() {
        let Some(peer_facts) = peer.facts.as_deref() else {
            without.push(peer.name.clone());
            continue;
        };
        let components = stack.picks(&NodeView {
            name: &peer.name,
            facts: peer_facts,
            kube: peer.node.as_deref(),
            is_this_node: false,
        });
        judge(i as u32 + 1, &peer.name, &components);
        // The checks compare addresses only: a peer's picks are judged and let go.
        if detail == PeerDetail::Full {
            nodes.push(NodePicks {
                name: peer.name.clone(),
                this_node: false,
                components,
            });
        }
    }
    let shared = tally.finish(|n| match n {
        0 => facts.host.hostname.to_string(),
        n => peers[n as usize - 1].name.clone(),
    });
    FleetPicks {
        consensus: Consensus {
            agreed: node_disagreements.is_empty() && shared.is_empty(),
            disagreements: node_disagreements,
            shared_addresses: shared,
        },
        nodes,
        peers_without_facts: without,
    }
}
