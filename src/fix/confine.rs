//! Keeping `fix` inside its root: which host paths a planner may write (so a run record naming any
//! other path is refused), resolving a recorded path under `--root` with every parent a real directory
//! (a parent swapped for a symlink after the run is refused, wherever it points), and reading a file
//! without following a final symlink, without blocking on a FIFO and never past a size cap.

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};

use super::path_refused::PathRefused;

/// `root` + an absolute host path.
pub fn under_root(root: &Path, host_path: &Path) -> PathBuf {
    root.join(host_path.strip_prefix("/").unwrap_or(host_path))
}

/// Directories whose files planners write (a file directly inside one of them).
const TARGET_DIRS: &[&str] = &[
    "/etc/sysctl.d",
    "/etc/modules-load.d",
    "/etc/docker",
    "/etc/NetworkManager/conf.d",
    "/etc/systemd/network",
    "/etc/systemd/system",
    "/etc/systemd/system/kubelet.service.d",
    "/etc/systemd/system/containerd.service.d",
    "/etc/default",
    "/etc/sysconfig",
    "/var/lib/kubelet",
    "/etc/rancher/k3s",
    "/etc/rancher/k3s/config.yaml.d",
    "/etc/rancher/rke2",
    "/etc/rancher/rke2/config.yaml.d",
];

/// Single files planners write outside those directories.
const TARGET_FILES: &[&str] = &["/etc/fstab"];

/// An absolute path made only of normal components (no `.`, `..`, empty or doubled separators).
pub fn is_normalised_absolute(path: &Path) -> bool {
    let text = path.as_os_str().as_encoded_bytes();
    let mut components = path.components();
    text.first() == Some(&b'/')
        && !text.ends_with(b"/")
        && !text.windows(2).any(|w| w == b"//")
        && !text
            .split(|b| *b == b'/')
            .any(|part| part == b"." || part == b"..")
        && components.next() == Some(Component::RootDir)
        && path.components().count() > 1
        && components
            .all(|c| matches!(c, Component::Normal(n) if !n.as_encoded_bytes().contains(&0)))
}

/// A file path a planner can write: one of the target files, or a file directly inside a target
/// directory.
pub fn is_target_file(path: &Path) -> bool {
    if !is_normalised_absolute(path) {
        return false;
    }
    TARGET_FILES.iter().any(|f| path == Path::new(f))
        || path
            .parent()
            .is_some_and(|dir| TARGET_DIRS.iter().any(|d| dir == Path::new(d)))
}

/// A directory a run may have created: a target directory or one of its ancestors below `/`.
pub fn is_target_dir(path: &Path) -> bool {
    is_normalised_absolute(path)
        && TARGET_DIRS
            .iter()
            .any(|d| Path::new(d).starts_with(path) && path != Path::new("/etc"))
        && path != Path::new("/var")
        && path != Path::new("/var/lib")
}

/// `root` + `host_path`, refusing when any directory on the way (below the root) is a symlink or
/// not a directory. A missing directory ends the walk: nothing below it exists.
pub fn resolve_in_root(root: &Path, host_path: &Path) -> Result<PathBuf, PathRefused> {
    if !is_normalised_absolute(host_path) {
        return Err(PathRefused::NotNormalised {
            path: host_path.to_path_buf(),
        });
    }
    let parent = host_path.parent().unwrap_or(Path::new("/"));
    let mut walked = PathBuf::from("/");
    for c in parent.components().skip(1) {
        walked.push(c);
        match std::fs::symlink_metadata(under_root(root, &walked)) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(PathRefused::SymlinkNow {
                    path: walked,
                    root: root.to_path_buf(),
                })
            }
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(PathRefused::NotADirectory { path: walked }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
            Err(source) => {
                return Err(PathRefused::Io {
                    path: walked,
                    source,
                })
            }
        }
    }
    Ok(under_root(root, host_path))
}

/// Why a bounded read failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("not a regular file")]
    NotRegular,
    #[error("larger than {0} bytes")]
    TooLarge(u64),
}

impl ReadError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, ReadError::Io(e) if e.kind() == std::io::ErrorKind::NotFound)
    }
}

/// The bytes of a regular file, opened without following a final symlink and without blocking (a
/// FIFO or device is refused, not read), at most `cap` bytes.
pub fn read_regular(path: &Path, cap: u64) -> Result<Vec<u8>, ReadError> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                ReadError::NotRegular
            } else {
                ReadError::Io(e)
            }
        })?;
    read_opened(file, cap)
}

/// The bytes of `host_path` under `root`, resolved as if `root` were `/` (`openat2` with
/// `RESOLVE_IN_ROOT`: `..` stops at the root, an absolute symlink means a path under the root, so
/// nothing outside the tree is ever read), with [`read_regular`]'s rules for the file itself
/// (except that a final symlink inside the root is followed).
pub fn read_in_root(root: &Path, host_path: &Path, cap: u64) -> Result<Vec<u8>, ReadError> {
    use nix::fcntl::{openat2, OFlag, OpenHow, ResolveFlag};
    let root_fd = nix::fcntl::open(
        root,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(|e| ReadError::Io(e.into()))?;
    let rel = host_path.strip_prefix("/").unwrap_or(host_path);
    let how = OpenHow::new()
        .flags(OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC | OFlag::O_NOCTTY)
        .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
    let fd = openat2(&root_fd, rel, how).map_err(|e| ReadError::Io(e.into()))?;
    let file = std::fs::File::from(fd);
    read_opened(file, cap)
}

/// An opened file's bytes when it is a regular file of at most `cap` bytes.
fn read_opened(file: std::fs::File, cap: u64) -> Result<Vec<u8>, ReadError> {
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular);
    }
    if meta.len() > cap {
        return Err(ReadError::TooLarge(cap));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(cap + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(ReadError::TooLarge(cap));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_normalised_target_paths_are_accepted() {
        for ok in [
            "/etc/sysctl.d/99-kubernetes.conf",
            "/etc/fstab",
            "/etc/systemd/network/10-node0.link",
            "/etc/default/kubelet",
        ] {
            assert!(is_target_file(Path::new(ok)), "{ok}");
        }
        for bad in [
            "etc/fstab",
            "/etc/sysctl.d/../../root/.ssh/authorized_keys",
            "/etc/sysctl.d/./x.conf",
            "/etc//fstab",
            "/etc/passwd",
            "/etc/sysctl.d",
            "/etc/sysctl.d/a/b.conf",
            "/",
        ] {
            assert!(!is_target_file(Path::new(bad)), "{bad}");
        }
        assert!(is_target_dir(Path::new("/etc/systemd")));
        assert!(is_target_dir(Path::new("/etc/systemd/network")));
        assert!(!is_target_dir(Path::new("/etc")));
        assert!(!is_target_dir(Path::new("/usr")));
        assert!(!is_target_dir(Path::new("/etc/systemd/../..")));
    }

    #[test]
    fn a_parent_symlink_is_refused_and_fifos_are_not_read() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("etc")).unwrap();
        std::os::unix::fs::symlink(outside.path(), root.path().join("etc/sysctl.d")).unwrap();
        let err = resolve_in_root(root.path(), Path::new("/etc/sysctl.d/x.conf")).unwrap_err();
        assert!(err.to_string().contains("symlink"), "{err}");
        assert!(resolve_in_root(root.path(), Path::new("/etc/fstab")).is_ok());
        let fifo = root.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        assert!(matches!(
            read_regular(&fifo, 10),
            Err(ReadError::NotRegular)
        ));
        std::fs::write(root.path().join("big"), "12345").unwrap();
        assert!(matches!(
            read_regular(&root.path().join("big"), 4),
            Err(ReadError::TooLarge(4))
        ));
        std::os::unix::fs::symlink("big", root.path().join("link")).unwrap();
        assert!(read_regular(&root.path().join("link"), 10).is_err());
        // An absolute link in the tree means the tree's own file, never the host's.
        std::fs::write(outside.path().join("secret"), "host").unwrap();
        std::fs::write(root.path().join("big"), "tree").unwrap();
        let abs = outside.path().join("secret");
        std::os::unix::fs::symlink(&abs, root.path().join("abs")).unwrap();
        assert!(read_in_root(root.path(), Path::new("/abs"), 100).is_err());
        std::os::unix::fs::symlink("/big", root.path().join("abs2")).unwrap();
        assert_eq!(
            read_in_root(root.path(), Path::new("/abs2"), 100).unwrap(),
            b"tree"
        );
        std::os::unix::fs::symlink("../../../../big", root.path().join("up")).unwrap();
        assert_eq!(
            read_in_root(root.path(), Path::new("/up"), 100).unwrap(),
            b"tree"
        );
    }
}
