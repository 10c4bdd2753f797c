//! What the post-join and drift checks share: finding this node's NIC and network in a snapshot, and
//! naming who owns an interface (a compose project's bridge, docker's default bridge, a Calico tunnel).

use crate::checks::node_network;
use crate::facts::{Address, Facts, Interface};
use crate::profile::Profile;

pub use crate::network::addresses::cidr_of as cidr;

/// The node NIC of a snapshot: the NIC the profile expects, else the first interface holding an
/// address in the node network (the profile's CIDRs, else the default route's subnets).
pub fn node_nic<'a>(facts: &'a Facts, profile: &Profile) -> Option<&'a Interface> {
    node_network::resolve(facts, profile).nic
}

/// Global addresses that are meant to stay (not IPv6 privacy addresses, which rotate by design).
pub fn stable_global_addresses(iface: &Interface) -> impl Iterator<Item = &Address> {
    iface.addresses.iter().filter(|a| is_stable_global(a))
}

fn is_stable_global(a: &Address) -> bool {
    a.scope == "global" && !a.flags.iter().any(|f| f == "temporary")
}

/// Who made this interface, when we can tell: `compose project middleware`, `docker network
/// backend`, `docker's default bridge`, `Calico IP-in-IP tunnel`; `None` otherwise.
pub fn interface_owner(facts: &Facts, name: &str) -> Option<String> {
    if let Some(net) = facts
        .docker
        .networks
        .iter()
        .find(|n| n.bridge_device.as_deref() == Some(name))
    {
        return Some(match &net.compose_project {
            Some(project) => format!("compose project {}", project),
            None if net.name == "bridge" => "docker's default bridge".to_string(),
            None => format!("docker network {}", net.name),
        });
    }
    let owner = match name {
        "docker0" => "docker's default bridge",
        "tunl0" => "Calico IP-in-IP tunnel",
        "vxlan.calico" | "vxlan-v6.calico" => "Calico VXLAN tunnel",
        "wireguard.cali" | "wg-v6.cali" => "Calico WireGuard tunnel",
        "kube-ipvs0" => "kube-proxy IPVS dummy",
        "nodelocaldns" => "NodeLocal DNSCache",
        n if crate::facts::is_docker_network_bridge(n) => "a docker network bridge",
        _ => return None,
    };
    Some(owner.to_string())
}

/// `br-3f2a1b4c5d6e (compose project middleware)`. Messages carry names as they are; the
/// renderers escape them for the terminal.
pub fn describe_interface(facts: &Facts, name: &str) -> String {
    match interface_owner(facts, name) {
        Some(owner) => format!("{name} ({owner})"),
        None => name.to_string(),
    }
}

/// `a, b, c` or `none`.
pub fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join(", ")
    }
}
