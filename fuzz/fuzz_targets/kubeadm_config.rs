//! A `--kubeadm-config` file (InitConfiguration/JoinConfiguration, v1beta3 map and v1beta4 list
//! kubeletExtraArgs), and the kubelet command line nodecheck derives from it.
#![no_main]
use nodecheck::gather::kubeadm_config::parse_kubeadm_config;
use nodecheck::gather::kubelet::{effective_argv, flags_from_argv, kubeadm_flags};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(config) = parse_kubeadm_config(text, "fuzz.yaml") else {
        return;
    };
    let _ = kubeadm_flags(&config, "worker-41");
    let argv = effective_argv(None, Some(&config), "worker-41");
    let _ = flags_from_argv(&argv);
});
