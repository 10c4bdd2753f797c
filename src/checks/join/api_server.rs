//! `ApiServer-Reach` (kubeadm has none before discovery; discovery then fails with a timeout): a TCP
//! connect to the API server, bounded to 2 s, naming the local address and interface the kernel
//! used. A connection that leaves through another interface than the node NIC means the node would
//! join, and register, from the wrong network.

use std::net::IpAddr;

use crate::checks::{Area, CheckResult, Context, Status};
use crate::probes::api_server::{ApiServerProbe, ApiServerVerdict};

pub const ID: &str = "ApiServer-Reach";
const AREA: Area = Area::Join;

pub fn evaluate(ctx: &Context) -> Vec<CheckResult> {
    // No row without an endpoint (kubeadm checks only what it is given), nor for a saved snapshot
    // (the probe runs on the live host only, like the post-join probes).
    let Some(live) = ctx.live.filter(|l| !l.api_server.is_empty()) else {
        return Vec::new();
    };
    let node_nic = crate::checks::node_network::resolve(ctx.facts, ctx.profile)
        .nic
        .map(|i| i.name.to_string());
    let judged: Vec<(Status, String, Option<String>)> = live
        .api_server
        .iter()
        .map(|p| judge(ctx, p, node_nic.as_deref()))
        .collect();
    let status = Status::worst(judged.iter().map(|(s, _, _)| *s)).unwrap_or(Status::Ok);
    let message = judged
        .iter()
        .map(|(_, m, _)| m.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    let fix = judged
        .iter()
        .find_map(|(s, _, f)| (*s == status).then(|| f.clone()).flatten());
    let mut r = CheckResult::new(ID, AREA, status, message);
    if let Some(fix) = fix {
        r = r.fix(fix);
    }
    vec![r.with("node_nic", node_nic.as_deref()).with(
        "probes",
        serde_json::to_value(&live.api_server).unwrap_or_default(),
    )]
}

/// The interface holding `ip` on this host (`network`'s definition of address ownership).
fn interface_of(ctx: &Context, ip: IpAddr) -> Option<String> {
    crate::network::addresses::owner_of(ctx.facts, ip).map(|i| i.name.to_string())
}

fn judge(
    ctx: &Context,
    p: &ApiServerProbe,
    node_nic: Option<&str>,
) -> (Status, String, Option<String>) {
    let endpoint = p.endpoint.as_str();
    let target = match p.remote {
        Some(r) if r.to_string() != p.endpoint => format!("{endpoint} ({r})"),
        _ => endpoint.to_string(),
    };
    let local = p.local.map(|ip| {
        let via = interface_of(ctx, ip);
        (ip, via)
    });
    let from = match &local {
        Some((ip, Some(via))) => format!("from {ip} on {}", via),
        Some((ip, None)) => format!("from {ip}"),
        None => "no local route".to_string(),
    };
    let detail = p.detail.as_deref().map(str::to_string).unwrap_or_default();
    match p.verdict {
        ApiServerVerdict::Connected => {
            let via = local.as_ref().and_then(|(_, v)| v.as_deref());
            let loopback = local.as_ref().is_some_and(|(ip, _)| ip.is_loopback());
            match (via, node_nic) {
                (Some(via), Some(nic)) if via != nic && !loopback => (
                    Status::Warn,
                    format!(
                        "{target} answers, but {from}, not the node NIC {}: the join would register from that network",
                        nic
                    ),
                    Some(format!(
                        "route the API server's network through {} (or fix the node NIC in the profile), or give kubeadm join --node-ip / kubelet --node-ip the node address",
                        nic
                    )),
                ),
                _ => (
                    Status::Ok,
                    format!("{target} answers in {} ms, {from}", p.elapsed_ms),
                    None,
                ),
            }
        }
        ApiServerVerdict::Refused => (
            Status::Fail,
            format!("{target} refuses the connection ({from}): the host is up but nothing listens, or a firewall rejects"),
            Some("check that kube-apiserver (or the load balancer) listens on that address and port, and the firewalls between".into()),
        ),
        ApiServerVerdict::Timeout => (
            Status::Fail,
            format!("{target} does not answer within 2 s ({from}): a firewall drops the packets or the address is not reachable from this network"),
            Some("check routes and firewalls between this node and the API server; `kubeadm join` discovery would time out the same way".into()),
        ),
        ApiServerVerdict::NotResolved => (
            Status::Fail,
            format!("{endpoint} does not resolve: {detail}"),
            Some("fix DNS (or /etc/hosts) for the API server name, or use its address".into()),
        ),
        ApiServerVerdict::Error => (
            Status::Fail,
            format!("{target} cannot be reached ({from}): {detail}"),
            Some("add a route to the API server's network".into()),
        ),
    }
}
