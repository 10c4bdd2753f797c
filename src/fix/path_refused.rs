//! The refusal of a host path under `--root`: its own module, below everything that writes or
//! resolves paths (`confine`, `atomic`), so those never import the write path's other errors.

use std::io;
use std::path::PathBuf;

use crate::error::{Exit, ExitStatus};

/// A host path that cannot be written (or restored) under the root. The operation is refused, so
/// the tool failed (exit 1): the path came from a planner or a run record, not from the command line.
#[derive(Debug, thiserror::Error)]
pub enum PathRefused {
    #[error("{}: not an absolute, normalised path", path.display())]
    NotNormalised { path: PathBuf },
    #[error("--root {}: {source}", root.display())]
    Root { root: PathBuf, source: io::Error },
    #[error("{}: not a directory", path.display())]
    NotADirectory { path: PathBuf },
    #[error("{}: not a regular file", path.display())]
    NotARegularFile { path: PathBuf },
    /// A directory on the way is a symlink leading out of the root (or to something not a directory).
    #[error("{} is a symlink to {}, outside {}: refusing to follow it", path.display(), target.display(), root.display())]
    DirectoryLeavesRoot {
        path: PathBuf,
        target: PathBuf,
        root: PathBuf,
    },
    /// The target is a symlink to something outside its own directory.
    #[error("{} is a symlink to {}, outside {}: refusing to follow it (replace it with a regular file, or remove it)", path.display(), link.display(), directory.display())]
    FileLeavesDirectory {
        path: PathBuf,
        link: PathBuf,
        directory: PathBuf,
    },
    /// A directory a run recorded is a symlink now: never followed, wherever it points.
    #[error("{} is a symlink now: refusing to follow it out of {}", path.display(), root.display())]
    SymlinkNow { path: PathBuf, root: PathBuf },
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
}

impl ExitStatus for PathRefused {
    fn exit(&self) -> Exit {
        Exit::ToolFailed
    }
}
