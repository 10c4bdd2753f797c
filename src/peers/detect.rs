//! Telling a peer document's format from its content: the first decisive top-level key wins.
//!
//! The probe walks the top-level JSON object without building it and stops at the first key that names
//! a format: `schema_version` (a nodecheck snapshot), `ansible_facts` (an Ansible module result, as
//! `ansible -m ... --tree` saves it), `nodecheck` (an Ansible jsonfile fact-cache file: the host's facts
//! object), `__payload__` (the same cache file as ansible-core 2.19 and later write it: the facts object
//! serialised into one JSON string), or `apiVersion`/`kind`/`items` (a Kubernetes object, `kubectl get nodes -o json`).
//! An object whose keys are Ansible fact names (`ansible_hostname`, ...) but none of the above is a
//! jsonfile cache of plain `setup` facts; that is known only at its end, since `nodecheck` may follow.
//! Stopping
//! early keeps detection cheap (nodecheck writes `schema_version` first, kubectl `apiVersion`) and lets
//! a large kubectl list be parsed in a single streaming pass.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};

/// What a peer document is.
#[derive(Debug, Clone, PartialEq)]
pub enum Format {
    /// A `nodecheck facts` snapshot; the value of `schema_version` when it is a number.
    Snapshot { schema_version: Option<u64> },
    /// An Ansible module result: `{"ansible_facts": {"nodecheck": <snapshot>}, ...}`.
    AnsibleResult,
    /// An Ansible jsonfile fact-cache file: the host's facts, with nodecheck's under `nodecheck` when
    /// nodecheck's module ran, else only the `setup` module's.
    AnsibleFactCache,
    /// The jsonfile fact-cache file of ansible-core 2.19 and later: `{"__payload__": "<facts as JSON>"}`.
    AnsiblePayloadCache,
    /// A Kubernetes object (a `List`/`NodeList` of nodes, or one `Node`).
    Kubernetes,
}

/// Why a document's format could not be told.
#[derive(Debug, Clone, PartialEq)]
pub enum Undetected {
    /// Not JSON (or truncated before any decisive key): serde_json's message with line and column.
    InvalidJson(String),
    /// JSON, but not an object: what it is instead.
    NotAnObject(&'static str),
    /// A JSON object without any decisive key; the first few keys it has.
    UnknownObject(Vec<String>),
}

impl fmt::Display for Undetected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const WHAT: &str =
            "not a nodecheck snapshot, Ansible facts (cache, setup --tree or ad-hoc output) or kubectl node list";
        match self {
            Undetected::InvalidJson(e) => write!(f, "{WHAT}: invalid JSON: {e}"),
            Undetected::NotAnObject(kind) => write!(f, "{WHAT}: the document is {kind}"),
            Undetected::UnknownObject(keys) if keys.is_empty() => {
                write!(f, "{WHAT}: an empty JSON object")
            }
            Undetected::UnknownObject(keys) => {
                let keys: Vec<String> = keys.iter().map(|k| format!("{k:?}")).collect();
                write!(
                    f,
                    "{WHAT}: a JSON object with top-level keys {}",
                    keys.join(", ")
                )
            }
        }
    }
}

/// How many unrecognised top-level keys an error message names.
const KEYS_SHOWN: usize = 6;

/// Detects the format of one JSON document.
pub fn detect<'de, D>(deserializer: D) -> Result<Format, Undetected>
where
    D: de::Deserializer<'de>,
    D::Error: fmt::Display,
{
    let found = RefCell::new(None);
    let probe = Probe { found: &found };
    let outcome = probe.deserialize(deserializer);
    // The probe stops with an error once it knows; that error means nothing then.
    match (found.into_inner(), outcome) {
        (Some(Ok(format)), _) => Ok(format),
        (Some(Err(kind)), _) => Err(Undetected::NotAnObject(kind)),
        (None, Ok(keys)) => Err(Undetected::UnknownObject(keys)),
        (None, Err(e)) => Err(Undetected::InvalidJson(e.to_string())),
    }
}

/// Detects the format of a document held in memory.
pub fn detect_slice(bytes: &[u8]) -> Result<Format, Undetected> {
    detect(&mut serde_json::Deserializer::from_slice(bytes))
}

/// Fills `found` with the format, or with what the document is when it is not an object, and then
/// stops; returns the first keys of an object that has no decisive key.
struct Probe<'a> {
    found: &'a RefCell<Option<Result<Format, &'static str>>>,
}

impl Probe<'_> {
    fn stop<E: de::Error>(self, what: Result<Format, &'static str>) -> Result<Vec<String>, E> {
        *self.found.borrow_mut() = Some(what);
        Err(E::custom(STOP))
    }
}

const STOP: &str = "format detected";

impl<'de> DeserializeSeed<'de> for Probe<'_> {
    type Value = Vec<String>;
    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Vec<String>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Probe<'_> {
    type Value = Vec<String>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<String>, A::Error> {
        let mut keys = Vec::new();
        let mut ansible_facts_seen = false;
        let (mut metadata, mut status) = (false, false);
        while let Some(key) = map.next_key::<TopKey>()? {
            let format = match key {
                TopKey::SchemaVersion => {
                    let version = map.next_value::<serde_json::Value>()?;
                    Format::Snapshot {
                        schema_version: version.as_u64(),
                    }
                }
                TopKey::AnsibleFacts => Format::AnsibleResult,
                TopKey::Nodecheck => Format::AnsibleFactCache,
                TopKey::AnsiblePayload => Format::AnsiblePayloadCache,
                TopKey::Kubernetes => Format::Kubernetes,
                TopKey::AnsibleFact(name) => {
                    ansible_facts_seen = true;
                    if keys.len() < KEYS_SHOWN {
                        keys.push(name);
                    }
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
                TopKey::Metadata | TopKey::Status => {
                    let is_metadata = matches!(key, TopKey::Metadata);
                    metadata |= is_metadata;
                    status |= !is_metadata;
                    if keys.len() < KEYS_SHOWN {
                        keys.push(if is_metadata { "metadata" } else { "status" }.into());
                    }
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
                TopKey::Other(name) => {
                    if keys.len() < KEYS_SHOWN {
                        keys.push(name);
                    }
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            return self.stop(Ok(format));
        }
        if metadata && status {
            return self.stop(Ok(Format::Kubernetes));
        }
        if ansible_facts_seen {
            *self.found.borrow_mut() = Some(Ok(Format::AnsibleFactCache));
        }
        Ok(keys)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<Vec<String>, A::Error> {
        self.stop(Err("a JSON array"))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Vec<String>, E> {
        self.stop(Err("a JSON string"))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Vec<String>, E> {
        self.stop(Err("a JSON boolean"))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Vec<String>, E> {
        self.stop(Err("a JSON number"))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Vec<String>, E> {
        self.stop(Err("a JSON number"))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Vec<String>, E> {
        self.stop(Err("a JSON number"))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Vec<String>, E> {
        self.stop(Err("JSON null"))
    }
}

/// A top-level key, classified without allocating for the decisive ones.
enum TopKey {
    SchemaVersion,
    AnsibleFacts,
    Nodecheck,
    AnsiblePayload,
    Kubernetes,
    /// `ansible_hostname`, ... : the facts object of an Ansible fact cache.
    AnsibleFact(String),
    Metadata,
    Status,
    Other(String),
}

impl<'de> de::Deserialize<'de> for TopKey {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<TopKey, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = TopKey;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<TopKey, E> {
                Ok(match key {
                    "schema_version" => TopKey::SchemaVersion,
                    "ansible_facts" => TopKey::AnsibleFacts,
                    "nodecheck" => TopKey::Nodecheck,
                    "__payload__" => TopKey::AnsiblePayload,
                    "apiVersion" | "kind" | "items" => TopKey::Kubernetes,
                    "metadata" => TopKey::Metadata,
                    "status" => TopKey::Status,
                    other if other.starts_with("ansible_") => {
                        TopKey::AnsibleFact(other.chars().take(40).collect())
                    }
                    other => TopKey::Other(other.chars().take(40).collect()),
                })
            }
        }
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisive_keys_name_the_format() {
        assert_eq!(
            detect_slice(br#"{"schema_version": 1, "host": {"#),
            Ok(Format::Snapshot {
                schema_version: Some(1)
            })
        );
        assert_eq!(
            detect_slice(br#"{"changed": false, "ansible_facts": {"nodecheck": {}}}"#),
            Ok(Format::AnsibleResult)
        );
        assert_eq!(
            detect_slice(br#"{"ansible_hostname": "w1", "nodecheck": {}}"#),
            Ok(Format::AnsibleFactCache)
        );
        assert_eq!(
            detect_slice(br#"{"__payload__": "{\"nodecheck\": {}}"}"#),
            Ok(Format::AnsiblePayloadCache)
        );
        assert_eq!(
            detect_slice(br#"{"apiVersion": "v1", "items": []"#),
            Ok(Format::Kubernetes)
        );
        assert_eq!(
            detect_slice(br#"{"ansible_all_ipv4_addresses": [], "ansible_hostname": "w1"}"#),
            Ok(Format::AnsibleFactCache)
        );
    }

    #[test]
    fn a_node_saved_without_kind_is_a_kubernetes_object() {
        assert_eq!(
            detect_slice(
                br#"{"metadata": {"name": "w1"}, "spec": {}, "status": {"nodeInfo": {}}}"#
            ),
            Ok(Format::Kubernetes)
        );
        assert_eq!(
            detect_slice(br#"{"metadata": {"name": "w1"}, "spec": {}}"#),
            Err(Undetected::UnknownObject(vec![
                "metadata".into(),
                "spec".into()
            ]))
        );
    }

    #[test]
    fn unknown_documents_say_what_they_are() {
        assert_eq!(
            detect_slice(br#"{"a": [1, {"schema_version": 1}], "b": 2}"#),
            Err(Undetected::UnknownObject(vec!["a".into(), "b".into()]))
        );
        assert_eq!(
            detect_slice(b"[1, 2]"),
            Err(Undetected::NotAnObject("a JSON array"))
        );
        let Err(Undetected::InvalidJson(e)) = detect_slice(b"{\"a\": [1,\n 2") else {
            panic!("truncated JSON must be invalid");
        };
        assert!(e.contains("line 2 column 2"), "{e}");
    }
}
