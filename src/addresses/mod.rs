//! Every component's node address: one model per component that picks an address (kubelet, k3s and
//! RKE2, Calico, flanneld, Cilium, kube-router, Antrea), each of one shape — its configuration and a
//! node's facts in, the pick
//! with the step that decided and the walk that led there out, or the component's own fatal log line.
//! The consensus over them (`consensus`) is what `Address-Consensus` and `nodecheck addresses` read.
//!
//! Everything here is a pure function of values: the configuration comes typed from the profile or
//! from the deployed manifests (`crate::cni_config` reads those), the host from a [`Facts`] snapshot.
//! Adding a component is one module beside these that implements [`AddressModel`], and one arm in
//! `stack::build`.

pub mod antrea;
pub mod calico;
pub mod cilium;
pub mod consensus;
pub mod flannel;
pub mod fleet;
pub mod k3s;
pub mod kube_router;
pub mod kubelet;
pub mod node_object;
pub mod stack;
#[cfg(test)]
pub mod testkit;

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::Serialize;

use crate::facts::{Facts, Family};
use crate::peers::KubeNode;

/// A component that picks a node address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Component {
    Kubelet,
    K3s,
    Rke2,
    Calico,
    Flannel,
    Cilium,
    #[serde(rename = "kube-router")]
    KubeRouter,
    Antrea,
}

impl Component {
    pub fn as_str(self) -> &'static str {
        match self {
            Component::Kubelet => "kubelet",
            Component::K3s => "k3s",
            Component::Rke2 => "rke2",
            Component::Calico => "calico",
            Component::Flannel => "flannel",
            Component::Cilium => "cilium",
            Component::KubeRouter => "kube-router",
            Component::Antrea => "antrea",
        }
    }

    /// Whether the component registers the Node's InternalIP (the address the API server, kube-proxy
    /// and CNIs that inherit it use).
    pub fn registers_internal_ip(self) -> bool {
        matches!(self, Component::Kubelet | Component::K3s | Component::Rke2)
    }
}

/// Where a setting that pins a component lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SettingKind {
    /// A command-line flag (`--iface`).
    Flag,
    /// An environment variable (`FLANNELD_IFACE`).
    Env,
    /// A Node annotation (`flannel.alpha.coreos.com/node-public-ip`).
    Annotation,
    /// A key of a configuration file (`node-ip` in /etc/rancher/k3s/config.yaml).
    ConfigKey,
    /// A Helm chart value (`devices`, `nodePort.directRoutingDevice`), set with `--set`.
    HelmValue,
    /// A key of a ConfigMap's data (`direct-routing-device` in `cilium-config`).
    ConfigMapKey,
}

/// One setting that pins a component to an address: what to set, to what, and where it lives. The
/// remediation of a finding names these; `fix` planners can consume them as values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pin {
    pub component: Component,
    pub kind: SettingKind,
    /// The flag, variable, annotation or key.
    pub name: String,
    pub value: String,
    /// Where it is set (`the kube-flannel DaemonSet's args in kube-flannel.yml`).
    pub place: String,
}

impl Pin {
    /// The setting as an operator writes it: `--iface=eth1`, `FLANNELD_IFACE=eth1`, `key: value`.
    pub fn written(&self) -> String {
        match self.kind {
            SettingKind::Flag => format!("{}={}", self.name, self.value),
            SettingKind::Env => format!("{}={}", self.name, self.value),
            SettingKind::Annotation => format!("{}={}", self.name, self.value),
            SettingKind::ConfigKey => format!("{}: {}", self.name, self.value),
            SettingKind::HelmValue => format!("--set {}={}", self.name, self.value),
            SettingKind::ConfigMapKey => format!("{}: {}", self.name, self.value),
        }
    }
}

/// What a component will do on one node.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pick {
    pub component: Component,
    /// The release modelled (`v0.26.1`, `3.28.0`, `1.33.7+k3s1`); `null` for kubelet.
    pub version: Option<String>,
    /// The interface the component uses; `null` when it fails or does not bind to one.
    pub interface: Option<String>,
    /// The IPv4 address it takes as this node's (flannel: the interface address).
    pub address: Option<IpAddr>,
    pub address_v6: Option<IpAddr>,
    /// The address peers use to reach this node (flannel: the external address, or the
    /// `public-ip-overwrite` annotation), when it differs in meaning from `address`.
    pub public_address: Option<IpAddr>,
    pub public_address_v6: Option<IpAddr>,
    /// The MTU of the component's tunnel device (`flannel.1`).
    pub mtu: Option<u32>,
    /// The node IPs it registers (kubelet, k3s, RKE2), the primary first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub node_ips: Vec<IpAddr>,
    /// The step that decided (`iface`, `iface-regex`, `default-route`, `node-ip`, …).
    pub step: String,
    /// The component's own fatal log line when it would exit; `null` otherwise.
    pub fatal: Option<String>,
    /// The walk, in the component's order.
    pub trace: Vec<String>,
    /// Why the answer is not certain (an order Go's unstable sort decides, a missing input).
    pub uncertain: Option<String>,
    /// The devices a component attaches to, for components that select several (Cilium).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub devices: Option<DeviceSelection>,
}

/// The devices a component selects, with its reason for each one it leaves out.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct DeviceSelection {
    /// The selected devices' names, in ifindex order.
    pub selected_devices: Vec<String>,
    /// Every other link with the component's own reason.
    pub not_selected: BTreeMap<String, String>,
    /// Per selected device, the addresses NodePort is served on and BPF masquerading uses (the
    /// device's primary address of each family).
    pub node_port_addresses: BTreeMap<String, Vec<IpAddr>>,
}

impl Pick {
    /// An empty pick for `component` at `version`, to be filled by a model.
    pub fn new(component: Component, version: Option<String>) -> Pick {
        Pick {
            component,
            version,
            interface: None,
            address: None,
            address_v6: None,
            public_address: None,
            public_address_v6: None,
            mtu: None,
            node_ips: Vec::new(),
            step: String::new(),
            fatal: None,
            trace: Vec::new(),
            uncertain: None,
            devices: None,
        }
    }

    /// Ends the pick with the component's fatal log line.
    pub fn fatal(mut self, step: &str, line: String) -> Pick {
        self.step = step.to_string();
        self.trace.push(line.clone());
        self.fatal = Some(line);
        self
    }

    /// Ends the pick with the component's fatal log line, at the step already recorded.
    pub fn fatal_here(self, line: String) -> Pick {
        let step = self.step.clone();
        self.fatal(&step, line)
    }

    /// The address other nodes and the cluster see for this node, per family: the public address
    /// when the component has one, else its address; for kubelet/k3s the InternalIP of the family.
    pub fn node_address(&self, family: Family) -> Option<IpAddr> {
        if self.fatal.is_some() {
            return None;
        }
        if self.component.registers_internal_ip() {
            return self
                .node_ips
                .iter()
                .copied()
                .find(|ip| Family::of(ip) == family);
        }
        match family {
            Family::Ipv4 => self.public_address.or(self.address),
            Family::Ipv6 => self.public_address_v6.or(self.address_v6),
        }
    }
}

/// One node as the models see it: its name, its snapshot, and Kubernetes' view of it when a
/// `kubectl get nodes -o json` input held it.
#[derive(Debug, Clone, Copy)]
pub struct NodeView<'a> {
    pub name: &'a str,
    pub facts: &'a Facts,
    pub kube: Option<&'a KubeNode>,
    /// This node (the host checked), not a peer: node-specific settings (annotations) apply.
    pub is_this_node: bool,
}

/// A component's address model: configuration held by the value, the host given per call.
pub trait AddressModel: Send + Sync {
    fn component(&self) -> Component;
    /// What the component picks on `node`.
    fn pick(&self, node: &NodeView) -> Pick;
    /// The settings that make the component take `address` on `interface` on this node.
    fn pins(&self, interface: &str, address: IpAddr) -> Vec<Pin>;
    /// The settings that pin the component on every node of `node_network` at once (a cluster-wide
    /// setting: a CIDR rather than this node's interface name). Default: [`AddressModel::pins`].
    fn pins_in(&self, node_network: &[IpNet], interface: &str, address: IpAddr) -> Vec<Pin> {
        let _ = node_network;
        self.pins(interface, address)
    }
}

/// Go's `net.IP.IsGlobalUnicast`: not unspecified, loopback, multicast, link-local unicast or the
/// IPv4 broadcast address (RFC 1918, CGNAT and ULA addresses count).
pub fn go_is_global_unicast(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_unspecified()
                || v4.is_loopback()
                || v4.is_multicast()
                || v4.is_link_local()
                || v4.is_broadcast())
        }
        IpAddr::V6(v6) => {
            !(v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || (v6.segments()[0] & 0xffc0) == 0xfe80)
        }
    }
}

/// Go's `net.IP.IsLinkLocalUnicast`.
pub fn go_is_link_local_unicast(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_address_classes() {
        let g = |t: &str| go_is_global_unicast(&t.parse().unwrap());
        assert!(g("10.0.0.1"));
        assert!(g("100.64.0.1"));
        assert!(g("fd00::1"));
        assert!(!g("127.0.0.1"));
        assert!(!g("169.254.1.1"));
        assert!(!g("fe80::1"));
        assert!(!g("255.255.255.255"));
        assert!(!g("224.0.0.1"));
        assert!(go_is_link_local_unicast(&"169.254.3.3".parse().unwrap()));
    }
}
