//! Planners: one per change kind, each a pure function from the findings of the checks that failed
//! (or warned), the facts, the profile, the peers and the host's configuration files to the changes
//! that fix them. A change is only ever derived from a check that did not pass, and names the check
//! IDs it fixes. Planners read what a check found from its typed [`Finding`], never from its ID or
//! its JSON evidence; [`PLANNERS`] says which findings (and so which check IDs) each one owns.

mod address_consensus;
mod calico;
#[cfg(test)]
mod coverage;
mod docker;
mod env_file;
mod json_edit;
mod modules;
mod networkmanager;
mod nic;
mod node_ip;
mod swap;
mod sysctl;
mod unit_limits;
mod yaml_edit;

use super::plan::{Change, Held, Plan, Target};
use super::state::HostState;
use crate::checks::finding::Finding;
use crate::checks::{CheckResult, Status};
use crate::facts::Facts;
use crate::peers::Peer;
use crate::profile::Profile;

pub use address_consensus::reads_k3s_config;
pub use nic::link_file_path;

/// The cluster-wide Calico setting to show as a manual step, rendered by the `calico` command's code.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CalicoAdvice {
    /// `kubectl -n kube-system set env daemonset/calico-node ...` (manifest installs).
    pub kubectl: Option<String>,
    /// The operator `Installation` merge patch (YAML).
    pub operator_patch: Option<String>,
}

/// Everything a plan is a function of.
pub struct PlanInput<'a> {
    /// The checks as evaluated now (skip list applied).
    pub results: &'a [CheckResult],
    pub facts: &'a Facts,
    pub profile: &'a Profile,
    pub peers: &'a [Peer],
    pub host: &'a HostState,
    pub calico: Option<&'a CalicoAdvice>,
    /// `--force`: make changes that are otherwise held (a rename into the kernel's `ethN` names).
    pub force: bool,
}

impl PlanInput<'_> {
    /// The findings of the checks that failed or warned, with their results.
    pub fn findings(&self) -> impl Iterator<Item = (&CheckResult, &Finding)> + '_ {
        findings_to_fix(self.results)
    }
}

/// The findings of the checks that failed or warned, with their results.
pub fn findings_to_fix(results: &[CheckResult]) -> impl Iterator<Item = (&CheckResult, &Finding)> {
    results.iter().filter_map(|r| match (&r.finding, r.status) {
        (Some(f), Status::Fail | Status::Warn) => Some((r, f)),
        _ => None,
    })
}

/// A planner: the findings it owns, the check IDs they come from (as docs/fix.md lists them), and
/// the function that turns them into changes.
pub struct Planner {
    /// Its file in `src/fix/planners/`, without `.rs`.
    pub name: &'static str,
    /// The check IDs whose findings it owns (`*` for a subject), as docs/fix.md lists them.
    pub ids: &'static [&'static str],
    /// Whether a finding is this planner's to fix.
    pub owns: fn(&Finding) -> bool,
    pub plan: fn(&PlanInput, &mut Plan),
}

/// Every planner, in the order the plan is built. Order matters for `--apply`: modules before the
/// sysctls they provide.
pub const PLANNERS: &[Planner] = &[
    Planner {
        name: "nic",
        ids: &["NodeNic-Present"],
        owns: |f| matches!(f, Finding::NicName { .. }),
        plan: nic::plan,
    },
    Planner {
        name: "node_ip",
        ids: &["Kubelet-NodeIP"],
        owns: |f| matches!(f, Finding::NodeIp { .. }),
        plan: node_ip::plan,
    },
    Planner {
        name: "address_consensus",
        ids: &["Address-Consensus", "K3s-NodeIP", "Flannel-Interface"],
        owns: |f| matches!(f, Finding::AddressStack),
        plan: address_consensus::plan,
    },
    Planner {
        name: "modules",
        ids: &["Module-*"],
        owns: |f| matches!(f, Finding::Module { .. }),
        plan: modules::plan,
    },
    Planner {
        name: "sysctl",
        ids: &[
            "Sysctl-*",
            "Inotify-Instances",
            "Inotify-Watches",
            "RpFilter-Node",
            "Arp-Node",
            "OpenFiles-System",
        ],
        owns: sysctl::owns,
        plan: sysctl::plan,
    },
    Planner {
        name: "unit_limits",
        ids: &["OpenFiles-kubelet", "OpenFiles-containerd"],
        owns: |f| matches!(f, Finding::UnitOpenFiles { .. }),
        plan: unit_limits::plan,
    },
    Planner {
        name: "swap",
        ids: &["Swap"],
        owns: |f| matches!(f, Finding::Swap { .. }),
        plan: swap::plan,
    },
    Planner {
        name: "docker",
        ids: &["BridgeOverlap-*"],
        owns: |f| matches!(f, Finding::DockerBridge { .. }),
        plan: docker::plan,
    },
    Planner {
        name: "networkmanager",
        ids: &["NetworkManager-Calico"],
        owns: |f| matches!(f, Finding::NetworkManagerCalico { .. }),
        plan: networkmanager::plan,
    },
    Planner {
        name: "calico",
        ids: &["Calico-AutodetectionIPv*"],
        owns: |f| matches!(f, Finding::CalicoMethod { .. }),
        plan: calico::plan,
    },
];

/// Builds the whole plan.
pub fn plan(input: &PlanInput) -> Plan {
    let mut plan = Plan::default();
    for planner in PLANNERS {
        (planner.plan)(input, &mut plan);
    }
    hold_control_bytes(&mut plan);
    plan
}

/// The files whose path depends on the host that the planners may edit (the NIC's `.link` file, the
/// kubelet environment file, the units' drop-ins), so the state reader reads them.
pub fn host_specific_files(
    results: &[CheckResult],
    facts: &Facts,
    profile: &Profile,
) -> Vec<std::path::PathBuf> {
    profile
        .node_network
        .nic
        .as_ref()
        .and_then(|n| n.name.as_deref())
        .map(link_file_path)
        .into_iter()
        .chain(node_ip::pin_file(results, facts, profile))
        .chain(unit_limits::drop_in_files(results))
        .collect()
}

/// No control byte (other than newline and tab) ever enters a generated file: a change whose new
/// content has one is held instead, naming the byte.
fn hold_control_bytes(plan: &mut Plan) {
    let (clean, dirty): (Vec<Change>, Vec<Change>) = std::mem::take(&mut plan.changes)
        .into_iter()
        .partition(|c| match &c.target {
            Target::File { after, .. } => control_byte(after).is_none(),
            _ => true,
        });
    plan.changes = clean;
    for c in dirty {
        let byte = match &c.target {
            Target::File { after, .. } => control_byte(after).unwrap_or(0),
            _ => 0,
        };
        plan.held.push(Held {
            fixes: c.fixes.clone(),
            kind: c.kind,
            reason: format!(
                "the new content of {} would contain the control byte 0x{byte:02x}: not written",
                c.target.subject()
            ),
            change: None,
        });
    }
}

fn control_byte(text: &str) -> Option<u8> {
    text.bytes()
        .find(|&b| (b < 0x20 && b != b'\n' && b != b'\t') || b == 0x7f)
}

/// A header for files nodecheck creates, so whoever opens one later knows where it came from.
fn created_by(ids: &[String]) -> String {
    format!(
        "# Written by `nodecheck fix` for {}; `nodecheck fix --rollback` restores the previous state.\n",
        ids.join(", ")
    )
}
