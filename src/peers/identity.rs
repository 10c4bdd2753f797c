//! Who is who among loaded peer records: this node's own snapshot is recognised and left out, and
//! records of one machine from several sources (two snapshots, a snapshot and a kubectl item) become
//! one peer.
//!
//! Two snapshots describe the same machine when their hostnames are equal (ignoring case), of
//! machine-id and product_uuid none differs, and either the product_uuid is known on both sides and
//! equal, or the machine-id is and so is the node NIC (see [`nic_agrees`]): a full clone (hostname and
//! machine-id copied, no product_uuid in containers, on some clouds and boards, or without root)
//! differs there. The hostname alone is not enough: two machines with one hostname is what
//! `Unique-Hostname` must see. A shared machine-id alone is not enough either: a cloned VM image is
//! what `Unique-MachineId` must see. A kubectl node is a snapshot's machine when its name is the hostname (or the hostname's
//! first label, or the other way round) and its `machineID`/`systemUUID`, where known, do not differ.

use std::collections::HashMap;

use super::{KubeNode, Peer};
use crate::facts::{Facts, Host, Interface};

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
pub fn assemble(records: Vec<Record>, this: &Facts) -> Assembled {
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
    this: &Facts,
) {
    if same_machine(&facts, this) {
        out.this_node_sources.push(source);
        return;
    }
    let key = facts.host.hostname.as_str().to_ascii_lowercase();
    let known = by_name.get(&key).into_iter().flatten().copied().find(|&i| {
        out.peers[i]
            .facts
            .as_ref()
            .is_some_and(|f| same_machine(f, &facts))
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
    this: &Facts,
) {
    if kube_node_is_host(&node, &this.host) {
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

/// Whether two snapshots are one machine (see the module documentation).
pub fn same_machine(a: &Facts, b: &Facts) -> bool {
    let (x, y) = (&a.host, &b.host);
    if !x.hostname.eq_ignore_ascii_case(&y.hostname) {
        return false;
    }
    let machine_id = agree(x.machine_id.as_deref(), y.machine_id.as_deref());
    match agree(x.product_uuid.as_deref(), y.product_uuid.as_deref()) {
        Some(false) => false,
        Some(true) => machine_id != Some(false),
        None => machine_id == Some(true) && nic_agrees(a, b) == Some(true),
    }
}

/// Whether two snapshots show the same node NIC: `Some(true)` when they share one of its MACs (else,
/// when a side has no MAC, one of its global addresses), `None` when a side shows neither. The node
/// NIC here is the interface of a default route (the profile's node network is not known while
/// peers are loaded), else every interface with a device behind it.
pub fn nic_agrees(a: &Facts, b: &Facts) -> Option<bool> {
    let (a, b) = (NicIdentity::of(a), NicIdentity::of(b));
    if !a.macs.is_empty() && !b.macs.is_empty() {
        return Some(a.macs.iter().any(|m| b.macs.contains(m)));
    }
    if !a.addresses.is_empty() && !b.addresses.is_empty() {
        return Some(a.addresses.iter().any(|ip| b.addresses.contains(ip)));
    }
    None
}

/// The MACs and global addresses of a snapshot's node NIC candidates.
#[derive(Default)]
struct NicIdentity {
    macs: Vec<String>,
    addresses: Vec<std::net::IpAddr>,
}

impl NicIdentity {
    fn of(facts: &Facts) -> NicIdentity {
        let by_route: Vec<&Interface> = facts
            .routes
            .iter()
            .filter(|r| r.is_default())
            .filter_map(|r| {
                r.device
                    .as_deref()
                    .or_else(|| r.nexthops.first().and_then(|n| n.device.as_deref()))
            })
            .filter_map(|dev| facts.interfaces.iter().find(|i| i.name == dev))
            .collect();
        let nics = if by_route.is_empty() {
            facts
                .interfaces
                .iter()
                .filter(|i| i.physical.is_some())
                .collect()
        } else {
            by_route
        };
        let mut id = NicIdentity::default();
        for nic in nics {
            if let Some(mac) = nic.mac.as_deref().filter(|m| !is_zero_mac(m)) {
                id.macs.push(mac.to_ascii_lowercase());
            }
            id.addresses.extend(
                nic.addresses
                    .iter()
                    .map(|a| a.address)
                    .filter(|ip| !ip.is_loopback() && !ip.is_unspecified() && !is_link_local(ip)),
            );
        }
        id
    }
}

fn is_zero_mac(mac: &str) -> bool {
    mac.bytes().all(|b| matches!(b, b'0' | b':'))
}

fn is_link_local(ip: &std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(v4) => v4.is_link_local(),
        std::net::IpAddr::V6(v6) => v6.segments()[0] & 0xffc0 == 0xfe80,
    }
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

    /// A snapshot of `name` whose node NIC (the default route's) has `mac` and `address`.
    fn snapshot(
        name: &str,
        machine_id: Option<&str>,
        uuid: Option<&str>,
        mac: &str,
        address: &str,
    ) -> Facts {
        let mut facts = crate::facts::testkit::host(name)
            .nic("eth0", &[address])
            .route("default", Some("10.0.0.1"), "eth0", None, None)
            .build();
        facts.host = host(name, machine_id, uuid);
        facts.interfaces[1].mac = Some(mac.into());
        facts
    }

    #[test]
    fn one_machine_needs_a_shared_hostname_and_an_agreeing_identifier() {
        let at = |name, mid, uuid| snapshot(name, mid, uuid, "52:54:00:aa:00:01", "10.0.0.41/24");
        let me = at("worker-41", Some("aa"), Some("UUID-1"));
        assert!(same_machine(&me, &at("Worker-41", Some("aa"), None)));
        assert!(same_machine(&me, &at("worker-41", None, Some("uuid-1"))));
        // Cloned image: same machine-id, other hostname.
        assert!(!same_machine(
            &me,
            &at("worker-42", Some("aa"), Some("UUID-2"))
        ));
        // Same hostname, other machine.
        assert!(!same_machine(
            &me,
            &at("worker-41", Some("bb"), Some("UUID-1"))
        ));
        // Nothing but the hostname to go on.
        assert!(!same_machine(&me, &at("worker-41", None, None)));
    }

    #[test]
    fn without_product_uuid_a_full_clone_differs_in_its_node_nic() {
        let me = snapshot(
            "worker-41",
            Some("aa"),
            None,
            "52:54:00:aa:00:01",
            "10.0.0.41/24",
        );
        // The same machine, snapshotted after a DHCP renewal: same MAC.
        let later = snapshot(
            "worker-41",
            Some("aa"),
            None,
            "52:54:00:AA:00:01",
            "10.0.0.77/24",
        );
        assert!(same_machine(&me, &later));
        // A clone: hostname and machine-id copied, its own NIC.
        let clone = snapshot(
            "worker-41",
            Some("aa"),
            None,
            "52:54:00:aa:00:02",
            "10.0.0.42/24",
        );
        assert!(!same_machine(&me, &clone));
        // Without MACs, the node address tells.
        let (mut a, mut b) = (me.clone(), clone.clone());
        a.interfaces[1].mac = None;
        b.interfaces[1].mac = None;
        assert!(!same_machine(&a, &b));
        let mut c = a.clone();
        c.interfaces[1].mac = Some("52:54:00:aa:00:09".into());
        assert!(
            same_machine(&a, &c),
            "one side without a MAC: the address decides"
        );
        // A product_uuid on both sides decides alone: a NIC may be replaced.
        let with_uuid = |mac| snapshot("worker-41", Some("aa"), Some("U-1"), mac, "10.0.0.41/24");
        assert!(same_machine(
            &with_uuid("52:54:00:aa:00:01"),
            &with_uuid("52:54:00:aa:00:05")
        ));
    }

    #[test]
    fn a_full_clone_is_a_peer_not_this_node() {
        let me = snapshot(
            "worker-41",
            Some("aa"),
            None,
            "52:54:00:aa:00:01",
            "10.0.0.41/24",
        );
        let own = snapshot(
            "worker-41",
            Some("aa"),
            None,
            "52:54:00:aa:00:01",
            "10.0.0.41/24",
        );
        let clone = snapshot(
            "worker-41",
            Some("aa"),
            None,
            "52:54:00:aa:00:02",
            "10.0.0.42/24",
        );
        let records = vec![
            Record::Snapshot {
                source: "own.json".into(),
                facts: Box::new(own),
            },
            Record::Snapshot {
                source: "clone.json".into(),
                facts: Box::new(clone),
            },
        ];
        let assembled = assemble(records, &me);
        assert_eq!(assembled.this_node_sources, ["own.json"]);
        let peers: Vec<&str> = assembled.peers.iter().map(|p| p.source.as_str()).collect();
        assert_eq!(peers, ["clone.json"]);
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
