//! The module's answer for `command: fix`: `changed` is true exactly when the plan has changes (check
//! mode, `fix: check`: would change) or the run made them (`fix: apply`); `diff` is Ansible's format,
//! one `before`/`after` per file; a failed step is `failed: true` with the rollback in `msg`.

use serde_json::{json, Map, Value};

use super::invoke::CliRun;
use super::params::{FixMode, ModuleParams};
use super::result::{failure, with_invocation};
use crate::error::Exit;
use crate::escape::for_terminal;

pub fn fix_result(p: &ModuleParams, run: &CliRun) -> Map<String, Value> {
    let applying = p.fix == FixMode::Apply && !p.check_mode;
    let plan: Value = match (run.code, serde_json::from_slice::<Value>(&run.stdout)) {
        // --check: 0 nothing to change, 3 pending; --apply: 0 applied, 1 failed (with a JSON answer).
        (Some(0) | Some(3), Ok(v)) => v,
        (Some(1), Ok(v)) if applying && v.get("failure").is_some_and(|f| !f.is_null()) => v,
        _ => return with_invocation(failure(run.failure_text()), p),
    };
    let changes: Vec<&Value> = plan["changes"]
        .as_array()
        .map(|c| c.iter().collect())
        .unwrap_or_default();
    let failed = run.code == Some(Exit::ToolFailed as i32);
    let changed = if applying {
        plan["changed"].as_bool().unwrap_or(false)
    } else {
        !changes.is_empty()
    };
    let summaries: Vec<String> = changes
        .iter()
        .map(|c| {
            format!(
                "[{}] {}",
                c["fixes"]
                    .as_array()
                    .map(|f| f
                        .iter()
                        .filter_map(|i| i.as_str())
                        .collect::<Vec<_>>()
                        .join(", "))
                    .unwrap_or_default(),
                c["summary"].as_str().unwrap_or("")
            )
        })
        .collect();
    let msg = if failed {
        format!(
            "a step failed and the run was rolled back: {}",
            plan["failure"]["error"].as_str().unwrap_or("unknown error")
        )
    } else if changes.is_empty() {
        "nothing to change".to_string()
    } else if applying {
        format!(
            "applied {} change(s): {}",
            changes.len(),
            summaries.join("; ")
        )
    } else {
        format!(
            "{} change(s) pending{}: {}",
            changes.len(),
            if p.check_mode { " (check mode)" } else { "" },
            summaries.join("; ")
        )
    };
    let mut out = Map::new();
    out.insert("changed".into(), changed.into());
    out.insert("failed".into(), failed.into());
    out.insert("command".into(), "fix".into());
    out.insert("msg".into(), for_terminal(&msg).into());
    out.insert("rc".into(), run.code.into());
    out.insert("changes".into(), json!(summaries));
    for key in [
        "held",
        "manual",
        "not_fixed",
        "run_id",
        "proof",
        "failure",
        "side_effects_run",
    ] {
        if let Some(v) = plan.get(key) {
            out.insert(key.into(), v.clone());
        }
    }
    if p.diff_mode && changed {
        out.insert("diff".into(), Value::Array(ansible_diff(&changes)));
    }
    with_invocation(out, p)
}

/// Ansible's diff list: one `{before, after, before_header, after_header}` per file change.
fn ansible_diff(changes: &[&Value]) -> Vec<Value> {
    changes
        .iter()
        .filter(|c| c["target"]["type"] == "file" || c["target"]["type"] == "mask_unit")
        .map(|c| {
            let t = &c["target"];
            let path = t["path"].as_str().unwrap_or("");
            let after = match t["type"].as_str() {
                Some("mask_unit") => "(symlink to /dev/null: masked)\n".to_string(),
                _ => t["after"].as_str().unwrap_or("").to_string(),
            };
            json!({
                "before": t["before"].as_str().unwrap_or(""),
                "after": after,
                "before_header": path,
                "after_header": path,
            })
        })
        .collect()
}
