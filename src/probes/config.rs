//! Where the live probes go: Felix's health port and the cluster DNS server and domain, resolved from
//! the command line, then the profile, then the kubelet's configuration. Pure given its inputs.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use super::felix::DEFAULT_FELIX_HEALTH_PORT;
use super::kubelet::KubeletDnsSettings;
use crate::profile::PostJoinSettings;

/// The cluster domain kubeadm uses unless told otherwise.
pub const DEFAULT_CLUSTER_DOMAIN: &str = "cluster.local";

/// Everything the probes need.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeSettings {
    pub felix_port: u16,
    /// The DNS server to ask, or why none is known.
    pub cluster_dns: Result<ClusterDnsTarget, String>,
    pub timeout: Duration,
}

/// The cluster DNS server, where its address came from, and the cluster domain.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterDnsTarget {
    pub server: SocketAddr,
    pub source: String,
    pub domain: String,
}

/// Probe settings given on the command line (each overrides the profile).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProbeFlags {
    pub felix_port: Option<u16>,
    pub cluster_dns: Option<SocketAddr>,
    pub cluster_domain: Option<String>,
}

/// Resolves the settings. `kubelet` is what reading the kubelet config gave (`Ok(None)`: no file).
pub fn resolve(
    flags: &ProbeFlags,
    profile: &PostJoinSettings,
    kubelet_path: &Path,
    kubelet: &Result<Option<KubeletDnsSettings>, String>,
    timeout: Duration,
) -> ProbeSettings {
    let felix_port = flags
        .felix_port
        .or(profile.felix_health_port)
        .unwrap_or(DEFAULT_FELIX_HEALTH_PORT);
    let kubelet_settings = kubelet.as_ref().ok().and_then(|k| k.as_ref());
    let domain = flags
        .cluster_domain
        .clone()
        .or_else(|| profile.cluster_domain.clone())
        .or_else(|| kubelet_settings.and_then(|k| k.cluster_domain.clone()))
        .unwrap_or_else(|| DEFAULT_CLUSTER_DOMAIN.to_string());
    let server = if let Some(addr) = flags.cluster_dns {
        Ok((addr, "--cluster-dns".to_string()))
    } else if let Some(ip) = profile.cluster_dns {
        Ok((
            SocketAddr::new(ip, 53),
            "profile post_join.cluster_dns".to_string(),
        ))
    } else {
        kubelet_server(kubelet_path, kubelet)
    };
    ProbeSettings {
        felix_port,
        cluster_dns: server.map(|(server, source)| ClusterDnsTarget {
            server,
            source,
            domain,
        }),
        timeout,
    }
}

/// The first `clusterDNS` entry of the kubelet config, or why there is none.
fn kubelet_server(
    path: &Path,
    kubelet: &Result<Option<KubeletDnsSettings>, String>,
) -> Result<(SocketAddr, String), String> {
    let shown = path.display();
    let hint = "give it with --cluster-dns IP or post_join.cluster_dns in the profile";
    match kubelet {
        Err(reason) => Err(format!(
            "the kubelet config could not be read ({reason}); {hint}"
        )),
        Ok(None) => Err(format!(
            "no cluster DNS address: {shown} does not exist (is this node joined?); {hint}"
        )),
        Ok(Some(k)) => {
            let first = k
                .cluster_dns
                .first()
                .ok_or_else(|| format!("{shown} has no clusterDNS entry; {hint}"))?;
            let ip: IpAddr = first.trim().parse().map_err(|_| {
                format!(
                    "{shown}: clusterDNS entry {:?} is not an IP address; {hint}",
                    first
                )
            })?;
            Ok((SocketAddr::new(ip, 53), format!("kubelet config {shown}")))
        }
    }
}

/// Parses `--cluster-dns`: `IP`, `IP:PORT`, `[IPv6]:PORT` (port 53 when not given).
pub fn parse_dns_server(text: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    text.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, 53))
        .map_err(|_| format!("{text:?} is not an IP address or IP:PORT"))
}

/// Validates `--cluster-domain`: DNS labels separated by dots.
pub fn parse_cluster_domain(text: &str) -> Result<String, String> {
    let domain = text.trim_end_matches('.');
    let valid = !domain.is_empty()
        && domain.len() <= 200
        && domain.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if valid {
        Ok(domain.to_string())
    } else {
        Err(format!("{text:?} is not a DNS domain"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kubelet(dns: &[&str], domain: Option<&str>) -> Result<Option<KubeletDnsSettings>, String> {
        Ok(Some(KubeletDnsSettings {
            cluster_dns: dns.iter().map(|s| s.to_string()).collect(),
            cluster_domain: domain.map(str::to_string),
        }))
    }

    #[test]
    fn flag_beats_profile_beats_kubelet() {
        let path = Path::new("/var/lib/kubelet/config.yaml");
        let mut profile = PostJoinSettings::default();
        let k = kubelet(&["10.96.0.10", "10.96.0.11"], Some("corp.local"));
        let t2 = Duration::from_secs(2);
        let without_flags =
            |profile: &PostJoinSettings| resolve(&ProbeFlags::default(), profile, path, &k, t2);
        let s = without_flags(&profile);
        let t = s.cluster_dns.unwrap();
        assert_eq!(t.server, "10.96.0.10:53".parse().unwrap());
        assert_eq!(t.domain, "corp.local");
        assert!(t.source.contains("kubelet config"));
        assert_eq!(s.felix_port, 9099);

        profile.cluster_dns = Some("10.100.0.10".parse().unwrap());
        profile.felix_health_port = Some(9199);
        let s = without_flags(&profile);
        assert_eq!(
            s.cluster_dns.unwrap().server,
            "10.100.0.10:53".parse().unwrap()
        );
        assert_eq!(s.felix_port, 9199);

        let flags = ProbeFlags {
            felix_port: Some(19099),
            cluster_dns: Some("127.0.0.1:5353".parse().unwrap()),
            cluster_domain: Some("example.org".into()),
        };
        let s = resolve(&flags, &profile, path, &k, t2);
        let t = s.cluster_dns.unwrap();
        assert_eq!((t.server.port(), t.domain.as_str()), (5353, "example.org"));
        assert_eq!(s.felix_port, 19099);
    }

    #[test]
    fn says_why_no_server_is_known() {
        let path = Path::new("/nonexistent/config.yaml");
        let p = PostJoinSettings::default();
        let f = ProbeFlags::default();
        let t = Duration::from_secs(2);
        let err = resolve(&f, &p, path, &Ok(None), t).cluster_dns.unwrap_err();
        assert!(err.contains("does not exist"), "{err}");
        let err = resolve(&f, &p, path, &kubelet(&[], None), t)
            .cluster_dns
            .unwrap_err();
        assert!(err.contains("no clusterDNS"), "{err}");
        let err = resolve(&f, &p, path, &kubelet(&["dns"], None), t)
            .cluster_dns
            .unwrap_err();
        assert!(err.contains("not an IP"), "{err}");
        let s = resolve(&f, &p, path, &Ok(None), t);
        assert!(s.cluster_dns.is_err());
    }

    #[test]
    fn parses_server_flag() {
        assert_eq!(parse_dns_server("10.96.0.10").unwrap().port(), 53);
        assert_eq!(parse_dns_server("10.96.0.10:5353").unwrap().port(), 5353);
        assert_eq!(parse_dns_server("[fd00::a]:5353").unwrap().port(), 5353);
        assert_eq!(parse_dns_server("fd00::a").unwrap().port(), 53);
        assert!(parse_dns_server("kube-dns").is_err());
        assert_eq!(
            parse_cluster_domain("cluster.local.").unwrap(),
            "cluster.local"
        );
        assert!(parse_cluster_domain("a..b").is_err());
    }
}
