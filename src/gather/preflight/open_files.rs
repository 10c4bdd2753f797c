//! Open-file limits from systemd's configuration: `DefaultLimitNOFILE=` of the manager
//! (`/etc/systemd/system.conf` and its drop-ins) and `LimitNOFILE=` of the kubelet and containerd
//! units (their unit file and drop-ins, as `crate::gather::node_setup::services` found them). The
//! last assignment wins, as in systemd; an empty one resets to the default.

use crate::facts::node_setup::{NodeSetup, ServiceState};
use crate::facts::preflight::{OpenFiles, UnitOpenFiles};
use crate::host_root::HostRoot;

use super::read_text;

const MAX_UNIT_FILE: u64 = 1024 * 1024;

/// Directories of `system.conf` drop-ins, lowest precedence first.
const MANAGER_DROP_IN_DIRS: &[&str] = &[
    "/usr/lib/systemd/system.conf.d",
    "/usr/local/lib/systemd/system.conf.d",
    "/run/systemd/system.conf.d",
    "/etc/systemd/system.conf.d",
];

pub fn gather_open_files(root: &HostRoot, setup: &NodeSetup) -> OpenFiles {
    let mut files = vec!["/etc/systemd/system.conf".to_string()];
    files.extend(manager_drop_ins(root));
    let (systemd_default, systemd_default_source) =
        last_setting(root, &files, "Manager", "DefaultLimitNOFILE").unzip();
    OpenFiles {
        systemd_default,
        systemd_default_source,
        units: vec![
            unit_limit("kubelet.service", &setup.kubelet, root),
            unit_limit("containerd.service", &setup.containerd, root),
        ],
    }
}

/// `*.conf` drop-ins of the manager in systemd's order: by file name across the directories, a
/// name in a later directory hiding the same name in an earlier one.
fn manager_drop_ins(root: &HostRoot) -> Vec<String> {
    let mut by_name = std::collections::BTreeMap::new();
    for dir in MANAGER_DROP_IN_DIRS {
        for name in root.read_dir_names(dir).unwrap_or_default() {
            let Some(name) = name.to_str().filter(|n| n.ends_with(".conf")) else {
                continue;
            };
            by_name.insert(name.to_string(), format!("{dir}/{name}"));
        }
    }
    by_name.into_values().collect()
}

fn unit_limit(name: &str, state: &ServiceState, root: &HostRoot) -> UnitOpenFiles {
    let files: Vec<String> = state
        .unit
        .iter()
        .flat_map(|u| u.fragment.iter().chain(u.drop_ins.iter()).cloned())
        .collect();
    let found = last_setting(root, &files, "Service", "LimitNOFILE");
    UnitOpenFiles {
        unit: name.to_string(),
        installed: state.unit.as_ref().is_some_and(|u| u.fragment.is_some()),
        source: found.as_ref().map(|(_, s)| s.clone()),
        limit_nofile: found.map(|(v, _)| v),
    }
}

/// The value of the last `key=` in `[section]` across `files` (host paths, in order), with its
/// `FILE:LINE`; an empty assignment resets it to unset.
fn last_setting(
    root: &HostRoot,
    files: &[String],
    section: &str,
    key: &str,
) -> Option<(String, String)> {
    let mut found = None;
    for file in files {
        let Ok(text) = read_text(root, file, MAX_UNIT_FILE) else {
            continue;
        };
        for (line_no, value) in settings_in(&text, section, key) {
            found = (!value.is_empty()).then(|| (value, format!("{file}:{line_no}")));
        }
    }
    found
}

/// Every `key=value` of `[section]` in a systemd configuration text, with its line number.
pub fn settings_in(text: &str, section: &str, key: &str) -> Vec<(usize, String)> {
    let mut current = String::new();
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = name.to_string();
            continue;
        }
        if current != section {
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            if k.trim() == key {
                out.push((i + 1, v.trim().to_string()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_of_one_section() {
        let text = "[Unit]\nLimitNOFILE=1\n[Service]\n# LimitNOFILE=2\nLimitNOFILE = 1048576\nLimitNOFILE=\n";
        assert_eq!(
            settings_in(text, "Service", "LimitNOFILE"),
            vec![(5, "1048576".to_string()), (6, String::new())]
        );
    }
}
