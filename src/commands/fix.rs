//! `nodecheck fix`: evaluate the checks, plan the changes that fix the failing ones, and show them
//! (`--check`, `--diff`), make them (`--apply`), undo a run (`--rollback`) or list runs (`--history`).
//! The plan itself is pure (`crate::fix::planners`); this module loads inputs and wires the steps.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::{json, Value};

use super::inputs::calico::{calico_version, report as calico_report};
use super::inputs::{Inputs, Sources};
use crate::checks::{CheckResult, Phase};
use crate::cli::{FixArgs, FixFormat};
use crate::error::{BadInput, Exit};
use crate::escape::for_terminal;
use crate::facts::Facts;
use crate::fix::plan::Plan;
use crate::fix::planners::{self, CalicoAdvice, PlanInput};
use crate::fix::{apply, manifest, render, rollback, state};
use crate::profile::Profile;

pub fn exec(args: FixArgs) -> anyhow::Result<ExitCode> {
    let root = args.root.clone().unwrap_or_else(|| PathBuf::from("/"));
    let live = args.root.is_none();
    match std::fs::metadata(&root) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            return Err(BadInput::new(format!("--root {}: not a directory", root.display())).into())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(BadInput::new(format!(
                "--root {}: does not exist (create the directory first)",
                root.display()
            ))
            .into())
        }
        Err(e) => return Err(BadInput::new(format!("--root {}: {e}", root.display())).into()),
    }
    if args.history {
        return history(&root, args.format);
    }
    if (args.apply || args.rollback.is_some()) && !nix::unistd::geteuid().is_root() {
        return Err(BadInput::new(format!(
            "--{} needs root (it writes system files and records the run); nothing was changed. `nodecheck fix --check` and `--diff` work without root",
            if args.apply { "apply" } else { "rollback" }
        ))
        .into());
    }
    // One run at a time: held until this process exits.
    let _lock = if args.apply || args.rollback.is_some() {
        let what = if args.apply { "--apply" } else { "--rollback" };
        match crate::fix::lock::acquire(&root, what, crate::fix::lock::WAIT) {
            Ok(lock) => Some(lock),
            Err(e) => {
                eprintln!(
                    "nodecheck: fix {what} refused, nothing was changed: {}",
                    for_terminal(&e.to_string())
                );
                return Ok(Exit::ToolFailed.into());
            }
        }
    } else {
        None
    };
    if let Some(id) = &args.rollback {
        let id = (!id.is_empty()).then_some(id.as_str());
        return rollback_run(&root, id, live, &args);
    }
    if args.apply && args.facts.is_some() && live {
        return Err(BadInput::new(
            "--apply with --facts needs --root: a saved snapshot is not this host's live state",
        )
        .into());
    }
    let inputs = Inputs::load(Sources {
        profile: args.profile.as_deref(),
        facts: args.facts.as_deref(),
        peers: &args.peers,
        host_root: crate::host_root::HostRoot::live(),
        kubelet: &args.kubelet,
        calico_version: None,
        calico_config: args.calico_config.as_deref(),
        other_inputs: Vec::new(),
        max_peer_age: None,
    })?;
    let (profile, origin, facts, peer_set) = (
        &inputs.profile,
        &inputs.profile_origin,
        &inputs.facts,
        &inputs.peer_set,
    );
    // The pre-join checks as `check` judges them, with the same skip list (a skipped check is never
    // "fixed"); the live probes are not run: no fixable check reads them.
    let all_results = inputs.judge(&inputs.context(Phase::PreJoin, None, None), &args.skip);
    let results = restrict(&all_results, &args.only);
    let host_state = read_state(&root, live, profile, &results, facts);
    let calico = calico_advice(&inputs, &results);
    let plan = planners::plan(&PlanInput {
        results: &results,
        facts,
        profile,
        peers: &peer_set.peers,
        host: &host_state,
        calico: calico.as_ref(),
        force: args.force,
    });
    let heading = render::Heading {
        host: &facts.host.hostname,
        profile: origin,
        root: args.root.as_deref(),
        mode: if args.apply {
            "--apply"
        } else if args.diff {
            "--diff"
        } else {
            "--check"
        },
    };
    if !args.apply {
        let text = match args.format {
            FixFormat::Human => render::human(&heading, &plan, &results, args.diff),
            FixFormat::Json => json_text(&render::json(
                "check",
                &facts.host.hostname,
                &plan,
                &results,
                args.diff,
            )),
        };
        crate::output::print_stdout(&text)?;
        let pending = !plan.changes.is_empty() || plan.held.iter().any(|h| h.change.is_some());
        return Ok(if pending {
            Exit::ChecksFailed
        } else {
            Exit::Ok
        }
        .into());
    }
    if plan.is_empty() {
        let text = match args.format {
            FixFormat::Human => {
                format!(
                    "{}nothing to do: no change is needed (a second --apply changes nothing)\n",
                    render::human(&heading, &plan, &results, false)
                        .lines()
                        .next()
                        .map(|l| format!("{l}\n"))
                        .unwrap_or_default()
                ) + &render::human(&heading, &plan, &results, false)
                    .lines()
                    .skip(2)
                    .map(|l| format!("{l}\n"))
                    .collect::<String>()
            }
            FixFormat::Json => {
                let mut v = render::json("apply", &facts.host.hostname, &plan, &results, args.diff);
                v["changed"] = Value::Bool(false);
                json_text(&v)
            }
        };
        crate::output::print_stdout(&text)?;
        return Ok(Exit::Ok.into());
    }
    let options = apply::ApplyOptions {
        root: &root,
        live,
        restart_services: args.restart_services,
        host: &facts.host.hostname,
    };
    let stamp = crate::gather::clock::now_rfc3339();
    let applied = match apply::apply(&plan, &options, &stamp) {
        Ok(a) => a,
        Err(refused) => {
            eprintln!("nodecheck: fix --apply refused: {}", for_terminal(&refused));
            return Ok(Exit::ToolFailed.into());
        }
    };
    let after = if applied.failure.is_none() {
        Some(proof(
            &args,
            &root,
            live,
            &inputs,
            &results,
            calico.as_ref(),
        ))
    } else {
        None
    };
    let text = match args.format {
        FixFormat::Human => {
            applied_human(&heading, &plan, &applied, after.as_ref(), &root, args.diff)
        }
        FixFormat::Json => json_text(&applied_json(
            facts,
            &plan,
            &applied,
            after.as_ref(),
            args.diff,
        )),
    };
    crate::output::print_stdout(&text)?;
    Ok(if applied.failure.is_some() {
        Exit::ToolFailed
    } else {
        Exit::Ok
    }
    .into())
}

fn json_text(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

/// The results `--only` selects (all when it is empty); unmatched entries are reported on stderr.
fn restrict(results: &[CheckResult], only: &[String]) -> Vec<CheckResult> {
    if only.is_empty() {
        return results.to_vec();
    }
    for unmatched in crate::checks::skip::unmatched_skips(results, only) {
        eprintln!(
            "nodecheck: warning: --only entry `{}` matches no check (IDs: docs/checks.md)",
            for_terminal(&unmatched)
        );
    }
    let list = crate::checks::skip::SkipList::new(only);
    results
        .iter()
        .filter(|r| list.matches(&r.id))
        .cloned()
        .collect()
}

fn read_state(
    root: &Path,
    live: bool,
    profile: &Profile,
    results: &[CheckResult],
    facts: &Facts,
) -> state::HostState {
    let extra_files: Vec<PathBuf> = profile
        .node_network
        .nic
        .as_ref()
        .and_then(|n| n.name.as_deref())
        .map(planners::link_file_path)
        .into_iter()
        .chain(planners::node_ip_pin_file(results, facts, profile))
        .collect();
    let mut host = state::read(root, live, &extra_files);
    if planners::reads_k3s_config(results) {
        if let Ok(tree) = crate::host_root::HostRoot::at(root) {
            host.k3s = crate::gather::k3s_config::read(&tree);
        }
    }
    host
}

/// The `nodecheck calico` commands for the manual cluster step, when a Calico check did not pass.
fn calico_advice(inputs: &Inputs, results: &[CheckResult]) -> Option<CalicoAdvice> {
    let needed = results.iter().any(|r| {
        r.id.starts_with("Calico-Autodetection")
            && matches!(
                r.status,
                crate::checks::Status::Fail | crate::checks::Status::Warn
            )
    });
    if !needed {
        return None;
    }
    let version = calico_version(None, &inputs.profile).ok()?;
    let report = calico_report(inputs, version, &inputs.profile.calico.families, None);
    if !report.all_recommended() {
        return Some(CalicoAdvice::default());
    }
    Some(CalicoAdvice {
        kubectl: Some(crate::report::calico_formats::kubectl_command(&report)),
        operator_patch: crate::report::calico_formats::operator_patch(&report).ok(),
    })
}

/// Proof after applying: on the live host the checks run again on fresh facts (before → after per
/// check the run touched); under `--root` the files are planned again, which must find nothing left.
fn proof(
    args: &FixArgs,
    root: &Path,
    live: bool,
    inputs: &Inputs,
    before: &[CheckResult],
    calico: Option<&CalicoAdvice>,
) -> Proof {
    let profile = &inputs.profile;
    let ids = {
        let mut ids: Vec<String> = Vec::new();
        for r in before {
            if !ids.contains(&r.id) {
                ids.push(r.id.clone());
            }
        }
        ids
    };
    if live && args.facts.is_none() {
        match super::facts_for_profile(
            None,
            &crate::host_root::HostRoot::live(),
            &args.kubelet,
            Some(profile),
        ) {
            Ok(facts) => {
                let ctx = inputs.context_of(&facts, Phase::PreJoin, None, None);
                let after = inputs.judge(&ctx, &args.skip);
                return Proof::Checks(render::proof_lines(&ids, before, &after));
            }
            Err(e) => return Proof::Unavailable(format!("cannot gather facts again: {e:#}")),
        }
    }
    let facts = match super::facts_from(
        args.facts.as_deref(),
        &crate::host_root::HostRoot::live(),
        &args.kubelet,
    ) {
        Ok(f) => f,
        Err(e) => return Proof::Unavailable(format!("{e:#}")),
    };
    let state = read_state(root, live, profile, before, &facts);
    let again = planners::plan(&PlanInput {
        results: before,
        facts: &facts,
        profile,
        peers: &inputs.peer_set.peers,
        host: &state,
        calico,
        force: args.force,
    });
    Proof::Replanned(
        again
            .changes
            .iter()
            .filter(|c| !c.target.is_live())
            .map(|c| c.target.subject())
            .collect(),
    )
}

/// What shows that the run worked.
enum Proof {
    /// Before → after of every check the run touched (live host).
    Checks(Vec<Value>),
    /// Files still to write after planning again under `--root` (empty: converged).
    Replanned(Vec<String>),
    Unavailable(String),
}

fn applied_human(
    heading: &render::Heading,
    plan: &Plan,
    applied: &apply::Applied,
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
    let run_dir =
        crate::fix::confine::under_root(root, Path::new(manifest::RUNS_DIR)).join(&m.run_id);
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

fn applied_json(
    facts: &Facts,
    plan: &Plan,
    applied: &apply::Applied,
    proof: Option<&Proof>,
    diff: bool,
) -> Value {
    let mut v = render::json("apply", &facts.host.hostname, plan, &[], diff);
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

fn rollback_run(
    root: &Path,
    id: Option<&str>,
    live: bool,
    args: &FixArgs,
) -> anyhow::Result<ExitCode> {
    match rollback::rollback(root, id, live, args.force, args.restart_services) {
        Err(rollback::Refused::NoSuchRun(why)) => Err(BadInput::new(why).into()),
        Err(rollback::Refused::BadRecord(why)) => Err(BadInput::new(format!(
            "refusing a run record nodecheck did not write: {why}"
        ))
        .into()),
        Err(rollback::Refused::Unsafe(paths)) => {
            eprintln!(
                "nodecheck: fix --rollback refused, nothing was restored: a recorded path now leads through a symlink (--force does not override this):\n  {}",
                paths.iter().map(|c| for_terminal(c)).collect::<Vec<_>>().join("\n  ")
            );
            Ok(Exit::ToolFailed.into())
        }
        Err(rollback::Refused::ChangedSince(changed)) => {
            eprintln!(
                "nodecheck: fix --rollback refused, nothing was restored: changed since the run (someone else's change; --force restores anyway):\n  {}",
                changed.iter().map(|c| for_terminal(c)).collect::<Vec<_>>().join("\n  ")
            );
            Ok(Exit::ToolFailed.into())
        }
        Ok(done) => {
            let m = &done.manifest;
            let text = match args.format {
                FixFormat::Json => json_text(&json!({
                    "mode": "rollback",
                    "run_id": m.run_id,
                    "status": m.status,
                    "problems": done.problems,
                    "side_effects": done.effects.iter().map(|(e, o)| json!({"effect": e, "outcome": o})).collect::<Vec<_>>(),
                })),
                FixFormat::Human => {
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
            };
            crate::output::print_stdout(&text)?;
            Ok(if done.problems.is_empty() {
                Exit::Ok
            } else {
                Exit::ToolFailed
            }
            .into())
        }
    }
}

fn history(root: &Path, format: FixFormat) -> anyhow::Result<ExitCode> {
    let runs = manifest::history(root);
    let incomplete = |id: &str| {
        format!(
            "incomplete: interrupted before its record was written, nothing was changed; remove {} to clean it up",
            Path::new(manifest::RUNS_DIR).join(id).display()
        )
    };
    let text = match format {
        FixFormat::Json => json_text(&Value::Array(
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
        )),
        FixFormat::Human if runs.is_empty() => "no recorded runs\n".to_string(),
        FixFormat::Human => {
            let mut out = String::new();
            for r in &runs {
                match &r.manifest {
                    Ok(Some(m)) => out.push_str(&format!(
                        "{}  {}  {:<20}  {} change(s)  fixes {}\n",
                        for_terminal(&r.id),
                        for_terminal(&m.started_at),
                        m.status.as_str(),
                        m.steps.len(),
                        for_terminal(&m.fixes.join(", "))
                    )),
                    Ok(None) => {
                        out.push_str(&format!("{}  {}\n", for_terminal(&r.id), incomplete(&r.id)))
                    }
                    Err(e) => out.push_str(&format!(
                        "{}  unreadable: {}\n",
                        for_terminal(&r.id),
                        for_terminal(&e.to_string())
                    )),
                }
            }
            out
        }
    };
    crate::output::print_stdout(&text)?;
    Ok(Exit::Ok.into())
}
