//! Calico address autodetection: a model of calico-node's choice per method and version, and the
//! recommendation of the method that selects the node-network address on every node.
//!
//! Everything here is a pure function of values (facts snapshots, the profile, peers, and, for
//! `can-reach=` on a live host, the kernel's answer gathered beforehand). The behaviour modelled is
//! calico-node's `AutoDetectCIDR` (node/pkg/lifecycle/startup/autodetection) as documented in
//! `docs/calico.md`.

pub mod analysis;
pub mod candidates;
pub mod deployed;
pub mod deployed_schema;
pub mod exclusions;
pub mod fleet_eval;
pub mod go_format;
pub mod go_regexp;
pub mod lint;
pub mod method;
pub mod nodes;
pub mod outcome;
pub mod predict;
#[cfg(test)]
mod predict_tests;
pub mod recommend;
