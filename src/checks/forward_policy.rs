//! The policy of the base chains on the IPv4 forward hook against Calico (`Forward-Policy`). Docker
//! sets the iptables `FORWARD` policy to `DROP` (kubernetes#40182): CNIs that add no accept rules of
//! their own (bridge, flannel) then lose all pod traffic between nodes. Calico's iptables data plane
//! inserts its `cali-FORWARD` chain at the top of that same `filter FORWARD` chain and accepts
//! workload traffic there, so the policy never applies to it. A drop policy in another table
//! (an `inet` table of firewalld or a hand-written ruleset) is different: every base chain on the
//! hook must accept a packet, and Calico's accept in `filter FORWARD` does not reach it.

use super::{Area, CheckResult, Context};
use crate::facts::preflight::NftForwardChain;

const ID: &str = "Forward-Policy";
const AREA: Area = Area::DataPlane;

fn is_iptables_forward(c: &NftForwardChain) -> bool {
    c.family == "ip" && c.table == "filter" && c.chain == "FORWARD"
}

fn named(c: &NftForwardChain) -> String {
    format!("{} {} {} (policy {})", c.family, c.table, c.chain, c.policy)
}

pub fn evaluate(ctx: &Context) -> Vec<CheckResult> {
    let Some(forward) = ctx
        .facts
        .preflight
        .as_ref()
        .and_then(|p| p.forward.as_ref())
    else {
        return Vec::new();
    };
    if let Some(e) = &forward.nftables_error {
        return vec![CheckResult::skip(
            ID,
            AREA,
            format!(
                "the nftables forward chains could not be read: {e}{}",
                if e.contains("Operation not permitted") {
                    " (the kernel asks for CAP_NET_ADMIN on every nftables request, even a read)"
                } else {
                    ""
                }
            ),
        )];
    }
    let drops: Vec<&NftForwardChain> = forward
        .nftables
        .iter()
        .filter(|c| c.policy == "drop")
        .collect();
    let others: Vec<&&NftForwardChain> = drops.iter().filter(|c| !is_iptables_forward(c)).collect();
    // iptables-legacy's filter FORWARD is the same chain Docker sets on a legacy host, and the one
    // Calico inserts its rules into when it runs in legacy mode.
    let legacy_drop = forward.iptables_legacy.as_deref() == Some("drop");
    let r = if !others.is_empty() {
        CheckResult::warn(
            ID,
            AREA,
            format!(
                "{} drop(s) forwarded packets by default in a table of its own: Calico's accept rules in filter FORWARD do not override it, so pod traffic between nodes is dropped unless its rules accept the pod CIDRs",
                others.iter().map(|c| named(c)).collect::<Vec<_>>().join(", ")
            ),
        )
        .fix("accept the pod and node CIDRs in that chain (for firewalld: add the pod CIDR to a trusted zone), or set its policy to accept")
    } else if !drops.is_empty() || legacy_drop {
        CheckResult::ok(
            ID,
            AREA,
            format!(
                "the iptables FORWARD policy is DROP{} (as Docker sets it): Calico accepts pod traffic in its own rules at the top of that chain, so the policy does not apply to it (a bridge or flannel CNI would lose pod traffic, kubernetes#40182)",
                if legacy_drop { " in iptables-legacy" } else { "" }
            ),
        )
    } else if forward.nftables.is_empty() {
        let legacy = match (&forward.iptables_legacy, &forward.iptables_legacy_error) {
            (Some(policy), _) => format!("iptables-legacy's filter FORWARD policy is {policy}"),
            (None, Some(e)) => format!("iptables-legacy's filter table could not be read: {e}"),
            (None, None) => "there is no iptables-legacy filter table".to_string(),
        };
        CheckResult::ok(
            ID,
            AREA,
            format!("no nftables base chain on the forward hook, and {legacy}: forwarding is not dropped by default"),
        )
    } else {
        CheckResult::ok(
            ID,
            AREA,
            "every base chain on the forward hook accepts by default",
        )
    };
    vec![r.with("iptables_legacy", forward.iptables_legacy.clone()).with(
        "chains",
        forward
            .nftables
            .iter()
            .map(|c| serde_json::json!({"family": c.family, "table": c.table, "chain": c.chain, "policy": c.policy, "priority": c.priority}))
            .collect::<Vec<_>>(),
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{expect, pre_join_with_forward_chains};
    use crate::checks::Status;

    fn chain(family: &str, table: &str, name: &str, policy: &str) -> NftForwardChain {
        NftForwardChain {
            family: family.into(),
            table: table.into(),
            chain: name.into(),
            policy: policy.into(),
            priority: 0,
        }
    }

    #[test]
    fn docker_drop_is_fine_for_calico_another_table_is_not() {
        let judged = |chains: Vec<NftForwardChain>| pre_join_with_forward_chains(chains, None);
        expect(
            &judged(vec![chain("ip", "filter", "FORWARD", "drop")]),
            ID,
            Status::Ok,
            &["kubernetes#40182"],
        );
        expect(
            &judged(vec![
                chain("ip", "filter", "FORWARD", "accept"),
                chain("inet", "firewalld", "filter_FORWARD", "drop"),
            ]),
            ID,
            Status::Warn,
            &["inet firewalld filter_FORWARD"],
        );
        expect(&judged(vec![]), ID, Status::Ok, &["no nftables base chain"]);
    }
}
