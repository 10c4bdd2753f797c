//! Parsing Ansible fact caches that hold nodecheck facts.
//!
//! nodecheck's Ansible module returns its snapshot as the fact `nodecheck`, i.e. the module result is
//! `{"ansible_facts": {"nodecheck": <snapshot>}, ...}` (what `ansible -m ... --tree DIR` saves per
//! host). With `fact_caching = jsonfile`, Ansible stores each host's facts object itself, so the cache
//! file is `{"nodecheck": <snapshot>, "ansible_hostname": ..., ...}`; ansible-core 2.19 and later wrap
//! that facts object as a JSON string, `{"__payload__": "{\"nodecheck\": ...}"}`. All three are
//! accepted; every other fact in the file is skipped without being kept.

use serde::Deserialize;

use super::snapshot::{invalid_snapshot, PeerSnapshot};
use crate::facts::{Facts, SCHEMA_VERSION};

/// Which of the two shapes the document has (the detector decides).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `{"ansible_facts": {"nodecheck": ...}}`
    ModuleResult,
    /// `{"nodecheck": ...}` (a jsonfile fact-cache file)
    FactCache,
}

#[derive(Deserialize)]
struct ModuleResult<T> {
    ansible_facts: HostFacts<T>,
}

#[derive(Deserialize)]
struct HostFacts<T> {
    nodecheck: Option<T>,
}

/// Just the version of an embedded snapshot, to explain why it did not parse.
#[derive(Deserialize)]
struct VersionOnly {
    schema_version: Option<u64>,
}

#[derive(Deserialize)]
struct PayloadCache {
    #[serde(rename = "__payload__")]
    payload: String,
}

/// Extracts the nodecheck snapshot from an ansible-core 2.19+ cache file, whose facts object is
/// serialised as the string `__payload__`.
pub fn parse_payload_cache(bytes: &[u8]) -> Result<Facts, String> {
    let wrapper: PayloadCache = serde_json::from_slice(bytes)
        .map_err(|e| format!("an Ansible fact cache whose `__payload__` is not a string: {e}"))?;
    parse_ansible(wrapper.payload.as_bytes(), Shape::FactCache)
}

/// Extracts the nodecheck snapshot from an Ansible document.
pub fn parse_ansible(bytes: &[u8], shape: Shape) -> Result<Facts, String> {
    let facts = match embedded::<PeerSnapshot>(bytes, shape) {
        Ok(facts) => facts,
        Err(e) if e.is_syntax() || e.is_eof() => {
            return Err(format!("invalid JSON in an Ansible fact cache: {e}"))
        }
        Err(e) => return Err(explain_data_error(bytes, shape, &e)),
    };
    let Some(facts) = facts else {
        return Err(
            "an Ansible fact cache without nodecheck facts (no `nodecheck` fact): run nodecheck's \
             Ansible module on this host so the cache holds its snapshot"
                .to_string(),
        );
    };
    if facts.schema_version() > SCHEMA_VERSION {
        return Err(newer(u64::from(facts.schema_version())));
    }
    Ok(facts.into_facts())
}

fn embedded<'de, T: Deserialize<'de>>(
    bytes: &'de [u8],
    shape: Shape,
) -> Result<Option<T>, serde_json::Error> {
    match shape {
        Shape::ModuleResult => {
            serde_json::from_slice::<ModuleResult<T>>(bytes).map(|r| r.ansible_facts.nodecheck)
        }
        Shape::FactCache => serde_json::from_slice::<HostFacts<T>>(bytes).map(|f| f.nodecheck),
    }
}

fn explain_data_error(bytes: &[u8], shape: Shape, e: &serde_json::Error) -> String {
    if let Ok(Some(VersionOnly {
        schema_version: Some(v),
    })) = embedded::<VersionOnly>(bytes, shape)
    {
        if v > u64::from(SCHEMA_VERSION) {
            return newer(v);
        }
    }
    format!(
        "Ansible fact cache, `nodecheck` fact: {}",
        invalid_snapshot(e)
    )
}

fn newer(v: u64) -> String {
    format!(
        "its nodecheck facts have schema_version {v}, newer than this nodecheck understands \
         ({SCHEMA_VERSION}); upgrade nodecheck here"
    )
}
