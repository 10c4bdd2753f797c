//! Ports that must be free before the join: kubelet's 10250 and the profile's list.

use super::{Area, CheckResult, Context, Phase};

const AREA: Area = Area::Ports;

/// kubelet's API port, always checked before the join.
pub const KUBELET_PORT: u16 = 10250;

pub fn evaluate(ctx: &Context) -> Vec<CheckResult> {
    // After the join kubelet and calico-node own these ports.
    if ctx.phase != Phase::PreJoin {
        return Vec::new();
    }
    let mut ports = vec![KUBELET_PORT];
    for p in &ctx.profile.ports_free {
        if !ports.contains(p) {
            ports.push(*p);
        }
    }
    ports.into_iter().map(|p| one(ctx, p)).collect()
}

fn one(ctx: &Context, port: u16) -> CheckResult {
    let id = format!("Port-{port}");
    if let Some(reason) = ctx.facts.unavailable.get("listening_ports") {
        let needs_root = !ctx.facts.host.gathered_as_root;
        return CheckResult::skip(
            &id,
            AREA,
            if needs_root {
                format!("skip (needs root): listening sockets were not readable ({reason})")
            } else {
                format!("listening sockets were not gathered: {reason}")
            },
        );
    }
    let listeners: Vec<String> = ctx
        .facts
        .listening_ports
        .iter()
        .filter(|l| l.port == port)
        .map(|l| {
            let addr = match l.address {
                std::net::IpAddr::V6(a) => format!("[{a}]"),
                a => a.to_string(),
            };
            format!("{addr}:{port} ({})", l.protocol)
        })
        .collect();
    if listeners.is_empty() {
        CheckResult::ok(&id, AREA, format!("TCP port {port} is free")).with("port", port)
    } else {
        CheckResult::fail(
            &id,
            AREA,
            format!(
                "TCP port {port} is in use: listening on {}",
                listeners.join(", ")
            ),
        )
        .with("port", port)
        .with("listeners", listeners)
        .fix(format!(
            "find the owner with `ss -ltnp 'sport = :{port}'` and stop it before kubeadm join"
        ))
    }
}
