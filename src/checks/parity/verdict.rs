//! Turning a grouping of the fleet into one check result: who differs, and whose problem it is.
//!
//! The rule every parity check shares: when this node's value is not the majority's (or there is no
//! majority), the check fails on this node — or warns, for values that legitimately skew during a
//! rolling upgrade. When this node agrees with the majority and only peers differ, it warns and names
//! them. One value everywhere is ok. No value known anywhere is a skip.

use serde_json::Value;

use super::group::Grouping;
use crate::checks::{Area, CheckResult, Status};

/// How one parity check speaks.
pub struct Parity<'s> {
    pub id: &'static str,
    /// What is compared, for messages: `kernel release`, `node NIC name`.
    pub what: &'s str,
    /// A difference on this node is a warning, not a failure.
    pub soft: bool,
    /// Why a value may be unknown, for the skip message.
    pub unknown_because: &'s str,
}

/// Whose the difference is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finding {
    NoData,
    Uniform,
    ThisNodeDiffers,
    PeersDiffer,
}

pub fn finding(grouping: &Grouping) -> Finding {
    if grouping.groups.is_empty() {
        return Finding::NoData;
    }
    if grouping.groups.len() == 1 {
        return Finding::Uniform;
    }
    match (grouping.this_group(), grouping.majority()) {
        (None, _) => Finding::PeersDiffer,
        (Some(this), Some(majority)) if this.value == majority.value => Finding::PeersDiffer,
        (Some(_), _) => Finding::ThisNodeDiffers,
    }
}

impl Parity<'_> {
    /// The result for `grouping`; `remediation` is asked for only when something differs.
    pub fn judge(&self, grouping: &Grouping, remediation: impl FnOnce() -> String) -> CheckResult {
        let what = self.what;
        let finding = finding(grouping);
        let this = grouping.this_group().map(|g| g.value.as_str());
        let majority = grouping.majority().map(|g| g.value.as_str());
        let unknown = grouping.unknown_note();
        let line = grouping.line();
        let (status, message) = match finding {
            Finding::NoData => (
                Status::Skip,
                format!(
                    "{what} is not known for any node ({})",
                    self.unknown_because
                ),
            ),
            Finding::Uniform => (
                Status::Ok,
                format!(
                    "{what} is the same on all {} nodes: {}{unknown}",
                    grouping.known(),
                    grouping.groups[0].value
                ),
            ),
            Finding::ThisNodeDiffers => {
                let status = if self.soft {
                    Status::Warn
                } else {
                    Status::Fail
                };
                let this = this.unwrap_or_default();
                let message = match majority {
                    Some(m) => format!(
                        "this node's {what} is {this}, the majority's {m}; nodes by value: {line}{unknown}"
                    ),
                    None => format!(
                        "{what} differs and no value has a majority; this node's is {this}; nodes by value: {line}{unknown}"
                    ),
                };
                (status, message)
            }
            Finding::PeersDiffer => {
                let message = match this {
                    Some(t) => format!(
                        "this node's {what} is the majority's ({t}), but peers differ; nodes by value: {line}{unknown}"
                    ),
                    None => format!("{what} differs among peers; nodes by value: {line}{unknown}"),
                };
                (Status::Warn, message)
            }
        };
        let mut result = CheckResult::new(self.id, Area::Parity, status, message)
            .with("this_node", this.map_or(Value::Null, Value::from))
            .with("majority", majority.map_or(Value::Null, Value::from));
        if let Value::Object(groups) = grouping.evidence() {
            result.evidence.extend(groups);
        }
        if matches!(finding, Finding::ThisNodeDiffers | Finding::PeersDiffer) {
            result = result.fix(remediation());
        }
        result
    }
}

/// One parity result from several judged parts of one check (see [`CheckResult::combine`]).
pub fn combine(id: &str, parts: Vec<(&str, CheckResult)>) -> CheckResult {
    CheckResult::combine(id, Area::Parity, parts)
        .unwrap_or_else(|| CheckResult::skip(id, Area::Parity, "no node's value is known"))
}
