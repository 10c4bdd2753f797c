//! `Dataplane-Probe` (troubleshoot's `networkNamespaceConnectivity` collector): judges the opt-in
//! data-plane probe (`check --probe-dataplane`): two throw-away namespaces with pod-CIDR addresses
//! exchanged TCP, UDP and a DF datagram filling the overlay MTU through the host's forwarding path.
//! A failed leg is named with the likely cause the facts show (`ip_forward` off, a drop policy on
//! the forward hook, strict reverse-path filtering). Reported only when the probe was asked for.

use crate::checks::{Area, CheckResult, Context};
use crate::facts::Facts;
use crate::probes::dataplane::{DataplaneOutcome, DataplaneProbe, Leg, LegKind};

pub const ID: &str = "Dataplane-Probe";
const AREA: Area = Area::DataPlane;

pub fn evaluate(ctx: &Context) -> Vec<CheckResult> {
    let Some(probe) = ctx.live.and_then(|l| l.dataplane.as_ref()) else {
        return Vec::new();
    };
    let result = match &probe.outcome {
        DataplaneOutcome::NeedsRoot => CheckResult::skip(ID, AREA, "skip (needs root)"),
        DataplaneOutcome::NoAddresses { reason } => {
            CheckResult::skip(ID, AREA, format!("no probe addresses: {reason}"))
        }
        DataplaneOutcome::Interrupted { signal } => CheckResult::skip(
            ID,
            AREA,
            format!("interrupted by {signal}; what it made was removed"),
        ),
        DataplaneOutcome::SetupFailed { step, error } => CheckResult::warn(
            ID,
            AREA,
            format!("the probe could not {step}: {error} (nothing it made was left behind)"),
        ),
        DataplaneOutcome::Ran { legs } => judge_legs(ctx.facts, probe, legs),
    };
    vec![result
        .with("pod_cidr", probe.pod_cidr.as_str())
        .with(
            "addresses",
            probe
                .addresses
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>(),
        )
        .with("mtu", probe.mtu)
        .with("leftovers_removed", probe.leftovers_removed.clone())
        .with(
            "outcome",
            serde_json::to_value(&probe.outcome).unwrap_or_default(),
        )]
}

fn judge_legs(facts: &Facts, probe: &DataplaneProbe, legs: &[Leg]) -> CheckResult {
    let between = match probe.addresses.as_slice() {
        [a, b] => format!("{a} and {b}"),
        _ => "two probe namespaces".to_string(),
    };
    let failed: Vec<&Leg> = legs.iter().filter(|l| l.round_trip_us.is_none()).collect();
    if failed.is_empty() {
        let figures: Vec<String> = legs
            .iter()
            .map(|l| {
                format!(
                    "{} {} bytes {:.2} ms",
                    l.kind.as_str(),
                    l.bytes,
                    l.round_trip_us.unwrap_or_default() as f64 / 1000.0
                )
            })
            .collect();
        return CheckResult::ok(
            ID,
            AREA,
            format!(
                "pod traffic between {between} crosses this host's forwarding path at MTU {}: {}",
                probe.mtu,
                figures.join(", ")
            ),
        );
    }
    let legs_text: Vec<String> = failed
        .iter()
        .map(|l| {
            format!(
                "{} ({} bytes): {}",
                l.kind.as_str(),
                l.bytes,
                l.error.as_deref().unwrap_or("failed")
            )
        })
        .collect();
    // Small datagrams pass and the MTU-sized one does not: the size, not forwarding, is the trouble
    // (full-size TCP segments then fail the same way).
    let passed = |kind: LegKind| {
        legs.iter()
            .any(|l| l.kind == kind && l.round_trip_us.is_some())
    };
    let size_only = passed(LegKind::Udp) && !passed(LegKind::Mtu);
    let causes = likely_causes(facts, size_only, probe.mtu);
    let (cause_text, fix) = if causes.is_empty() {
        (
            "no cause in the facts (iptables-legacy rules and rules inside nftables chains are not read)".to_string(),
            "look for rules dropping forwarded pod traffic (`iptables-legacy -S FORWARD`, `nft list ruleset`)".to_string(),
        )
    } else {
        (
            causes
                .iter()
                .map(|(c, _)| c.as_str())
                .collect::<Vec<_>>()
                .join("; "),
            causes
                .iter()
                .map(|(_, f)| f.as_str())
                .collect::<Vec<_>>()
                .join("; "),
        )
    };
    CheckResult::fail(
        ID,
        AREA,
        format!(
            "pod traffic between {between} through this host failed: {}; likely cause: {cause_text}",
            legs_text.join("; ")
        ),
    )
    .with(
        "failed_legs",
        failed.iter().map(|l| l.kind.as_str()).collect::<Vec<_>>(),
    )
    .fix(fix)
}

/// What in the facts drops forwarded pod traffic, with the fix for each.
fn likely_causes(facts: &Facts, size_only: bool, mtu: u32) -> Vec<(String, String)> {
    let mut causes = Vec::new();
    if size_only {
        causes.push((
            format!("something on the forwarding path drops {mtu}-byte packets with DF set while smaller ones pass"),
            "look for length-matching firewall rules or a smaller MTU on the path, or lower Calico's veth MTU".to_string(),
        ));
        return causes;
    }
    let sysctl = |key: &str| facts.sysctls.get(key).cloned().flatten();
    if sysctl("net.ipv4.ip_forward").as_deref().map(str::trim) == Some("0") {
        causes.push((
            "net.ipv4.ip_forward is 0: this host does not forward packets between interfaces".to_string(),
            "`sysctl -w net.ipv4.ip_forward=1` and persist it in /etc/sysctl.d/99-kubernetes.conf (`nodecheck fix`)".to_string(),
        ));
    }
    let preflight = facts.preflight.as_deref();
    for chain in preflight
        .and_then(|p| p.forward.as_ref())
        .map(|f| f.nftables.as_slice())
        .unwrap_or_default()
        .iter()
        .filter(|c| c.policy == "drop")
    {
        causes.push((
            format!(
                "the FORWARD chain drops by default: nftables {} {} {} on the forward hook has policy drop",
                chain.family, chain.table, chain.chain
            ),
            format!(
                "accept the pod CIDRs in {} {} {} (the CNI's rules do this once it runs, when it adds its own), or set the policy to accept",
                chain.family, chain.table, chain.chain
            ),
        ));
    }
    let rp_filter = preflight.and_then(|p| {
        p.sysctls
            .get("net.ipv4.conf.all.rp_filter")
            .cloned()
            .flatten()
    });
    if rp_filter.as_deref().map(str::trim) == Some("1") {
        causes.push((
            "net.ipv4.conf.all.rp_filter is 1 (strict): packets whose reply would leave by another interface are dropped".to_string(),
            "set rp_filter to 2 (loose) or 0 where the CNI requires it (see RPFilter checks)".to_string(),
        ));
    }
    causes
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::checks::testing::{expect, profile, run};
    use crate::checks::{Phase, Status};
    use crate::facts::preflight::{ForwardPolicy, NftForwardChain, Preflight};
    use crate::facts::testkit::host;
    use crate::probes::LiveProbes;

    fn live(outcome: DataplaneOutcome) -> LiveProbes {
        LiveProbes {
            dataplane: Some(DataplaneProbe {
                pod_cidr: "192.168.0.0/16".into(),
                addresses: vec![
                    "192.168.255.253".parse().unwrap(),
                    "192.168.255.254".parse().unwrap(),
                ],
                mtu: 1480,
                leftovers_removed: Vec::new(),
                outcome,
            }),
            ..LiveProbes::default()
        }
    }

    fn leg(kind: LegKind, ok: bool) -> Leg {
        Leg {
            kind,
            bytes: 100,
            round_trip_us: ok.then_some(1234),
            error: (!ok).then(|| "timed out".to_string()),
        }
    }

    fn ran(tcp: bool, udp: bool, mtu: bool) -> DataplaneOutcome {
        DataplaneOutcome::Ran {
            legs: vec![
                leg(LegKind::Tcp, tcp),
                leg(LegKind::Udp, udp),
                leg(LegKind::Mtu, mtu),
            ],
        }
    }

    fn judge(facts: &Facts, outcome: DataplaneOutcome) -> Vec<CheckResult> {
        let live = live(outcome);
        run(
            facts,
            &profile("cluster: t\n"),
            Phase::PreJoin,
            &[],
            None,
            Some(&live),
        )
    }

    #[test]
    fn not_asked_for_reports_nothing() {
        let facts = host("n").build();
        let results = run(
            &facts,
            &profile("cluster: t\n"),
            Phase::PreJoin,
            &[],
            None,
            None,
        );
        assert!(results.iter().all(|r| r.id != ID));
    }

    #[test]
    fn all_legs_back_is_ok_with_the_figures() {
        let facts = host("n").build();
        expect(
            &judge(&facts, ran(true, true, true)),
            ID,
            Status::Ok,
            &[
                "at MTU 1480",
                "TCP 100 bytes 1.23 ms",
                "large packet at MTU 100 bytes",
            ],
        );
    }

    #[test]
    fn a_failed_leg_names_ip_forward_off() {
        let mut facts = host("n").build();
        facts
            .sysctls
            .insert("net.ipv4.ip_forward".into(), Some("0".into()));
        expect(
            &judge(&facts, ran(false, false, false)),
            ID,
            Status::Fail,
            &["TCP (100 bytes): timed out", "net.ipv4.ip_forward is 0"],
        );
    }

    #[test]
    fn a_failed_leg_names_a_forward_drop_policy_and_strict_rp_filter() {
        let mut facts = host("n").build();
        let mut preflight = Preflight {
            forward: Some(ForwardPolicy {
                nftables: vec![NftForwardChain {
                    family: "ip".into(),
                    table: "filter".into(),
                    chain: "FORWARD".into(),
                    policy: "drop".into(),
                    priority: 0,
                }],
                nftables_error: None,
                ..Default::default()
            }),
            ..Preflight::default()
        };
        preflight
            .sysctls
            .insert("net.ipv4.conf.all.rp_filter".into(), Some("1".into()));
        facts.preflight = Some(Box::new(preflight));
        expect(
            &judge(&facts, ran(false, false, false)),
            ID,
            Status::Fail,
            &[
                "ip filter FORWARD on the forward hook has policy drop",
                "rp_filter is 1",
            ],
        );
    }

    #[test]
    fn only_the_large_packet_failing_blames_the_mtu_not_forwarding() {
        let mut facts = host("n").build();
        facts
            .sysctls
            .insert("net.ipv4.ip_forward".into(), Some("0".into()));
        let results = judge(&facts, ran(true, true, false));
        expect(
            &results,
            ID,
            Status::Fail,
            &["large packet at MTU", "drops 1480-byte packets"],
        );
    }

    #[test]
    fn without_root_it_skips() {
        let facts = host("n").build();
        expect(
            &judge(&facts, DataplaneOutcome::NeedsRoot),
            ID,
            Status::Skip,
            &["needs root"],
        );
    }
}
