//! Planners: one per change kind, each a pure function from the failing (or warning) checks, the facts,
//! the profile, the peers and the host's configuration files to the changes that fix them. A change is
//! only ever derived from a check that did not pass, and names the check IDs it fixes.

mod address_consensus;
mod calico;
mod docker;
mod env_file;
mod json_edit;
mod modules;
mod networkmanager;
mod nic;
mod node_ip;
mod swap;
mod sysctl;
mod yaml_edit;

use super::plan::{Change, Held, Plan, Target};
use super::state::HostState;
use crate::checks::{CheckResult, Status};
use crate::facts::Facts;
use crate::peers::Peer;
use crate::profile::Profile;

pub use address_consensus::reads_k3s_config;
pub use nic::link_file_path;
pub use node_ip::pin_file as node_ip_pin_file;

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
    /// The result with this ID when it failed or warned.
    pub fn not_ok(&self, id: &str) -> Option<&CheckResult> {
        self.results
            .iter()
            .find(|r| r.id == id && matches!(r.status, Status::Fail | Status::Warn))
    }
    /// Failed or warning results whose ID starts with `prefix`.
    pub fn not_ok_with_prefix<'s>(
        &'s self,
        prefix: &'s str,
    ) -> impl Iterator<Item = &'s CheckResult> + 's {
        self.results.iter().filter(move |r| {
            r.id.starts_with(prefix) && matches!(r.status, Status::Fail | Status::Warn)
        })
    }
}

/// Builds the whole plan. Order matters for `--apply`: modules before the sysctls they provide.
pub fn plan(input: &PlanInput) -> Plan {
    let mut plan = Plan::default();
    nic::plan(input, &mut plan);
    node_ip::plan(input, &mut plan);
    address_consensus::plan(input, &mut plan);
    modules::plan(input, &mut plan);
    sysctl::plan(input, &mut plan);
    swap::plan(input, &mut plan);
    docker::plan(input, &mut plan);
    networkmanager::plan(input, &mut plan);
    calico::plan(input, &mut plan);
    hold_control_bytes(&mut plan);
    plan
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

/// Evidence field as a string.
fn evidence_str<'a>(r: &'a CheckResult, key: &str) -> Option<&'a str> {
    r.evidence.get(key).and_then(|v| v.as_str())
}
