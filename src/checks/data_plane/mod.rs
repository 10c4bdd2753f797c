//! Data-plane traps: host settings under which ping between nodes works while Service traffic and
//! cluster DNS break. NetworkManager managing Calico's devices (`network_manager`), a host firewall
//! that drops BGP, VXLAN, IP-in-IP or kubelet traffic (`firewall`), an overlay MTU
//! larger than the node NIC carries or differing between nodes (`mtu`), VXLAN through a NIC whose
//! checksum offload breaks it (`offload`), and the opt-in probe of the host's forwarding path
//! between two throw-away pod namespaces (`probe`).

pub mod firewall;
pub mod mtu;
pub mod network_manager;
pub mod offload;
pub mod probe;

use super::{CheckResult, Context};
use crate::profile::Encapsulation;

pub fn evaluate(ctx: &Context) -> Vec<CheckResult> {
    let mut results = Vec::new();
    results.extend(network_manager::evaluate(ctx));
    if let Some(setup) = &ctx.facts.node_setup {
        results.extend(firewall::evaluate(ctx, setup));
    }
    results.extend(mtu::evaluate(ctx));
    results.extend(offload::evaluate(ctx));
    results.extend(probe::evaluate(ctx));
    results
}

/// The profile's encapsulation, or calico.yaml's default (IP-in-IP) when it names none.
pub fn encapsulation(ctx: &Context) -> (Encapsulation, &'static str) {
    match ctx.profile.calico.encapsulation {
        Some(e) => (e, "the profile's calico.encapsulation"),
        None => (
            Encapsulation::Ipip,
            "calico.yaml's default; the profile names no calico.encapsulation",
        ),
    }
}
