//! Reports: the verdict of one run, and its renderings (human table, JSON, JUnit, Prometheus text).

use serde::{Deserialize, Serialize};

use crate::checks::{CheckResult, Phase, Status};
use crate::cli::{ColorChoice, ReportFormat};
use crate::error::Exit;

/// The result of one `nodecheck check` run (the documented JSON output).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub host: String,
    pub cluster: Option<String>,
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
    /// The exit code this report calls for (design.md contract).
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

/// Renders a report in the chosen format.
pub fn render(report: &Report, format: ReportFormat, color: bool) -> String {
    let _ = color;
    match format {
        ReportFormat::Json => {
            serde_json::to_string_pretty(report).expect("report serialises") + "\n"
        }
        _ => format!("{}\n", report.recap()),
    }
}

/// Colour only on a terminal, never with NO_COLOR set (https://no-color.org).
pub fn color_enabled(choice: ColorChoice) -> bool {
    use std::io::IsTerminal;
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    }
}
