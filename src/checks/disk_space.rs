//! Free space on the filesystems of `/var/lib/kubelet` (`Disk-Kubelet`, kubelet's `nodefs`) and the
//! runtime's root (`Disk-Runtime`, its `imagefs`) against kubelet's hard-eviction thresholds: those
//! of its configuration file's `evictionHard` when it sets them, else kubelet's defaults
//! (`nodefs.available<10%`, `imagefs.available<15%`, `*.inodesFree<5%`; see
//! `crate::kubelet::eviction`): a node that joins below them is tainted `DiskPressure` and evicts
//! pods at once. k0s `sysinfo` and embedded-cluster's host preflights check the same directories.

use super::{Area, CheckResult, Context, Status};
use crate::facts::preflight::{DiskRole, DiskSpace};
use crate::kubelet::eviction::{self, EvictionHard, Threshold};

const AREA: Area = Area::Host;

/// Percentage points above a threshold below which the margin is called thin: the first image
/// pulls and pod logs take that much.
const MARGIN_POINTS: f64 = 10.0;

/// The eviction signal prefix for a role.
pub fn signal(role: DiskRole) -> &'static str {
    match role {
        DiskRole::Kubelet => "nodefs",
        DiskRole::Runtime => "imagefs",
    }
}

pub fn evaluate(ctx: &Context) -> Vec<CheckResult> {
    let Some(preflight) = &ctx.facts.preflight else {
        return Vec::new();
    };
    let config = ctx
        .facts
        .kubelet
        .as_ref()
        .and_then(|k| k.config_file.as_ref());
    let map = eviction::effective(config);
    preflight.disks.iter().map(|d| judge(d, &map)).collect()
}

fn id(role: DiskRole) -> &'static str {
    match role {
        DiskRole::Kubelet => "Disk-Kubelet",
        DiskRole::Runtime => "Disk-Runtime",
    }
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        100.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// `52.5 GiB`, or `6.0 MiB` below a GiB.
fn size(bytes: u64) -> String {
    if bytes >= 1 << 30 {
        format!("{:.1} GiB", bytes as f64 / (1u64 << 30) as f64)
    } else {
        format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64)
    }
}

fn judge(disk: &DiskSpace, map: &EvictionHard) -> CheckResult {
    let id = id(disk.role);
    let signal = signal(disk.role);
    let (space_name, inodes_name) = (
        format!("{signal}.available"),
        format!("{signal}.inodesFree"),
    );
    let (space_threshold, inodes_threshold, invalid) = match (
        eviction::threshold(map, &space_name),
        eviction::threshold(map, &inodes_name),
    ) {
        (Ok(space), Ok(inodes)) => (space, inodes, None),
        (Err(e), _) | (_, Err(e)) => (None, None, Some(e)),
    };
    let space_min = space_threshold
        .as_ref()
        .map(|t| t.percent_of(disk.total_bytes));
    let inodes_min = inodes_threshold
        .as_ref()
        .map(|t| t.percent_of(disk.inodes_total));
    let evidence = |r: CheckResult| {
        r.with("path", disk.path.clone())
            .with("configured_by", disk.configured_by.clone())
            .with("measured", disk.measured.clone())
            .with("total_bytes", disk.total_bytes)
            .with("available_bytes", disk.available_bytes)
            .with("inodes_total", disk.inodes_total)
            .with("inodes_free", disk.inodes_free)
            .with("eviction_available_percent", space_min)
            .with("eviction_inodes_free_percent", inodes_min)
            .with("eviction_source", Some(map.source.clone()))
    };
    if let Some(error) = &disk.error {
        return evidence(CheckResult::skip(
            id,
            AREA,
            format!("{}: {error}", disk.path),
        ));
    }
    if let Some(error) = invalid {
        return evidence(CheckResult::fail(
            id,
            AREA,
            format!("{error} ({}): kubelet refuses to start with it", map.source),
        ))
        .fix(format!(
            "write {signal} thresholds in evictionHard as a percentage (\"10%\") or a quantity (\"1Gi\")"
        ));
    }
    let space = percent(disk.available_bytes, disk.total_bytes);
    // A filesystem without an inode count (btrfs reports 0) cannot run out of inodes.
    let inodes = percent(disk.inodes_free, disk.inodes_total);
    let on = match disk.measured.as_deref() {
        Some(m) if m != disk.path => format!("{} (not created yet; measured on {m})", disk.path),
        _ => disk.path.clone(),
    };
    let summary = format!(
        "{on}: {} of {} available ({space:.0}%), {inodes:.0}% of inodes free",
        size(disk.available_bytes),
        size(disk.total_bytes)
    );
    let below = |value: f64, min: Option<f64>| min.is_some_and(|m| value < m);
    let status = if below(space, space_min) || below(inodes, inodes_min) {
        Status::Fail
    } else if below(space, space_min.map(|m| m + MARGIN_POINTS)) {
        Status::Warn
    } else {
        Status::Ok
    };
    let rule = |name: &str, t: &Option<Threshold>| match t {
        Some(t) => format!("{name}<{}", t.written),
        None => format!("no {name} threshold"),
    };
    let rules = format!(
        "{} / {}",
        rule(&space_name, &space_threshold),
        rule(&inodes_name, &inodes_threshold)
    );
    let message = match status {
        Status::Fail => format!(
            "{summary}: below kubelet's hard-eviction threshold {rules} ({}), so the node is tainted DiskPressure and evicts pods as soon as it joins",
            map.source
        ),
        Status::Warn => format!(
            "{summary}: within {MARGIN_POINTS} points of kubelet's hard-eviction threshold {rules} ({}); image pulls will cross it",
            map.source
        ),
        _ => format!("{summary} (kubelet's hard eviction: {rules}, {})", map.source),
    };
    let r = evidence(CheckResult::new(id, AREA, status, message));
    if status == Status::Ok {
        r
    } else {
        r.fix(format!(
            "free space on the filesystem of {} (prune unused images with `crictl rmi --prune`, rotate logs) or grow it",
            disk.path
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{find, pre_join_with_preflight};
    use crate::checks::Status;
    use crate::facts::preflight::Preflight;

    fn disk(role: DiskRole, total: u64, available: u64, inodes: (u64, u64)) -> DiskSpace {
        DiskSpace {
            role,
            path: "/var/lib/kubelet".into(),
            configured_by: None,
            measured: Some("/var/lib".into()),
            total_bytes: total,
            available_bytes: available,
            inodes_total: inodes.0,
            inodes_free: inodes.1,
            filesystem_id: 1,
            error: None,
        }
    }

    #[test]
    fn thresholds_per_role() {
        let gib = 1u64 << 30;
        let results = |disks| {
            let preflight = Preflight {
                disks,
                ..Default::default()
            };
            pre_join_with_preflight(
                crate::facts::testkit::host("n").build(),
                preflight,
                "cluster: t
",
            )
        };
        let r = results(vec![
            disk(DiskRole::Kubelet, 100 * gib, 12 * gib, (1000, 900)),
            disk(DiskRole::Runtime, 100 * gib, 12 * gib, (1000, 900)),
        ]);
        assert_eq!(find(&r, "Disk-Kubelet").status, Status::Warn);
        assert_eq!(find(&r, "Disk-Runtime").status, Status::Fail);
        assert!(find(&r, "Disk-Runtime")
            .message
            .contains("imagefs.available<15% / imagefs.inodesFree<5% (kubelet's defaults)"));
        let r = results(vec![disk(
            DiskRole::Kubelet,
            100 * gib,
            50 * gib,
            (1000, 40),
        )]);
        assert_eq!(find(&r, "Disk-Kubelet").status, Status::Fail, "inodes");
        let r = results(vec![disk(DiskRole::Kubelet, 100 * gib, 50 * gib, (0, 0))]);
        assert_eq!(find(&r, "Disk-Kubelet").status, Status::Ok);
        assert!(find(&r, "Disk-Kubelet").message.contains("not created yet"));
    }

    #[test]
    fn the_configuration_files_eviction_hard_decides() {
        use crate::facts::kubelet::{KubeletConfigFile, KubeletFacts};
        let gib = 1u64 << 30;
        let results = |hard: &[(&str, &str)], merge: Option<bool>| {
            let mut facts = crate::facts::testkit::host("n").build();
            facts.kubelet = Some(Box::new(KubeletFacts {
                config_file: Some(KubeletConfigFile {
                    path: "/var/lib/kubelet/config.yaml".into(),
                    eviction_hard: Some(
                        hard.iter()
                            .map(|(k, v)| (k.to_string(), v.to_string()))
                            .collect(),
                    ),
                    merge_default_eviction_settings: merge,
                    ..Default::default()
                }),
                ..Default::default()
            }));
            let preflight = Preflight {
                disks: vec![
                    disk(DiskRole::Kubelet, 100 * gib, 8 * gib, (1000, 900)),
                    disk(DiskRole::Runtime, 100 * gib, 8 * gib, (1000, 900)),
                ],
                ..Default::default()
            };
            pre_join_with_preflight(facts, preflight, "cluster: t\n")
        };
        // 8 GiB free of 100: below the default 10%, above a 5Gi threshold (5%), and imagefs left
        // out of a partial map has no threshold at all.
        let r = results(&[("nodefs.available", "5Gi")], None);
        let kubelet = find(&r, "Disk-Kubelet");
        assert_eq!(kubelet.status, Status::Warn, "{}", kubelet.message);
        assert!(kubelet.message.contains("nodefs.available<5Gi"));
        let runtime = find(&r, "Disk-Runtime");
        assert_eq!(runtime.status, Status::Ok, "{}", runtime.message);
        assert!(runtime.message.contains("no imagefs.available threshold"));
        // Merged with the defaults, imagefs keeps its 15%.
        let r = results(&[("nodefs.available", "5Gi")], Some(true));
        assert_eq!(find(&r, "Disk-Runtime").status, Status::Fail);
        // A value kubelet refuses.
        let r = results(&[("nodefs.available", "plenty")], None);
        let kubelet = find(&r, "Disk-Kubelet");
        assert_eq!(kubelet.status, Status::Fail);
        assert!(kubelet.message.contains("kubelet refuses to start"));
    }
}
