//! Reaching the API server before the join: a TCP connect to each endpoint (the profile's
//! `api_server`, `--api-server`), name resolution and connect together bounded by one deadline, and
//! the local address the kernel used, so the check can tell whether the join would register from the
//! node NIC or from some other network.

use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// One endpoint's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiServerProbe {
    /// The endpoint as given (`host:port`).
    pub endpoint: String,
    /// Where it came from (`--api-server`, `profile api_server`).
    pub source: String,
    pub verdict: ApiServerVerdict,
    /// The address connected to (or the last one tried).
    pub remote: Option<SocketAddr>,
    /// The local address the kernel used (or would use) towards `remote`.
    pub local: Option<IpAddr>,
    /// Addresses the name resolved to, in resolver order.
    #[serde(default)]
    pub resolved: Vec<IpAddr>,
    pub detail: Option<String>,
    pub elapsed_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ApiServerVerdict {
    Connected,
    /// Something answered with a reset: the host is up, nothing listens (or a firewall rejects).
    Refused,
    /// No answer within the deadline: a firewall drops, or the address is not on any reachable network.
    Timeout,
    /// The name did not resolve within the deadline.
    NotResolved,
    /// Any other error (no route, network unreachable).
    Error,
}

/// Splits `host:port` / `[v6]:port`.
pub fn split_endpoint(endpoint: &str) -> Option<(String, u16)> {
    let (host, port) = endpoint.rsplit_once(':')?;
    let port = port.parse().ok().filter(|p| *p != 0)?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    (!host.is_empty()).then(|| (host.to_string(), port))
}

/// Probes one endpoint within `timeout` (resolution and connect together).
pub fn probe(endpoint: &str, source: &str, timeout: Duration) -> ApiServerProbe {
    let started = Instant::now();
    let deadline = started + timeout;
    let mut out = ApiServerProbe {
        endpoint: endpoint.to_string(),
        source: source.to_string(),
        verdict: ApiServerVerdict::Error,
        remote: None,
        local: None,
        resolved: Vec::new(),
        detail: None,
        elapsed_ms: 0,
    };
    let finish = |mut out: ApiServerProbe| {
        out.elapsed_ms = super::millis(started.elapsed());
        out
    };
    let Some((host, port)) = split_endpoint(endpoint) else {
        out.detail = Some("not host:port".into());
        return finish(out);
    };
    let addresses = match host.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => match crate::gather::reach::resolve(&host, timeout) {
            Ok(found) if !found.is_empty() => found,
            Ok(_) => {
                out.verdict = ApiServerVerdict::NotResolved;
                out.detail = Some(format!("{host} resolved to no address"));
                return finish(out);
            }
            Err(e) => {
                out.verdict = ApiServerVerdict::NotResolved;
                out.detail = Some(e);
                return finish(out);
            }
        },
    };
    out.resolved = addresses.clone();
    for ip in addresses {
        let remote = SocketAddr::new(ip, port);
        out.remote = Some(remote);
        out.local = crate::gather::reach::source_address_for(ip).ok();
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            out.verdict = ApiServerVerdict::Timeout;
            out.detail = Some(format!("no answer within {} s", timeout.as_secs()));
            break;
        }
        match TcpStream::connect_timeout(&remote, left) {
            Ok(stream) => {
                out.verdict = ApiServerVerdict::Connected;
                out.local = stream.local_addr().ok().map(|a| a.ip());
                out.detail = None;
                break;
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                out.verdict = ApiServerVerdict::Refused;
                out.detail = Some(e.to_string());
            }
            Err(e)
                if e.kind() == std::io::ErrorKind::TimedOut
                    || e.kind() == std::io::ErrorKind::WouldBlock =>
            {
                out.verdict = ApiServerVerdict::Timeout;
                out.detail = Some(format!("no answer within {} s", timeout.as_secs()));
            }
            Err(e) => {
                out.verdict = ApiServerVerdict::Error;
                out.detail = Some(e.to_string());
            }
        }
    }
    finish(out)
}

/// Probes every endpoint side by side.
pub fn probe_all(endpoints: &[(String, String)], timeout: Duration) -> Vec<ApiServerProbe> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = endpoints
            .iter()
            .map(|(endpoint, source)| scope.spawn(move || probe(endpoint, source, timeout)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("API server probe thread"))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_split() {
        assert_eq!(
            split_endpoint("10.0.0.1:6443"),
            Some(("10.0.0.1".into(), 6443))
        );
        assert_eq!(
            split_endpoint("[fd00::1]:6443"),
            Some(("fd00::1".into(), 6443))
        );
        assert_eq!(split_endpoint("api.example:0"), None);
        assert_eq!(split_endpoint("nohost"), None);
    }

    #[test]
    fn loopback_listener_connects_and_closed_port_refuses() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let ok = probe(&format!("127.0.0.1:{port}"), "test", Duration::from_secs(2));
        assert_eq!(ok.verdict, ApiServerVerdict::Connected, "{ok:?}");
        assert_eq!(ok.local, Some("127.0.0.1".parse().unwrap()));
        drop(listener);
        let refused = probe(&format!("127.0.0.1:{port}"), "test", Duration::from_secs(2));
        assert_eq!(refused.verdict, ApiServerVerdict::Refused, "{refused:?}");
    }
}
