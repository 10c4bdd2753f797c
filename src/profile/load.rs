//! Loading a profile: from a file, /etc/nodecheck/profile.yaml, or the built-in default; turning every
//! YAML or validation error into one message with the file, line:column, the key path, and a snippet.

use std::borrow::Cow;
use std::path::Path;

use serde_saphyr::MessageFormatter;

use super::validate::cross_field_violations;
use super::Profile;
use crate::error::BadInput;

/// The operator's profile location, used when `--profile` is not given.
pub const SYSTEM_PROFILE: &str = "/etc/nodecheck/profile.yaml";

/// The built-in kubeadm + Calico default profile.
pub const DEFAULT_PROFILE_YAML: &str = include_str!("../../profiles/default.yaml");

/// Profiles are small; anything larger than this is not a profile.
pub const MAX_PROFILE_BYTES: u64 = 1024 * 1024;

/// Name of the built-in profile in messages and reports.
pub const BUILT_IN: &str = "built-in default";

/// Picks the profile: `--profile`, else the system profile when present, else the built-in default.
pub fn resolve_profile(explicit: Option<&Path>) -> Result<(Profile, String), BadInput> {
    resolve_profile_with(explicit, Path::new(SYSTEM_PROFILE))
}

/// [`resolve_profile`] with the system profile's location given (tests use a path of their own).
pub fn resolve_profile_with(
    explicit: Option<&Path>,
    system: &Path,
) -> Result<(Profile, String), BadInput> {
    if let Some(path) = explicit {
        return Ok((load_profile_file(path)?, path.display().to_string()));
    }
    if system.exists() {
        return Ok((load_profile_file(system)?, system.display().to_string()));
    }
    Ok((
        parse_profile(DEFAULT_PROFILE_YAML, BUILT_IN)?,
        BUILT_IN.to_string(),
    ))
}

pub fn load_profile_file(path: &Path) -> Result<Profile, BadInput> {
    let text = crate::input::read_input(path, MAX_PROFILE_BYTES)?;
    parse_profile(&text, &path.display().to_string())
}

/// Parses and validates profile text. `origin` names the file in messages.
pub fn parse_profile(text: &str, origin: &str) -> Result<Profile, BadInput> {
    let mut key_path = String::new();
    let parsed: Result<Option<Profile>, serde_saphyr::Error> =
        serde_saphyr::with_deserializer_from_str(text, |de| {
            serde_path_to_error::deserialize(de).map_err(|e| {
                key_path = e.path().to_string();
                e.into_inner()
            })
        });
    let profile = match parsed {
        Ok(Some(profile)) => profile,
        Ok(None) => {
            return Err(BadInput(format!(
                "{origin}: the profile is empty (only comments or `null`); start from `nodecheck profile init` or docs/profile.md"
            )))
        }
        Err(e) => return Err(BadInput(describe_yaml_error(&e, &key_path, origin))),
    };
    if let Some(v) = cross_field_violations(&profile).into_iter().next() {
        let at = match locate_key(text, &v.path) {
            Some((line, column)) => format!("{origin}:{line}:{column}"),
            None => origin.to_string(),
        };
        return Err(BadInput(format!("{at}: {} (key `{}`)", v.message, v.path)));
    }
    Ok(profile)
}

/// `file:line:column: message (key `a.b[0]`)`, then the library's source snippet, made safe to print.
fn describe_yaml_error(e: &serde_saphyr::Error, key_path: &str, origin: &str) -> String {
    let formatter = ProfileMessages;
    let bare = e.without_snippet();
    let at_root = key_path.is_empty() || key_path == ".";
    let message = match bare {
        serde_saphyr::Error::Unexpected {
            expected: "mapping start",
            ..
        } if at_root => Cow::Borrowed(
            "a profile is a YAML mapping of keys (cluster:, node_network:, ...), not a list or a single value",
        ),
        _ => formatter.format_message(bare),
    };
    let mut out = match bare.location() {
        Some(loc) => format!(
            "{origin}:{}:{}: {} at line {} column {}",
            loc.line(),
            loc.column(),
            message,
            loc.line(),
            loc.column()
        ),
        None => format!("{origin}: {message}"),
    };
    let key_path = key_path.trim_end_matches(".?");
    if !key_path.is_empty() && key_path != "." && key_path != "?" {
        out.push_str(&format!(" (key `{key_path}`)"));
    }
    out.push_str(&suggestion(bare));
    let snippet = e.render_with_options(serde_saphyr::render_options! {
        formatter: &formatter,
        source_name: Some(origin),
    });
    // The first rendered line repeats the message; the rest is the ` --> file:l:c` snippet.
    let mut lines = snippet.lines();
    if snippet.starts_with("error:") {
        lines.next();
    }
    for line in lines {
        out.push('\n');
        out.push_str(line);
    }
    // Source lines can hold anything the file held; keep control bytes away from the terminal.
    without_controls(&out)
}

/// Replaces control and invisible characters (except newlines) with visible escapes; leaves the rest,
/// backslashes included, as they are.
fn without_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut buf = [0u8; 4];
    for c in text.chars() {
        let one: &str = c.encode_utf8(&mut buf);
        if c == '\n' || c == '\\' || crate::escape::is_plain(one) {
            out.push(c);
        } else {
            out.push_str(&crate::escape::for_terminal(one));
        }
    }
    out
}

/// `; did you mean `x`?` for unknown keys and values close to a known one.
fn suggestion(e: &serde_saphyr::Error) -> String {
    let (word, expected) = match e {
        serde_saphyr::Error::SerdeUnknownField {
            field, expected, ..
        } => (field.as_str(), expected),
        serde_saphyr::Error::SerdeUnknownVariant {
            variant, expected, ..
        } => (variant.as_str(), expected),
        _ => return String::new(),
    };
    match super::suggest::closest(word, expected) {
        Some(best) => format!("; did you mean `{best}`?"),
        None => format!("; expected one of: {}", expected.join(", ")),
    }
}

/// Words errors the way a profile author thinks of them: keys, not struct fields.
struct ProfileMessages;

impl serde_saphyr::MessageFormatter for ProfileMessages {
    fn format_message<'a>(&self, err: &'a serde_saphyr::Error) -> Cow<'a, str> {
        match err {
            serde_saphyr::Error::SerdeUnknownField { field, .. } => {
                Cow::Owned(format!("unknown key `{field}`"))
            }
            serde_saphyr::Error::SerdeUnknownVariant { variant, .. } => {
                Cow::Owned(format!("unknown value `{variant}`"))
            }
            serde_saphyr::Error::DuplicateMappingKey { key: Some(k), .. } => {
                Cow::Owned(format!("key `{k}` appears twice"))
            }
            serde_saphyr::Error::DuplicateMappingKey { key: None, .. } => {
                Cow::Borrowed("a key appears twice")
            }
            other => {
                let text = serde_saphyr::DefaultMessageFormatter.format_message(other);
                match integer_range(&text) {
                    Some(range) => Cow::Owned(format!("expected a whole number from {range}")),
                    None => text,
                }
            }
        }
    }
}

/// `invalid u16` (serde-saphyr's wording for a non-number or an out-of-range number) as a range.
fn integer_range(message: &str) -> Option<&'static str> {
    match message.trim() {
        "invalid u8" => Some("0 to 255"),
        "invalid u16" => Some("0 to 65535"),
        "invalid u32" => Some("0 to 4294967295"),
        "invalid u64" => Some("0 to 18446744073709551615"),
        _ => None,
    }
}

/// Line and column (1-based) of a mapping key given as a dotted path (`calico.families`,
/// `other_nics[1]`), for errors found after parsing. Follows block-style indentation; list indices
/// point at the list's key.
pub fn locate_key(text: &str, path: &str) -> Option<(usize, usize)> {
    let keys: Vec<&str> = path
        .split('.')
        .map(|k| k.split('[').next().unwrap_or(k))
        .collect();
    let mut parent_indent: Option<usize> = None;
    let mut start = 0;
    let lines: Vec<&str> = text.lines().collect();
    let mut found = None;
    for key in keys {
        found = None;
        // Keys of this level sit at the indentation of the first line below the parent.
        let mut level_indent: Option<usize> = None;
        for (n, line) in lines.iter().enumerate().skip(start) {
            let trimmed = line.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let indent = line.len() - trimmed.len();
            if parent_indent.is_some_and(|p| indent <= p) {
                break;
            }
            let level = *level_indent.get_or_insert(indent);
            let is_key = trimmed
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with(':'));
            if is_key && indent == level {
                found = Some((n, indent));
                break;
            }
        }
        let (n, indent) = found?;
        parent_indent = Some(indent);
        start = n + 1;
    }
    found.map(|(n, indent)| (n + 1, indent + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_profile_parses() {
        let p = parse_profile(DEFAULT_PROFILE_YAML, BUILT_IN).unwrap();
        assert!(
            p.node_network.cidrs.is_empty(),
            "the default knows no node network"
        );
    }

    #[test]
    fn without_a_profile_the_system_one_then_the_built_in_one_is_used() {
        let dir = std::env::temp_dir().join(format!("nodecheck-resolve-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let system = dir.join("profile.yaml");
        let _ = std::fs::remove_file(&system);
        let (p, origin) = resolve_profile_with(None, &system).unwrap();
        assert_eq!(origin, BUILT_IN);
        assert_eq!(p, parse_profile(DEFAULT_PROFILE_YAML, BUILT_IN).unwrap());
        std::fs::write(&system, "cluster: from-etc\n").unwrap();
        let (p, origin) = resolve_profile_with(None, &system).unwrap();
        assert_eq!(
            (p.cluster.as_deref(), origin),
            (Some("from-etc"), system.display().to_string())
        );
        let explicit = dir.join("explicit.yaml");
        std::fs::write(&explicit, "cluster: explicit\n").unwrap();
        let (p, _) = resolve_profile_with(Some(&explicit), &system).unwrap();
        assert_eq!(p.cluster.as_deref(), Some("explicit"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn unknown_key_gets_location_path_and_suggestion() {
        let err = parse_profile("cluster: x\nnode_netwrok:\n  cidrs: []\n", "p.yaml").unwrap_err();
        let first = err.0.lines().next().unwrap();
        assert_eq!(
            first,
            "p.yaml:2:1: unknown key `node_netwrok` at line 2 column 1 (key `node_netwrok`); did you mean `node_network`?"
        );
    }

    #[test]
    fn nested_value_errors_name_their_key_path() {
        let err = parse_profile(
            "node_network:\n  cidrs:\n    - 10.20.41.0/24\n    - 10.20.42.7/24\n",
            "p.yaml",
        )
        .unwrap_err();
        let first = err.0.lines().next().unwrap();
        assert!(first.starts_with("p.yaml:4:7: "), "{first}");
        assert!(first.contains("`10.20.42.7/24` has host bits set; the network is `10.20.42.0/24`"));
        assert!(first.contains("(key `node_network.cidrs[1]`)"), "{first}");
    }

    #[test]
    fn cross_field_errors_are_located() {
        let text = "pod_cidrs: [10.0.0.0/16]\nservice_cidrs:\n  - 10.0.128.0/20\n";
        let err = parse_profile(text, "p.yaml").unwrap_err();
        assert!(
            err.0.starts_with(
                "p.yaml:2:1: pod_cidrs `10.0.0.0/16` overlaps service_cidrs `10.0.128.0/20`"
            ),
            "{}",
            err.0
        );
    }

    #[test]
    fn locate_key_follows_indentation() {
        let text = "a:\n  b: 1\n  calico: 2\ncalico:\n  # note\n  families: [x]\n";
        assert_eq!(locate_key(text, "calico.families"), Some((6, 3)));
        assert_eq!(locate_key(text, "a.calico"), Some((3, 3)));
        assert_eq!(locate_key(text, "missing"), None);
    }

    #[test]
    fn comment_only_profile_is_empty() {
        let err = parse_profile("# nothing\n", "p.yaml").unwrap_err();
        assert!(err.0.contains("the profile is empty"), "{}", err.0);
    }
}
