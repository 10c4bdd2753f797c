//! The cluster's stack of address models, built from the profile's `cni:` and `calico:` sections
//! (with deployed configuration merged in by the caller): one model per component the cluster runs.

use super::antrea::AntreaModel;
use super::calico::CalicoModel;
use super::cilium::CiliumModel;
use super::flannel::settings::{FlannelInputs, FlannelSettings};
use super::flannel::{FlannelModel, Flavor};
use super::k3s::rke2_cni::{self, Rke2Cni};
use super::k3s::{K3sFlags, K3sFlannelModel, K3sNodeIpModel};
use super::kube_router::KubeRouterModel;
use super::kubelet::KubeletModel;
use super::{AddressModel, Component, NodeView, Pick};
use crate::facts::Family;
use crate::profile::calico_version::CalicoVersion;
use crate::profile::cni::{
    CniSettings, ComponentName, FlannelProfile, FlannelVersion, K3sProfile, K3sVersion,
};
use crate::profile::CalicoSettings;

/// Every component's model, in report order.
pub struct Stack {
    pub models: Vec<Box<dyn AddressModel>>,
}

impl std::fmt::Debug for Stack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.models.iter().map(|m| m.component().as_str()).collect();
        f.debug_struct("Stack").field("models", &names).finish()
    }
}

fn flannel_model(profile: Option<&FlannelProfile>, flavor: Flavor, place: &str) -> FlannelModel {
    let empty = FlannelProfile::default();
    let p = profile.unwrap_or(&empty);
    let version = p.version.unwrap_or(match flavor {
        Flavor::Upstream => FlannelVersion::DEFAULT,
        Flavor::Canal => FlannelVersion::CANAL,
    });
    let inputs = FlannelInputs {
        args: &p.args,
        env: Some(&p.env),
        annotations: Some(&p.annotations),
        enable_ipv4: p.enable_ipv4,
        enable_ipv6: p.enable_ipv6,
        backend: p.backend,
        args_place: place,
    };
    let this = FlannelSettings::resolve(version, &inputs);
    let peers = FlannelSettings::resolve(
        version,
        &FlannelInputs {
            annotations: None,
            ..inputs
        },
    );
    FlannelModel::new(this, peers, flavor)
}

fn k3s_parts(profile: Option<&K3sProfile>) -> (K3sVersion, K3sFlags) {
    let version = profile
        .and_then(|p| p.version.clone())
        .unwrap_or_else(K3sVersion::default_release);
    let flags = K3sFlags::parse(profile.map(|p| p.args.as_slice()).unwrap_or_default());
    (version, flags)
}

/// The components the cluster runs. An RKE2 cluster without an explicit `components` list runs
/// the CNI its `--cni` selects (Canal by default; Cilium has no model here, `none` none); a
/// selection RKE2 refuses leaves the CNI out, and RKE2's own pick carries the fatal line.
fn components(cni: &CniSettings) -> Vec<ComponentName> {
    let mut components = cni.effective_components();
    let Some(rke2) = cni
        .rke2
        .as_ref()
        .filter(|_| cni.components.is_empty() && cni.k3s.is_none())
    else {
        return components;
    };
    components.retain(|c| *c != ComponentName::Canal);
    let (version, flags) = k3s_parts(Some(rke2));
    match rke2_cni::select(&flags.cni, &version).map(|c| c.cni) {
        Ok(Rke2Cni::Canal) => components.push(ComponentName::Canal),
        Ok(Rke2Cni::Calico) => components.push(ComponentName::Calico),
        Ok(Rke2Cni::Flannel) => components.push(ComponentName::Flannel),
        Ok(Rke2Cni::Cilium | Rke2Cni::None) | Err(_) => {}
    }
    components
}

/// The stack the profile describes. `calico_version`: the release to model for Calico.
pub fn build(
    cni: &CniSettings,
    calico: &CalicoSettings,
    calico_version: &CalicoVersion,
    flannel_place: &str,
) -> Stack {
    let mut models: Vec<Box<dyn AddressModel>> = Vec::new();
    for component in components(cni) {
        match component {
            ComponentName::Kubelet => models.push(Box::new(KubeletModel)),
            ComponentName::Calico => models.push(Box::new(CalicoModel::new(
                calico_version,
                calico
                    .ipv4_method
                    .clone()
                    .unwrap_or_else(|| "first-found".into()),
                calico.families.contains(&Family::Ipv6).then(|| {
                    calico
                        .ipv6_method
                        .clone()
                        .unwrap_or_else(|| "first-found".into())
                }),
            ))),
            ComponentName::Cilium => {
                models.push(Box::new(CiliumModel::from_profile(cni.cilium.as_ref())))
            }
            ComponentName::Flannel => models.push(Box::new(flannel_model(
                cni.flannel.as_ref(),
                Flavor::Upstream,
                flannel_place,
            ))),
            ComponentName::Canal => models.push(Box::new(flannel_model(
                cni.flannel.as_ref(),
                Flavor::Canal,
                flannel_place,
            ))),
            ComponentName::KubeRouter => models.push(Box::new(KubeRouterModel::from_profile(
                cni.kube_router.as_ref(),
            ))),
            ComponentName::Antrea => {
                models.push(Box::new(AntreaModel::from_profile(cni.antrea.as_ref())))
            }
            ComponentName::K3s | ComponentName::Rke2 => {
                let (distro, profile) = if component == ComponentName::K3s {
                    (Component::K3s, cni.k3s.as_ref())
                } else {
                    (Component::Rke2, cni.rke2.as_ref())
                };
                let (version, flags) = k3s_parts(profile);
                let embedded_flannel = distro == Component::K3s && flags.runs_flannel();
                models.push(Box::new(K3sNodeIpModel {
                    distro,
                    version: version.clone(),
                    flags: flags.clone(),
                }));
                if embedded_flannel {
                    models.push(Box::new(K3sFlannelModel {
                        distro,
                        version,
                        flags,
                    }));
                }
            }
        }
    }
    Stack { models }
}

impl Stack {
    /// Every component's pick on `node`, in the stack's order.
    pub fn picks(&self, node: &NodeView) -> Vec<Pick> {
        self.models.iter().map(|m| m.pick(node)).collect()
    }

    /// The model of `component`, if the stack runs it.
    pub fn model(&self, component: Component) -> Option<&dyn AddressModel> {
        self.models
            .iter()
            .find(|m| m.component() == component)
            .map(|m| m.as_ref())
    }

    pub fn runs(&self, component: Component) -> bool {
        self.model(component).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rke2_stack(args: &[&str]) -> Vec<ComponentName> {
        let cni = CniSettings {
            rke2: Some(K3sProfile {
                version: Some("v1.33.1+rke2r1".parse().unwrap()),
                args: args.iter().map(|s| s.to_string()).collect(),
            }),
            ..CniSettings::default()
        };
        let stack = build(
            &cni,
            &CalicoSettings::default(),
            &CalicoVersion::new(3, 29, 0),
            "args",
        );
        assert_eq!(stack.models.len(), components(&cni).len());
        components(&cni)
    }

    /// RKE2's stack follows `--cni`: Canal by default, Calico, upstream flannel, nothing for
    /// `none` or Cilium (no model), and only RKE2 itself when the selection is refused.
    #[test]
    fn rke2_runs_the_cni_its_flag_selects() {
        use ComponentName::*;
        assert_eq!(rke2_stack(&[]), [Rke2, Canal]);
        assert_eq!(rke2_stack(&["--cni=calico"]), [Rke2, Calico]);
        assert_eq!(rke2_stack(&["--cni", "multus,flannel"]), [Rke2, Flannel]);
        assert_eq!(rke2_stack(&["--cni=multus", "--cni=canal"]), [Rke2, Canal]);
        assert_eq!(rke2_stack(&["--cni=none"]), [Rke2]);
        assert_eq!(rke2_stack(&["--cni=cilium"]), [Rke2]);
        assert_eq!(rke2_stack(&["--cni=weave"]), [Rke2]);
    }
}
