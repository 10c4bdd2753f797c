//! Kernel modules (`Module-*`): one file, /etc/modules-load.d/k8s.conf (existing lines kept), and
//! `modprobe` now. A module missing for this kernel cannot be loaded: it is held with the package hint.

use std::path::PathBuf;

use super::{created_by, PlanInput};
use crate::checks::finding::Finding;
use crate::facts::ModuleState;
use crate::fix::plan::{Change, ChangeKind, Held, Plan, TakesEffect, Target};
use crate::fix::state::{FileState, MODULES_LOAD};

pub fn plan(input: &PlanInput, plan: &mut Plan) {
    let mut wanted: Vec<(String, String)> = Vec::new();
    for (r, finding) in input.findings() {
        let Finding::Module { name, state } = finding else {
            continue;
        };
        match state {
            Some(ModuleState::Available) => wanted.push((r.id.clone(), name.clone())),
            _ => plan.held.push(Held {
                fixes: vec![r.id.clone()],
                kind: ChangeKind::Module,
                reason: format!("{}; {}", r.message, r.remediation.as_deref().unwrap_or("")),
                change: None,
            }),
        }
    }
    if wanted.is_empty() {
        return;
    }
    let ids: Vec<String> = wanted.iter().map(|(id, _)| id.clone()).collect();
    let names: Vec<&str> = wanted.iter().map(|(_, n)| n.as_str()).collect();
    match input.host.file(MODULES_LOAD) {
        FileState::Unusable(why) => plan.held.push(Held {
            fixes: ids.clone(),
            kind: ChangeKind::Module,
            reason: format!("cannot edit {MODULES_LOAD}: {why}"),
            change: None,
        }),
        state => {
            let before = state.text().map(str::to_string);
            let after = merge_modules_load(before.as_deref(), &names, &ids);
            if before.as_deref() != Some(after.as_str()) {
                plan.changes.push(Change {
                    fixes: ids.clone(),
                    kind: ChangeKind::Module,
                    summary: format!("load {} at every boot", names.join(", ")),
                    target: Target::File {
                        path: PathBuf::from(MODULES_LOAD),
                        before,
                        after,
                        new_mode: 0o644,
                    },
                    takes_effect: TakesEffect::NextBoot,
                    side_effects: Vec::new(),
                    notes: Vec::new(),
                });
            }
        }
    }
    if input.host.live {
        for (id, name) in &wanted {
            plan.changes.push(Change {
                fixes: vec![id.clone()],
                kind: ChangeKind::Module,
                summary: format!("load {name} now"),
                target: Target::LoadModule { name: name.clone() },
                takes_effect: TakesEffect::Now,
                side_effects: Vec::new(),
                notes: Vec::new(),
            });
        }
    }
}

/// modules-load.d content listing every wanted module: lines kept, missing names appended.
pub fn merge_modules_load(before: Option<&str>, names: &[&str], ids: &[String]) -> String {
    let listed = |name: &str| {
        before.is_some_and(|t| {
            t.lines().any(|l| {
                let l = l.trim();
                !l.starts_with('#') && !l.starts_with(';') && l == name
            })
        })
    };
    let missing: Vec<&str> = names.iter().copied().filter(|n| !listed(n)).collect();
    let mut out = match before {
        None => created_by(ids),
        Some(text) if missing.is_empty() => return text.to_string(),
        Some(text) => {
            let mut t = text.to_string();
            if !t.is_empty() && !t.ends_with('\n') {
                t.push('\n');
            }
            t
        }
    };
    for name in missing {
        out.push_str(name);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_only_missing_modules() {
        let before = "overlay\n# br_netfilter";
        let after = merge_modules_load(Some(before), &["overlay", "br_netfilter"], &[]);
        assert_eq!(after, "overlay\n# br_netfilter\nbr_netfilter\n");
        assert_eq!(
            merge_modules_load(Some(&after), &["overlay", "br_netfilter"], &[]),
            after
        );
    }
}
