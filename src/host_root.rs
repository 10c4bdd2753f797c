//! Where the host's files are read from: `/` on the live host, or a directory holding the host's
//! tree (`--host-root DIR`, environment `NODECHECK_HOST_ROOT`): the DaemonSet mounts the node's `/` at
//! `/host`, and tests build scratch host trees. Every host file and every `/proc` and `/sys` read
//! made while gathering goes through a [`HostRoot`]; netlink and sockets stay in the caller's network
//! namespace.
//!
//! Under a host root, symbolic links are followed as the host would follow them: an absolute target
//! (`/etc/resolv.conf -> /run/systemd/resolve/stub-resolv.conf`, a systemd `wants` link to
//! `/lib/systemd/system/kubelet.service`) is taken inside DIR, and `..` never climbs above DIR. On the
//! live host (`/`) paths are used as they are, at no extra cost.

use std::ffi::OsString;
use std::io;
use std::path::{Component, Path, PathBuf};

use crate::error::BadInput;

/// The environment variable that sets the host root when `--host-root` is not given.
pub const HOST_ROOT_ENV: &str = "NODECHECK_HOST_ROOT";

/// How many symbolic links one path may pass through (the kernel's limit is 40 as well). A path that
/// needs more is an error (`ELOOP`), never handed to the kernel half-resolved: the kernel would follow
/// the rest from the real `/`, outside the root.
const MAX_SYMLINK_HOPS: usize = 40;

/// What [`HostRoot::read_to_string`] reads at most: `/proc` and `/sys` files and small configuration
/// files (`/proc/net/tcp` of a node with 100,000 sockets is 15 MiB).
pub const DEFAULT_MAX_READ_BYTES: u64 = 32 * 1024 * 1024;

/// The directory the host's `/` is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRoot {
    dir: PathBuf,
}

impl Default for HostRoot {
    fn default() -> Self {
        HostRoot::live()
    }
}

impl HostRoot {
    /// The live host: paths are read as they are.
    pub fn live() -> HostRoot {
        HostRoot {
            dir: PathBuf::from("/"),
        }
    }

    /// A host tree at `dir`, which must be an existing directory (bad input otherwise). `/` is the
    /// live host.
    pub fn at(dir: &Path) -> Result<HostRoot, BadInput> {
        let shown = crate::escape::for_terminal(&dir.display().to_string());
        let canonical = dir
            .canonicalize()
            .map_err(|e| BadInput(format!("--host-root {shown}: {e}")))?;
        if !canonical.is_dir() {
            return Err(BadInput(format!("--host-root {shown}: not a directory")));
        }
        Ok(HostRoot { dir: canonical })
    }

    /// `--host-root` as given (clap fills it from `NODECHECK_HOST_ROOT` too); `None` is the live host.
    pub fn from_arg(dir: Option<&Path>) -> Result<HostRoot, BadInput> {
        match dir {
            Some(d) if !d.as_os_str().is_empty() => HostRoot::at(d),
            _ => Ok(HostRoot::live()),
        }
    }

    /// Whether this is the live host's own `/`.
    pub fn is_live(&self) -> bool {
        self.dir == Path::new("/")
    }

    /// The directory holding the host's tree.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the host path `host_path` (absolute, as on the host) is under this root, with symbolic
    /// links resolved inside the root. The last component is resolved too, so the result names the
    /// file itself; a component that does not exist ends resolution (the rest is appended as is).
    /// More than 40 symbolic links on the way is an error (`ELOOP`).
    pub fn path(&self, host_path: impl AsRef<Path>) -> io::Result<PathBuf> {
        let host_path = host_path.as_ref();
        if self.is_live() {
            return Ok(host_path.to_path_buf());
        }
        self.resolve(host_path, true)
    }

    /// Like [`HostRoot::path`], but the last component is not followed when it is a symbolic link
    /// (for reading the link itself, as `lstat` and `readlink` do).
    pub fn path_nofollow(&self, host_path: impl AsRef<Path>) -> io::Result<PathBuf> {
        let host_path = host_path.as_ref();
        if self.is_live() {
            return Ok(host_path.to_path_buf());
        }
        self.resolve(host_path, false)
    }

    /// Reads a host file as text, at most [`DEFAULT_MAX_READ_BYTES`].
    pub fn read_to_string(&self, host_path: impl AsRef<Path>) -> io::Result<String> {
        self.read_bounded(host_path, DEFAULT_MAX_READ_BYTES)
    }

    /// Reads a host file as text, at most `max_bytes` of it (a larger file is an error): configuration
    /// files are small, and a huge one is not what it claims to be. Every host file is read here,
    /// through [`crate::input::read_regular_file`]: a FIFO, a device or a socket planted where a file
    /// is expected is refused at once instead of blocking the run.
    pub fn read_bounded(&self, host_path: impl AsRef<Path>, max_bytes: u64) -> io::Result<String> {
        let bytes = crate::input::read_regular_file(&self.path(host_path)?, max_bytes)?;
        String::from_utf8(bytes).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "not UTF-8 text (invalid byte at offset {})",
                    e.utf8_error().valid_up_to()
                ),
            )
        })
    }

    /// Opens a host file for reading in a stream, through the same regular-file-only, non-blocking
    /// open as [`HostRoot::read_bounded`] (the caller bounds what it reads).
    pub fn open_regular(&self, host_path: impl AsRef<Path>) -> io::Result<std::fs::File> {
        crate::input::open_regular_file(&self.path(host_path)?)
    }

    /// The target of a host symbolic link, exactly as stored (not re-rooted).
    pub fn read_link(&self, host_path: impl AsRef<Path>) -> io::Result<PathBuf> {
        std::fs::read_link(self.path_nofollow(host_path)?)
    }

    /// Metadata of a host path, following symbolic links inside the root.
    pub fn metadata(&self, host_path: impl AsRef<Path>) -> io::Result<std::fs::Metadata> {
        std::fs::metadata(self.path(host_path)?)
    }

    /// Metadata of a host path itself (a symbolic link is not followed), like `lstat`.
    pub fn symlink_metadata(&self, host_path: impl AsRef<Path>) -> io::Result<std::fs::Metadata> {
        std::fs::symlink_metadata(self.path_nofollow(host_path)?)
    }

    /// Whether a host path exists (after following symbolic links inside the root).
    pub fn exists(&self, host_path: impl AsRef<Path>) -> bool {
        self.path(host_path).is_ok_and(|p| p.exists())
    }

    /// The names in a host directory, sorted (directory order differs between file systems).
    pub fn read_dir_names(&self, host_path: impl AsRef<Path>) -> io::Result<Vec<OsString>> {
        let mut names: Vec<OsString> = std::fs::read_dir(self.path(host_path)?)?
            .filter_map(|entry| entry.ok().map(|e| e.file_name()))
            .collect();
        names.sort();
        Ok(names)
    }

    /// A host path for messages: as on the host, with the root in front when it is not `/`
    /// (`/host:/etc/kubernetes/kubelet.conf`), so the operator sees both what and where.
    pub fn show(&self, host_path: impl AsRef<Path>) -> String {
        let host_path = host_path.as_ref();
        if self.is_live() {
            host_path.display().to_string()
        } else {
            format!("{}:{}", self.dir.display(), host_path.display())
        }
    }

    /// Resolves `host_path` component by component, re-rooting absolute link targets and clamping `..`
    /// at the root. More than [`MAX_SYMLINK_HOPS`] links is the kernel's loop error (`ELOOP`).
    fn resolve(&self, host_path: &Path, follow_last: bool) -> io::Result<PathBuf> {
        // Components still to walk, last first; `resolved` is always inside `self.dir`.
        let mut pending: Vec<OsString> = components_reversed(host_path);
        let mut resolved = self.dir.clone();
        let mut depth = 0usize;
        let mut hops = 0usize;
        while let Some(name) = pending.pop() {
            if name == ".." {
                if depth > 0 {
                    resolved.pop();
                    depth -= 1;
                }
                continue;
            }
            let candidate = resolved.join(&name);
            let is_last = pending.is_empty();
            if is_last && !follow_last {
                return Ok(candidate);
            }
            match std::fs::symlink_metadata(&candidate) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    hops += 1;
                    if hops > MAX_SYMLINK_HOPS {
                        return Err(io::Error::from_raw_os_error(libc::ELOOP));
                    }
                    let target = std::fs::read_link(&candidate)?;
                    if target.is_absolute() {
                        resolved = self.dir.clone();
                        depth = 0;
                    }
                    pending.extend(components_reversed(&target));
                }
                Ok(_) => {
                    resolved = candidate;
                    depth += 1;
                }
                Err(_) => {
                    // Nothing to follow below a missing component: keep the rest as written.
                    let mut rest = candidate;
                    while let Some(more) = pending.pop() {
                        rest.push(more);
                    }
                    return Ok(rest);
                }
            }
        }
        Ok(resolved)
    }
}

/// The normal and `..` components of a path, last first (`.` and the root are dropped).
fn components_reversed(path: &Path) -> Vec<OsString> {
    let mut parts: Vec<OsString> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
        })
        .collect();
    parts.reverse();
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn scratch(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "nodecheck-host-root-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn live_root_uses_paths_as_they_are() {
        let live = HostRoot::live();
        assert!(live.is_live());
        assert_eq!(
            live.path("/etc/os-release").unwrap(),
            PathBuf::from("/etc/os-release")
        );
        assert_eq!(live.show("/etc/os-release"), "/etc/os-release");
        assert_eq!(HostRoot::from_arg(Some(Path::new("/"))).unwrap(), live);
        assert_eq!(HostRoot::from_arg(None).unwrap(), live);
    }

    #[test]
    fn absolute_links_and_dotdot_stay_inside_the_root() {
        let dir = scratch("links");
        std::fs::create_dir_all(dir.join("lib/systemd/system")).unwrap();
        std::fs::create_dir_all(dir.join("etc/systemd/system/multi-user.target.wants")).unwrap();
        std::fs::write(dir.join("lib/systemd/system/kubelet.service"), "[Unit]\n").unwrap();
        symlink(
            "/lib/systemd/system/kubelet.service",
            dir.join("etc/systemd/system/multi-user.target.wants/kubelet.service"),
        )
        .unwrap();
        std::fs::create_dir_all(dir.join("run")).unwrap();
        std::fs::write(dir.join("run/stub"), "nameserver 10.0.0.2\n").unwrap();
        symlink("../../../../run/stub", dir.join("etc/resolv.conf")).unwrap();
        let root = HostRoot::at(&dir).unwrap();
        let canonical = dir.canonicalize().unwrap();
        assert!(!root.is_live());
        assert_eq!(
            root.path("/etc/systemd/system/multi-user.target.wants/kubelet.service")
                .unwrap(),
            canonical.join("lib/systemd/system/kubelet.service")
        );
        assert_eq!(
            root.read_link("/etc/systemd/system/multi-user.target.wants/kubelet.service")
                .unwrap(),
            PathBuf::from("/lib/systemd/system/kubelet.service")
        );
        // `..` beyond the root is the root, as in a chroot.
        assert_eq!(
            root.read_to_string("/etc/resolv.conf").unwrap(),
            "nameserver 10.0.0.2\n"
        );
        assert_eq!(
            root.path("/../../etc/passwd").unwrap(),
            canonical.join("etc/passwd")
        );
        assert!(root.show("/etc/resolv.conf").ends_with(":/etc/resolv.conf"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn link_loops_end() {
        let dir = scratch("loop");
        symlink("/b", dir.join("a")).unwrap();
        symlink("/a", dir.join("b")).unwrap();
        let root = HostRoot::at(&dir).unwrap();
        assert!(root.read_to_string("/a").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_chain_longer_than_the_hop_limit_is_an_error_never_a_read_outside() {
        let dir = scratch("chain");
        // link41 -> link40 -> ... -> link1 -> /etc/passwd: 41 hops, and the host tree has no
        // /etc/passwd of its own, so any answer would be the runner's file.
        symlink("/etc/passwd", dir.join("link1")).unwrap();
        for n in 2..=41 {
            symlink(format!("/link{}", n - 1), dir.join(format!("link{n}"))).unwrap();
        }
        let root = HostRoot::at(&dir).unwrap();
        let e = root.read_to_string("/link41").unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ELOOP), "{e}");
        assert!(root.path("/link41").is_err());
        assert!(!root.exists("/link41"));
        // 40 hops is still followed, inside the root.
        std::fs::create_dir_all(dir.join("etc")).unwrap();
        std::fs::write(dir.join("etc/passwd"), "tree\n").unwrap();
        assert_eq!(root.read_to_string("/link40").unwrap(), "tree\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_fifo_or_device_in_the_tree_is_refused_without_blocking() {
        let dir = scratch("fifo");
        nix::unistd::mkfifo(
            &dir.join("fifo"),
            nix::sys::stat::Mode::from_bits_truncate(0o600),
        )
        .unwrap();
        symlink("/dev/null", dir.join("null")).unwrap();
        let root = HostRoot::at(&dir).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = root.clone();
        std::thread::spawn(move || {
            tx.send(reader.read_to_string("/fifo").map_err(|e| e.to_string()))
        });
        let e = rx
            .recv_timeout(std::time::Duration::from_secs(5))
            .expect("reading a FIFO returned at once")
            .unwrap_err();
        assert!(e.contains("FIFO"), "{e}");
        // `/dev/null` re-rooted is the tree's own (missing) /dev/null, not the runner's device.
        assert!(root.read_to_string("/null").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_or_non_directory_root_is_bad_input() {
        let dir = scratch("bad");
        std::fs::write(dir.join("file"), "x").unwrap();
        assert!(HostRoot::at(&dir.join("file"))
            .unwrap_err()
            .0
            .contains("not a directory"));
        assert!(HostRoot::at(&dir.join("missing")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bounded_reads_refuse_large_files() {
        let dir = scratch("bounded");
        std::fs::write(dir.join("big"), "x".repeat(100)).unwrap();
        let root = HostRoot::at(&dir).unwrap();
        assert!(root.read_bounded("/big", 10).is_err());
        assert_eq!(root.read_bounded("/big", 100).unwrap().len(), 100);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
