//! kube-router's node address as an address model. kube-router never looks for an address itself:
//! it reads the Node object, takes its first InternalIP (else its first ExternalIP) as the primary
//! IP, checks the families enabled by `--enable-ipv4`/`--enable-ipv6` have an address, and walks the
//! links in kernel order for the first one holding the primary IP (its node interface: BGP next
//! hop, tunnels, the MTU). Two generations of that code are modelled: v2.0–v2.2 (the routing
//! controller finds the subnet itself) and v2.3 onwards (`NewKRNode`); each fails with its own
//! error chain. With no Node object as input the InternalIP is kubelet's predicted one, and the
//! pick says its answer is only as right as that prediction.

use std::net::IpAddr;

use super::node_object::node_addresses;
use super::{AddressModel, Component, NodeView, Pick, Pin};
use crate::facts::Family;
use crate::profile::cni::{KubeRouterProfile, Release};

/// The release modelled when the profile names none.
pub const DEFAULT_RELEASE: Release = Release::new(2, 6, 1);
/// The first release with `NewKRNode` (and its error chain).
const KR_NODE: Release = Release::new(2, 3, 0);

/// kube-router with the flags that bear on its node address.
#[derive(Debug, Clone, PartialEq)]
pub struct KubeRouterModel {
    pub version: Release,
    pub enable_ipv4: bool,
    pub enable_ipv6: bool,
}

/// A pflag boolean: `--name`, `--name=true|false` (last one wins).
fn bool_flag(args: &[String], name: &str, default: bool) -> bool {
    let mut value = default;
    for word in args {
        let Some(body) = word.strip_prefix("--").or_else(|| word.strip_prefix('-')) else {
            continue;
        };
        match body.split_once('=') {
            Some((n, v)) if n == name => value = matches!(v, "true" | "1" | "t" | "T" | "TRUE"),
            None if body == name => value = true,
            _ => {}
        }
    }
    value
}

impl KubeRouterModel {
    pub fn from_profile(profile: Option<&KubeRouterProfile>) -> KubeRouterModel {
        let args = profile.map(|p| p.args.as_slice()).unwrap_or_default();
        KubeRouterModel {
            version: profile.and_then(|p| p.version).unwrap_or(DEFAULT_RELEASE),
            enable_ipv4: bool_flag(args, "enable-ipv4", true),
            enable_ipv6: bool_flag(args, "enable-ipv6", false),
        }
    }

    /// kube-router's error as it exits with it (`failed to run kube-router: …`).
    fn exit_line(&self, cause: &str) -> String {
        format!("failed to run kube-router: failed to create network routing controller: {cause}")
    }
}

impl AddressModel for KubeRouterModel {
    fn component(&self) -> Component {
        Component::KubeRouter
    }

    fn pick(&self, node: &NodeView) -> Pick {
        let mut pick = Pick::new(Component::KubeRouter, Some(self.version.to_string()));
        let addrs = node_addresses(node);
        pick.trace.push(format!(
            "the Node's addresses come from {}: InternalIP {:?}, ExternalIP {:?}",
            addrs.origin,
            addrs
                .internal
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>(),
            addrs
                .external
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
        ));
        pick.uncertain = addrs.predicted.clone();
        let kr_node = self.version >= KR_NODE;
        pick.step = "node-internal-ip".into();
        let primary = match (addrs.internal.first(), addrs.external.first()) {
            (Some(ip), _) => *ip,
            (None, Some(ip)) => {
                pick.step = "node-external-ip".into();
                pick.trace.push(
                    "the Node has no InternalIP: kube-router takes its first ExternalIP".into(),
                );
                *ip
            }
            (None, None) => {
                if let Some(e) = &addrs.kubelet_error {
                    pick.trace
                        .push(format!("kubelet registers no address: {e}"));
                }
                let cause = if kr_node {
                    "error getting primary NodeIP: host IP unknown"
                } else {
                    "failed getting IP address from node object: host IP unknown"
                };
                return pick.fatal_here(self.exit_line(cause));
            }
        };
        pick.trace.push(format!("the primary node IP is {primary}"));
        let all: Vec<IpAddr> = addrs
            .internal
            .iter()
            .chain(&addrs.external)
            .copied()
            .collect();
        let first_of = |family: Family| {
            if Family::of(&primary) == family {
                return Some(primary);
            }
            let of = |list: &[IpAddr]| list.iter().copied().find(|a| Family::of(a) == family);
            of(&addrs.internal).or_else(|| of(&addrs.external))
        };
        for (enabled, family) in [
            (self.enable_ipv4, Family::Ipv4),
            (self.enable_ipv6, Family::Ipv6),
        ] {
            if enabled && !all.iter().any(|a| Family::of(a) == family) {
                let n = family.number();
                return pick.fatal_here(self.exit_line(&format!(
                    "IPv{n} was enabled, but no IPv{n} address was found on the node"
                )));
            }
        }
        // The first link, in kernel order, with an address equal to the primary IP.
        let holder = node
            .facts
            .interfaces
            .iter()
            .find(|i| i.addresses.iter().any(|a| a.address == primary));
        let Some(link) = holder else {
            pick.trace.push(format!(
                "no link holds {primary} on {}",
                node.facts.host.hostname
            ));
            let cause = if kr_node {
                "error getting node subnet: failed to find interface with specified node ip"
            } else {
                // v2.0–v2.2 join the two strings without a space.
                "failed find the subnet of the node IP and interface onwhich its configured: failed to find interface with specified node ip"
            };
            return pick.fatal_here(self.exit_line(cause));
        };
        pick.trace.push(format!(
            "{} is the first link holding {primary}: kube-router's node interface",
            link.name
        ));
        pick.interface = Some(link.name.to_string());
        pick.mtu = Some(link.mtu);
        if self.enable_ipv4 {
            pick.address = first_of(Family::Ipv4);
        }
        if self.enable_ipv6 {
            pick.address_v6 = first_of(Family::Ipv6);
        }
        pick
    }

    /// kube-router has no setting of its own for the address: it follows the Node's InternalIP,
    /// which kubelet's (or k3s's) pin moves.
    fn pins(&self, _interface: &str, _address: IpAddr) -> Vec<Pin> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests;
