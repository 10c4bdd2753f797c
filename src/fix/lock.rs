//! One `fix --apply` or `--rollback` at a time per root: an exclusive `flock` on
//! `/var/lib/nodecheck/fix/.lock` under `--root` (opened without following symlinks), held until the
//! process exits. A second run waits a bounded time, then gives up naming the holder.

use std::io::{Read, Seek, Write};
use std::os::fd::FromRawFd;
use std::os::fd::IntoRawFd;
use std::path::Path;
use std::time::{Duration, Instant};

use nix::fcntl::{Flock, FlockArg, OFlag};
use nix::sys::stat::Mode;

use super::manifest::{runs_dir, RecordError, RUNS_DIR};

/// How long a second run waits for the first one.
pub const WAIT: Duration = Duration::from_secs(10);

const LOCK_FILE: &str = ".lock";

/// The held lock; released when dropped (or when the process exits, however it exits).
pub struct RunLock {
    _lock: Flock<std::fs::File>,
}

/// Why the lock was not taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("{0}")]
    Record(#[from] RecordError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("another nodecheck fix holds {path} ({holder}); waited {waited}s: try again when it has finished")]
    Busy {
        path: String,
        holder: String,
        waited: u64,
    },
}

impl crate::error::ExitStatus for LockError {
    /// Another run holds the lock, or its file cannot be used: the operation failed.
    fn exit(&self) -> crate::error::Exit {
        crate::error::Exit::ToolFailed
    }
}

/// Takes the lock for `what` (`--apply`, `--rollback`), waiting up to `wait`.
pub fn acquire(root: &Path, what: &str, wait: Duration) -> Result<RunLock, LockError> {
    let shown = Path::new(RUNS_DIR).join(LOCK_FILE).display().to_string();
    let io = |source: std::io::Error| LockError::Io {
        path: shown.clone(),
        source,
    };
    let dir = runs_dir(root, true)?;
    let fd = nix::fcntl::openat(
        &dir,
        LOCK_FILE,
        OFlag::O_RDWR | OFlag::O_CREAT | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
        Mode::from_bits_truncate(0o600),
    )
    .map_err(|e| io(e.into()))?;
    // SAFETY: `fd` is an open file descriptor we own; ownership moves into the File.
    let mut file = unsafe { std::fs::File::from_raw_fd(fd.into_raw_fd()) };
    if !file.metadata().map_err(io)?.is_file() {
        return Err(io(std::io::Error::other("not a regular file")));
    }
    let started = Instant::now();
    loop {
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(mut lock) => {
                let note = format!(
                    "pid {} ({what}) since {}\n",
                    std::process::id(),
                    crate::gather::clock::now_rfc3339()
                );
                lock.set_len(0).map_err(io)?;
                lock.rewind().map_err(io)?;
                lock.write_all(note.as_bytes()).map_err(io)?;
                return Ok(RunLock { _lock: lock });
            }
            Err((f, nix::errno::Errno::EWOULDBLOCK)) => {
                file = f;
                if started.elapsed() >= wait {
                    let mut holder = String::new();
                    let _ = (&file).take(200).read_to_string(&mut holder);
                    let holder = holder.trim();
                    return Err(LockError::Busy {
                        path: shown,
                        holder: if holder.is_empty() {
                            "holder unknown".to_string()
                        } else {
                            holder.to_string()
                        },
                        waited: wait.as_secs(),
                    });
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            Err((_, e)) => return Err(io(e.into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_run_gives_up_naming_the_holder() {
        let root = tempfile::tempdir().unwrap();
        let held = acquire(root.path(), "--apply", WAIT).unwrap();
        let err = acquire(root.path(), "--rollback", Duration::from_millis(100))
            .err()
            .expect("the lock is held");
        let text = err.to_string();
        assert!(
            text.contains(&format!("pid {} (--apply)", std::process::id())),
            "{text}"
        );
        drop(held);
        assert!(acquire(root.path(), "--rollback", Duration::ZERO).is_ok());
    }

    #[test]
    fn a_symlinked_record_directory_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("var/lib")).unwrap();
        std::os::unix::fs::symlink(outside.path(), root.path().join("var/lib/nodecheck")).unwrap();
        let err = acquire(root.path(), "--apply", WAIT).err().unwrap();
        assert!(err.to_string().contains("symlink"), "{err}");
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    }
}
