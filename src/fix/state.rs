//! What the planners need to know beyond the facts: the current content of the configuration files a
//! change may touch, existing swap units and the initramfs tool, all read under
//! `--root`. This is the only I/O of planning; the planners are pure functions of it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::confine::under_root;

/// Files larger than this are not configuration files we edit.
const MAX_CONFIG_BYTES: u64 = 4 * 1024 * 1024;

pub const SYSCTL_DROP_IN: &str = "/etc/sysctl.d/99-kubernetes.conf";
pub const MODULES_LOAD: &str = "/etc/modules-load.d/k8s.conf";
pub const FSTAB: &str = "/etc/fstab";
pub const DOCKER_DAEMON_JSON: &str = "/etc/docker/daemon.json";
pub const NETWORKMANAGER_CONF: &str = "/etc/NetworkManager/conf.d/calico.conf";
pub const LINK_DIR: &str = "/etc/systemd/network";
pub const UNIT_MASK_DIR: &str = "/etc/systemd/system";

/// Unit directories searched for `.swap` units (generator output included: systemd-gpt-auto's units
/// live there; fstab's generated units disappear with their fstab lines).
const SWAP_UNIT_DIRS: &[&str] = &[
    "/etc/systemd/system",
    "/run/systemd/system",
    "/run/systemd/generator.early",
    "/run/systemd/generator.late",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
];

/// Sysctl configuration read by systemd-sysctl and `sysctl --system`, in their precedence order
/// (a file name in an earlier directory hides the same name in a later one).
pub const SYSCTL_DIRS: &[&str] = &[
    "/etc/sysctl.d",
    "/run/sysctl.d",
    "/usr/local/lib/sysctl.d",
    "/usr/lib/sysctl.d",
    "/lib/sysctl.d",
];

/// A file's content as read: absent, text, or unusable (not UTF-8, too large, unreadable).
#[derive(Debug, Clone, PartialEq)]
pub enum FileState {
    Absent,
    Text(String),
    Unusable(String),
}

impl FileState {
    pub fn text(&self) -> Option<&str> {
        match self {
            FileState::Text(t) => Some(t),
            _ => None,
        }
    }
}

/// The host (or `--root` tree) as the planners see it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostState {
    /// Current content of every file a planner may write, by absolute host path.
    pub files: BTreeMap<PathBuf, FileState>,
    /// Other sysctl configuration files (absolute host path, content), for conflicting settings.
    pub sysctl_files: Vec<(PathBuf, String)>,
    /// `.link` files (absolute host path, content) in systemd's link directories, first directory
    /// winning per name, sorted by name (the order udev tries them in).
    pub link_files: Vec<(PathBuf, String)>,
    /// `.swap` unit names found in the unit directories.
    pub swap_units: Vec<String>,
    /// Units already masked in /etc/systemd/system.
    pub masked_units: Vec<String>,
    /// `update-initramfs -u` or `dracut -f`, whichever the host has.
    pub initramfs_command: Option<Vec<String>>,
    /// Changes go to the live system too (no `--root`).
    pub live: bool,
    /// The k3s/RKE2 configuration files and unit flags under the root (read only when an address
    /// check did not pass).
    pub k3s: Vec<crate::gather::k3s_config::HostK3sConfig>,
}

impl HostState {
    pub fn file(&self, path: &str) -> &FileState {
        self.files
            .get(Path::new(path))
            .unwrap_or(&FileState::Absent)
    }
}

/// Reads the planners' inputs under `root` (`/` for the live host). `extra_files` are the files whose
/// path depends on the host (the NIC's `.link` file, the kubelet environment file).
pub fn read(root: &Path, live: bool, extra_files: &[PathBuf]) -> HostState {
    let mut files = BTreeMap::new();
    let fixed = [
        SYSCTL_DROP_IN,
        MODULES_LOAD,
        FSTAB,
        DOCKER_DAEMON_JSON,
        NETWORKMANAGER_CONF,
    ];
    for p in fixed
        .iter()
        .map(PathBuf::from)
        .chain(extra_files.iter().cloned())
    {
        let state = read_target(root, &p);
        files.insert(p, state);
    }
    let initramfs_command = initramfs_command(root);
    HostState {
        files,
        sysctl_files: read_sysctl_files(root),
        link_files: read_link_files(root),
        swap_units: units_in(root, SWAP_UNIT_DIRS, ".swap"),
        masked_units: masked_units(root),
        initramfs_command,
        live,
        k3s: Vec::new(),
    }
}

/// `update-initramfs -u` or `dracut -f`, whichever the host under `root` has.
pub fn initramfs_command(root: &Path) -> Option<Vec<String>> {
    let exists = |p: &str| under_root(root, Path::new(p)).exists();
    if exists("/usr/sbin/update-initramfs") || exists("/sbin/update-initramfs") {
        Some(vec!["update-initramfs".to_string(), "-u".to_string()])
    } else if exists("/usr/bin/dracut") || exists("/usr/sbin/dracut") {
        Some(vec!["dracut".to_string(), "-f".to_string()])
    } else {
        None
    }
}

/// A file a planner may write, resolved the way `--apply` resolves it (a same-directory symlink is
/// read through), then read confined to the root. A link `--apply` will refuse is still read inside
/// the root (an absolute link meaning the tree's own file), so the plan shows it and `--apply`
/// refuses it by name.
fn read_target(root: &Path, host_path: &Path) -> FileState {
    match crate::fix::atomic::resolve(root, host_path) {
        Ok(r) if !r.missing_dirs.is_empty() => FileState::Absent,
        Ok(r) => read_file(root, &r.host_path),
        Err(_) => read_file(root, host_path),
    }
}

/// A file read confined to `root` (see [`confine::read_in_root`]), bounded and non-blocking.
fn read_file(root: &Path, host_path: &Path) -> FileState {
    use crate::fix::confine::{self, ReadError};
    match confine::read_in_root(root, host_path, MAX_CONFIG_BYTES) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => FileState::Text(text),
            Err(_) => FileState::Unusable(format!("{}: not UTF-8 text", host_path.display())),
        },
        Err(e) if e.is_not_found() => FileState::Absent,
        Err(ReadError::Io(e)) if e.raw_os_error() == Some(libc::EXDEV) => FileState::Unusable(
            format!("{}: leads outside {}", host_path.display(), root.display()),
        ),
        Err(e) => FileState::Unusable(format!("{}: {e}", host_path.display())),
    }
}

fn sorted_entries(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().into_string().ok()?, e.path())))
        .collect();
    out.sort();
    out
}

/// Every `*.conf` in the sysctl directories (first directory wins per name), then /etc/sysctl.conf.
fn read_sysctl_files(root: &Path) -> Vec<(PathBuf, String)> {
    let mut by_name: BTreeMap<String, PathBuf> = BTreeMap::new();
    for dir in SYSCTL_DIRS {
        for (name, _) in sorted_entries(&under_root(root, Path::new(dir))) {
            if name.ends_with(".conf") {
                by_name
                    .entry(name.clone())
                    .or_insert_with(|| Path::new(dir).join(&name));
            }
        }
    }
    let mut out = Vec::new();
    for host_path in by_name
        .into_values()
        .chain(std::iter::once(PathBuf::from("/etc/sysctl.conf")))
    {
        // A file that is not UTF-8 is still applied by systemd-sysctl: read it (lossily) so a setting
        // in it that overrides ours is named.
        if let Ok(bytes) = crate::fix::confine::read_in_root(root, &host_path, MAX_CONFIG_BYTES) {
            out.push((host_path, String::from_utf8_lossy(&bytes).into_owned()));
        }
    }
    out
}

/// systemd.link(5)'s directories, in precedence order.
const LINK_DIRS: &[&str] = &[
    "/etc/systemd/network",
    "/run/systemd/network",
    "/usr/local/lib/systemd/network",
    "/usr/lib/systemd/network",
    "/lib/systemd/network",
];

fn read_link_files(root: &Path) -> Vec<(PathBuf, String)> {
    let mut by_name: BTreeMap<String, PathBuf> = BTreeMap::new();
    for dir in LINK_DIRS {
        for (name, _) in sorted_entries(&under_root(root, Path::new(dir))) {
            if name.ends_with(".link") {
                by_name
                    .entry(name.clone())
                    .or_insert_with(|| Path::new(dir).join(&name));
            }
        }
    }
    by_name
        .into_values()
        .filter_map(|p| {
            let bytes = crate::fix::confine::read_in_root(root, &p, MAX_CONFIG_BYTES).ok()?;
            Some((p, String::from_utf8_lossy(&bytes).into_owned()))
        })
        .collect()
}

fn units_in(root: &Path, dirs: &[&str], suffix: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for dir in dirs {
        for (name, path) in sorted_entries(&under_root(root, Path::new(dir))) {
            let masked = std::fs::read_link(&path).is_ok_and(|t| t == Path::new("/dev/null"));
            if name.ends_with(suffix) && !masked && !out.contains(&name) {
                out.push(name);
            }
        }
    }
    out
}

fn masked_units(root: &Path) -> Vec<String> {
    sorted_entries(&under_root(root, Path::new(UNIT_MASK_DIR)))
        .into_iter()
        .filter(|(_, p)| std::fs::read_link(p).is_ok_and(|t| t == Path::new("/dev/null")))
        .map(|(n, _)| n)
        .collect()
}
