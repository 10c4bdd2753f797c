//! Parsing a `nodecheck facts` snapshot given as a peer.
//!
//! A snapshot of a schema version this build reads (1 up to the current one: version 2 only added
//! `kubelet`, which older snapshots lack) is deserialised straight from the bytes into what the checks
//! read of a peer ([`PeerSnapshot`]: no intermediate JSON tree, and the sections no peer check reads
//! are skipped, never allocated; ten thousand peers must load in well under a second and in a few
//! tens of MiB). Anything else — a newer `schema_version`, or one that is not a number — goes through
//! `facts::load::parse_facts`, which owns the version policy and its messages.

use serde::de::IgnoredAny;
use serde::Deserialize;

use crate::facts::kubelet::KubeletFacts;
use crate::facts::{Facts, Host, Interface, Ipv6State, Route, RuntimeSocket, SCHEMA_VERSION};

/// A snapshot as a peer: the parts of [`Facts`] that the fleet checks (parity, uniqueness, the
/// Calico model and kubelet's node address, routes) read on other nodes. The other sections —
/// sysctls, modules, swap, Docker, listening ports, node setup, what could not be gathered — are only
/// this node's business: they must be JSON, and are skipped without being kept. Unknown keys are
/// still refused, as for any snapshot.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerSnapshot {
    schema_version: u32,
    #[serde(rename = "nodecheck_version")]
    _nodecheck_version: IgnoredAny,
    collected_at: String,
    host: Host,
    interfaces: Vec<Interface>,
    routes: Vec<Route>,
    ipv6: Ipv6State,
    #[serde(rename = "sysctls")]
    _sysctls: IgnoredAny,
    #[serde(rename = "modules")]
    _modules: IgnoredAny,
    #[serde(rename = "swap")]
    _swap: IgnoredAny,
    #[serde(rename = "docker")]
    _docker: IgnoredAny,
    runtime_sockets: Vec<RuntimeSocket>,
    #[serde(rename = "listening_ports")]
    _listening_ports: IgnoredAny,
    #[serde(default)]
    kubelet: Option<Box<KubeletFacts>>,
    #[serde(rename = "node_setup", default)]
    _node_setup: IgnoredAny,
    #[serde(rename = "preflight", default)]
    _preflight: IgnoredAny,
    #[serde(rename = "unavailable", default)]
    _unavailable: IgnoredAny,
}

impl PeerSnapshot {
    /// The peer's facts; the skipped sections are left empty.
    pub fn into_facts(self) -> Facts {
        let mut facts = Facts {
            schema_version: self.schema_version,
            nodecheck_version: String::new(),
            collected_at: self.collected_at.into(),
            host: self.host,
            interfaces: self.interfaces,
            routes: self.routes,
            ipv6: self.ipv6,
            sysctls: Default::default(),
            modules: Default::default(),
            swap: Default::default(),
            docker: Default::default(),
            runtime_sockets: self.runtime_sockets,
            listening_ports: Vec::new(),
            kubelet: self.kubelet,
            node_setup: None,
            preflight: None,
            unavailable: Default::default(),
        };
        compact(&mut facts);
        facts
    }

    pub fn schema_version(&self) -> u32 {
        self.schema_version
    }
}

/// Why a peer's nodecheck snapshot cannot be used; every one is bad input.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// Not JSON, or not a snapshot of this schema (serde_json's line and column included).
    #[error("{}", invalid_snapshot(.0))]
    Serde(serde_json::Error),
    /// Two interfaces whose name and `name_bytes` disagree.
    #[error("not a valid nodecheck snapshot (schema_version {SCHEMA_VERSION}): {0}")]
    InterfaceNames(String),
    #[error("{0}")]
    NotUtf8(std::str::Utf8Error),
    /// A snapshot of another schema version, refused as `--facts` refuses it.
    #[error("{0}")]
    Facts(crate::error::BadInput),
}

impl crate::error::ExitStatus for SnapshotError {
    fn exit(&self) -> crate::error::Exit {
        crate::error::Exit::BadInput
    }
}

/// Parses a snapshot whose top-level `schema_version` the detector already read.
pub fn parse_snapshot(bytes: &[u8], schema_version: Option<u64>) -> Result<Facts, SnapshotError> {
    let readable = schema_version.is_some_and(|v| (1..=u64::from(SCHEMA_VERSION)).contains(&v));
    if readable {
        let peer: PeerSnapshot = serde_json::from_slice(bytes).map_err(SnapshotError::Serde)?;
        let facts = peer.into_facts();
        facts
            .check_interface_names()
            .map_err(SnapshotError::InterfaceNames)?;
        return Ok(facts);
    }
    let text = std::str::from_utf8(bytes).map_err(SnapshotError::NotUtf8)?;
    let mut facts = crate::facts::load::parse_facts(text).map_err(SnapshotError::Facts)?;
    compact(&mut facts);
    Ok(facts)
}

/// Gives back the spare capacity serde leaves in lists (it cannot know their length in advance, so a
/// one-address interface holds room for four). A peer is kept for the whole run, and with thousands
/// of peers this is about a third of their memory.
pub fn compact(facts: &mut Facts) {
    facts.interfaces.shrink_to_fit();
    for interface in &mut facts.interfaces {
        interface.altnames.shrink_to_fit();
        interface.addresses.shrink_to_fit();
        for address in &mut interface.addresses {
            address.flags.shrink_to_fit();
        }
    }
    facts.routes.shrink_to_fit();
    for route in &mut facts.routes {
        route.nexthops.shrink_to_fit();
    }
    facts.runtime_sockets.shrink_to_fit();
    facts.listening_ports.shrink_to_fit();
    facts.docker.networks.shrink_to_fit();
    facts.modules.sources.shrink_to_fit();
}

/// The message for a snapshot serde could not read: it carries serde_json's line and column.
pub fn invalid_snapshot(e: &serde_json::Error) -> String {
    if e.is_syntax() || e.is_eof() {
        format!("invalid JSON in a nodecheck snapshot: {e}")
    } else {
        format!("not a valid nodecheck snapshot (schema_version {SCHEMA_VERSION}): {e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::testkit;

    #[test]
    fn a_peer_snapshot_keeps_raw_interface_names_and_refuses_disagreeing_forms() {
        let peer_facts = testkit::host("peer")
            .nic("\u{1b}", &["10.0.0.7/24"])
            .bytes_name(b"n\xff")
            .build();
        let json = serde_json::to_string(&peer_facts).unwrap();
        let peer = parse_snapshot(json.as_bytes(), Some(2)).unwrap();
        assert_eq!(peer.interfaces, peer_facts.interfaces);
        assert_eq!(peer.interface("n\\xff").unwrap().raw_name(), b"n\xff");
        // A hand-edited snapshot whose two forms disagree names two interfaces: refused.
        let edited = json.replace(r#""name_bytes":"6eff""#, r#""name_bytes":"6efe""#);
        let e = parse_snapshot(edited.as_bytes(), Some(2)).unwrap_err();
        assert!(matches!(e, SnapshotError::InterfaceNames(_)), "{e}");
        assert!(e.to_string().contains("does not match name_bytes"), "{e}");
    }

    #[test]
    fn a_duplicate_key_is_refused_as_for_facts() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/incident/worker-41.json"
        ))
        .unwrap();
        assert!(parse_snapshot(text.as_bytes(), Some(1)).is_ok());
        let doubled = text.replacen("\"host\":", "\"collected_at\": \"x\", \"host\":", 1);
        let e = parse_snapshot(doubled.as_bytes(), Some(1)).unwrap_err();
        assert!(
            e.to_string().contains("duplicate field `collected_at`"),
            "{e}"
        );
    }
}
