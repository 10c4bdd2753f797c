//! The cluster-DNS probe: one real A query for `kubernetes.default.svc.<cluster domain>` over UDP.
//!
//! The verdicts keep apart what an operator must not confuse: an answer; NXDOMAIN (the DNS path
//! works, the name is missing); an error rcode (a server answered but refused or failed); and no
//! server reachable at all (timeout, ICMP port/host unreachable), which is what pods on a node whose
//! Calico bound the wrong NIC see. The query is sent again once halfway through the timeout, as
//! resolvers do; the whole probe never takes longer than the timeout.

use std::io::ErrorKind;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::config::ClusterDnsTarget;
use crate::gather::dns_wire::{self, Reply};

/// The name every cluster serves: the API server's Service in the `default` namespace.
pub fn probe_name(domain: &str) -> String {
    format!("kubernetes.default.svc.{}", domain.trim_end_matches('.'))
}

/// The probe's answer, as evidence for `ClusterDNS-Query`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterDnsProbe {
    /// The server asked; `null` when none could be found.
    pub server: Option<SocketAddr>,
    /// Where the server address came from (`--cluster-dns`, the profile, the kubelet config).
    pub server_source: Option<String>,
    /// The name asked for.
    pub name: Option<String>,
    pub verdict: DnsVerdict,
    pub elapsed_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum DnsVerdict {
    /// NOERROR with addresses.
    Answered { addresses: Vec<IpAddr> },
    /// NOERROR without an address record for the name.
    NoData,
    /// NXDOMAIN: the server answered; the name does not exist there.
    NameMissing,
    /// A server answered with an error rcode (REFUSED, SERVFAIL, ...).
    Refused { rcode: String },
    /// Nothing answered: timeout, ICMP port or host unreachable, no route.
    NoServer { reason: String },
    /// Something answered with bytes that are not a DNS reply.
    BadReply { reason: String },
    /// No cluster DNS server is known (no flag, profile entry or kubelet config).
    NotConfigured { reason: String },
}

/// Probes the cluster DNS target (or records why there is none).
pub fn probe_cluster_dns(
    target: &Result<ClusterDnsTarget, String>,
    timeout: Duration,
) -> ClusterDnsProbe {
    let target = match target {
        Ok(t) => t,
        Err(reason) => {
            return ClusterDnsProbe {
                server: None,
                server_source: None,
                name: None,
                verdict: DnsVerdict::NotConfigured {
                    reason: reason.clone(),
                },
                elapsed_ms: 0,
            }
        }
    };
    let name = probe_name(&target.domain);
    let started = Instant::now();
    let verdict = query_a(target.server, &name, timeout);
    ClusterDnsProbe {
        server: Some(target.server),
        server_source: Some(target.source.clone()),
        name: Some(name),
        verdict,
        elapsed_ms: super::millis(started.elapsed()),
    }
}

/// Sends an A query for `name` to `server` and waits at most `timeout` for the matching reply.
pub fn query_a(server: SocketAddr, name: &str, timeout: Duration) -> DnsVerdict {
    let deadline = Instant::now() + timeout;
    let id = dns_wire::random_id();
    let query = match dns_wire::encode_query(id, name, dns_wire::TYPE_A) {
        Ok(q) => q,
        Err(e) => {
            return DnsVerdict::NotConfigured {
                reason: e.to_string(),
            }
        }
    };
    let no_server = |reason: String| DnsVerdict::NoServer { reason };
    let socket = match dns_wire::connect_udp(server) {
        Ok(s) => s,
        Err(e) => return no_server(unreachable_reason(server, &e)),
    };
    if let Err(e) = socket.send(&query) {
        return no_server(unreachable_reason(server, &e));
    }
    let resend_at = Instant::now() + timeout / 2;
    let mut resent = false;
    let mut buf = [0u8; 4096];
    loop {
        let now = Instant::now();
        let until = if resent {
            deadline
        } else {
            resend_at.min(deadline)
        };
        let Some(wait) = until.checked_duration_since(now).filter(|d| !d.is_zero()) else {
            if !resent && now < deadline {
                resent = true;
                if let Err(e) = socket.send(&query) {
                    return no_server(unreachable_reason(server, &e));
                }
                continue;
            }
            return no_server(format!(
                "no answer from {server} within {} ms ({} queries sent)",
                timeout.as_millis(),
                if resent { 2 } else { 1 }
            ));
        };
        if let Err(e) = socket.set_read_timeout(Some(wait)) {
            return no_server(e.to_string());
        }
        match socket.recv(&mut buf) {
            Ok(n) => match dns_wire::decode_reply(&buf[..n]) {
                Ok(reply) if reply.id == id && reply.is_response => return classify(&reply),
                Ok(_) => continue, // a stray or late datagram: keep waiting for ours
                Err(e) => {
                    return DnsVerdict::BadReply {
                        reason: format!("{server} sent {n} bytes that are not a DNS reply: {e}"),
                    }
                }
            },
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return no_server(unreachable_reason(server, &e)),
        }
    }
}

/// Turns a reply into a verdict.
pub fn classify(reply: &Reply) -> DnsVerdict {
    match reply.rcode {
        0 => {
            let addresses = dns_wire::addresses(reply);
            if addresses.is_empty() {
                DnsVerdict::NoData
            } else {
                DnsVerdict::Answered { addresses }
            }
        }
        3 => DnsVerdict::NameMissing,
        rcode => DnsVerdict::Refused {
            rcode: dns_wire::rcode_name(rcode),
        },
    }
}

/// Says what an ICMP error or a local routing error means for a DNS server.
fn unreachable_reason(server: SocketAddr, e: &std::io::Error) -> String {
    match e.kind() {
        ErrorKind::ConnectionRefused => format!(
            "connection refused: ICMP port unreachable, nothing listens on UDP port {} at {}",
            server.port(),
            server.ip()
        ),
        _ => match e.raw_os_error() {
            Some(libc::EHOSTUNREACH) => {
                format!(
                    "{} is unreachable (ICMP host unreachable): {e}",
                    server.ip()
                )
            }
            Some(libc::ENETUNREACH) => format!("no route to {}: {e}", server.ip()),
            _ => format!("{server}: {e}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(rcode: u8, answers: Vec<dns_wire::Record>) -> Reply {
        Reply {
            id: 1,
            is_response: true,
            truncated: false,
            rcode,
            answers,
        }
    }

    #[test]
    fn classifies_rcodes() {
        assert_eq!(classify(&reply(3, vec![])), DnsVerdict::NameMissing);
        assert_eq!(classify(&reply(0, vec![])), DnsVerdict::NoData);
        assert_eq!(
            classify(&reply(5, vec![])),
            DnsVerdict::Refused {
                rcode: "REFUSED".into()
            }
        );
        assert_eq!(
            classify(&reply(2, vec![])),
            DnsVerdict::Refused {
                rcode: "SERVFAIL".into()
            }
        );
        let a = dns_wire::Record {
            name: "k".into(),
            rtype: dns_wire::TYPE_A,
            class: 1,
            ttl: 5,
            data: vec![10, 96, 0, 1],
        };
        assert_eq!(
            classify(&reply(0, vec![a])),
            DnsVerdict::Answered {
                addresses: vec!["10.96.0.1".parse().unwrap()]
            }
        );
    }

    #[test]
    fn probe_name_drops_trailing_dot() {
        assert_eq!(
            probe_name("cluster.local."),
            "kubernetes.default.svc.cluster.local"
        );
    }
}
