//! Gathers [`Preflight`]: free space where kubelet and the runtime keep their data (`disk`), the
//! open-file limits of systemd and the kubelet and runtime units (`open_files`), what the host's
//! files say `localhost` is (`localhost`), the kernel build configuration (`kernel_config`),
//! containerd's or CRI-O's sandbox image (`sandbox_image`) and the
//! inotify, open-file and per-interface reverse-path/ARP sysctls (here). Every file is read through
//! the host root with a size bound and only when it is a regular file ([`read_text`]).

pub mod containerd_root;
pub mod disk;
pub mod iptables;
pub mod kernel_config;
pub mod localhost;
pub mod open_files;
pub mod sandbox_image;

use std::collections::BTreeMap;

use crate::facts::node_setup::NodeSetup;
use crate::facts::preflight::Preflight;
use crate::facts::Interface;
use crate::host_root::HostRoot;

/// Host-wide sysctls read for the preflight checks.
pub const SYSCTLS: &[&str] = &[
    "fs.inotify.max_user_instances",
    "fs.inotify.max_user_watches",
    "fs.nr_open",
    "fs.file-max",
];

/// The per-interface IPv4 settings read for `all`, `default` and each interface with an address.
pub const INTERFACE_SYSCTLS: &[&str] = &["rp_filter", "arp_ignore", "arp_filter"];

/// At most this many interfaces have their settings read (a host with thousands of pod veths has
/// no IPv4 addresses on them; the node NIC is among the first).
const MAX_INTERFACES: usize = 64;

/// Sysctl files and small configuration files are at most this long.
const MAX_SMALL_FILE: u64 = 256 * 1024;

/// Gathers the section. `interfaces` are the netlink links (for the per-interface sysctls);
/// `setup` holds the kubelet and containerd units already read.
pub fn gather_preflight(
    root: &HostRoot,
    kernel_release: &str,
    interfaces: &[Interface],
    setup: &NodeSetup,
) -> Preflight {
    Preflight {
        disks: disk::gather_disks(root),
        open_files: open_files::gather_open_files(root, setup),
        localhost: localhost::gather_localhost(root),
        sysctls: gather_sysctls(root, interfaces),
        kernel_config: kernel_config::gather_kernel_config(root, kernel_release),
        sandbox_image: sandbox_image::gather_sandbox_image(root),
        // Netlink, in the caller's network namespace: filled in by `crate::gather`.
        forward: None,
        // Asked on the gathering runtime: filled in by `crate::gather`.
        cri: None,
        iptables: Some(iptables::gather_iptables(root)),
    }
}

/// The sysctl names read: [`SYSCTLS`], then [`INTERFACE_SYSCTLS`] for `all`, `default` and the
/// interfaces with an IPv4 address whose names are safe path components.
pub fn sysctl_names(interfaces: &[Interface]) -> Vec<String> {
    let mut names: Vec<String> = SYSCTLS.iter().map(|s| s.to_string()).collect();
    let with_ipv4 = interfaces
        .iter()
        .filter(|i| i.name != "lo" && i.name_bytes.is_none())
        .filter(|i| {
            i.name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_@".contains(&b))
        })
        .filter(|i| {
            i.addresses
                .iter()
                .any(|a| a.family == crate::facts::Family::Ipv4)
        })
        .take(MAX_INTERFACES)
        .map(|i| i.name.to_string());
    for interface in ["all".to_string(), "default".to_string()]
        .into_iter()
        .chain(with_ipv4)
    {
        for key in INTERFACE_SYSCTLS {
            names.push(format!("net.ipv4.conf.{interface}.{key}"));
        }
    }
    names
}

fn gather_sysctls(root: &HostRoot, interfaces: &[Interface]) -> BTreeMap<String, Option<String>> {
    sysctl_names(interfaces)
        .into_iter()
        .map(|name| {
            let path = format!("/proc/sys/{}", name.replace('.', "/"));
            let value = read_text(root, &path, MAX_SMALL_FILE)
                .ok()
                .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "));
            (name, value)
        })
        .collect()
}

/// Reads a host file of at most `max_bytes` as bytes, through the one bounded, non-blocking,
/// regular-file-only reader every host file goes through.
pub fn read_bytes(root: &HostRoot, host_path: &str, max_bytes: u64) -> Result<Vec<u8>, String> {
    let path = root.path(host_path).map_err(|e| e.to_string())?;
    crate::input::read_regular_file(&path, max_bytes).map_err(|e| e.to_string())
}

/// [`read_bytes`] as UTF-8 text.
pub fn read_text(root: &HostRoot, host_path: &str, max_bytes: u64) -> Result<String, String> {
    String::from_utf8(read_bytes(root, host_path, max_bytes)?).map_err(|e| {
        format!(
            "not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}
