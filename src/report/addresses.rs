//! `nodecheck addresses` output: the JSON contract (exact bytes, nothing escaped) and the human
//! form (every string from a host or an input escaped for the terminal).

use std::fmt::Write as _;

use crate::addresses::fleet::FleetPicks;
use crate::addresses::Pick;
use crate::escape::for_terminal;

/// Writes the JSON document (docs/addresses.md describes it) as it is serialised: ten thousand
/// nodes' picks are never held twice, as values and as text.
pub fn write_json(picks: &FleetPicks, out: &mut impl std::io::Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, picks).map_err(std::io::Error::from)?;
    out.write_all(b"\n")
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
