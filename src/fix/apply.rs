//! `fix --apply`: checks every target first (nothing is touched if one is refused), records the run's
//! manifest before the first change, makes the changes in plan order (updating the manifest after each),
//! runs the side effects, and on any failure rolls back everything the run already changed.

use std::path::{Path, PathBuf};

use super::atomic::{self, Ownership};
use super::error::{ApplyRefused, StepError};
use super::live;
use super::manifest::{Manifest, Record, RunDir, RunStatus, Step, Written};
use super::plan::{Change, Plan, SideEffect, Target};
use super::rollback;

/// The largest file a run saves before changing it (planners edit files of at most 4 MiB).
const MAX_SAVED_BYTES: u64 = 4 * 1024 * 1024;

/// How the run is carried out.
pub struct ApplyOptions<'a> {
    pub root: &'a Path,
    /// Changes to the running system are allowed (no `--root`).
    pub live: bool,
    pub restart_services: bool,
    pub host: &'a str,
}

/// What became of one side effect.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EffectOutcome {
    pub effect: SideEffect,
    /// `ran`, `failed`, or why it was not run (`--root`, needs --restart-services, a reboot is yours).
    pub outcome: String,
}

/// The result of `--apply`.
#[derive(Debug)]
pub struct Applied {
    pub manifest: Manifest,
    pub effects: Vec<EffectOutcome>,
    /// The step (index) that failed and why; everything done before it was rolled back.
    pub failure: Option<(Option<usize>, String)>,
    /// Problems while rolling back after a failure (each one needs a person).
    pub rollback_problems: Vec<String>,
}

/// Refusals found before any change: a symlink out of its directory, a file changed since planning.
pub fn preflight(plan: &Plan, root: &Path) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    for c in &plan.changes {
        if let Err(e) = prepare(c, root) {
            problems.push(format!("[{}] {e}", c.fixes.join(", ")));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

fn prepare(change: &Change, root: &Path) -> Result<(), StepError> {
    match &change.target {
        Target::File { path, before, .. } => {
            let r = atomic::resolve(root, path)?;
            let now = match std::fs::read(&r.real) {
                Ok(b) => Some(String::from_utf8_lossy(&b).into_owned()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(source) => {
                    return Err(StepError::Read {
                        path: path.clone(),
                        source,
                    })
                }
            };
            if &now != before {
                return Err(StepError::ChangedSincePlan { path: path.clone() });
            }
            Ok(())
        }
        Target::MaskUnit { path, .. } => Ok(atomic::resolve(root, path).map(|_| ())?),
        _ => Ok(()),
    }
}

/// Applies the plan. Errors before the manifest exists are returned as `Err` (nothing was changed).
pub fn apply(plan: &Plan, opts: &ApplyOptions, stamp: &str) -> Result<Applied, ApplyRefused> {
    preflight(plan, opts.root).map_err(ApplyRefused::Preflight)?;
    let run = RunDir::create(opts.root, &super::manifest::run_stamp(stamp))
        .map_err(ApplyRefused::RunRecord)?;
    let run_id = run.id.clone();
    let mut manifest = Manifest {
        run_id,
        started_at: stamp.to_string(),
        nodecheck_version: env!("CARGO_PKG_VERSION").to_string(),
        host: opts.host.to_string(),
        root: opts.root.to_path_buf(),
        status: RunStatus::Applying,
        created_dirs: Vec::new(),
        steps: Vec::new(),
        side_effects_run: Vec::new(),
        fixes: plan.fixed_ids(),
    };
    // Record every step's previous state before the first change.
    for (n, c) in plan.changes.iter().enumerate() {
        let record =
            record_before(c, opts.root, &run, n).map_err(|source| ApplyRefused::Record {
                subject: c.target.subject(),
                source,
            })?;
        manifest.steps.push(Step {
            fixes: c.fixes.clone(),
            summary: c.summary.clone(),
            done: false,
            record,
        });
    }
    run.write(&manifest).map_err(ApplyRefused::Manifest)?;

    let mut failure = None;
    for (n, c) in plan.changes.iter().enumerate() {
        match make(c, opts, &mut manifest, &run, n) {
            Ok(()) => {
                manifest.steps[n].done = true;
                if let Err(e) = run.write(&manifest) {
                    failure = Some((Some(n), StepError::Manifest(e).to_string()));
                    break;
                }
            }
            Err(e) => {
                failure = Some((Some(n), format!("{}: {e}", c.target.subject())));
                break;
            }
        }
    }
    let mut effects = Vec::new();
    if failure.is_none() {
        let (outcomes, failed) = run_side_effects(&plan.side_effects(), opts);
        manifest.side_effects_run = outcomes
            .iter()
            .filter(|o| o.outcome == "ran")
            .map(|o| o.effect.clone())
            .collect();
        effects = outcomes;
        if let Some(e) = failed {
            failure = Some((None, e));
        }
    }
    let mut rollback_problems = Vec::new();
    if failure.is_some() {
        rollback_problems = rollback::undo(&mut manifest, &run, opts.root, opts.live);
        if opts.live {
            for e in rollback::effects_after_rollback(&manifest, opts.restart_services, opts.root) {
                if let Some(cmd) = e.command() {
                    if let Err(err) = live::run(&cmd) {
                        rollback_problems.push(err.to_string());
                    }
                }
            }
        }
        manifest.status = RunStatus::FailedRolledBack;
    } else {
        manifest.status = RunStatus::Applied;
    }
    if let Err(e) = run.write(&manifest) {
        rollback_problems.push(format!("cannot write the final manifest: {e}"));
    }
    Ok(Applied {
        manifest,
        effects,
        failure,
        rollback_problems,
    })
}

fn record_before(c: &Change, root: &Path, run: &RunDir, n: usize) -> Result<Record, StepError> {
    let saved_file =
        |resolved: &atomic::Resolved| -> Result<Option<super::manifest::Saved>, StepError> {
            let read = |source: std::io::Error| StepError::Read {
                path: resolved.host_path.clone(),
                source,
            };
            match std::fs::symlink_metadata(&resolved.real) {
                Ok(_) if !resolved.missing_dirs.is_empty() => Ok(None),
                Ok(m) if m.file_type().is_symlink() => Err(StepError::AlreadyALink),
                Ok(_) => {
                    let bytes = super::confine::read_regular(&resolved.real, MAX_SAVED_BYTES)
                        .map_err(|source| StepError::Save {
                            path: resolved.host_path.clone(),
                            source,
                        })?;
                    let owner = Ownership::of(&resolved.real).map_err(read)?;
                    Ok(Some(run.save(n, &bytes, owner).map_err(StepError::Write)?))
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(read(e)),
            }
        };
    let resolve = |p: &Path| atomic::resolve(root, p);
    Ok(match &c.target {
        Target::File { path, after, .. } => {
            let r = resolve(path)?;
            Record::File {
                path: r.host_path.clone(),
                previous: saved_file(&r)?,
                written: Written::Content {
                    sha256: atomic::sha256_hex(after.as_bytes()),
                },
            }
        }
        Target::MaskUnit { path, .. } => {
            let r = resolve(path)?;
            Record::File {
                path: r.host_path.clone(),
                previous: saved_file(&r)?,
                written: Written::Symlink {
                    target: PathBuf::from("/dev/null"),
                },
            }
        }
        Target::Sysctl { key, after, .. } => Record::Sysctl {
            key: key.clone(),
            previous: live::read_sysctl(key),
            written: after.clone(),
        },
        Target::LoadModule { name } => Record::Module {
            name: name.clone(),
            loaded_by_run: !live::module_loaded(name),
        },
        Target::SwapOff { device } => Record::SwapOff {
            device: device.clone(),
        },
    })
}

fn make(
    c: &Change,
    opts: &ApplyOptions,
    manifest: &mut Manifest,
    run: &RunDir,
    n: usize,
) -> Result<(), StepError> {
    let io = StepError::Write;
    match &c.target {
        Target::File {
            path,
            after,
            new_mode,
            ..
        } => {
            let real = make_room(path, opts.root, manifest, run)?;
            let owner = Ownership::of(&real).unwrap_or(Ownership {
                mode: *new_mode,
                uid: nix::unistd::geteuid().as_raw(),
                gid: nix::unistd::getegid().as_raw(),
            });
            atomic::write_file(&real, after.as_bytes(), owner).map_err(io)
        }
        Target::MaskUnit { path, .. } => {
            let real = make_room(path, opts.root, manifest, run)?;
            atomic::write_symlink(&real, Path::new("/dev/null")).map_err(io)
        }
        _ if !opts.live => Ok(()),
        Target::Sysctl { key, after, .. } => Ok(live::write_sysctl(key, after)?),
        Target::LoadModule { name } => {
            if live::module_loaded(name) {
                // Loaded meanwhile: not ours to unload on rollback.
                manifest.steps[n].record = Record::Module {
                    name: name.clone(),
                    loaded_by_run: false,
                };
                return Ok(());
            }
            Ok(live::modprobe(name)?)
        }
        Target::SwapOff { device } => Ok(live::swapoff(device)?),
    }
}

/// Resolves a file target again (the safety rules hold at the moment of writing), creates its missing
/// directories and returns the real path to write. Each directory is recorded in the manifest before
/// it is created, so a run killed in between still has it removed by `--rollback`.
fn make_room(
    path: &Path,
    root: &Path,
    manifest: &mut Manifest,
    run: &RunDir,
) -> Result<PathBuf, StepError> {
    let r = atomic::resolve(root, path)?;
    for d in &r.missing_dirs {
        manifest.created_dirs.push(d.clone());
        run.write(manifest).map_err(StepError::Manifest)?;
        atomic::create_dirs(root, std::slice::from_ref(d)).map_err(|source| {
            StepError::Directory {
                path: d.clone(),
                source,
            }
        })?;
    }
    Ok(r.real)
}

/// Runs the side effects allowed here; returns their outcomes and the first failure.
fn run_side_effects(
    effects: &[SideEffect],
    opts: &ApplyOptions,
) -> (Vec<EffectOutcome>, Option<String>) {
    let mut out = Vec::new();
    let mut failed = None;
    for e in effects {
        let outcome = match e {
            _ if !opts.live => "not run: --root (no live changes)".to_string(),
            SideEffect::Reboot => "not run: reboot when convenient".to_string(),
            SideEffect::RestartService { unit } if !opts.restart_services => {
                format!("not run: restart {unit} yourself, or run with --restart-services")
            }
            _ if failed.is_some() => "not run: an earlier side effect failed".to_string(),
            _ => match e.command().map(|c| live::run(&c)) {
                Some(Err(err)) => {
                    let err = err.to_string();
                    failed = Some(err.clone());
                    format!("failed: {err}")
                }
                _ => "ran".to_string(),
            },
        };
        out.push(EffectOutcome {
            effect: e.clone(),
            outcome,
        });
    }
    (out, failed)
}
