//! The Node object's `status.addresses` as the CNIs that read it (kube-router, Antrea) see it:
//! Kubernetes' own when a `kubectl get nodes -o json` input held the Node, else kubelet's
//! registration as nodecheck's kubelet model predicts it. In the second case a CNI's answer is only
//! as right as that prediction, and the models say so.

use std::net::IpAddr;

use super::NodeView;

/// A Node's addresses by type, in `status.addresses` order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NodeAddresses {
    pub internal: Vec<IpAddr>,
    pub external: Vec<IpAddr>,
    /// Where they come from, for the walk.
    pub origin: String,
    /// Set when they are kubelet's predicted registration rather than the Node's own.
    pub predicted: Option<String>,
    /// kubelet's own error when the prediction is that it registers nothing.
    pub kubelet_error: Option<String>,
}

/// The Node's addresses on `node`.
pub fn node_addresses(node: &NodeView) -> NodeAddresses {
    if let Some(kube) = node.kube {
        let of = |wanted: &str| -> Vec<IpAddr> {
            kube.addresses
                .iter()
                .filter(|(kind, _)| kind == wanted)
                .filter_map(|(_, a)| a.parse().ok())
                .collect()
        };
        return NodeAddresses {
            internal: of("InternalIP"),
            external: of("ExternalIP"),
            origin: "the Node object's status.addresses (kubectl input)".into(),
            predicted: None,
            kubelet_error: None,
        };
    }
    let prediction = crate::kubelet::predict_node_ip(node.facts);
    let mut predicted = format!(
        "no Node object of {} was given (kubectl input): the InternalIP is nodecheck's prediction of kubelet's registration ({}), so this answer is only as right as kubelet's",
        node.name, prediction.reason
    );
    if let Some(assumed) = &prediction.assumed {
        predicted.push_str(&format!("; {assumed}"));
    }
    NodeAddresses {
        internal: prediction.addresses.clone(),
        external: Vec::new(),
        origin: "kubelet's registration as nodecheck predicts it".into(),
        predicted: Some(predicted),
        kubelet_error: prediction.error.clone(),
    }
}
