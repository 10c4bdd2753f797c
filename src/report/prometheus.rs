//! Prometheus text exposition for node_exporter's textfile collector: one 0/1 series per check and
//! status, counts per status, and when the judged facts were collected.

use std::fmt::Write;

use super::{area_key, Report};
use crate::checks::Status;

const STATUSES: [Status; 4] = [Status::Ok, Status::Warn, Status::Fail, Status::Skip];

pub fn render(report: &Report) -> String {
    let mut x = String::new();
    x.push_str("# HELP nodecheck_check_status Outcome of one check: 1 for its status in the last run, 0 for the other statuses.\n");
    x.push_str("# TYPE nodecheck_check_status gauge\n");
    for r in &report.results {
        for s in STATUSES {
            let _ = writeln!(
                x,
                "nodecheck_check_status{{id=\"{}\",area=\"{}\",status=\"{}\"}} {}",
                label(&r.id),
                label(&area_key(r.area)),
                s.as_str(),
                u8::from(r.status == s)
            );
        }
    }
    x.push_str("# HELP nodecheck_checks Number of checks per status in the last run.\n");
    x.push_str("# TYPE nodecheck_checks gauge\n");
    let sum = &report.summary;
    for (s, n) in [
        ("ok", sum.ok),
        ("warn", sum.warn),
        ("fail", sum.fail),
        ("skip", sum.skipped),
    ] {
        let _ = writeln!(x, "nodecheck_checks{{status=\"{s}\"}} {n}");
    }
    x.push_str("# HELP nodecheck_info The run the other series describe.\n");
    x.push_str("# TYPE nodecheck_info gauge\n");
    let _ = writeln!(
        x,
        "nodecheck_info{{host=\"{}\",cluster=\"{}\",phase=\"{}\",version=\"{}\"}} 1",
        label(&report.host),
        label(report.cluster.as_deref().unwrap_or("")),
        report.phase.as_str(),
        label(&report.nodecheck_version)
    );
    if let Some(ts) = crate::timestamp::unix_seconds(&report.collected_at) {
        x.push_str("# HELP nodecheck_last_run_timestamp_seconds When the facts judged by the last run were collected (Unix time).\n");
        x.push_str("# TYPE nodecheck_last_run_timestamp_seconds gauge\n");
        let _ = writeln!(x, "nodecheck_last_run_timestamp_seconds {ts}");
    }
    x
}

/// Escapes a label value per the text exposition format: backslash, double quote and newline. Other
/// control and invisible characters are first written as visible `\xHH`/`\u{…}` text (as for the
/// terminal), so that `cat` of a textfile or a `curl` of the metrics never prints them raw.
pub fn label(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in crate::escape::for_terminal_lines(s).chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        // No raw ESC in a textfile: it reads back as the visible text `\x1b`.
        assert_eq!(label("br-\x1b[31m"), "br-\\\\x1b[31m");
    }
}
