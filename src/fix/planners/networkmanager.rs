//! NetworkManager (`NetworkManager-Calico`): keep NetworkManager's hands off Calico's interfaces with
//! `unmanaged-devices` in /etc/NetworkManager/conf.d/calico.conf (existing entries kept), then reload
//! NetworkManager. Without this NetworkManager may take over `cali*` and tunnel devices and break pod
//! routing (Calico's documented NetworkManager setup). Whether NetworkManager runs comes from the facts
//! (the check's finding).

use std::path::PathBuf;

use super::{created_by, PlanInput};
use crate::checks::finding::Finding;
use crate::fix::plan::{Change, ChangeKind, Held, Plan, SideEffect, TakesEffect, Target};
use crate::fix::state::{FileState, NETWORKMANAGER_CONF};

/// The devices Calico creates, as NetworkManager device specs.
pub const CALICO_DEVICES: &[&str] = &[
    "interface-name:cali*",
    "interface-name:tunl*",
    "interface-name:vxlan.calico",
    "interface-name:vxlan-v6.calico",
    "interface-name:wireguard.cali",
    "interface-name:wg-v6.cali",
];

pub fn plan(input: &PlanInput, plan: &mut Plan) {
    let Some((r, running)) = input.findings().find_map(|(r, f)| match f {
        Finding::NetworkManagerCalico { running } => Some((r, *running)),
        _ => None,
    }) else {
        return;
    };
    let fixes = vec![r.id.clone()];
    let before = match input.host.file(NETWORKMANAGER_CONF) {
        FileState::Unusable(why) => {
            plan.held.push(Held {
                fixes,
                kind: ChangeKind::NetworkManager,
                reason: format!("cannot edit {NETWORKMANAGER_CONF}: {why}"),
                change: None,
            });
            return;
        }
        state => state.text().map(str::to_string),
    };
    let after = merge_unmanaged(before.as_deref(), &fixes);
    if before.as_deref() == Some(after.as_str()) {
        return;
    }
    let notes = later_keyfile_groups(&after);
    let side_effects = if running {
        vec![SideEffect::ReloadService {
            unit: "NetworkManager".to_string(),
        }]
    } else {
        Vec::new()
    };
    plan.changes.push(Change {
        fixes,
        kind: ChangeKind::NetworkManager,
        summary: "leave Calico's interfaces unmanaged by NetworkManager".to_string(),
        target: Target::File {
            path: PathBuf::from(NETWORKMANAGER_CONF),
            before,
            after,
            new_mode: 0o644,
        },
        takes_effect: TakesEffect::ServiceRestart("NetworkManager".to_string()),
        side_effects,
        notes,
    });
}

/// A second `[keyfile]` group that sets `unmanaged-devices=` overrides the first one's (the key file
/// parser keeps the last value): named, with its line.
fn later_keyfile_groups(text: &str) -> Vec<String> {
    let mut section = String::new();
    let mut keyfile_groups = 0;
    let mut notes = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let t = line.trim();
        if let Some(name) = t.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            section = name.trim().to_string();
            if section == "keyfile" {
                keyfile_groups += 1;
            }
        } else if section == "keyfile"
            && keyfile_groups > 1
            && t.split_once('=')
                .is_some_and(|(k, _)| k.trim() == "unmanaged-devices")
        {
            notes.push(format!(
                "{NETWORKMANAGER_CONF}:{} is a later [keyfile] group's unmanaged-devices=, which NetworkManager uses instead of this change's: merge the two groups by hand",
                n + 1
            ));
        }
    }
    notes
}

/// The conf.d file with `[keyfile] unmanaged-devices` listing Calico's devices besides any already
/// listed; other sections and keys kept.
pub fn merge_unmanaged(before: Option<&str>, ids: &[String]) -> String {
    let Some(text) = before else {
        return format!(
            "{}[keyfile]\nunmanaged-devices={}\n",
            created_by(ids),
            CALICO_DEVICES.join(";")
        );
    };
    let mut out = String::new();
    let mut section = String::new();
    let mut done = false;
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        if t.starts_with('[') {
            if section == "keyfile" && !done {
                out.push_str(&unmanaged_line(&[]));
                done = true;
            }
            section = t.trim_matches(['[', ']']).to_string();
        }
        if section == "keyfile" && !done {
            if let Some(v) = t.strip_prefix("unmanaged-devices").map(str::trim_start) {
                if let Some(v) = v.strip_prefix('=') {
                    let existing: Vec<&str> = v
                        .split([';', ','])
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .collect();
                    out.push_str(&unmanaged_line(&existing));
                    done = true;
                    continue;
                }
            }
        }
        out.push_str(line);
        if i + 1 == lines.len() && !line.ends_with('\n') {
            out.push('\n');
        }
    }
    if !done {
        if section != "keyfile" {
            out.push_str("[keyfile]\n");
        }
        out.push_str(&unmanaged_line(&[]));
    }
    out
}

fn unmanaged_line(existing: &[&str]) -> String {
    let mut all: Vec<&str> = existing.to_vec();
    for d in CALICO_DEVICES {
        if !all.contains(d) {
            all.push(d);
        }
    }
    format!("unmanaged-devices={}\n", all.join(";"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_into_an_existing_keyfile_section_and_is_idempotent() {
        let before = "[main]\ndns=default\n[keyfile]\nunmanaged-devices=interface-name:docker0\n";
        let after = merge_unmanaged(Some(before), &[]);
        assert!(after.starts_with("[main]\ndns=default\n[keyfile]\nunmanaged-devices=interface-name:docker0;interface-name:cali*;"));
        assert_eq!(merge_unmanaged(Some(&after), &[]), after);
        let appended = merge_unmanaged(Some("[main]\nplugins=keyfile"), &[]);
        assert!(appended.starts_with(
            "[main]\nplugins=keyfile\n[keyfile]\nunmanaged-devices=interface-name:cali*;"
        ));
        assert_eq!(merge_unmanaged(Some(&appended), &[]), appended);
    }
}
