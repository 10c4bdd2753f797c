//! Kernel networking switches: the sysctls Kubernetes networking depends on and the host's IPv6
//! state, read from `/proc/sys`. A key that does not exist is `null`, which is itself evidence
//! (no `net.bridge.*` keys: br_netfilter is not loaded; no `net.ipv6` tree: IPv6 is off in the kernel).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::facts::{Ipv6State, KernelCmdline};
use crate::host_root::HostRoot;

/// The sysctls recorded in every snapshot.
pub const SYSCTLS: &[&str] = &[
    "net.ipv4.ip_forward",
    "net.ipv4.conf.all.forwarding",
    "net.ipv6.conf.all.forwarding",
    "net.bridge.bridge-nf-call-iptables",
    "net.bridge.bridge-nf-call-ip6tables",
    "net.ipv4.conf.all.rp_filter",
    "net.ipv4.conf.default.rp_filter",
    "net.ipv4.conf.all.src_valid_mark",
    "net.ipv4.ip_local_port_range",
    "net.ipv6.conf.all.disable_ipv6",
    "net.ipv6.conf.default.disable_ipv6",
    "net.netfilter.nf_conntrack_max",
    "net.core.somaxconn",
];

const PROC_SYS: &str = "/proc/sys";

/// `net.ipv4.ip_forward` → `/proc/sys/net/ipv4/ip_forward`.
pub fn sysctl_path(root: &Path, name: &str) -> PathBuf {
    root.join(name.replace('.', "/"))
}

/// A sysctl file's content as `sysctl` prints it: trimmed, runs of whitespace (tabs in
/// `ip_local_port_range`) as one space.
pub fn normalise_sysctl_value(raw: &str) -> String {
    raw.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Reads [`SYSCTLS`] and the `extra` names (what the profile asks for). Absent keys are `None`;
/// unreadable ones are `None` with a reason in `unavailable` (under `sysctls.<name>`). An extra name
/// that is not dotted words of `[A-Za-z0-9_-]` is not read (it could name a path outside /proc/sys).
pub fn gather_sysctls(
    root: &HostRoot,
    extra: &[String],
    unavailable: &mut BTreeMap<String, String>,
) -> BTreeMap<String, Option<String>> {
    let mut names: Vec<&str> = SYSCTLS.to_vec();
    for name in extra {
        if is_sysctl_name(name) && !names.contains(&name.as_str()) {
            names.push(name);
        }
    }
    read_sysctls(root, &names, unavailable)
}

/// Dotted words of letters, digits, `_` and `-`: nothing that could leave `/proc/sys`.
fn is_sysctl_name(name: &str) -> bool {
    name.len() <= 256
        && name.split('.').all(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
}

fn read_sysctls(
    root: &HostRoot,
    names: &[&str],
    unavailable: &mut BTreeMap<String, String>,
) -> BTreeMap<String, Option<String>> {
    names
        .iter()
        .map(|name| {
            let path = sysctl_path(Path::new(PROC_SYS), name);
            let value = match root.read_to_string(&path) {
                Ok(raw) => Some(normalise_sysctl_value(&raw)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => {
                    unavailable.insert(
                        format!("sysctls.{name}"),
                        format!("{}: {e}", root.show(&path)),
                    );
                    None
                }
            };
            (name.to_string(), value)
        })
        .collect()
}

/// The host's IPv6 state from the kernel command line and the `/proc/sys/net/ipv6` tree.
pub fn gather_ipv6(
    root: &HostRoot,
    cmdline: &KernelCmdline,
    sysctls: &BTreeMap<String, Option<String>>,
) -> Ipv6State {
    ipv6_state(
        cmdline,
        root.path(Path::new(PROC_SYS).join("net/ipv6"))
            .is_ok_and(|p| p.is_dir()),
        sysctls,
    )
}

/// Pure part of [`gather_ipv6`]: combines the command line, whether `/proc/sys/net/ipv6` exists and
/// the sysctl values already read.
pub fn ipv6_state(
    cmdline: &KernelCmdline,
    proc_present: bool,
    sysctls: &BTreeMap<String, Option<String>>,
) -> Ipv6State {
    let flag = |name: &str| -> Option<bool> {
        sysctls
            .get(name)
            .and_then(|v| v.as_deref())
            .and_then(|v| v.parse::<i64>().ok())
            .map(|n| n != 0)
    };
    Ipv6State {
        disabled_on_cmdline: cmdline.ipv6_disable.as_deref() == Some("1"),
        proc_present,
        all_disable_ipv6: flag("net.ipv6.conf.all.disable_ipv6"),
        default_disable_ipv6: flag("net.ipv6.conf.default.disable_ipv6"),
        all_forwarding: flag("net.ipv6.conf.all.forwarding"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sysctl_names_map_to_proc_paths_and_values_are_normalised() {
        assert_eq!(
            sysctl_path(Path::new("/proc/sys"), "net.bridge.bridge-nf-call-iptables"),
            PathBuf::from("/proc/sys/net/bridge/bridge-nf-call-iptables")
        );
        assert_eq!(normalise_sysctl_value("32768\t60999\n"), "32768 60999");
        assert_eq!(normalise_sysctl_value("1\n"), "1");
    }

    #[test]
    fn missing_keys_are_none_without_a_reason() {
        let dir = std::env::temp_dir().join(format!("nodecheck-sysctl-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("proc/sys/net/ipv4")).unwrap();
        std::fs::write(dir.join("proc/sys/net/ipv4/ip_forward"), "1\n").unwrap();
        let mut unavailable = BTreeMap::new();
        let values = read_sysctls(
            &HostRoot::at(&dir).unwrap(),
            &["net.ipv4.ip_forward", "net.bridge.bridge-nf-call-iptables"],
            &mut unavailable,
        );
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(values["net.ipv4.ip_forward"].as_deref(), Some("1"));
        assert_eq!(values["net.bridge.bridge-nf-call-iptables"], None);
        assert!(unavailable.is_empty());
    }

    #[test]
    fn ipv6_state_from_cmdline_and_sysctls() {
        let mut sysctls = BTreeMap::new();
        sysctls.insert(
            "net.ipv6.conf.all.disable_ipv6".to_string(),
            Some("1".to_string()),
        );
        sysctls.insert(
            "net.ipv6.conf.default.disable_ipv6".to_string(),
            Some("0".to_string()),
        );
        sysctls.insert("net.ipv6.conf.all.forwarding".to_string(), None);
        let state = ipv6_state(&KernelCmdline::default(), true, &sysctls);
        assert_eq!(state.all_disable_ipv6, Some(true));
        assert_eq!(state.default_disable_ipv6, Some(false));
        assert_eq!(state.all_forwarding, None);
        assert!(!state.kernel_off());

        let off = KernelCmdline {
            ipv6_disable: Some("1".into()),
            ..Default::default()
        };
        let state = ipv6_state(&off, false, &BTreeMap::new());
        assert!(state.disabled_on_cmdline);
        assert!(state.kernel_off());
    }
}
