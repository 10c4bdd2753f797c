//! cilium-agent's devices on one node, as Cilium's device detection makes them per release
//! generation (`generation`): every link's verdict with Cilium's own reason (`selection`, over the
//! links as Cilium's device table sees them, `device`, and the `--devices` filter, `filter`), the
//! direct-routing device (`direct_routing`: `--direct-routing-device`, the only selected device,
//! the selected device holding the Kubernetes node IP, or the agent's fatal error when a feature
//! needs one) and the NodePort/masquerade address of each selected device (`node_addresses`).
//! The pick's interface is the direct-routing device, its address that device's primary address.

pub mod device;
pub mod direct_routing;
pub mod filter;
pub mod generation;
pub mod node_addresses;
pub mod selection;

use std::net::IpAddr;

use direct_routing::{DirectRouting, DirectRoutingInputs};
use filter::DeviceFilter;
use generation::Generation;
use selection::{Selection, SelectionConfig};

use super::{AddressModel, Component, DeviceSelection, NodeView, Pick, Pin, SettingKind};
use crate::facts::Facts;
use crate::profile::cni::{CiliumProfile, CiliumVersion};

/// The Cilium model: the agent's device settings.
#[derive(Debug, Clone)]
pub struct CiliumModel {
    pub version: CiliumVersion,
    pub devices: DeviceFilter,
    pub direct_routing_device: Option<String>,
    pub force_device_detection: bool,
    pub needs_direct_routing_device: bool,
}

/// Everything the model decides on one node, for the pick and the `Cilium-Devices` check.
#[derive(Debug, Clone)]
pub struct CiliumDevices {
    pub generation: Generation,
    pub selection: Selection,
    pub direct_routing: DirectRouting,
    /// The Kubernetes node IP Cilium reads (the Node's first InternalIP, IPv4 first).
    pub node_ip: Option<IpAddr>,
    pub node_ip_device: Option<String>,
    /// The kernel's L3 support was assumed (its release could not be read).
    pub kernel_assumed: bool,
    pub flags_rebuilt: bool,
}

/// `bpf_skb_change_head` for `sched_cls` programs: Linux 5.8 and later.
fn kernel_supports_l3(release: &str) -> Option<bool> {
    let mut parts = release.split(['.', '-']);
    let major: u32 = parts.next()?.parse().ok()?;
    let minor: u32 = parts.next()?.parse().ok()?;
    Some((major, minor) >= (5, 8))
}

/// The Node's IP as Cilium's `GetK8sNodeIP` reads it: the first InternalIP, IPv4 before IPv6.
pub fn k8s_node_ip(node: &NodeView) -> Option<IpAddr> {
    let ips: Vec<IpAddr> = crate::calico::nodes::internal_ips(node.kube, node.facts)
        .addresses
        .iter()
        .filter_map(|a| a.parse().ok())
        .collect();
    ips.iter()
        .copied()
        .find(IpAddr::is_ipv4)
        .or_else(|| ips.first().copied())
}

impl CiliumModel {
    pub fn from_profile(profile: Option<&CiliumProfile>) -> CiliumModel {
        let empty = CiliumProfile::default();
        let p = profile.unwrap_or(&empty);
        CiliumModel {
            version: p.version.unwrap_or(CiliumVersion::DEFAULT),
            devices: DeviceFilter::new(&p.devices),
            direct_routing_device: p.direct_routing_device.clone(),
            force_device_detection: p.force_device_detection.unwrap_or(false),
            needs_direct_routing_device: p.needs_direct_routing_device.unwrap_or(true),
        }
    }

    pub fn generation(&self) -> Generation {
        Generation::of(self.version)
    }

    /// The devices, their verdicts and the direct-routing device on a node with `facts` whose
    /// Kubernetes node IP is `node_ip`.
    pub fn devices_on(&self, facts: &Facts, node_ip: Option<IpAddr>) -> CiliumDevices {
        let generation = self.generation();
        let l3 = kernel_supports_l3(&facts.host.kernel_release);
        let links = device::devices(facts);
        let config = SelectionConfig {
            generation,
            devices: self.devices.clone(),
            force_device_detection: self.force_device_detection && generation.has_force_detection(),
            l3_supported: l3.unwrap_or(true),
        };
        let mut selection = selection::select(&links, &config);
        let direct_routing = direct_routing::choose(
            facts,
            &selection,
            &DirectRoutingInputs {
                generation,
                setting: self.direct_routing_device.as_deref(),
                node_ip,
                needed: self.needs_direct_routing_device,
            },
        );
        if let Some(added) = &direct_routing.added {
            for v in selection.verdicts.iter_mut().filter(|v| &v.name == added) {
                v.selected = true;
                v.reason = None;
            }
        }
        CiliumDevices {
            generation,
            node_ip_device: node_ip.and_then(|ip| {
                crate::network::addresses::owner_of(facts, ip).map(|i| i.name.to_string())
            }),
            selection,
            direct_routing,
            node_ip,
            kernel_assumed: l3.is_none(),
            flags_rebuilt: links.iter().any(|d| d.flags_rebuilt),
        }
    }
}

fn device_selection(facts: &Facts, devices: &CiliumDevices) -> DeviceSelection {
    let mut out = DeviceSelection::default();
    for v in &devices.selection.verdicts {
        if v.selected {
            out.selected_devices.push(v.name.clone());
            if let Some(iface) = facts.interfaces.iter().find(|i| i.name == v.name) {
                out.node_port_addresses
                    .insert(v.name.clone(), node_addresses::node_port_addresses(iface));
            }
        } else if let Some(reason) = &v.reason {
            out.not_selected.insert(v.name.clone(), reason.clone());
        }
    }
    out
}

impl AddressModel for CiliumModel {
    fn component(&self) -> Component {
        Component::Cilium
    }

    fn pick(&self, node: &NodeView) -> Pick {
        let mut pick = Pick::new(Component::Cilium, Some(self.version.to_string()));
        let node_ip = k8s_node_ip(node);
        let devices = self.devices_on(node.facts, node_ip);
        pick.trace.push(format!(
            "device selection of Cilium {}",
            devices.generation.label()
        ));
        for v in &devices.selection.verdicts {
            pick.trace.push(match &v.reason {
                None => format!("{} (ifindex {}): selected", v.name, v.index),
                Some(r) => format!("{} (ifindex {}): {r}", v.name, v.index),
            });
        }
        pick.trace
            .extend(devices.direct_routing.trace.iter().cloned());
        let mut uncertain = Vec::new();
        if devices.kernel_assumed {
            uncertain.push("the kernel release could not be read: L3 devices assumed supported");
        }
        if devices.flags_rebuilt {
            uncertain.push("the snapshot predates the link-flags fact: flags rebuilt from the up state, the name and the master");
        }
        if node_ip.is_none() {
            uncertain.push("the Kubernetes node IP is not known");
        }
        if !uncertain.is_empty() {
            pick.uncertain = Some(uncertain.join("; "));
        }
        pick.devices = Some(device_selection(node.facts, &devices));
        if let Some(line) = &devices.selection.fatal {
            return pick.fatal("devices", line.clone());
        }
        pick.step = devices.direct_routing.step.to_string();
        if let Some(line) = &devices.direct_routing.fatal {
            return pick.fatal_here(line.clone());
        }
        if let Some(name) = &devices.direct_routing.device {
            pick.interface = Some(name.clone());
            if let Some(iface) = node.facts.interfaces.iter().find(|i| i.name == *name) {
                let addrs = node_addresses::node_port_addresses(iface);
                pick.address = addrs.iter().copied().find(IpAddr::is_ipv4);
                pick.address_v6 = addrs.iter().copied().find(IpAddr::is_ipv6);
            }
        }
        pick
    }

    fn pins(&self, interface: &str, address: IpAddr) -> Vec<Pin> {
        let _ = address;
        let pin = |kind: SettingKind, name: &str, place: &str| Pin {
            component: Component::Cilium,
            kind,
            name: name.into(),
            value: interface.into(),
            place: place.into(),
        };
        let helm = "the cilium Helm release (`helm upgrade cilium cilium/cilium --reuse-values --set ...`), then restart the cilium DaemonSet";
        let configmap = "the cilium-config ConfigMap (`kubectl -n kube-system edit configmap cilium-config`), then `kubectl -n kube-system rollout restart daemonset cilium`";
        vec![
            pin(SettingKind::HelmValue, "devices", helm),
            pin(SettingKind::HelmValue, "nodePort.directRoutingDevice", helm),
            pin(SettingKind::ConfigMapKey, "devices", configmap),
            pin(
                SettingKind::ConfigMapKey,
                "direct-routing-device",
                configmap,
            ),
        ]
    }
}

#[cfg(test)]
mod tests;
