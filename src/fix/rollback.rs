//! `fix --rollback [RUN-ID]`: restores exactly what a run's manifest recorded, in reverse order: files
//! get their previous bytes, mode and owner back (or are deleted when the run created them), the
//! directories the run created are removed, sysctls get their previous values, modules the run loaded
//! are unloaded, swap it turned off is turned on. A file changed since the run wrote it is someone
//! else's change: the rollback refuses (naming it) unless `--force`.

use std::path::Path;

use super::atomic::{self, Ownership, Present};
use super::confine::resolve_in_root;
use super::confine::under_root;
use super::error::StepError;
use super::live;
use super::manifest::{self, Manifest, Record, RunDir, RunStatus};
use super::plan::SideEffect;
use super::state;

/// Why a rollback did not happen.
#[derive(Debug)]
pub enum Refused {
    /// Bad input: an unknown or malformed run ID, or no applied run to roll back.
    NoSuchRun(String),
    /// The run's record is not one nodecheck wrote (a path it never writes, a saved file that is
    /// not its own, a symlinked record directory): bad input, nothing is restored.
    BadRecord(String),
    /// Files or settings changed since the run: listed; `--force` overrides.
    ChangedSince(Vec<String>),
    /// A recorded path now resolves through a symlink (out of the root): `--force` does not override.
    Unsafe(Vec<String>),
}

impl crate::error::ExitStatus for Refused {
    /// A run ID that names no run, or a record nodecheck did not write, is bad input (exit 2); a
    /// rollback refused because the host changed since is an operation that failed (exit 1).
    fn exit(&self) -> crate::error::Exit {
        match self {
            Refused::NoSuchRun(_) | Refused::BadRecord(_) => crate::error::Exit::BadInput,
            Refused::ChangedSince(_) | Refused::Unsafe(_) => crate::error::Exit::ToolFailed,
        }
    }
}

/// The result of a rollback.
#[derive(Debug)]
pub struct RolledBack {
    pub manifest: Manifest,
    /// Steps that could not be undone (each needs a person).
    pub problems: Vec<String>,
    pub effects: Vec<(SideEffect, String)>,
}

/// Opens a run by its directory name and checks its record; the manifest's `run_id` is replaced by
/// the directory's name.
fn open_run(root: &Path, id: &str) -> Result<(RunDir, Manifest), Refused> {
    let run = RunDir::open(root, id).map_err(|e| match e {
        manifest::RecordError::Io { ref source, .. }
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            Refused::NoSuchRun(format!("no run {id} (see --history)"))
        }
        e => Refused::BadRecord(format!("run {id}: {e}")),
    })?;
    let mut m = match run.read() {
        Ok(Some(m)) => m,
        Ok(None) => {
            return Err(Refused::NoSuchRun(format!(
                "run {id} is incomplete: it was interrupted before it recorded anything, so it changed nothing; remove {} to clean it up",
                Path::new(manifest::RUNS_DIR).join(id).display()
            )))
        }
        Err(e) => return Err(Refused::BadRecord(format!("run {id}: {e}"))),
    };
    m.validate()
        .map_err(|e| Refused::BadRecord(format!("run {id}: {e}; nothing was restored")))?;
    m.run_id = id.to_string();
    Ok((run, m))
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
            let (run, m) = open_run(root, id)?;
            if m.status == RunStatus::RolledBack || m.status == RunStatus::FailedRolledBack {
                return Err(Refused::NoSuchRun(format!(
                    "run {id} is already {}",
                    m.status.as_str()
                )));
            }
            Ok((run, m))
        }
        None => {
            let newest = manifest::history(root).into_iter().find(|e| {
                matches!(&e.manifest, Ok(Some(m)) if matches!(m.status, RunStatus::Applied | RunStatus::Applying))
            });
            match newest {
                Some(e) => open_run(root, &e.id),
                None => Err(Refused::NoSuchRun(format!(
                    "no applied run to roll back under {} (see --history)",
                    under_root(root, Path::new(manifest::RUNS_DIR)).display()
                ))),
            }
        }
    }
}

/// What changed since the run made its changes, and the recorded paths that now resolve through a
/// symlink (never restored, even with `--force`).
pub fn changed_since(manifest: &Manifest, root: &Path, live: bool) -> (Vec<String>, Vec<String>) {
    let mut out = Vec::new();
    let mut unsafe_paths = Vec::new();
    for step in manifest.steps.iter().filter(|s| s.done) {
        match &step.record {
            Record::File { path, written, .. } => {
                let present = match resolve_in_root(root, path) {
                    Ok(real) => Present::at(&real),
                    Err(e) => {
                        unsafe_paths.push(e.to_string());
                        continue;
                    }
                };
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
    for d in &manifest.created_dirs {
        if let Err(e) = resolve_in_root(root, &d.join("x")) {
            unsafe_paths.push(e.to_string());
        }
    }
    unsafe_paths.dedup();
    (out, unsafe_paths)
}

/// Puts a file back: its saved bytes (the run's own `files/<n>`) with its mode (never a set-id or
/// sticky bit) and owner, or removes it when the run created it. Leftover temporary files of an
/// interrupted write in its directory are removed too.
fn restore_file(
    run: &RunDir,
    n: usize,
    path: &Path,
    previous: Option<&manifest::Saved>,
    root: &Path,
) -> Result<(), StepError> {
    let real = resolve_in_root(root, path)?;
    remove_stale_temporaries(&real);
    match previous {
        Some(saved) => {
            let bytes = run.saved_bytes(n, saved)?;
            let owner = Ownership {
                mode: saved.mode & 0o777,
                uid: saved.uid,
                gid: saved.gid,
            };
            atomic::write_file(&real, &bytes, owner).map_err(|source| StepError::Restore {
                path: path.to_path_buf(),
                source,
            })
        }
        None => match atomic::remove(&real) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            other => other.map_err(|source| StepError::Restore {
                path: path.to_path_buf(),
                source,
            }),
        },
    }
}

/// Removes `.nodecheck-fix-*` temporaries (regular files or symlinks) a killed write left next to
/// `real`.
fn remove_stale_temporaries(real: &Path) {
    let Some(dir) = real.parent() else { return };
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let is_ours = e
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with(atomic::TEMP_PREFIX));
        let plain = e.file_type().is_ok_and(|t| t.is_file() || t.is_symlink());
        if is_ours && plain {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Undoes every done step in reverse order and removes the directories the run created. Returns the
/// steps that could not be undone. Callers check [`changed_since`] first.
pub fn undo(manifest: &mut Manifest, run: &RunDir, root: &Path, live: bool) -> Vec<String> {
    let mut problems = Vec::new();
    for i in (0..manifest.steps.len()).rev() {
        if !manifest.steps[i].done && !written_but_unrecorded(&manifest.steps[i].record, root) {
            if let Record::File { path, .. } = &manifest.steps[i].record {
                if let Ok(real) = resolve_in_root(root, path) {
                    remove_stale_temporaries(&real);
                }
            }
            continue;
        }
        let result = match &manifest.steps[i].record {
            Record::File { path, previous, .. } => {
                restore_file(run, i, path, previous.as_ref(), root)
            }
            _ if !live => Ok(()),
            Record::Sysctl { key, previous, .. } => match previous {
                Some(v) => live::write_sysctl(key, v).map_err(StepError::from),
                None => Ok(()),
            },
            Record::Module {
                name,
                loaded_by_run,
            } => {
                if *loaded_by_run {
                    live::unload_module(name).map_err(StepError::from)
                } else {
                    Ok(())
                }
            }
            Record::SwapOff { device } => live::swapon(device).map_err(StepError::from),
        };
        match result {
            Ok(()) => manifest.steps[i].done = false,
            Err(e) => problems.push(e.to_string()),
        }
        let _ = run.write(manifest);
    }
    for d in manifest.created_dirs.clone().iter().rev() {
        // The reason follows the directory's own name, so it does not repeat it.
        let removed = match resolve_in_root(root, &d.join("x")) {
            Err(refused) => Err(refused.to_string()),
            Ok(_) => {
                let real = under_root(root, d);
                match std::fs::symlink_metadata(&real) {
                    Ok(m) if m.is_dir() => std::fs::remove_dir(&real).map_err(|e| e.to_string()),
                    Ok(_) => Err("not a directory now".to_string()),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                    Err(e) => Err(e.to_string()),
                }
            }
        };
        match removed {
            Ok(()) => manifest.created_dirs.retain(|x| x != d),
            Err(e) => problems.push(format!(
                "{} (created by run {}) is kept: {e}",
                d.display(),
                manifest.run_id
            )),
        }
        let _ = run.write(manifest);
    }
    problems
}

/// A file step of an interrupted run whose write happened but was not recorded as done yet: the
/// file holds exactly what the run wrote (writes are atomic, so it is either that or the old file).
fn written_but_unrecorded(record: &Record, root: &Path) -> bool {
    match record {
        Record::File { path, written, .. } => {
            resolve_in_root(root, path).is_ok_and(|real| written.matches(&Present::at(&real)))
        }
        _ => false,
    }
}

/// Side effects to run again after undoing, so the restored state takes effect the same way.
/// The commands are nodecheck's own: the initramfs tool is found again on the host, never taken
/// from the record.
pub fn effects_after_rollback(
    manifest: &Manifest,
    restart_services: bool,
    root: &Path,
) -> Vec<SideEffect> {
    let mut out: Vec<SideEffect> = Vec::new();
    for e in &manifest.side_effects_run {
        let again = match e {
            SideEffect::RestartService { .. } if !restart_services => None,
            SideEffect::Reboot => None,
            SideEffect::RebuildInitramfs { .. } => state::initramfs_command(root)
                .map(|command| SideEffect::RebuildInitramfs { command }),
            other => Some(other.clone()),
        };
        if let Some(e) = again.filter(|e| !out.contains(e)) {
            out.push(e);
        }
    }
    out
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
    let (changed, unsafe_paths) = changed_since(&manifest, root, live);
    if !unsafe_paths.is_empty() {
        return Err(Refused::Unsafe(unsafe_paths));
    }
    if !changed.is_empty() && !force {
        return Err(Refused::ChangedSince(changed));
    }
    let problems = undo(&mut manifest, &run, root, live);
    let mut effects = Vec::new();
    for e in effects_after_rollback(&manifest, restart_services, root) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest_with(effects: Vec<SideEffect>) -> Manifest {
        Manifest {
            run_id: "r".to_string(),
            started_at: String::new(),
            nodecheck_version: String::new(),
            host: String::new(),
            root: "/".into(),
            status: RunStatus::Applied,
            created_dirs: Vec::new(),
            steps: Vec::new(),
            side_effects_run: effects,
            fixes: Vec::new(),
        }
    }

    #[test]
    fn the_initramfs_command_is_found_again_never_taken_from_the_record() {
        let root = tempfile::tempdir().unwrap();
        let recorded = SideEffect::RebuildInitramfs {
            command: vec!["sh".into(), "-c".into(), "touch /tmp/owned".into()],
        };
        let m = manifest_with(vec![recorded]);
        assert!(effects_after_rollback(&m, false, root.path()).is_empty());
        std::fs::create_dir_all(root.path().join("usr/bin")).unwrap();
        std::fs::write(root.path().join("usr/bin/dracut"), "").unwrap();
        assert_eq!(
            effects_after_rollback(&m, false, root.path()),
            vec![SideEffect::RebuildInitramfs {
                command: vec!["dracut".into(), "-f".into()]
            }]
        );
        let restart = manifest_with(vec![SideEffect::RestartService {
            unit: "sshd".into(),
        }]);
        assert!(restart.validate().is_err());
    }

    #[test]
    fn an_unknown_run_is_bad_input_and_a_refused_restore_a_failure() {
        use crate::error::{Exit, ExitStatus};
        let root = tempfile::tempdir().unwrap();
        let exit_of = |id: Option<&str>| match find_run(root.path(), id) {
            Ok(_) => panic!("no run was recorded"),
            Err(refused) => (refused.exit(), format!("{refused:?}")),
        };
        let (exit, why) = exit_of(Some("../../etc"));
        assert_eq!(exit, Exit::BadInput, "{why}");
        assert!(why.contains("is not a run ID"), "{why}");
        let (exit, why) = exit_of(None);
        assert_eq!(exit, Exit::BadInput, "{why}");
        assert!(why.contains("no applied run to roll back"), "{why}");
        assert_eq!(
            Refused::Unsafe(vec!["/etc/sysctl.d is a symlink now".into()]).exit(),
            Exit::ToolFailed
        );
    }
}
