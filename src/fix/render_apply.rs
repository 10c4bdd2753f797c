//! Showing what `fix --apply` did: the run's steps (or the step that failed and the rollback that
//! followed), its side effects, the proof that it worked, and what is left for a person; human text
//! (every host string escaped for the terminal) and JSON. It also shows an `--apply` that had
//! nothing to do.

use std::path::Path;

use serde_json::{json, Value};

use super::apply::Applied;
use super::confine::under_root;
use super::manifest;
use super::plan::Plan;
use super::render::{self, Heading};
use crate::checks::CheckResult;
use crate::escape::for_terminal;

/// What shows that the run worked.
pub enum Proof {
    /// Before → after of every check the run touched (live host).
    Checks(Vec<Value>),
    /// Files still to write after planning again under `--root` (empty: converged).
    Replanned(Vec<String>),
    Unavailable(String),
}

/// The human report of a run.
pub fn human(
    heading: &Heading,
    plan: &Plan,
    applied: &Applied,
    proof: Option<&Proof>,
    root: &Path,
    diff: bool,
) -> String {
    let m = &applied.manifest;
    let mut out = render::human(heading, plan, &[], diff)
        .lines()
        .next()
        .map(|l| format!("{l} · run {}\n", for_terminal(&m.run_id)))
        .unwrap_or_default();
    let run_dir = under_root(root, Path::new(manifest::RUNS_DIR)).join(&m.run_id);
    match &applied.failure {
        None => {
            out.push_str("applied:\n");
            for (c, s) in plan.changes.iter().zip(&m.steps) {
                out.push_str(&format!(
                    "  {} [{}] {} ({}: {})\n",
                    if s.done { "✓" } else { "·" },
                    for_terminal(&c.fixes.join(", ")),
                    for_terminal(&c.summary),
                    for_terminal(&c.target.subject()),
                    for_terminal(&render::before_after(c))
                ));
                if diff {
                    if let Some(d) = render::unified_diff(c) {
                        for line in d.lines() {
                            out.push_str(&format!("      {}\n", for_terminal(line)));
                        }
                    }
                }
            }
        }
        Some((step, why)) => {
            let at = match step {
                Some(n) => format!("step {} ({})", n + 1, m.steps[*n].summary),
                None => "a side effect".to_string(),
            };
            out.push_str(&format!(
                "FAILED at {}: {}\n",
                for_terminal(&at),
                for_terminal(why)
            ));
            if applied.rollback_problems.is_empty() {
                out.push_str("rolled back: every change this run had made was undone; the host is as before\n");
            } else {
                out.push_str("rolled back, except (fix these by hand):\n");
                for p in &applied.rollback_problems {
                    out.push_str(&format!("  - {}\n", for_terminal(p)));
                }
            }
        }
    }
    if !applied.effects.is_empty() {
        out.push_str("side effects:\n");
        for e in &applied.effects {
            out.push_str(&format!(
                "  - {}: {}\n",
                e.effect.text(),
                for_terminal(&e.outcome)
            ));
        }
    }
    match proof {
        Some(Proof::Checks(lines)) => {
            out.push_str("checks, before → after:\n");
            for l in lines {
                out.push_str(&format!(
                    "  {} {} → {}: {}\n",
                    for_terminal(l["id"].as_str().unwrap_or("")),
                    l["before"].as_str().unwrap_or(""),
                    l["after"].as_str().unwrap_or(""),
                    for_terminal(l["message"].as_str().unwrap_or(""))
                ));
            }
        }
        Some(Proof::Replanned(left)) if left.is_empty() => out.push_str(&format!(
            "files: planning again under {} finds nothing left to write; live settings are untouched under --root\n",
            for_terminal(&root.display().to_string())
        )),
        Some(Proof::Replanned(left)) => out.push_str(&format!(
            "files: planning again still finds changes for {}\n",
            for_terminal(&left.join(", "))
        )),
        Some(Proof::Unavailable(why)) => {
            out.push_str(&format!("checks not re-run: {}\n", for_terminal(why)))
        }
        None => {}
    }
    let mut rest = String::new();
    let mut manual_only = plan.clone();
    manual_only.changes.clear();
    let shown = render::human(heading, &manual_only, &[], false);
    for line in shown.lines().skip(2) {
        rest.push_str(line);
        rest.push('\n');
    }
    out.push_str(&rest);
    if applied.failure.is_none() {
        out.push_str(&format!(
            "recorded in {}; undo with `nodecheck fix --rollback {}`\n",
            for_terminal(&run_dir.join("manifest.json").display().to_string()),
            for_terminal(&m.run_id)
        ));
    }
    out
}

/// The JSON report of a run: the plan's JSON with the run's ID, status, failure and proof.
pub fn json(
    host: &str,
    plan: &Plan,
    applied: &Applied,
    proof: Option<&Proof>,
    diff: bool,
) -> Value {
    let mut v = render::json("apply", host, plan, &[], diff);
    let m = &applied.manifest;
    v["run_id"] = json!(m.run_id);
    v["changed"] = json!(applied.failure.is_none());
    v["status"] = json!(m.status);
    v["side_effects_run"] = json!(applied.effects);
    v["failure"] = match &applied.failure {
        Some((step, why)) => {
            json!({"step": step.map(|n| n + 1), "error": why, "rolled_back": true, "rollback_problems": applied.rollback_problems})
        }
        None => Value::Null,
    };
    v["proof"] = match proof {
        Some(Proof::Checks(lines)) => json!({"checks": lines}),
        Some(Proof::Replanned(left)) => json!({"files_left": left}),
        Some(Proof::Unavailable(why)) => json!({"unavailable": why}),
        None => Value::Null,
    };
    v
}

/// The human report of an `--apply` with nothing to do: the heading, then what is not fixed
/// and what is left for a person, as the plan shows them.
pub fn nothing_to_do_human(heading: &Heading, plan: &Plan, results: &[CheckResult]) -> String {
    let shown = render::human(heading, plan, results, false);
    let mut out = shown
        .lines()
        .next()
        .map(|l| format!("{l}\n"))
        .unwrap_or_default();
    out.push_str("nothing to do: no change is needed (a second --apply changes nothing)\n");
    for line in shown.lines().skip(2) {
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The JSON report of an `--apply` with nothing to do: the plan's JSON, `changed: false`.
pub fn nothing_to_do_json(host: &str, plan: &Plan, results: &[CheckResult], diff: bool) -> Value {
    let mut v = render::json("apply", host, plan, results, diff);
    v["changed"] = Value::Bool(false);
    v
}
