//! Editing a JSON document without re-serialising it: the byte ranges of the top-level object's
//! members and of an array's elements, found by scanning the text, so a planner replaces exactly the
//! values it changes and every other byte (number text such as `1.5E3` or
//! `123456789012345678901234567890`, key order, spacing, comments-free layout) stays as it was.
//! The text must already have parsed as JSON (`serde_json`); the scanner only finds boundaries.

use std::ops::Range;

/// One member of an object: its key (unescaped) and the byte range of its key and of its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub key: String,
    pub key_at: Range<usize>,
    pub value: Range<usize>,
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// The end of the string starting at `i` (on its opening quote).
fn string_end(b: &[u8], mut i: usize) -> usize {
    i += 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

/// The end of the value starting at `i`.
fn value_end(b: &[u8], i: usize) -> usize {
    match b.get(i) {
        Some(b'"') => string_end(b, i),
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            let mut j = i;
            while j < b.len() {
                match b[j] {
                    b'"' => {
                        j = string_end(b, j);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return j + 1;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            b.len()
        }
        _ => {
            let mut j = i;
            while j < b.len() && !matches!(b[j], b',' | b'}' | b']') && !b[j].is_ascii_whitespace()
            {
                j += 1;
            }
            j
        }
    }
}

/// The members of the object whose `{` is at `open`.
pub fn members(text: &str, open: usize) -> Vec<Member> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = skip_ws(b, open + 1);
    while i < b.len() && b[i] == b'"' {
        let key_end = string_end(b, i);
        let key = serde_json::from_str::<String>(&text[i..key_end]).unwrap_or_default();
        let colon = skip_ws(b, key_end);
        let start = skip_ws(b, colon + 1);
        let end = value_end(b, start);
        out.push(Member {
            key,
            key_at: i..key_end,
            value: start..end,
        });
        i = skip_ws(b, end);
        if b.get(i) == Some(&b',') {
            i = skip_ws(b, i + 1);
        }
    }
    out
}

/// The elements of the array whose `[` is at `open`.
pub fn elements(text: &str, open: usize) -> Vec<Range<usize>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = skip_ws(b, open + 1);
    while i < b.len() && b[i] != b']' {
        let end = value_end(b, i);
        out.push(i..end);
        i = skip_ws(b, end);
        if b.get(i) == Some(&b',') {
            i = skip_ws(b, i + 1);
        }
    }
    out
}

/// The top-level object's `{`, when the document is an object.
pub fn top_object(text: &str) -> Option<usize> {
    let i = skip_ws(text.as_bytes(), 0);
    (text.as_bytes().get(i) == Some(&b'{')).then_some(i)
}

/// `text` with each range replaced (ranges must not overlap).
pub fn replace(text: &str, mut edits: Vec<(Range<usize>, String)>) -> String {
    edits.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
    let mut out = text.to_string();
    for (r, with) in edits {
        out.replace_range(r, &with);
    }
    out
}

/// The edit that adds `"key": value` as the object's last member, indented like its first member.
pub fn add_member(text: &str, open: usize, key: &str, value: &str) -> (Range<usize>, String) {
    let existing = members(text, open);
    let quoted = serde_json::to_string(key).unwrap_or_default();
    match (existing.first(), existing.last()) {
        (Some(first), Some(last)) => {
            let sep = &text[open + 1..first.key_at.start];
            let sep = if sep.contains('\n') { sep } else { " " };
            (
                last.value.end..last.value.end,
                format!(",{sep}{quoted}: {value}"),
            )
        }
        _ => (open + 1..open + 1, format!("\n  {quoted}: {value}\n")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_keep_every_other_byte() {
        let text = "{\n  \"big\": 123456789012345678901234567890,\n  \"f\": 1.5E3,\n  \"s\": \"a\\\"}\",\n  \"pools\": [ {\"base\": \"172.17.0.0/16\", \"size\": 24}, \"junk\" ]\n}\n";
        let open = top_object(text).unwrap();
        let m = members(text, open);
        assert_eq!(
            m.iter().map(|m| m.key.as_str()).collect::<Vec<_>>(),
            ["big", "f", "s", "pools"]
        );
        assert_eq!(&text[m[1].value.clone()], "1.5E3");
        let pools = elements(text, m[3].value.start);
        assert_eq!(&text[pools[1].clone()], "\"junk\"");
        let after = replace(
            text,
            vec![
                (
                    pools[0].clone(),
                    "{\"base\": \"10.50.0.0/16\", \"size\": 24}".into(),
                ),
                add_member(text, open, "bip", "\"10.60.0.1/24\""),
            ],
        );
        assert_eq!(
            after,
            "{\n  \"big\": 123456789012345678901234567890,\n  \"f\": 1.5E3,\n  \"s\": \"a\\\"}\",\n  \"pools\": [ {\"base\": \"10.50.0.0/16\", \"size\": 24}, \"junk\" ],\n  \"bip\": \"10.60.0.1/24\"\n}\n"
        );
        assert!(serde_json::from_str::<serde_json::Value>(&after).is_ok());
        let empty = "{ }";
        let (r, with) = add_member(empty, 0, "bip", "\"x\"");
        assert_eq!(replace(empty, vec![(r, with)]), "{\n  \"bip\": \"x\"\n }");
    }
}
