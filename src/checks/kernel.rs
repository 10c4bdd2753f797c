//! The kernel release against the profile: a minimum version and, optionally, patterns it must match.

use super::{Area, CheckResult, Context};
use crate::profile::parsed::KernelRelease;

const ID: &str = "Kernel-Release";
const AREA: Area = Area::Kernel;

pub fn evaluate(ctx: &Context) -> Vec<CheckResult> {
    vec![release(ctx)]
}

fn release(ctx: &Context) -> CheckResult {
    let policy = &ctx.profile.kernel;
    let running = &ctx.facts.host.kernel_release;
    let with_evidence = |r: CheckResult| {
        r.with("release", running.as_str())
            .with(
                "minimum",
                policy.minimum.as_ref().map(|m| m.text().to_string()),
            )
            .with(
                "allowed",
                policy
                    .allowed
                    .iter()
                    .map(|p| p.text().to_string())
                    .collect::<Vec<_>>(),
            )
    };
    let parsed = KernelRelease::parse(running);
    if let Some(min_text) = &policy.minimum {
        match parsed {
            Some(have) if have < **min_text => {
                return with_evidence(CheckResult::fail(
                    ID,
                    AREA,
                    format!("kernel {running} is older than the profile's minimum {min_text}"),
                ))
                .fix(format!(
                    "install a kernel >= {min_text} (the one the other nodes run) and reboot into it"
                ));
            }
            None => {
                return with_evidence(CheckResult::warn(
                    ID,
                    AREA,
                    format!("cannot read a version from kernel release `{running}` to compare with the minimum {min_text}"),
                ))
                .fix("check `uname -r`; if the release is fine, remove kernel.minimum from the profile");
            }
            _ => {}
        }
    }
    if !policy.allowed.is_empty() {
        let matched = policy.allowed.iter().find(|p| p.is_match(running));
        match matched {
            None => {
                return with_evidence(CheckResult::fail(
                    ID,
                    AREA,
                    format!(
                        "kernel {running} matches none of the profile's allowed patterns ({})",
                        policy.allowed.iter().map(|p| p.text()).collect::<Vec<_>>().join(", ")
                    ),
                ))
                .fix("install one of the allowed kernels (as on the other nodes) and reboot, or extend kernel.allowed");
            }
            Some(p) => {
                return with_evidence(CheckResult::ok(
                    ID,
                    AREA,
                    format!(
                        "kernel {running} matches the allowed pattern `{p}`{}",
                        minimum_note(policy.minimum.as_ref().map(|m| m.text()))
                    ),
                ))
            }
        }
    }
    with_evidence(CheckResult::ok(
        ID,
        AREA,
        format!(
            "kernel {running}{}",
            minimum_note(policy.minimum.as_ref().map(|m| m.text()))
        ),
    ))
}

fn minimum_note(minimum: Option<&str>) -> String {
    match minimum {
        Some(m) => format!(" (minimum {m})"),
        None => " (the profile sets no minimum)".to_string(),
    }
}
