//! Felix's health endpoint on this node: `GET http://127.0.0.1:<port>/readiness` (9099 by default).
//!
//! calico-node can be `Running` while Felix flaps between ready and not ready (as on a node whose
//! Calico bound the wrong NIC);
//! the readiness endpoint says which, and its body names the component that is not ready.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::http::{self, HttpError};

/// Felix's default `HealthPort`.
pub const DEFAULT_FELIX_HEALTH_PORT: u16 = 9099;

/// The readiness path Felix serves (its liveness path is `/liveness`).
pub const READINESS_PATH: &str = "/readiness";

/// Characters of the body kept as evidence of a not-ready answer.
const BODY_HEAD_CHARS: usize = 200;

/// What the readiness endpoint said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FelixHealth {
    pub url: String,
    pub verdict: FelixVerdict,
    pub elapsed_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum FelixVerdict {
    /// A 2xx answer.
    Ready { status: u16 },
    /// Any other HTTP status; Felix answers 503 with the reporters that are not ready.
    NotReady { status: u16, body_head: String },
    /// Refused, timed out, or something that is not HTTP.
    NotAnswering { reason: String },
}

/// Asks Felix's readiness endpoint at `addr`, within `timeout`.
pub fn probe(addr: SocketAddr, timeout: Duration) -> FelixHealth {
    let started = Instant::now();
    let verdict = match http::get(addr, READINESS_PATH, timeout) {
        Ok(reply) if (200..300).contains(&reply.status) => FelixVerdict::Ready {
            status: reply.status,
        },
        Ok(reply) => FelixVerdict::NotReady {
            status: reply.status,
            body_head: body_head(&reply.body),
        },
        Err(e @ HttpError::Malformed(_)) => FelixVerdict::NotAnswering {
            reason: format!("something listens on {addr} but {e}"),
        },
        Err(e) => FelixVerdict::NotAnswering {
            reason: e.to_string(),
        },
    };
    FelixHealth {
        url: format!("http://{addr}{READINESS_PATH}"),
        verdict,
        elapsed_ms: super::millis(started.elapsed()),
    }
}

/// The start of the body on one line (the renderers escape control characters).
fn body_head(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(BODY_HEAD_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_head_is_one_bounded_line() {
        assert_eq!(body_head(b"+---+\n| a |\n"), "+---+ | a |");
        assert_eq!(body_head(&[b'x'; 1000]).len(), BODY_HEAD_CHARS);
    }
}
