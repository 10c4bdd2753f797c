//! `Peers-Input`: what loading `--peers` produced, as a check result, so a corrupt or unknown peer file
//! is in the report (and makes the exit code 2) while the other peers are still compared. It also
//! tells each peer snapshot's age (its `collected_at`, against this node's): a snapshot taken from a
//! fact cache may be old, and `--max-peer-age` makes one older than the bound a failure.

use serde_json::json;

use super::group::{thousands, NAMES_SHOWN};
use crate::checks::{Area, CheckResult};
use crate::peers::load::PeerSet;
use crate::timestamp::unix_seconds;

pub const ID: &str = "Peers-Input";

/// How old the peers' snapshots may be, and when "now" is.
#[derive(Debug, Clone, Copy)]
pub struct PeerAge<'a> {
    /// This node's `collected_at`: ages are counted from it.
    pub now: &'a str,
    /// `--max-peer-age`, in seconds.
    pub max_seconds: Option<u64>,
}

/// Each peer's snapshot age in seconds (`None` when its `collected_at` is missing or unreadable),
/// oldest first; peers known only from a node list have no snapshot and are left out.
fn snapshot_ages(set: &PeerSet, now: &str) -> Vec<(String, String, Option<i64>)> {
    let now = unix_seconds(now);
    let mut ages: Vec<(String, String, Option<i64>)> = set
        .peers
        .iter()
        .filter_map(|p| {
            let facts = p.facts.as_ref()?;
            let age = unix_seconds(&facts.collected_at)
                .zip(now)
                .map(|(then, now)| (now - then).max(0));
            Some((p.name.clone(), facts.collected_at.to_string(), age))
        })
        .collect();
    ages.sort_by_key(|(_, _, age)| std::cmp::Reverse(age.unwrap_or(i64::MAX)));
    ages
}

/// `3d 4h`, `2h 5m`, `40s`: an age as people read it.
fn human_age(seconds: i64) -> String {
    let (d, h, m) = (seconds / 86400, seconds % 86400 / 3600, seconds % 3600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{seconds}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

pub fn peers_input(set: &PeerSet, age: PeerAge) -> CheckResult {
    let ages = snapshot_ages(set, age.now);
    let too_old: Vec<String> = match age.max_seconds {
        Some(max) => ages
            .iter()
            .filter(|(_, _, a)| a.is_none_or(|a| a as u64 > max))
            .map(|(name, at, a)| match a {
                Some(a) => format!("{name} ({} old)", human_age(*a)),
                None => format!("{name} (age not known: collected_at {at:?})"),
            })
            .collect(),
        None => Vec::new(),
    };
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
    } else if !too_old.is_empty() {
        let n = too_old.len();
        let mut listed: Vec<String> = too_old.iter().take(NAMES_SHOWN).cloned().collect();
        if n > NAMES_SHOWN {
            listed.push(format!("and {} more", thousands(n - NAMES_SHOWN)));
        }
        CheckResult::fail(
            ID,
            Area::Parity,
            format!(
                "{} peer snapshot{} older than --max-peer-age {}: {}",
                thousands(n),
                if n == 1 { " is" } else { "s are" },
                human_age(age.max_seconds.unwrap_or_default() as i64),
                listed.join(", ")
            ),
        )
        .fix(
            "gather those nodes' snapshots again (they may be unreachable, and their facts come from a \
             fact cache), or leave them out of --peers",
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
        if let Some((name, _, Some(oldest))) = ages.first() {
            parts.push(format!(
                "the oldest peer snapshot, {name}'s, {} older than this node's",
                human_age(*oldest)
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
        .with("max_peer_age_seconds", age.max_seconds)
        .with(
            "peer_ages",
            ages.iter()
                .map(
                    |(node, at, age)| json!({"node": node, "collected_at": at, "age_seconds": age}),
                )
                .collect::<Vec<_>>(),
        )
        .with(
            "problems",
            set.problems
                .iter()
                .map(|p| json!({"source": p.source, "message": p.message}))
                .collect::<Vec<_>>(),
        )
}
