//! `Firewall-Active` (kubeadm's `Firewalld`, a warning on `init` only): firewalld or ufw active, and
//! whether the permanent configuration lets in what Calico and kubelet need: BGP 179/tcp, kubelet
//! 10250/tcp, Typha 5473/tcp, and per encapsulation VXLAN 4789/udp, IP-in-IP (protocol 4) or
//! WireGuard 51820/udp. A firewall that drops them breaks pod traffic between nodes while the nodes
//! still ping each other.

use crate::checks::{Area, CheckResult, Context};
use crate::facts::node_setup::{Firewall, NodeSetup};
use crate::profile::Encapsulation;

pub const ID: &str = "Firewall-Active";
const AREA: Area = Area::DataPlane;

/// What must come in: `(port or protocol, what for)`.
pub fn needed(encapsulation: Encapsulation) -> Vec<(&'static str, &'static str)> {
    let mut list = vec![
        ("179/tcp", "Calico BGP"),
        ("10250/tcp", "kubelet"),
        ("5473/tcp", "Calico Typha"),
    ];
    match encapsulation {
        Encapsulation::Ipip | Encapsulation::IpipCrossSubnet => {
            list.push(("ipip", "IP-in-IP (protocol 4)"))
        }
        Encapsulation::Vxlan | Encapsulation::VxlanCrossSubnet => list.push(("4789/udp", "VXLAN")),
        Encapsulation::Wireguard => list.push(("51820/udp", "WireGuard")),
        Encapsulation::None => {}
    }
    list
}

/// Whether `need` (`179/tcp` or a protocol name) is in the open ports (ranges included) or protocols.
fn is_open(need: &str, ports: &[String], protocols: &[String]) -> bool {
    if protocols.iter().any(|p| p == "any") {
        return true;
    }
    match need.split_once('/') {
        Some((port, proto)) => {
            let port: u32 = port.parse().unwrap_or(0);
            protocols.iter().any(|p| p == proto)
                || ports.iter().any(|open| {
                    let Some((range, open_proto)) = open.split_once('/') else {
                        return false;
                    };
                    let (lo, hi) = range.split_once('-').unwrap_or((range, range));
                    open_proto == proto
                        && lo.parse::<u32>().is_ok_and(|lo| lo <= port)
                        && hi.parse::<u32>().is_ok_and(|hi| port <= hi)
                })
        }
        None => protocols
            .iter()
            .any(|p| p == need || (need == "ipip" && p == "4")),
    }
}

pub fn evaluate(ctx: &Context, setup: &NodeSetup) -> Vec<CheckResult> {
    let (encapsulation, _) = super::encapsulation(ctx);
    let needs = needed(encapsulation);
    let Firewall { firewalld, ufw } = &setup.firewall;
    let mut active = Vec::new();
    let mut closed: Vec<String> = Vec::new();
    if let Some(f) = firewalld.as_ref().filter(|f| f.active) {
        active.push(format!("firewalld (zone {})", f.default_zone));
        if f.target.as_deref() != Some("ACCEPT") {
            for (need, what) in &needs {
                if !is_open(need, &f.open_ports, &f.open_protocols) {
                    closed.push(format!(
                        "{need} ({what}) in firewalld zone {}",
                        f.default_zone
                    ));
                }
            }
        }
    }
    if let Some(u) = ufw.as_ref().filter(|u| u.enabled) {
        active.push("ufw".to_string());
        if !u
            .default_input_policy
            .as_deref()
            .is_some_and(|p| p.eq_ignore_ascii_case("ACCEPT"))
        {
            for (need, what) in &needs {
                if !is_open(need, &u.allowed_ports, &u.allowed_protocols) {
                    closed.push(format!("{need} ({what}) in ufw"));
                }
            }
        }
    }
    let r = if active.is_empty() {
        CheckResult::ok(
            ID,
            AREA,
            "no host firewall is active (firewalld and ufw are off or not installed)",
        )
    } else if closed.is_empty() {
        CheckResult::ok(
            ID,
            AREA,
            format!(
                "{} active and its permanent configuration lets in {}",
                active.join(" and "),
                needs.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
            ),
        )
    } else {
        CheckResult::warn(
            ID,
            AREA,
            format!(
                "{} active; its permanent configuration does not let in {} (runtime-only rules cannot be read)",
                active.join(" and "),
                closed.join(", ")
            ),
        )
        .fix("open them, e.g. `firewall-cmd --permanent --add-port=179/tcp --add-port=10250/tcp --add-port=5473/tcp --add-port=4789/udp --add-protocol=ipip && firewall-cmd --reload`, or `ufw allow 179/tcp` ...; or turn the host firewall off on cluster nodes")
    };
    vec![r
        .with("active", active)
        .with("closed", closed)
        .with("needed", needs.iter().map(|(n, _)| *n).collect::<Vec<_>>())
        .with(
            "firewall",
            serde_json::to_value(&setup.firewall).unwrap_or_default(),
        )]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_ranges_and_protocols() {
        let ports = vec!["179/tcp".to_string(), "10000-11000/tcp".to_string()];
        let protocols = vec!["4".to_string()];
        assert!(is_open("179/tcp", &ports, &protocols));
        assert!(is_open("10250/tcp", &ports, &protocols));
        assert!(!is_open("4789/udp", &ports, &protocols));
        assert!(is_open("ipip", &ports, &protocols));
        assert!(is_open("4789/udp", &[], &["any".to_string()]));
    }
}
