//! The whole answer of `nodecheck calico` for one run: per family, what each method of interest (the
//! profile's current one, first-found, the recommendation, each `--method`) selects on every node, and
//! the recommendation with its rejected alternatives. Pure: built from the fleet and the profile.

use ipnet::IpNet;
use serde::Serialize;

use super::deployed::Detection;

use super::fleet_eval::{evaluate_method, node_networks, Evaluation, Keep, NodeNetworks};
use super::nodes::Fleet;
use super::predict::Model;
use super::recommend::{recommend, Recommendation};
use crate::facts::Family;
use crate::profile::calico_version::CalicoVersion;

/// The env variable calico-node reads for a family.
pub fn env_var(family: Family) -> &'static str {
    match family {
        Family::Ipv4 => "IP_AUTODETECTION_METHOD",
        Family::Ipv6 => "IP6_AUTODETECTION_METHOD",
    }
}

/// A method with the reasons it is shown (`current`, `first-found`, `recommended`, `--method`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LabelledEvaluation {
    pub labels: Vec<String>,
    pub evaluation: Evaluation,
}

/// One node's node network, for display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeNetworkOf {
    pub node: String,
    pub cidrs: Vec<IpNet>,
}

/// Everything about one address family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FamilyAnalysis {
    pub family: Family,
    pub env_var: String,
    pub node_network_source: String,
    pub node_networks: Vec<NodeNetworkOf>,
    pub methods: Vec<LabelledEvaluation>,
    pub recommendation: Recommendation,
    /// What the deployed configuration (`--calico-config`) says for this family, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployed: Option<String>,
}

/// The document `nodecheck calico` renders (its JSON form is `--format json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CalicoReport {
    pub host: String,
    pub calico_version: CalicoVersion,
    /// `--calico-version`, `profile calico.version` or `built-in default`.
    pub calico_version_source: String,
    pub live: bool,
    pub families: Vec<FamilyAnalysis>,
    /// Peers known only from `kubectl get nodes` input: their interfaces are unknown.
    pub peers_without_facts: Vec<String>,
    /// Peer inputs that could not be read.
    pub peer_problems: Vec<String>,
}

impl CalicoReport {
    /// True when every family has a recommendation.
    pub fn all_recommended(&self) -> bool {
        self.families
            .iter()
            .all(|f| f.recommendation.chosen.is_some())
    }
}

/// What the profile says about one family.
pub struct FamilySettings<'a> {
    /// The method the DaemonSet uses now; `None` = unset (first-found).
    pub current_method: Option<&'a str>,
    pub can_reach: Option<&'a str>,
    pub profile_cidrs: &'a [IpNet],
    /// `--method` values.
    pub extra_methods: &'a [String],
    /// Work out only the recommendation, keeping per-node results only for this node and the first
    /// problem (the machine formats print nothing else; a large fleet then costs one evaluation at a
    /// time); `methods` stays empty.
    pub only_recommendation: bool,
    /// The deployed configuration (`--calico-config`): its source and what it does for this family.
    /// An autodetection method found there is the current one, ahead of the profile's.
    pub deployed: Option<(&'a str, &'a Detection)>,
}

/// One sentence on the deployed configuration of a family.
pub fn deployed_text(source: &str, detection: &Detection, var: &str) -> String {
    match detection {
        Detection::Autodetect(Some(m)) => format!("deployed ({source}): {var}={m}"),
        Detection::Autodetect(None) => format!("deployed ({source}): {var} unset (first-found)"),
        Detection::Off(why) => format!("deployed ({source}): no autodetection ({why})"),
        Detection::NotKnowable(why) => {
            format!("deployed ({source}): {var} is not knowable: {why}")
        }
    }
}

/// Methods are compared as calico-node reads them: the unset (empty) value is first-found.
fn same_method(a: &str, b: &str) -> bool {
    let shown = |m: &str| if m.is_empty() { "first-found" } else { m }.to_string();
    shown(a) == shown(b)
}

/// Adds `label` to the entry for `method`, evaluating the method only when it is not listed yet (a
/// fleet-wide evaluation is the expensive part of the analysis).
fn push_labelled(
    list: &mut Vec<LabelledEvaluation>,
    label: &str,
    method: &str,
    evaluate: impl FnOnce() -> Evaluation,
) {
    match list
        .iter_mut()
        .find(|l| same_method(&l.evaluation.method, method))
    {
        Some(existing) => {
            if !existing.labels.iter().any(|l| l == label) {
                existing.labels.push(label.to_string());
            }
        }
        None => list.push(LabelledEvaluation {
            labels: vec![label.to_string()],
            evaluation: evaluate(),
        }),
    }
}

/// Analyses one family.
pub fn analyse_family(
    model: &Model,
    fleet: &Fleet,
    family: Family,
    settings: &FamilySettings,
) -> FamilyAnalysis {
    let networks: NodeNetworks = node_networks(fleet, settings.profile_cidrs, family);
    let recommendation = recommend(
        model,
        fleet,
        &networks,
        family,
        settings.can_reach,
        if settings.only_recommendation {
            Keep::Counts
        } else {
            Keep::EveryNode
        },
    );
    let mut methods: Vec<LabelledEvaluation> = Vec::new();
    if !settings.only_recommendation {
        let evaluate = |method: &str| {
            evaluate_method(model, fleet, &networks, method, family, Keep::EveryNode)
        };
        match settings.deployed {
            Some((_, Detection::Autodetect(deployed))) => {
                let label = if deployed.is_some() {
                    "current (deployed)"
                } else {
                    "current (deployed, unset)"
                };
                let deployed = deployed.as_deref().unwrap_or("");
                push_labelled(&mut methods, label, deployed, || evaluate(deployed));
                let profile = settings.current_method.unwrap_or("");
                let profile_label = if settings.current_method.is_some() {
                    "profile"
                } else {
                    "profile (unset)"
                };
                push_labelled(&mut methods, profile_label, profile, || evaluate(profile));
            }
            _ => {
                let current = settings.current_method.unwrap_or("");
                let current_label = if settings.current_method.is_some() {
                    "current"
                } else {
                    "current (unset)"
                };
                push_labelled(&mut methods, current_label, current, || evaluate(current));
            }
        }
        push_labelled(&mut methods, "first-found", "first-found", || {
            evaluate("first-found")
        });
        if let Some(chosen) = &recommendation.chosen {
            push_labelled(&mut methods, "recommended", &chosen.method, || {
                chosen.clone()
            });
        }
        for m in settings.extra_methods {
            push_labelled(&mut methods, "--method", m, || evaluate(m));
        }
    }
    FamilyAnalysis {
        family,
        env_var: env_var(family).to_string(),
        node_network_source: networks.source.clone(),
        node_networks: fleet
            .nodes
            .iter()
            .zip(&networks.per_node)
            .map(|(n, c)| NodeNetworkOf {
                node: n.name().to_string(),
                cidrs: c.clone(),
            })
            .collect(),
        methods,
        recommendation,
        deployed: settings
            .deployed
            .map(|(source, d)| deployed_text(source, d, env_var(family))),
    }
}
