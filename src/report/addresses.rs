//! `nodecheck addresses` output: the JSON contract (exact bytes, nothing escaped) and the human
//! form (every string from a host or an input escaped for the terminal).

use std::cell::RefCell;
use std::fmt::Write as _;

use serde::ser::{Error as _, SerializeSeq, SerializeStruct};
use serde::{Serialize, Serializer};

use crate::addresses::fleet::{FleetPicks, FleetVerdict, FleetWalk};
use crate::addresses::Pick;
use crate::escape::for_terminal;

/// Writes the JSON document (docs/addresses.md describes it), `FleetPicks` as serialised, while
/// walking the fleet: each node's picks are
/// serialised as they are made and dropped, the consensus written once every node was judged.
/// Returns what the walk found (the whole fleet is judged even when writing failed part way, so a
/// closed pipe does not change the verdict) and how writing went.
pub fn write_json_walking(
    walk: FleetWalk,
    out: &mut impl std::io::Write,
) -> (FleetVerdict, std::io::Result<()>) {
    let document = Walking {
        walk: RefCell::new(Some(walk)),
        verdict: RefCell::new(None),
    };
    let written = serde_json::to_writer_pretty(&mut *out, &document)
        .map_err(std::io::Error::from)
        .and_then(|()| out.write_all(b"\n"));
    let Walking { walk, verdict } = document;
    let verdict = match (verdict.into_inner(), walk.into_inner()) {
        (Some(verdict), _) => verdict,
        (None, Some(walk)) => walk.finish(),
        (None, None) => unreachable!("the walk is taken only to store its verdict"),
    };
    (verdict, written)
}

/// The `FleetPicks` document with its nodes produced by a walk during serialisation.
struct Walking<'a> {
    walk: RefCell<Option<FleetWalk<'a>>>,
    verdict: RefCell<Option<FleetVerdict>>,
}

/// The `nodes` array, taken from the walk node by node.
struct WalkedNodes<'r, 'a>(&'r RefCell<Option<FleetWalk<'a>>>);

impl Serialize for WalkedNodes<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut walk = self.0.borrow_mut();
        let walk = walk
            .as_mut()
            .ok_or_else(|| S::Error::custom("walked twice"))?;
        let mut seq = serializer.serialize_seq(None)?;
        for node in walk.by_ref() {
            seq.serialize_element(&node)?;
        }
        seq.end()
    }
}

impl Serialize for Walking<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Field names and order are FleetPicks' (its derived Serialize writes the same document).
        let mut document = serializer.serialize_struct("FleetPicks", 3)?;
        document.serialize_field("nodes", &WalkedNodes(&self.walk))?;
        let walk = self.walk.borrow_mut().take();
        let verdict = walk
            .ok_or_else(|| S::Error::custom("walked twice"))?
            .finish();
        *self.verdict.borrow_mut() = Some(verdict);
        let verdict = self.verdict.borrow();
        let verdict = verdict.as_ref().expect("stored just above");
        document.serialize_field("consensus", &verdict.consensus)?;
        document.serialize_field("peers_without_facts", &verdict.peers_without_facts)?;
        document.end()
    }
}

fn opt<T: std::fmt::Display>(v: &Option<T>) -> String {
    v.as_ref()
        .map(|x| x.to_string())
        .unwrap_or_else(|| "-".into())
}

fn component_line(out: &mut String, pick: &Pick) {
    let name = match &pick.version {
        Some(v) => format!("{} {}", pick.component.as_str(), for_terminal(v)),
        None => pick.component.as_str().to_string(),
    };
    let mut address = opt(&pick.address);
    if let Some(v6) = pick.address_v6 {
        address = format!("{address} {v6}");
    }
    let mut extra = String::new();
    if pick.public_address.is_some_and(|p| Some(p) != pick.address) {
        let _ = write!(extra, " public {}", opt(&pick.public_address));
    }
    if pick
        .public_address_v6
        .is_some_and(|p| Some(p) != pick.address_v6)
    {
        let _ = write!(extra, " public-v6 {}", opt(&pick.public_address_v6));
    }
    if let Some(mtu) = pick.mtu {
        let _ = write!(extra, " mtu {mtu}");
    }
    let _ = writeln!(
        out,
        "  {name:<34} {:<14} {address}{extra}  [{}]",
        for_terminal(pick.interface.as_deref().unwrap_or("-")),
        for_terminal(&pick.step)
    );
    if let Some(devices) = &pick.devices {
        let names: Vec<String> = devices
            .selected_devices
            .iter()
            .map(|n| for_terminal(n))
            .collect();
        let _ = writeln!(
            out,
            "      devices: {}",
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        );
    }
    if let Some(fatal) = &pick.fatal {
        let _ = writeln!(out, "      FATAL: {}", for_terminal(fatal));
    }
    if let Some(u) = &pick.uncertain {
        let _ = writeln!(out, "      uncertain: {}", for_terminal(u));
    }
}

/// The human form: this node with each component's walk, the peers one line per component, then
/// the consensus.
pub fn human(picks: &FleetPicks) -> String {
    let mut out = String::new();
    for node in &picks.nodes {
        let _ = writeln!(
            out,
            "{}{}",
            for_terminal(&node.name),
            if node.this_node { " (this node)" } else { "" }
        );
        for pick in &node.components {
            component_line(&mut out, pick);
            if node.this_node {
                for line in &pick.trace {
                    let _ = writeln!(out, "      · {}", for_terminal(line));
                }
            }
        }
    }
    if !picks.peers_without_facts.is_empty() {
        let names: Vec<String> = picks
            .peers_without_facts
            .iter()
            .map(|n| for_terminal(n))
            .collect();
        let _ = writeln!(
            out,
            "peers without facts (not predicted): {}",
            names.join(", ")
        );
    }
    let c = &picks.consensus;
    if c.agreed {
        let _ = writeln!(
            out,
            "consensus: every node's components agree on its address"
        );
    }
    for d in &c.disagreements {
        let votes: Vec<String> = d
            .disagreement
            .votes
            .iter()
            .map(|v| for_terminal(&v.describe()))
            .collect();
        let _ = writeln!(
            out,
            "DISAGREE on {} (IPv{}): {}",
            for_terminal(&d.node),
            d.disagreement.family.number(),
            votes.join(", ")
        );
    }
    for s in &c.shared_addresses {
        let nodes: Vec<String> = s.nodes.iter().map(|n| for_terminal(n)).collect();
        let _ = writeln!(
            out,
            "SHARED: {} picks {} on {} nodes: {}",
            s.component.as_str(),
            s.address,
            s.nodes.len(),
            nodes.join(", ")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addresses::stack;
    use crate::facts::testkit::host;
    use crate::peers::Peer;
    use crate::profile::cni::{CniSettings, ComponentName};
    use crate::profile::CalicoSettings;

    fn peer(name: &str, facts: Option<crate::facts::Facts>) -> Peer {
        Peer {
            name: name.into(),
            source: "test".into(),
            facts: facts.map(Box::new),
            node: None,
        }
    }

    /// The walking writer writes the whole `FleetPicks` document, byte for byte, with the same
    /// verdict.
    #[test]
    fn the_walking_writer_writes_the_same_document() {
        let cni = CniSettings {
            components: vec![
                ComponentName::Kubelet,
                ComponentName::Calico,
                ComponentName::Flannel,
            ],
            ..CniSettings::default()
        };
        let calico = CalicoSettings::default();
        let stack = stack::build(&cni, &calico, &"3.28.0".parse().unwrap(), "args");
        let this = host("w1")
            .nic("eth0", &["10.0.0.11/24"])
            .link("docker0", Some("bridge"), &["172.17.0.1/16"])
            .build();
        let peers = vec![
            peer(
                "w2",
                Some(host("w2").nic("eth0", &["10.0.0.12/24"]).build()),
            ),
            peer("kubectl-only", None),
            // Shares w1's address: the consensus fails.
            peer(
                "w3",
                Some(host("w3").nic("eth0", &["10.0.0.11/24"]).build()),
            ),
        ];
        let (picks, any_fatal) = FleetWalk::new(&stack, &this, None, &peers).collect_all();
        let mut whole = serde_json::to_vec_pretty(&picks).unwrap();
        whole.push(b'\n');
        let mut walked = Vec::new();
        let (verdict, written) =
            write_json_walking(FleetWalk::new(&stack, &this, None, &peers), &mut walked);
        written.unwrap();
        assert_eq!(
            String::from_utf8(walked).unwrap(),
            String::from_utf8(whole).unwrap()
        );
        assert!(!verdict.consensus.agreed);
        assert_eq!(verdict.peers_without_facts, ["kubectl-only"]);
        assert_eq!(verdict.any_fatal, any_fatal);
        assert_eq!(any_fatal, picks.any_fatal());
    }

    /// A reader that goes away part way (a closed pipe) does not change the verdict.
    #[test]
    fn the_whole_fleet_is_judged_when_writing_fails() {
        struct Closed;
        impl std::io::Write for Closed {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let cni = CniSettings {
            components: vec![ComponentName::Calico],
            ..CniSettings::default()
        };
        let stack = stack::build(
            &cni,
            &CalicoSettings::default(),
            &"3.28.0".parse().unwrap(),
            "",
        );
        let this = host("w1").nic("eth0", &["10.0.0.11/24"]).build();
        let peers = vec![peer(
            "w2",
            Some(host("w2").nic("eth0", &["10.0.0.11/24"]).build()),
        )];
        let (verdict, written) =
            write_json_walking(FleetWalk::new(&stack, &this, None, &peers), &mut Closed);
        assert_eq!(written.unwrap_err().kind(), std::io::ErrorKind::BrokenPipe);
        assert_eq!(
            verdict.consensus.shared_addresses.len(),
            1,
            "{:?}",
            verdict.consensus
        );
    }
}
