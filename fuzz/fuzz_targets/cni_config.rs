//! `--cni-config`: flanneld's and Canal's manifests, k3s/RKE2 `config.yaml`, Cilium's ConfigMap,
//! DaemonSet and Helm values, kube-router's DaemonSet and Antrea's `antrea-agent.conf`, YAML or
//! JSON; what is read is then merged over an empty profile `cni:` section and its stack listed.
#![no_main]
use nodecheck::cni_config::{parse_into, DeployedCni};
use nodecheck::profile::cni::{CniSettings, ComponentName};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for distro in [ComponentName::K3s, ComponentName::Rke2] {
        let mut deployed = DeployedCni::default();
        if parse_into(text, "fuzz", distro, &mut deployed).is_ok() {
            let mut cni = CniSettings::default();
            deployed.apply_to(&mut cni);
            let _ = cni.effective_components();
        }
    }
});
