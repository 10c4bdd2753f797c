//! Which iptables the host's `iptables` command runs (iptables 1.8 ships `iptables-nft` and
//! `iptables-legacy`; Debian and Ubuntu choose with `update-alternatives`, RHEL ships nft only):
//! the link `/etc/alternatives/iptables`, else `/usr/sbin/iptables` itself, followed link by link
//! under the host root until a name says `nft` or `legacy`; and the legacy x_tables' tables from
//! `/proc/net/ip_tables_names`.

use std::path::PathBuf;

use crate::facts::preflight::{IptablesBackend, IptablesMode};
use crate::host_root::HostRoot;

/// Where the command's choice is read, in order.
const LINKS: &[&str] = &[
    "/etc/alternatives/iptables",
    "/usr/sbin/iptables",
    "/sbin/iptables",
];

/// The legacy backend's tables.
pub const LEGACY_TABLES: &str = "/proc/net/ip_tables_names";

/// Links followed at most (alternatives chain two).
const MAX_HOPS: usize = 8;

fn mode_of(name: &str) -> Option<IptablesMode> {
    if name.contains("legacy") {
        Some(IptablesMode::Legacy)
    } else if name.contains("nft") {
        Some(IptablesMode::Nft)
    } else {
        None
    }
}

/// Follows `link` under the root until a name tells the mode.
fn follow(root: &HostRoot, link: &str) -> Option<(String, Option<IptablesMode>)> {
    let mut current = PathBuf::from(link);
    let mut last = None;
    for _ in 0..MAX_HOPS {
        let Ok(target) = root.read_link(&current) else {
            break;
        };
        let absolute = if target.is_absolute() {
            target.clone()
        } else {
            current.parent().unwrap_or(&current).join(&target)
        };
        let shown = absolute.display().to_string();
        if let Some(mode) = mode_of(&shown) {
            return Some((shown, Some(mode)));
        }
        last = Some(shown);
        current = absolute;
    }
    last.map(|t| (t, None))
}

pub fn gather_iptables(root: &HostRoot) -> IptablesBackend {
    let mut backend = IptablesBackend::default();
    for link in LINKS {
        if let Some((target, mode)) = follow(root, link) {
            backend.link = Some(link.to_string());
            backend.target = Some(target);
            backend.mode = mode;
            break;
        }
    }
    backend.legacy_tables = root.read_bounded(LEGACY_TABLES, 4096).ok().map(|text| {
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    });
    backend
}
