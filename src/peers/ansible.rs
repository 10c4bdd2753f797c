//! Parsing Ansible documents: fact caches and module results holding nodecheck facts, and plain `setup`
//! facts (mapped by [`super::ansible_setup`]).
//!
//! nodecheck's Ansible module returns its snapshot as the fact `nodecheck`, i.e. the module result is
//! `{"ansible_facts": {"nodecheck": <snapshot>}, ...}` (what `ansible -m ... --tree DIR` saves per
//! host). With `fact_caching = jsonfile`, Ansible stores each host's facts object itself, so the cache
//! file is `{"nodecheck": <snapshot>, "ansible_hostname": ..., ...}`; ansible-core 2.19 and later wrap
//! that facts object as a JSON string, `{"__payload__": "{\"nodecheck\": ...}"}`. All three are
//! accepted; every other fact in the file is skipped without being kept. A document of one of these
//! shapes without a `nodecheck` fact holds the `setup` module's facts, which are mapped instead; one
//! whose strings Ansible wrapped as `{"__ansible_unsafe": ...}` is unwrapped first.

use serde::Deserialize;
use serde_json::Value;

use super::ansible_setup::{map_setup_facts, top_keys, unwrap_unsafe, NoSetupFacts};
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

/// Why an Ansible document gives no host facts; every one is bad input.
#[derive(Debug, thiserror::Error)]
pub enum AnsibleFactsError {
    #[error("an Ansible fact cache whose `__payload__` is not a string: {0}")]
    PayloadNotAString(serde_json::Error),
    #[error("invalid JSON in an Ansible fact cache: {0}")]
    Json(serde_json::Error),
    /// The `nodecheck` fact is not a snapshot nodecheck can read.
    #[error("Ansible fact cache, `nodecheck` fact: {}", invalid_snapshot(.0))]
    Snapshot(serde_json::Error),
    #[error("its nodecheck facts have schema_version {0}, newer than this nodecheck understands ({SCHEMA_VERSION}); upgrade nodecheck here")]
    NewerSchema(u64),
    #[error("an Ansible module result whose `ansible_facts` is not an object")]
    FactsNotAnObject,
    /// `keys`: the document's top keys, as shown by `top_keys`.
    #[error("an Ansible fact document with no facts: {keys}")]
    NoFacts { keys: String },
    #[error(transparent)]
    NoSetupFacts(#[from] NoSetupFacts),
}

impl crate::error::ExitStatus for AnsibleFactsError {
    fn exit(&self) -> crate::error::Exit {
        crate::error::Exit::BadInput
    }
}

/// Extracts the nodecheck snapshot from an ansible-core 2.19+ cache file, whose facts object is
/// serialised as the string `__payload__`.
pub fn parse_payload_cache(bytes: &[u8]) -> Result<Facts, AnsibleFactsError> {
    let wrapper: PayloadCache =
        serde_json::from_slice(bytes).map_err(AnsibleFactsError::PayloadNotAString)?;
    parse_ansible(wrapper.payload.as_bytes(), Shape::FactCache)
}

/// Extracts the host's facts from an Ansible document: nodecheck's snapshot when the `nodecheck` fact is
/// there, else the `setup` module's facts mapped.
pub fn parse_ansible(bytes: &[u8], shape: Shape) -> Result<Facts, AnsibleFactsError> {
    let facts = match embedded::<PeerSnapshot>(bytes, shape) {
        Ok(facts) => facts,
        Err(e) if e.is_syntax() || e.is_eof() => return Err(AnsibleFactsError::Json(e)),
        Err(e) => {
            if contains(bytes, b"\"__ansible_unsafe\"") {
                let document: Value =
                    serde_json::from_slice(bytes).map_err(AnsibleFactsError::Json)?;
                return facts_from_value(document, shape);
            }
            return Err(explain_data_error(bytes, shape, e));
        }
    };
    let Some(facts) = facts else {
        let document: Value = serde_json::from_slice(bytes).map_err(AnsibleFactsError::Json)?;
        return facts_from_value(document, shape);
    };
    checked(facts.into_facts())
}

fn checked(mut facts: Facts) -> Result<Facts, AnsibleFactsError> {
    if facts.schema_version > SCHEMA_VERSION {
        return Err(AnsibleFactsError::NewerSchema(u64::from(
            facts.schema_version,
        )));
    }
    super::snapshot::compact(&mut facts);
    Ok(facts)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The host's facts from an Ansible document already parsed (YAML caches, ad-hoc output, documents
/// with `__ansible_unsafe` wrappers): unwrapped, then nodecheck's snapshot or the setup facts.
pub fn facts_from_value(mut document: Value, shape: Shape) -> Result<Facts, AnsibleFactsError> {
    unwrap_unsafe(&mut document);
    let host_facts = match shape {
        Shape::FactCache => document,
        Shape::ModuleResult => match document {
            Value::Object(mut result) => result.remove("ansible_facts").unwrap_or(Value::Null),
            _ => Value::Null,
        },
    };
    let Value::Object(mut host_facts) = host_facts else {
        return Err(AnsibleFactsError::FactsNotAnObject);
    };
    match host_facts.remove("nodecheck") {
        Some(snapshot) => {
            let version = snapshot.get("schema_version").and_then(Value::as_u64);
            match serde_json::from_value::<Facts>(snapshot) {
                Ok(facts) => checked(facts),
                Err(_) if version.is_some_and(|v| v > u64::from(SCHEMA_VERSION)) => {
                    Err(AnsibleFactsError::NewerSchema(version.unwrap_or_default()))
                }
                Err(e) => Err(AnsibleFactsError::Snapshot(e)),
            }
        }
        None if host_facts.is_empty() => Err(AnsibleFactsError::NoFacts {
            keys: top_keys(&host_facts),
        }),
        None => Ok(map_setup_facts(&host_facts)?),
    }
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

fn explain_data_error(bytes: &[u8], shape: Shape, e: serde_json::Error) -> AnsibleFactsError {
    if let Ok(Some(VersionOnly {
        schema_version: Some(v),
    })) = embedded::<VersionOnly>(bytes, shape)
    {
        if v > u64::from(SCHEMA_VERSION) {
            return AnsibleFactsError::NewerSchema(v);
        }
    }
    AnsibleFactsError::Snapshot(e)
}
