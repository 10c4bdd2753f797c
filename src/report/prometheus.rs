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
    if let Some(ts) = unix_seconds(&report.collected_at) {
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

/// Seconds since the epoch of an RFC 3339 time (`2026-11-27T06:12:09Z`, `...+01:00`, fractions ignored).
pub fn unix_seconds(rfc3339: &str) -> Option<i64> {
    let s = rfc3339.trim();
    let num = |r: std::ops::Range<usize>| -> Option<i64> { s.get(r)?.parse().ok() };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if s.get(4..5)? != "-" || s.get(7..8)? != "-" || !matches!(s.get(10..11)?, "T" | "t" | " ") {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        rest = frac.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.get(0..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            let h: i64 = rest.get(1..3)?.parse().ok()?;
            let m: i64 = rest.get(4..6)?.parse().ok()?;
            sign * (h * 3600 + m * 60)
        }
    };
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_to_unix() {
        assert_eq!(unix_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(unix_seconds("2026-11-27T06:12:09Z"), Some(1_795_759_929));
        assert_eq!(
            unix_seconds("2026-11-27T07:12:09.123+01:00"),
            Some(1_795_759_929)
        );
        assert_eq!(unix_seconds("2000-02-29T00:00:00Z"), Some(951_782_400));
        assert_eq!(unix_seconds("yesterday"), None);
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        // No raw ESC in a textfile: it reads back as the visible text `\x1b`.
        assert_eq!(label("br-\x1b[31m"), "br-\\\\x1b[31m");
    }
}
