//! Reading a saved snapshot (`--facts FILE`, `--baseline FILE`) with errors that name the file and line.

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
pub fn parse_facts(text: &str) -> Result<Facts, BadInput> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        BadInput(format!(
            "not a nodecheck facts snapshot: invalid JSON at line {} column {}: {}",
            e.line(),
            e.column(),
            e
        ))
    })?;
    match value.get("schema_version").and_then(|v| v.as_u64()) {
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
    serde_json::from_value(value)
        .map_err(|e| BadInput(format!("not a valid nodecheck facts snapshot: {e}")))
}
