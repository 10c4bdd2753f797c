//! Reading a saved snapshot (`--facts FILE`, `--baseline FILE`) with errors that name the file and line.

use std::collections::BTreeMap;
use std::path::Path;

use super::{Facts, SCHEMA_VERSION};
use crate::error::BadInput;

/// Snapshots larger than this are rejected rather than read into memory.
pub const MAX_SNAPSHOT_BYTES: u64 = 64 * 1024 * 1024;

/// Reads a snapshot file (`-` for stdin).
pub fn load_facts_file(path: &Path) -> Result<Facts, BadInput> {
    let text = crate::input::read_input(path, MAX_SNAPSHOT_BYTES)?;
    parse_facts(&text).map_err(|e| BadInput(format!("{}: {}", path.display(), e.0)))
}

/// Parses a snapshot from JSON text, checking its schema version.
///
/// The text is deserialised straight into [`Facts`], as peer snapshots are: a key given twice in any
/// object is refused (`duplicate field`, or `key `x` appears twice` in a map), here and for peers alike,
/// since which of the two a reader keeps is not something a snapshot should leave open.
pub fn parse_facts(text: &str) -> Result<Facts, BadInput> {
    #[derive(serde::Deserialize)]
    struct VersionProbe {
        schema_version: Option<serde_json::Value>,
    }
    let probe: VersionProbe = serde_json::from_str(text).map_err(|e| {
        if e.is_syntax() || e.is_eof() {
            BadInput(format!(
                "not a nodecheck facts snapshot: invalid JSON at line {} column {}: {}",
                e.line(),
                e.column(),
                e
            ))
        } else {
            BadInput(format!("not a nodecheck facts snapshot: {e}"))
        }
    })?;
    match probe.schema_version.as_ref().and_then(|v| v.as_u64()) {
        None => {
            return Err(BadInput::new(
                "not a nodecheck facts snapshot: no `schema_version` field (make one with `nodecheck facts --format json`)",
            ))
        }
        Some(v) if v > SCHEMA_VERSION as u64 => {
            return Err(BadInput(format!(
                "facts schema_version {v} is newer than this nodecheck understands ({SCHEMA_VERSION}); upgrade nodecheck"
            )))
        }
        Some(_) => {}
    }
    let facts: Facts = serde_json::from_str(text)
        .map_err(|e| BadInput(format!("not a valid nodecheck facts snapshot: {e}")))?;
    facts
        .check_interface_names()
        .map_err(|e| BadInput(format!("not a valid nodecheck facts snapshot: {e}")))?;
    Ok(facts)
}

/// A map whose keys must be unique: JSON allows `{"a": 1, "a": 2}`, a snapshot does not.
pub(crate) fn unique_keys<'de, D, V>(d: D) -> Result<BTreeMap<String, V>, D::Error>
where
    D: serde::Deserializer<'de>,
    V: serde::Deserialize<'de>,
{
    struct Unique<V>(std::marker::PhantomData<V>);
    impl<'de, V: serde::Deserialize<'de>> serde::de::Visitor<'de> for Unique<V> {
        type Value = BTreeMap<String, V>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some((key, value)) = map.next_entry::<String, V>()? {
                if out.contains_key(&key) {
                    return Err(serde::de::Error::custom(format!(
                        "key `{key}` appears twice"
                    )));
                }
                out.insert(key, value);
            }
            Ok(out)
        }
    }
    d.deserialize_map(Unique(std::marker::PhantomData))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> String {
        std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/incident/worker-41.json"
        ))
        .unwrap()
    }

    #[test]
    fn a_duplicate_key_is_refused() {
        let text = fixture();
        assert!(parse_facts(&text).is_ok());
        let doubled = text.replacen("\"host\":", "\"collected_at\": \"x\", \"host\":", 1);
        let e = parse_facts(&doubled).unwrap_err().0;
        assert!(e.contains("duplicate field `collected_at`"), "{e}");
        let doubled = text.replacen(
            "\"sysctls\": {",
            "\"sysctls\": {\"a.b\": \"1\", \"a.b\": \"2\",",
            1,
        );
        let e = parse_facts(&doubled).unwrap_err().0;
        assert!(e.contains("key `a.b` appears twice"), "{e}");
    }
}
