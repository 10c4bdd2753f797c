//! kubelet's choice of the node's InternalIP, modelled step by step as kubelet's `NodeAddress`
//! setter and apimachinery's `ChooseHostInterface` make it, as a pure function of [`Facts`]
//! (`node_ip`), and the one line that pins `--node-ip` in the file kubeadm's drop-in reads
//! (`pin`). Calico's `kubernetes-internal-ip`, the node checks and the fleet checks all read the
//! prediction from here.
//!
//! [`Facts`]: crate::facts::Facts

pub mod node_ip;
pub mod pin;

#[cfg(test)]
mod node_ip_tests;

pub use node_ip::{predict_node_ip, NodeIpPrediction, Step};

use std::net::{IpAddr, Ipv4Addr};

/// Parses an address as Go's `netutils.ParseIPSloppy` does: IPv4 octets may carry leading zeros
/// (read as decimal), IPv6 as usual.
pub fn parse_ip_sloppy(text: &str) -> Option<IpAddr> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ip);
    }
    let octets: Vec<&str> = text.split('.').collect();
    if octets.len() != 4 {
        return None;
    }
    let mut bytes = [0u8; 4];
    for (slot, octet) in bytes.iter_mut().zip(&octets) {
        if octet.is_empty() || octet.len() > 3 || !octet.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *slot = octet.parse().ok()?;
    }
    Some(IpAddr::V4(Ipv4Addr::from(bytes)))
}
