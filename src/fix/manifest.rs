//! The record of one applied run, under `/var/lib/nodecheck/fix/<RUN-ID>/` (relative to `--root`):
//! `manifest.json` (each step's previous state: file content saved byte for byte under `files/`, mode,
//! owner and hash, or that the file did not exist; each live setting's previous value) written before
//! the first change and updated after each one, so `--rollback` restores exactly what was there.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::atomic::{self, Ownership};
use super::confine::under_root;
use super::plan::SideEffect;

/// Where runs are recorded, as a host path (prefixed by `--root`).
pub const RUNS_DIR: &str = "/var/lib/nodecheck/fix";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunStatus {
    /// Changes are being made (a run left in this state was interrupted: roll it back).
    Applying,
    Applied,
    /// A step failed and everything the run had changed was rolled back.
    FailedRolledBack,
    /// `--rollback` undid it.
    RolledBack,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Applying => "applying (interrupted)",
            RunStatus::Applied => "applied",
            RunStatus::FailedRolledBack => "failed, rolled back",
            RunStatus::RolledBack => "rolled back",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub run_id: String,
    pub started_at: String,
    pub nodecheck_version: String,
    pub host: String,
    /// `--root` of the run (`/` for the live host).
    pub root: PathBuf,
    pub status: RunStatus,
    /// Directories the run created (host paths, outermost first); removed again on rollback.
    pub created_dirs: Vec<PathBuf>,
    pub steps: Vec<Step>,
    /// Side effects the run carried out (re-run after a rollback where that undoes them).
    #[serde(default)]
    pub side_effects_run: Vec<SideEffect>,
    /// Every check ID the run's changes fix.
    pub fixes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub fixes: Vec<String>,
    pub summary: String,
    /// The change was made (and must be undone on rollback).
    pub done: bool,
    pub record: Record,
}

/// What a step changed and what was there before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    File {
        /// The host path written (a same-directory symlink's target, when the plan named the link).
        path: PathBuf,
        /// `null`: the file did not exist.
        previous: Option<Saved>,
        written: Written,
    },
    Sysctl {
        key: String,
        /// `null`: the key did not exist (its module was not loaded).
        previous: Option<String>,
        written: String,
    },
    /// A module load; only a module this run loaded itself is unloaded on rollback.
    Module {
        name: String,
        loaded_by_run: bool,
    },
    SwapOff {
        device: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Saved {
    /// The saved bytes, relative to the run directory.
    pub content: PathBuf,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Written {
    Content { sha256: String },
    Symlink { target: PathBuf },
}

impl Written {
    pub fn matches(&self, present: &atomic::Present) -> bool {
        match (self, present) {
            (Written::Content { sha256 }, atomic::Present::Content(h)) => h == sha256,
            (Written::Symlink { target }, atomic::Present::Symlink(t)) => t == target,
            _ => false,
        }
    }
}

/// The largest `manifest.json` read (a run of every change kind records a few kilobytes).
pub const MAX_MANIFEST_BYTES: u64 = 16 * 1024 * 1024;

/// The largest saved file restored (planners edit configuration files of at most 4 MiB).
const MAX_SAVED_BYTES: u64 = 4 * 1024 * 1024;

/// The record directories below the root, one component at a time.
const RUNS_COMPONENTS: &[&str] = &["var", "lib", "nodecheck", "fix"];

/// Why a run record cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("{path}: {why}")]
    Unsafe { path: String, why: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {why}")]
    Malformed { path: String, why: String },
    #[error("{path}: {source}")]
    Syntax {
        path: String,
        source: ManifestSyntax,
    },
    /// The record names another file than step `step`'s own as its saved content.
    #[error("the record names {} as step {step}'s saved content, not {}", named.display(), own.display())]
    SavedElsewhere {
        step: usize,
        named: PathBuf,
        own: PathBuf,
    },
    #[error("{}: {source}", path.display())]
    SavedUnreadable {
        path: PathBuf,
        source: super::confine::ReadError,
    },
    #[error("{}: not the bytes the run saved (hash differs)", path.display())]
    SavedChanged { path: PathBuf },
}

impl crate::error::ExitStatus for RecordError {
    /// A record nodecheck did not write (or cannot read back) is refused: the operation failed.
    fn exit(&self) -> crate::error::Exit {
        crate::error::Exit::ToolFailed
    }
}

/// Why a manifest's bytes are not a run manifest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestSyntax {
    #[error("not UTF-8 text")]
    NotUtf8,
    #[error("line {line}, column {column}: not a run manifest")]
    NotAManifest { line: usize, column: usize },
}

/// Why a manifest read back is not one nodecheck wrote; `step` counts from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidRecord {
    #[error("step {step}: {} is not a file nodecheck fix writes", path.display())]
    NotATarget { step: usize, path: PathBuf },
    #[error("step {step}: saved content {} is not the step's own files/{}", content.display(), step - 1)]
    SavedNotOwn { step: usize, content: PathBuf },
    #[error("step {step}: a mask links to /dev/null, not {}", target.display())]
    MaskTarget { step: usize, target: PathBuf },
    #[error("step {step}: `{key}` is not a sysctl key")]
    SysctlKey { step: usize, key: String },
    #[error("step {step}: `{name}` is not a module name")]
    ModuleName { step: usize, name: String },
    #[error("step {step}: `{device}` is not a swap device path")]
    SwapDevice { step: usize, device: String },
    #[error("{} is not a directory this run's changes could create", .0.display())]
    CreatedDirectory(PathBuf),
    #[error("side effect `{0}` is not one nodecheck runs")]
    SideEffect(String),
}

impl Manifest {
    /// Checks a manifest read back from disk before anything acts on it: every file path is one a
    /// planner can write, every created directory one a planner can create (and a parent of a
    /// recorded file), saved content is the step's own `files/<n>`, masks point at /dev/null, and
    /// sysctl keys, module names and swap devices have the shapes nodecheck records.
    pub fn validate(&self) -> Result<(), InvalidRecord> {
        use super::confine::{is_normalised_absolute, is_target_dir, is_target_file};
        let mut files = Vec::new();
        for (n, step) in self.steps.iter().enumerate() {
            let at = n + 1;
            match &step.record {
                Record::File {
                    path,
                    previous,
                    written,
                } => {
                    if !is_target_file(path) {
                        return Err(InvalidRecord::NotATarget {
                            step: at,
                            path: path.clone(),
                        });
                    }
                    if let Some(saved) = previous {
                        if saved.content != RunDir::saved_name(n) {
                            return Err(InvalidRecord::SavedNotOwn {
                                step: at,
                                content: saved.content.clone(),
                            });
                        }
                    }
                    if let Written::Symlink { target } = written {
                        if target != Path::new("/dev/null") {
                            return Err(InvalidRecord::MaskTarget {
                                step: at,
                                target: target.clone(),
                            });
                        }
                    }
                    files.push(path);
                }
                Record::Sysctl { key, .. } => {
                    let ok = !key.is_empty()
                        && key.len() <= 256
                        && key.bytes().all(|b| {
                            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/')
                        })
                        && !key
                            .split(['.', '/'])
                            .any(|part| part.is_empty() || part == "..");
                    if !ok {
                        return Err(InvalidRecord::SysctlKey {
                            step: at,
                            key: key.clone(),
                        });
                    }
                }
                Record::Module { name, .. } => {
                    let ok = !name.is_empty()
                        && name.len() <= 64
                        && !name.starts_with('-')
                        && name
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'));
                    if !ok {
                        return Err(InvalidRecord::ModuleName {
                            step: at,
                            name: name.clone(),
                        });
                    }
                }
                Record::SwapOff { device } => {
                    if !is_normalised_absolute(Path::new(device)) || device.len() > 4096 {
                        return Err(InvalidRecord::SwapDevice {
                            step: at,
                            device: device.clone(),
                        });
                    }
                }
            }
        }
        for d in &self.created_dirs {
            if !is_target_dir(d) || !files.iter().any(|f| f.starts_with(d)) {
                return Err(InvalidRecord::CreatedDirectory(d.clone()));
            }
        }
        for e in &self.side_effects_run {
            let ok = match e {
                SideEffect::RestartService { unit } | SideEffect::ReloadService { unit } => {
                    SERVICES.contains(&unit.as_str())
                }
                _ => true,
            };
            if !ok {
                return Err(InvalidRecord::SideEffect(e.text()));
            }
        }
        Ok(())
    }
}

/// The services planners restart or reload.
const SERVICES: &[&str] = &["kubelet", "containerd", "docker", "NetworkManager"];

/// A run directory: where its manifest and saved files live. Its name is the run ID.
pub struct RunDir {
    pub dir: PathBuf,
    pub id: String,
}

/// Opens (creating when missing, mode `mode`) one directory below `parent` without following a
/// symlink; returns it and whether it was created. Only a directory created here is chmod-ed.
fn open_or_create_dir(
    parent: &std::os::fd::OwnedFd,
    name: &str,
    mode: u32,
    shown: &Path,
    create: bool,
) -> Result<(std::os::fd::OwnedFd, bool), RecordError> {
    use nix::fcntl::{openat, OFlag};
    use nix::sys::stat::{fchmod, mkdirat, Mode};
    let created = if create {
        match mkdirat(parent, name, Mode::from_bits_truncate(0o700)) {
            Ok(()) => true,
            Err(nix::errno::Errno::EEXIST) => false,
            Err(e) => {
                return Err(RecordError::Io {
                    path: shown.display().to_string(),
                    source: e.into(),
                })
            }
        }
    } else {
        false
    };
    let fd = openat(
        parent,
        name,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| match e {
        nix::errno::Errno::ELOOP | nix::errno::Errno::ENOTDIR => RecordError::Unsafe {
            path: shown.display().to_string(),
            why: "a symlink or not a directory: refusing to keep run records through it"
                .to_string(),
        },
        e => RecordError::Io {
            path: shown.display().to_string(),
            source: e.into(),
        },
    })?;
    if created {
        fchmod(&fd, Mode::from_bits_truncate(mode)).map_err(|e| RecordError::Io {
            path: shown.display().to_string(),
            source: e.into(),
        })?;
    }
    Ok((fd, created))
}

/// The run-record directory (`var/lib/nodecheck/fix` under the root), each component opened without
/// following symlinks; created (0755 for `var` and `lib`, 0700 below) when `create`.
pub fn runs_dir(root: &Path, create: bool) -> Result<std::os::fd::OwnedFd, RecordError> {
    let mut fd = nix::fcntl::open(
        root,
        nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_DIRECTORY | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(|e| RecordError::Io {
        path: root.display().to_string(),
        source: e.into(),
    })?;
    let mut shown = PathBuf::from("/");
    for (i, name) in RUNS_COMPONENTS.iter().enumerate() {
        shown.push(name);
        let mode = if i < 2 { 0o755 } else { 0o700 };
        fd = open_or_create_dir(&fd, name, mode, &shown, create)?.0;
    }
    Ok(fd)
}

impl RunDir {
    /// Creates a new, unique run directory under the root; returns it (its name is the run ID).
    pub fn create(root: &Path, stamp: &str) -> Result<RunDir, RecordError> {
        let runs_fd = runs_dir(root, true)?;
        let runs = under_root(root, Path::new(RUNS_DIR));
        for n in 0..1000 {
            let id = if n == 0 {
                stamp.to_string()
            } else {
                format!("{stamp}-{n}")
            };
            let shown = Path::new(RUNS_DIR).join(&id);
            match nix::sys::stat::mkdirat(
                &runs_fd,
                id.as_str(),
                nix::sys::stat::Mode::from_bits_truncate(0o700),
            ) {
                Ok(()) => {
                    let (run_fd, _) = open_or_create_dir(&runs_fd, &id, 0o700, &shown, false)?;
                    open_or_create_dir(&run_fd, "files", 0o700, &shown.join("files"), true)?;
                    return Ok(RunDir {
                        dir: runs.join(&id),
                        id,
                    });
                }
                Err(nix::errno::Errno::EEXIST) => continue,
                Err(e) => {
                    return Err(RecordError::Io {
                        path: shown.display().to_string(),
                        source: e.into(),
                    })
                }
            }
        }
        Err(RecordError::Malformed {
            path: RUNS_DIR.to_string(),
            why: "cannot find a free run ID".to_string(),
        })
    }

    /// An existing run directory: every directory from the root to its `files/` must be a real
    /// directory (not a symlink).
    pub fn open(root: &Path, run_id: &str) -> Result<RunDir, RecordError> {
        if !valid_run_id(run_id) {
            return Err(RecordError::Malformed {
                path: run_id.to_string(),
                why: "not a run ID".to_string(),
            });
        }
        let runs_fd = runs_dir(root, false)?;
        let shown = Path::new(RUNS_DIR).join(run_id);
        let (run_fd, _) = open_or_create_dir(&runs_fd, run_id, 0o700, &shown, false)?;
        match open_or_create_dir(&run_fd, "files", 0o700, &shown.join("files"), false) {
            Ok(_) => {}
            // A run killed before it saved anything may have no files/ yet.
            Err(RecordError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        Ok(RunDir {
            dir: under_root(root, Path::new(RUNS_DIR)).join(run_id),
            id: run_id.to_string(),
        })
    }

    /// The saved file of step `n`, always `files/<n>`.
    pub fn saved_name(n: usize) -> PathBuf {
        PathBuf::from("files").join(n.to_string())
    }

    /// Saves a file's previous bytes as `files/<n>`.
    pub fn save(&self, n: usize, bytes: &[u8], owner: Ownership) -> std::io::Result<Saved> {
        let rel = Self::saved_name(n);
        atomic::write_file(&self.dir.join(&rel), bytes, private())?;
        Ok(Saved {
            content: rel,
            mode: owner.mode,
            uid: owner.uid,
            gid: owner.gid,
            sha256: atomic::sha256_hex(bytes),
        })
    }

    /// The previous bytes of step `n`: only the run's own `files/<n>`, a regular file whose hash is
    /// the recorded one.
    pub fn saved_bytes(&self, n: usize, saved: &Saved) -> Result<Vec<u8>, RecordError> {
        let rel = Self::saved_name(n);
        if saved.content != rel {
            return Err(RecordError::SavedElsewhere {
                step: n + 1,
                named: saved.content.clone(),
                own: rel,
            });
        }
        let path = self.dir.join(&rel);
        let bytes = match super::confine::read_regular(&path, MAX_SAVED_BYTES) {
            Ok(bytes) => bytes,
            Err(source) => return Err(RecordError::SavedUnreadable { path, source }),
        };
        if atomic::sha256_hex(&bytes) != saved.sha256 {
            return Err(RecordError::SavedChanged { path });
        }
        Ok(bytes)
    }

    pub fn write(&self, manifest: &Manifest) -> std::io::Result<()> {
        let text = render(manifest).map_err(std::io::Error::other)?;
        atomic::write_file(&self.dir.join("manifest.json"), text.as_bytes(), private())
    }

    /// The run's manifest: a regular file (not followed through a symlink, never a FIFO or device),
    /// at most [`MAX_MANIFEST_BYTES`], naming this run. `Ok(None)`: the run was interrupted before
    /// its manifest was first written.
    pub fn read(&self) -> Result<Option<Manifest>, RecordError> {
        let path = self.dir.join("manifest.json");
        let shown = Path::new(RUNS_DIR)
            .join(&self.id)
            .join("manifest.json")
            .display()
            .to_string();
        let bytes = match super::confine::read_regular(&path, MAX_MANIFEST_BYTES) {
            Ok(b) => b,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => {
                return Err(RecordError::Malformed {
                    path: shown,
                    why: e.to_string(),
                })
            }
        };
        parse(&bytes)
            .map(Some)
            .map_err(|source| RecordError::Syntax {
                path: shown,
                source,
            })
    }
}

/// A manifest's text as written to `manifest.json`.
pub fn render(manifest: &Manifest) -> Result<String, serde_json::Error> {
    let mut text = serde_json::to_string_pretty(manifest)?;
    text.push('\n');
    Ok(text)
}

/// Parses a manifest's bytes (no I/O: the fuzz target's entry point).
pub fn parse(bytes: &[u8]) -> Result<Manifest, ManifestSyntax> {
    let text = std::str::from_utf8(bytes).map_err(|_| ManifestSyntax::NotUtf8)?;
    serde_json::from_str(text).map_err(|e| ManifestSyntax::NotAManifest {
        line: e.line(),
        column: e.column(),
    })
}

/// Records are readable by their owner only: they hold copies of configuration files.
fn private() -> Ownership {
    Ownership {
        mode: 0o600,
        uid: nix::unistd::geteuid().as_raw(),
        gid: nix::unistd::getegid().as_raw(),
    }
}

/// One entry of `--history`: the run ID (its directory's name) and what its manifest says.
pub struct RunEntry {
    pub id: String,
    /// `Ok(None)`: incomplete, the run was interrupted before its manifest was written.
    pub manifest: Result<Option<Manifest>, RecordError>,
}

/// Every recorded run under the root, newest first.
pub fn history(root: &Path) -> Vec<RunEntry> {
    let runs = under_root(root, Path::new(RUNS_DIR));
    if runs_dir(root, false).is_err() {
        return Vec::new();
    }
    let mut ids: Vec<String> = std::fs::read_dir(&runs)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|id| valid_run_id(id))
        .collect();
    ids.sort();
    ids.reverse();
    ids.into_iter()
        .map(|id| {
            let manifest = RunDir::open(root, &id).and_then(|run| run.read());
            RunEntry { id, manifest }
        })
        .collect()
}

/// A run ID from the command line: the shape nodecheck makes (no `/`, no `..`).
pub fn valid_run_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && !id.starts_with('.')
}

/// `2026-12-02T08:15:30Z` → `20261202T081530Z`.
pub fn run_stamp(rfc3339: &str) -> String {
    rfc3339.chars().filter(|c| *c != '-' && *c != ':').collect()
}
