//! `nodecheck fix`: evaluate the checks, plan the changes that fix the failing ones, and show them
//! (`--check`, `--diff`), make them (`--apply`), undo a run (`--rollback`) or list runs (`--history`).
//! The plan itself is pure (`crate::fix::planners`) and shown by `crate::fix::render*`; this module
//! loads inputs and wires the steps, [`calico_advice`] adds the cluster-wide Calico step and
//! [`proof`] shows that an applied run worked.

mod calico_advice;
mod proof;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::Value;

use super::inputs::{Inputs, Sources};
use crate::checks::{CheckResult, Phase};
use crate::cli::{FixArgs, FixFormat};
use crate::error::{BadInput, Exit, ExitStatus};
use crate::escape::for_terminal;
use crate::facts::Facts;
use crate::fix::planners::{self, PlanInput};
use crate::fix::{apply, manifest, render, render_apply, render_runs, rollback, state};
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
                return Ok(e.exit().into());
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
    let calico = calico_advice::calico_advice(&inputs, &results);
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
            FixFormat::Human => render_apply::nothing_to_do_human(&heading, &plan, &results),
            FixFormat::Json => json_text(&render_apply::nothing_to_do_json(
                &facts.host.hostname,
                &plan,
                &results,
                args.diff,
            )),
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
            eprintln!(
                "nodecheck: fix --apply refused: {}",
                for_terminal(&refused.to_string())
            );
            return Ok(refused.exit().into());
        }
    };
    let after = if applied.failure.is_none() {
        Some(proof::proof(
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
            render_apply::human(&heading, &plan, &applied, after.as_ref(), &root, args.diff)
        }
        FixFormat::Json => json_text(&render_apply::json(
            &facts.host.hostname,
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
    let extra_files = planners::host_specific_files(results, facts, profile);
    let mut host = state::read(root, live, &extra_files);
    if planners::reads_k3s_config(results) {
        if let Ok(tree) = crate::host_root::HostRoot::at(root) {
            host.k3s = crate::gather::k3s_config::read(&tree);
        }
    }
    host
}

fn rollback_run(
    root: &Path,
    id: Option<&str>,
    live: bool,
    args: &FixArgs,
) -> anyhow::Result<ExitCode> {
    let refused = match rollback::rollback(root, id, live, args.force, args.restart_services) {
        Ok(done) => {
            let text = match args.format {
                FixFormat::Json => json_text(&render_runs::rolled_back_json(&done)),
                FixFormat::Human => render_runs::rolled_back_human(&done),
            };
            crate::output::print_stdout(&text)?;
            return Ok(if done.problems.is_empty() {
                Exit::Ok
            } else {
                Exit::ToolFailed
            }
            .into());
        }
        Err(refused) => refused,
    };
    let listed = |items: &[String]| {
        items
            .iter()
            .map(|c| for_terminal(c))
            .collect::<Vec<_>>()
            .join("\n  ")
    };
    match &refused {
        rollback::Refused::NoSuchRun(why) => return Err(BadInput::new(why.clone()).into()),
        rollback::Refused::BadRecord(why) => {
            return Err(BadInput::new(format!(
                "refusing a run record nodecheck did not write: {why}"
            ))
            .into())
        }
        rollback::Refused::Unsafe(paths) => eprintln!(
            "nodecheck: fix --rollback refused, nothing was restored: a recorded path now leads through a symlink (--force does not override this):\n  {}",
            listed(paths)
        ),
        rollback::Refused::ChangedSince(changed) => eprintln!(
            "nodecheck: fix --rollback refused, nothing was restored: changed since the run (someone else's change; --force restores anyway):\n  {}",
            listed(changed)
        ),
    }
    Ok(refused.exit().into())
}

fn history(root: &Path, format: FixFormat) -> anyhow::Result<ExitCode> {
    let runs = manifest::history(root);
    let text = match format {
        FixFormat::Json => json_text(&render_runs::history_json(&runs)),
        FixFormat::Human => render_runs::history_human(&runs),
    };
    crate::output::print_stdout(&text)?;
    Ok(Exit::Ok.into())
}
