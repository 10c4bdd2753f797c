//! Fleet parity: this node compared with its peers (`--peers`), and what must be unique across them.
//!
//! Runs only when peers are given. Every check groups the fleet by one value, so a fleet of thousands
//! reads as a few lines per check, and names the nodes that differ. A difference on this node fails
//! (warns, for versions that skew during upgrades); a difference only among peers warns. See
//! `docs/peers.md` for every check ID.

pub mod calico_address;
pub mod fleet;
pub mod group;
pub mod input;
pub mod nodes;
pub mod uniqueness;
pub mod verdict;

pub use input::{peers_input, PeerAge};

use super::{CheckResult, Context};

/// The parity and uniqueness checks, in report order; nothing without peers.
pub fn evaluate(ctx: &Context) -> Vec<CheckResult> {
    if ctx.peers.is_empty() && ctx.this_node_kube.is_none() {
        return Vec::new();
    }
    let nodes = nodes::node_views(ctx);
    let mut results = fleet::evaluate(ctx, &nodes);
    results.push(calico_address::evaluate(ctx, &nodes));
    results.extend(uniqueness::evaluate(ctx, &nodes));
    results
}

#[cfg(test)]
mod tests;
