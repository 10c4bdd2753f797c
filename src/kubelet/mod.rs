//! kubelet's choice of the node's InternalIP, modelled step by step as kubelet's `NodeAddress`
//! setter and apimachinery's `ChooseHostInterface` make it, as a pure function of [`Facts`]
//! (`node_ip`), and the one line that pins `--node-ip` in the file kubeadm's drop-in reads
//! (`pin`). Calico's `kubernetes-internal-ip`, the node checks and the fleet checks all read the
//! prediction from here. Also kubelet's hard-eviction thresholds for the disk signals
//! (`eviction`).
//!
//! [`Facts`]: crate::facts::Facts

pub mod eviction;
pub mod node_ip;
pub mod pin;

#[cfg(test)]
mod node_ip_tests;

pub use node_ip::{predict_node_ip, NodeIpPrediction, Step};

pub use crate::network::addresses::parse_ip_sloppy;
