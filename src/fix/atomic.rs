//! Safe file operations for `fix`: every path is resolved under `--root` without following a symlink
//! out of its directory (or out of the root), and every write is atomic: a temporary file with an
//! unguessable name created `O_EXCL` in the same directory (the `tempfile` crate), the old file's mode
//! and owner, fsync, rename over the target, fsync of the directory. Readers see the old file or the
//! new one, never a torn write; a crash leaves at worst a stray `.nodecheck-fix-*` file.

use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

use super::confine::under_root;
use super::path_refused::PathRefused;

/// Hex SHA-256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Where a host path really is under the root, after the safety rules.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// The real path to write (under the root): the target, or the file a same-directory symlink
    /// points at.
    pub real: PathBuf,
    /// The host path of `real` (what the manifest records).
    pub host_path: PathBuf,
    /// Host paths of the directories that do not exist yet, outermost first.
    pub missing_dirs: Vec<PathBuf>,
}

/// Resolves `host_path` (absolute) under `root`. Refuses: a relative path or `..`; a directory on the way
/// that is a symlink leading out of the root; a target that is a symlink to anything outside its own
/// directory (a symlink within the directory is followed, so `99-sysctl.conf -> sysctl.conf`-style
/// links keep working); a target that is not a regular file.
pub fn resolve(root: &Path, host_path: &Path) -> Result<Resolved, PathRefused> {
    if !host_path.is_absolute() || host_path.components().any(|c| c == Component::ParentDir) {
        return Err(PathRefused::NotNormalised {
            path: host_path.to_path_buf(),
        });
    }
    let canonical_root = root.canonicalize().map_err(|source| PathRefused::Root {
        root: root.to_path_buf(),
        source,
    })?;
    let parent = host_path.parent().unwrap_or(Path::new("/"));
    let mut missing_dirs = Vec::new();
    let mut walked = PathBuf::from("/");
    for c in parent.components().skip(1) {
        walked.push(c);
        let here = under_root(root, &walked);
        match std::fs::symlink_metadata(&here) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = here.canonicalize().map_err(|source| PathRefused::Io {
                    path: walked.clone(),
                    source,
                })?;
                if !target.starts_with(&canonical_root) || !target.is_dir() {
                    return Err(PathRefused::DirectoryLeavesRoot {
                        path: walked,
                        target,
                        root: root.to_path_buf(),
                    });
                }
            }
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(PathRefused::NotADirectory { path: walked }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => missing_dirs.push(walked.clone()),
            Err(source) => {
                return Err(PathRefused::Io {
                    path: walked,
                    source,
                })
            }
        }
    }
    let target = under_root(root, host_path);
    if !missing_dirs.is_empty() {
        return Ok(Resolved {
            real: target,
            host_path: host_path.to_path_buf(),
            missing_dirs,
        });
    }
    match std::fs::symlink_metadata(&target) {
        Ok(m) if m.file_type().is_symlink() => {
            let dir =
                under_root(root, parent)
                    .canonicalize()
                    .map_err(|source| PathRefused::Io {
                        path: parent.to_path_buf(),
                        source,
                    })?;
            let link = std::fs::read_link(&target).unwrap_or_default();
            let resolved = target.canonicalize().ok();
            match resolved {
                Some(r) if r.parent() == Some(dir.as_path()) && r.is_file() => {
                    let name = r.file_name().unwrap_or_default();
                    Ok(Resolved {
                        real: r.clone(),
                        host_path: parent.join(name),
                        missing_dirs,
                    })
                }
                _ => Err(PathRefused::FileLeavesDirectory {
                    path: host_path.to_path_buf(),
                    link,
                    directory: parent.to_path_buf(),
                }),
            }
        }
        Ok(m) if !m.is_file() => Err(PathRefused::NotARegularFile {
            path: host_path.to_path_buf(),
        }),
        _ => Ok(Resolved {
            real: target,
            host_path: host_path.to_path_buf(),
            missing_dirs,
        }),
    }
}

/// Mode and owner of an existing file, to keep them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ownership {
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

impl Ownership {
    pub fn of(path: &Path) -> std::io::Result<Ownership> {
        let m = std::fs::metadata(path)?;
        Ok(Ownership {
            mode: m.mode() & 0o7777,
            uid: m.uid(),
            gid: m.gid(),
        })
    }
}

/// Creates the missing directories (mode 0755, root-owned like their parents would be).
pub fn create_dirs(root: &Path, dirs: &[PathBuf]) -> std::io::Result<()> {
    for d in dirs {
        let real = under_root(root, d);
        std::fs::create_dir(&real)?;
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(())
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// The name prefix of the temporary files atomic writes rename into place.
pub const TEMP_PREFIX: &str = ".nodecheck-fix-";

/// Replaces `path` with `contents` atomically, with the given mode and owner.
pub fn write_file(path: &Path, contents: &[u8], owner: Ownership) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("/"));
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(dir)?;
    tmp.write_all(contents)?;
    // chown before chmod: chown clears set-id bits.
    std::os::unix::fs::fchown(tmp.as_file(), Some(owner.uid), Some(owner.gid))?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(owner.mode))?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir)
}

/// Replaces `path` with a symlink to `target` atomically (a `systemctl mask` is a link to /dev/null).
pub fn write_symlink(path: &Path, target: &Path) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("/"));
    let tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .make_in(dir, |p| std::os::unix::fs::symlink(target, p))?;
    tmp.into_temp_path().persist(path).map_err(|e| e.error)?;
    sync_dir(dir)
}

/// Removes a file (or symlink) and syncs its directory.
pub fn remove(path: &Path) -> std::io::Result<()> {
    std::fs::remove_file(path)?;
    sync_dir(path.parent().unwrap_or(Path::new("/")))
}

/// What is at `path` now, for comparing with what a run wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Present {
    Absent,
    Content(String),
    Symlink(PathBuf),
    Other,
}

impl Present {
    pub fn at(path: &Path) -> Present {
        match std::fs::symlink_metadata(path) {
            Err(_) => Present::Absent,
            Ok(m) if m.file_type().is_symlink() => {
                Present::Symlink(std::fs::read_link(path).unwrap_or_default())
            }
            Ok(m) if m.is_file() => match std::fs::read(path) {
                Ok(bytes) => Present::Content(sha256_hex(&bytes)),
                Err(_) => Present::Other,
            },
            Ok(_) => Present::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlinks_out_of_the_directory_are_refused_and_inside_followed() {
        let root = tempfile::tempdir().unwrap();
        let etc = root.path().join("etc/sysctl.d");
        std::fs::create_dir_all(&etc).unwrap();
        std::fs::write(root.path().join("etc/sysctl.conf"), "x=1\n").unwrap();
        std::os::unix::fs::symlink("../sysctl.conf", etc.join("99-out.conf")).unwrap();
        std::fs::write(etc.join("real.conf"), "").unwrap();
        std::os::unix::fs::symlink("real.conf", etc.join("99-in.conf")).unwrap();
        let err = resolve(root.path(), Path::new("/etc/sysctl.d/99-out.conf")).unwrap_err();
        assert!(err.to_string().contains("refusing to follow"), "{err}");
        let ok = resolve(root.path(), Path::new("/etc/sysctl.d/99-in.conf")).unwrap();
        assert_eq!(ok.host_path, Path::new("/etc/sysctl.d/real.conf"));
        let new = resolve(root.path(), Path::new("/etc/modules-load.d/k8s.conf")).unwrap();
        assert_eq!(new.missing_dirs, vec![PathBuf::from("/etc/modules-load.d")]);
        assert!(matches!(
            resolve(root.path(), Path::new("/etc/../x")),
            Err(PathRefused::NotNormalised { .. })
        ));
        std::fs::create_dir_all(root.path().join("etc/docker/daemon.json")).unwrap();
        let err = resolve(root.path(), Path::new("/etc/docker/daemon.json")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "/etc/docker/daemon.json: not a regular file"
        );
    }

    #[test]
    fn writes_keep_mode_and_owner_and_replace_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, "old").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
        let owner = Ownership::of(&p).unwrap();
        write_file(&p, b"new", owner).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new");
        assert_eq!(Ownership::of(&p).unwrap(), owner);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        write_symlink(&p, Path::new("/dev/null")).unwrap();
        assert_eq!(
            Present::at(&p),
            Present::Symlink(PathBuf::from("/dev/null"))
        );
    }
}
