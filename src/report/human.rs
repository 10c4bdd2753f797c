//! The human report: one table grouped by area (check ID, status, message and the fix), then the
//! Ansible-style recap line. Every string from the host goes through `escape::for_terminal`.

use comfy_table::{
    presets, Cell, CellAlignment, Color, ColumnConstraint, ContentArrangement, Table,
};

use super::{by_area, Report};
use crate::checks::Status;
use crate::escape::{for_terminal, for_terminal_cell};

/// Renders the report, wrapping the table to `width` columns.
pub fn render(report: &Report, color: bool, width: u16) -> String {
    let mut out = String::new();
    out.push_str(&headline(report));
    out.push('\n');
    if report.results.is_empty() {
        out.push_str("no checks ran\n");
    } else {
        out.push_str(&table(report, color, width).to_string());
        out.push('\n');
    }
    out.push_str(&report.recap());
    out.push('\n');
    out
}

fn headline(report: &Report) -> String {
    let mut parts = vec![format!(
        "nodecheck {} on {}",
        report.phase.as_str(),
        for_terminal(&report.host)
    )];
    if let Some(c) = &report.cluster {
        parts.push(format!("cluster {}", for_terminal(c)));
    }
    if let Some(p) = &report.profile {
        parts.push(format!("profile {}", for_terminal(p)));
    }
    parts.push(format!("facts of {}", for_terminal(&report.collected_at)));
    parts.join(" · ")
}

fn table(report: &Report, color: bool, width: u16) -> Table {
    let mut table = Table::new();
    table.load_style(presets::UTF8_FULL_CONDENSED);
    if color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    table.set_width(width);
    table.set_content_arrangement(ContentArrangement::Dynamic);
    table.set_header(vec!["CHECK", "STATUS", "DETAILS"]);
    // IDs are copied into skip lists and alerts: never wrap them.
    if let Some(c) = table.column_mut(0) {
        c.set_constraint(ColumnConstraint::ContentWidth);
    }
    for (area, results) in by_area(&report.results) {
        table.add_row(vec![
            Cell::new(format!("[{}]", area.title())),
            Cell::new(""),
            Cell::new(""),
        ]);
        for r in results {
            let mut details = for_terminal_cell(&r.message);
            if let Some(fix) = &r.remediation {
                if r.status != Status::Ok {
                    details.push_str("\nfix: ");
                    details.push_str(&for_terminal_cell(fix));
                }
            }
            table.add_row(vec![
                Cell::new(format!("  {}", for_terminal_cell(&r.id))),
                status_cell(r.status, color),
                Cell::new(details),
            ]);
        }
    }
    table
}

fn status_cell(status: Status, color: bool) -> Cell {
    let cell = Cell::new(status.as_str()).set_alignment(CellAlignment::Left);
    if !color {
        return cell;
    }
    match status {
        Status::Ok => cell.fg(Color::Green),
        Status::Warn => cell.fg(Color::Yellow),
        Status::Fail => cell.fg(Color::Red),
        Status::Skip => cell.fg(Color::DarkGrey),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::{Area, CheckResult, Phase};
    use crate::report::Summary;

    #[test]
    fn a_huge_value_is_cut_in_the_table_and_rendered_quickly() {
        let huge = "1".repeat(1 << 20);
        let results = vec![CheckResult::new(
            "Sysctl-vm.x",
            Area::Kernel,
            Status::Fail,
            format!("vm.x is {huge}, expected 0"),
        )];
        let report = Report {
            host: "w1".into(),
            cluster: None,
            profile: None,
            phase: Phase::PreJoin,
            nodecheck_version: "0".into(),
            collected_at: "now".into(),
            summary: Summary::of(&results),
            results,
        };
        let started = std::time::Instant::now();
        let text = render(&report, false, 100);
        assert!(text.len() < 20_000, "{} bytes", text.len());
        assert!(text.contains("more characters"), "{text}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }
}
