//! containerd's `root` (its persistent data: images, snapshots — kubelet's `imagefs`) and `state`
//! directories from `/etc/containerd/config.toml` and the files it `imports`, merged as containerd
//! merges them: the main file first, then each import in order, a later value overriding an
//! earlier one. Import paths are relative to the importing file's directory and may end in a
//! `*` pattern over file names (containerd expands them with Go's `filepath.Glob`); imports are
//! followed one level deep, as containerd does. Without the file containerd runs on its defaults.

use std::path::Path;

use crate::host_root::HostRoot;

use super::read_text;
use super::sandbox_image::CONTAINERD_CONFIG;

/// containerd's built-in directories.
pub const DEFAULT_ROOT: &str = "/var/lib/containerd";
pub const DEFAULT_STATE: &str = "/run/containerd";

const MAX_CONFIG: u64 = 1024 * 1024;
/// At most this many imported files are read.
const MAX_IMPORTS: usize = 64;

/// containerd's directories and the file that set each (`None`: the default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerdDirs {
    pub root: (String, Option<String>),
    pub state: (String, Option<String>),
    /// Files that could not be read or parsed, with the reason.
    pub problems: Vec<String>,
}

/// `name` matched against a pattern whose only wildcard is `*` (any run of characters).
fn wildcard_matches(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, rest) = parts.split_first().expect("split yields one part at least");
    let Some(mut tail) = name.strip_prefix(first) else {
        return false;
    };
    for (i, part) in rest.iter().enumerate() {
        let last = i == rest.len() - 1;
        if last {
            return tail.ends_with(part) && tail.len() >= part.len();
        }
        match tail.find(part) {
            Some(at) => tail = &tail[at + part.len()..],
            None => return false,
        }
    }
    tail.is_empty()
}

/// The files an `imports` entry names, in name order for a pattern.
fn expand(root: &HostRoot, importing: &str, entry: &str) -> Vec<String> {
    let base = Path::new(importing).parent().unwrap_or(Path::new("/"));
    let path = if Path::new(entry).is_absolute() {
        Path::new(entry).to_path_buf()
    } else {
        base.join(entry)
    };
    let text = path.display().to_string();
    let Some(name) = path.file_name().map(|n| n.to_string_lossy().to_string()) else {
        return Vec::new();
    };
    if !name.contains('*') {
        return vec![text];
    }
    let dir = path.parent().unwrap_or(Path::new("/"));
    let mut names: Vec<String> = root
        .read_dir_names(dir)
        .unwrap_or_default()
        .into_iter()
        .map(|n| n.to_string_lossy().to_string())
        .filter(|n| wildcard_matches(&name, n))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|n| dir.join(n).display().to_string())
        .collect()
}

fn string_key(table: &toml::Table, key: &str) -> Option<String> {
    table.get(key).and_then(|v| v.as_str()).map(str::to_string)
}

pub fn gather_containerd_dirs(root: &HostRoot) -> ContainerdDirs {
    let mut dirs = ContainerdDirs {
        root: (DEFAULT_ROOT.into(), None),
        state: (DEFAULT_STATE.into(), None),
        problems: Vec::new(),
    };
    if !root.exists(CONTAINERD_CONFIG) {
        return dirs;
    }
    let parse = |path: &str| -> Result<toml::Table, String> {
        read_text(root, path, MAX_CONFIG)?
            .parse::<toml::Table>()
            .map_err(|e| format!("not valid TOML: {}", e.message()))
    };
    let main = match parse(CONTAINERD_CONFIG) {
        Ok(t) => t,
        Err(e) => {
            dirs.problems
                .push(format!("{}: {e}", root.show(CONTAINERD_CONFIG)));
            return dirs;
        }
    };
    let mut files = vec![(CONTAINERD_CONFIG.to_string(), main.clone())];
    let imports: Vec<String> = main
        .get("imports")
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    for entry in imports {
        for path in expand(root, CONTAINERD_CONFIG, &entry) {
            if files.len() > MAX_IMPORTS {
                break;
            }
            match parse(&path) {
                Ok(t) => files.push((path, t)),
                Err(e) => dirs.problems.push(format!("{}: {e}", root.show(&path))),
            }
        }
    }
    for (path, table) in &files {
        if let Some(v) = string_key(table, "root").filter(|v| !v.is_empty()) {
            dirs.root = (v, Some(path.clone()));
        }
        if let Some(v) = string_key(table, "state").filter(|v| !v.is_empty()) {
            dirs.state = (v, Some(path.clone()));
        }
    }
    dirs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_over_file_names() {
        assert!(wildcard_matches("*.toml", "10-root.toml"));
        assert!(!wildcard_matches("*.toml", "10-root.toml.bak"));
        assert!(wildcard_matches("disk-*.toml", "disk-a.toml"));
        assert!(!wildcard_matches("disk-*.toml", "other.toml"));
        assert!(wildcard_matches("exact.toml", "exact.toml"));
    }
}
