//! antrea-agent's node address as an address model. Antrea reads the Node object: the first
//! address type present of InternalIP then ExternalIP, and of it the first IPv4 and the first IPv6
//! address; the interface holding them (Antrea's gateway `hostGateway` skipped, both families on
//! one device) is the Node's interface and, by default, the transport interface tunnels and routes
//! use. `transportInterface` (by name: its first global-unicast address per family) wins over
//! `transportInterfaceCIDRs` (the first interface, in kernel order, with a global-unicast address in
//! one of them), which wins over the Node IP. Each failure is Antrea's own error chain as
//! antrea-agent exits with it. With no Node object as input the addresses are kubelet's predicted
//! registration, and the pick says its answer is only as right as that prediction.

use std::net::IpAddr;

use ipnet::IpNet;

use super::node_object::node_addresses;
use super::{go_is_global_unicast, AddressModel, Component, NodeView, Pick, Pin, SettingKind};
use crate::facts::{Facts, Family, Interface};
use crate::profile::cni::{AntreaProfile, Release};

/// The release modelled when the profile names none.
pub const DEFAULT_RELEASE: Release = Release::new(2, 4, 0);
/// Antrea's default gateway interface name.
pub const DEFAULT_HOST_GATEWAY: &str = "antrea-gw0";

/// antrea-agent with its transport settings.
#[derive(Debug, Clone, PartialEq)]
pub struct AntreaModel {
    pub version: Release,
    pub transport_interface: Option<String>,
    pub transport_interface_cidrs: Vec<String>,
    pub host_gateway: String,
}

/// The two addresses of a dual-stack pair, as Go's `%v` of `*DualStackIPs` prints them.
fn dual_stack_text(v4: Option<IpAddr>, v6: Option<IpAddr>) -> String {
    let show = |a: Option<IpAddr>| a.map_or("<nil>".to_string(), |a| a.to_string());
    format!("&{{{} {}}}", show(v4), show(v6))
}

/// A device and the addresses Antrea took from it.
#[derive(Debug, Clone, PartialEq)]
struct Found<'a> {
    iface: &'a Interface,
    v4: Option<IpAddr>,
    v6: Option<IpAddr>,
}

/// `GetIPNetDeviceFromIP`: the one device holding the Node's addresses.
fn device_from_ips<'a>(
    facts: &'a Facts,
    v4: Option<IpAddr>,
    v6: Option<IpAddr>,
    ignored: &str,
) -> Result<Found<'a>, String> {
    let mut found: Option<Found> = None;
    for iface in facts.interfaces.iter().filter(|i| i.name != ignored) {
        for a in &iface.addresses {
            let (is_v4, is_v6) = (Some(a.address) == v4, Some(a.address) == v6);
            if !is_v4 && !is_v6 {
                continue;
            }
            match &mut found {
                Some(f) if f.iface.index != iface.index => {
                    return Err("IPs of localIPs should be on the same device".into())
                }
                Some(f) => {
                    if is_v4 {
                        f.v4 = Some(a.address)
                    } else {
                        f.v6 = Some(a.address)
                    }
                }
                None => {
                    found = Some(Found {
                        iface,
                        v4: is_v4.then_some(a.address),
                        v6: is_v6.then_some(a.address),
                    })
                }
            }
        }
    }
    found.ok_or_else(|| "unable to find local IPs and device".into())
}

/// `GetIPNetDeviceByName`: the named device's first global-unicast address per family.
fn device_by_name<'a>(facts: &'a Facts, name: &str) -> Result<Found<'a>, String> {
    let iface = facts
        .interface(name)
        .ok_or_else(|| "route ip+net: no such network interface".to_string())?;
    let first = |family: Family| {
        iface
            .addresses
            .iter()
            .find(|a| a.family == family && go_is_global_unicast(&a.address))
            .map(|a| a.address)
    };
    let (v4, v6) = (first(Family::Ipv4), first(Family::Ipv6));
    if v4.is_none() && v6.is_none() {
        return Err("unable to find local IP and device".into());
    }
    Ok(Found { iface, v4, v6 })
}

/// `GetIPNetDeviceByCIDRs`: the first device with a global-unicast address in one of `cidrs`.
fn device_by_cidrs<'a>(facts: &'a Facts, cidrs: &[String]) -> Result<Found<'a>, String> {
    let mut nets: Vec<IpNet> = Vec::new();
    for text in cidrs {
        let net: IpNet = text
            .trim()
            .parse()
            .map_err(|_| format!("invalid CIDR address: {text}"))?;
        nets.push(net);
    }
    let dual_stack = nets.iter().any(|n| matches!(n, IpNet::V4(_)))
        && nets.iter().any(|n| matches!(n, IpNet::V6(_)));
    if nets.len() > 1 && !dual_stack {
        return Err(format!("len of cidrs is {} and they are not configured as dual stack (at least one from each IPFamily)", nets.len()));
    }
    if nets.len() > 2 {
        return Err(format!(
            "length of cidrs is {} more than max allowed of 2",
            nets.len()
        ));
    }
    for iface in &facts.interfaces {
        let (mut v4, mut v6) = (None, None);
        for a in &iface.addresses {
            if !go_is_global_unicast(&a.address) || !nets.iter().any(|n| n.contains(&a.address)) {
                continue;
            }
            match a.family {
                Family::Ipv4 if v4.is_none() => v4 = Some(a.address),
                Family::Ipv6 if v6.is_none() => v6 = Some(a.address),
                _ => {}
            }
        }
        if v4.is_some() || v6.is_some() {
            return Ok(Found { iface, v4, v6 });
        }
    }
    Err("unable to find local IP and device".into())
}

impl AntreaModel {
    pub fn from_profile(profile: Option<&AntreaProfile>) -> AntreaModel {
        AntreaModel {
            version: profile.and_then(|p| p.version).unwrap_or(DEFAULT_RELEASE),
            transport_interface: profile
                .and_then(|p| p.transport_interface.clone())
                .filter(|t| !t.is_empty()),
            transport_interface_cidrs: profile
                .map(|p| p.transport_interface_cidrs.clone())
                .unwrap_or_default(),
            host_gateway: profile
                .and_then(|p| p.host_gateway.clone())
                .filter(|g| !g.is_empty())
                .unwrap_or_else(|| DEFAULT_HOST_GATEWAY.to_string()),
        }
    }
}

/// antrea-agent's exit line for an initialisation error.
fn exit_line(cause: &str) -> String {
    format!("Error running agent: error initializing agent: {cause}")
}

impl AddressModel for AntreaModel {
    fn component(&self) -> Component {
        Component::Antrea
    }

    fn pick(&self, node: &NodeView) -> Pick {
        let mut pick = Pick::new(Component::Antrea, Some(self.version.to_string()));
        let addrs = node_addresses(node);
        pick.uncertain = addrs.predicted.clone();
        pick.step = "node-ip".into();
        let (kind, list) = if !addrs.internal.is_empty() {
            ("InternalIP", &addrs.internal)
        } else {
            ("ExternalIP", &addrs.external)
        };
        pick.trace.push(format!(
            "the Node's addresses come from {}; Antrea reads its {kind} addresses",
            addrs.origin
        ));
        if list.is_empty() {
            return pick.fatal_here(exit_line(&format!(
                "failed to obtain local IP addresses from K8s: no IP with type in [InternalIP ExternalIP] was found for Node '{}'",
                node.name
            )));
        }
        let v4 = list.iter().copied().find(IpAddr::is_ipv4);
        let v6 = list.iter().copied().find(IpAddr::is_ipv6);
        let node_device = match device_from_ips(node.facts, v4, v6, &self.host_gateway) {
            Ok(found) => found,
            Err(e) => {
                return pick.fatal_here(exit_line(&format!(
                    "failed to get local IPNet device with IP {}: {e}",
                    dual_stack_text(v4, v6)
                )))
            }
        };
        pick.trace.push(format!(
            "{} holds the Node IP {}: the Node's interface",
            node_device.iface.name,
            dual_stack_text(v4, v6)
        ));
        let transport = if let Some(name) = &self.transport_interface {
            pick.step = "transportInterface".into();
            match device_by_name(node.facts, name) {
                Ok(found) => found,
                Err(e) => {
                    return pick.fatal_here(exit_line(&format!(
                        "failed to get local IPNet device with transport interface {name}: {e}"
                    )))
                }
            }
        } else if !self.transport_interface_cidrs.is_empty() {
            pick.step = "transportInterfaceCIDRs".into();
            match device_by_cidrs(node.facts, &self.transport_interface_cidrs) {
                Ok(found) => found,
                Err(e) => {
                    return pick.fatal_here(exit_line(&format!(
                        "failed to get local IPNet device with transport Address CIDR [{}]: {e}",
                        self.transport_interface_cidrs.join(" ")
                    )))
                }
            }
        } else {
            node_device
        };
        if pick.step != "node-ip" {
            pick.trace.push(format!(
                "{} wins over the Node IP: transport interface {} ({})",
                pick.step,
                transport.iface.name,
                dual_stack_text(transport.v4, transport.v6)
            ));
        }
        pick.interface = Some(transport.iface.name.to_string());
        pick.mtu = Some(transport.iface.mtu);
        pick.address = transport.v4;
        pick.address_v6 = transport.v6;
        pick
    }

    fn pins(&self, interface: &str, _address: IpAddr) -> Vec<Pin> {
        vec![Pin {
            component: Component::Antrea,
            kind: SettingKind::ConfigKey,
            name: "transportInterface".into(),
            value: interface.into(),
            place: "antrea-agent.conf in the antrea-config ConfigMap (`kubectl -n kube-system edit configmap antrea-config`), then restart the antrea-agent pods".into(),
        }]
    }

    fn pins_in(&self, node_network: &[IpNet], interface: &str, address: IpAddr) -> Vec<Pin> {
        // At most one CIDR per family: Antrea refuses more.
        let v4 = node_network.iter().find(|n| matches!(n, IpNet::V4(_)));
        let v6 = node_network.iter().find(|n| matches!(n, IpNet::V6(_)));
        let cidrs: Vec<String> = v4
            .into_iter()
            .chain(v6)
            .map(|n| n.trunc().to_string())
            .collect();
        if cidrs.is_empty() {
            return self.pins(interface, address);
        }
        vec![Pin {
            component: Component::Antrea,
            kind: SettingKind::ConfigKey,
            name: "transportInterfaceCIDRs".into(),
            value: format!("[{}]", cidrs.join(", ")),
            place: "antrea-agent.conf in the antrea-config ConfigMap (`kubectl -n kube-system edit configmap antrea-config`; transportInterface must be empty), then restart the antrea-agent pods".into(),
        }]
    }
}

#[cfg(test)]
mod tests;
