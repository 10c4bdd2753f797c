//! Showing a plan and an applied run: human text (every host string escaped for the terminal, one
//! unified diff per file with `--diff`, made by the `similar` crate) and JSON (the typed plan).

use serde_json::{json, Value};

use super::plan::{Change, Plan, Target};
use crate::checks::{CheckResult, Status};
use crate::escape::for_terminal;

/// The header line of every human rendering.
pub struct Heading<'a> {
    pub host: &'a str,
    pub profile: &'a str,
    /// `--root`, when not `/`.
    pub root: Option<&'a std::path::Path>,
    pub mode: &'a str,
}

/// Escapes multi-line text line by line (newlines kept).
fn escape_lines(text: &str) -> String {
    text.split_inclusive('\n')
        .map(|l| match l.strip_suffix('\n') {
            Some(body) => format!("{}\n", for_terminal(body)),
            None => for_terminal(l),
        })
        .collect()
}

/// The unified diff of one file change (`--- a/path` / `+++ b/path`), `None` for other targets.
pub fn unified_diff(change: &Change) -> Option<String> {
    let Target::File {
        path,
        before,
        after,
        ..
    } = &change.target
    else {
        return None;
    };
    let old = before.as_deref().unwrap_or("");
    let shown = path.display().to_string();
    let old_header = if before.is_some() {
        format!("a{shown}")
    } else {
        "/dev/null".to_string()
    };
    Some(
        similar::TextDiff::from_lines(old, after.as_str())
            .unified_diff()
            .context_radius(3)
            .header(&old_header, &format!("b{shown}"))
            .missing_newline_hint(true)
            .to_string(),
    )
}

/// `before → after` of a change, in one short phrase.
pub fn before_after(change: &Change) -> String {
    match &change.target {
        Target::File { before, after, .. } => match before {
            None => format!("absent → new file, {} lines", after.lines().count()),
            Some(b) => format!(
                "{} lines → {} lines",
                b.lines().count(),
                after.lines().count()
            ),
        },
        Target::MaskUnit { .. } => "unit file → symlink to /dev/null (masked)".to_string(),
        Target::Sysctl { before, after, .. } => format!(
            "{} → {after}",
            before.as_deref().unwrap_or("(key does not exist yet)")
        ),
        Target::LoadModule { .. } => "not loaded → loaded".to_string(),
        Target::SwapOff { .. } => "on → off".to_string(),
    }
}

fn change_block(out: &mut String, n: usize, change: &Change, diff: bool) {
    let number = if n == 0 {
        "  ↳".to_string()
    } else {
        format!("{n:>3}.")
    };
    out.push_str(&format!(
        "{number} [{}] {}\n",
        for_terminal(&change.fixes.join(", ")),
        for_terminal(&change.summary)
    ));
    out.push_str(&format!(
        "     {}: {}\n",
        for_terminal(&change.target.subject()),
        for_terminal(&before_after(change))
    ));
    out.push_str(&format!("     takes effect {}", change.takes_effect.text()));
    if !change.side_effects.is_empty() {
        let effects: Vec<String> = change.side_effects.iter().map(|e| e.text()).collect();
        out.push_str(&format!("; side effects: {}", effects.join(", ")));
    }
    out.push('\n');
    for note in &change.notes {
        out.push_str(&format!("     note: {}\n", for_terminal(note)));
    }
    if diff {
        if let Some(d) = unified_diff(change) {
            for line in escape_lines(&d).lines() {
                out.push_str(&format!("     {line}\n"));
            }
        }
    }
}

/// Checks that did not pass and that no change of the plan fixes (with their own remediation).
pub fn not_fixed<'a>(plan: &Plan, results: &'a [CheckResult]) -> Vec<&'a CheckResult> {
    let covered: Vec<&String> = plan
        .changes
        .iter()
        .flat_map(|c| c.fixes.iter())
        .chain(plan.held.iter().flat_map(|h| h.fixes.iter()))
        .chain(plan.manual.iter().flat_map(|m| m.fixes.iter()))
        .collect();
    results
        .iter()
        .filter(|r| matches!(r.status, Status::Fail | Status::Warn))
        .filter(|r| !covered.contains(&&r.id))
        .collect()
}

/// The plan for a person.
pub fn human(heading: &Heading, plan: &Plan, results: &[CheckResult], diff: bool) -> String {
    let mut out = headline(heading);
    if plan.changes.is_empty() {
        out.push_str("nothing to change: every check this command can fix passes, or its change is already made\n");
    } else {
        out.push_str("changes:\n");
        for (i, c) in plan.changes.iter().enumerate() {
            change_block(&mut out, i + 1, c, diff);
        }
    }
    held_and_manual(&mut out, plan, diff);
    let rest = not_fixed(plan, results);
    if !rest.is_empty() {
        out.push_str("not fixed by this command (see each remediation):\n");
        for r in rest {
            out.push_str(&format!(
                "  - {} {}: {}\n",
                for_terminal(&r.id),
                r.status.as_str(),
                for_terminal(r.remediation.as_deref().unwrap_or(&r.message))
            ));
        }
    }
    out
}

fn headline(h: &Heading) -> String {
    let mut parts = vec![format!(
        "nodecheck fix {} on {}",
        h.mode,
        for_terminal(h.host)
    )];
    parts.push(format!("profile {}", for_terminal(h.profile)));
    if let Some(root) = h.root {
        parts.push(format!(
            "root {} (files only; no live changes)",
            for_terminal(&root.display().to_string())
        ));
    }
    parts.join(" · ") + "\n"
}

fn held_and_manual(out: &mut String, plan: &Plan, diff: bool) {
    section(out, "held back:", &plan.held, |out, h| {
        item(out, &h.fixes, &h.reason);
        if let (Some(c), true) = (&h.change, diff) {
            change_block(out, 0, c, true);
        }
    });
    section(
        out,
        "manual steps (nodecheck does not take them):",
        &plan.manual,
        |out, m| {
            item(out, &m.fixes, &m.what);
            for c in &m.commands {
                for line in c.lines() {
                    out.push_str(&format!("      {}\n", for_terminal(line)));
                }
            }
        },
    );
}

/// A titled list, left out when empty.
fn section<T>(out: &mut String, title: &str, items: &[T], mut each: impl FnMut(&mut String, &T)) {
    if items.is_empty() {
        return;
    }
    out.push_str(title);
    out.push('\n');
    for it in items {
        each(out, it);
    }
}

/// `  - [Check-IDs] text`: one held change or manual step.
fn item(out: &mut String, fixes: &[String], text: &str) {
    out.push_str(&format!(
        "  - [{}] {}\n",
        for_terminal(&fixes.join(", ")),
        for_terminal(text)
    ));
}

/// The plan as JSON: the typed plan, each file change with its diff when asked, and the checks left.
pub fn json(mode: &str, host: &str, plan: &Plan, results: &[CheckResult], diff: bool) -> Value {
    let changes: Vec<Value> = plan
        .changes
        .iter()
        .map(|c| {
            let mut v = serde_json::to_value(c).unwrap_or(Value::Null);
            if diff {
                if let (Some(d), Value::Object(m)) = (unified_diff(c), &mut v) {
                    m.insert("diff".to_string(), Value::String(d));
                }
            }
            v
        })
        .collect();
    json!({
        "mode": mode,
        "host": host,
        "changes": changes,
        "held": plan.held,
        "manual": plan.manual,
        "side_effects": plan.side_effects(),
        "not_fixed": not_fixed(plan, results).iter().map(|r| json!({
            "id": r.id, "status": r.status, "remediation": r.remediation,
        })).collect::<Vec<_>>(),
    })
}

/// One line per check the run touched: its status before and after.
pub fn proof_lines(ids: &[String], before: &[CheckResult], after: &[CheckResult]) -> Vec<Value> {
    ids.iter()
        .map(|id| {
            let status = |rs: &[CheckResult]| {
                rs.iter()
                    .find(|r| &r.id == id)
                    .map(|r| (r.status.as_str().to_string(), r.message.clone()))
            };
            let (b, _) = status(before).unwrap_or(("absent".into(), String::new()));
            let (a, msg) = status(after).unwrap_or(("absent".into(), String::new()));
            json!({"id": id, "before": b, "after": a, "message": msg})
        })
        .collect()
}
