//! Who is who among loaded peer records: this node's own snapshot is recognised and left out, and
//! records of one machine from several sources (two snapshots, a snapshot and a kubectl item) become
//! one peer.
//!
//! Two snapshots describe the same machine when their hostnames are equal (ignoring case) and, of
//! machine-id and product_uuid, none differs and at least one is known on both sides and equal. The
//! hostname alone is not enough: two machines with one hostname is what `Unique-Hostname` must see.
//! A shared machine-id alone is not enough either: a cloned VM image is what `Unique-MachineId`
//! must see. A kubectl node is a snapshot's machine when its name is the hostname (or the hostname's
//! first label, or the other way round) and its `machineID`/`systemUUID`, where known, do not differ.

use std::collections::HashMap;

use super::{KubeNode, Peer};
use crate::facts::{Facts, Host};

/// One node read from one source, before identities are sorted out.
#[derive(Debug)]
pub enum Record {
    Snapshot { source: String, facts: Box<Facts> },
    Kube { source: String, node: Box<KubeNode> },
}

/// Peers after self-recognition and merging.
#[derive(Debug, Default)]
pub struct Assembled {
    pub peers: Vec<Peer>,
    /// Kubernetes' view of this node, when a node list holds it.
    pub this_node: Option<KubeNode>,
    /// Sources recognised as this node.
    pub this_node_sources: Vec<String>,
    /// How many records were merged into a peer loaded from another source.
    pub merged: usize,
}

/// Sorts records out: this node's are set apart, records of one machine are merged (for two
/// snapshots of one machine the newer one is kept; for two kubectl views the later input wins).
pub fn assemble(records: Vec<Record>, this: &Host) -> Assembled {
    let mut out = Assembled {
        peers: Vec::with_capacity(records.len()),
        ..Assembled::default()
    };
    let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
    let mut kube_records = Vec::new();
    for record in records {
        match record {
            Record::Snapshot { source, facts } => {
                add_snapshot(&mut out, &mut by_name, source, facts, this)
            }
            Record::Kube { source, node } => kube_records.push((source, node)),
        }
    }
    // Kubectl views join snapshots whatever the order of the inputs, so they come second.
    for (source, node) in kube_records {
        add_kube(&mut out, &mut by_name, source, node, this);
    }
    out
}

fn add_snapshot(
    out: &mut Assembled,
    by_name: &mut HashMap<String, Vec<usize>>,
    source: String,
    facts: Box<Facts>,
    this: &Host,
) {
    if same_machine(&facts.host, this) {
        out.this_node_sources.push(source);
        return;
    }
    let key = facts.host.hostname.as_str().to_ascii_lowercase();
    let known = by_name.get(&key).into_iter().flatten().copied().find(|&i| {
        out.peers[i]
            .facts
            .as_ref()
            .is_some_and(|f| same_machine(&f.host, &facts.host))
    });
    match known {
        Some(i) => {
            let peer = &mut out.peers[i];
            peer.source = format!("{}, {source}", peer.source);
            if peer
                .facts
                .as_ref()
                .is_some_and(|f| facts.collected_at > f.collected_at)
            {
                peer.facts = Some(facts);
            }
            out.merged += 1;
        }
        None => {
            for name in name_keys(&facts.host.hostname) {
                by_name.entry(name).or_default().push(out.peers.len());
            }
            out.peers.push(Peer {
                name: facts.host.hostname.to_string(),
                source,
                facts: Some(facts),
                node: None,
            });
        }
    }
}

fn add_kube(
    out: &mut Assembled,
    by_name: &mut HashMap<String, Vec<usize>>,
    source: String,
    node: Box<KubeNode>,
    this: &Host,
) {
    if kube_node_is_host(&node, this) {
        out.this_node_sources.push(source);
        out.this_node = Some(*node);
        return;
    }
    let candidates: Vec<usize> = name_keys(&node.name)
        .iter()
        .filter_map(|k| by_name.get(k))
        .flatten()
        .copied()
        .filter(|&i| match (&out.peers[i].facts, &out.peers[i].node) {
            (Some(f), _) => kube_node_is_host(&node, &f.host),
            (None, Some(n)) => n.name.eq_ignore_ascii_case(&node.name),
            (None, None) => false,
        })
        .collect();
    // Several matches would make the merge a guess; the node is then a peer of its own.
    if let [i] = dedup(candidates)[..] {
        let peer = &mut out.peers[i];
        peer.source = format!("{}, {source}", peer.source);
        peer.name = node.name.clone();
        peer.node = Some(node);
        out.merged += 1;
        return;
    }
    by_name
        .entry(node.name.to_ascii_lowercase())
        .or_default()
        .push(out.peers.len());
    out.peers.push(Peer {
        name: node.name.clone(),
        source,
        facts: None,
        node: Some(node),
    });
}

fn dedup(mut v: Vec<usize>) -> Vec<usize> {
    v.sort_unstable();
    v.dedup();
    v
}

/// The lookup keys of a hostname: itself and, for a dotted name, its first label (lower case).
fn name_keys(name: &str) -> Vec<String> {
    let full = name.to_ascii_lowercase();
    match full.split_once('.') {
        Some((short, _)) if !short.is_empty() => vec![full.clone(), short.to_string()],
        _ => vec![full],
    }
}

/// Whether two snapshots' hosts are one machine (see the module documentation).
pub fn same_machine(a: &Host, b: &Host) -> bool {
    if !a.hostname.eq_ignore_ascii_case(&b.hostname) {
        return false;
    }
    let ids = [
        agree(a.machine_id.as_deref(), b.machine_id.as_deref()),
        agree(a.product_uuid.as_deref(), b.product_uuid.as_deref()),
    ];
    !ids.contains(&Some(false)) && ids.contains(&Some(true))
}

/// Whether a kubectl node is the machine a snapshot's host describes.
pub fn kube_node_is_host(node: &KubeNode, host: &Host) -> bool {
    names_match(&node.name, &host.hostname)
        && agree(node.machine_id.as_deref(), host.machine_id.as_deref()) != Some(false)
        && agree(node.system_uuid.as_deref(), host.product_uuid.as_deref()) != Some(false)
}

/// Equal ignoring case, or one is undotted and equals the other's first label.
fn names_match(a: &str, b: &str) -> bool {
    if a.eq_ignore_ascii_case(b) {
        return true;
    }
    let first = |s: &str| s.split('.').next().unwrap_or("").to_string();
    (!a.contains('.') && a.eq_ignore_ascii_case(&first(b)))
        || (!b.contains('.') && b.eq_ignore_ascii_case(&first(a)))
}

/// `Some(equal)` when both are known, `None` otherwise. Identifiers compare trimmed, ignoring case
/// (DMI UUIDs come in either case).
fn agree(a: Option<&str>, b: Option<&str>) -> Option<bool> {
    fn known(s: Option<&str>) -> Option<&str> {
        s.map(str::trim).filter(|s| !s.is_empty())
    }
    Some(known(a)?.eq_ignore_ascii_case(known(b)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(name: &str, machine_id: Option<&str>, uuid: Option<&str>) -> Host {
        Host {
            hostname: name.into(),
            machine_id: machine_id.map(Into::into),
            product_uuid: uuid.map(Into::into),
            kernel_release: "5.15.0-91-generic".into(),
            kernel_version: "#101-Ubuntu SMP".into(),
            architecture: "x86_64".into(),
            os: Default::default(),
            cmdline: Default::default(),
            gathered_as_root: true,
        }
    }

    #[test]
    fn one_machine_needs_a_shared_hostname_and_an_agreeing_identifier() {
        let me = host("worker-41", Some("aa"), Some("UUID-1"));
        assert!(same_machine(&me, &host("Worker-41", Some("aa"), None)));
        assert!(same_machine(&me, &host("worker-41", None, Some("uuid-1"))));
        // Cloned image: same machine-id, other hostname.
        assert!(!same_machine(
            &me,
            &host("worker-42", Some("aa"), Some("UUID-2"))
        ));
        // Same hostname, other machine.
        assert!(!same_machine(
            &me,
            &host("worker-41", Some("bb"), Some("UUID-1"))
        ));
        // Nothing but the hostname to go on.
        assert!(!same_machine(&me, &host("worker-41", None, None)));
    }

    #[test]
    fn kube_names_match_short_and_fully_qualified_hostnames() {
        let node = |name: &str, mid: Option<&str>| KubeNode {
            name: name.into(),
            machine_id: mid.map(Into::into),
            ..Default::default()
        };
        let h = host("worker-41.dc1.example", Some("aa"), None);
        assert!(kube_node_is_host(&node("worker-41", None), &h));
        assert!(kube_node_is_host(
            &node("worker-41.dc1.example", Some("AA")),
            &h
        ));
        assert!(!kube_node_is_host(&node("worker-41", Some("bb")), &h));
        assert!(!kube_node_is_host(&node("worker-41.dc2.example", None), &h));
    }
}
