//! Drift in a real network namespace: record a baseline, rename the node NIC, add a compose-style
//! bridge with an address, change the MTU, and re-check with `--phase post-boot --baseline`.

use std::os::unix::fs::PermissionsExt;

use serde_json::Value;

use crate::postboot_util::{assert_result, node_namespace};
use crate::util::result_by_id;
use crate::util::{json_stdout, netns_unavailable, skip, Netns};

/// `check --phase post-boot --baseline FILE` inside the namespace, as JSON, with its exit code.
fn post_boot(ns: &Netns, baseline: &str) -> (Value, Option<i32>) {
    let out = ns.nodecheck(&[
        "check",
        "--phase",
        "post-boot",
        "--baseline",
        baseline,
        "--format",
        "json",
    ]);
    (json_stdout(&out), out.status.code())
}

#[test]
fn drift_after_rename_bridge_and_mtu_change() {
    if let Some(reason) = netns_unavailable() {
        return skip(&reason);
    }
    let ns = node_namespace("postboot-drift", "eth3", "10.20.41.11/24", "10.20.41.1");
    let dir = std::env::temp_dir().join(format!("postboot-drift-{}", std::process::id()));
    let baseline = dir.join("baseline.json");
    let baseline_arg = baseline.to_str().unwrap();
    for _ in 0..2 {
        // Twice: recording again replaces the file.
        let out = ns.nodecheck(&["baseline", "record", "--out", baseline_arg]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "baseline record: {stderr}");
        assert!(
            stderr.contains(&format!("baseline recorded: {baseline_arg} (")),
            "{stderr}"
        );
        assert!(stderr.contains("node NIC eth3 10.20.41.11/24"), "{stderr}");
    }
    let mode = std::fs::metadata(&baseline).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        mode, 0o600,
        "the baseline is a full host snapshot: root only"
    );
    let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "temporary files left: {leftovers:?}");

    // Unchanged: no drift.
    let (report, _) = post_boot(&ns, baseline_arg);
    for id in [
        "Drift-NodeNicName",
        "Drift-NodeAddress",
        "Drift-Bridges",
        "Drift-Mtu",
    ] {
        assert_result(&report, id, "ok", &[]);
    }

    // The reboot: the NIC comes back as ens192 with another MTU, and a compose bridge appears.
    ns.ip(&["link", "set", "eth3", "down"]);
    ns.ip(&["link", "set", "eth3", "name", "ens192"]);
    ns.ip(&["link", "set", "ens192", "mtu", "1450"]);
    ns.ip(&["link", "set", "ens192", "up"]);
    ns.default_route("10.20.41.1", "ens192");
    ns.add_bridge("br-3f2a1b4c5d6e", "172.18.0.1/16");
    ns.ip(&["link", "set", "br-3f2a1b4c5d6e", "up"]);

    let (report, code) = post_boot(&ns, baseline_arg);
    assert_eq!(code, Some(3));
    assert_result(
        &report,
        "Drift-NodeNicName",
        "fail",
        &["node NIC renamed: eth3 → ens192"],
    );
    let nic = result_by_id(&report, "Drift-NodeNicName");
    assert_eq!(
        nic["evidence"]["before"]["mac"],
        nic["evidence"]["after"]["mac"]
    );
    assert_result(
        &report,
        "Drift-NodeAddress",
        "ok",
        &["ens192 as at the join: 10.20.41.11/24"],
    );
    assert_result(
        &report,
        "Drift-Bridges",
        "warn",
        &[
            "1 bridge appeared",
            "br-3f2a1b4c5d6e 172.18.0.1/16 (a docker network bridge)",
        ],
    );
    assert_result(&report, "Drift-Mtu", "fail", &["ens192 MTU 1500 → 1450"]);
    assert_result(&report, "Drift-Kernel", "ok", &[]);

    // The address moves to the bridge: lost from the node NIC, named where it went.
    ns.ip(&["addr", "del", "10.20.41.11/24", "dev", "ens192"]);
    ns.ip(&["addr", "add", "10.20.41.11/24", "dev", "br-3f2a1b4c5d6e"]);
    let (report, _) = post_boot(&ns, baseline_arg);
    assert_result(
        &report,
        "Drift-NodeAddress",
        "fail",
        &["10.20.41.11/24 moved to br-3f2a1b4c5d6e"],
    );
    let _ = std::fs::remove_dir_all(&dir);
}
