//! NetworkManager: whether it runs, and which devices its configuration tells it to leave alone
//! (`[keyfile] unmanaged-devices=`, and `[device*]` sections with `managed=false`). A running
//! NetworkManager that manages Calico's `cali*`, `tunl0`, `vxlan.calico` or `wireguard.cali` devices
//! removes their routes and addresses behind Calico's back.
//!
//! Files are read in NetworkManager's order (NetworkManager.conf(5)): `/usr/lib/NetworkManager/conf.d`,
//! then `/run/NetworkManager/conf.d`, then `NetworkManager.conf`, then `/etc/NetworkManager/conf.d`,
//! each directory's `*.conf` by name, a name in a later directory hiding the same name in an earlier
//! one; a later value of a key replaces an earlier one.

use std::collections::BTreeMap;

use crate::facts::node_setup::NetworkManager;
use crate::host_root::HostRoot;

const MAIN_CONFIG: &str = "/etc/NetworkManager/NetworkManager.conf";
const PID_FILE: &str = "/run/NetworkManager/NetworkManager.pid";

pub fn gather_network_manager(root: &HostRoot) -> NetworkManager {
    let running = super::unit_active(root, "NetworkManager.service") == Some(true)
        || root
            .read_to_string(PID_FILE)
            .ok()
            .and_then(|pid| pid.trim().parse::<u32>().ok())
            .is_some_and(|pid| root.exists(format!("/proc/{pid}")));
    let files = config_files(root);
    let texts: Vec<(String, String)> = files
        .into_iter()
        .filter_map(|f| root.read_bounded(&f, 1 << 20).ok().map(|t| (f, t)))
        .collect();
    let unmanaged_devices = unmanaged_devices(texts.iter().map(|(_, t)| t.as_str()));
    NetworkManager {
        running,
        config_files: texts.into_iter().map(|(f, _)| f).collect(),
        unmanaged_devices,
    }
}

/// The configuration files in the order NetworkManager reads them (host paths).
fn config_files(root: &HostRoot) -> Vec<String> {
    let conf_d = |dir: &str| -> BTreeMap<String, String> {
        root.read_dir_names(dir)
            .unwrap_or_default()
            .into_iter()
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".conf"))
            .map(|n| (n.clone(), format!("{dir}/{n}")))
            .collect()
    };
    let etc = conf_d("/etc/NetworkManager/conf.d");
    let run = conf_d("/run/NetworkManager/conf.d");
    let lib = conf_d("/usr/lib/NetworkManager/conf.d");
    let mut files: Vec<String> = Vec::new();
    files.extend(
        lib.iter()
            .filter(|(n, _)| !etc.contains_key(*n) && !run.contains_key(*n))
            .map(|(_, p)| p.clone()),
    );
    files.extend(
        run.iter()
            .filter(|(n, _)| !etc.contains_key(*n))
            .map(|(_, p)| p.clone()),
    );
    if root.exists(MAIN_CONFIG) {
        files.push(MAIN_CONFIG.to_string());
    }
    files.extend(etc.into_values());
    files
}

/// The effective unmanaged device specs: the last `[keyfile] unmanaged-devices` (a `;`-separated
/// list), plus the `match-device` of every `[device*]` section that says `managed=false`.
pub fn unmanaged_devices<'a>(texts: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut keyfile: Vec<String> = Vec::new();
    let mut device_sections: BTreeMap<String, (Option<String>, Option<bool>)> = BTreeMap::new();
    for text in texts {
        let mut section = String::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = name.trim().to_string();
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let (key, value) = (key.trim(), value.trim());
            if section == "keyfile" && key == "unmanaged-devices" {
                keyfile = split_specs(value);
            } else if section == "device" || section.starts_with("device-") {
                let entry = device_sections.entry(section.clone()).or_default();
                match key {
                    "match-device" => entry.0 = Some(value.to_string()),
                    "managed" => entry.1 = parse_bool(value),
                    _ => {}
                }
            }
        }
    }
    let mut specs = keyfile;
    for (matcher, managed) in device_sections.into_values() {
        if let (Some(m), Some(false)) = (matcher, managed) {
            for spec in m.split([',', ';']).map(str::trim).filter(|s| !s.is_empty()) {
                if !specs.iter().any(|s| s == spec) {
                    specs.push(spec.to_string());
                }
            }
        }
    }
    specs
}

fn split_specs(value: &str) -> Vec<String> {
    value
        .split([';', ','])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn parse_bool(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_keyfile_setting_wins_and_device_sections_add() {
        let first =
            "[main]\nplugins=keyfile\n[keyfile]\nunmanaged-devices=interface-name:docker0\n";
        let calico = "[keyfile]\nunmanaged-devices=interface-name:cali*;interface-name:tunl*;interface-name:vxlan.calico\n";
        let device = "[device-wg]\nmatch-device=interface-name:wireguard.cali\nmanaged=0\n[device-x]\nmatch-device=interface-name:eth9\nmanaged=1\n";
        let specs = unmanaged_devices([first, calico, device]);
        assert_eq!(
            specs,
            vec![
                "interface-name:cali*",
                "interface-name:tunl*",
                "interface-name:vxlan.calico",
                "interface-name:wireguard.cali"
            ]
        );
    }
}
