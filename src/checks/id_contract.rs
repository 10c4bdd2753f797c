//! The check-ID contract, held against the code: every ID a check can emit is listed in
//! docs/checks.md ("Every check ID"), and every ID listed there can still be emitted.
//!
//! IDs are read from the non-test code under `src/checks/` as written (see "How to add a check" in
//! `checks/mod.rs`): string literals shaped `Kind-Subject`, a `{…}` standing for a variable subject,
//! and `const ID: &str = "…"` for IDs without a dash. In the document, `<…>` stands for a subject.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use regex::Regex;

/// An ID with its variable parts as `*`: `Port-{port}` and `Port-<n>` both read `Port-*`.
fn normalised(id: &str) -> String {
    Regex::new(r"\{[^}]*\}|<[^>]*>")
        .unwrap()
        .replace_all(id, "*")
        .into_owned()
}

/// Whether `pattern` (an ID with `*` for a subject) covers `id` (an ID, possibly with `*` too).
pub(crate) fn covers(pattern: &str, id: &str) -> bool {
    let re = format!("^{}$", regex::escape(pattern).replace(r"\*", ".+"));
    Regex::new(&re).unwrap().is_match(id)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every ID the code under `src/checks/` can emit, normalised.
fn ids_in_code() -> BTreeSet<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/checks");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let shaped = Regex::new(r#""([A-Z][A-Za-z0-9]*(?:-[A-Za-z0-9_.:{}]+)+)""#).unwrap();
    let constant = Regex::new(r#"const ID: &str = "([^"]+)""#).unwrap();
    let mut ids = BTreeSet::new();
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy();
        if name == "tests.rs" || name == "id_contract.rs" {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        // Unit tests sit at the end of a file; their literals are not IDs the checks emit.
        let code = match text.find("#[cfg(test)]\nmod ") {
            Some(at) => &text[..at],
            None => &text[..],
        };
        for re in [&shaped, &constant] {
            ids.extend(re.captures_iter(code).map(|c| normalised(&c[1])));
        }
    }
    ids
}

/// Every ID in the first column of a table row of docs/checks.md, normalised.
pub(crate) fn ids_in_docs() -> BTreeSet<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/checks.md");
    let text = std::fs::read_to_string(path).unwrap();
    let ticked = Regex::new(r"`([A-Z][A-Za-z0-9]*(?:-[A-Za-z0-9_.:<>]+)*)`").unwrap();
    text.lines()
        .filter_map(|l| l.strip_prefix('|')?.split('|').next())
        .flat_map(|cell| {
            ticked
                .captures_iter(cell)
                .map(|c| normalised(&c[1]))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn every_id_the_checks_emit_is_documented() {
    let docs = ids_in_docs();
    let missing: Vec<String> = ids_in_code()
        .into_iter()
        .filter(|id| !docs.iter().any(|d| covers(d, id) || covers(id, d)))
        .collect();
    assert!(
        missing.is_empty(),
        "check IDs the code emits but docs/checks.md (\"Every check ID\") does not list: {missing:?}"
    );
}

#[test]
fn every_documented_id_can_still_be_emitted() {
    let code = ids_in_code();
    let gone: Vec<String> = ids_in_docs()
        .into_iter()
        .filter(|d| !code.iter().any(|id| covers(id, d) || covers(d, id)))
        .collect();
    assert!(
        gone.is_empty(),
        "docs/checks.md lists check IDs no check emits any more (IDs are never removed): {gone:?}"
    );
}

#[test]
fn subjects_match_either_way() {
    assert_eq!(normalised("Port-{port}"), "Port-*");
    assert_eq!(normalised("Bridge-<device>"), "Bridge-*");
    assert!(covers(
        "Calico-AutodetectionIPv*",
        "Calico-AutodetectionIPv6"
    ));
    assert!(covers("Sysctl-*", "Sysctl-net.ipv4.ip_forward"));
    assert!(!covers("NodeNic-Mtu", "NodeNic-Name"));
}
