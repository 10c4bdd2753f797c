//! `Flannel-Interface`, `K3s-NodeIP`, `Cilium-Devices` (in `cilium`) and `Address-Consensus`: the address models of
//! `crate::addresses` judged against the node network and each other. They run when the profile's
//! `cni:` section describes the cluster's stack (kubeadm + Calico alone is judged by the Calico
//! and kubelet checks).
//!
//! The verdicts are first typed [`AddressFinding`]s (the check, the pick, the settings that would
//! pin the component), so a planner can consume them without reading messages or evidence keys;
//! [`evaluate`] turns them into check results.

mod cilium;

use std::net::IpAddr;

use serde_json::json;

use super::finding::Finding;

use super::node_network::{self, NodeNetwork};
use super::{Area, CheckResult, Context, Status};
use crate::addresses::consensus::{SharedAddress, Vote};
use crate::addresses::fleet::{self, FleetPicks};
use crate::addresses::stack::{self, Stack};
use crate::addresses::{Component, Pick, Pin};
use crate::facts::{Facts, Family, Interface};
use crate::profile::cni::CniSettings;

pub const FLANNEL_INTERFACE: &str = "Flannel-Interface";
pub const K3S_NODE_IP: &str = "K3s-NodeIP";
pub const ADDRESS_CONSENSUS: &str = "Address-Consensus";
pub use cilium::CILIUM_DEVICES;
const AREA: Area = Area::NodeNic;

/// One verdict, typed.
#[derive(Debug, Clone)]
pub struct AddressFinding {
    pub id: &'static str,
    pub status: Status,
    pub message: String,
    /// The picks the verdict is about (this node's).
    pub picks: Vec<Pick>,
    /// The settings that pin the components involved to the node-network address.
    pub pins: Vec<Pin>,
    pub shared: Vec<SharedAddress>,
}

/// Whether the profile describes the stack (the checks run then).
pub fn applies(cni: &CniSettings) -> bool {
    cni != &CniSettings::default()
}

/// Why an interface is not where a component should put the node's traffic; `None` when it is.
fn virtual_reason(facts: &Facts, iface: &Interface, address: Option<IpAddr>) -> Option<String> {
    let name = iface.name.as_str();
    if crate::facts::is_docker_bridge(name) {
        return Some(format!("{name} is a Docker bridge"));
    }
    if matches!(
        name,
        "cni0" | "flannel.1" | "flannel-v6.1" | "tunl0" | "kube-ipvs0" | "cilium_host"
    ) || crate::facts::is_calico_vxlan_device(name)
        || name.starts_with("cali")
    {
        return Some(format!("{name} is a CNI device"));
    }
    if name == "lo" || iface.kind.as_deref() == Some("loopback") {
        return Some(format!("{name} is the loopback interface"));
    }
    // A veth is the node NIC inside a container (kind, k3d), a tun a VPN k3s may use on purpose:
    // neither is judged by its kind.
    let address = address?;
    let host_prefix = match address {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    };
    let entry = iface.addresses.iter().find(|a| a.address == address)?;
    let others = iface
        .addresses
        .iter()
        .filter(|a| {
            a.family == entry.family
                && a.address != address
                && crate::network::addresses::is_global(a)
        })
        .count();
    (entry.prefix_len == host_prefix && others > 0).then(|| {
        let _ = facts;
        format!("{address}/{host_prefix} on {name} is a VIP beside its own address (keepalived, kube-vip): it moves between nodes")
    })
}

fn node_nic_address(net: &NodeNetwork) -> Option<(String, IpAddr)> {
    let nic = net.nic?;
    let address = crate::checks::kubelet::node_network_addresses(net)
        .first()
        .copied()?;
    Some((nic.name.to_string(), address))
}

fn pins_for(stack: &Stack, components: &[Component], net: &NodeNetwork) -> Vec<Pin> {
    let Some((nic, address)) = node_nic_address(net) else {
        return Vec::new();
    };
    components
        .iter()
        .filter_map(|c| stack.model(*c))
        .flat_map(|m| m.pins(&nic, address))
        .collect()
}

fn in_node_network(net: &NodeNetwork, ip: IpAddr) -> bool {
    net.cidrs.is_empty() || net.cidrs.iter().any(|c| c.contains(&ip))
}

fn flannel_finding(
    ctx: &Context,
    stack: &Stack,
    net: &NodeNetwork,
    pick: &Pick,
    fleet: &FleetPicks,
) -> AddressFinding {
    let pins = pins_for(stack, &[Component::Flannel], net);
    let finding = |status, message: String| AddressFinding {
        id: FLANNEL_INTERFACE,
        status,
        message,
        picks: vec![pick.clone()],
        pins: pins.clone(),
        shared: Vec::new(),
    };
    let version = pick.version.clone().unwrap_or_default();
    if let Some(fatal) = &pick.fatal {
        return finding(
            Status::Fail,
            format!("flanneld {version} will exit: {fatal}"),
        );
    }
    let iface_name = pick.interface.clone().unwrap_or_default();
    let shown = pick
        .public_address
        .or(pick.address)
        .or(pick.public_address_v6)
        .or(pick.address_v6);
    let what = format!(
        "flanneld {version} takes {iface_name}{} ({})",
        shown.map(|a| format!(" and {a}")).unwrap_or_default(),
        pick.step
    );
    if let Some(iface) = ctx.facts.interface(&iface_name) {
        if let Some(why) = virtual_reason(ctx.facts, iface, pick.address.or(pick.address_v6)) {
            return finding(Status::Fail, format!("{what}: {why}"));
        }
    }
    for (family, ip) in [
        (Family::Ipv4, pick.node_address(Family::Ipv4)),
        (Family::Ipv6, pick.node_address(Family::Ipv6)),
    ] {
        if let Some(ip) = ip {
            let of_family: Vec<_> = net
                .cidrs
                .iter()
                .filter(|c| Family::of(&c.addr()) == family)
                .collect();
            if !of_family.is_empty() && !of_family.iter().any(|c| c.contains(&ip)) {
                return finding(
                    Status::Fail,
                    format!(
                        "{what}: {ip} is outside the node network {}",
                        net.cidrs_text()
                    ),
                );
            }
        }
    }
    let shared: Vec<SharedAddress> = fleet
        .consensus
        .shared_addresses
        .iter()
        .filter(|s| {
            s.component == Component::Flannel
                && s.nodes.iter().any(|n| *n == ctx.facts.host.hostname)
        })
        .cloned()
        .collect();
    if let Some(s) = shared.first() {
        let mut f = finding(
            Status::Fail,
            format!(
                "{what}: {} is flannel's address on {} nodes ({}), a NAT address peers cannot reach this node by",
                s.address,
                s.nodes.len(),
                s.nodes.join(", ")
            ),
        );
        f.shared = shared;
        return f;
    }
    if let Some(u) = &pick.uncertain {
        return finding(Status::Warn, format!("{what}, but: {u}"));
    }
    finding(Status::Ok, what)
}

fn k3s_finding(stack: &Stack, net: &NodeNetwork, pick: &Pick) -> AddressFinding {
    let pins = pins_for(stack, &[pick.component], net);
    let distro = pick.component.as_str();
    let (status, message) = if let Some(fatal) = &pick.fatal {
        (
            Status::Fail,
            format!(
                "{distro} {} will not start: {fatal}",
                pick.version.as_deref().unwrap_or("")
            ),
        )
    } else {
        let ips: Vec<String> = pick.node_ips.iter().map(|a| a.to_string()).collect();
        let outside: Vec<String> = pick
            .node_ips
            .iter()
            .filter(|ip| !in_node_network(net, **ip))
            .map(|a| a.to_string())
            .collect();
        if outside.is_empty() {
            (
                Status::Ok,
                format!("{distro} registers {} ({})", ips.join(", "), pick.step),
            )
        } else {
            (
                Status::Fail,
                format!(
                    "{distro} registers {} ({}): {} outside the node network {}",
                    ips.join(", "),
                    pick.step,
                    outside.join(", "),
                    net.cidrs_text()
                ),
            )
        }
    };
    AddressFinding {
        id: K3S_NODE_IP,
        status,
        message,
        picks: vec![pick.clone()],
        pins,
        shared: Vec::new(),
    }
}

fn consensus_finding(
    ctx: &Context,
    stack: &Stack,
    net: &NodeNetwork,
    fleet: &FleetPicks,
) -> AddressFinding {
    let this = &fleet.nodes[0];
    let here: Vec<_> = fleet
        .consensus
        .disagreements
        .iter()
        .filter(|d| d.node == this.name)
        .collect();
    let components: Vec<Component> = this.components.iter().map(|p| p.component).collect();
    let mut f = AddressFinding {
        id: ADDRESS_CONSENSUS,
        status: Status::Ok,
        message: String::new(),
        picks: this.components.clone(),
        pins: Vec::new(),
        shared: fleet.consensus.shared_addresses.clone(),
    };
    let mut problems = Vec::new();
    for d in &here {
        let votes: Vec<String> = d.disagreement.votes.iter().map(Vote::describe).collect();
        problems.push(format!(
            "the components disagree on this node's IPv{} address: {}",
            d.disagreement.family.number(),
            votes.join(", ")
        ));
    }
    for s in &fleet.consensus.shared_addresses {
        problems.push(format!(
            "{} picks {} on {} nodes ({})",
            s.component.as_str(),
            s.address,
            s.nodes.len(),
            s.nodes.join(", ")
        ));
    }
    let _ = ctx;
    if problems.is_empty() {
        let agreed: Vec<String> = this
            .components
            .iter()
            .filter_map(|p| {
                p.node_address(Family::Ipv4)
                    .or(p.node_address(Family::Ipv6))
                    .map(|a| format!("{} {a}", p.component.as_str()))
            })
            .collect();
        f.message = if agreed.is_empty() {
            "no component of the stack gives this node an address".into()
        } else {
            format!("the components agree: {}", agreed.join(", "))
        };
        if agreed.is_empty() {
            f.status = Status::Warn;
        }
        return f;
    }
    f.status = Status::Fail;
    f.message = problems.join("; ");
    f.pins = pins_for(stack, &components, net);
    f
}

/// Every address finding for this node.
pub fn findings(ctx: &Context) -> Vec<AddressFinding> {
    let cni = &ctx.profile.cni;
    if !applies(cni) {
        return Vec::new();
    }
    let calico_version = ctx.profile.calico.release().value().clone();
    let stack = stack::build(
        cni,
        &ctx.profile.calico,
        &calico_version,
        "the profile's cni.flannel.args",
    );
    let fleet = fleet::evaluate(&stack, ctx.facts, ctx.this_node_kube, ctx.peers);
    let net = node_network::resolve(ctx.facts, ctx.profile);
    let mut out = Vec::new();
    for pick in &fleet.nodes[0].components {
        match pick.component {
            Component::Flannel => out.push(flannel_finding(ctx, &stack, &net, pick, &fleet)),
            Component::K3s | Component::Rke2 => out.push(k3s_finding(&stack, &net, pick)),
            Component::Cilium => out.push(cilium::cilium_finding(ctx, &stack, &net, pick)),
            _ => {}
        }
    }
    out.push(consensus_finding(ctx, &stack, &net, &fleet));
    out
}

fn remediation(f: &AddressFinding) -> Option<String> {
    if f.status == Status::Ok {
        return None;
    }
    if f.pins.is_empty() {
        return Some("name the node network in the profile (node_network.cidrs) so nodecheck can say which setting pins each component".into());
    }
    let lines: Vec<String> = f
        .pins
        .iter()
        .map(|p| {
            format!(
                "{}: set `{}` in {}",
                p.component.as_str(),
                p.written(),
                p.place
            )
        })
        .collect();
    Some(lines.join("; "))
}

pub fn evaluate(ctx: &Context) -> Vec<CheckResult> {
    findings(ctx)
        .into_iter()
        .map(|f| {
            // `fix` answers every check here by pinning the whole stack (its consensus planner).
            let mut r = CheckResult::new(f.id, AREA, f.status, f.message.clone())
                .with("picks", serde_json::to_value(&f.picks).unwrap_or_default())
                .with("pins", serde_json::to_value(&f.pins).unwrap_or_default())
                .found(Finding::AddressStack);
            if !f.shared.is_empty() {
                r = r.with("shared_addresses", json!(f.shared));
            }
            match remediation(&f) {
                Some(fix) => r.fix(fix),
                None => r,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
