//! The JSON object the Ansible module returns: `changed: false`, `failed`, a readable `msg`, the
//! per-check `results` and `summary` (check), the Calico recommendation (calico), and the host's snapshot
//! under `ansible_facts.nodecheck`, so the fleet's saved results or fact-cache files are peer input.
//!
//! `msg` is printed as it is by Ansible's error line, so the names in it (interfaces, hosts) are
//! escaped for the terminal; the structured fields keep the raw values (JSON escapes them).

use serde_json::{json, Map, Value};

use super::invoke::CliRun;
use super::params::{value_name, ModuleParams};
use crate::checks::Status;
use crate::error::Exit;
use crate::escape::for_terminal;
use crate::report::Report;

/// The key under `ansible_facts` that holds the snapshot (`ansible_facts.nodecheck`).
pub const FACTS_KEY: &str = "nodecheck";

/// A failed module call with only a message (bad parameters, unreadable args file).
pub fn failure(msg: impl Into<String>) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("changed".into(), false.into());
    out.insert("failed".into(), true.into());
    out.insert("msg".into(), msg.into().into());
    out
}

/// The common part of every answer: `changed`, `invocation`, and the facts (or the failure to get them).
fn base(p: &ModuleParams, facts: &CliRun) -> Result<Map<String, Value>, Map<String, Value>> {
    let snapshot = parse_json_stdout(facts).map_err(|msg| with_invocation(failure(msg), p))?;
    let mut out = Map::new();
    out.insert("changed".into(), false.into());
    out.insert("failed".into(), false.into());
    out.insert("command".into(), value_name(p.command).into());
    out.insert("ansible_facts".into(), json!({ FACTS_KEY: snapshot }));
    Ok(with_invocation(out, p))
}

pub fn with_invocation(mut out: Map<String, Value>, p: &ModuleParams) -> Map<String, Value> {
    out.insert(
        "invocation".into(),
        json!({ "module_args": Value::Object(p.given.clone()) }),
    );
    out
}

/// `command: facts`.
pub fn facts_result(p: &ModuleParams, facts: &CliRun) -> Map<String, Value> {
    let mut out = match base(p, facts) {
        Ok(out) => out,
        Err(failed) => return failed,
    };
    let snapshot = &out["ansible_facts"][FACTS_KEY];
    let count = |key: &str| snapshot[key].as_array().map_or(0, Vec::len);
    let msg = format!(
        "{}: gathered {} interfaces and {} routes",
        for_terminal(snapshot["host"]["hostname"].as_str().unwrap_or("this host")),
        count("interfaces"),
        count("routes"),
    );
    out.insert("msg".into(), check_mode_note(p, msg).into());
    out.insert("rc".into(), facts.code.into());
    out
}

/// `command: check`: the report of `nodecheck check --format json`; failed when a check failed (exit 3).
pub fn check_result(p: &ModuleParams, facts: &CliRun, check: &CliRun) -> Map<String, Value> {
    let mut out = match base(p, facts) {
        Ok(out) => out,
        Err(failed) => return failed,
    };
    out.insert("rc".into(), check.code.into());
    let verdict =
        check.code == Some(Exit::Ok as i32) || check.code == Some(Exit::ChecksFailed as i32);
    if !verdict {
        out.insert("failed".into(), true.into());
        out.insert("msg".into(), check.failure_text().into());
        return out;
    }
    let report: Report = match serde_json::from_slice(&check.stdout) {
        Ok(report) => report,
        Err(e) => {
            out.insert("failed".into(), true.into());
            out.insert(
                "msg".into(),
                format!(
                    "`{}` printed a report that is not valid JSON: {e}",
                    check.shown
                )
                .into(),
            );
            return out;
        }
    };
    let ids_with = |status: Status| -> Vec<String> {
        report
            .results
            .iter()
            .filter(|r| r.status == status)
            .map(|r| r.id.clone())
            .collect()
    };
    let failed_ids = ids_with(Status::Fail);
    let warned_ids = ids_with(Status::Warn);
    let recap = report.recap();
    let mut msg = recap.clone();
    for r in report.results.iter().filter(|r| r.status == Status::Fail) {
        msg.push_str(&format!(
            "; FAIL {}: {}",
            for_terminal(&r.id),
            for_terminal(&r.message)
        ));
    }
    if !warned_ids.is_empty() {
        msg.push_str(&format!(
            "; warned: {}",
            for_terminal(&warned_ids.join(", "))
        ));
    }
    out.insert(
        "failed".into(),
        (check.code == Some(Exit::ChecksFailed as i32)).into(),
    );
    out.insert("msg".into(), check_mode_note(p, msg).into());
    out.insert("recap".into(), for_terminal(&recap).into());
    out.insert("phase".into(), report.phase.as_str().into());
    out.insert("host".into(), report.host.clone().into());
    out.insert("cluster".into(), report.cluster.clone().into());
    out.insert("failed_checks".into(), failed_ids.into());
    out.insert("warned_checks".into(), warned_ids.into());
    out.insert(
        "summary".into(),
        serde_json::to_value(report.summary).unwrap_or_default(),
    );
    out.insert(
        "results".into(),
        serde_json::to_value(&report.results).unwrap_or_default(),
    );
    out
}

/// `command: calico`: the prediction (`--format json`) and the recommended settings (`--format env`).
pub fn calico_result(
    p: &ModuleParams,
    facts: &CliRun,
    calico_json: &CliRun,
    calico_env: &CliRun,
) -> Map<String, Value> {
    let mut out = match base(p, facts) {
        Ok(out) => out,
        Err(failed) => return failed,
    };
    out.insert("rc".into(), calico_json.code.into());
    // Exit 3: some family has no single method that is right on every node. That is advice, not a
    // failure of the step: the prediction says why, and the other families' methods still hold.
    let advice = |run: &CliRun| matches!(run.code, Some(0) | Some(3));
    for run in [calico_json, calico_env] {
        if !advice(run) {
            out.insert("failed".into(), true.into());
            out.insert("msg".into(), run.failure_text().into());
            return out;
        }
    }
    let prediction = match serde_json::from_slice::<Value>(&calico_json.stdout).map_err(|e| {
        format!(
            "`{}` printed output that is not valid JSON: {e}",
            calico_json.shown
        )
    }) {
        Ok(v) => v,
        Err(msg) => {
            out.insert("failed".into(), true.into());
            out.insert("msg".into(), msg.into());
            return out;
        }
    };
    let settings = parse_env_lines(&String::from_utf8_lossy(&calico_env.stdout));
    let reasons = calico_env.stderr.trim();
    let msg = if settings.is_empty() && !reasons.is_empty() {
        for_terminal(&format!(
            "no single autodetection method for every family: {}",
            reasons
                .lines()
                .map(|l| l.trim_start_matches("nodecheck: "))
                .collect::<Vec<_>>()
                .join("; ")
        ))
    } else if settings.is_empty() {
        "no autodetection setting recommended".to_string()
    } else {
        settings
            .iter()
            .map(|(k, v)| for_terminal(&format!("{k}={}", v.as_str().unwrap_or_default())))
            .collect::<Vec<_>>()
            .join("; ")
    };
    out.insert("msg".into(), check_mode_note(p, msg).into());
    out.insert("calico".into(), prediction);
    out.insert("calico_env".into(), Value::Object(settings));
    out
}

/// nodecheck never changes the host, so check mode runs the same read-only work; say so.
fn check_mode_note(p: &ModuleParams, msg: String) -> String {
    if p.check_mode {
        format!("{msg} (check mode: nodecheck never changes the host, so it ran as usual)")
    } else {
        msg
    }
}

fn parse_json_stdout(run: &CliRun) -> Result<Value, String> {
    if run.code != Some(Exit::Ok as i32) {
        return Err(run.failure_text());
    }
    serde_json::from_slice(&run.stdout)
        .map_err(|e| format!("`{}` printed output that is not valid JSON: {e}", run.shown))
}

/// `NAME=value` lines of `nodecheck calico --format env` (comments and blank lines ignored; a value
/// quoted by `escape::shell_quote` is unquoted).
pub fn parse_env_lines(text: &str) -> Map<String, Value> {
    let mut settings = Map::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        let is_name = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        if is_name {
            settings.insert(name.to_string(), crate::escape::shell_unquote(value).into());
        }
    }
    settings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ansible::params::parse;

    fn run(code: i32, stdout: Value) -> CliRun {
        CliRun {
            shown: "nodecheck test".into(),
            code: Some(code),
            stdout: serde_json::to_vec(&stdout).unwrap(),
            stderr: String::new(),
        }
    }

    fn report_with(results: Value, summary: Value) -> Value {
        json!({
            "host": "worker-41", "cluster": "prod", "phase": "pre-join", "nodecheck_version": "0.1.0",
            "collected_at": "2026-11-27T08:00:00Z", "results": results, "summary": summary,
        })
    }

    #[test]
    fn failed_checks_are_named_in_msg_with_hostile_names_escaped() {
        let p = parse(json!({"command": "check"}).as_object().unwrap()).unwrap();
        let facts = run(
            0,
            json!({"host": {"hostname": "worker-41"}, "interfaces": []}),
        );
        let results = json!([
            {"id": "NodeNic-Name", "area": "node-nic", "status": "fail",
             "message": "expected NIC eth3 is missing; found ens\u{1b}[31m192", "evidence": {},
             "remediation": null},
            {"id": "Bridge-Docker0", "area": "bridges", "status": "warn", "message": "docker0",
             "evidence": {}, "remediation": null},
            {"id": "Swap", "area": "swap", "status": "ok", "message": "off", "evidence": {},
             "remediation": null},
        ]);
        let summary = json!({"ok": 1, "warn": 1, "fail": 1, "skipped": 0});
        let out = check_result(&p, &facts, &run(3, report_with(results, summary)));
        assert_eq!(out["failed"], true);
        assert_eq!(out["changed"], false);
        assert_eq!(out["rc"], 3);
        assert_eq!(out["failed_checks"], json!(["NodeNic-Name"]));
        assert_eq!(out["warned_checks"], json!(["Bridge-Docker0"]));
        let msg = out["msg"].as_str().unwrap();
        assert_eq!(
            msg,
            "worker-41 : ok=1 warn=1 fail=1 skipped=0; FAIL NodeNic-Name: expected NIC eth3 is \
             missing; found ens\\x1b[31m192; warned: Bridge-Docker0"
        );
        assert!(out["results"][0]["message"]
            .as_str()
            .unwrap()
            .contains('\u{1b}'));
        assert_eq!(
            out["ansible_facts"]["nodecheck"]["host"]["hostname"],
            "worker-41"
        );
    }

    #[test]
    fn tool_and_input_errors_fail_with_the_diagnostics() {
        let p = parse(json!({"command": "check"}).as_object().unwrap()).unwrap();
        let facts = run(0, json!({"host": {"hostname": "h"}}));
        let mut bad = run(2, json!(null));
        bad.stderr = "nodecheck: error: /etc/p.yaml:3:5: unknown field `nic_name`\n".into();
        let out = check_result(&p, &facts, &bad);
        assert_eq!(out["failed"], true);
        assert_eq!(out["rc"], 2);
        assert_eq!(
            out["msg"],
            "`nodecheck test` failed (exit code 2): nodecheck: error: /etc/p.yaml:3:5: unknown field `nic_name`"
        );
        let mut gather_failed = run(1, json!(null));
        gather_failed.stderr = "nodecheck: error: netlink dump timed out".into();
        let out = check_result(&p, &gather_failed, &run(0, json!(null)));
        assert_eq!(out["failed"], true);
        assert!(out.get("ansible_facts").is_none());
        assert!(out["msg"]
            .as_str()
            .unwrap()
            .contains("netlink dump timed out"));
    }

    #[test]
    fn a_passing_check_returns_the_facts_and_the_recap() {
        let p = parse(
            json!({"command": "check", "_ansible_check_mode": true})
                .as_object()
                .unwrap(),
        )
        .unwrap();
        let facts = run(0, json!({"host": {"hostname": "h"}}));
        let summary = json!({"ok": 0, "warn": 0, "fail": 0, "skipped": 0});
        let out = check_result(&p, &facts, &run(0, report_with(json!([]), summary)));
        assert_eq!(out["failed"], false);
        assert_eq!(out["phase"], "pre-join");
        assert!(out["msg"]
            .as_str()
            .unwrap()
            .ends_with("(check mode: nodecheck never changes the host, so it ran as usual)"));
        assert!(out["ansible_facts"]["nodecheck"].is_object());
    }

    #[test]
    fn env_lines_are_read_with_shell_quoting() {
        let text = "# for calico-node\nIP_AUTODETECTION_METHOD='interface=eth0'\n\
                    export IP6_AUTODETECTION_METHOD=can-reach=2001:db8::1\nnot a setting\n\
                    X_Y='it'\\''s'\n";
        let settings = parse_env_lines(text);
        assert_eq!(settings["IP_AUTODETECTION_METHOD"], "interface=eth0");
        assert_eq!(
            settings["IP6_AUTODETECTION_METHOD"],
            "can-reach=2001:db8::1"
        );
        assert_eq!(settings["X_Y"], "it's");
        assert_eq!(settings.len(), 3);
    }
}

#[cfg(test)]
mod calico_tests {
    use super::*;
    use crate::ansible::params::parse;

    fn run(code: i32, stdout: &[u8], stderr: &str) -> CliRun {
        CliRun {
            shown: "nodecheck calico".into(),
            code: Some(code),
            stdout: stdout.to_vec(),
            stderr: stderr.into(),
        }
    }

    #[test]
    fn a_family_without_a_single_method_is_advice_not_a_failed_step() {
        let p = parse(json!({"command": "calico"}).as_object().unwrap()).unwrap();
        let facts = run(0, b"{\"schema_version\": 2}", "");
        let out = calico_result(
            &p,
            &facts,
            &run(3, b"{\"families\": []}", ""),
            &run(
                3,
                b"",
                "nodecheck: ipv6: no single method selects the node network on every node\n",
            ),
        );
        assert_eq!(out["failed"], false);
        assert_eq!(
            out["msg"],
            "no single autodetection method for every family: ipv6: no single method selects the \
             node network on every node"
        );
        // A tool error still fails the step.
        let out = calico_result(
            &p,
            &facts,
            &run(2, b"", "nodecheck: error: bad profile"),
            &run(0, b"", ""),
        );
        assert_eq!(out["failed"], true);
    }
}
