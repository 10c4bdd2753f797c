//! Why `fix` refused or failed to write: the typed errors of its write path (a host path that cannot
//! be written under `--root`, a live change that did not take, a step of a run, a run that could not
//! start), each with the exit code it ends the process with. Messages name the operator's host paths,
//! keys and run IDs; an operating-system error is only ever the reason after one of those.

use std::io;
use std::path::PathBuf;

use crate::error::{Exit, ExitStatus};

pub use super::path_refused::PathRefused;

/// A change to the running system that did not take.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("cannot write {}: {source}", path.display())]
    WriteSysctl { path: PathBuf, source: io::Error },
    #[error("{key} reads back as {} after writing {value}", read.as_deref().unwrap_or("(missing)"))]
    ReadBack {
        key: String,
        value: String,
        read: Option<String>,
    },
    /// The command could not be started (not installed, not executable).
    #[error("`{command}`: {source}")]
    Start { command: String, source: io::Error },
    /// The command ran and failed: its own words (stderr) are the reason.
    #[error("`{command}` failed ({status}): {stderr}")]
    Failed {
        command: String,
        status: std::process::ExitStatus,
        stderr: String,
    },
}

impl ExitStatus for LiveError {
    fn exit(&self) -> Exit {
        Exit::ToolFailed
    }
}

/// Why one step of a run (or of its rollback) failed.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error(transparent)]
    Path(#[from] PathRefused),
    #[error(transparent)]
    Live(#[from] LiveError),
    #[error(transparent)]
    Record(#[from] super::manifest::RecordError),
    /// A file could not be read before the change: the plan's idea of it cannot be checked.
    #[error("{}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("{} changed since the plan was made: run nodecheck fix again", path.display())]
    ChangedSincePlan { path: PathBuf },
    /// Masking a unit whose file is a symlink already.
    #[error("a symlink is already there (already masked?)")]
    AlreadyALink,
    /// Saving a file's previous bytes into the run record failed.
    #[error("{}: {source}", path.display())]
    Save {
        path: PathBuf,
        source: super::confine::ReadError,
    },
    /// The write itself (the reason follows the step's subject, so no path is repeated).
    #[error("{0}")]
    Write(io::Error),
    #[error("{}: {source}", path.display())]
    Directory { path: PathBuf, source: io::Error },
    #[error("{}: {source}", path.display())]
    Restore { path: PathBuf, source: io::Error },
    #[error("cannot update the manifest: {0}")]
    Manifest(io::Error),
}

impl ExitStatus for StepError {
    fn exit(&self) -> Exit {
        Exit::ToolFailed
    }
}

/// Why `--apply` changed nothing: the run did not start.
#[derive(Debug, thiserror::Error)]
pub enum ApplyRefused {
    /// Targets refused before any change, one line each (`[check IDs] why`).
    #[error("nothing was changed:\n  {}", .0.join("\n  "))]
    Preflight(Vec<String>),
    #[error("nothing was changed: cannot create the run record: {0}")]
    RunRecord(super::manifest::RecordError),
    #[error("nothing was changed: cannot record {subject}: {source}")]
    Record { subject: String, source: StepError },
    #[error("nothing was changed: cannot write the manifest: {0}")]
    Manifest(io::Error),
}

impl ExitStatus for ApplyRefused {
    fn exit(&self) -> Exit {
        Exit::ToolFailed
    }
}
