//! inotify limits (`Inotify-Instances`, `Inotify-Watches`): kubelet, the runtime and many pods
//! (log shippers, controllers watching ConfigMaps) each take inotify instances, and at the
//! kernel's default of 128 instances per user a node fails with "too many open files" from
//! fsnotify. The minimums are the ones kind documents for this failure (its "Pod errors due to too
//! many open files" known issue): 512 instances, 524288 watches.

use super::finding::Finding;
use super::{Area, CheckResult, Context};

const AREA: Area = Area::Sysctl;

/// (check ID, sysctl, minimum).
pub const LIMITS: &[(&str, &str, u64)] = &[
    ("Inotify-Instances", "fs.inotify.max_user_instances", 512),
    ("Inotify-Watches", "fs.inotify.max_user_watches", 524288),
];

pub fn evaluate(ctx: &Context) -> Vec<CheckResult> {
    let Some(preflight) = &ctx.facts.preflight else {
        return Vec::new();
    };
    LIMITS
        .iter()
        .map(|(id, key, minimum)| {
            let value = preflight.sysctls.get(*key).cloned().flatten();
            let r = match value.as_deref().map(str::parse::<u64>) {
                None => CheckResult::skip(*id, AREA, format!("{key} could not be read")),
                Some(Err(_)) => CheckResult::warn(
                    *id,
                    AREA,
                    format!("{key} is {:?}, not a number", value.clone().unwrap_or_default()),
                ),
                Some(Ok(v)) if v < *minimum => CheckResult::warn(
                    *id,
                    AREA,
                    format!("{key} = {v}, below {minimum}: kubelet, the runtime or pods fail with \"too many open files\" when they create inotify watchers"),
                )
                .fix(format!("`sysctl -w {key}={minimum}` and persist it in /etc/sysctl.d/99-kubernetes.conf")),
                Some(Ok(v)) => CheckResult::ok(*id, AREA, format!("{key} = {v} (at least {minimum})")),
            };
            r.found(Finding::SysctlMinimum {
                key: key.to_string(),
                minimum: *minimum,
                have: value,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::checks::testing::{expect, pre_join_with_preflight};
    use crate::checks::Status;
    use crate::facts::preflight::Preflight;

    #[test]
    fn defaults_are_too_low() {
        let facts = crate::facts::testkit::host("n").build();
        let sysctls = [
            ("fs.inotify.max_user_instances", Some("128".to_string())),
            ("fs.inotify.max_user_watches", Some("1048576".to_string())),
        ];
        let preflight = Preflight {
            sysctls: sysctls
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            ..Default::default()
        };
        let r = pre_join_with_preflight(facts, preflight, "cluster: t\n");
        expect(&r, "Inotify-Instances", Status::Warn, &["= 128, below 512"]);
        expect(&r, "Inotify-Watches", Status::Ok, &["1048576"]);
    }
}
