//! `Cilium-Devices`: the devices cilium-agent would select on this node and its direct-routing
//! device, judged against the node network: the agent exits (no direct-routing device, a
//! `--devices` wildcard that expands to nothing), the node IP's device is left out (a bridge, an
//! excluded name prefix), a `--devices` entry no interface name can match (a comma list,
//! cilium#33527), or a NodePort/masquerade address outside the node network.

use std::net::IpAddr;

use super::super::node_network::NodeNetwork;
use super::super::{Context, Status};
use super::{pins_for, AddressFinding};
use crate::addresses::cilium::{k8s_node_ip, CiliumModel};
use crate::addresses::stack::Stack;
use crate::addresses::{Component, NodeView, Pick};

pub const CILIUM_DEVICES: &str = "Cilium-Devices";

fn outside(net: &NodeNetwork, ip: IpAddr) -> bool {
    let of_family: Vec<_> = net
        .cidrs
        .iter()
        .filter(|c| c.addr().is_ipv4() == ip.is_ipv4())
        .collect();
    !of_family.is_empty() && !of_family.iter().any(|c| c.contains(&ip))
}

/// The verdict on this node's Cilium pick.
pub fn cilium_finding(
    ctx: &Context,
    stack: &Stack,
    net: &NodeNetwork,
    pick: &Pick,
) -> AddressFinding {
    let pins = pins_for(stack, &[Component::Cilium], net);
    let finding = |status, message: String| AddressFinding {
        id: CILIUM_DEVICES,
        status,
        message,
        picks: vec![pick.clone()],
        pins: pins.clone(),
        shared: Vec::new(),
    };
    let model = CiliumModel::from_profile(ctx.profile.cni.cilium.as_ref());
    let view = NodeView {
        name: &ctx.facts.host.hostname,
        facts: ctx.facts,
        kube: ctx.this_node_kube,
        is_this_node: true,
    };
    let node_ip = k8s_node_ip(&view);
    let devices = model.devices_on(ctx.facts, node_ip);
    let version = pick.version.clone().unwrap_or_default();
    let selected: Vec<&str> = devices
        .selection
        .selected()
        .map(|v| v.name.as_str())
        .collect();
    let what = format!(
        "cilium-agent {version} ({} rules) selects {}",
        devices.generation.label(),
        if selected.is_empty() {
            "no device".to_string()
        } else {
            selected.join(", ")
        }
    );
    let node_dev_note = match (&devices.node_ip_device, node_ip) {
        (Some(dev), Some(ip)) => devices
            .selection
            .verdicts
            .iter()
            .find(|v| &v.name == dev && !v.selected)
            .and_then(|v| v.reason.as_deref())
            .map(|r| format!("the node IP {ip} is on {dev}, not selected: {r}")),
        _ => None,
    };
    let mut problems: Vec<String> = Vec::new();
    if let Some(fatal) = &pick.fatal {
        problems.push(format!("the agent exits: {fatal}"));
    }
    if let Some(note) = node_dev_note {
        problems.push(note);
    }
    let unmatchable = model.devices.unmatchable_entries();
    if !unmatchable.is_empty() {
        problems.push(format!(
            "devices entries {} can match no interface: Cilium splits the list on white space only, so a comma list stays one name (cilium#33527); give a YAML list or separate with spaces",
            unmatchable.join(", ")
        ));
    }
    if !problems.is_empty() {
        return finding(Status::Fail, format!("{what}: {}", problems.join("; ")));
    }
    let drd = match &pick.interface {
        Some(dev) => format!("; direct-routing device {dev} ({})", pick.step),
        None => "; no direct-routing device (no feature needs one)".into(),
    };
    let stray: Vec<String> = pick
        .devices
        .iter()
        .flat_map(|d| d.node_port_addresses.iter())
        .flat_map(|(dev, addrs)| {
            addrs
                .iter()
                .filter(|a| outside(net, **a))
                .map(move |a| format!("{a} on {dev}"))
        })
        .collect();
    if !stray.is_empty() {
        return finding(
            Status::Warn,
            format!(
                "{what}{drd}: NodePort and masquerade use {} outside the node network {}",
                stray.join(", "),
                net.cidrs_text()
            ),
        );
    }
    if let Some(u) = &pick.uncertain {
        return finding(Status::Warn, format!("{what}{drd}, but: {u}"));
    }
    finding(Status::Ok, format!("{what}{drd}"))
}
