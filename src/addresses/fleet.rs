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

/// A walk over the fleet, one node at a time: each node's picks are judged (disagreements, shared
/// addresses) as they are made, and handed out for the caller to keep, print or drop. `evaluate`
/// keeps them; `nodecheck addresses --format json` writes each and lets it go, so ten thousand
/// peers' walks are never all in memory at once.
pub struct FleetWalk<'a> {
    stack: &'a Stack,
    facts: &'a Facts,
    this_kube: Option<&'a KubeNode>,
    peers: &'a [Peer],
    /// The next node: 0 is this node, n the n-th peer.
    next: usize,
    disagreements: Vec<NodeDisagreement>,
    tally: SharedTally,
    without: Vec<String>,
    any_fatal: bool,
}

/// What the walk found once every node was seen.
pub struct FleetVerdict {
    pub consensus: Consensus,
    /// Peers known without interface facts (a kubectl node list only): nothing to predict.
    pub peers_without_facts: Vec<String>,
    /// Whether any node's component would exit.
    pub any_fatal: bool,
}

impl<'a> FleetWalk<'a> {
    /// This node (with Kubernetes' view of it when known), then every peer with facts.
    pub fn new(
        stack: &'a Stack,
        facts: &'a Facts,
        this_kube: Option<&'a KubeNode>,
        peers: &'a [Peer],
    ) -> FleetWalk<'a> {
        FleetWalk {
            stack,
            facts,
            this_kube,
            peers,
            next: 0,
            disagreements: Vec::new(),
            tally: SharedTally::default(),
            without: Vec::new(),
            any_fatal: false,
        }
    }

    fn judge(&mut self, number: usize, name: &str, picks: &[Pick]) {
        self.disagreements
            .extend(disagreements(picks).into_iter().map(|d| NodeDisagreement {
                node: name.to_string(),
                disagreement: d,
            }));
        self.tally.add(number as u32, picks);
        self.any_fatal |= picks.iter().any(|p| p.fatal.is_some());
    }

    /// Every node's picks, walks included, with the verdict (`nodecheck addresses` in human form).
    pub fn collect_all(mut self) -> (FleetPicks, bool) {
        let nodes: Vec<NodePicks> = self.by_ref().collect();
        let any_fatal = self.any_fatal;
        (self.into_picks(nodes), any_fatal)
    }

    /// `nodes` with the verdict of the walk run to its end.
    fn into_picks(self, nodes: Vec<NodePicks>) -> FleetPicks {
        let verdict = self.finish();
        FleetPicks {
            nodes,
            consensus: verdict.consensus,
            peers_without_facts: verdict.peers_without_facts,
        }
    }

    /// Everything the walk judged, once it has run to its end.
    pub fn finish(mut self) -> FleetVerdict {
        while self.next().is_some() {}
        let (facts, peers) = (self.facts, self.peers);
        let shared = self.tally.finish(|n| match n {
            0 => facts.host.hostname.to_string(),
            n => peers[n as usize - 1].name.clone(),
        });
        FleetVerdict {
            consensus: Consensus {
                agreed: self.disagreements.is_empty() && shared.is_empty(),
                disagreements: self.disagreements,
                shared_addresses: shared,
            },
            peers_without_facts: self.without,
            any_fatal: self.any_fatal,
        }
    }
}

impl Iterator for FleetWalk<'_> {
    type Item = NodePicks;

    /// The next node with facts, its picks judged.
    fn next(&mut self) -> Option<NodePicks> {
        if self.next == 0 {
            self.next = 1;
            let facts = self.facts;
            let components = self.stack.picks(&NodeView {
                name: &facts.host.hostname,
                facts,
                kube: self.this_kube,
                is_this_node: true,
            });
            self.judge(0, &facts.host.hostname, &components);
            return Some(NodePicks {
                name: facts.host.hostname.to_string(),
                this_node: true,
                components,
            });
        }
        while let Some(peer) = self.peers.get(self.next - 1) {
            let number = self.next;
            self.next += 1;
            let Some(peer_facts) = peer.facts.as_deref() else {
                self.without.push(peer.name.clone());
                continue;
            };
            let components = self.stack.picks(&NodeView {
                name: &peer.name,
                facts: peer_facts,
                kube: peer.node.as_deref(),
                is_this_node: false,
            });
            self.judge(number, &peer.name, &components);
            return Some(NodePicks {
                name: peer.name.clone(),
                this_node: false,
                components,
            });
        }
        None
    }
}

/// This node's picks (with Kubernetes' view of it when known) and the fleet's verdict: the peers'
/// picks are judged (disagreements, shared addresses) and let go, what the checks need at a
/// fraction of the memory for ten thousand peers.
pub fn evaluate(
    stack: &Stack,
    facts: &Facts,
    this_kube: Option<&KubeNode>,
    peers: &[Peer],
) -> FleetPicks {
    let mut walk = FleetWalk::new(stack, facts, this_kube, peers);
    let nodes: Vec<NodePicks> = walk.by_ref().filter(|node| node.this_node).collect();
    walk.into_picks(nodes)
}
