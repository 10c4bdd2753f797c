//! Setting one top-level key of a block-mapping YAML file (a k3s/RKE2 `config.yaml`) by editing its
//! text: the key's line (and the lines of a block value under it) is replaced, or a line appended,
//! and every other byte — comments, blank lines, key order, quoting of other keys — stays. The edit
//! is then checked by parsing both texts: the key must read back as the new value and every other
//! key as before, or the edit is refused.

use serde_json::{Map, Value};

/// A line and its line ending.
fn lines_with_endings(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

/// Whether `line` is the top-level entry of `key` (`key:`, `"key":`, `'key':`).
fn is_entry_of(line: &str, key: &str) -> bool {
    for quoted in [key.to_string(), format!("\"{key}\""), format!("'{key}'")] {
        if let Some(rest) = line.strip_prefix(quoted.as_str()) {
            let rest = rest.trim_start_matches([' ', '\t']);
            if let Some(after) = rest.strip_prefix(':') {
                if after.is_empty() || after.starts_with([' ', '\t', '\n', '\r']) {
                    return true;
                }
            }
        }
    }
    false
}

/// A line that continues the value of the entry above it: indented, or a block sequence item
/// at column 0 (`key:\n- a`).
fn continues_value(line: &str) -> bool {
    let body = line.trim_end_matches(['\n', '\r']);
    !body.trim().is_empty()
        && (body.starts_with([' ', '\t']) || body == "-" || body.starts_with("- "))
}

/// The value as a YAML scalar: plain when it cannot be read as anything but that string, else
/// double-quoted.
fn scalar(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | ','))
        && !value.starts_with(['-', '.'])
        && !matches!(
            value.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n"
        )
        && value.parse::<f64>().is_err();
    if plain {
        value.to_string()
    } else {
        serde_json::to_string(value).expect("a string serialises")
    }
}

fn parse_mapping(text: &str, what: &str) -> Result<Map<String, Value>, String> {
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    let docs: Vec<Value> = serde_saphyr::from_multiple(text).map_err(|e| {
        let at = e
            .location()
            .map(|l| format!(" at line {} column {}", l.line(), l.column()))
            .unwrap_or_default();
        format!("{what} is not YAML{at}")
    })?;
    match docs.as_slice() {
        [] | [Value::Null] => Ok(Map::new()),
        [Value::Object(map)] => Ok(map.clone()),
        [_] => Err(format!("{what} is not a mapping of keys")),
        _ => Err(format!("{what} holds more than one YAML document")),
    }
}

/// `text` with top-level `key` set to the string `value`; `text` is `None` for a new file.
pub fn set_key(text: Option<&str>, key: &str, value: &str) -> Result<String, String> {
    let before = text.unwrap_or("");
    let old = parse_mapping(before, "the file")?;
    let lines = lines_with_endings(before);
    let at: Vec<usize> = (0..lines.len())
        .filter(|&i| is_entry_of(lines[i], key))
        .collect();
    let written = format!("{key}: {}", scalar(value));
    let mut out = String::with_capacity(before.len() + written.len() + 1);
    match at.as_slice() {
        [] => {
            out.push_str(before);
            if !before.is_empty() && !before.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(&written);
            out.push('\n');
        }
        [i] => {
            let i = *i;
            let mut end = i + 1;
            while end < lines.len() && continues_value(lines[end]) {
                end += 1;
            }
            // A comment after a one-line value stays (`node-ip: 10.0.0.5  # primary`).
            let first = lines[i].trim_end_matches(['\n', '\r']);
            let comment = (end == i + 1)
                .then(|| {
                    first
                        .find(" #")
                        .map(|c| &first[first[..c].trim_end().len()..])
                })
                .flatten()
                .filter(|c| !c.contains(['"', '\'']));
            let ending = if lines[end - 1].ends_with("\r\n") {
                "\r\n"
            } else {
                "\n"
            };
            lines[..i].iter().for_each(|l| out.push_str(l));
            out.push_str(&written);
            if let Some(c) = comment {
                out.push_str(c);
            }
            out.push_str(ending);
            lines[end..].iter().for_each(|l| out.push_str(l));
        }
        _ => return Err(format!("`{key}` is set more than once at the top level")),
    }
    let new = parse_mapping(&out, "the edited file")?;
    let mut expected = old.clone();
    expected.insert(key.to_string(), Value::String(value.to_string()));
    if new != expected {
        return Err(format!(
            "editing `{key}` as text would change other keys or not read back as {value:?}: not edited"
        ));
    }
    Ok(out)
}

/// The string value of top-level `key` (a list joined with commas, as k3s joins repeated flags).
pub fn get_key(text: &str, key: &str) -> Result<Option<String>, String> {
    let map = parse_mapping(text, "the file")?;
    Ok(map.get(key).and_then(|v| match v {
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => Some(
            items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(String::from)
                        .unwrap_or_else(|| i.to_string())
                })
                .collect::<Vec<_>>()
                .join(","),
        ),
        Value::Null => None,
        other => Some(other.to_string()),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const K3S: &str = "# k3s agent configuration (managed by hand)\n\
server: https://10.20.41.10:6443\n\
token: \"K10::server:abc\"   # from the server\n\
\n\
node-ip: 10.99.0.78 # the VPN address\n\
node-label:\n  - \"zone=a\"\n  - tier=db\n# end of file\n";

    #[test]
    fn a_value_is_replaced_keeping_comments_and_other_keys() {
        let after = set_key(Some(K3S), "node-ip", "10.20.41.41").unwrap();
        assert_eq!(
            after,
            K3S.replace(
                "node-ip: 10.99.0.78 # the VPN address",
                "node-ip: 10.20.41.41 # the VPN address"
            )
        );
        assert_eq!(
            get_key(&after, "node-ip").unwrap().as_deref(),
            Some("10.20.41.41")
        );
        // Setting it again changes nothing.
        assert_eq!(
            set_key(Some(&after), "node-ip", "10.20.41.41").unwrap(),
            after
        );
    }

    #[test]
    fn a_block_list_value_is_replaced_whole_and_a_missing_key_appended() {
        let text = "node-ip:\n- 10.99.0.78\n- fd00:99::78\nflannel-backend: vxlan\n";
        let after = set_key(Some(text), "node-ip", "10.20.41.41,fd00:20::41").unwrap();
        assert_eq!(
            after,
            "node-ip: \"10.20.41.41,fd00:20::41\"\nflannel-backend: vxlan\n"
        );
        let appended = set_key(Some("# only a comment"), "flannel-iface", "ens192").unwrap();
        assert_eq!(appended, "# only a comment\nflannel-iface: ens192\n");
        assert_eq!(
            set_key(None, "node-ip", "fd00::5").unwrap(),
            "node-ip: \"fd00::5\"\n"
        );
        assert_eq!(
            set_key(None, "flannel-iface", "true").unwrap(),
            "flannel-iface: \"true\"\n"
        );
    }

    #[test]
    fn what_cannot_be_edited_as_text_is_refused() {
        assert!(set_key(Some("{node-ip: 10.0.0.1}"), "node-ip", "10.0.0.2").is_err());
        assert!(set_key(Some("node-ip: [\n"), "node-ip", "10.0.0.2")
            .unwrap_err()
            .contains("line"));
        assert!(set_key(Some("- a\n- b\n"), "node-ip", "10.0.0.2").is_err());
    }
}
