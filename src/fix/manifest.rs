//! The record of one applied run, under `/var/lib/nodecheck/fix/<RUN-ID>/` (relative to `--root`):
//! `manifest.json` (each step's previous state: file content saved byte for byte under `files/`, mode,
//! owner and hash, or that the file did not exist; each live setting's previous value) written before
//! the first change and updated after each one, so `--rollback` restores exactly what was there.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::atomic::{self, Ownership};
use super::plan::SideEffect;
use super::state::under_root;

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

/// A run directory: where its manifest and saved files live.
pub struct RunDir {
    pub dir: PathBuf,
}

impl RunDir {
    /// Creates a new, unique run directory under the root; returns it and the run ID.
    pub fn create(root: &Path, stamp: &str) -> std::io::Result<(RunDir, String)> {
        let runs = under_root(root, Path::new(RUNS_DIR));
        std::fs::create_dir_all(&runs)?;
        std::fs::set_permissions(&runs, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
        for n in 0..1000 {
            let id = if n == 0 {
                stamp.to_string()
            } else {
                format!("{stamp}-{n}")
            };
            let dir = runs.join(&id);
            match std::fs::create_dir(&dir) {
                Ok(()) => {
                    std::fs::create_dir(dir.join("files"))?;
                    return Ok((RunDir { dir }, id));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(std::io::Error::other("cannot find a free run ID"))
    }

    pub fn open(root: &Path, run_id: &str) -> RunDir {
        RunDir {
            dir: under_root(root, Path::new(RUNS_DIR)).join(run_id),
        }
    }

    /// Saves a file's previous bytes as `files/<n>`.
    pub fn save(&self, n: usize, bytes: &[u8], owner: Ownership) -> std::io::Result<Saved> {
        let rel = PathBuf::from("files").join(n.to_string());
        atomic::write_file(&self.dir.join(&rel), bytes, private())?;
        Ok(Saved {
            content: rel,
            mode: owner.mode,
            uid: owner.uid,
            gid: owner.gid,
            sha256: atomic::sha256_hex(bytes),
        })
    }

    pub fn saved_bytes(&self, saved: &Saved) -> std::io::Result<Vec<u8>> {
        std::fs::read(self.dir.join(&saved.content))
    }

    pub fn write(&self, manifest: &Manifest) -> std::io::Result<()> {
        let mut text = serde_json::to_string_pretty(manifest).map_err(std::io::Error::other)?;
        text.push('\n');
        atomic::write_file(&self.dir.join("manifest.json"), text.as_bytes(), private())
    }

    pub fn read(&self) -> Result<Manifest, String> {
        let path = self.dir.join("manifest.json");
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// Records are readable by their owner only: they hold copies of configuration files.
fn private() -> Ownership {
    Ownership {
        mode: 0o600,
        uid: nix::unistd::geteuid().as_raw(),
        gid: nix::unistd::getegid().as_raw(),
    }
}

/// Every recorded run under the root, newest first (unreadable manifests reported as errors).
pub fn history(root: &Path) -> Vec<Result<Manifest, String>> {
    let runs = under_root(root, Path::new(RUNS_DIR));
    let mut ids: Vec<String> = std::fs::read_dir(&runs)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    ids.sort();
    ids.reverse();
    ids.iter().map(|id| RunDir::open(root, id).read()).collect()
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
