//! Showing recorded runs: what `fix --rollback` restored (or could not), and the `--history` list;
//! human text (every recorded string escaped for the terminal) and JSON.

use std::path::Path;

use serde_json::{json, Value};

use super::manifest::{self, RunEntry};
use super::rollback::RolledBack;
use crate::escape::for_terminal;

/// The human report of a rollback: the run, its steps newest first, side effects, what is not undone.
pub fn rolled_back_human(done: &RolledBack) -> String {
    let m = &done.manifest;
    let mut out = format!(
        "nodecheck fix --rollback: run {} ({} step(s)) {}\n",
        for_terminal(&m.run_id),
        m.steps.len(),
        if done.problems.is_empty() {
            "rolled back"
        } else {
            "partly rolled back"
        }
    );
    for s in m.steps.iter().rev() {
        out.push_str(&format!(
            "  {} [{}] {}\n",
            if s.done { "!" } else { "↶" },
            for_terminal(&s.fixes.join(", ")),
            for_terminal(&s.summary)
        ));
    }
    for (e, o) in &done.effects {
        out.push_str(&format!(
            "  side effect {}: {}\n",
            e.text(),
            for_terminal(o)
        ));
    }
    for p in &done.problems {
        out.push_str(&format!("  not undone: {}\n", for_terminal(p)));
    }
    out
}

/// The JSON report of a rollback.
pub fn rolled_back_json(done: &RolledBack) -> Value {
    let m = &done.manifest;
    json!({
        "mode": "rollback",
        "run_id": m.run_id,
        "status": m.status,
        "problems": done.problems,
        "side_effects": done.effects.iter().map(|(e, o)| json!({"effect": e, "outcome": o})).collect::<Vec<_>>(),
    })
}

/// What an incomplete run is, and how to clean it up.
fn incomplete(id: &str) -> String {
    format!(
        "incomplete: interrupted before its record was written, nothing was changed; remove {} to clean it up",
        Path::new(manifest::RUNS_DIR).join(id).display()
    )
}

/// The `--history` list as JSON, one object per run.
pub fn history_json(runs: &[RunEntry]) -> Value {
    Value::Array(
        runs.iter()
            .map(|r| match &r.manifest {
                Ok(Some(m)) => json!({
                    "run_id": r.id, "started_at": m.started_at, "status": m.status,
                    "host": m.host, "root": m.root, "changes": m.steps.len(), "fixes": m.fixes,
                }),
                Ok(None) => {
                    json!({"run_id": r.id, "status": "incomplete", "note": incomplete(&r.id)})
                }
                Err(e) => json!({"run_id": r.id, "error": e.to_string()}),
            })
            .collect(),
    )
}

/// The `--history` list as text, one line per run.
pub fn history_human(runs: &[RunEntry]) -> String {
    if runs.is_empty() {
        return "no recorded runs\n".to_string();
    }
    let mut out = String::new();
    for r in runs {
        match &r.manifest {
            Ok(Some(m)) => out.push_str(&format!(
                "{}  {}  {:<20}  {} change(s)  fixes {}\n",
                for_terminal(&r.id),
                for_terminal(&m.started_at),
                m.status.as_str(),
                m.steps.len(),
                for_terminal(&m.fixes.join(", "))
            )),
            Ok(None) => out.push_str(&format!("{}  {}\n", for_terminal(&r.id), incomplete(&r.id))),
            Err(e) => out.push_str(&format!(
                "{}  unreadable: {}\n",
                for_terminal(&r.id),
                for_terminal(&e.to_string())
            )),
        }
    }
    out
}
