//! The human form of `nodecheck calico`: what each method selects on this host and why, the fleet
//! matrix (every node × every method), and the recommendation with its count and rejected alternatives.
//! Every name from the host goes through `escape::for_terminal`.

use comfy_table::{presets::UTF8_FULL, ContentArrangement, Table};

use super::calico_formats::rejection_lines;
use crate::calico::analysis::{CalicoReport, FamilyAnalysis};
use crate::calico::fleet_eval::NodeResult;
use crate::calico::outcome::Effect;
use crate::calico::predict::Verdict;
use crate::escape::{for_terminal, shell_quote};

fn method_shown(method: &str) -> String {
    if method.is_empty() {
        "(unset) first-found".to_string()
    } else {
        for_terminal(method)
    }
}

/// The most characters a table cell shows. comfy-table's wrapping costs more than linear time in a
/// cell's length, and a method of 60,000 alternatives (or a 690 kB one from `--calico-config`) took
/// tens of seconds to lay out; the whole text is in the "Why" list below the table and in
/// `--format json`.
const MAX_CELL_CHARS: usize = 240;

/// `text` cut to [`MAX_CELL_CHARS`] characters for a table cell, saying how much was left out.
fn table_cell(text: String) -> String {
    let Some((cut, _)) = text.char_indices().nth(MAX_CELL_CHARS) else {
        return text;
    };
    let left_out = text[cut..].chars().count();
    format!("{}… (+{left_out} characters)", &text[..cut])
}

/// A short cell for one node's result.
fn cell(r: &NodeResult) -> String {
    let mark = if r.problem.is_none() { "✓" } else { "✗" };
    match (&r.prediction.verdict, r.outcome.effect) {
        (
            Verdict::Selected {
                interface, address, ..
            },
            Effect::ConflictTerminates,
        ) => {
            format!(
                "{mark} {} {address} (conflict: terminates)",
                for_terminal(interface)
            )
        }
        (
            Verdict::Selected {
                interface, address, ..
            },
            _,
        ) => {
            let place = match r.in_node_network {
                Some(true) if r.problem.is_none() => "",
                Some(true) => " (VIP)",
                Some(false) => " (outside node network)",
                None => " (node network unknown)",
            };
            format!("{mark} {} {address}{place}", for_terminal(interface))
        }
        (Verdict::Failed { .. }, Effect::KeepsStoredAddress) => {
            format!("{mark} fails: keeps stored address")
        }
        (Verdict::Failed { .. }, _) => format!("{mark} fails: exits"),
        (Verdict::Terminated { .. }, _) => format!("{mark} invalid: terminates"),
        (Verdict::Undetermined { .. }, _) => "? cannot tell".to_string(),
    }
}

fn family_section(out: &mut String, report: &CalicoReport, f: &FamilyAnalysis) {
    let host = for_terminal(&report.host);
    out.push_str(&format!(
        "\n== IPv{} ({}) ==\n",
        f.family.number(),
        f.env_var
    ));
    let networks: Vec<String> = f
        .node_networks
        .iter()
        .map(|n| {
            let cidrs: Vec<String> = n.cidrs.iter().map(|c| c.to_string()).collect();
            format!(
                "{} {}",
                for_terminal(&n.node),
                if cidrs.is_empty() {
                    "unknown".into()
                } else {
                    cidrs.join(",")
                }
            )
        })
        .collect();
    out.push_str(&format!(
        "Node network ({}): {}\n\n",
        f.node_network_source,
        networks.join("; ")
    ));
    if let Some(deployed) = &f.deployed {
        out.push_str(&format!("{}\n\n", for_terminal(deployed)));
    }

    out.push_str(&format!("What calico-node selects on {host} now:\n"));
    let mut table = Table::new();
    table
        .load_style(UTF8_FULL)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(140)
        .set_header(vec![
            "method",
            "shown as",
            "selects here",
            "calico-node would",
        ]);
    for m in &f.methods {
        let Some(here) = m.evaluation.nodes.first() else {
            continue;
        };
        let selects = match here.prediction.selected() {
            Some((i, a)) => format!("{} {a}", for_terminal(i)),
            None => "nothing".into(),
        };
        let mut would = for_terminal(&here.outcome.summary);
        if let Some(first) = here.outcome.log.first() {
            would.push_str(&format!("\nlog: {}", for_terminal(first)));
        }
        table.add_row(vec![
            table_cell(method_shown(&m.evaluation.method)),
            table_cell(m.labels.join(", ")),
            table_cell(selects),
            table_cell(would),
        ]);
    }
    out.push_str(&format!("{table}\n"));

    out.push_str("Why (calico-node walks the interfaces in reverse kernel order):\n");
    for m in &f.methods {
        let Some(here) = m.evaluation.nodes.first() else {
            continue;
        };
        out.push_str(&format!("  {}:\n", method_shown(&m.evaluation.method)));
        for step in &here.prediction.trace {
            out.push_str(&format!("    - {}\n", for_terminal(step)));
        }
        for line in here.outcome.log.iter().skip(1) {
            out.push_str(&format!("    log: {}\n", for_terminal(line)));
        }
        for warning in &here.prediction.warnings {
            out.push_str(&format!("    warning: {}\n", for_terminal(warning)));
        }
        for note in &here.prediction.notes {
            out.push_str(&format!("    note: {}\n", for_terminal(note)));
        }
    }

    let node_count = f.methods.first().map_or(0, |m| m.evaluation.nodes.len());
    if node_count > 1 {
        out.push_str("\nOn every node with facts:\n");
        let mut matrix = Table::new();
        matrix
            .load_style(UTF8_FULL)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(160);
        let mut header = vec!["node".to_string()];
        header.extend(
            f.methods
                .iter()
                .map(|m| table_cell(method_shown(&m.evaluation.method))),
        );
        matrix.set_header(header);
        for i in 0..node_count {
            let mut row = vec![f.methods[0].evaluation.nodes[i].prediction.node.clone()];
            row[0] = for_terminal(&row[0]);
            row.extend(
                f.methods
                    .iter()
                    .map(|m| table_cell(cell(&m.evaluation.nodes[i]))),
            );
            matrix.add_row(row);
        }
        out.push_str(&format!("{matrix}\n"));
    }

    out.push('\n');
    let rec = &f.recommendation;
    match &rec.chosen {
        Some(c) => {
            out.push_str(&format!(
                "Recommended: {}={}\n  {}\n",
                f.env_var,
                shell_quote(&c.method),
                c.count_text()
            ));
            for w in &rec.warnings {
                out.push_str(&format!("  warning: {}\n", for_terminal(w)));
            }
        }
        None => out.push_str(&format!(
            "No {} value selects the node-network address on every node. Fix the nodes listed below, or set the address per node ({}=<address>, or the operator's nodeAddressAutodetectionV{}: {{}} and a projectcalico.org/IPv{}Address annotation on each Node).\n",
            f.env_var,
            if f.family.number() == 4 { "IP" } else { "IP6" },
            f.family.number(),
            f.family.number()
        )),
    }
    let mut lines = rejection_lines(f);
    for m in f
        .methods
        .iter()
        .filter(|m| !m.labels.iter().any(|l| l == "recommended"))
    {
        if let Some(reason) = m.evaluation.rejection() {
            if !rec.rejected.iter().any(|r| r.method == m.evaluation.method) {
                lines.push(format!(
                    "  - ({}) {}",
                    m.labels.join(", "),
                    for_terminal(&reason)
                ));
            }
        }
    }
    if !lines.is_empty() {
        out.push_str("Rejected alternatives:\n");
        for line in lines {
            out.push_str(&line);
            out.push('\n');
        }
    }
}

/// The human report.
pub fn human(report: &CalicoReport) -> String {
    let mut out = format!(
        "Calico {} ({}) · node {} · {}\n",
        report.calico_version,
        report.calico_version_source,
        for_terminal(&report.host),
        if report.live {
            "live host"
        } else {
            "saved snapshot"
        }
    );
    for f in &report.families {
        family_section(&mut out, report, f);
    }
    if !report.peers_without_facts.is_empty() {
        out.push_str(&format!(
            "\nPeers without interface facts (kubectl input only; not predicted): {}\n",
            report
                .peers_without_facts
                .iter()
                .map(|p| for_terminal(p))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    for p in &report.peer_problems {
        out.push_str(&format!("peer input problem: {}\n", for_terminal(p)));
    }
    if report.all_recommended() {
        out.push_str("\nApply: nodecheck calico --format kubectl (manifest install) or --format operator (tigera-operator).\n");
    }
    out
}
