//! `check --phase post-boot` against saved snapshots: the drift IDs with before → after, the
//! baseline contract (missing default: a skip saying how to record one; an explicit missing or corrupt
//! file: exit 2), and bad probe flags (exit 2).

use crate::util::result_by_id;
use crate::util::{assert_exit, fixture, json_stdout, nodecheck};

fn arg(p: std::path::PathBuf) -> String {
    p.display().to_string()
}

/// `check --phase post-boot` of the saved snapshot `facts` against `baseline`, with extra flags.
fn post_boot(facts: &str, baseline: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "check",
        "--phase",
        "post-boot",
        "--facts",
        facts,
        "--baseline",
        baseline,
    ];
    args.extend_from_slice(extra);
    nodecheck(&args)
}

#[test]
fn post_boot_from_snapshots_reports_each_drift() {
    let facts = arg(fixture("postboot/worker-41-after-reboot.json"));
    let baseline = arg(fixture("postboot/worker-41-baseline.json"));
    let out = post_boot(&facts, &baseline, &["--format", "json"]);
    assert_eq!(out.status.code(), Some(3));
    let report = json_stdout(&out);
    let nic = result_by_id(&report, "Drift-NodeNicName");
    assert_eq!(nic["status"], "fail");
    assert_eq!(nic["evidence"]["before"]["name"], "eth3");
    assert_eq!(nic["evidence"]["after"]["name"], "ens192");
    let mtu = result_by_id(&report, "Drift-Mtu");
    assert_eq!(
        (
            mtu["evidence"]["before"].as_u64(),
            mtu["evidence"]["after"].as_u64()
        ),
        (Some(1500), Some(1450))
    );
    let bridges = result_by_id(&report, "Drift-Bridges");
    assert_eq!(bridges["status"], "warn");
    assert!(bridges["message"]
        .as_str()
        .unwrap()
        .contains("compose project middleware"));
    assert_eq!(
        result_by_id(&report, "Drift-Kernel")["evidence"]["after"],
        "5.15.0-91-generic"
    );
    // A saved snapshot is never probed live.
    assert_eq!(result_by_id(&report, "Calico-FelixReady")["status"], "skip");
    assert_eq!(result_by_id(&report, "ClusterDNS-Query")["status"], "skip");
}

#[test]
fn post_boot_without_any_baseline_is_a_skip_not_a_crash() {
    if std::path::Path::new(nodecheck::commands::baseline::DEFAULT_BASELINE_PATH).exists() {
        return crate::util::skip("this host has a real baseline at the default path");
    }
    let facts = arg(fixture("postboot/worker-41-baseline.json"));
    // The fixture's first-found pick (eth4) is a real pre-join failure; only drift matters here.
    let out = nodecheck(&[
        "check",
        "--phase",
        "post-boot",
        "--facts",
        &facts,
        "--format",
        "json",
        "--skip",
        "Calico-Autodetection*",
    ]);
    assert_exit(&out, 0);
    let report = json_stdout(&out);
    let b = result_by_id(&report, "Drift-Baseline");
    assert_eq!(b["status"], "skip");
    assert!(b["message"]
        .as_str()
        .unwrap()
        .contains("nodecheck baseline record"));
}

#[test]
fn explicit_missing_or_corrupt_baseline_is_bad_input() {
    let facts = arg(fixture("postboot/worker-41-baseline.json"));
    let out = post_boot(&facts, "/nonexistent/baseline.json", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("baseline: /nonexistent/baseline.json"));
    let corrupt =
        std::env::temp_dir().join(format!("postboot-corrupt-{}.json", std::process::id()));
    std::fs::write(&corrupt, "{\"schema_version\": 1, \"interfaces\": [").unwrap();
    let out = post_boot(&facts, &arg(corrupt.clone()), &[]);
    let _ = std::fs::remove_file(&corrupt);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid JSON at line 1"));
}

#[test]
fn bad_probe_flags_are_bad_input() {
    for flags in [
        ["--cluster-dns", "kube-dns.kube-system"],
        ["--cluster-domain", "a..b"],
        ["--felix-port", "99999"],
    ] {
        let mut args = vec!["check", "--phase", "post-join"];
        args.extend_from_slice(&flags);
        let out = nodecheck(&args);
        assert_eq!(out.status.code(), Some(2), "{flags:?}");
    }
}

#[test]
fn calico_on_the_compose_bridge_named_from_a_kubectl_node_list() {
    let facts = arg(fixture("postboot/worker-41-after-reboot.json"));
    let baseline = arg(fixture("postboot/worker-41-baseline.json"));
    let nodes = arg(fixture("postboot/nodes-calico-on-bridge.json"));
    let out = post_boot(&facts, &baseline, &["--peers", &nodes, "--format", "json"]);
    assert_exit(&out, 3);
    let report = json_stdout(&out);
    crate::postboot_util::assert_result(
        &report,
        "Calico-NodeAddress",
        "fail",
        &["Calico uses 172.18.0.1/16, the address of br-3f2a1b4c5d6e (compose project middleware), not the node network 10.20.41.0/24"],
    );
    let fix = result_by_id(&report, "Calico-NodeAddress")["remediation"]
        .as_str()
        .unwrap();
    assert!(
        fix.contains("IP_AUTODETECTION_METHOD=cidr=10.20.41.0/24"),
        "{fix}"
    );
    // Two other nodes are known and BIRD installed no route toward either.
    crate::postboot_util::assert_result(
        &report,
        "Calico-Routes",
        "fail",
        &["no routes installed by Calico toward any of the 2 other nodes"],
    );
}
