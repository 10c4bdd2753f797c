//! calico-node's autodetected address as an address model: the `crate::calico` prediction for the
//! profile's method and release, per family, with the node's InternalIP from Kubernetes or kubelet's
//! model (for `kubernetes-internal-ip`).

use std::net::IpAddr;
use std::sync::{Mutex, OnceLock};

use super::{AddressModel, Component, NodeView, Pick, Pin, SettingKind};
use crate::calico::predict::{predict, Model, NodeInput, Verdict};
use crate::facts::Family;
use crate::profile::calico_version::CalicoVersion;

/// calico-node with its autodetection methods. One Calico model (and so one cache of compiled
/// regexes) serves every node: compiling the exclusion list per node would cost seconds for ten
/// thousand peers.
#[derive(Debug)]
pub struct CalicoModel {
    pub ipv4_method: String,
    /// The IPv6 method, when Calico autodetects IPv6.
    pub ipv6_method: Option<String>,
    model: Mutex<Model<'static>>,
}

/// The release as a `'static` value the shared model can borrow: one per distinct release for the
/// life of the process (a long-running `serve` builds its stack again every run).
fn interned(version: &CalicoVersion) -> &'static CalicoVersion {
    static KNOWN: OnceLock<Mutex<Vec<&'static CalicoVersion>>> = OnceLock::new();
    let mut known = KNOWN
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(v) = known.iter().find(|v| **v == version) {
        return v;
    }
    let leaked: &'static CalicoVersion = Box::leak(Box::new(version.clone()));
    known.push(leaked);
    leaked
}

impl CalicoModel {
    pub fn new(version: &CalicoVersion, ipv4_method: String, ipv6_method: Option<String>) -> Self {
        CalicoModel {
            ipv4_method,
            ipv6_method,
            model: Mutex::new(Model::new(interned(version), &[])),
        }
    }
}

impl AddressModel for CalicoModel {
    fn component(&self) -> Component {
        Component::Calico
    }

    fn pick(&self, node: &NodeView) -> Pick {
        let model = self.model.lock().unwrap_or_else(|e| e.into_inner());
        let mut pick = Pick::new(Component::Calico, Some(model.version.to_string()));
        let input = NodeInput {
            name: node.name.to_string(),
            facts: node.facts,
            internal_ips: crate::calico::nodes::internal_ips(node.kube, node.facts),
            kernel_reach: &[],
        };
        let mut families = vec![(Family::Ipv4, self.ipv4_method.as_str())];
        if let Some(m) = &self.ipv6_method {
            families.push((Family::Ipv6, m.as_str()));
        }
        pick.step = format!("IP_AUTODETECTION_METHOD={}", self.ipv4_method);
        for (family, method) in families {
            let prediction = predict(&model, &input, method, family);
            pick.trace.extend(prediction.trace.iter().cloned());
            match prediction.verdict {
                Verdict::Selected {
                    interface,
                    address,
                    log,
                } => {
                    pick.trace.push(log);
                    if pick.interface.is_none() {
                        pick.interface = Some(interface);
                    }
                    match family {
                        Family::Ipv4 => pick.address = Some(address.ip),
                        Family::Ipv6 => pick.address_v6 = Some(address.ip),
                    }
                }
                Verdict::Failed { log } => return pick.fatal_here(log.join("; ")),
                Verdict::Terminated { log } => return pick.fatal_here(log),
                Verdict::Undetermined { reason } => pick.uncertain = Some(reason),
            }
        }
        pick
    }

    fn pins(&self, interface: &str, _address: IpAddr) -> Vec<Pin> {
        vec![Pin {
            component: Component::Calico,
            kind: SettingKind::Env,
            name: "IP_AUTODETECTION_METHOD".into(),
            value: format!("interface={}", regex::escape(interface)),
            place: "the calico-node DaemonSet's environment (`nodecheck calico --format kubectl` prints the command)".into(),
        }]
    }

    /// `cidr=` with the node network's IPv4 CIDRs: one method that holds on every node.
    fn pins_in(&self, node_network: &[ipnet::IpNet], interface: &str, address: IpAddr) -> Vec<Pin> {
        let cidrs: Vec<String> = node_network
            .iter()
            .filter(|n| matches!(n, ipnet::IpNet::V4(_)))
            .map(|n| n.trunc().to_string())
            .collect();
        if cidrs.is_empty() {
            return self.pins(interface, address);
        }
        vec![Pin {
            component: Component::Calico,
            kind: SettingKind::Env,
            name: "IP_AUTODETECTION_METHOD".into(),
            value: format!("cidr={}", cidrs.join(",")),
            place: "the calico-node DaemonSet's environment (manifest install) or the Installation's nodeAddressAutodetectionV4.cidrs (operator install)".into(),
        }]
    }
}
