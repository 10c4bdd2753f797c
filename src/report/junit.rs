//! JUnit XML, which CI systems display: one `testsuite` per area, one `testcase` per check; `fail` is a
//! `<failure>`, `skip` a `<skipped>`, `warn` a passing case whose `system-out` starts with "warning:".

use std::fmt::Write;

use super::{area_key, by_area, Report, Summary};
use crate::checks::{CheckResult, Status};

pub fn render(report: &Report) -> String {
    let total = Summary::of(&report.results);
    let mut x = String::new();
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuites name=\"nodecheck {} {}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" errors=\"0\">",
        report.phase.as_str(),
        escape(&report.host),
        report.results.len(),
        total.fail,
        total.skipped
    );
    for (area, results) in by_area(&report.results) {
        let owned: Vec<CheckResult> = results.iter().map(|r| (*r).clone()).collect();
        let s = Summary::of(&owned);
        let _ = writeln!(
            x,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" errors=\"0\" hostname=\"{}\" timestamp=\"{}\">",
            escape(area.title()),
            results.len(),
            s.fail,
            s.skipped,
            escape(&report.host),
            escape(report.collected_at.trim_end_matches('Z'))
        );
        for r in results {
            testcase(&mut x, &area_key(area), r);
        }
        x.push_str("  </testsuite>\n");
    }
    x.push_str("</testsuites>\n");
    x
}

fn testcase(x: &mut String, area: &str, r: &CheckResult) {
    let _ = write!(
        x,
        "    <testcase classname=\"nodecheck.{}\" name=\"{}\"",
        escape(area),
        escape(&r.id)
    );
    let details = details(r);
    match r.status {
        Status::Ok => {
            let _ = writeln!(
                x,
                ">\n      <system-out>{}</system-out>\n    </testcase>",
                escape(&details)
            );
        }
        Status::Warn => {
            let _ = writeln!(
                x,
                ">\n      <system-out>warning: {}</system-out>\n    </testcase>",
                escape(&details)
            );
        }
        Status::Fail => {
            let _ = writeln!(
                x,
                ">\n      <failure message=\"{}\" type=\"fail\">{}</failure>\n    </testcase>",
                escape(&r.message),
                escape(&details)
            );
        }
        Status::Skip => {
            let _ = writeln!(
                x,
                ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                escape(&r.message)
            );
        }
    }
}

/// Message, remediation and evidence as text.
fn details(r: &CheckResult) -> String {
    let mut d = r.message.clone();
    if let Some(fix) = &r.remediation {
        d.push_str("\nremediation: ");
        d.push_str(fix);
    }
    if !r.evidence.is_empty() {
        d.push_str("\nevidence: ");
        d.push_str(&serde_json::Value::Object(r.evidence.clone()).to_string());
    }
    d
}

/// Escapes text for XML 1.0 content and attributes. Characters XML 1.0 cannot carry at all (control
/// bytes other than tab, newline and carriage return; U+FFFE, U+FFFF) become the visible text `\xNN`,
/// and so do DEL and the C1 controls (U+007F–U+009F), which XML allows but terminals showing the file
/// obey, as the other formats escape them.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            '\u{80}'..='\u{9f}' | '\u{fffe}' | '\u{ffff}' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn xml_escape_handles_markup_and_control_bytes() {
        assert_eq!(escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
        assert_eq!(escape("e\u{1b}[31m\u{0}"), "e\\x1b[31m\\x00");
        assert_eq!(escape("tab\tnl\n"), "tab\tnl\n");
        assert_eq!(escape("x\u{ffff}"), "x\\u{ffff}");
        assert_eq!(escape("del\u{7f} csi\u{9b}31m"), "del\\x7f csi\\u{9b}31m");
    }
}
