//! Everything nodecheck prints for a person or a program: the verdict of one `check` run ([`Report`])
//! and its renderings (human table, JSON, JUnit, Prometheus text), the `calico` command's prediction
//! and recommendation (`calico_human`, `calico_formats`), the `addresses` command's picks
//! (`addresses`), and the `facts` tables (`facts_table`).
//!
//! Renderers take finished values and only format them; no judgement lives here. The JSON form of a
//! report is the serialisation of [`Report`] and is documented in docs/checks.md.

pub mod addresses;
pub mod calico_formats;
pub mod calico_human;
pub mod facts_table;
pub mod human;
pub mod junit;
pub mod prometheus;

use serde::{Deserialize, Serialize};

use crate::checks::{CheckResult, Phase, Status};
use crate::error::Exit;

/// `--color`: when human output is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// `nodecheck check --format`: the renderings of a [`Report`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Human,
    Json,
    Junit,
    Prometheus,
}

/// The result of one `nodecheck check` run (the documented JSON output).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub host: String,
    pub cluster: Option<String>,
    /// Where the profile came from: a path, or `built-in default`.
    #[serde(default)]
    pub profile: Option<String>,
    pub phase: Phase,
    pub nodecheck_version: String,
    /// When the facts judged were collected.
    pub collected_at: String,
    pub results: Vec<CheckResult>,
    pub summary: Summary,
}

/// Counts per status, as in the recap line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Summary {
    pub ok: usize,
    pub warn: usize,
    pub fail: usize,
    pub skipped: usize,
}

impl Summary {
    pub fn of(results: &[CheckResult]) -> Summary {
        let mut s = Summary::default();
        for r in results {
            match r.status {
                Status::Ok => s.ok += 1,
                Status::Warn => s.warn += 1,
                Status::Fail => s.fail += 1,
                Status::Skip => s.skipped += 1,
            }
        }
        s
    }
}

impl Report {
    /// The exit code this report calls for (the contract in README.md, "Exit codes").
    pub fn exit(&self, strict: bool) -> Exit {
        if self.summary.fail > 0 || (strict && self.summary.warn > 0) {
            Exit::ChecksFailed
        } else {
            Exit::Ok
        }
    }

    /// Ansible-style recap: `worker-41 : ok=14 warn=2 fail=1 skipped=3`.
    pub fn recap(&self) -> String {
        format!(
            "{} : ok={} warn={} fail={} skipped={}",
            crate::escape::for_terminal(&self.host),
            self.summary.ok,
            self.summary.warn,
            self.summary.fail,
            self.summary.skipped
        )
    }
}

/// Renders a report in the chosen format. Human output wraps to the terminal's width when stdout is one.
pub fn render(report: &Report, format: ReportFormat, color: bool) -> String {
    match format {
        ReportFormat::Human => human::render(report, color, terminal_width()),
        ReportFormat::Json => render_json(report),
        ReportFormat::Junit => junit::render(report),
        ReportFormat::Prometheus => prometheus::render(report),
    }
}

/// The documented JSON report.
pub fn render_json(report: &Report) -> String {
    serde_json::to_string_pretty(report).expect("a report always serialises") + "\n"
}

/// Width human tables wrap to when stdout is not a terminal and `COLUMNS` is not set.
pub const DEFAULT_WIDTH: u16 = 120;

/// The terminal's width when stdout is one, else `COLUMNS`, else [`DEFAULT_WIDTH`].
fn terminal_width() -> u16 {
    use std::io::IsTerminal;
    let from_terminal = std::io::stdout()
        .is_terminal()
        .then(|| comfy_table::Table::new().width())
        .flatten();
    from_terminal
        .or_else(|| {
            std::env::var("COLUMNS")
                .ok()
                .and_then(|c| c.trim().parse().ok())
        })
        .filter(|w| *w >= 40)
        .unwrap_or(DEFAULT_WIDTH)
}

/// The stable, machine-facing name of an area (`node-nic`), as in JSON.
pub fn area_key(area: crate::checks::Area) -> String {
    serde_json::to_value(area)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Results grouped by area, areas in the order they first appear (the order checks are evaluated in).
pub fn by_area(results: &[CheckResult]) -> Vec<(crate::checks::Area, Vec<&CheckResult>)> {
    let mut groups: Vec<(crate::checks::Area, Vec<&CheckResult>)> = Vec::new();
    for r in results {
        match groups.iter_mut().find(|(a, _)| *a == r.area) {
            Some((_, list)) => list.push(r),
            None => groups.push((r.area, vec![r])),
        }
    }
    groups
}
