//! `Peers-Input`: what loading `--peers` produced, as a check result, so a corrupt or unknown peer file
//! is in the report (and makes the exit code 2) while the other peers are still compared.

use serde_json::json;

use super::group::{thousands, NAMES_SHOWN};
use crate::checks::{Area, CheckResult};
use crate::peers::load::PeerSet;

pub const ID: &str = "Peers-Input";

pub fn peers_input(set: &PeerSet) -> CheckResult {
    let peers = set.peers.len();
    let from_ansible = set
        .peers
        .iter()
        .filter(|p| {
            p.facts
                .as_ref()
                .is_some_and(|f| f.partial_source().is_some())
        })
        .count();
    let snapshots = set.peers.iter().filter(|p| p.facts.is_some()).count() - from_ansible;
    let from_lists = set.peers.iter().filter(|p| p.node.is_some()).count();
    let result = if !set.problems.is_empty() {
        let n = set.problems.len();
        let mut listed: Vec<String> = set
            .problems
            .iter()
            .take(NAMES_SHOWN)
            .map(|p| format!("{}: {}", p.source, p.message))
            .collect();
        if n > NAMES_SHOWN {
            listed.push(format!("and {} more", thousands(n - NAMES_SHOWN)));
        }
        CheckResult::fail(
            ID,
            Area::Parity,
            format!(
                "{} peer input{} could not be used ({} other peer{} still compared): {}",
                thousands(n),
                if n == 1 { "" } else { "s" },
                thousands(peers),
                if peers == 1 { " is" } else { "s are" },
                listed.join("; ")
            ),
        )
        .fix(
            "fix or remove these inputs: --peers reads nodecheck snapshots (`nodecheck facts`), Ansible \
             facts (jsonfile or YAML fact caches, `setup --tree` files, ad-hoc `host | SUCCESS => {…}` \
             output), and `kubectl get nodes -o json` output",
        )
    } else if peers == 0 {
        let why = if set.this_node_sources.is_empty() {
            "the peer inputs hold no nodes".to_string()
        } else {
            format!(
                "the peer inputs hold only this node ({})",
                set.this_node_sources.join(", ")
            )
        };
        CheckResult::warn(
            ID,
            Area::Parity,
            format!("no other node to compare with: {why}"),
        )
        .fix("give --peers the snapshots (or the node list) of the cluster's other nodes")
    } else {
        let mut parts = vec![
            format!("{} from snapshots", thousands(snapshots)),
            format!("{} from node lists", thousands(from_lists)),
        ];
        if from_ansible > 0 {
            parts.insert(
                1,
                format!("{} from plain Ansible facts", thousands(from_ansible)),
            );
        }
        if set.merged > 0 {
            parts.push(format!(
                "{} merged with another source of the same node",
                thousands(set.merged)
            ));
        }
        if !set.this_node_sources.is_empty() {
            parts.push(format!(
                "this node recognised in {} and not compared with itself",
                set.this_node_sources.len()
            ));
        }
        CheckResult::ok(
            ID,
            Area::Parity,
            format!(
                "{} peer{} loaded from {} input{} ({})",
                thousands(peers),
                if peers == 1 { "" } else { "s" },
                thousands(set.inputs),
                if set.inputs == 1 { "" } else { "s" },
                parts.join(", ")
            ),
        )
    };
    result
        .with("inputs", set.inputs)
        .with("peers", peers)
        .with("merged", set.merged)
        .with("this_node_sources", set.this_node_sources.clone())
        .with(
            "problems",
            set.problems
                .iter()
                .map(|p| json!({"source": p.source, "message": p.message}))
                .collect::<Vec<_>>(),
        )
}
