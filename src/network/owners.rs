//! Who made an interface, when the snapshot can tell: a compose project's bridge, a docker network,
//! docker's default bridge, a Calico tunnel, kube-proxy's IPVS dummy. Findings name the owner so the
//! operator knows which tool to change.

use crate::facts::Facts;

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
