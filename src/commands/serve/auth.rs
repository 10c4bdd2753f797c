//! Basic authentication for `serve` (`basic_auth_users` of the web configuration): the
//! `Authorization: Basic` header checked against bcrypt hashes, as the Prometheus exporters do.
//!
//! bcrypt is slow on purpose (tens of milliseconds per check), so a check never runs on the thread
//! that serves requests: at most [`CONCURRENT_CHECKS`] run at once on tokio's blocking pool, and a
//! credential that passed is remembered (by its SHA-256, never in clear) so that a scrape every 15 s
//! costs one bcrypt check, not one per scrape. An unknown user costs a bcrypt check too, so the answer
//! time does not tell which users exist.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};

use base64::Engine;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

/// bcrypt checks at once; more wait (the server keeps answering other requests meanwhile).
const CONCURRENT_CHECKS: usize = 2;
/// Remembered good credentials; the memory is cleared when it fills.
const MAX_REMEMBERED: usize = 256;

/// The users and what was already verified.
pub struct BasicAuth {
    users: BTreeMap<String, String>,
    verified: Mutex<HashSet<[u8; 32]>>,
    checks: Semaphore,
    /// A hash with the users' cost, checked for unknown users.
    decoy: String,
}

impl BasicAuth {
    /// `None` when no users are configured (no authentication).
    pub fn new(users: BTreeMap<String, String>) -> Option<Arc<BasicAuth>> {
        let first = users.values().next()?.clone();
        Some(Arc::new(BasicAuth {
            users,
            verified: Mutex::new(HashSet::new()),
            checks: Semaphore::new(CONCURRENT_CHECKS),
            decoy: first,
        }))
    }

    /// Whether the request's `Authorization` header names a user with the right password.
    pub async fn allows(self: &Arc<Self>, authorization: Option<&[u8]>) -> bool {
        let Some((user, password)) = authorization.and_then(basic_credentials) else {
            return false;
        };
        let known = self.users.get(&user);
        let hash = known.unwrap_or(&self.decoy).clone();
        let fingerprint: [u8; 32] = Sha256::new()
            .chain_update(user.as_bytes())
            .chain_update([0])
            .chain_update(password.as_bytes())
            .chain_update([0])
            .chain_update(hash.as_bytes())
            .finalize()
            .into();
        if known.is_some() && self.remembered(&fingerprint) {
            return true;
        }
        let Ok(_slot) = self.checks.acquire().await else {
            return false;
        };
        let matches =
            tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash).unwrap_or(false))
                .await
                .unwrap_or(false);
        if matches && known.is_some() {
            let mut verified = self.verified.lock().unwrap_or_else(|e| e.into_inner());
            if verified.len() >= MAX_REMEMBERED {
                verified.clear();
            }
            verified.insert(fingerprint);
            return true;
        }
        false
    }

    fn remembered(&self, fingerprint: &[u8; 32]) -> bool {
        self.verified
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(fingerprint)
    }
}

/// `Basic base64(user:password)` → (user, password).
fn basic_credentials(header: &[u8]) -> Option<(String, String)> {
    let text = std::str::from_utf8(header).ok()?.trim();
    let (scheme, encoded) = text.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_headers_are_decoded() {
        assert_eq!(
            basic_credentials(b"Basic YWxpY2U6czNjcjM6dA=="),
            Some(("alice".into(), "s3cr3:t".into()))
        );
        assert_eq!(basic_credentials(b"Bearer abc"), None);
        assert_eq!(basic_credentials(b"Basic !!!"), None);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn right_password_passes_and_is_remembered_wrong_ones_and_unknown_users_fail() {
        let hash = bcrypt::hash("right", 4).unwrap();
        let auth = BasicAuth::new(BTreeMap::from([("alice".to_string(), hash)])).unwrap();
        let header = |user: &str, password: &str| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
            )
        };
        assert!(auth.allows(Some(header("alice", "right").as_bytes())).await);
        assert_eq!(auth.verified.lock().unwrap().len(), 1);
        assert!(auth.allows(Some(header("alice", "right").as_bytes())).await);
        assert!(!auth.allows(Some(header("alice", "wrong").as_bytes())).await);
        assert!(!auth.allows(Some(header("bob", "right").as_bytes())).await);
        assert!(!auth.allows(None).await);
    }
}
