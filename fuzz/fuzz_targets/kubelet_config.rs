//! kubelet's config file (clusterDNS, clusterDomain), as read for the cluster-DNS probe.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = nodecheck::probes::kubelet::parse_dns_settings(text);
    }
});
