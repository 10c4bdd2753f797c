//! `serve --web-config-file FILE`: TLS and basic authentication in the format of the Prometheus
//! exporters' `--web.config.file` (node_exporter's, from the Prometheus exporter toolkit), so one file
//! serves both: `tls_server_config` (`cert_file`, `key_file`, `client_ca_file`, `client_auth_type`,
//! `min_version`, `max_version`) and `basic_auth_users` (user name to bcrypt hash). Paths are relative
//! to the file's directory. Keys nodecheck does not implement (cipher suites, curves, HTTP/2 and
//! header settings) are refused by name rather than ignored.
//!
//! TLS is rustls with the `ring` provider (no C toolchain beyond `cc` for the static musl build).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde::Deserialize;

use crate::error::BadInput;

/// Web configuration files are a few lines; certificates a few KiB each.
const MAX_WEB_CONFIG_BYTES: u64 = 1024 * 1024;

/// The file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebConfigFile {
    #[serde(default)]
    pub tls_server_config: Option<TlsServerConfig>,
    #[serde(default)]
    pub basic_auth_users: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsServerConfig {
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    pub client_ca_file: Option<PathBuf>,
    /// Go's `tls.ClientAuthType` names, as the exporter toolkit takes them.
    pub client_auth_type: Option<String>,
    /// `TLS12` or `TLS13` (default `TLS12`).
    pub min_version: Option<String>,
    pub max_version: Option<String>,
}

/// What `serve` does with the file.
#[derive(Clone, Default)]
pub struct WebConfig {
    /// `None`: plain HTTP.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// User name to bcrypt hash; empty: no authentication.
    pub users: BTreeMap<String, String>,
}

impl std::fmt::Debug for WebConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebConfig")
            .field("tls", &self.tls.is_some())
            .field("users", &self.users.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// How client certificates are asked for, by the exporter toolkit's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientAuth {
    None,
    VerifyIfGiven,
    RequireAndVerify,
}

/// Reads and checks `path`: every certificate and key is loaded now, so a broken file stops `serve`
/// before it listens (bad input, exit 2).
pub fn load(path: &Path) -> Result<WebConfig, BadInput> {
    let shown = path.display().to_string();
    let text = crate::input::read_input(path, MAX_WEB_CONFIG_BYTES)
        .map_err(|e| BadInput(format!("--web-config-file {}", e.0)))?;
    let base = path.parent().unwrap_or(Path::new("."));
    build(&text, &shown, base)
}

/// Parses the file's text (`origin` names it in messages; relative paths are taken from `base`).
pub fn build(text: &str, origin: &str, base: &Path) -> Result<WebConfig, BadInput> {
    let file = parse(text, origin)?;
    let mut config = WebConfig::default();
    if let Some(users) = file.basic_auth_users {
        for (user, hash) in &users {
            if user.contains(':') {
                return Err(BadInput(format!(
                    "{origin}: basic_auth_users: the user name {user:?} holds a `:`, which basic authentication cannot carry"
                )));
            }
            if bcrypt_cost(hash).is_none() {
                return Err(BadInput(format!(
                    "{origin}: basic_auth_users: the password of {user:?} is not a bcrypt hash ($2a$, $2b$ or $2y$ and a cost); make one with `htpasswd -nBC 10 \"\" | tr -d ':\\n'`"
                )));
            }
        }
        config.users = users;
    }
    if let Some(tls) = file.tls_server_config {
        config.tls = Some(Arc::new(tls_config(&tls, origin, base)?));
    }
    Ok(config)
}

/// The YAML, with type errors and unknown keys at their line and column.
pub fn parse(text: &str, origin: &str) -> Result<WebConfigFile, BadInput> {
    let mut key_path = String::new();
    let parsed: Result<Option<WebConfigFile>, serde_saphyr::Error> =
        serde_saphyr::with_deserializer_from_str(text, |de| {
            serde_path_to_error::deserialize(de).map_err(|e| {
                key_path = e.path().to_string();
                e.into_inner()
            })
        });
    match parsed {
        Ok(file) => Ok(file.unwrap_or_default()),
        Err(e) => {
            let bare = e.without_snippet();
            let at = bare
                .location()
                .map(|l| format!("{origin}:{}:{}", l.line(), l.column()))
                .unwrap_or_else(|| origin.to_string());
            let key = match key_path.trim_end_matches(".?") {
                "" | "." | "?" => String::new(),
                k => format!(" (key `{k}`)"),
            };
            Err(BadInput(format!(
                "{at}: {}{key}; the web configuration takes tls_server_config (cert_file, key_file, client_ca_file, client_auth_type, min_version, max_version) and basic_auth_users",
                message_without_location(&bare.to_string())
            )))
        }
    }
}

/// The library's message without its own `at line … column …` tail (the location leads the message).
fn message_without_location(message: &str) -> &str {
    message
        .split_once(" at line ")
        .map_or(message, |(head, _)| head)
}

/// The cost of a bcrypt hash (`$2b$10$…`), `None` when it is not one.
fn bcrypt_cost(hash: &str) -> Option<u32> {
    let mut parts = hash.split('$');
    let (Some(""), Some(version), Some(cost), Some(rest)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let cost: u32 = cost.parse().ok()?;
    (matches!(version, "2a" | "2b" | "2x" | "2y") && (4..=31).contains(&cost) && rest.len() == 53)
        .then_some(cost)
}

/// The TLS versions offered, oldest first.
const TLS_VERSIONS: [&rustls::SupportedProtocolVersion; 2] =
    [&rustls::version::TLS12, &rustls::version::TLS13];

/// A `min_version`/`max_version` value as an index into [`TLS_VERSIONS`].
fn tls_version(
    name: Option<&str>,
    default: usize,
    key: &str,
    origin: &str,
) -> Result<usize, BadInput> {
    match name {
        None => Ok(default),
        Some("TLS12") => Ok(0),
        Some("TLS13") => Ok(1),
        Some(other) => Err(BadInput(format!(
            "{origin}: tls_server_config.{key}: {other:?} is not supported (TLS12 or TLS13; TLS 1.0 and 1.1 are not offered)"
        ))),
    }
}

fn tls_config(
    tls: &TlsServerConfig,
    origin: &str,
    base: &Path,
) -> Result<rustls::ServerConfig, BadInput> {
    let (Some(cert_file), Some(key_file)) = (&tls.cert_file, &tls.key_file) else {
        return Err(BadInput(format!(
            "{origin}: tls_server_config needs both cert_file and key_file"
        )));
    };
    let client_auth = match tls.client_auth_type.as_deref() {
        None | Some("NoClientCert") => ClientAuth::None,
        Some("VerifyClientCertIfGiven") => ClientAuth::VerifyIfGiven,
        Some("RequireAndVerifyClientCert") => ClientAuth::RequireAndVerify,
        Some(other @ ("RequestClientCert" | "RequireAnyClientCert")) => {
            return Err(BadInput(format!(
                "{origin}: tls_server_config.client_auth_type {other} accepts certificates nobody verified; nodecheck supports NoClientCert, VerifyClientCertIfGiven and RequireAndVerifyClientCert"
            )))
        }
        Some(other) => {
            return Err(BadInput(format!(
                "{origin}: tls_server_config.client_auth_type {other:?} is not one of NoClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert"
            )))
        }
    };
    match (&tls.client_ca_file, client_auth) {
        (Some(_), ClientAuth::None) => {
            return Err(BadInput(format!(
                "{origin}: tls_server_config has a client_ca_file but client_auth_type is NoClientCert: set client_auth_type to RequireAndVerifyClientCert (or VerifyClientCertIfGiven)"
            )))
        }
        (None, ClientAuth::VerifyIfGiven | ClientAuth::RequireAndVerify) => {
            return Err(BadInput(format!(
                "{origin}: tls_server_config.client_auth_type verifies client certificates: client_ca_file is needed"
            )))
        }
        _ => {}
    }
    let min = tls_version(tls.min_version.as_deref(), 0, "min_version", origin)?;
    let max = tls_version(tls.max_version.as_deref(), 1, "max_version", origin)?;
    let versions: Vec<&'static rustls::SupportedProtocolVersion> =
        TLS_VERSIONS.get(min..=max).unwrap_or_default().to_vec();
    if versions.is_empty() {
        return Err(BadInput(format!(
            "{origin}: tls_server_config: min_version is above max_version"
        )));
    }

    let read = |what: &str, file: &Path| -> Result<(String, Vec<u8>), BadInput> {
        let path = base.join(file);
        let shown = path.display().to_string();
        let bytes = crate::input::read_regular_file(&path, MAX_WEB_CONFIG_BYTES).map_err(|e| {
            BadInput(format!(
                "{origin}: tls_server_config.{what} {shown}: {}",
                crate::input::describe_open_error(&e)
            ))
        })?;
        Ok((shown, bytes))
    };
    let certificates = |what: &str,
                        file: &Path|
     -> Result<Vec<CertificateDer<'static>>, BadInput> {
        let (shown, bytes) = read(what, file)?;
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&bytes)
            .collect::<Result<_, _>>()
            .map_err(|_| {
                BadInput(format!(
                    "{origin}: tls_server_config.{what} {shown}: not PEM certificates"
                ))
            })?;
        if certs.is_empty() {
            return Err(BadInput(format!(
                "{origin}: tls_server_config.{what} {shown}: holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
            )));
        }
        Ok(certs)
    };
    let chain = certificates("cert_file", cert_file)?;
    let (key_shown, key_bytes) = read("key_file", key_file)?;
    let key = PrivateKeyDer::from_pem_slice(&key_bytes).map_err(|_| {
        BadInput(format!(
            "{origin}: tls_server_config.key_file {key_shown}: holds no PEM private key (PKCS#8, PKCS#1 RSA or SEC1 EC)"
        ))
    })?;

    // ring rather than aws-lc-rs: aws-lc-rs needs cmake and a C toolchain for the static musl build.
    // ring's provider lacks the post-quantum key exchange, hence the deprecation note.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&versions)
        .map_err(|e| BadInput(format!("{origin}: tls_server_config: {e}")))?;
    let builder = match (&tls.client_ca_file, client_auth) {
        (Some(ca_file), ClientAuth::VerifyIfGiven | ClientAuth::RequireAndVerify) => {
            let mut roots = rustls::RootCertStore::empty();
            for ca in certificates("client_ca_file", ca_file)? {
                roots.add(ca).map_err(|e| {
                    BadInput(format!(
                        "{origin}: tls_server_config.client_ca_file: a certificate is not a usable CA: {e}"
                    ))
                })?;
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                Arc::clone(&provider),
            );
            let verifier = if client_auth == ClientAuth::VerifyIfGiven {
                verifier.allow_unauthenticated()
            } else {
                verifier
            };
            let verifier = verifier.build().map_err(|e| {
                BadInput(format!("{origin}: tls_server_config.client_ca_file: {e}"))
            })?;
            builder.with_client_cert_verifier(verifier)
        }
        _ => builder.with_no_client_auth(),
    };
    let mut config = builder.with_single_cert(chain, key).map_err(|e| {
        BadInput(format!(
            "{origin}: tls_server_config: the key does not go with the certificate, or is not usable: {e}"
        ))
    })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_and_type_errors_name_line_and_column() {
        let e = parse("basic_auth_users:\n  alice: [1]\n", "web.yml")
            .unwrap_err()
            .0;
        assert!(e.starts_with("web.yml:2:"), "{e}");
        let e = parse("tls_server_config:\n  cipher_suites: [x]\n", "web.yml")
            .unwrap_err()
            .0;
        assert!(e.starts_with("web.yml:2:"), "{e}");
        assert!(e.contains("cipher_suites"), "{e}");
        assert!(parse("", "web.yml").is_ok());
    }

    #[test]
    fn passwords_must_be_bcrypt_hashes_and_policies_consistent() {
        let e = build(
            "basic_auth_users:\n  alice: plaintext\n",
            "w",
            Path::new("."),
        )
        .unwrap_err()
        .0;
        assert!(e.contains("not a bcrypt hash"), "{e}");
        let hash = bcrypt::hash("pw", 4).unwrap();
        let ok = build(
            &format!("basic_auth_users:\n  alice: '{hash}'\n"),
            "w",
            Path::new("."),
        )
        .unwrap();
        assert_eq!(ok.users.len(), 1);
        let e = build(
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  client_ca_file: c\n",
            "w",
            Path::new("."),
        )
        .unwrap_err()
        .0;
        assert!(e.contains("client_auth_type is NoClientCert"), "{e}");
        let e = build(
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: RequireAnyClientCert\n",
            "w",
            Path::new("."),
        )
        .unwrap_err()
        .0;
        assert!(e.contains("nobody verified"), "{e}");
    }
}
