//! kubelet's node address (`Kubelet-NodeIP`): pin `--node-ip` to the node-network address(es) in the
//! file kubeadm's kubelet drop-in reads `KUBELET_EXTRA_ARGS` from on this host (`/etc/default/kubelet`
//! on Debian and Ubuntu, `/etc/sysconfig/kubelet` on RHEL and kin, or the `EnvironmentFile=` the unit
//! really declares), keeping the other flags; never `kubeadm-flags.env`, which kubeadm rewrites. The
//! file comes from the kubelet model (`crate::kubelet::pin`), the same the check's remediation names;
//! the flags come from the file itself, read and edited as systemd reads it ([`super::env_file`]). kubelet reads it when it starts: the restart is run only with
//! `--restart-services`.

use std::net::IpAddr;
use std::path::PathBuf;

use super::env_file;
use super::{findings_to_fix, PlanInput};
use crate::checks::finding::Finding;
use crate::checks::kubelet::node_network_addresses;
use crate::checks::node_network;
use crate::checks::CheckResult;
use crate::fix::plan::{Change, ChangeKind, Held, Plan, SideEffect, TakesEffect, Target};
use crate::fix::state::FileState;
use crate::kubelet::pin::{node_ip_pin, without_node_ip, EXTRA_ARGS_VAR};

/// The variable of kubeadm's `kubeadm-flags.env`.
const KUBEADM_ARGS_VAR: &str = "KUBELET_KUBEADM_ARGS";

/// The finding of `Kubelet-NodeIP` when it did not pass: its result and the addresses to pin.
fn finding_of(results: &[CheckResult]) -> Option<(&CheckResult, &[IpAddr])> {
    findings_to_fix(results).find_map(|(r, f)| match f {
        Finding::NodeIp { addresses } => Some((r, addresses.as_slice())),
        _ => None,
    })
}

/// The file the pin goes to when `Kubelet-NodeIP` or a check of the address stack did not pass
/// (`super::address_consensus` pins kubelet too), so the state reader reads it.
pub fn pin_file(
    results: &[CheckResult],
    facts: &crate::facts::Facts,
    profile: &crate::profile::Profile,
) -> Option<PathBuf> {
    let addresses = match finding_of(results) {
        Some((_, addresses)) => addresses.to_vec(),
        None if findings_to_fix(results).any(|(_, f)| matches!(f, Finding::AddressStack)) => {
            node_network_addresses(&node_network::resolve(facts, profile))
        }
        None => return None,
    };
    (!addresses.is_empty()).then(|| PathBuf::from(node_ip_pin(facts, &addresses).file))
}

pub fn plan(input: &PlanInput, plan: &mut Plan) {
    let Some((r, addresses)) = finding_of(input.results) else {
        return;
    };
    let fixes = vec![r.id.clone()];
    match pin_change(input, &fixes, addresses) {
        Ok(Some(change)) => plan.changes.push(change),
        Ok(None) => {}
        Err(reason) => plan.held.push(Held {
            fixes,
            kind: ChangeKind::NodeIp,
            reason,
            change: None,
        }),
    }
}

/// The change pinning kubelet's `--node-ip` to `addresses` (the node-network addresses), for
/// `fixes`; `None` when the file already says so; the reason when it cannot be made.
pub fn pin_change(
    input: &PlanInput,
    fixes: &[String],
    addresses: &[IpAddr],
) -> Result<Option<Change>, String> {
    if addresses.is_empty() {
        return Err(
            "the node NIC has no address in the node network to pin kubelet's --node-ip to"
                .to_string(),
        );
    }
    let pin = node_ip_pin(input.facts, addresses);
    let before = match input.host.file(&pin.file) {
        FileState::Unusable(why) => return Err(format!("cannot edit {}: {why}", pin.file)),
        state => state.text().map(str::to_string),
    };
    if !crate::fix::confine::is_target_file(std::path::Path::new(&pin.file)) {
        return Err(format!(
            "kubelet reads its flags from {}, outside the directories nodecheck fix edits: add --node-ip there by hand",
            pin.file
        ));
    }
    let shown: Vec<String> = addresses.iter().map(|a| a.to_string()).collect();
    let var = variable_of(&pin.file);
    let mut words = match env_file::current_words(before.as_deref().unwrap_or(""), var) {
        Ok(words) => without_node_ip(words),
        Err(why) => return Err(format!("cannot read {var} in {}: {why}", pin.file)),
    };
    words.push(format!("--node-ip={}", shown.join(",")));
    let after = env_file::set_words(before.as_deref(), var, &words);
    if before.as_deref() == Some(after.as_str()) {
        return Ok(None);
    }
    Ok(Some(Change {
        fixes: fixes.to_vec(),
        kind: ChangeKind::NodeIp,
        summary: format!(
            "pin kubelet's --node-ip={} in {}",
            shown.join(","),
            pin.file
        ),
        target: Target::File {
            path: PathBuf::from(&pin.file),
            before,
            after,
            new_mode: 0o644,
        },
        takes_effect: TakesEffect::ServiceRestart("kubelet".to_string()),
        side_effects: vec![SideEffect::RestartService {
            unit: "kubelet".to_string(),
        }],
        notes: vec![format!("{}: {}", pin.file, pin.why)],
    }))
}

/// The variable the file carries kubelet's flags in: kubeadm's own file has `KUBELET_KUBEADM_ARGS`,
/// the operator's files `KUBELET_EXTRA_ARGS`.
fn variable_of(file: &str) -> &'static str {
    if file.ends_with("/kubeadm-flags.env") {
        KUBEADM_ARGS_VAR
    } else {
        EXTRA_ARGS_VAR
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The file's words after pinning, as kubelet's unit would read them.
    fn pinned(file: &str, before: &str) -> (String, Vec<String>) {
        let var = variable_of(file);
        let mut words = without_node_ip(env_file::current_words(before, var).unwrap());
        words.push("--node-ip=10.20.41.41".to_string());
        let after = env_file::set_words(Some(before), var, &words);
        let read_back = env_file::current_words(&after, var).unwrap();
        (after, read_back)
    }

    #[test]
    fn the_pin_keeps_every_other_flag_of_realistic_files() {
        let debian = "# Managed by the node image
KUBELET_EXTRA_ARGS=\"--max-pods=200 --cgroup-driver=systemd\"\n";
        let (after, words) = pinned("/etc/default/kubelet", debian);
        assert_eq!(
            after,
            "# Managed by the node image\nKUBELET_EXTRA_ARGS=\"--max-pods=200 --cgroup-driver=systemd --node-ip=10.20.41.41\"\n"
        );
        assert_eq!(words.len(), 3);
        let rhel = "KUBELET_EXTRA_ARGS=--node-ip=10.99.0.78\nKUBELET_EXTRA_ARGS=\"--max-pods=110 \\\n    --node-labels='role=db tier'\"\n# end\n";
        let (after, words) = pinned("/etc/sysconfig/kubelet", rhel);
        assert_eq!(
            words,
            [
                "--max-pods=110",
                "--node-labels=role=db tier",
                "--node-ip=10.20.41.41"
            ]
        );
        assert!(
            after.starts_with("KUBELET_EXTRA_ARGS=--node-ip=10.99.0.78\n"),
            "{after}"
        );
        assert!(after.ends_with("\n# end\n"), "{after}");
        assert_eq!(
            after.lines().count(),
            3,
            "no stray continuation line: {after}"
        );
        let kubeadm = "KUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///run/containerd/containerd.sock --pod-infra-container-image=registry.k8s.io/pause:3.9\"\n";
        let (after, words) = pinned("/var/lib/kubelet/kubeadm-flags.env", kubeadm);
        assert_eq!(words.len(), 3, "{after}");
        assert!(after.starts_with("KUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint="));
        // Pinning again changes nothing.
        assert_eq!(
            pinned("/var/lib/kubelet/kubeadm-flags.env", &after).0,
            after
        );
    }
}
