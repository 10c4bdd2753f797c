//! Writing a `check` run's results for unattended runs (the post-boot systemd unit): the JSON report
//! in a results directory, the Prometheus text for node_exporter's textfile collector, and one
//! journal line per warning or failure on stderr.

use std::path::Path;

use anyhow::Context as _;

use crate::checks::Status;
use crate::report::Report;
use crate::report::ReportFormat;

/// Name of the JSON report inside `--write-results DIR`.
pub const REPORT_FILE: &str = "report.json";

/// Writes what was asked for; does nothing when neither is given.
pub fn write(
    report: &Report,
    results_dir: Option<&Path>,
    textfile: Option<&Path>,
) -> anyhow::Result<()> {
    if let Some(dir) = results_dir {
        let path = dir.join(REPORT_FILE);
        let json = crate::report::render(report, ReportFormat::Json, false);
        crate::output::write_atomically(&path, json.as_bytes())
            .with_context(|| format!("writing the results to {}", path.display()))?;
        log_findings(report);
    }
    if let Some(file) = textfile {
        write_textfile(report, file)?;
    }
    Ok(())
}

/// The Prometheus text, atomically (node_exporter reads only `*.prom`, so the temporary file is
/// never half-read). No collector directory means no node_exporter here: a notice, not an error.
fn write_textfile(report: &Report, file: &Path) -> anyhow::Result<()> {
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        eprintln!(
            "nodecheck: not writing the Prometheus textfile {}: the directory {} does not exist (node_exporter's textfile collector is not set up here)",
            crate::escape::for_terminal(&file.display().to_string()),
            crate::escape::for_terminal(&dir.display().to_string())
        );
        return Ok(());
    }
    let text = crate::report::render(report, ReportFormat::Prometheus, false);
    crate::output::write_atomically(file, text.as_bytes())
        .with_context(|| format!("writing the Prometheus textfile {}", file.display()))
}

/// `nodecheck[ID]: fail: message` per warning or failure, then the recap. Under systemd (stderr
/// connected to the journal, `JOURNAL_STREAM` set) each line carries its syslog priority, so
/// `journalctl -p warning -u nodecheck-post-boot` shows exactly the findings.
fn log_findings(report: &Report) {
    let journal = std::env::var_os("JOURNAL_STREAM").is_some();
    for line in finding_lines(report, journal) {
        eprintln!("{line}");
    }
}

/// The journal lines of a report (pure, for tests).
pub fn finding_lines(report: &Report, with_priority: bool) -> Vec<String> {
    let prefix = |priority: u8| {
        if with_priority {
            format!("<{priority}>")
        } else {
            String::new()
        }
    };
    let mut lines: Vec<String> = report
        .results
        .iter()
        .filter(|r| matches!(r.status, Status::Warn | Status::Fail))
        .map(|r| {
            let priority = if r.status == Status::Fail { 3 } else { 4 };
            format!(
                "{}nodecheck[{}]: {}: {}",
                prefix(priority),
                crate::escape::for_terminal(&r.id),
                r.status.as_str(),
                crate::escape::for_terminal(&r.message)
            )
        })
        .collect();
    let recap_priority = if report.summary.fail > 0 { 3 } else { 6 };
    lines.push(format!(
        "{}nodecheck: {} {}",
        prefix(recap_priority),
        report.phase.as_str(),
        report.recap()
    ));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{hostile_rename, profile, run};
    use crate::checks::{Area, CheckResult, Phase};

    /// A post-boot report of worker-41 holding `results`.
    fn report(results: Vec<CheckResult>) -> Report {
        Report {
            host: "worker-41".into(),
            cluster: None,
            profile: None,
            phase: Phase::PostBoot,
            nodecheck_version: "0".into(),
            collected_at: "now".into(),
            summary: crate::report::Summary::of(&results),
            results,
        }
    }

    #[test]
    fn one_line_per_finding_then_the_recap() {
        let results = vec![
            CheckResult::ok("Calico-BgpPort", Area::CalicoHealth, "fine"),
            CheckResult::fail("Calico-FelixReady", Area::CalicoHealth, "not ready"),
            CheckResult::warn("Drift-Kernel", Area::Drift, "kernel a → b"),
            CheckResult::skip("Drift-Baseline", Area::Drift, "none"),
        ];
        let report = report(results);
        assert_eq!(
            finding_lines(&report, false),
            vec![
                "nodecheck[Calico-FelixReady]: fail: not ready",
                "nodecheck[Drift-Kernel]: warn: kernel a → b",
                "nodecheck: post-boot worker-41 : ok=1 warn=1 fail=1 skipped=1",
            ]
        );
        assert!(finding_lines(&report, true)[0].starts_with("<3>nodecheck[Calico-FelixReady]"));
    }

    #[test]
    fn a_hostile_interface_name_is_escaped_in_the_table_and_the_journal() {
        let (base, now) = hostile_rename();
        let results = run(
            &now,
            &profile("{}"),
            Phase::PostBoot,
            &[],
            Some(&base),
            None,
        );
        // The drift checks keep the real name (their own tests); rendering escapes it.
        let report = report(results);
        let human = crate::report::render(&report, crate::report::ReportFormat::Human, false);
        assert!(!human.contains('\x1b'), "{human}");
        assert!(human.contains("e\\x1bq$;x"), "{human}");
        let lines = finding_lines(&report, false);
        assert!(lines.iter().all(|l| !l.contains('\x1b')), "{lines:?}");
    }
}
