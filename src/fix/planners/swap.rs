//! Swap (`Swap`): `swapoff` every active device now, comment out (never delete) the swap entries of
//! /etc/fstab, and mask the `.swap` units that exist (systemd-gpt-auto's, hand-written ones), so swap
//! stays off after the next boot.

use std::path::{Path, PathBuf};

use super::PlanInput;
use crate::checks::finding::Finding;
use crate::fix::plan::{Change, ChangeKind, Held, Plan, SideEffect, TakesEffect, Target};
use crate::fix::state::{FileState, FSTAB, UNIT_MASK_DIR};

/// The prefix that comments out an fstab swap entry (kept so a person sees why).
pub const FSTAB_COMMENT: &str = "# disabled by nodecheck fix (Swap): ";

pub fn plan(input: &PlanInput, plan: &mut Plan) {
    let Some((r, devices)) = input.findings().find_map(|(r, f)| match f {
        Finding::Swap { devices } => Some((r, devices)),
        _ => None,
    }) else {
        return;
    };
    let fixes = vec![r.id.clone()];
    match input.host.file(FSTAB) {
        FileState::Unusable(why) => plan.held.push(Held {
            fixes: fixes.clone(),
            kind: ChangeKind::Swap,
            reason: format!("cannot edit {FSTAB}: {why}"),
            change: None,
        }),
        FileState::Absent => {}
        FileState::Text(before) => {
            let (after, entries) = comment_out_swap(before);
            if !entries.is_empty() {
                plan.changes.push(Change {
                    fixes: fixes.clone(),
                    kind: ChangeKind::Swap,
                    summary: format!(
                        "comment out the swap entries of {FSTAB}: {}",
                        entries.join(", ")
                    ),
                    target: Target::File {
                        path: PathBuf::from(FSTAB),
                        before: Some(before.clone()),
                        after,
                        new_mode: 0o644,
                    },
                    takes_effect: TakesEffect::NextBoot,
                    side_effects: vec![SideEffect::DaemonReload],
                    notes: Vec::new(),
                });
            }
        }
    }
    for unit in &input.host.swap_units {
        if input.host.masked_units.contains(unit) {
            continue;
        }
        plan.changes.push(Change {
            fixes: fixes.clone(),
            kind: ChangeKind::Swap,
            summary: format!("mask {unit} so it does not turn swap on at boot"),
            target: Target::MaskUnit {
                path: Path::new(UNIT_MASK_DIR).join(unit),
                unit: unit.clone(),
            },
            takes_effect: TakesEffect::NextBoot,
            side_effects: vec![SideEffect::DaemonReload],
            notes: Vec::new(),
        });
    }
    if input.host.live {
        for device in devices {
            plan.changes.push(Change {
                fixes: fixes.clone(),
                kind: ChangeKind::Swap,
                summary: format!("turn swap off on {device} now"),
                target: Target::SwapOff {
                    device: device.clone(),
                },
                takes_effect: TakesEffect::Now,
                side_effects: Vec::new(),
                notes: Vec::new(),
            });
        }
    }
}

/// fstab with every active swap line commented out, and the devices of those lines.
pub fn comment_out_swap(fstab: &str) -> (String, Vec<String>) {
    let mut out = String::with_capacity(fstab.len() + 64);
    let mut entries = Vec::new();
    for line in fstab.split_inclusive('\n') {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let is_swap = fields.len() >= 3 && !fields[0].starts_with('#') && fields[2] == "swap";
        if is_swap {
            out.push_str(FSTAB_COMMENT);
            entries.push(fields[0].to_string());
        }
        out.push_str(line);
    }
    (out, entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_swap_lines_are_commented_and_the_rest_is_kept() {
        let fstab = "UUID=1 / ext4 defaults 0 1\n/swap.img\tnone\tswap\tsw\t0\t0\n# /dev/sdb1 none swap sw 0 0\nUUID=2 none swap sw";
        let (after, entries) = comment_out_swap(fstab);
        assert_eq!(entries, vec!["/swap.img", "UUID=2"]);
        assert_eq!(
            after,
            format!("UUID=1 / ext4 defaults 0 1\n{FSTAB_COMMENT}/swap.img\tnone\tswap\tsw\t0\t0\n# /dev/sdb1 none swap sw 0 0\n{FSTAB_COMMENT}UUID=2 none swap sw")
        );
        assert!(comment_out_swap(&after).1.is_empty());
    }
}
