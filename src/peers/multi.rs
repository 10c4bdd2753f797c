//! Multi-snapshot peer files: one file holding many peer documents, so that a fleet is staged on a node
//! as one file rather than one file per peer.
//!
//! Two layouts are accepted, told by their first byte and by what follows the first value:
//!
//! - **JSON Lines**: JSON objects one after the other (one per line is the convention, any whitespace
//!   between them is accepted); each object is named `FILE:LINE` by the line it starts on;
//! - **a JSON array** of objects; each element is named `FILE#[INDEX]`.
//!
//! Each document is told on its own, like a file of its own (a snapshot, any Ansible JSON layout, a
//! node list). Only the documents' byte ranges are found here, with serde_json skipping over each
//! value without building it; the caller parses each range.

use serde::de::IgnoredAny;

/// One document of a multi-document file: where it is, and how reports name it.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    /// Appended to the file's label: `:LINE` (JSON Lines) or `#[INDEX]` (array).
    pub position: String,
    pub range: std::ops::Range<usize>,
}

/// What a file turned out to be.
#[derive(Debug, PartialEq)]
pub enum Layout {
    /// One JSON document (or not JSON at all): parsed as before.
    Single,
    /// Several documents.
    Parts(Vec<Part>),
    /// A JSON array or JSON Lines file that is broken: the message, with line and column.
    Invalid(String),
}

/// Splits a file into its documents, without parsing them.
pub fn split(bytes: &[u8]) -> Layout {
    let start = skip_whitespace(bytes, 0);
    match bytes.get(start) {
        Some(b'[') => split_array(bytes, start),
        Some(b'{') => split_lines(bytes),
        _ => Layout::Single,
    }
}

fn skip_whitespace(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    at
}

/// JSON objects one after another. A file with one object is [`Layout::Single`].
fn split_lines(bytes: &[u8]) -> Layout {
    let mut stream = serde_json::Deserializer::from_slice(bytes).into_iter::<IgnoredAny>();
    let mut parts = Vec::new();
    let mut line = 1;
    let mut counted = 0;
    loop {
        let start = skip_whitespace(bytes, stream.byte_offset());
        match stream.next() {
            None => break,
            Some(Ok(_)) => {}
            // A broken first document is the single document's own error, found again by its parser.
            Some(Err(_)) if parts.is_empty() => return Layout::Single,
            Some(Err(e)) => return Layout::Invalid(format!("invalid JSON Lines: {e}")),
        }
        line += bytes[counted..start]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        counted = start;
        parts.push(Part {
            position: format!(":{line}"),
            range: start..stream.byte_offset(),
        });
    }
    if parts.len() <= 1 {
        Layout::Single
    } else {
        Layout::Parts(parts)
    }
}

/// A top-level JSON array. Text that is not a JSON array at all (Ansible's ad-hoc output opening
/// with a `[WARNING]: …` line) is [`Layout::Single`], left to the text formats.
fn split_array(bytes: &[u8], open: usize) -> Layout {
    // One validating pass first: it gives the error with the file's own line and column, and tells a
    // JSON array from text that merely starts with `[`.
    match serde_json::from_slice::<IgnoredAny>(bytes) {
        Ok(_) => {}
        Err(_) if !starts_like_json_array(bytes, open) => return Layout::Single,
        Err(e) => return Layout::Invalid(format!("invalid JSON array: {e}")),
    }
    let mut parts = Vec::new();
    let mut at = skip_whitespace(bytes, open + 1);
    while bytes.get(at).is_some_and(|&b| b != b']') {
        let mut value =
            serde_json::Deserializer::from_slice(&bytes[at..]).into_iter::<IgnoredAny>();
        if !matches!(value.next(), Some(Ok(_))) {
            break; // not reached: the whole array validated above
        }
        let end = at + value.byte_offset();
        parts.push(Part {
            position: format!("#[{}]", parts.len()),
            range: at..end,
        });
        at = skip_whitespace(bytes, end);
        if bytes.get(at) == Some(&b',') {
            at = skip_whitespace(bytes, at + 1);
        }
    }
    Layout::Parts(parts)
}

/// Whether the text after `[` looks like a JSON value rather than a word (`[WARNING]`).
fn starts_like_json_array(bytes: &[u8], open: usize) -> bool {
    matches!(
        bytes.get(skip_whitespace(bytes, open + 1)),
        Some(b'{' | b'[' | b']' | b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn positions(bytes: &[u8]) -> Vec<(String, String)> {
        match split(bytes) {
            Layout::Parts(parts) => parts
                .into_iter()
                .map(|p| {
                    (
                        p.position,
                        String::from_utf8(bytes[p.range].to_vec()).unwrap(),
                    )
                })
                .collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn json_lines_are_named_by_the_line_each_document_starts_on() {
        let text = b"{\"a\": 1}\n{\"b\": [1,\n2]}\n\n  {\"c\": {}}\n";
        assert_eq!(
            positions(text),
            [
                (":1".to_string(), "{\"a\": 1}".to_string()),
                (":2".to_string(), "{\"b\": [1,\n2]}".to_string()),
                (":5".to_string(), "{\"c\": {}}".to_string()),
            ]
        );
    }

    #[test]
    fn an_array_is_split_into_its_elements() {
        let text = b" [ {\"a\": 1} ,\n{\"b\": \"],\"}, 3 ]";
        assert_eq!(
            positions(text),
            [
                ("#[0]".to_string(), "{\"a\": 1}".to_string()),
                ("#[1]".to_string(), "{\"b\": \"],\"}".to_string()),
                ("#[2]".to_string(), "3".to_string()),
            ]
        );
        assert_eq!(split(b"[]"), Layout::Parts(Vec::new()));
    }

    #[test]
    fn one_document_and_text_stay_single() {
        assert_eq!(split(b"{\"schema_version\": 1}\n"), Layout::Single);
        assert_eq!(split(b"{\"broken\": \n"), Layout::Single);
        assert_eq!(
            split(b"[WARNING]: No inventory was parsed\nw1 | SUCCESS => {}"),
            Layout::Single
        );
        assert_eq!(split(b"host | SUCCESS => {}"), Layout::Single);
    }

    #[test]
    fn a_broken_multi_document_file_says_where() {
        let Layout::Invalid(e) = split(b"{\"a\": 1}\n{\"b\": \n") else {
            panic!()
        };
        assert!(
            e.starts_with("invalid JSON Lines: EOF while parsing"),
            "{e}"
        );
        assert!(e.contains("line 3"), "{e}");
        let Layout::Invalid(e) = split(b"[{\"a\": 1},\n{\"b\" 2}]") else {
            panic!()
        };
        assert_eq!(e, "invalid JSON array: expected `:` at line 2 column 6");
    }
}
