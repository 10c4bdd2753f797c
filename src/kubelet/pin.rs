//! Where and how to pin kubelet's `--node-ip`: the environment file kubeadm's drop-in reads for
//! `KUBELET_EXTRA_ARGS` on this host (`/etc/default/kubelet` on Debian and Ubuntu, `/etc/sysconfig/kubelet`
//! on RHEL, Fedora, SUSE and their kin), and the whole line to write there, keeping the other flags
//! already in it. `kubeadm-flags.env` is never chosen: kubeadm rewrites it at every join and upgrade.

use std::net::IpAddr;

use crate::facts::Facts;

/// The variable kubeadm's drop-in leaves to the operator.
pub const EXTRA_ARGS_VAR: &str = "KUBELET_EXTRA_ARGS";
const KUBEADM_FLAGS_FILE: &str = "/var/lib/kubelet/kubeadm-flags.env";

/// A `--node-ip` pin: the file, and the complete `KUBELET_EXTRA_ARGS=…` line to put in it
/// (replacing any line that sets the variable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeIpPin {
    pub file: String,
    pub line: String,
    /// Why this file ("read by EnvironmentFile= at …", "the Debian family's default").
    pub why: String,
}

/// The distribution family's file for `KUBELET_EXTRA_ARGS` by os-release ID.
pub fn distro_extra_args_file(os_id: Option<&str>) -> &'static str {
    match os_id.unwrap_or("") {
        "debian" | "ubuntu" | "linuxmint" | "raspbian" | "pop" => "/etc/default/kubelet",
        _ => "/etc/sysconfig/kubelet",
    }
}

/// The pin for `addresses` (one, or a dual-stack pair) on this host.
pub fn node_ip_pin(facts: &Facts, addresses: &[IpAddr]) -> NodeIpPin {
    let unit = facts.kubelet.as_ref().and_then(|k| k.unit.as_ref());
    let current = unit.and_then(|u| u.env(EXTRA_ARGS_VAR));
    let from_current = current.and_then(|var| {
        let file = var.source.rsplit_once(':').map(|(f, _)| f.to_string())?;
        unit?
            .environment_files
            .iter()
            .any(|e| e.path == file)
            .then(|| {
                (
                    file,
                    format!("{EXTRA_ARGS_VAR} is set there now ({})", var.source),
                )
            })
    });
    let declared = || {
        unit?
            .environment_files
            .iter()
            .find(|e| e.path != KUBEADM_FLAGS_FILE)
            .map(|e| {
                (
                    e.path.clone(),
                    format!(
                        "kubelet.service reads it (EnvironmentFile= at {})",
                        e.declared_at
                    ),
                )
            })
    };
    let (file, why) = from_current.or_else(declared).unwrap_or_else(|| {
        let id = facts.host.os.id.as_deref();
        (
            distro_extra_args_file(id).to_string(),
            format!(
                "the file kubeadm's packages read on {} hosts",
                id.unwrap_or("this distribution's")
            ),
        )
    });
    let kept: Vec<String> = current
        .map(|v| {
            without_node_ip(crate::facts::systemd::split_command_line(&v.value).unwrap_or_default())
        })
        .unwrap_or_default();
    let mut words = kept;
    let joined: Vec<String> = addresses.iter().map(|a| a.to_string()).collect();
    words.push(format!("--node-ip={}", joined.join(",")));
    NodeIpPin {
        file,
        line: format!(
            "{EXTRA_ARGS_VAR}=\"{}\"",
            words.join(" ").replace('"', "\\\"")
        ),
        why,
    }
}

/// The words without any `--node-ip=X` or `--node-ip X` (`_` read as `-`, as kubelet does).
pub fn without_node_ip(words: Vec<String>) -> Vec<String> {
    let mut kept = Vec::new();
    let mut words = words.into_iter();
    while let Some(word) = words.next() {
        let normalised = word.replace('_', "-");
        if normalised == "--node-ip" {
            words.next();
        } else if !normalised.starts_with("--node-ip=") {
            kept.push(word);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pin_keeps_other_flags_and_replaces_every_node_ip() {
        let words = [
            "--max-pods=200",
            "--node-ip",
            "1.1.1.1",
            "--node_ip=2.2.2.2",
            "--v=2",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(without_node_ip(words), ["--max-pods=200", "--v=2"]);
        assert_eq!(
            distro_extra_args_file(Some("ubuntu")),
            "/etc/default/kubelet"
        );
        assert_eq!(
            distro_extra_args_file(Some("rocky")),
            "/etc/sysconfig/kubelet"
        );
    }
}
