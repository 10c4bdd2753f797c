//! kubelet's InternalIP as an address model: Kubernetes' own `status.addresses` when a Node object
//! is known, else the `crate::kubelet` prediction (`--node-ip`, the node name, its lookup, the
//! default route).

use std::net::IpAddr;

use super::{AddressModel, Component, NodeView, Pick, Pin, SettingKind};

/// kubelet on a kubeadm node.
#[derive(Debug, Clone, Copy, Default)]
pub struct KubeletModel;

impl AddressModel for KubeletModel {
    fn component(&self) -> Component {
        Component::Kubelet
    }

    fn pick(&self, node: &NodeView) -> Pick {
        let mut pick = Pick::new(Component::Kubelet, None);
        let registered: Vec<IpAddr> = node
            .kube
            .map(|k| {
                k.addresses
                    .iter()
                    .filter(|(kind, _)| kind == "InternalIP")
                    .filter_map(|(_, a)| a.parse().ok())
                    .collect()
            })
            .unwrap_or_default();
        if !registered.is_empty() {
            pick.step = "registered".into();
            pick.trace.push(
                "the Node object's status.addresses (kubectl input) show the InternalIP".into(),
            );
            pick.node_ips = registered;
        } else {
            let p = crate::kubelet::predict_node_ip(node.facts);
            pick.step = p.step.as_str().to_string();
            pick.trace = p.trace.clone();
            pick.uncertain = p.assumed.clone();
            if let Some(error) = p.error {
                return pick.fatal(p.step.as_str(), error);
            }
            pick.node_ips = p.addresses;
        }
        let primary_v4 = pick.node_ips.iter().copied().find(IpAddr::is_ipv4);
        let primary_v6 = pick.node_ips.iter().copied().find(IpAddr::is_ipv6);
        pick.address = primary_v4;
        pick.address_v6 = primary_v6;
        pick.interface = pick.node_ips.first().and_then(|ip| {
            crate::network::addresses::owner_of(node.facts, *ip).map(|i| i.name.to_string())
        });
        pick
    }

    fn pins(&self, _interface: &str, address: IpAddr) -> Vec<Pin> {
        vec![Pin {
            component: Component::Kubelet,
            kind: SettingKind::Flag,
            name: "--node-ip".into(),
            value: address.to_string(),
            place: "KUBELET_EXTRA_ARGS in /etc/default/kubelet (Debian family) or /etc/sysconfig/kubelet (RHEL family), then `systemctl restart kubelet`".into(),
        }]
    }
}
