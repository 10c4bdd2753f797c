//! `Calico-Routes`: the routes Calico installed toward other nodes' pod blocks (protocol `bird` from
//! BIRD in BGP mode, protocol 80 from Felix in VXLAN mode), compared with the peers when they are
//! known. A node whose Calico bound the wrong NIC has no BGP session, hence none of these routes.

use std::collections::BTreeSet;
use std::net::IpAddr;

use crate::checks::{list_or_none, node_network};
use crate::checks::{Area, CheckResult, Context};
use crate::facts::{Facts, Route};
use crate::network::addresses::stable_global_addresses;
use crate::peers::Peer;

/// Route protocols Calico uses: BIRD's routes, and Felix's (`proto 80`) in VXLAN mode.
pub const CALICO_ROUTE_PROTOCOLS: &[&str] = &["bird", "80"];

/// Unicast routes installed by Calico (its own blocks' blackhole routes excluded).
pub fn calico_routes(facts: &Facts) -> Vec<&Route> {
    facts
        .routes
        .iter()
        .filter(|r| CALICO_ROUTE_PROTOCOLS.contains(&r.protocol.as_str()))
        .filter(|r| r.route_type == "unicast")
        .collect()
}

/// This node's own pod blocks: the blackhole routes BIRD installs for them.
fn local_blocks(facts: &Facts) -> Vec<String> {
    facts
        .routes
        .iter()
        .filter(|r| CALICO_ROUTE_PROTOCOLS.contains(&r.protocol.as_str()))
        .filter(|r| r.route_type == "blackhole")
        .map(|r| r.destination.to_string())
        .collect()
}

fn gateways(route: &Route) -> impl Iterator<Item = IpAddr> + '_ {
    route
        .gateway
        .into_iter()
        .chain(route.nexthops.iter().filter_map(|h| h.gateway))
}

/// The addresses a peer is known by: Kubernetes' node addresses and Calico's annotation, or the
/// addresses of the node NIC in its snapshot.
fn peer_addresses(peer: &Peer, ctx: &Context) -> Vec<IpAddr> {
    let mut out = Vec::new();
    if let Some(node) = &peer.node {
        out.extend(
            node.addresses
                .iter()
                .filter_map(|(_, a)| a.parse::<IpAddr>().ok()),
        );
        out.extend(
            [&node.calico_ipv4_address, &node.calico_ipv6_address]
                .into_iter()
                .flatten()
                .filter_map(|a| a.split('/').next()?.parse::<IpAddr>().ok()),
        );
    }
    if let Some(facts) = &peer.facts {
        if let Some(nic) = node_network::resolve(facts, ctx.profile).nic {
            out.extend(stable_global_addresses(nic).map(|a| a.address));
        }
    }
    out
}

pub fn evaluate(ctx: &Context) -> Vec<CheckResult> {
    vec![calico_routes_check(ctx)]
}

fn calico_routes_check(ctx: &Context) -> CheckResult {
    let id = "Calico-Routes";
    let routes = calico_routes(ctx.facts);
    let via: BTreeSet<IpAddr> = routes.iter().flat_map(|r| gateways(r)).collect();
    let devices: BTreeSet<&str> = routes.iter().filter_map(|r| r.device.as_deref()).collect();
    let this_host = &ctx.facts.host.hostname;
    let peers: Vec<&Peer> = ctx
        .peers
        .iter()
        .filter(|p| !p.name.eq_ignore_ascii_case(this_host))
        .collect();
    let summary = format!(
        "{} Calico route{} to other nodes' pod blocks via {} node{}",
        routes.len(),
        if routes.len() == 1 { "" } else { "s" },
        via.len(),
        if via.len() == 1 { "" } else { "s" },
    );
    let route_list: Vec<String> = routes
        .iter()
        .map(|r| {
            let gw: Vec<String> = gateways(r).map(|g| g.to_string()).collect();
            format!(
                "{} via {} dev {}",
                r.destination,
                list_or_none(&gw),
                r.device.as_deref().unwrap_or_default()
            )
        })
        .collect();
    let no_routes_fix = "calico-node on this node exchanges no routes: check Calico-FelixReady, Calico-BgpPort and Calico-NodeAddress (a wrong autodetected address breaks every BGP session), then `kubectl -n kube-system logs` of this node's calico-node pod";
    // VXLAN routes go via the peers' tunnel addresses, not their node addresses: count only.
    let by_address = !devices.iter().any(|d| d.starts_with("vxlan"));
    let result = if peers.is_empty() {
        if routes.is_empty() {
            CheckResult::warn(
                id,
                Area::Routes,
                "no routes installed by Calico (proto bird or Felix's proto 80): unless this is the only node, pods here cannot reach pods on other nodes",
            )
            .fix(format!("{no_routes_fix}; pass --peers to compare with the other nodes"))
        } else {
            CheckResult::ok(id, Area::Routes, summary.clone())
        }
    } else {
        let known: Vec<(&Peer, Vec<IpAddr>)> = peers
            .iter()
            .map(|p| (*p, peer_addresses(p, ctx)))
            .filter(|(_, a)| !a.is_empty())
            .collect();
        let unreached: Vec<String> = if by_address && known.len() == peers.len() {
            known
                .iter()
                .filter(|(_, addrs)| !addrs.iter().any(|a| via.contains(a)))
                .map(|(p, addrs)| {
                    let shown: Vec<String> = addrs.iter().map(|a| a.to_string()).collect();
                    format!("{} ({})", p.name, shown.join(", "))
                })
                .collect()
        } else if via.len() < peers.len() {
            vec![format!(
                "{} of {} peers",
                peers.len() - via.len(),
                peers.len()
            )]
        } else {
            Vec::new()
        };
        if routes.is_empty() {
            CheckResult::fail(
                id,
                Area::Routes,
                format!(
                    "no routes installed by Calico toward any of the {} other nodes' pod blocks",
                    peers.len()
                ),
            )
            .fix(no_routes_fix)
        } else if !unreached.is_empty() {
            CheckResult::fail(
                id,
                Area::Routes,
                format!(
                    "{summary}, but {} other nodes are known; no Calico route via {}",
                    peers.len(),
                    unreached.join(", ")
                ),
            )
            .fix("BGP sessions to those nodes are down, or their calico-node advertises a wrong address: run `nodecheck check --phase post-join` there, and read this node's calico-node log (`birdcl show protocols` in the calico-node container)")
        } else {
            CheckResult::ok(
                id,
                Area::Routes,
                format!("{summary}, for {} other nodes", peers.len()),
            )
        }
    };
    result
        .with("routes", route_list)
        .with("via", via.iter().map(|a| a.to_string()).collect::<Vec<_>>())
        .with("local_blocks", local_blocks(ctx.facts))
        .with("peers", peers.len())
}

#[cfg(test)]
mod tests {
    use crate::checks::testing::{after_reboot, baseline, expect, kube_node, profile, run};
    use crate::checks::{Phase, Status};

    #[test]
    fn bird_routes_counted_and_blackholes_left_out() {
        let (f, p) = (baseline(), profile("{}"));
        let r = run(&f, &p, Phase::PostJoin, &[], None, None);
        expect(
            &r,
            "Calico-Routes",
            Status::Ok,
            &["2 Calico routes", "via 2 nodes"],
        );
    }

    #[test]
    fn compared_with_the_peers() {
        let (f, p) = (baseline(), profile("{}"));
        let peers = [
            kube_node("worker-41", "10.20.41.11", None),
            kube_node("worker-42", "10.20.41.12", None),
            kube_node("worker-43", "10.20.41.13", None),
        ];
        let r = run(&f, &p, Phase::PostJoin, &peers, None, None);
        expect(&r, "Calico-Routes", Status::Ok, &["for 2 other nodes"]);
        let peers = [
            kube_node("worker-42", "10.20.41.12", None),
            kube_node("worker-43", "10.20.41.13", None),
            kube_node("worker-44", "10.20.41.14", None),
        ];
        let r = run(&f, &p, Phase::PostJoin, &peers, None, None);
        expect(
            &r,
            "Calico-Routes",
            Status::Fail,
            &["no Calico route via worker-44 (10.20.41.14)"],
        );
        let r = run(&after_reboot(), &p, Phase::PostJoin, &peers, None, None);
        expect(
            &r,
            "Calico-Routes",
            Status::Fail,
            &["no routes installed by Calico"],
        );
        let r = run(&after_reboot(), &p, Phase::PostJoin, &[], None, None);
        expect(
            &r,
            "Calico-Routes",
            Status::Warn,
            &["no routes installed by Calico"],
        );
    }
}
