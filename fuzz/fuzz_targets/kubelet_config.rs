//! kubelet's config file: `clusterDNS` and `clusterDomain` as read for the cluster-DNS probe, and
//! `containerRuntimeEndpoint`, `evictionHard` and `mergeDefaultEvictionSettings` as read for the
//! CRI socket and the disk checks (each eviction signal's threshold parsed as kubelet parses it).
#![no_main]
use nodecheck::kubelet::eviction;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = nodecheck::probes::kubelet::parse_dns_settings(text);
        let config =
            nodecheck::gather::kubelet::parse_config_file("/var/lib/kubelet/config.yaml", text);
        let thresholds = eviction::effective(Some(&config));
        for signal in [
            "nodefs.available",
            "nodefs.inodesFree",
            "imagefs.available",
            "memory.available",
        ] {
            if let Ok(Some(t)) = eviction::threshold(&thresholds, signal) {
                let _ = t.percent_of(1 << 40);
                let _ = t.percent_of(0);
            }
        }
    }
});
