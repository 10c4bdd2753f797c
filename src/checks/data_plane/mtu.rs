//! `Mtu-Overlay`: pods send packets up to the veth MTU, and Calico adds its encapsulation on top
//! (IP-in-IP 20 bytes, VXLAN 50, WireGuard 60 over IPv4 or 80 over IPv6). A veth MTU above the node
//! NIC's MTU minus that overhead drops every large packet while ping still works (TLS handshakes,
//! DNS over TCP, image pulls through Services). Calico auto-detects the veth MTU per node, so nodes
//! whose NICs differ also differ in effective MTU, and traffic between them black-holes the same way.

use crate::checks::node_network;
use crate::checks::parity::group::{self, Grouping, Member};
use crate::checks::{Area, CheckResult, Context, Status};
use crate::facts::Facts;
use crate::profile::{Encapsulation, Profile};

pub const ID: &str = "Mtu-Overlay";
const AREA: Area = Area::DataPlane;

/// Bytes Calico's encapsulation adds to each pod packet.
pub fn overhead(encapsulation: Encapsulation, ipv6_underlay: bool) -> u32 {
    match encapsulation {
        Encapsulation::None => 0,
        Encapsulation::Ipip | Encapsulation::IpipCrossSubnet => 20,
        Encapsulation::Vxlan | Encapsulation::VxlanCrossSubnet => {
            if ipv6_underlay {
                70
            } else {
                50
            }
        }
        Encapsulation::Wireguard => {
            if ipv6_underlay {
                80
            } else {
                60
            }
        }
    }
}

/// This node's NIC and the veth MTU Calico would auto-detect on it.
fn effective<'a>(
    facts: &'a Facts,
    profile: &Profile,
    overhead: u32,
) -> Option<(&'a str, u32, u32)> {
    let nic = node_network::resolve(facts, profile).nic?;
    Some((&nic.name, nic.mtu, nic.mtu.saturating_sub(overhead)))
}

/// Whether the profile's pod traffic is encapsulated over IPv6 only.
fn ipv6_underlay(profile: &Profile) -> bool {
    profile
        .calico
        .families
        .iter()
        .all(|f| *f == crate::facts::Family::Ipv6)
}

/// The veth MTU pods get: the profile's configured one, else the node NIC's MTU minus the
/// encapsulation overhead (1500 when no node NIC is found), as Calico auto-detects it.
pub fn predicted_veth_mtu(facts: &Facts, profile: &Profile) -> u32 {
    let encapsulation = profile.calico.encapsulation.unwrap_or(Encapsulation::Ipip);
    let overhead = overhead(encapsulation, ipv6_underlay(profile));
    profile.calico.veth_mtu.unwrap_or_else(|| {
        effective(facts, profile, overhead)
            .map(|(_, _, auto)| auto)
            .unwrap_or(1500 - overhead)
    })
}

pub fn evaluate(ctx: &Context) -> Vec<CheckResult> {
    let (encapsulation, source) = super::encapsulation(ctx);
    let overhead = overhead(encapsulation, ipv6_underlay(ctx.profile));
    let Some((nic, nic_mtu, auto_mtu)) = effective(ctx.facts, ctx.profile, overhead) else {
        return vec![CheckResult::skip(
            ID,
            AREA,
            "no node NIC found: the overlay MTU cannot be judged",
        )];
    };
    let configured = ctx.profile.calico.veth_mtu;
    let veth_mtu = configured.unwrap_or(auto_mtu);
    let observed: Vec<(String, u32)> = ctx
        .facts
        .interfaces
        .iter()
        .filter(|i| i.name.starts_with("cali") && i.kind.as_deref() == Some("veth"))
        .map(|i| (i.name.to_string(), i.mtu))
        .collect();
    let too_big: Vec<String> = observed
        .iter()
        .filter(|(_, mtu)| *mtu > auto_mtu)
        .map(|(n, mtu)| format!("{} {mtu}", n))
        .collect();
    let peers: Vec<(&str, u32)> = ctx
        .peers
        .iter()
        .filter_map(|p| {
            let facts = p.facts.as_ref()?;
            effective(facts, ctx.profile, overhead).map(|(_, _, e)| (p.name.as_str(), e))
        })
        .collect();
    let smaller_peers: Vec<Member> = peers
        .iter()
        .filter(|(_, e)| *e < veth_mtu)
        .map(|&(name, e)| Member {
            detail: Some(e.to_string()),
            ..Member::new(name, false)
        })
        .collect();
    let shown_nic = nic;
    let budget = format!(
        "node NIC {shown_nic} MTU {nic_mtu} - {overhead} ({}: {source}) = {auto_mtu}",
        encapsulation.as_str()
    );
    let (status, message, fix) = if configured.is_some_and(|c| c > auto_mtu) {
        (
            Status::Fail,
            format!("Calico's veth MTU {veth_mtu} is larger than the overlay carries: {budget}; large pod packets are dropped while ping works"),
            Some(format!("set Calico's veth MTU to {auto_mtu} or less (calico-config veth_mtu, or Installation spec.calicoNetwork.mtu), or raise the node NIC's MTU")),
        )
    } else if !too_big.is_empty() {
        (
            Status::Fail,
            format!("pod interfaces have an MTU above what the overlay carries ({budget}): {}", too_big.join(", ")),
            Some(format!("set Calico's veth MTU to {auto_mtu} or less and restart the pods (veths keep the MTU they were created with)")),
        )
    } else if !smaller_peers.is_empty() {
        (
            Status::Warn,
            format!(
                "veth MTU {veth_mtu} here ({budget}), but peers carry less: {}; packets between them larger than the smaller MTU are dropped",
                &group::names(&smaller_peers)
            ),
            Some("give all node NICs the same MTU, or set one veth MTU cluster-wide that fits the smallest node (calico-config veth_mtu / Installation spec.calicoNetwork.mtu)".to_string()),
        )
    } else {
        (
            Status::Ok,
            format!(
                "veth MTU {veth_mtu}{} fits the overlay: {budget}{}",
                if configured.is_some() {
                    " (configured)"
                } else {
                    " (auto-detected)"
                },
                if peers.is_empty() {
                    String::new()
                } else {
                    format!("; {} peers carry at least as much", peers.len())
                }
            ),
            None,
        )
    };
    let mut r = CheckResult::new(ID, AREA, status, message);
    if let Some(fix) = fix {
        r = r.fix(fix);
    }
    vec![r
        .with("node_nic", nic)
        .with("node_nic_mtu", nic_mtu)
        .with("encapsulation", encapsulation.as_str())
        .with("overhead", overhead)
        .with("effective_mtu", auto_mtu)
        .with("veth_mtu", veth_mtu)
        .with("veth_mtu_configured", configured.is_some())
        // Peers grouped by effective MTU, as the parity checks group them: a fleet of thousands is
        // a few groups of names, not one object per node.
        .with(
            "peers",
            Grouping::of(
                peers
                    .iter()
                    .map(|&(name, e)| (Member::new(name, false), Some(e.to_string()))),
            )
            .evidence(),
        )]
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::checks::testing::{expect, find, profile, run};
    use crate::checks::Phase;
    use crate::facts::testkit::host;
    use crate::peers::Peer;

    /// A node whose NIC ens192 (default route) has this MTU.
    fn node(name: &str, mtu: u32) -> Facts {
        let mut facts = host(name)
            .nic("ens192", &["10.0.0.5/24"])
            .route("default", Some("10.0.0.1"), "ens192", None, None)
            .build();
        facts.interfaces[1].mtu = mtu;
        facts
    }

    fn peer(name: &str, mtu: u32) -> Peer {
        Peer {
            name: name.into(),
            source: format!("{name}.json"),
            facts: Some(Box::new(node(name, mtu))),
            node: None,
        }
    }

    #[test]
    fn peers_with_a_smaller_effective_mtu_warn_and_the_evidence_groups_them() {
        let peers = [
            peer("worker-2", 1500),
            peer("worker-3", 1450),
            peer("worker-4", 1450),
        ];
        let results = run(
            &node("worker-1", 1500),
            &profile("cluster: t\n"),
            Phase::PreJoin,
            &peers,
            None,
            None,
        );
        expect(
            &results,
            ID,
            Status::Warn,
            &["peers carry less: worker-3 (1430), worker-4 (1430);"],
        );
        assert_eq!(
            find(&results, ID).evidence["peers"],
            serde_json::json!({
                "groups": [
                    {"value": "1430", "count": 2, "nodes": ["worker-3", "worker-4"]},
                    {"value": "1480", "count": 1, "nodes": ["worker-2"]},
                ],
                "unknown": [],
            })
        );
    }

    #[test]
    fn overheads() {
        assert_eq!(overhead(Encapsulation::Ipip, false), 20);
        assert_eq!(overhead(Encapsulation::VxlanCrossSubnet, false), 50);
        assert_eq!(overhead(Encapsulation::Wireguard, false), 60);
        assert_eq!(overhead(Encapsulation::Wireguard, true), 80);
        assert_eq!(overhead(Encapsulation::None, false), 0);
    }
}
