//! The kubelet and containerd services as installed: the unit systemd would load (read by
//! `crate::gather::systemd`), the `wants`/`requires` links that enable it, whether it is active, and
//! kubelet's version (what kubeadm's `KubeletVersion` check asks `kubelet --version`).

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::facts::node_setup::ServiceState;
use crate::facts::systemd::ServiceUnit;
use crate::host_root::HostRoot;

/// Directories whose `*.wants/` and `*.requires/` subdirectories enable units, highest precedence first.
const ENABLEMENT_DIRS: &[&str] = &[
    "/etc/systemd/system",
    "/run/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
];

/// How long `kubelet --version` may take.
const VERSION_TIMEOUT: Duration = Duration::from_secs(2);

/// Whether to find out the service's version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Versioned {
    Kubelet,
    No,
}

pub fn gather_service(root: &HostRoot, unit_name: &str, versioned: Versioned) -> ServiceState {
    let unit = super::super::systemd::read_service(root, unit_name);
    let enabled_by = if unit.is_some() {
        enablement_links(root, unit_name)
    } else {
        Vec::new()
    };
    let active = super::unit_active(root, unit_name);
    let (version, version_source) = match versioned {
        Versioned::Kubelet => kubelet_version(root, unit.as_ref()),
        Versioned::No => (None, None),
    };
    ServiceState {
        unit,
        enabled_by,
        active,
        version,
        version_source,
    }
}

/// `<dir>/<target>.wants/<unit>` and `.requires/` links (host paths), in precedence order.
pub fn enablement_links(root: &HostRoot, unit_name: &str) -> Vec<String> {
    let mut links = Vec::new();
    for dir in ENABLEMENT_DIRS {
        let Ok(entries) = root.read_dir_names(dir) else {
            continue;
        };
        for entry in entries {
            let entry = entry.to_string_lossy();
            if !(entry.ends_with(".wants") || entry.ends_with(".requires")) {
                continue;
            }
            let link = format!("{dir}/{entry}/{unit_name}");
            if root.symlink_metadata(&link).is_ok() {
                links.push(link);
            }
        }
    }
    links
}

/// kubelet's version: `kubelet --version` of the binary the unit starts (else the one on `PATH`),
/// bounded in time; the dpkg database when the binary does not answer.
fn kubelet_version(
    root: &HostRoot,
    unit: Option<&ServiceUnit>,
) -> (Option<String>, Option<String>) {
    let from_unit = unit
        .and_then(|u| u.exec_start.as_ref())
        .and_then(|e| e.argv.first())
        .map(|a| a.value.clone())
        .filter(|p| p.starts_with('/'));
    let binary = from_unit.or_else(|| {
        let (_, dirs) = super::binaries::search_path();
        super::binaries::find_executable(root, &dirs, "kubelet")
    });
    if let Some(binary) = binary {
        if let Some(version) = root.path(&binary).ok().and_then(|p| run_version(&p)) {
            return (Some(version), Some(format!("{binary} --version")));
        }
    }
    match root.read_to_string("/var/lib/dpkg/status") {
        Ok(status) => match dpkg_version(&status, "kubelet") {
            Some(v) => (
                Some(v),
                Some(root.show("/var/lib/dpkg/status") + " (package kubelet)"),
            ),
            None => (None, None),
        },
        Err(_) => (None, None),
    }
}

/// Runs `BINARY --version` and returns the `vX.Y.Z` it prints (`Kubernetes v1.30.2`).
fn run_version(binary: &std::path::Path) -> Option<String> {
    let mut child = Command::new(binary)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let deadline = Instant::now() + VERSION_TIMEOUT;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
    let mut out = String::new();
    child
        .stdout
        .take()?
        .take(4096)
        .read_to_string(&mut out)
        .ok()?;
    parse_version_output(&out)
}

/// The version word of `kubelet --version` output: `Kubernetes v1.30.2` → `v1.30.2`.
pub fn parse_version_output(out: &str) -> Option<String> {
    out.split_whitespace()
        .find(|w| w.starts_with('v') && w[1..].starts_with(|c: char| c.is_ascii_digit()))
        .map(str::to_string)
}

/// The installed version of `package` in a dpkg status file, as `v1.30.2` (the Debian revision
/// `-1.1` dropped); only packages whose status is `install ok installed`.
pub fn dpkg_version(status: &str, package: &str) -> Option<String> {
    status.split("\n\n").find_map(|stanza| {
        let mut name = None;
        let mut state = None;
        let mut version = None;
        for line in stanza.lines() {
            if let Some(v) = line.strip_prefix("Package: ") {
                name = Some(v.trim());
            } else if let Some(v) = line.strip_prefix("Status: ") {
                state = Some(v.trim());
            } else if let Some(v) = line.strip_prefix("Version: ") {
                version = Some(v.trim());
            }
        }
        if name != Some(package) || state != Some("install ok installed") {
            return None;
        }
        let upstream = version?.split(':').next_back()?.split('-').next()?;
        Some(format!("v{upstream}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_from_output_and_dpkg() {
        assert_eq!(
            parse_version_output("Kubernetes v1.30.2\n").as_deref(),
            Some("v1.30.2")
        );
        assert_eq!(parse_version_output("garbage"), None);
        let status = "Package: kubeadm\nStatus: install ok installed\nVersion: 1.29.0-1.1\n\n\
Package: kubelet\nStatus: deinstall ok config-files\nVersion: 1.28.0-1.1\n\n\
Package: kubelet\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.30.2-1.1\n";
        assert_eq!(dpkg_version(status, "kubelet").as_deref(), Some("v1.30.2"));
        assert_eq!(dpkg_version(status, "containerd"), None);
    }
}
