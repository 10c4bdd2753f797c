//! Test helpers shared by the address models' unit tests: a Kubernetes Node with given addresses,
//! a model's pick on this node, and the two-NIC Vagrant host (NAT on eth0 with the default route,
//! the host-only network on eth1) that most multi-NIC reports start from.

use super::{AddressModel, NodeView, Pick};
use crate::facts::testkit::host;
use crate::facts::Facts;
use crate::peers::KubeNode;

/// The Node `node-a` with `addresses` as `(type, address)` in order.
pub fn kube_node(addresses: &[(&str, &str)]) -> KubeNode {
    KubeNode {
        name: "node-a".into(),
        addresses: addresses
            .iter()
            .map(|(kind, address)| (kind.to_string(), address.to_string()))
            .collect(),
        ..KubeNode::default()
    }
}

/// What `model` picks on this node, `node-a`, with Kubernetes' view of it when given.
pub fn pick_on(model: &dyn AddressModel, facts: &Facts, kube: Option<&KubeNode>) -> Pick {
    model.pick(&NodeView {
        name: "node-a",
        facts,
        kube,
        is_this_node: true,
    })
}

/// Vagrant's two NICs: NAT `eth0` 10.0.2.15 with the default route, host-only `eth1`
/// 192.168.56.11.
pub fn vagrant() -> Facts {
    host("node-a")
        .nic("eth0", &["10.0.2.15/24"])
        .nic("eth1", &["192.168.56.11/24"])
        .route("default", Some("10.0.2.2"), "eth0", Some(100), None)
        .build()
}
