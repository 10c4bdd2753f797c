//! cgroups: the hierarchy (v1, v2 or hybrid) and its controllers, kubelet's cgroup driver
//! (`cgroupDriver` in its KubeletConfiguration, or the deprecated `--cgroup-driver` flag) and
//! containerd's (`SystemdCgroup` of the runc runtime in `/etc/containerd/config.toml`, read with the
//! `toml` crate). A kubelet on `systemd` over a runc on `cgroupfs` is the mismatch `kubeadm join`
//! most often dies of: the kubelet starts, then pods crash-loop.

use crate::facts::node_setup::{CgroupDrivers, Cgroups};
use crate::facts::systemd::ServiceUnit;
use crate::host_root::HostRoot;

pub const KUBELET_CONFIG: &str = "/var/lib/kubelet/config.yaml";
pub const CONTAINERD_CONFIG: &str = "/etc/containerd/config.toml";
const MAX_CONFIG_BYTES: u64 = 1 << 20;

pub fn gather_cgroups(root: &HostRoot) -> Cgroups {
    if let Ok(text) = root.read_to_string("/sys/fs/cgroup/cgroup.controllers") {
        return Cgroups {
            version: Some("v2".into()),
            controllers: text.split_whitespace().map(str::to_string).collect(),
        };
    }
    let v1_controllers = root
        .read_to_string("/proc/cgroups")
        .map(|t| parse_proc_cgroups(&t))
        .unwrap_or_default();
    let version = if root.exists("/sys/fs/cgroup/unified/cgroup.controllers") {
        Some("hybrid".into())
    } else if root.exists("/sys/fs/cgroup/memory") || root.exists("/sys/fs/cgroup/cpu") {
        Some("v1".into())
    } else {
        None
    };
    Cgroups {
        version,
        controllers: v1_controllers,
    }
}

/// Enabled controllers of `/proc/cgroups` (`#subsys_name hierarchy num_cgroups enabled`).
pub fn parse_proc_cgroups(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 4 && f[3] == "1").then(|| f[0].to_string())
        })
        .collect()
}

pub fn gather_drivers(root: &HostRoot, kubelet_unit: Option<&ServiceUnit>) -> CgroupDrivers {
    let (kubelet, kubelet_source) = kubelet_driver(root, kubelet_unit);
    let (containerd_systemd_cgroup, containerd_source) =
        match root.read_bounded(CONTAINERD_CONFIG, MAX_CONFIG_BYTES) {
            Ok(text) => match containerd_systemd_cgroup(&text) {
                Ok((value, table)) => (
                    value,
                    Some(format!("{} [{table}]", root.show(CONTAINERD_CONFIG))),
                ),
                Err(e) => (None, Some(format!("{}: {e}", root.show(CONTAINERD_CONFIG)))),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (
                None,
                Some(format!(
                    "{} does not exist: containerd runs on its built-in defaults (runc SystemdCgroup = false)",
                    root.show(CONTAINERD_CONFIG)
                )),
            ),
            Err(e) => (None, Some(format!("{}: {e}", root.show(CONTAINERD_CONFIG)))),
        };
    CgroupDrivers {
        kubelet,
        kubelet_source,
        containerd_systemd_cgroup,
        containerd_source,
    }
}

/// kubelet's driver: the `--cgroup-driver` flag wins over the config file, as in kubelet; a config
/// file without `cgroupDriver` means kubelet's default, `cgroupfs`.
fn kubelet_driver(root: &HostRoot, unit: Option<&ServiceUnit>) -> (Option<String>, Option<String>) {
    let argv: Vec<&str> = unit
        .and_then(|u| u.exec_start.as_ref())
        .map(|e| e.argv.iter().map(|a| a.value.as_str()).collect())
        .unwrap_or_default();
    if let Some(driver) = flag_value(&argv, "--cgroup-driver") {
        return (Some(driver), Some("kubelet flag --cgroup-driver".into()));
    }
    let config = flag_value(&argv, "--config").unwrap_or_else(|| KUBELET_CONFIG.to_string());
    match root.read_bounded(&config, MAX_CONFIG_BYTES) {
        Ok(text) => match kubelet_config_driver(&text) {
            Ok(Some(driver)) => (
                Some(driver),
                Some(format!("{} cgroupDriver", root.show(&config))),
            ),
            Ok(None) => (
                Some("cgroupfs".into()),
                Some(format!(
                    "{} sets no cgroupDriver: kubelet's default",
                    root.show(&config)
                )),
            ),
            Err(e) => (None, Some(format!("{}: {e}", root.show(&config)))),
        },
        Err(_) => (None, None),
    }
}

/// `--name=value` or `--name value` in an argument vector (the last one wins, as in kubelet).
pub fn flag_value(argv: &[&str], name: &str) -> Option<String> {
    let mut found = None;
    let mut words = argv.iter();
    while let Some(word) = words.next() {
        if let Some(v) = word.strip_prefix(name).and_then(|r| r.strip_prefix('=')) {
            found = Some(v.to_string());
        } else if *word == name {
            found = words.next().map(|v| v.to_string());
        }
    }
    found
}

/// `cgroupDriver` of a KubeletConfiguration (YAML), leniently: other fields are ignored.
pub fn kubelet_config_driver(text: &str) -> Result<Option<String>, String> {
    #[derive(serde::Deserialize)]
    struct Driver {
        #[serde(rename = "cgroupDriver", default)]
        cgroup_driver: Option<String>,
    }
    let parsed: Driver = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
    Ok(parsed.cgroup_driver)
}

/// `SystemdCgroup` of containerd's default runtime and the table it was read from. Config schema
/// versions 2 (`io.containerd.grpc.v1.cri`) and 3 (`io.containerd.cri.v1.runtime`, containerd 2.x);
/// a version-1 file may set the old `systemd_cgroup` of the `cri` plugin instead. Absent keys are
/// containerd's default (`false`).
pub fn containerd_systemd_cgroup(text: &str) -> Result<(Option<bool>, String), String> {
    let doc: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
    let version = doc.get("version").and_then(|v| v.as_integer()).unwrap_or(1);
    let plugins = doc.get("plugins").and_then(|p| p.as_table());
    let (plugin, containerd_key) = match version {
        3 => ("io.containerd.cri.v1.runtime", "containerd"),
        2 => ("io.containerd.grpc.v1.cri", "containerd"),
        _ => ("cri", "containerd"),
    };
    let cri = plugins
        .and_then(|p| p.get(plugin))
        .and_then(|c| c.as_table());
    if version < 2 {
        if let Some(b) = cri
            .and_then(|c| c.get("systemd_cgroup"))
            .and_then(|v| v.as_bool())
        {
            return Ok((Some(b), format!("plugins.{plugin}.systemd_cgroup")));
        }
    }
    let runtime_cfg = cri
        .and_then(|c| c.get(containerd_key))
        .and_then(|c| c.as_table());
    let runtime = runtime_cfg
        .and_then(|c| c.get("default_runtime_name"))
        .and_then(|v| v.as_str())
        .unwrap_or("runc")
        .to_string();
    let table = format!("plugins.\"{plugin}\".{containerd_key}.runtimes.{runtime}.options");
    let value = runtime_cfg
        .and_then(|c| c.get("runtimes"))
        .and_then(|r| r.get(runtime.as_str()))
        .and_then(|r| r.get("options"))
        .and_then(|o| o.get("SystemdCgroup"))
        .map(|v| {
            v.as_bool()
                .ok_or_else(|| format!("{table}.SystemdCgroup is not a boolean: {v}"))
        })
        .transpose()?;
    Ok((Some(value.unwrap_or(false)), table))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containerd_versions_2_and_3() {
        let v2 = r#"version = 2
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  SystemdCgroup = true
"#;
        let (value, table) = containerd_systemd_cgroup(v2).unwrap();
        assert_eq!(value, Some(true));
        assert!(table.contains("io.containerd.grpc.v1.cri"), "{table}");
        let v3 = r#"version = 3
[plugins.'io.containerd.cri.v1.runtime'.containerd]
  default_runtime_name = "crun"
[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.crun.options]
  SystemdCgroup = false
[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
  SystemdCgroup = true
"#;
        let (value, table) = containerd_systemd_cgroup(v3).unwrap();
        assert_eq!(value, Some(false));
        assert!(table.ends_with("runtimes.crun.options"), "{table}");
        // `containerd config default` output without the key: containerd's default.
        assert_eq!(
            containerd_systemd_cgroup("version = 2\n").unwrap().0,
            Some(false)
        );
        assert!(containerd_systemd_cgroup("version = [").is_err());
        assert!(containerd_systemd_cgroup(
            "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\nSystemdCgroup = \"yes\"\n"
        )
        .is_err());
    }

    #[test]
    fn kubelet_driver_sources() {
        assert_eq!(
            kubelet_config_driver("kind: KubeletConfiguration\ncgroupDriver: systemd\n").unwrap(),
            Some("systemd".into())
        );
        assert_eq!(
            kubelet_config_driver("kind: KubeletConfiguration\n").unwrap(),
            None
        );
        assert_eq!(
            flag_value(
                &["/usr/bin/kubelet", "--config", "/a", "--config=/b"],
                "--config"
            ),
            Some("/b".into())
        );
        assert_eq!(
            flag_value(&["--cgroup-driver-x=1"], "--cgroup-driver"),
            None
        );
    }

    #[test]
    fn proc_cgroups_enabled_rows() {
        let text =
            "#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpuset\t2\t1\t1\nmemory\t3\t80\t0\n";
        assert_eq!(parse_proc_cgroups(text), vec!["cpuset".to_string()]);
    }
}
