//! What calico-node does with an autodetection result on a node: runs with the address, exits (a new
//! node goes into CrashLoopBackOff), keeps a stale stored address, or terminates on an address conflict
//! with another node. Each outcome carries the log lines in the order calico-node writes them.

use serde::Serialize;

use super::predict::{Prediction, Verdict};
use crate::profile::calico_version::CalicoVersion;

/// The release whose start-up logs `Failed to configure IP addresses` instead of clearing the node's
/// addresses before terminating.
pub const WRAPPED_ERROR_SINCE: CalicoVersion = CalicoVersion::new(3, 32, 0);

/// The effect on the calico-node pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Effect {
    /// Starts and uses the selected address.
    Runs,
    /// Exits at start; the pod restarts in CrashLoopBackOff and the node's CNI never becomes ready.
    CrashLoopBackOff,
    /// Keeps running with the address stored on the Node earlier (possibly wrong).
    KeepsStoredAddress,
    /// Another node already uses the selected address: calico-node terminates.
    ConflictTerminates,
    /// nodecheck cannot tell.
    Unknown,
}

/// What calico-node would do, in words and log lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub effect: Effect,
    pub summary: String,
    pub log: Vec<String>,
}

/// The node's state that decides what a failure does.
#[derive(Debug, Clone, Copy, Default)]
pub struct NodeState<'a> {
    /// The address stored on the Node (`projectcalico.org/IPv4Address`), when known.
    pub stored_address: Option<&'a str>,
    /// Another node that already uses the selected address.
    pub conflicting_node: Option<&'a str>,
}

fn exit_lines(v: u8, version: &CalicoVersion) -> Vec<String> {
    let mut lines = vec![format!(
        "Couldn't autodetect an IPv{v} address. If auto-detecting, choose a different autodetection method. Otherwise provide an explicit address."
    )];
    if version.triple() >= WRAPPED_ERROR_SINCE.triple() {
        lines.push(format!(
            "Failed to configure IP addresses error=failed to configure IP addresses and subnets: failed to autodetect an IPv{v} address"
        ));
    } else {
        lines.push(format!(
            "Clearing out-of-date IPv{v} address from this node IP=\"\""
        ));
    }
    lines.push("Terminating".into());
    lines.push("Calico node failed to start".into());
    lines
}

/// The outcome of a prediction on a node in a given state.
pub fn outcome(prediction: &Prediction, version: &CalicoVersion, state: NodeState) -> Outcome {
    let v = prediction.family.number();
    match &prediction.verdict {
        Verdict::Selected {
            interface,
            address,
            log,
        } => match state.conflicting_node {
            Some(other) => Outcome {
                effect: Effect::ConflictTerminates,
                summary: format!(
                    "selects {address} on {interface}, but node '{other}' already uses {}: calico-node terminates (CrashLoopBackOff)",
                    address.ip
                ),
                log: vec![
                    log.clone(),
                    format!(
                        "Calico node '{other}' is already using the IPv{v} address {}.",
                        address.ip
                    ),
                    format!("conflicting node detected: IPv{v} address conflict"),
                    "Terminating".into(),
                    "Calico node failed to start".into(),
                ],
            },
            None => {
                let stored = state
                    .stored_address
                    .filter(|old| !old.is_empty() && *old != address.to_string());
                let summary = match stored {
                    Some(old) => format!(
                        "uses {address} on {interface}, replacing the stored {old} (IP=autodetect overwrites it at start and every poll; with IP unset or none the stored {old} stays)"
                    ),
                    None => format!("uses {address} on {interface}"),
                };
                Outcome {
                    effect: Effect::Runs,
                    summary,
                    log: vec![log.clone()],
                }
            }
        },
        Verdict::Terminated { log } => Outcome {
            effect: Effect::CrashLoopBackOff,
            summary: "calico-node terminates at start on every node, whatever the stored address (CrashLoopBackOff)".into(),
            log: vec![log.clone(), "Terminating".into(), "Calico node failed to start".into()],
        },
        Verdict::Failed { log } => match state.stored_address {
            Some(old) if !old.is_empty() => {
                let mut lines = log.clone();
                lines.push(format!(
                    "Autodetection of IPv{v} address failed, keeping existing value: {old}"
                ));
                Outcome {
                    effect: Effect::KeepsStoredAddress,
                    summary: format!(
                        "autodetection fails; calico-node keeps running with the stored address {old}, right or wrong"
                    ),
                    log: lines,
                }
            }
            _ => {
                let mut lines = log.clone();
                lines.extend(exit_lines(v, version));
                Outcome {
                    effect: Effect::CrashLoopBackOff,
                    summary: "autodetection fails; calico-node exits: CrashLoopBackOff on a new node (a node that already has a stored address keeps that stale address instead)".into(),
                    log: lines,
                }
            }
        },
        Verdict::Undetermined { reason } => Outcome {
            effect: Effect::Unknown,
            summary: format!("cannot be predicted: {reason}"),
            log: Vec::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calico::predict::{predict, InternalIpOrigin, InternalIps, Model, NodeInput};
    use crate::facts::testkit::host;
    use crate::facts::Family;

    fn predict_on(method: &str, version: &CalicoVersion) -> Prediction {
        let facts = host("worker-41")
            .nic("ens192", &["10.20.41.41/24"])
            .link("br-3f2a1b4c5d6e", Some("bridge"), &["172.18.0.1/16"])
            .build();
        let model = Model::new(version, &[]);
        let node = NodeInput {
            name: "worker-41".into(),
            facts: &facts,
            internal_ips: InternalIps {
                addresses: vec![],
                origin: InternalIpOrigin::Unknown,
                reason: None,
                dns_dependent: false,
            },
            kernel_reach: &[],
        };
        predict(&model, &node, method, Family::Ipv4)
    }

    #[test]
    fn failure_on_a_new_node_exits_with_the_release_s_lines() {
        let v331: CalicoVersion = "3.31.0".parse().unwrap();
        let o = outcome(
            &predict_on("interface=eth3", &v331),
            &v331,
            NodeState::default(),
        );
        assert_eq!(o.effect, Effect::CrashLoopBackOff);
        assert_eq!(
            o.log,
            vec![
                "Unable to auto-detect an IPv4 address using interface regexes [eth3]: no valid host interfaces found",
                "Couldn't autodetect an IPv4 address. If auto-detecting, choose a different autodetection method. Otherwise provide an explicit address.",
                "Clearing out-of-date IPv4 address from this node IP=\"\"",
                "Terminating",
                "Calico node failed to start",
            ]
        );
        let v332: CalicoVersion = "3.32.0".parse().unwrap();
        let o = outcome(
            &predict_on("interface=eth3", &v332),
            &v332,
            NodeState::default(),
        );
        assert!(
            o.log[2].starts_with("Failed to configure IP addresses"),
            "{:?}",
            o.log
        );
    }

    #[test]
    fn failure_on_an_existing_node_keeps_the_stale_address() {
        let v: CalicoVersion = "3.24.1".parse().unwrap();
        let state = NodeState {
            stored_address: Some("172.18.0.1/16"),
            conflicting_node: None,
        };
        let o = outcome(&predict_on("interface=eth3", &v), &v, state);
        assert_eq!(o.effect, Effect::KeepsStoredAddress);
        assert_eq!(
            o.log.last().unwrap(),
            "Autodetection of IPv4 address failed, keeping existing value: 172.18.0.1/16"
        );
    }

    #[test]
    fn invalid_method_terminates_whatever_the_state() {
        let v: CalicoVersion = "3.28.0".parse().unwrap();
        let state = NodeState {
            stored_address: Some("10.20.41.41/24"),
            conflicting_node: None,
        };
        let o = outcome(&predict_on("eth3", &v), &v, state);
        assert_eq!(o.effect, Effect::CrashLoopBackOff);
        assert_eq!(
            o.log,
            vec![
                "Invalid IP autodetection method: eth3",
                "Terminating",
                "Calico node failed to start"
            ]
        );
    }

    #[test]
    fn same_address_on_another_node_terminates() {
        let v: CalicoVersion = "3.24.1".parse().unwrap();
        let state = NodeState {
            stored_address: None,
            conflicting_node: Some("worker-40"),
        };
        let o = outcome(&predict_on("", &v), &v, state);
        assert_eq!(o.effect, Effect::ConflictTerminates);
        assert_eq!(
            o.log[1],
            "Calico node 'worker-40' is already using the IPv4 address 172.18.0.1."
        );
    }
}
