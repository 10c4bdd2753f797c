//! Free space on the filesystems of `/var/lib/kubelet` (`Disk-Kubelet`, kubelet's `nodefs`) and the
//! runtime's root (`Disk-Runtime`, its `imagefs`) against kubelet's default hard-eviction
//! thresholds (`nodefs.available<10%`, `imagefs.available<15%`, `*.inodesFree<5%`): a node that
//! joins below them is tainted `DiskPressure` and evicts pods at once. k0s `sysinfo` and
//! embedded-cluster's host preflights check the same directories.

use super::{Area, CheckResult, Context, Status};
use crate::facts::preflight::{DiskRole, DiskSpace};

const AREA: Area = Area::Host;

/// Percentage points above a threshold below which the margin is called thin: the first image
/// pulls and pod logs take that much.
const MARGIN_POINTS: f64 = 10.0;

/// kubelet's default hard-eviction thresholds (percent available) for a role: space, inodes.
pub fn eviction_thresholds(role: DiskRole) -> (f64, f64, &'static str) {
    match role {
        DiskRole::Kubelet => (10.0, 5.0, "nodefs"),
        DiskRole::Runtime => (15.0, 5.0, "imagefs"),
    }
}

pub fn evaluate(ctx: &Context) -> Vec<CheckResult> {
    let Some(preflight) = &ctx.facts.preflight else {
        return Vec::new();
    };
    preflight.disks.iter().map(judge).collect()
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

fn judge(disk: &DiskSpace) -> CheckResult {
    let id = id(disk.role);
    let (space_min, inodes_min, signal) = eviction_thresholds(disk.role);
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
    };
    if let Some(error) = &disk.error {
        return evidence(CheckResult::skip(
            id,
            AREA,
            format!("{}: {error}", disk.path),
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
    let status = if space < space_min || inodes < inodes_min {
        Status::Fail
    } else if space < space_min + MARGIN_POINTS {
        Status::Warn
    } else {
        Status::Ok
    };
    let message = match status {
        Status::Fail => format!(
            "{summary}: below kubelet's hard-eviction threshold {signal}.available<{space_min}% / {signal}.inodesFree<{inodes_min}%, so the node is tainted DiskPressure and evicts pods as soon as it joins"
        ),
        Status::Warn => format!(
            "{summary}: within {MARGIN_POINTS} points of kubelet's hard-eviction threshold {signal}.available<{space_min}%; image pulls will cross it"
        ),
        _ => format!("{summary} (kubelet evicts below {space_min}% / {inodes_min}% of inodes)"),
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
            .contains("imagefs.available<15%"));
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
}
