//! `fix --rollback [RUN-ID]`: restores exactly what a run's manifest recorded, in reverse order: files
//! get their previous bytes, mode and owner back (or are deleted when the run created them), the
//! directories the run created are removed, sysctls get their previous values, modules the run loaded
//! are unloaded, swap it turned off is turned on. A file changed since the run wrote it is someone
//! else's change: the rollback refuses (naming it) unless `--force`.

use std::path::Path;

use super::atomic::{self, Ownership, Present};
use super::live;
use super::manifest::{self, Manifest, Record, RunDir, RunStatus};
use super::plan::SideEffect;
use super::state::under_root;

/// Why a rollback did not happen.
#[derive(Debug)]
pub enum Refused {
    /// Bad input: an unknown or malformed run ID, or no applied run to roll back.
    NoSuchRun(String),
    /// Files or settings changed since the run: listed; `--force` overrides.
    ChangedSince(Vec<String>),
}

/// The result of a rollback.
#[derive(Debug)]
pub struct RolledBack {
    pub manifest: Manifest,
    /// Steps that could not be undone (each needs a person).
    pub problems: Vec<String>,
    pub effects: Vec<(SideEffect, String)>,
}

/// The run to roll back: the one named, else the newest applied one.
pub fn find_run(root: &Path, run_id: Option<&str>) -> Result<(RunDir, Manifest), Refused> {
    match run_id {
        Some(id) => {
            if !manifest::valid_run_id(id) {
                return Err(Refused::NoSuchRun(format!(
                    "`{id}` is not a run ID (see --history)"
                )));
            }
            let run = RunDir::open(root, id);
            let m = run
                .read()
                .map_err(|e| Refused::NoSuchRun(format!("no run {id}: {e}")))?;
            if m.status == RunStatus::RolledBack || m.status == RunStatus::FailedRolledBack {
                return Err(Refused::NoSuchRun(format!(
                    "run {id} is already {}",
                    m.status.as_str()
                )));
            }
            Ok((run, m))
        }
        None => manifest::history(root)
            .into_iter()
            .flatten()
            .find(|m| matches!(m.status, RunStatus::Applied | RunStatus::Applying))
            .map(|m| (RunDir::open(root, &m.run_id), m))
            .ok_or_else(|| {
                Refused::NoSuchRun(format!(
                    "no applied run to roll back under {} (see --history)",
                    under_root(root, Path::new(manifest::RUNS_DIR)).display()
                ))
            }),
    }
}

/// What changed since the run made its changes.
pub fn changed_since(manifest: &Manifest, root: &Path, live: bool) -> Vec<String> {
    let mut out = Vec::new();
    for step in manifest.steps.iter().filter(|s| s.done) {
        match &step.record {
            Record::File { path, written, .. } => {
                let present = Present::at(&under_root(root, path));
                if !written.matches(&present) {
                    out.push(format!(
                        "{} changed since run {} wrote it",
                        path.display(),
                        manifest.run_id
                    ));
                }
            }
            Record::Sysctl { key, written, .. } if live => {
                let now = live::read_sysctl(key);
                if now.as_deref() != Some(written.as_str()) {
                    out.push(format!(
                        "{key} is {} now, not the {written} run {} set",
                        now.as_deref().unwrap_or("(missing)"),
                        manifest.run_id
                    ));
                }
            }
            _ => {}
        }
    }
    out
}

/// Undoes every done step in reverse order and removes the directories the run created. Returns the
/// steps that could not be undone. Callers check [`changed_since`] first.
pub fn undo(manifest: &mut Manifest, run: &RunDir, root: &Path, live: bool) -> Vec<String> {
    let mut problems = Vec::new();
    for i in (0..manifest.steps.len()).rev() {
        if !manifest.steps[i].done && !written_but_unrecorded(&manifest.steps[i].record, root) {
            continue;
        }
        let result = match &manifest.steps[i].record {
            Record::File { path, previous, .. } => {
                let real = under_root(root, path);
                match previous {
                    Some(saved) => run.saved_bytes(saved).and_then(|bytes| {
                        let owner = Ownership {
                            mode: saved.mode,
                            uid: saved.uid,
                            gid: saved.gid,
                        };
                        atomic::write_file(&real, &bytes, owner)
                    }),
                    None => match atomic::remove(&real) {
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                        other => other,
                    },
                }
                .map_err(|e| format!("{}: {e}", path.display()))
            }
            _ if !live => Ok(()),
            Record::Sysctl { key, previous, .. } => match previous {
                Some(v) => live::write_sysctl(key, v),
                None => Ok(()),
            },
            Record::Module {
                name,
                loaded_by_run,
            } => {
                if *loaded_by_run {
                    live::unload_module(name)
                } else {
                    Ok(())
                }
            }
            Record::SwapOff { device } => live::swapon(device),
        };
        match result {
            Ok(()) => manifest.steps[i].done = false,
            Err(e) => problems.push(e),
        }
        let _ = run.write(manifest);
    }
    for d in manifest.created_dirs.clone().iter().rev() {
        match std::fs::remove_dir(under_root(root, d)) {
            Ok(()) => manifest.created_dirs.retain(|x| x != d),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                manifest.created_dirs.retain(|x| x != d)
            }
            Err(e) => problems.push(format!(
                "{} (created by run {}) is kept: {e}",
                d.display(),
                manifest.run_id
            )),
        }
    }
    problems
}

/// A file step of an interrupted run whose write happened but was not recorded as done yet: the
/// file holds exactly what the run wrote (writes are atomic, so it is either that or the old file).
fn written_but_unrecorded(record: &Record, root: &Path) -> bool {
    match record {
        Record::File { path, written, .. } => {
            written.matches(&Present::at(&under_root(root, path)))
        }
        _ => false,
    }
}

/// Side effects to run again after undoing, so the restored state takes effect the same way.
pub fn effects_after_rollback(manifest: &Manifest, restart_services: bool) -> Vec<SideEffect> {
    manifest
        .side_effects_run
        .iter()
        .filter(|e| match e {
            SideEffect::RestartService { .. } => restart_services,
            SideEffect::Reboot => false,
            _ => true,
        })
        .cloned()
        .collect()
}

/// Rolls back a run (the newest applied one when `run_id` is `None`).
pub fn rollback(
    root: &Path,
    run_id: Option<&str>,
    live: bool,
    force: bool,
    restart_services: bool,
) -> Result<RolledBack, Refused> {
    let (run, mut manifest) = find_run(root, run_id)?;
    let live = live && manifest.root == Path::new("/");
    let changed = changed_since(&manifest, root, live);
    if !changed.is_empty() && !force {
        return Err(Refused::ChangedSince(changed));
    }
    let problems = undo(&mut manifest, &run, root, live);
    let mut effects = Vec::new();
    for e in effects_after_rollback(&manifest, restart_services) {
        let outcome = if !live {
            "not run: --root (no live changes)".to_string()
        } else {
            match e.command().map(|c| live::run(&c)) {
                Some(Err(err)) => format!("failed: {err}"),
                _ => "ran".to_string(),
            }
        };
        effects.push((e, outcome));
    }
    if problems.is_empty() {
        manifest.status = RunStatus::RolledBack;
    }
    let mut problems = problems;
    if let Err(e) = run.write(&manifest) {
        problems.push(format!("cannot update the manifest: {e}"));
    }
    Ok(RolledBack {
        manifest,
        problems,
        effects,
    })
}
