//! Reading operator-supplied files and stdin with a size bound and errors that say what went wrong.

use std::io::Read;
use std::path::Path;

use crate::error::BadInput;

/// Reads `path` as UTF-8 text, or stdin when `path` is `-`. Refuses files larger than `max_bytes`.
pub fn read_input(path: &Path, max_bytes: u64) -> Result<String, BadInput> {
    let mut bytes = Vec::new();
    let shown = path.display();
    if path.as_os_str() == "-" {
        std::io::stdin()
            .take(max_bytes + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| BadInput(format!("reading stdin: {e}")))?;
    } else {
        let file = std::fs::File::open(path)
            .map_err(|e| BadInput(format!("{shown}: cannot open: {e}")))?;
        if let Ok(meta) = file.metadata() {
            if meta.is_dir() {
                return Err(BadInput(format!(
                    "{shown}: is a directory, expected a file"
                )));
            }
        }
        file.take(max_bytes + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| BadInput(format!("{shown}: cannot read: {e}")))?;
    }
    if bytes.len() as u64 > max_bytes {
        return Err(BadInput(format!(
            "{shown}: larger than {} MiB, refusing to read it",
            max_bytes / (1024 * 1024)
        )));
    }
    if bytes.is_empty() {
        return Err(BadInput(format!("{shown}: is empty")));
    }
    String::from_utf8(bytes).map_err(|e| {
        BadInput(format!(
            "{shown}: not UTF-8 text (invalid byte at offset {}); is this a binary file?",
            e.utf8_error().valid_up_to()
        ))
    })
}
