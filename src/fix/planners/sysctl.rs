//! Sysctls (`Sysctl-*`, and the sysctl remedies of `Inotify-*`, `RpFilter-Node`, `Arp-Node`,
//! `OpenFiles-System`): one drop-in, /etc/sysctl.d/99-kubernetes.conf (existing lines kept, our keys
//! set), and the live value now. A key that does not exist on this kernel is held with the reason,
//! except the `net.bridge.*` keys, which appear once the planned br_netfilter load has happened.

use std::path::PathBuf;

use super::{created_by, PlanInput};
use crate::checks::finding::Finding;
use crate::fix::plan::{Change, ChangeKind, Held, Plan, TakesEffect, Target};
use crate::fix::state::{FileState, SYSCTL_DROP_IN};

/// A wanted setting and the checks it fixes.
struct Wanted {
    ids: Vec<String>,
    key: String,
    value: String,
    current: Option<String>,
}

/// The findings this planner fixes: every finding that asks for sysctl settings.
pub fn owns(finding: &Finding) -> bool {
    matches!(
        finding,
        Finding::Sysctl { .. }
            | Finding::SysctlMinimum { .. }
            | Finding::RpFilter { .. }
            | Finding::ArpIgnore { .. }
            | Finding::SystemOpenFiles { .. }
    )
}

/// A name that can stand between the dots of a sysctl key: a per-interface key of a NIC named
/// `eth0.100` (a VLAN) would be read as other keys.
fn plain_key(key: &str) -> bool {
    !key.is_empty()
        && key.split('.').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
        })
}

pub fn plan(input: &PlanInput, plan: &mut Plan) {
    let br_netfilter_planned = plan.changes.iter().any(|c| {
        matches!(&c.target, crate::fix::plan::Target::LoadModule { name } if name == "br_netfilter")
    }) || plan
        .changes
        .iter()
        .any(|c| c.fixes.iter().any(|f| f == "Module-br_netfilter"));
    let mut wanted: Vec<Wanted> = Vec::new();
    let hold = |plan: &mut Plan, id: &str, reason: String| {
        plan.held.push(Held {
            fixes: vec![id.to_string()],
            kind: ChangeKind::Sysctl,
            reason,
            change: None,
        })
    };
    for (r, finding) in input.findings().filter(|(_, f)| owns(f)) {
        for setting in finding.sysctl_settings() {
            let key = setting.key.as_str();
            if !plain_key(key) {
                hold(
                    plan,
                    &r.id,
                    format!(
                        "{key:?} is not a key nodecheck writes to a sysctl.d file: set it by hand"
                    ),
                );
                continue;
            }
            if setting.have.is_none() && !(key.starts_with("net.bridge.") && br_netfilter_planned) {
                hold(
                    plan,
                    &r.id,
                    format!(
                        "{key} does not exist on this kernel ({}): setting it would only make systemd-sysctl fail at boot",
                        r.message
                    ),
                );
                continue;
            }
            match wanted.iter_mut().find(|w| w.key == key) {
                Some(w) if w.value == setting.want => {
                    if !w.ids.contains(&r.id) {
                        w.ids.push(r.id.clone());
                    }
                }
                Some(w) => hold(
                    plan,
                    &r.id,
                    format!(
                        "{key} = {} conflicts with {key} = {} for {}: settle the profile first",
                        setting.want,
                        w.value,
                        w.ids.join(", ")
                    ),
                ),
                None => wanted.push(Wanted {
                    ids: vec![r.id.clone()],
                    key: setting.key.clone(),
                    value: setting.want.clone(),
                    current: setting.have.clone(),
                }),
            }
        }
    }
    if wanted.is_empty() {
        return;
    }
    let path = PathBuf::from(SYSCTL_DROP_IN);
    match input.host.file(SYSCTL_DROP_IN) {
        FileState::Unusable(why) => plan.held.push(Held {
            fixes: ids_of(&wanted),
            kind: ChangeKind::Sysctl,
            reason: format!("cannot edit {SYSCTL_DROP_IN}: {why}"),
            change: None,
        }),
        state => {
            let before = state.text().map(str::to_string);
            let ids = ids_of(&wanted);
            let settings: Vec<(&str, &str)> = wanted
                .iter()
                .map(|w| (w.key.as_str(), w.value.as_str()))
                .collect();
            let after = merge_drop_in(before.as_deref(), &settings, &ids);
            if before.as_deref() != Some(after.as_str()) {
                plan.changes.push(Change {
                    fixes: ids,
                    kind: ChangeKind::Sysctl,
                    summary: format!("persist {} in {SYSCTL_DROP_IN}", join_settings(&settings)),
                    target: Target::File {
                        path: path.clone(),
                        before,
                        after,
                        new_mode: 0o644,
                    },
                    takes_effect: TakesEffect::NextBoot,
                    side_effects: Vec::new(),
                    notes: overriding_files(input, &settings),
                });
            }
        }
    }
    if !input.host.live {
        return;
    }
    for w in &wanted {
        plan.changes.push(Change {
            fixes: w.ids.clone(),
            kind: ChangeKind::Sysctl,
            summary: format!("set {} = {} now", w.key, w.value),
            target: Target::Sysctl {
                key: w.key.clone(),
                before: w.current.clone(),
                after: w.value.clone(),
            },
            takes_effect: TakesEffect::Now,
            side_effects: Vec::new(),
            notes: Vec::new(),
        });
    }
}

/// Every check the wanted settings fix, once each, in order.
fn ids_of(wanted: &[Wanted]) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for id in wanted.iter().flat_map(|w| &w.ids) {
        if !ids.contains(id) {
            ids.push(id.clone());
        }
    }
    ids
}

fn join_settings(settings: &[(&str, &str)]) -> String {
    settings
        .iter()
        .map(|(k, v)| format!("{k} = {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The key a sysctl.d line sets, normalised to dots (`net/ipv4/ip_forward` → `net.ipv4.ip_forward`),
/// with its value; `None` for comments and blank lines.
pub fn parse_line(line: &str) -> Option<(String, String)> {
    let t = line.trim();
    if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
        return None;
    }
    let (k, v) = t.split_once('=')?;
    let k = k.trim().trim_start_matches('-').trim();
    let k = if k
        .split_once(['.', '/'])
        .is_some_and(|_| k.find('/').unwrap_or(usize::MAX) < k.find('.').unwrap_or(usize::MAX))
    {
        k.replace('/', ".")
    } else {
        k.to_string()
    };
    Some((k, v.split_whitespace().collect::<Vec<_>>().join(" ")))
}

/// The drop-in with every wanted key set: existing lines for those keys rewritten in place, the rest
/// appended; everything else kept byte for byte.
pub fn merge_drop_in(before: Option<&str>, settings: &[(&str, &str)], ids: &[String]) -> String {
    let mut out = String::new();
    let mut done: Vec<&str> = Vec::new();
    match before {
        None => out.push_str(&created_by(ids)),
        Some(text) => {
            for line in text.split_inclusive('\n') {
                let set = parse_line(line).and_then(|(k, _)| {
                    settings.iter().find(|(want, _)| *want == k).map(|s| (k, s))
                });
                match set {
                    Some((_, (key, value))) if !done.contains(key) => {
                        out.push_str(&format!("{key} = {value}\n"));
                        done.push(key);
                    }
                    // A second line for a key we set would override ours: comment it out.
                    Some(_) => out.push_str(&format!("# {}", line)),
                    None => out.push_str(line),
                }
            }
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
        }
    }
    for (key, value) in settings {
        if !done.contains(key) {
            out.push_str(&format!("{key} = {value}\n"));
        }
    }
    out
}

/// Files read after ours that set one of our keys to another value: they would win at boot.
fn overriding_files(input: &PlanInput, settings: &[(&str, &str)]) -> Vec<String> {
    let ours = std::path::Path::new(SYSCTL_DROP_IN);
    let our_name = ours.file_name().unwrap_or_default();
    let mut notes = Vec::new();
    for (path, text) in &input.host.sysctl_files {
        let later = path == std::path::Path::new("/etc/sysctl.conf")
            || path.file_name().is_some_and(|n| n > our_name);
        if path == ours || !later {
            continue;
        }
        for (n, line) in text.lines().enumerate() {
            if let Some((k, v)) = parse_line(line) {
                if let Some((_, want)) = settings.iter().find(|(key, _)| *key == k) {
                    if v != *want {
                        notes.push(format!(
                            "{}:{} sets {k} = {v} and is read after {SYSCTL_DROP_IN}, so it wins at boot: change it there too",
                            path.display(),
                            n + 1
                        ));
                    }
                }
            }
        }
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_keeps_other_lines_and_rewrites_ours_in_place() {
        let before = "# ours\nvm.swappiness = 10\nnet.ipv4.ip_forward=0\nnet/ipv4/ip_forward = 0\n";
        let after = merge_drop_in(
            Some(before),
            &[
                ("net.ipv4.ip_forward", "1"),
                ("net.bridge.bridge-nf-call-iptables", "1"),
            ],
            &["x".into()],
        );
        assert_eq!(
            after,
            "# ours\nvm.swappiness = 10\nnet.ipv4.ip_forward = 1\n# net/ipv4/ip_forward = 0\nnet.bridge.bridge-nf-call-iptables = 1\n"
        );
        // Idempotent.
        assert_eq!(
            merge_drop_in(
                Some(&after),
                &[
                    ("net.ipv4.ip_forward", "1"),
                    ("net.bridge.bridge-nf-call-iptables", "1")
                ],
                &["x".into()]
            ),
            after
        );
    }

    #[test]
    fn parse_line_reads_both_separators_and_ignores_comments() {
        assert_eq!(
            parse_line("-net/ipv4/ip_forward=1"),
            Some(("net.ipv4.ip_forward".into(), "1".into()))
        );
        assert_eq!(parse_line("; x = 1"), None);
        assert_eq!(
            parse_line("net.ipv4.ip_local_port_range = 1024\t65000"),
            Some(("net.ipv4.ip_local_port_range".into(), "1024 65000".into()))
        );
    }
}
