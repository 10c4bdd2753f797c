//! Open-file limits of kubelet and the container runtime (`OpenFiles-kubelet`,
//! `OpenFiles-containerd`): a systemd drop-in, `/etc/systemd/system/<unit>.d/limits.conf`, with
//! `[Service]` `LimitNOFILE=`. systemd reads drop-ins in file-name order across its directories and
//! the last assignment wins, so a drop-in that sorts after ours and sets the limit is named and the
//! change held. systemd reads the drop-in at `daemon-reload` (a side effect run on `--apply`); the
//! service gets the limit when it restarts (run only with `--restart-services`).

use std::path::{Path, PathBuf};

use super::{created_by, findings_to_fix, PlanInput};
use crate::checks::finding::Finding;
use crate::checks::CheckResult;
use crate::fix::plan::{Change, ChangeKind, Held, Plan, SideEffect, TakesEffect, Target};
use crate::fix::state::{FileState, UNIT_MASK_DIR};

/// The units whose limits the checks judge, and so the only drop-in directories this planner writes.
pub const UNITS: &[&str] = &["kubelet.service", "containerd.service"];

/// The drop-in's file name (the one the checks' remediation names).
const DROP_IN_NAME: &str = "limits.conf";

/// `/etc/systemd/system/<unit>.d/limits.conf`.
pub fn drop_in_path(unit: &str) -> PathBuf {
    Path::new(UNIT_MASK_DIR)
        .join(format!("{unit}.d"))
        .join(DROP_IN_NAME)
}

/// The drop-ins the findings ask for, so the state reader reads them.
pub fn drop_in_files(results: &[CheckResult]) -> Vec<PathBuf> {
    findings_to_fix(results)
        .filter_map(|(_, f)| match f {
            Finding::UnitOpenFiles { unit, .. } if UNITS.contains(&unit.as_str()) => {
                Some(drop_in_path(unit))
            }
            _ => None,
        })
        .collect()
}

pub fn plan(input: &PlanInput, plan: &mut Plan) {
    for (r, finding) in input.findings() {
        let Finding::UnitOpenFiles {
            unit, source, want, ..
        } = finding
        else {
            continue;
        };
        let fixes = vec![r.id.clone()];
        let hold = |plan: &mut Plan, reason: String| {
            plan.held.push(Held {
                fixes: fixes.clone(),
                kind: ChangeKind::UnitLimits,
                reason,
                change: None,
            })
        };
        if !UNITS.contains(&unit.as_str()) {
            hold(
                plan,
                format!("{unit:?} is not a unit nodecheck fix writes drop-ins for: set LimitNOFILE={want} there by hand"),
            );
            continue;
        }
        let path = drop_in_path(unit);
        if let Some(later) = later_drop_in(source, &path) {
            hold(
                plan,
                format!(
                    "{source} sets LimitNOFILE and {later} sorts after {}, so it would still win: change it there",
                    path.display()
                ),
            );
            continue;
        }
        let before = match input.host.file(&path.to_string_lossy()) {
            FileState::Unusable(why) => {
                hold(plan, format!("cannot edit {}: {why}", path.display()));
                continue;
            }
            state => state.text().map(str::to_string),
        };
        let after = set_limit(before.as_deref(), &want.to_string(), &fixes);
        if before.as_deref() == Some(after.as_str()) {
            continue;
        }
        let service = unit.trim_end_matches(".service").to_string();
        plan.changes.push(Change {
            fixes: fixes.clone(),
            kind: ChangeKind::UnitLimits,
            summary: format!("give {unit} LimitNOFILE={want} in {}", path.display()),
            target: Target::File {
                path,
                before,
                after,
                new_mode: 0o644,
            },
            takes_effect: TakesEffect::ServiceRestart(service.clone()),
            side_effects: vec![
                SideEffect::DaemonReload,
                SideEffect::RestartService { unit: service },
            ],
            notes: vec![format!("now LimitNOFILE={}", limit_shown(finding))],
        });
    }
}

fn limit_shown(finding: &Finding) -> String {
    match finding {
        Finding::UnitOpenFiles {
            limit_nofile,
            source,
            ..
        } => format!("{limit_nofile} ({source})"),
        _ => String::new(),
    }
}

/// The drop-in (from the finding's `FILE:LINE`) that sets the limit now, when it is another drop-in
/// of the unit whose name sorts after ours: systemd applies it after ours, so it would still win.
fn later_drop_in(source: &str, ours: &Path) -> Option<String> {
    let file = source.rsplit_once(':').map_or(source, |(f, _)| f);
    let path = Path::new(file);
    let in_drop_in_dir = path
        .parent()
        .and_then(|d| d.file_name())
        .is_some_and(|d| d.to_string_lossy().ends_with(".service.d"));
    let name = path.file_name()?;
    (in_drop_in_dir && path != ours && name > ours.file_name()?).then(|| file.to_string())
}

/// The drop-in with `LimitNOFILE=value` in `[Service]`: the first such line rewritten in place, any
/// later one commented out, the section appended when missing; every other line kept.
pub fn set_limit(before: Option<&str>, value: &str, ids: &[String]) -> String {
    let line = format!("LimitNOFILE={value}\n");
    let Some(text) = before else {
        return format!("{}[Service]\n{line}", created_by(ids));
    };
    let mut out = String::new();
    let mut section = String::new();
    let mut done = false;
    for l in text.split_inclusive('\n') {
        let t = l.trim();
        if let Some(name) = t.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            section = name.trim().to_string();
        }
        let sets_limit = section == "Service"
            && t.split_once('=')
                .is_some_and(|(k, _)| k.trim() == "LimitNOFILE");
        match (sets_limit, done) {
            (true, false) => {
                out.push_str(&line);
                done = true;
            }
            (true, true) => out.push_str(&format!("# {l}")),
            _ => out.push_str(l),
        }
    }
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    if !done {
        if section != "Service" {
            out.push_str("[Service]\n");
        }
        out.push_str(&line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_set_once_in_the_service_section() {
        let created = set_limit(None, "1048576", &["OpenFiles-kubelet".into()]);
        assert!(
            created.ends_with("[Service]\nLimitNOFILE=1048576\n"),
            "{created}"
        );
        let before = "[Unit]\nDescription=x\n[Service]\nLimitNOFILE=4096\nLimitNOFILE=8192\n";
        let after = set_limit(Some(before), "1048576", &[]);
        assert_eq!(
            after,
            "[Unit]\nDescription=x\n[Service]\nLimitNOFILE=1048576\n# LimitNOFILE=8192\n"
        );
        assert_eq!(set_limit(Some(&after), "1048576", &[]), after);
        let other = set_limit(Some("[Service]\nTasksMax=infinity"), "1048576", &[]);
        assert_eq!(other, "[Service]\nTasksMax=infinity\nLimitNOFILE=1048576\n");
        let unit_only = set_limit(Some("[Unit]\nAfter=x\n"), "1048576", &[]);
        assert_eq!(
            unit_only,
            "[Unit]\nAfter=x\n[Service]\nLimitNOFILE=1048576\n"
        );
    }

    #[test]
    fn a_later_drop_in_wins_over_ours() {
        let ours = drop_in_path("containerd.service");
        assert_eq!(
            later_drop_in(
                "/etc/systemd/system/containerd.service.d/override.conf:3",
                &ours
            ),
            Some("/etc/systemd/system/containerd.service.d/override.conf".into())
        );
        assert_eq!(
            later_drop_in(
                "/usr/lib/systemd/system/containerd.service.d/10-defaults.conf:2",
                &ours
            ),
            None
        );
        assert_eq!(
            later_drop_in("/lib/systemd/system/containerd.service:12", &ours),
            None
        );
        assert_eq!(
            later_drop_in(
                "/etc/systemd/system/containerd.service.d/limits.conf:3",
                &ours
            ),
            None
        );
    }
}
