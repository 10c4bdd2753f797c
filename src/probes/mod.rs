//! Live probes for the post-join and post-boot phases (felix health, cluster DNS): bounded-time I/O
//! whose answers become values that checks judge.
//!
//! Every probe has a hard deadline ([`PROBE_TIMEOUT`]) and the probes run side by side, so a host where
//! nothing answers still finishes in about one timeout. A probe that does not answer is a verdict
//! ("not answering", "no server reachable"), never a hang and never an error of the tool.

pub mod api_server;
pub mod config;
pub mod dataplane;
pub mod dns;
pub mod felix;
pub mod http;
pub mod kubelet;

use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use config::{ClusterDnsTarget, ProbeSettings};
pub use dns::{ClusterDnsProbe, DnsVerdict};
pub use felix::{FelixHealth, FelixVerdict};

/// Total time one probe may take (connect, send, wait for the answer).
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Answers of the live probes, gathered only for post-join and post-boot.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LiveProbes {
    /// Felix's readiness endpoint on this node.
    pub felix: Option<FelixHealth>,
    /// A real query to the cluster DNS service.
    pub cluster_dns: Option<ClusterDnsProbe>,
    /// TCP connects to the API server endpoints (every phase, on the live host).
    #[serde(default)]
    pub api_server: Vec<api_server::ApiServerProbe>,
    /// The data-plane probe, only when asked for (`check --probe-dataplane`).
    #[serde(default)]
    pub dataplane: Option<dataplane::DataplaneProbe>,
}

/// Runs every live probe concurrently, each bounded by `settings.timeout`: the API server probes
/// always, Felix and cluster DNS only when `post_join` (they need a joined node).
pub fn run(
    settings: &ProbeSettings,
    post_join: bool,
    api_servers: &[(String, String)],
) -> LiveProbes {
    std::thread::scope(|scope| {
        let api = scope.spawn(|| api_server::probe_all(api_servers, settings.timeout));
        let (felix, cluster_dns) = if post_join {
            let felix_addr = SocketAddr::from(([127, 0, 0, 1], settings.felix_port));
            let felix = scope.spawn(move || felix::probe(felix_addr, settings.timeout));
            let dns =
                scope.spawn(|| dns::probe_cluster_dns(&settings.cluster_dns, settings.timeout));
            (
                Some(felix.join().expect("felix probe thread")),
                Some(dns.join().expect("dns probe thread")),
            )
        } else {
            (None, None)
        };
        LiveProbes {
            felix,
            cluster_dns,
            api_server: api.join().expect("API server probe thread"),
            dataplane: None,
        }
    })
}

/// Reads the kubelet config at `kubelet_config` and resolves where the probes go.
pub fn settings(
    flags: &config::ProbeFlags,
    profile: &crate::profile::PostJoinSettings,
    kubelet_config: &std::path::Path,
) -> ProbeSettings {
    let kubelet = kubelet::read_dns_settings(kubelet_config);
    config::resolve(flags, profile, kubelet_config, &kubelet, PROBE_TIMEOUT)
}

/// Milliseconds in a duration, for evidence.
pub(crate) fn millis(d: Duration) -> u64 {
    d.as_millis().try_into().unwrap_or(u64::MAX)
}
