//! Checks: pure judgements over gathered facts, the profile, peers and a baseline.
//!
//! A check never does I/O. It reads a [`Context`] and returns [`CheckResult`]s, each with a stable ID
//! (a public API: people put IDs in skip lists and alerts, so an ID is never renamed), a status, a
//! one-line message carrying the evidence, structured evidence, and a remediation line.
//! The skip list is applied after evaluation, so a skipped check is still listed, as skipped.
//!
//! # How to add a check
//!
//! 1. Put it in the area's file here (`node_nic.rs`, `parity/fleet.rs`, …), or in a new file with its
//!    own `pub fn evaluate(ctx: &Context) -> Vec<CheckResult>` that [`evaluate`] calls, in report
//!    order. Read the host only through `ctx` (facts, profile, peers, baseline, live probes); ask
//!    `network` for the node subnets, NIC and routes, never re-derive them.
//! 2. Name it `Kind-Subject` (`NodeNic-Mtu`, `Port-{port}`) and write the ID as a string literal in
//!    the check's code (a `format!` with `{…}` for a variable subject), or as `const ID: &str`.
//!    IDs are a public API: never rename or remove one.
//! 3. Build the result in one expression: [`CheckResult::ok`] / `warn` / `fail` / `skip` (or
//!    [`CheckResult::new`] with a computed status), then `.with(key, value)` for evidence and
//!    `.fix(…)` for the remediation. Several parts of one check: [`CheckResult::combine`]. Compare
//!    statuses by [`Status::severity`], never by their order in the enum.
//! 4. Document the ID in docs/checks.md ("Every check ID", and its area's table); the `id_contract`
//!    test fails until the code and that list agree.
//! 5. If `nodecheck fix` can remedy it, attach what it found as a typed [`finding::Finding`] with
//!    [`CheckResult::found`] (which writes the evidence keys carrying those values) and add or extend
//!    a planner (docs/fix.md, "Planners and the checks they own").
//! 6. Unit-test it next to the code, with the facts builder `facts::testkit` or a JSON fixture, and
//!    assert with the helpers of `checks::testing`.

pub mod addresses;
pub mod bridges;
pub mod calico;
pub mod calico_health;
pub mod cluster_dns;
pub mod cri;
pub mod data_plane;
pub mod disk_space;
pub mod drift;
pub mod finding;
pub mod forward_policy;
pub mod host;
#[cfg(test)]
pub(crate) mod id_contract;
pub mod inotify;
pub mod iptables_backend;
pub mod ipv6;
pub mod join;
pub mod kernel;
pub mod kernel_config;
pub mod kubelet;
pub mod localhost;
pub mod modules;
pub mod node_network;
pub mod node_nic;
pub mod open_files;
pub mod parity;
pub mod ports;
pub mod reverse_path;
pub mod routes;
pub mod runtime;
pub mod sandbox_image;
pub mod skip;
pub mod swap;
pub mod sysctl;
#[cfg(test)]
pub(crate) mod testing;

use serde::{Deserialize, Serialize};

use crate::facts::Facts;
use crate::peers::Peer;
use crate::profile::Profile;

/// Outcome of one check. Statuses have no order of their own: compare them by [`Status::severity`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
    Skip,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Skip => "skip",
        }
    }

    /// How bad a status is: skip < ok < warn < fail. A check that could not be judged says nothing
    /// about the host, so it never outranks a judged one.
    pub fn severity(self) -> u8 {
        match self {
            Status::Skip => 0,
            Status::Ok => 1,
            Status::Warn => 2,
            Status::Fail => 3,
        }
    }

    /// The most severe of several statuses; `None` when there are none.
    pub fn worst(statuses: impl IntoIterator<Item = Status>) -> Option<Status> {
        statuses.into_iter().max_by_key(|s| s.severity())
    }
}

/// When the check runs: before `kubeadm join`, right after it, or on every boot.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    PreJoin,
    PostJoin,
    PostBoot,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::PreJoin => "pre-join",
            Phase::PostJoin => "post-join",
            Phase::PostBoot => "post-boot",
        }
    }
}

/// The area a check belongs to; reports group by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Area {
    Host,
    NodeNic,
    Bridges,
    Kernel,
    Ipv6,
    Sysctl,
    Modules,
    Swap,
    Ports,
    Runtime,
    Calico,
    Parity,
    Drift,
    CalicoHealth,
    Routes,
    ClusterDns,
    Join,
    DataPlane,
}

impl Area {
    pub fn title(self) -> &'static str {
        match self {
            Area::Host => "host",
            Area::NodeNic => "node NIC",
            Area::Bridges => "bridges",
            Area::Kernel => "kernel",
            Area::Ipv6 => "IPv6",
            Area::Sysctl => "sysctls",
            Area::Modules => "kernel modules",
            Area::Swap => "swap",
            Area::Ports => "ports",
            Area::Runtime => "container runtime",
            Area::Calico => "Calico autodetection",
            Area::Parity => "fleet parity",
            Area::Drift => "drift since join",
            Area::CalicoHealth => "Calico health",
            Area::Routes => "routes",
            Area::ClusterDns => "cluster DNS",
            Area::Join => "kubeadm join",
            Area::DataPlane => "data plane",
        }
    }
}

/// Structured evidence: an ordered JSON object (names, MACs, addresses, versions, peers).
pub type Evidence = serde_json::Map<String, serde_json::Value>;

/// One check's verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// Stable ID, `<Kind>-<subject>` (e.g. `NodeNic-Name`, `Port-10250`, `Sysctl-net.ipv4.ip_forward`).
    pub id: String,
    pub area: Area,
    pub status: Status,
    /// One line for the operator: what is wrong (or right), with the evidence.
    pub message: String,
    #[serde(default)]
    pub evidence: Evidence,
    /// What to do about it; `null` when nothing needs doing.
    pub remediation: Option<String>,
    /// What the check found, in typed values, when `fix` can remedy it (see [`finding`]); its values
    /// are in the evidence, so it is not serialised.
    #[serde(skip)]
    pub finding: Option<finding::Finding>,
}

impl CheckResult {
    pub fn new(
        id: impl Into<String>,
        area: Area,
        status: Status,
        message: impl Into<String>,
    ) -> Self {
        CheckResult {
            id: id.into(),
            area,
            status,
            message: message.into(),
            evidence: Evidence::new(),
            remediation: None,
            finding: None,
        }
    }
    pub fn ok(id: impl Into<String>, area: Area, message: impl Into<String>) -> Self {
        Self::new(id, area, Status::Ok, message)
    }
    pub fn warn(id: impl Into<String>, area: Area, message: impl Into<String>) -> Self {
        Self::new(id, area, Status::Warn, message)
    }
    pub fn fail(id: impl Into<String>, area: Area, message: impl Into<String>) -> Self {
        Self::new(id, area, Status::Fail, message)
    }
    pub fn skip(id: impl Into<String>, area: Area, message: impl Into<String>) -> Self {
        Self::new(id, area, Status::Skip, message)
    }
    /// Adds one evidence entry.
    pub fn with(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.evidence.insert(key.to_string(), value.into());
        self
    }
    pub fn fix(mut self, remediation: impl Into<String>) -> Self {
        self.remediation = Some(remediation.into());
        self
    }

    /// This result as the skip list shows it: skipped, saying what it would have been.
    pub fn skipped_by_list(&self) -> CheckResult {
        CheckResult {
            status: Status::Skip,
            message: format!(
                "skipped by the skip list (would have been {}: {})",
                self.status.as_str(),
                self.message
            ),
            ..self.clone()
        }
    }

    /// One result from the parts of one check (sub-comparisons, or the families of a dual-stack
    /// node), each named by a key: the worst status of the judged parts, their messages joined, each
    /// part's evidence under its key, their remediations joined. Skipped parts add nothing; `None`
    /// when every part was skipped.
    pub fn combine(id: &str, area: Area, parts: Vec<(&str, CheckResult)>) -> Option<CheckResult> {
        let judged: Vec<_> = parts
            .into_iter()
            .filter(|(_, r)| r.status != Status::Skip)
            .collect();
        let status = Status::worst(judged.iter().map(|(_, r)| r.status))?;
        let message = judged
            .iter()
            .map(|(_, r)| r.message.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        let remediation: Vec<&str> = judged
            .iter()
            .filter_map(|(_, r)| r.remediation.as_deref())
            .collect();
        let mut result = CheckResult::new(id, area, status, message);
        for (key, part) in &judged {
            result = result.with(key, serde_json::Value::Object(part.evidence.clone()));
        }
        if !remediation.is_empty() {
            result = result.fix(remediation.join("; "));
        }
        Some(result)
    }
}

/// Everything a check may look at. Built once per run; checks only read it.
pub struct Context<'a> {
    pub facts: &'a Facts,
    pub profile: &'a Profile,
    pub phase: Phase,
    /// Other nodes (this node's own snapshot already removed).
    pub peers: &'a [Peer],
    /// The snapshot recorded at join time, for drift checks.
    pub baseline: Option<&'a Facts>,
    /// Live probe answers (post-join and post-boot only).
    pub live: Option<&'a crate::probes::LiveProbes>,
    /// Kubernetes' view of this node, when a `--peers` kubectl node list holds it.
    pub this_node_kube: Option<&'a crate::peers::KubeNode>,
    /// The Calico configuration the cluster runs (`--calico-config`).
    pub calico_deployed: Option<&'a crate::calico::deployed::DeployedCalico>,
}

/// Evaluates every check of the context's phase. Areas are added here in the order reports show them.
pub fn evaluate(ctx: &Context) -> Vec<CheckResult> {
    let mut results = Vec::new();
    results.extend(host::evaluate(ctx));
    results.extend(disk_space::evaluate(ctx));
    results.extend(open_files::evaluate(ctx));
    results.extend(localhost::evaluate(ctx));
    results.extend(node_nic::evaluate(ctx));
    results.extend(kubelet::evaluate(ctx));
    results.extend(addresses::evaluate(ctx));
    results.extend(bridges::evaluate(ctx));
    results.extend(kernel::evaluate(ctx));
    results.extend(kernel_config::evaluate(ctx));
    results.extend(ipv6::evaluate(ctx));
    results.extend(sysctl::evaluate(ctx));
    results.extend(inotify::evaluate(ctx));
    results.extend(reverse_path::evaluate(ctx));
    results.extend(modules::evaluate(ctx));
    results.extend(swap::evaluate(ctx));
    results.extend(ports::evaluate(ctx));
    results.extend(runtime::evaluate(ctx));
    results.extend(cri::evaluate(ctx));
    results.extend(sandbox_image::evaluate(ctx));
    results.extend(join::evaluate(ctx));
    results.extend(data_plane::evaluate(ctx));
    results.extend(forward_policy::evaluate(ctx));
    results.extend(iptables_backend::evaluate(ctx));
    results.extend(calico::evaluate(ctx));
    results.extend(parity::evaluate(ctx));
    if ctx.phase >= Phase::PostJoin {
        results.extend(calico_health::evaluate(ctx));
        results.extend(routes::evaluate(ctx));
        results.extend(cluster_dns::evaluate(ctx));
    }
    if ctx.phase == Phase::PostBoot {
        results.extend(drift::evaluate(ctx));
    }
    results
}

/// `a, b, c` or `none`.
pub fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join(", ")
    }
}
