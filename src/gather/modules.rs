//! Kernel modules Kubernetes networking needs (br_netfilter, overlay, vxlan, ipip, ip_vs*, nf_conntrack,
//! wireguard, ...): loaded, built in, available on disk, missing, or unknown.
//!
//! Sources, in order of authority: `/proc/modules` (loaded), `/sys/module/<m>` (a directory with an
//! `initstate` file is a loaded module, one without is built in), `modules.builtin` and `modules.dep`
//! under `/lib/modules/<release>` (built in / installed). Containers and minimal hosts often have no
//! `/lib/modules`: then a module that is not visibly loaded or built in is `unknown`, never guessed
//! `missing`, and `sources` says why. A built-in module without parameters has no `/sys/module` entry,
//! so the kernel interfaces some modules create are evidence too (`/proc/sys/net/bridge` exists only
//! with br_netfilter, `overlay` is listed in `/proc/filesystems`).

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use crate::facts::{ModuleState, Modules};
use crate::host_root::HostRoot;

/// The modules recorded in every snapshot.
pub const MODULES: &[&str] = &[
    "br_netfilter",
    "bridge",
    "overlay",
    "vxlan",
    "ipip",
    "ip_vs",
    "ip_vs_rr",
    "ip_vs_wrr",
    "ip_vs_sh",
    "nf_conntrack",
    "nf_tables",
    "ip_tables",
    "ip_set",
    "xt_set",
    "wireguard",
    "veth",
];

/// What the module sources said, before classification.
#[derive(Debug, Default)]
pub struct ModuleEvidence {
    /// From `/proc/modules`; `None` when it could not be read.
    pub loaded: Option<HashSet<String>>,
    /// Modules with a `/sys/module/<m>` directory, and whether it has `initstate` (loadable).
    pub sys_module: BTreeMap<String, bool>,
    /// From `modules.builtin`; `None` when absent.
    pub builtin: Option<HashSet<String>>,
    /// From `modules.dep`; `None` when absent.
    pub available: Option<HashSet<String>>,
    /// Modules whose kernel interface is visible (see [`FEATURE_PROBES`]).
    pub features: HashSet<String>,
}

/// A path that exists only when the module is in the kernel (loaded or built in).
const FEATURE_PROBES: &[(&str, &str)] = &[
    ("br_netfilter", "/proc/sys/net/bridge"),
    ("nf_conntrack", "/proc/sys/net/netfilter/nf_conntrack_max"),
    ("ip_vs", "/proc/sys/net/ipv4/vs"),
    ("ip_tables", "/proc/net/ip_tables_names"),
];

/// Gathers evidence for [`MODULES`] and the `extra` modules (what the profile asks for), and
/// classifies it. An extra name that is not `[A-Za-z0-9_-]` is not looked up.
pub fn gather_modules(root: &HostRoot, kernel_release: &str, extra: &[String]) -> Modules {
    let mut names: Vec<&str> = MODULES.to_vec();
    for name in extra {
        let valid = !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if valid && !names.contains(&name.as_str()) {
            names.push(name);
        }
    }
    let mut sources = Vec::new();
    let mut evidence = ModuleEvidence::default();
    match root.read_to_string("/proc/modules") {
        Ok(text) => {
            evidence.loaded = Some(parse_proc_modules(&text));
            sources.push(root.show("/proc/modules"));
        }
        Err(e) => sources.push(format!(
            "{}: {e} (a kernel without loadable-module support has everything built in)",
            root.show("/proc/modules")
        )),
    }
    let sys_module = root.path("/sys/module");
    for name in &names {
        let Ok(sys_module) = &sys_module else { break };
        let dir = sys_module.join(name);
        if dir.is_dir() {
            evidence
                .sys_module
                .insert(name.to_string(), dir.join("initstate").exists());
        }
    }
    sources.push(root.show("/sys/module"));
    for (name, path) in FEATURE_PROBES {
        if root.exists(path) {
            evidence.features.insert(name.to_string());
        }
    }
    if root.read_to_string("/proc/filesystems").is_ok_and(|fs| {
        fs.lines()
            .any(|l| l.split_whitespace().last() == Some("overlay"))
    }) {
        evidence.features.insert("overlay".to_string());
    }
    sources
        .push("/proc/sys, /proc/net and /proc/filesystems entries the modules create".to_string());
    let lib = Path::new("/lib/modules").join(kernel_release);
    for (file, slot) in [
        ("modules.builtin", &mut evidence.builtin),
        ("modules.dep", &mut evidence.available),
    ] {
        let path = lib.join(file);
        match root.read_to_string(&path) {
            Ok(text) => {
                *slot = Some(parse_module_list(&text));
                sources.push(root.show(&path));
            }
            Err(e) => sources.push(format!(
                "{}: {e} (modules not loaded cannot be told apart from missing ones)",
                root.show(&path)
            )),
        }
    }
    let state = names
        .iter()
        .map(|name| (name.to_string(), classify_module(name, &evidence)))
        .collect();
    Modules { sources, state }
}

/// Module names from `/proc/modules` (`name size refs deps state address`).
pub fn parse_proc_modules(text: &str) -> HashSet<String> {
    text.lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// Module names from `modules.builtin` or `modules.dep` lines
/// (`kernel/net/bridge/br_netfilter.ko.zst: kernel/net/bridge/bridge.ko.zst`): the file name without
/// `.ko` and compression suffix, with `-` as `_` as the kernel names modules.
pub fn parse_module_list(text: &str) -> HashSet<String> {
    text.lines()
        .filter_map(|line| line.split(':').next())
        .filter_map(|path| path.trim().rsplit('/').next())
        .filter_map(|file| file.split(".ko").next())
        .filter(|name| !name.is_empty())
        .map(|name| name.replace('-', "_"))
        .collect()
}

/// Classifies one module from the evidence.
pub fn classify_module(name: &str, evidence: &ModuleEvidence) -> ModuleState {
    if evidence.loaded.as_ref().is_some_and(|l| l.contains(name)) {
        return ModuleState::Loaded;
    }
    match evidence.sys_module.get(name) {
        Some(true) => return ModuleState::Loaded,
        Some(false) => return ModuleState::Builtin,
        None => {}
    }
    if evidence.builtin.as_ref().is_some_and(|b| b.contains(name)) {
        return ModuleState::Builtin;
    }
    // In the kernel but not in /proc/modules (or no module support at all): built in.
    if evidence.features.contains(name) {
        return ModuleState::Builtin;
    }
    match &evidence.available {
        Some(available) if available.contains(name) => ModuleState::Available,
        // modules.dep lists every installed module; with it (and modules.builtin) absence is real.
        Some(_) if evidence.builtin.is_some() => ModuleState::Missing,
        _ => ModuleState::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: &[&str]) -> HashSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_proc_modules_and_module_lists() {
        let proc = "br_netfilter 36864 0 - Live 0x0000000000000000\nbridge 311296 1 br_netfilter, Live 0x0\n";
        assert_eq!(parse_proc_modules(proc), set(&["br_netfilter", "bridge"]));
        let dep = "kernel/net/ipv4/ipip.ko.zst: kernel/net/ipv4/ip_tunnel.ko.zst\n\
                   kernel/drivers/net/wireguard/wireguard.ko:\n\
                   kernel/net/netfilter/ipvs/ip_vs-rr.ko.xz: kernel/net/netfilter/ipvs/ip_vs.ko.xz\n";
        assert_eq!(
            parse_module_list(dep),
            set(&["ipip", "wireguard", "ip_vs_rr"])
        );
        assert_eq!(
            parse_module_list("kernel/fs/overlayfs/overlay.ko\n"),
            set(&["overlay"])
        );
    }

    #[test]
    fn classification_prefers_the_most_direct_evidence() {
        let mut evidence = ModuleEvidence {
            loaded: Some(set(&["br_netfilter"])),
            builtin: Some(set(&["bridge"])),
            available: Some(set(&["vxlan", "br_netfilter"])),
            ..Default::default()
        };
        evidence.sys_module.insert("overlay".into(), false);
        evidence.sys_module.insert("ip_vs".into(), true);
        assert_eq!(
            classify_module("br_netfilter", &evidence),
            ModuleState::Loaded
        );
        assert_eq!(classify_module("bridge", &evidence), ModuleState::Builtin);
        assert_eq!(classify_module("overlay", &evidence), ModuleState::Builtin);
        assert_eq!(classify_module("ip_vs", &evidence), ModuleState::Loaded);
        assert_eq!(classify_module("vxlan", &evidence), ModuleState::Available);
        assert_eq!(
            classify_module("wireguard", &evidence),
            ModuleState::Missing
        );
    }

    #[test]
    fn without_lib_modules_absence_is_unknown() {
        let mut evidence = ModuleEvidence::default();
        evidence.sys_module.insert("bridge".into(), false);
        assert_eq!(classify_module("bridge", &evidence), ModuleState::Builtin);
        assert_eq!(
            classify_module("br_netfilter", &evidence),
            ModuleState::Unknown
        );
    }
}
