//! The fleet as parity checks see it: this node and every peer, each with what its sources tell.
//!
//! A node may be known from a snapshot (full facts), from a kubectl node list, or from both. The
//! node-network NIC of a node with facts is the first interface (in kernel order) holding a global
//! address in its node subnets (`network::node_subnets`).

use std::net::IpAddr;

use ipnet::IpNet;

use super::group::{Grouping, Member};
use crate::checks::Context;
use crate::facts::{Facts, Family, Interface};
use crate::network;
use crate::peers::KubeNode;

/// One node of the fleet.
#[derive(Debug, Clone)]
pub struct NodeView<'a> {
    pub name: &'a str,
    /// This node (the one being checked), not a peer.
    pub this: bool,
    pub facts: Option<&'a Facts>,
    pub kube: Option<&'a KubeNode>,
    /// The node-network NIC, when facts are known and one is found.
    pub nic: Option<&'a Interface>,
    /// Where a peer's record came from (file, `file:LINE`, `file#items[3]`); none for this node.
    pub source: Option<&'a str>,
}

impl<'a> NodeView<'a> {
    pub fn member(&self) -> Member<'a> {
        Member::new(self.name, self.this)
    }

    pub fn kernel_release(&self) -> Option<&'a str> {
        match (self.facts, self.kube) {
            (Some(f), _) => Some(&f.host.kernel_release),
            (None, Some(k)) => k.kernel_version.as_deref(),
            (None, None) => None,
        }
    }

    /// The OS image as kubelet reports it (`PRETTY_NAME` of os-release); not known from facts that
    /// lack it (Ansible's name the distribution otherwise).
    pub fn os_image(&self) -> Option<&'a str> {
        let from_facts = self
            .facts
            .filter(|f| f.knows("host.os.pretty_name"))
            .and_then(|f| {
                let os = &f.host.os;
                os.pretty_name.as_deref().or(os.id.as_deref())
            });
        from_facts.or_else(|| self.kube.and_then(|k| k.os_image.as_deref()))
    }

    /// kubelet's InternalIP as the `Kubelet-NodeIP` model predicts it from the node's snapshot;
    /// `None` without a snapshot or without kubelet inputs in it.
    pub fn kubelet_prediction(&self) -> Option<crate::kubelet::NodeIpPrediction> {
        let facts = self.facts?;
        facts.kubelet.as_ref()?;
        Some(crate::kubelet::predict_node_ip(facts))
    }

    /// The node's addresses: per family, the node NIC's first address inside the node network (or
    /// its first global address when the profile names no node network), plus every address
    /// Kubernetes and Calico record for it, or, without a Node object, the InternalIP(s) kubelet
    /// will register (predicted from the snapshot's kubelet inputs). Each address once.
    pub fn node_addresses(&self, cidrs: &[IpNet]) -> Vec<IpAddr> {
        let mut out: Vec<IpAddr> = Vec::new();
        if let Some(nic) = self.nic {
            for family in [Family::Ipv4, Family::Ipv6] {
                let first = nic.addresses.iter().find(|a| {
                    a.family == family
                        && if cidrs.is_empty() {
                            a.scope == "global"
                        } else {
                            cidrs.iter().any(|c| c.contains(&a.address))
                        }
                });
                out.extend(first.map(|a| a.address));
            }
        }
        if let Some(k) = self.kube {
            let internal = k
                .addresses
                .iter()
                .filter(|(kind, _)| kind == "InternalIP")
                .filter_map(|(_, a)| a.parse().ok());
            let calico = [&k.calico_ipv4_address, &k.calico_ipv6_address]
                .into_iter()
                .flatten()
                .filter_map(|a| parse_address(a));
            for address in internal.chain(calico) {
                if !out.contains(&address) {
                    out.push(address);
                }
            }
        } else if let Some(prediction) = self.kubelet_prediction() {
            for address in prediction.addresses {
                if !out.contains(&address) {
                    out.push(address);
                }
            }
        }
        out
    }
}

/// `10.20.41.11/24` or `10.20.41.11` → the address.
pub fn parse_address(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    text.parse::<IpNet>()
        .map(|n| n.addr())
        .or_else(|_| text.parse::<IpAddr>())
        .ok()
}

/// The fleet grouped by one value of each node (`None`: not known for that node; a node whose facts
/// tell less than a snapshot says where they came from: "w1 (from Ansible facts)").
pub fn group_by<'a>(
    nodes: &[NodeView<'a>],
    value: impl Fn(&NodeView<'a>) -> Option<String>,
) -> Grouping<'a> {
    Grouping::of(nodes.iter().map(|n| {
        let value = value(n);
        let mut member = n.member();
        if value.is_none() && n.kube.is_none() {
            member.detail = n.facts.and_then(Facts::partial_source).map(String::from);
        }
        (member, value)
    }))
}

/// This node first, then the peers in load order.
pub fn node_views<'a>(ctx: &Context<'a>) -> Vec<NodeView<'a>> {
    let cidrs = &ctx.profile.node_network.cidrs;
    let this = NodeView {
        name: &ctx.facts.host.hostname,
        this: true,
        facts: Some(ctx.facts),
        kube: ctx.this_node_kube,
        nic: node_network_nic(ctx.facts, cidrs),
        source: None,
    };
    std::iter::once(this)
        .chain(ctx.peers.iter().map(|p| NodeView {
            name: &p.name,
            this: false,
            facts: p.facts.as_deref(),
            kube: p.node.as_deref(),
            nic: p.facts.as_ref().and_then(|f| node_network_nic(f, cidrs)),
            source: Some(&p.source),
        }))
        .collect()
}

/// The interface carrying the node network (see the module documentation).
pub fn node_network_nic<'f>(facts: &'f Facts, cidrs: &[IpNet]) -> Option<&'f Interface> {
    network::node_nic(facts, &network::node_subnets(facts, cidrs))
}
