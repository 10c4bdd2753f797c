//! Traps in an `interface=` / `skip-interface=` value that calico-node accepts silently: empty entries,
//! a comma cutting a regex in two, blanks kept inside an entry, unanchored names that also match VLANs,
//! veths and longer names. Each finding names the entry and what it does on this node.

use std::sync::Arc;

use super::go_regexp::{self, GoRegex, GoRegexError};
use crate::facts::Facts;

/// Findings for a regex list: `warnings` change or endanger the answer; `notes` are advice (an
/// unanchored entry that, on this node, matches only the interface it names).
#[derive(Debug, Default)]
pub struct Findings {
    pub warnings: Vec<String>,
    pub notes: Vec<String>,
}

/// Findings for the entries of an `interface=` (`include` true) or `skip-interface=` list; `compile`
/// turns an entry into the Go regex of the modelled Calico release.
pub fn lint_regex_list(
    entries: &[String],
    include: bool,
    facts: &Facts,
    compile: impl Fn(&str) -> Result<Arc<GoRegex>, GoRegexError>,
) -> Findings {
    let mut findings = Findings::default();
    let out = &mut findings.warnings;
    let key = if include {
        "interface="
    } else {
        "skip-interface="
    };
    if entries.iter().any(|e| e.is_empty()) {
        out.push(if include {
            format!("{key} has an empty regex (nothing after `=`, a trailing comma or `,,`): it matches every interface and no exclusion list applies, so docker0 or a br- bridge can win")
        } else {
            format!("{key} has an empty regex (nothing after `=`, a trailing comma or `,,`): it excludes every interface, so detection always fails")
        });
    }
    let opens = entries
        .iter()
        .filter(|e| e.contains('{') && !e.contains('}'))
        .count();
    let closes = entries
        .iter()
        .filter(|e| e.contains('}') && !e.contains('{'))
        .count();
    if opens > 0 && closes > 0 {
        out.push(format!(
            "a comma inside a regex cuts it in two: the entries are {}; write `eth[12]` or `(eth1|eth2)` instead of `eth{{1,2}}`",
            entries.iter().map(|e| format!("`{}`", e)).collect::<Vec<_>>().join(", ")
        ));
    }
    for e in entries.iter().filter(|e| !e.is_empty()) {
        if e.trim() != e.as_str() {
            findings.warnings.push(format!(
                "regex `{}` keeps its surrounding blanks (only blanks around a comma are dropped); interface names have none, so it matches nothing",
                e
            ));
            continue;
        }
        if !include || (e.starts_with('^') && e.ends_with('$')) {
            continue;
        }
        let Ok(re) = compile(e) else { continue };
        let matched: Vec<String> = facts
            .interfaces
            .iter()
            .filter(|i| go_regexp::matches(&re, &i.go_name()))
            .map(|i| i.name.to_string())
            .collect();
        let here = if matched.is_empty() {
            "matches nothing".to_string()
        } else {
            format!("matches {}", matched.join(", "))
        };
        let text = format!(
            "regex `{e}` is unanchored: it matches anywhere in a name (here it {here}; also VLANs like `{e}.100` and veths); anchor it as `^{}$`",
            e.trim_start_matches('^').trim_end_matches('$')
        );
        // Harmless today when it matches only the interface it spells out.
        if matched.len() <= 1 && matched.iter().all(|m| m == e) {
            findings.notes.push(text);
        } else {
            findings.warnings.push(text);
        }
    }
    findings
}
