//! Where the executables kubeadm requires or recommends are on `PATH` (kubeadm's
//! `FileExisting-<name>` checks do the same lookup). Directories are host paths under the host root.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;

use crate::host_root::HostRoot;

/// Every executable any supported kubeadm version looks for, plus `kubeadm` itself and `nft`
/// (Calico's nftables data plane). Which are required is decided by the checks, per version.
pub const BINARIES: &[&str] = &[
    "conntrack",
    "crictl",
    "ebtables",
    "ethtool",
    "ip",
    "iptables",
    "kubeadm",
    "kubelet",
    "mount",
    "nft",
    "nsenter",
    "socat",
    "tc",
    "touch",
];

/// `PATH` when the environment has none (systemd's default for services).
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Each of [`BINARIES`] with the first `PATH` entry holding an executable file of that name.
pub fn gather_binaries(root: &HostRoot) -> (BTreeMap<String, Option<String>>, Vec<String>) {
    let (_, dirs) = search_path();
    let found = BINARIES
        .iter()
        .map(|name| (name.to_string(), find_executable(root, &dirs, name)))
        .collect();
    (found, dirs)
}

/// `PATH` as given (systemd's default when unset) and its absolute directories, in order.
pub fn search_path() -> (String, Vec<String>) {
    let path = std::env::var("PATH")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| DEFAULT_PATH.to_string());
    let dirs = path
        .split(':')
        .filter(|d| d.starts_with('/'))
        .map(str::to_string)
        .collect();
    (path, dirs)
}

/// The host path of `name` in the first directory of `dirs` where it is an executable file.
pub fn find_executable(root: &HostRoot, dirs: &[String], name: &str) -> Option<String> {
    dirs.iter().find_map(|dir| {
        let host_path = format!("{}/{name}", dir.trim_end_matches('/'));
        let meta = root.metadata(&host_path).ok()?;
        (meta.is_file() && meta.permissions().mode() & 0o111 != 0).then_some(host_path)
    })
}
