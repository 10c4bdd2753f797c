//! The k3s/RKE2 configuration on this host, read under `--host-root` for `nodecheck addresses`:
//! `/etc/rancher/{k3s,rke2}/config.yaml` and the `config.yaml.d/*.yaml` files after it (in name
//! order, as k3s merges them), and the flags on the `k3s`/`k3s-agent`/`rke2-server`/`rke2-agent`
//! units' `ExecStart=` (through the unit reader, so `$VAR`s from their `.env` files are expanded).
//! Every file read is bounded, regular-file-only and non-blocking.

use crate::host_root::HostRoot;

/// Largest configuration file read.
const MAX_BYTES: u64 = 1024 * 1024;

/// One distribution's configuration as found on the host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostK3sConfig {
    /// `rke2` or `k3s`.
    pub distro: &'static str,
    /// (host path, text) of each configuration file, in merge order.
    pub files: Vec<(String, String)>,
    /// The flags of the unit's `ExecStart=` after `server`/`agent`, with where it was declared.
    pub unit_args: Option<(String, Vec<String>)>,
    /// Files that exist but could not be read, with the reason.
    pub unreadable: Vec<String>,
}

fn read_file(root: &HostRoot, host_path: &str) -> Result<String, String> {
    root.read_bounded(host_path, MAX_BYTES)
        .map_err(|e| e.to_string())
}

/// What the host has for k3s and RKE2; distributions with nothing on the host are left out.
pub fn read(root: &HostRoot) -> Vec<HostK3sConfig> {
    let mut out = Vec::new();
    for (distro, units) in [
        ("k3s", ["k3s.service", "k3s-agent.service"]),
        ("rke2", ["rke2-server.service", "rke2-agent.service"]),
    ] {
        let mut found = HostK3sConfig {
            distro,
            ..HostK3sConfig::default()
        };
        let base = format!("/etc/rancher/{distro}/config.yaml");
        let mut paths = Vec::new();
        if root.exists(&base) {
            paths.push(base.clone());
        }
        let dir = format!("{base}.d");
        let mut names: Vec<String> = root
            .read_dir_names(&dir)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|n| n.into_string().ok())
            .filter(|n| n.ends_with(".yaml") || n.ends_with(".yml"))
            .collect();
        names.sort();
        paths.extend(names.into_iter().map(|n| format!("{dir}/{n}")));
        for path in paths {
            match read_file(root, &path) {
                Ok(text) => found.files.push((path, text)),
                Err(e) => found.unreadable.push(format!("{path}: {e}")),
            }
        }
        for unit in units {
            let Some(exec) =
                crate::gather::systemd::read_service(root, unit).and_then(|s| s.exec_start)
            else {
                continue;
            };
            let words: Vec<String> = exec.argv.iter().map(|a| a.value.clone()).collect();
            let flags = words
                .iter()
                .position(|w| w == "server" || w == "agent")
                .map(|at| words[at + 1..].to_vec())
                .unwrap_or_default();
            found.unit_args = Some((exec.declared_at.clone(), flags));
            break;
        }
        if !found.files.is_empty() || found.unit_args.is_some() || !found.unreadable.is_empty() {
            out.push(found);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_files_in_merge_order_and_the_unit_s_flags() {
        let dir = std::env::temp_dir().join(format!("nodecheck-k3s-config-{}", std::process::id()));
        let etc = dir.join("etc/rancher/k3s/config.yaml.d");
        std::fs::create_dir_all(&etc).unwrap();
        std::fs::write(
            dir.join("etc/rancher/k3s/config.yaml"),
            "node-ip: 10.0.0.5\n",
        )
        .unwrap();
        std::fs::write(etc.join("20-b.yaml"), "flannel-iface: eth1\n").unwrap();
        std::fs::write(etc.join("10-a.yaml"), "node-external-ip: 203.0.113.5\n").unwrap();
        std::fs::write(etc.join("notes.txt"), "ignored").unwrap();
        let units = dir.join("etc/systemd/system");
        std::fs::create_dir_all(&units).unwrap();
        std::fs::write(
            units.join("k3s.service"),
            "[Service]\nEnvironmentFile=-/etc/systemd/system/k3s.service.env\nExecStart=/usr/local/bin/k3s server --flannel-iface=${IFACE}\n",
        )
        .unwrap();
        std::fs::write(units.join("k3s.service.env"), "IFACE=eth2\n").unwrap();
        let root = HostRoot::at(&dir).unwrap();
        let found = read(&root);
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(found.len(), 1);
        let k3s = &found[0];
        let names: Vec<&str> = k3s.files.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            names,
            [
                "/etc/rancher/k3s/config.yaml",
                "/etc/rancher/k3s/config.yaml.d/10-a.yaml",
                "/etc/rancher/k3s/config.yaml.d/20-b.yaml"
            ]
        );
        assert_eq!(k3s.unit_args.as_ref().unwrap().1, ["--flannel-iface=eth2"]);
    }
}
