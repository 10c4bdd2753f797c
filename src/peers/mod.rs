//! Peer input: other nodes' facts, from nodecheck snapshots, Ansible facts (nodecheck's module or plain
//! `setup` facts, in every form Ansible saves them) or `kubectl get nodes -o json`.

pub mod ansible;
pub mod ansible_setup;
mod ansible_text;
pub mod detect;
pub mod identity;
pub mod input_error;
pub mod kubectl;
pub mod load;
pub mod multi;
mod read;
pub mod snapshot;

use crate::facts::Facts;

/// What one other node looks like, as far as its source tells.
#[derive(Debug, Clone, PartialEq)]
pub struct Peer {
    /// Node name (hostname or Kubernetes node name).
    pub name: String,
    /// The file (and position inside it) it came from.
    pub source: String,
    /// Full interface-level facts, when the source is a nodecheck snapshot or an Ansible cache.
    pub facts: Option<Box<Facts>>,
    /// Kubernetes' view of the node, when the source is a `kubectl get nodes -o json` list.
    pub node: Option<Box<KubeNode>>,
}

/// The parts of a Kubernetes `Node` object nodecheck uses.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct KubeNode {
    pub name: String,
    pub kernel_version: Option<String>,
    pub os_image: Option<String>,
    pub container_runtime_version: Option<String>,
    pub kubelet_version: Option<String>,
    /// `status.addresses` in order: (type, address), e.g. ("InternalIP", "10.20.41.11").
    pub addresses: Vec<(String, String)>,
    /// `projectcalico.org/IPv4Address` annotation (`10.20.41.11/24`).
    pub calico_ipv4_address: Option<String>,
    pub calico_ipv6_address: Option<String>,
    /// `status.nodeInfo.machineID` (the node's `/etc/machine-id`).
    pub machine_id: Option<String>,
    /// `status.nodeInfo.systemUUID` (the DMI product_uuid).
    pub system_uuid: Option<String>,
    /// `projectcalico.org/IPv4IPIPTunnelAddr` annotation.
    pub calico_ipip_tunnel_address: Option<String>,
    /// `projectcalico.org/IPv4VXLANTunnelAddr` annotation.
    pub calico_vxlan_tunnel_address: Option<String>,
}
