//! Open-file limits: the system's (`OpenFiles-System`: `fs.file-max`, `fs.nr_open`) and the
//! `LimitNOFILE=` of the kubelet and container runtime units (`OpenFiles-kubelet`,
//! `OpenFiles-containerd`), as k0s `sysinfo` and embedded-cluster's preflights check. kubelet and the
//! runtime hold a descriptor per container log, watched volume and stream; the runtime's limit is
//! also what containers inherit. Go raises its soft limit to the hard one, so the hard limit counts.

use super::finding::Finding;
use super::{Area, CheckResult, Context, Status};
use crate::facts::preflight::{OpenFiles, Preflight, UnitOpenFiles};

const AREA: Area = Area::Host;

/// Below this many descriptors kubelet and the runtime run out on a busy node. CRI-O's unit ships
/// `LimitNOFILE=1048576`, containerd 1.x's `infinity`; systemd's default hard limit is 524288.
pub const MINIMUM: u64 = 65536;

/// The limit written in the fix.
pub const FIX_VALUE: u64 = 1048576;

/// systemd's built-in `DefaultLimitNOFILE` since v240: soft 1024, hard 524288.
const SYSTEMD_BUILT_IN: &str = "1024:524288";

pub fn evaluate(ctx: &Context) -> Vec<CheckResult> {
    let Some(preflight) = &ctx.facts.preflight else {
        return Vec::new();
    };
    let mut results = vec![system(preflight)];
    let nr_open = sysctl_number(preflight, "fs.nr_open");
    for unit in &preflight.open_files.units {
        results.push(unit_limit(unit, &preflight.open_files, nr_open));
    }
    results
}

fn sysctl_number(preflight: &Preflight, key: &str) -> Option<u64> {
    preflight.sysctls.get(key)?.as_deref()?.parse().ok()
}

fn system(preflight: &Preflight) -> CheckResult {
    const ID: &str = "OpenFiles-System";
    let file_max = sysctl_number(preflight, "fs.file-max");
    let nr_open = sysctl_number(preflight, "fs.nr_open");
    let r = match (file_max, nr_open) {
        (None, None) => CheckResult::skip(ID, AREA, "fs.file-max and fs.nr_open could not be read"),
        _ => {
            let low: Vec<String> = [("fs.file-max", file_max), ("fs.nr_open", nr_open)]
                .into_iter()
                .filter_map(|(k, v)| v.filter(|v| *v < MINIMUM).map(|v| format!("{k} = {v}")))
                .collect();
            if low.is_empty() {
                CheckResult::ok(
                    ID,
                    AREA,
                    format!(
                        "fs.file-max = {}, fs.nr_open = {} (at least {MINIMUM})",
                        shown(file_max),
                        shown(nr_open)
                    ),
                )
            } else {
                CheckResult::warn(
                    ID,
                    AREA,
                    format!("{}: below {MINIMUM}, the whole node runs out of file descriptors under kubelet, the runtime and their pods", low.join(", ")),
                )
                .fix(format!("`sysctl -w fs.file-max={FIX_VALUE} fs.nr_open={FIX_VALUE}` and persist them in /etc/sysctl.d/99-kubernetes.conf"))
            }
        }
    };
    r.found(Finding::SystemOpenFiles {
        file_max,
        nr_open,
        minimum: MINIMUM,
        want: FIX_VALUE,
    })
}

fn shown(v: Option<u64>) -> String {
    v.map_or("unknown".to_string(), |v| v.to_string())
}

/// The hard limit a `LimitNOFILE=` value gives (`N`, `SOFT:HARD`, `infinity` = `fs.nr_open`).
pub fn hard_limit(value: &str, nr_open: Option<u64>) -> Option<u64> {
    let hard = value.rsplit(':').next()?.trim();
    if hard.eq_ignore_ascii_case("infinity") {
        nr_open.or(Some(u64::MAX))
    } else {
        hard.parse().ok()
    }
}

fn unit_limit(unit: &UnitOpenFiles, manager: &OpenFiles, nr_open: Option<u64>) -> CheckResult {
    let service = unit.unit.trim_end_matches(".service");
    let id = format!("OpenFiles-{service}");
    let (value, from) = match (&unit.limit_nofile, &manager.systemd_default) {
        (Some(v), _) => (v.clone(), unit.source.clone().unwrap_or_default()),
        (None, Some(d)) => (
            d.clone(),
            format!(
                "DefaultLimitNOFILE at {}",
                manager.systemd_default_source.clone().unwrap_or_default()
            ),
        ),
        (None, None) => (
            SYSTEMD_BUILT_IN.to_string(),
            "systemd's built-in default".to_string(),
        ),
    };
    let evidence = |r: CheckResult| {
        r.with("unit", unit.unit.clone())
            .with("installed", unit.installed)
            .with("limit_nofile", value.clone())
            .with("source", from.clone())
    };
    if !unit.installed {
        return evidence(CheckResult::skip(
            &id,
            AREA,
            format!("{} is not installed", unit.unit),
        ));
    }
    let hard = hard_limit(&value, nr_open);
    let status = match hard {
        Some(h) if h >= MINIMUM => Status::Ok,
        _ => Status::Warn,
    };
    let message = format!(
        "{} gets LimitNOFILE={value} ({from}){}",
        unit.unit,
        match status {
            Status::Ok => String::new(),
            _ => format!(": a hard limit below {MINIMUM} makes it fail with \"too many open files\" on a busy node"),
        }
    );
    let r = evidence(CheckResult::new(&id, AREA, status, message))
        .with("hard_limit", hard)
        .found(Finding::UnitOpenFiles {
            unit: unit.unit.clone(),
            limit_nofile: value.clone(),
            source: from.clone(),
            want: FIX_VALUE,
        });
    if status == Status::Ok {
        r
    } else {
        r.fix(format!(
            "add a drop-in /etc/systemd/system/{}.d/limits.conf with `[Service]` and `LimitNOFILE={FIX_VALUE}`, then `systemctl daemon-reload` and restart {service}",
            unit.unit
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hard_limits() {
        assert_eq!(hard_limit("1024:524288", None), Some(524288));
        assert_eq!(hard_limit("4096", None), Some(4096));
        assert_eq!(hard_limit("infinity", Some(1048576)), Some(1048576));
        assert_eq!(hard_limit("1024:infinity", Some(1024)), Some(1024));
        assert_eq!(hard_limit("many", None), None);
    }

    #[test]
    fn unit_limits_against_the_minimum() {
        let manager = OpenFiles::default();
        let unit = |limit: Option<&str>| UnitOpenFiles {
            unit: "containerd.service".into(),
            installed: true,
            limit_nofile: limit.map(str::to_string),
            source: limit.map(|_| "/lib/systemd/system/containerd.service:12".into()),
        };
        let r = unit_limit(&unit(Some("4096")), &manager, Some(1048576));
        assert_eq!(
            (r.id.as_str(), r.status),
            ("OpenFiles-containerd", Status::Warn)
        );
        assert!(r.remediation.unwrap().contains("containerd.service.d"));
        let r = unit_limit(&unit(None), &manager, Some(1048576));
        assert_eq!(r.status, Status::Ok, "{}", r.message);
        assert!(r.message.contains("systemd's built-in default"));
        let low_default = OpenFiles {
            systemd_default: Some("1024:4096".into()),
            systemd_default_source: Some("/etc/systemd/system.conf:3".into()),
            units: vec![],
        };
        let r = unit_limit(&unit(None), &low_default, None);
        assert_eq!(r.status, Status::Warn);
        assert!(
            r.message.contains("/etc/systemd/system.conf:3"),
            "{}",
            r.message
        );
    }
}
