//! Calico on this node after the join: Felix's readiness, BIRD's BGP port, the tunnel device, and the
//! address Calico registered for this node compared with the node network (the "bound the wrong
//! NIC" case, named with the interface that holds the address).
//!
//! The address Calico uses comes from this node's `projectcalico.org/IPv4Address` annotation in
//! `kubectl get nodes -o json` peer input. Nothing on the node itself tells it reliably: the tunl0 and
//! vxlan.calico addresses are pod-pool tunnel addresses, not the node address, and Calico's routes
//! name the peers' addresses, not this node's. Without the annotation the check is skipped and says
//! how to provide it.

use ipnet::IpNet;

use crate::checks::list_or_none;
use crate::checks::routes::calico_routes;
use crate::checks::{Area, CheckResult, Context};
use crate::facts::{Facts, Family, Interface};
use crate::network::addresses::{cidr_of as cidr, stable_global_addresses};
use crate::network::owners::describe_interface;
use crate::peers::KubeNode;
use crate::probes::FelixVerdict;

/// The skip message of live checks when the probes did not run.
pub const NO_LIVE_PROBES: &str =
    "live probes were not run (a saved snapshot is judged with --facts, or the phase is pre-join)";

/// Calico's tunnel devices: IP-in-IP, VXLAN (v4, v6), WireGuard (v4, v6).
pub const CALICO_TUNNELS: &[&str] = &[
    "tunl0",
    "vxlan.calico",
    "vxlan-v6.calico",
    "wireguard.cali",
    "wg-v6.cali",
];

/// BIRD's BGP port.
pub const BGP_PORT: u16 = 179;

pub fn evaluate(ctx: &Context) -> Vec<CheckResult> {
    vec![
        felix_ready(ctx),
        bgp_port(ctx.facts),
        tunnel(ctx.facts),
        node_address(ctx),
    ]
}

fn felix_ready(ctx: &Context) -> CheckResult {
    let id = "Calico-FelixReady";
    let Some(felix) = ctx.live.and_then(|l| l.felix.as_ref()) else {
        return CheckResult::skip(id, Area::CalicoHealth, NO_LIVE_PROBES);
    };
    let url = &felix.url;
    let r = match &felix.verdict {
        FelixVerdict::Ready { status } => CheckResult::ok(
            id,
            Area::CalicoHealth,
            format!("Felix is ready: {url} answered {status} in {} ms", felix.elapsed_ms),
        ),
        FelixVerdict::NotReady { status, body_head } => CheckResult::fail(
            id,
            Area::CalicoHealth,
            format!(
                "Felix is not ready: {url} answered {status}{}",
                if body_head.is_empty() {
                    String::new()
                } else {
                    format!(": {body_head}")
                }
            ),
        )
        .fix("calico-node runs but is not ready (Running is not Ready: calico-node can flap between ready and not ready): read its log for the interface and address it autodetected (`kubectl -n kube-system logs <calico-node pod on this node> -c calico-node`), and see Calico-NodeAddress"),
        FelixVerdict::NotAnswering { reason } => CheckResult::fail(
            id,
            Area::CalicoHealth,
            format!(
                "Felix's health endpoint {url} is not answering: {}",
                reason
            ),
        )
        .fix("calico-node is not running on this node, or restarting (`crictl ps -a --name calico-node`, the pod's events); if Felix's HealthPort is not 9099, set post_join.felix_health_port or --felix-port"),
    };
    r.with("url", url.clone())
        .with("elapsed_ms", felix.elapsed_ms)
        .with(
            "verdict",
            serde_json::to_value(&felix.verdict).unwrap_or_default(),
        )
}

fn bgp_port(facts: &Facts) -> CheckResult {
    let id = "Calico-BgpPort";
    let unknown: Vec<&String> = facts
        .unavailable
        .iter()
        .filter(|(key, _)| key.starts_with("listening_ports"))
        .map(|(_, why)| why)
        .collect();
    let listeners: Vec<String> = facts
        .listening_ports
        .iter()
        .filter(|p| p.port == BGP_PORT)
        .map(|p| format!("{} {}", p.protocol, p.address))
        .collect();
    let vxlan_only = facts.interface("vxlan.calico").is_some()
        && !calico_routes(facts).iter().any(|r| r.protocol == "bird");
    if !listeners.is_empty() {
        CheckResult::ok(
            id,
            Area::CalicoHealth,
            format!("BIRD listens on TCP {BGP_PORT} ({})", listeners.join(", ")),
        )
    } else if !unknown.is_empty() {
        CheckResult::skip(
            id,
            Area::CalicoHealth,
            format!(
                "listening ports unknown: {}",
                unknown.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("; ")
            ),
        )
    } else if vxlan_only {
        CheckResult::ok(
            id,
            Area::CalicoHealth,
            format!("nothing listens on TCP {BGP_PORT}, as expected: Calico runs in VXLAN mode without BGP (vxlan.calico, no BIRD routes)"),
        )
    } else {
        CheckResult::fail(
            id,
            Area::CalicoHealth,
            format!("nothing listens on TCP {BGP_PORT}: BIRD, calico-node's BGP daemon, is not running, so this node exchanges no pod routes with the others"),
        )
        .fix("calico-node is down or cannot start BIRD: it needs a valid node address first (see Calico-NodeAddress and Calico-FelixReady); check the calico-node log")
    }
    .with("listeners", listeners)
}

fn tunnel_in_use(facts: &Facts, i: &Interface) -> bool {
    stable_global_addresses(i).next().is_some()
        || calico_routes(facts)
            .iter()
            .any(|r| r.device.as_deref() == Some(i.name.as_str()))
}

fn tunnel_up(i: &Interface) -> bool {
    i.admin_up
        && !matches!(
            i.operstate.as_str(),
            "down" | "lowerlayerdown" | "notpresent"
        )
}

fn tunnel(facts: &Facts) -> CheckResult {
    let id = "Calico-Tunnel";
    let present: Vec<&Interface> = CALICO_TUNNELS
        .iter()
        .filter_map(|n| facts.interface(n))
        .collect();
    let describe = |i: &Interface| {
        let addrs: Vec<String> = stable_global_addresses(i).map(cidr).collect();
        format!(
            "{} ({}, {})",
            i.name,
            if tunnel_up(i) { "up" } else { "down" },
            list_or_none(&addrs)
        )
    };
    let shown: Vec<String> = present.iter().map(|i| describe(i)).collect();
    let in_use: Vec<&Interface> = present
        .iter()
        .copied()
        .filter(|i| tunnel_in_use(facts, i))
        .collect();
    let direct_devices: Vec<String> = calico_routes(facts)
        .iter()
        .filter_map(|r| r.device.as_deref().map(str::to_string))
        .filter(|d| !CALICO_TUNNELS.contains(&d.as_str()))
        .collect();
    let r = if let Some(down) = in_use.iter().find(|i| !tunnel_up(i)) {
        CheckResult::fail(
            id,
            Area::CalicoHealth,
            format!("Calico tunnel {} is down", describe(down)),
        )
        .fix("Felix sets the tunnel up when it is ready: see Calico-FelixReady; `ip -d link show` the device for its state")
    } else if !in_use.is_empty() {
        let up: Vec<String> = in_use.iter().map(|i| describe(i)).collect();
        CheckResult::ok(
            id,
            Area::CalicoHealth,
            format!("Calico tunnel up: {}", up.join(", ")),
        )
    } else if !direct_devices.is_empty() {
        CheckResult::ok(
            id,
            Area::CalicoHealth,
            format!(
                "no tunnel in use: Calico routes directly via {} (no encapsulation)",
                direct_devices[0]
            ),
        )
    } else {
        let msg = if present.is_empty() {
            "no Calico tunnel device (tunl0, vxlan.calico, wireguard.cali) and no Calico routes: calico-node has not set up this node's dataplane".to_string()
        } else {
            format!(
                "Calico has not configured its tunnel: {} without an address and no Calico routes",
                shown.join(", ")
            )
        };
        CheckResult::fail(id, Area::CalicoHealth, msg)
            .fix("calico-node is not running or not ready on this node: see Calico-FelixReady and the calico-node log")
    };
    r.with("tunnels", shown)
}

/// This node's Kubernetes `Node`, from `kubectl get nodes -o json` peer input: the one peer loading
/// recognised as this node, else a peer Node named like this host (or its short name).
fn this_kube_node<'a>(ctx: &'a Context) -> Option<&'a KubeNode> {
    if let Some(node) = ctx.this_node_kube {
        return Some(node);
    }
    let host = &ctx.facts.host.hostname;
    let short = host.split('.').next().unwrap_or(host);
    ctx.peers
        .iter()
        .filter_map(|p| p.node.as_deref())
        .find(|n| {
            n.name.eq_ignore_ascii_case(host)
                || n.name.eq_ignore_ascii_case(short)
                || n.name.split('.').next() == Some(short)
        })
}

fn node_address(ctx: &Context) -> CheckResult {
    let id = "Calico-NodeAddress";
    let facts = ctx.facts;
    let host = &facts.host.hostname;
    let Some(node) = this_kube_node(ctx) else {
        return CheckResult::skip(
            id,
            Area::CalicoHealth,
            format!("no Kubernetes Node named {host} in the peer input, so the address Calico registered is unknown: pass `--peers nodes.json` made with `kubectl get nodes -o json`"),
        );
    };
    let annotations: Vec<(Family, &str)> = [
        (Family::Ipv4, node.calico_ipv4_address.as_deref()),
        (Family::Ipv6, node.calico_ipv6_address.as_deref()),
    ]
    .into_iter()
    .filter_map(|(family, a)| Some((family, a?)))
    .collect();
    if annotations.is_empty() {
        return CheckResult::warn(
            id,
            Area::CalicoHealth,
            format!("node {host} has no projectcalico.org/IPv4Address annotation: calico-node has not registered an address for it (it never started, or IP=none)"),
        )
        .fix("read this node's calico-node log for the autodetection result; `nodecheck calico` predicts what each IP_AUTODETECTION_METHOD would pick here");
    }
    let mut judged: Vec<(Family, CheckResult)> = annotations
        .iter()
        .map(|(family, annotation)| (*family, judge_address(ctx, *family, annotation)))
        .collect();
    if judged.len() == 1 {
        return judged.remove(0).1;
    }
    dual_stack(id, judged)
}

/// Dual stack: one result, as bad as the worse family, saying both; each family's evidence under
/// its name (`ipv4`, `ipv6`).
fn dual_stack(id: &str, judged: Vec<(Family, CheckResult)>) -> CheckResult {
    let parts = judged
        .into_iter()
        .map(|(family, r)| (family_key(family), r))
        .collect();
    CheckResult::combine(id, Area::CalicoHealth, parts)
        .unwrap_or_else(|| CheckResult::skip(id, Area::CalicoHealth, "no family could be judged"))
}

fn family_key(family: Family) -> &'static str {
    match family {
        Family::Ipv4 => "ipv4",
        Family::Ipv6 => "ipv6",
    }
}

/// Judges one `projectcalico.org/IPv{4,6}Address` annotation against the node network.
fn judge_address(ctx: &Context, family: Family, annotation: &str) -> CheckResult {
    let id = "Calico-NodeAddress";
    let facts = ctx.facts;
    let host = &facts.host.hostname;
    let v = family.number();
    let parsed: Option<IpNet> = annotation
        .parse()
        .ok()
        .or_else(|| annotation.parse::<std::net::IpAddr>().ok().map(IpNet::from));
    let Some(calico) = parsed else {
        return CheckResult::warn(
            id,
            Area::CalicoHealth,
            format!(
                "node {host}'s projectcalico.org/IPv{v}Address annotation {:?} is not an address",
                annotation
            ),
        );
    };
    let subnets = crate::checks::node_network::resolve(facts, ctx.profile).cidrs;
    let subnet_list: Vec<String> = subnets.iter().map(|s| s.to_string()).collect();
    let holder = crate::network::addresses::owner_of(facts, calico.addr());
    let in_node_network = subnets.iter().any(|s| s.contains(&calico.addr()));
    let (env, operator) = match family {
        Family::Ipv4 => ("IP_AUTODETECTION_METHOD", "nodeAddressAutodetectionV4"),
        Family::Ipv6 => ("IP6_AUTODETECTION_METHOD", "nodeAddressAutodetectionV6"),
    };
    let fix_method = match subnets.iter().find(|s| Family::of(&s.addr()) == family) {
        Some(s) => format!("{env}=cidr={s}"),
        None => format!("the {env} `nodecheck calico` recommends"),
    };
    let fix = format!(
        "Calico bound the wrong NIC: set {fix_method} on the calico-node DaemonSet (or the operator's {operator}), then delete this node's calico-node pod so it detects again"
    );
    let r = match (holder, in_node_network) {
        (Some(i), true) => CheckResult::ok(
            id,
            Area::CalicoHealth,
            format!(
                "Calico uses {calico}, the address of {}, in the node network {}",
                describe_interface(facts, &i.name),
                subnet_list.join(", ")
            ),
        ),
        (_, _) if subnets.is_empty() => CheckResult::warn(
            id,
            Area::CalicoHealth,
            format!(
                "Calico uses {calico}{}; the node network is unknown (no default route, no node_network.cidrs in the profile)",
                holder
                    .map(|i| format!(", the address of {}", describe_interface(facts, &i.name)))
                    .unwrap_or_default()
            ),
        )
        .fix("set node_network.cidrs in the profile so the address can be judged"),
        (Some(i), false) => CheckResult::fail(
            id,
            Area::CalicoHealth,
            format!(
                "Calico uses {calico}, the address of {}, not the node network {}",
                describe_interface(facts, &i.name),
                subnet_list.join(", ")
            ),
        )
        .fix(fix),
        (None, _) => CheckResult::fail(
            id,
            Area::CalicoHealth,
            format!(
                "Calico registered {calico} for {host}, but no interface here has that address{}",
                if in_node_network {
                    " (stale after an address change?)"
                } else {
                    ""
                }
            ),
        )
        .fix(fix),
    };
    r.with("calico_address", calico.to_string())
        .with("interface", holder.map(|i| i.name.as_str()))
        .with("node_network", subnet_list)
}

#[cfg(test)]
mod tests {
    use crate::checks::testing::{after_reboot, baseline, expect, find, kube_node, profile, run};
    use crate::checks::{Area, CheckResult, Phase, Status};
    use crate::facts::Family;
    use crate::probes::{FelixHealth, FelixVerdict, LiveProbes};

    fn felix(verdict: FelixVerdict) -> LiveProbes {
        LiveProbes {
            felix: Some(FelixHealth {
                url: "http://127.0.0.1:9099/readiness".into(),
                verdict,
                elapsed_ms: 3,
            }),
            cluster_dns: None,
            api_server: Vec::new(),
            dataplane: None,
        }
    }

    #[test]
    fn felix_verdicts() {
        let (f, p) = (baseline(), profile("{}"));
        let live = felix(FelixVerdict::Ready { status: 200 });
        let r = run(&f, &p, Phase::PostJoin, &[], None, Some(&live));
        expect(&r, "Calico-FelixReady", Status::Ok, &["answered 200"]);
        let live = felix(FelixVerdict::NotReady {
            status: 503,
            body_head: "felix-startup not ready".into(),
        });
        let r = run(&f, &p, Phase::PostJoin, &[], None, Some(&live));
        expect(
            &r,
            "Calico-FelixReady",
            Status::Fail,
            &["not ready", "503: felix-startup not ready"],
        );
        let live = felix(FelixVerdict::NotAnswering {
            reason: "connection refused (nothing listens on 127.0.0.1:9099)".into(),
        });
        let r = run(&f, &p, Phase::PostJoin, &[], None, Some(&live));
        expect(
            &r,
            "Calico-FelixReady",
            Status::Fail,
            &["not answering", "refused"],
        );
        let r = run(&f, &p, Phase::PostJoin, &[], None, None);
        expect(&r, "Calico-FelixReady", Status::Skip, &["--facts"]);
        expect(&r, "ClusterDNS-Query", Status::Skip, &[]);
    }

    #[test]
    fn healthy_bgp_node() {
        let (f, p) = (baseline(), profile("{}"));
        let r = run(&f, &p, Phase::PostJoin, &[], None, None);
        expect(&r, "Calico-BgpPort", Status::Ok, &["TCP 179"]);
        expect(
            &r,
            "Calico-Tunnel",
            Status::Ok,
            &["tunl0 (up, 192.168.41.0/32)"],
        );
    }

    #[test]
    fn rebooted_node_has_no_bird_and_an_unconfigured_tunnel() {
        let (f, p) = (after_reboot(), profile("{}"));
        let r = run(&f, &p, Phase::PostJoin, &[], None, None);
        expect(
            &r,
            "Calico-BgpPort",
            Status::Fail,
            &["nothing listens on TCP 179"],
        );
        // tunl0 keeps its address in the fixture but carries no routes and is up: still in use.
        expect(&r, "Calico-Tunnel", Status::Ok, &["tunl0"]);
        let mut f = f;
        f.interfaces.retain(|i| i.name != "tunl0");
        let r = run(&f, &p, Phase::PostJoin, &[], None, None);
        expect(
            &r,
            "Calico-Tunnel",
            Status::Fail,
            &["no Calico tunnel device"],
        );
    }

    #[test]
    fn unknown_listening_ports_skip_the_bgp_check() {
        let mut f = after_reboot();
        f.unavailable.insert(
            "listening_ports.tcp".into(),
            "/proc/net/tcp: Permission denied".into(),
        );
        let r = run(&f, &profile("{}"), Phase::PostJoin, &[], None, None);
        expect(&r, "Calico-BgpPort", Status::Skip, &["Permission denied"]);
    }

    #[test]
    fn down_tunnel_fails_and_vxlan_mode_needs_no_bgp() {
        let p = profile("{}");
        let mut f = baseline();
        f.interfaces[3].admin_up = false;
        f.interfaces[3].operstate = "down".into();
        let r = run(&f, &p, Phase::PostJoin, &[], None, None);
        expect(&r, "Calico-Tunnel", Status::Fail, &["tunl0 (down"]);

        let mut f = baseline();
        f.interfaces[3].name = "vxlan.calico".into();
        f.routes.retain(|r| r.protocol != "bird");
        f.listening_ports.retain(|l| l.port != 179);
        let r = run(&f, &p, Phase::PostJoin, &[], None, None);
        expect(&r, "Calico-BgpPort", Status::Ok, &["VXLAN mode"]);
    }

    #[test]
    fn calico_bound_the_compose_bridge() {
        let (f, p) = (after_reboot(), profile("{}"));
        let peers = [kube_node("worker-41", "10.20.41.11", Some("172.18.0.1/16"))];
        let r = run(&f, &p, Phase::PostJoin, &peers, None, None);
        expect(
            &r,
            "Calico-NodeAddress",
            Status::Fail,
            &["Calico uses 172.18.0.1/16, the address of br-3f2a1b4c5d6e (compose project middleware), not the node network 10.20.41.0/24"],
        );
        assert!(find(&r, "Calico-NodeAddress")
            .remediation
            .as_deref()
            .unwrap()
            .contains("cidr=10.20.41.0/24"));
    }

    /// A family that could not be judged (skipped) must not hide the other family's failure.
    #[test]
    fn a_skipped_family_does_not_hide_a_failed_one() {
        let failed = CheckResult::fail("Calico-NodeAddress", Area::CalicoHealth, "IPv4 is wrong")
            .fix("set IP_AUTODETECTION_METHOD");
        let skipped = CheckResult::skip("Calico-NodeAddress", Area::CalicoHealth, "IPv6 unknown");
        for parts in [
            vec![
                (Family::Ipv4, failed.clone()),
                (Family::Ipv6, skipped.clone()),
            ],
            vec![
                (Family::Ipv4, skipped.clone()),
                (Family::Ipv6, failed.clone()),
            ],
        ] {
            let r = super::dual_stack("Calico-NodeAddress", parts);
            assert_eq!(r.status, Status::Fail, "{}", r.message);
            assert!(r
                .remediation
                .is_some_and(|f| f.contains("IP_AUTODETECTION_METHOD")));
        }
    }

    #[test]
    fn dual_stack_is_as_bad_as_the_worse_family() {
        let (f, p) = (
            baseline(),
            profile("node_network:\n  cidrs: [10.20.41.0/24, 'fd00:41::/64']\n"),
        );
        let mut peer = kube_node("worker-41", "10.20.41.11", Some("10.20.41.11/24"));
        peer.node.as_mut().unwrap().calico_ipv6_address = Some("fd00:99::1/64".into());
        let r = run(&f, &p, Phase::PostJoin, &[peer], None, None);
        expect(
            &r,
            "Calico-NodeAddress",
            Status::Fail,
            &[
                "Calico uses 10.20.41.11/24, the address of eth3",
                "Calico registered fd00:99::1/64 for worker-41, but no interface here has that address",
            ],
        );
        let fix = find(&r, "Calico-NodeAddress").remediation.clone().unwrap();
        assert!(
            fix.contains("IP6_AUTODETECTION_METHOD=cidr=fd00:41::/64"),
            "{fix}"
        );
    }

    #[test]
    fn calico_address_right_stale_or_unknown() {
        let (f, p) = (baseline(), profile("{}"));
        let peers = [kube_node(
            "worker-41",
            "10.20.41.11",
            Some("10.20.41.11/24"),
        )];
        let r = run(&f, &p, Phase::PostJoin, &peers, None, None);
        expect(
            &r,
            "Calico-NodeAddress",
            Status::Ok,
            &["10.20.41.11/24, the address of eth3"],
        );
        let peers = [kube_node(
            "worker-41",
            "10.20.41.11",
            Some("10.20.41.99/24"),
        )];
        let r = run(&f, &p, Phase::PostJoin, &peers, None, None);
        expect(
            &r,
            "Calico-NodeAddress",
            Status::Fail,
            &["no interface here has that address"],
        );
        let peers = [kube_node("worker-41", "10.20.41.11", None)];
        let r = run(&f, &p, Phase::PostJoin, &peers, None, None);
        expect(
            &r,
            "Calico-NodeAddress",
            Status::Warn,
            &["no projectcalico.org/IPv4Address"],
        );
        let r = run(&f, &p, Phase::PostJoin, &[], None, None);
        expect(
            &r,
            "Calico-NodeAddress",
            Status::Skip,
            &["kubectl get nodes -o json"],
        );
    }
}
