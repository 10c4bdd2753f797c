//! kubelet's node address (`Kubelet-NodeIP`): pin `--node-ip` to the node-network address(es) in the
//! file kubeadm's kubelet drop-in reads `KUBELET_EXTRA_ARGS` from on this host (`/etc/default/kubelet`
//! on Debian and Ubuntu, `/etc/sysconfig/kubelet` on RHEL and kin, or the `EnvironmentFile=` the unit
//! really declares), keeping the other flags; never `kubeadm-flags.env`, which kubeadm rewrites. The
//! file and the line come from the kubelet model (`crate::kubelet::pin`), the same the check's
//! remediation names. kubelet reads it when it starts: the restart is run only with
//! `--restart-services`.

use std::path::PathBuf;

use super::PlanInput;
use crate::checks::kubelet::node_network_addresses;
use crate::checks::node_network;
use crate::fix::plan::{Change, ChangeKind, Held, Plan, SideEffect, TakesEffect, Target};
use crate::fix::state::FileState;
use crate::kubelet::pin::{node_ip_pin, EXTRA_ARGS_VAR};

const ID: &str = "Kubelet-NodeIP";

/// The file the pin goes to when the check did not pass, so the state reader reads it.
pub fn pin_file(
    results: &[crate::checks::CheckResult],
    facts: &crate::facts::Facts,
    profile: &crate::profile::Profile,
) -> Option<PathBuf> {
    let failing = results.iter().any(|r| {
        r.id == ID
            && matches!(
                r.status,
                crate::checks::Status::Fail | crate::checks::Status::Warn
            )
    });
    if !failing {
        return None;
    }
    let net = node_network::resolve(facts, profile);
    let addresses = node_network_addresses(&net);
    (!addresses.is_empty()).then(|| PathBuf::from(node_ip_pin(facts, &addresses).file))
}

pub fn plan(input: &PlanInput, plan: &mut Plan) {
    let Some(r) = input.not_ok(ID) else {
        return;
    };
    let fixes = vec![r.id.clone()];
    let net = node_network::resolve(input.facts, input.profile);
    let addresses = node_network_addresses(&net);
    if addresses.is_empty() {
        plan.held.push(Held {
            fixes,
            kind: ChangeKind::NodeIp,
            reason: "the node NIC has no address in the node network to pin kubelet's --node-ip to"
                .to_string(),
            change: None,
        });
        return;
    }
    let pin = node_ip_pin(input.facts, &addresses);
    let before = match input.host.file(&pin.file) {
        FileState::Unusable(why) => {
            plan.held.push(Held {
                fixes,
                kind: ChangeKind::NodeIp,
                reason: format!("cannot edit {}: {why}", pin.file),
                change: None,
            });
            return;
        }
        state => state.text().map(str::to_string),
    };
    let after = set_variable_line(before.as_deref(), &pin.line);
    if before.as_deref() == Some(after.as_str()) {
        return;
    }
    let shown: Vec<String> = addresses.iter().map(|a| a.to_string()).collect();
    plan.changes.push(Change {
        fixes,
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
    });
}

/// The environment file with `KUBELET_EXTRA_ARGS=` set by `line`: the first line setting it replaced,
/// any later one commented out (it would win), everything else kept.
pub fn set_variable_line(before: Option<&str>, line: &str) -> String {
    let sets = |l: &str| {
        let t = l.trim_start();
        let t = t.strip_prefix("export ").unwrap_or(t).trim_start();
        t.strip_prefix(EXTRA_ARGS_VAR)
            .is_some_and(|rest| rest.trim_start().starts_with('='))
    };
    let mut out = String::new();
    let mut done = false;
    for l in before.unwrap_or("").split_inclusive('\n') {
        if sets(l) {
            if done {
                out.push_str("# ");
                out.push_str(l);
            } else {
                out.push_str(line);
                out.push('\n');
                done = true;
            }
        } else {
            out.push_str(l);
        }
    }
    if !done {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_setting_line_and_keeps_the_rest() {
        let line = "KUBELET_EXTRA_ARGS=\"--max-pods=200 --node-ip=10.20.41.41\"";
        assert_eq!(set_variable_line(None, line), format!("{line}\n"));
        let before = "# kubelet\nKUBELET_EXTRA_ARGS=--max-pods=200\nexport KUBELET_EXTRA_ARGS=\"--x\"\nOTHER=1";
        let after = set_variable_line(Some(before), line);
        assert_eq!(
            after,
            format!("# kubelet\n{line}\n# export KUBELET_EXTRA_ARGS=\"--x\"\nOTHER=1")
        );
        assert_eq!(set_variable_line(Some(&after), line), after);
    }
}
