//! Loading a profile: from a file, /etc/nodecheck/profile.yaml, or the built-in default; turning every
//! YAML or validation error into one message with the file, line:column, the key path, and a snippet.

use std::borrow::Cow;
use std::path::Path;

use serde_saphyr::MessageFormatter;

use super::validate::first_cross_field_violation;
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
        serde_saphyr::with_deserializer_from_str_with_options(text, yaml_options(), |de| {
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
    if let Some(v) = first_cross_field_violation(&profile) {
        let at = match locate_key(text, &v.path) {
            Some((line, column)) => format!("{origin}:{line}:{column}"),
            None => origin.to_string(),
        };
        return Err(BadInput(format!("{at}: {} (key `{}`)", v.message, v.path)));
    }
    Ok(profile)
}

/// How profiles are read (docs/profile.md, "YAML rules"): duplicate keys are refused (the library's
/// default), and booleans are YAML 1.2's `true`/`false` only: `yes`, `no`, `on`, `off` are not
/// booleans (a quoted `"yes"` never was one either; see `validate::de_strict_bool`).
fn yaml_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        strict_booleans: true,
    }
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
/// `other_nics[1]`), for errors found after parsing. The text is parsed again into a tree of key
/// locations, so block and flow style (`{pod_cidrs: [...]}`) are both found; an index points at the
/// list element.
pub fn locate_key(text: &str, path: &str) -> Option<(usize, usize)> {
    let tree: KeyTree = serde_saphyr::from_str_with_options(text, yaml_options()).ok()?;
    let mut node = &tree;
    let mut at = None;
    for part in path.split('.') {
        let (key, indices) = match part.split_once('[') {
            Some((key, rest)) => (key, Some(rest)),
            None => (part, None),
        };
        let KeyTree::Map(entries) = node else {
            return None;
        };
        let (location, value) = entries.iter().find(|(k, _)| k.value == key)?;
        at = Some(location.referenced);
        node = value;
        for index in indices.into_iter().flat_map(|r| r.split('[')) {
            let index: usize = index.trim_end_matches(']').parse().ok()?;
            let KeyTree::Seq(items) = node else {
                return None;
            };
            let item = items.get(index)?;
            at = Some(item.referenced);
            node = &item.value;
        }
    }
    at.map(|l| (l.line() as usize, l.column() as usize))
}

/// A YAML document reduced to where its keys and list items are.
enum KeyTree {
    Map(Vec<(serde_saphyr::Spanned<String>, KeyTree)>),
    Seq(Vec<serde_saphyr::Spanned<KeyTree>>),
    Scalar,
}

impl<'de> serde::Deserialize<'de> for KeyTree {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = KeyTree;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<KeyTree, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<serde_saphyr::Spanned<String>>()? {
                    entries.push((key, map.next_value::<KeyTree>()?));
                }
                Ok(KeyTree::Map(entries))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<KeyTree, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(KeyTree::Seq(items))
            }
            fn visit_bool<E>(self, _: bool) -> Result<KeyTree, E> {
                Ok(KeyTree::Scalar)
            }
            fn visit_i64<E>(self, _: i64) -> Result<KeyTree, E> {
                Ok(KeyTree::Scalar)
            }
            fn visit_u64<E>(self, _: u64) -> Result<KeyTree, E> {
                Ok(KeyTree::Scalar)
            }
            fn visit_f64<E>(self, _: f64) -> Result<KeyTree, E> {
                Ok(KeyTree::Scalar)
            }
            fn visit_str<E>(self, _: &str) -> Result<KeyTree, E> {
                Ok(KeyTree::Scalar)
            }
            fn visit_unit<E>(self) -> Result<KeyTree, E> {
                Ok(KeyTree::Scalar)
            }
            fn visit_none<E>(self) -> Result<KeyTree, E> {
                Ok(KeyTree::Scalar)
            }
        }
        d.deserialize_any(V)
    }
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
    fn cross_field_errors_in_flow_style_are_located() {
        let text = "{pod_cidrs: [10.0.0.0/16],\n service_cidrs: [10.0.128.0/20]}\n";
        let err = parse_profile(text, "p.yaml").unwrap_err();
        assert!(err.0.starts_with("p.yaml:2:2: pod_cidrs"), "{}", err.0);
        let text = "other_nics: [{name: eth1}, {alternatives: [x]}]\n";
        let err = parse_profile(text, "p.yaml").unwrap_err();
        assert!(
            err.0.starts_with("p.yaml:1:28: other_nics[1] needs"),
            "{}",
            err.0
        );
    }

    #[test]
    fn thousands_of_overlapping_ranges_cost_one_message() {
        let mut text = String::from("pod_cidrs:\n");
        for i in 0..1000 {
            text.push_str(&format!("  - 10.{}.{}.0/24\n", i / 256, i % 256));
        }
        text.push_str("service_cidrs:\n");
        for i in 0..1000 {
            text.push_str(&format!("  - 10.{}.{}.0/24\n", i / 256, i % 256));
        }
        let started = std::time::Instant::now();
        let err = parse_profile(&text, "p.yaml").unwrap_err();
        assert_eq!(err.0.lines().count(), 1, "{}", err.0);
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn lists_longer_than_the_cap_are_refused_with_a_location() {
        let mut text = String::from("skip:\n");
        for i in 0..=super::super::validate::MAX_LIST_ENTRIES {
            text.push_str(&format!("  - Check-{i}\n"));
        }
        let err = parse_profile(&text, "p.yaml").unwrap_err();
        assert!(err.0.contains("more than 1024 entries"), "{}", err.0);
        assert!(err.0.starts_with("p.yaml:"), "{}", err.0);
    }

    #[test]
    fn families_are_each_listed_once() {
        let err = parse_profile("calico:\n  families: [ipv4, ipv6, ipv4]\n", "p.yaml").unwrap_err();
        assert!(
            err.0.contains("address family `ipv4` is listed twice"),
            "{}",
            err.0
        );
        assert!(err.0.starts_with("p.yaml:2:"), "{}", err.0);
    }

    #[test]
    fn booleans_are_true_or_false_only() {
        for text in [
            "bridges:\n  docker_bridges_fail: \"yes\"\n",
            "bridges:\n  docker_bridges_fail: \"true\"\n",
            "bridges:\n  docker_bridges_fail: yes\n",
            "bridges:\n  docker_bridges_fail: off\n",
        ] {
            let err = parse_profile(text, "p.yaml").unwrap_err();
            assert!(err.0.starts_with("p.yaml:2:"), "{text}: {}", err.0);
        }
        let p = parse_profile("bridges:\n  docker_bridges_fail: true\n", "p.yaml").unwrap();
        assert!(p.bridges.docker_bridges_fail);
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
