//! Parsing a `nodecheck facts` snapshot given as a peer.
//!
//! A snapshot of a schema version this build reads (1 up to the current one: version 2 only added
//! `kubelet`, which older snapshots lack) is deserialised straight from the bytes (no intermediate
//! JSON tree: ten thousand peers must load in well under a second). Anything else — a newer
//! `schema_version`, or one that is not a number — goes through `facts::load::parse_facts`, which owns
//! the version policy and its messages.

use crate::facts::{Facts, SCHEMA_VERSION};

/// Parses a snapshot whose top-level `schema_version` the detector already read.
pub fn parse_snapshot(bytes: &[u8], schema_version: Option<u64>) -> Result<Facts, String> {
    let readable = schema_version.is_some_and(|v| (1..=u64::from(SCHEMA_VERSION)).contains(&v));
    let mut facts = if readable {
        serde_json::from_slice(bytes).map_err(|e| invalid_snapshot(&e))?
    } else {
        let text = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
        crate::facts::load::parse_facts(text).map_err(|e| e.0)?
    };
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
