//! Reading the cluster DNS settings from the kubelet's configuration file
//! (`/var/lib/kubelet/config.yaml` on kubeadm nodes): `clusterDNS` and `clusterDomain`.
//!
//! Parsed leniently: every other field of the `KubeletConfiguration` is ignored, so a kubelet newer
//! than nodecheck still works.

use std::path::Path;

use serde::Deserialize;

/// Where kubeadm writes the kubelet configuration.
pub const DEFAULT_KUBELET_CONFIG: &str = "/var/lib/kubelet/config.yaml";

/// The kubelet config is a few KiB; anything this big is not one.
const MAX_KUBELET_CONFIG_BYTES: u64 = 1024 * 1024;

/// The DNS part of a `KubeletConfiguration`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct KubeletDnsSettings {
    #[serde(rename = "clusterDNS", default)]
    pub cluster_dns: Vec<String>,
    #[serde(rename = "clusterDomain", default)]
    pub cluster_domain: Option<String>,
}

/// Reads the DNS settings; `Ok(None)` when the file does not exist (not a kubeadm node, or not
/// joined yet), `Err` with the reason when it exists but cannot be read or parsed.
pub fn read_dns_settings(path: &Path) -> Result<Option<KubeletDnsSettings>, String> {
    if !path.exists() {
        return Ok(None);
    }
    let text = crate::input::read_input(path, MAX_KUBELET_CONFIG_BYTES).map_err(|e| e.0)?;
    parse_dns_settings(&text)
        .map(Some)
        .map_err(|e| format!("{}: {e}", path.display()))
}

pub fn parse_dns_settings(text: &str) -> Result<KubeletDnsSettings, String> {
    serde_saphyr::from_str(text).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_kubeadm_kubelet_config() {
        let text = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n\
authentication:\n  anonymous:\n    enabled: false\n  webhook:\n    cacheTTL: 0s\n\
cgroupDriver: systemd\nclusterDNS:\n- 10.96.0.10\nclusterDomain: cluster.local\n\
evictionHard:\n  memory.available: 100Mi\nrotateCertificates: true\n";
        let s = parse_dns_settings(text).unwrap();
        assert_eq!(s.cluster_dns, vec!["10.96.0.10"]);
        assert_eq!(s.cluster_domain.as_deref(), Some("cluster.local"));
    }

    #[test]
    fn missing_keys_are_empty_and_bad_yaml_says_where() {
        assert_eq!(
            parse_dns_settings("kind: KubeletConfiguration\n").unwrap(),
            KubeletDnsSettings::default()
        );
        let err = parse_dns_settings("clusterDNS: [10.96.0.10\n").unwrap_err();
        assert!(err.contains("line"), "{err}");
    }
}
