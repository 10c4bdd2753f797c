//! `nodecheck check` on the incident fixtures: exact findings, exit codes, skip lists; and the checks'
//! dependency modelling on variations of those snapshots (pure, through the library).

use nodecheck::checks::{self, CheckResult, Context, Phase, Status};
use nodecheck::facts::{Facts, ModuleState, NextHop};
use nodecheck::profile::load::parse_profile;
use nodecheck::profile::parsed::Pattern;
use nodecheck::profile::Profile;
use serde_json::Value;

use crate::util::{assert_exit, check_result, fixture, json_stdout, nodecheck, result_by_id};

const INCIDENT_PROFILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/profiles/incident-cluster.yaml"
);

fn worker(name: &str) -> String {
    fixture(&format!("incident/{name}.json"))
        .display()
        .to_string()
}

fn load_facts(name: &str) -> Facts {
    let text = std::fs::read_to_string(worker(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn incident_profile() -> Profile {
    parse_profile(
        &std::fs::read_to_string(INCIDENT_PROFILE).unwrap(),
        "incident",
    )
    .unwrap()
}

fn run(facts: &Facts, profile: &Profile, phase: Phase) -> Vec<CheckResult> {
    checks::evaluate(&Context {
        facts,
        profile,
        phase,
        peers: &[],
        baseline: None,
        live: None,
        this_node_kube: None,
        calico_deployed: None,
    })
}

/// Runs `check --format json` on a fixture worker with a profile and extra flags: exit code and report.
pub fn check_json(facts: &str, profile: &str, extra: &[&str]) -> (Option<i32>, Value) {
    let mut args = vec![
        "check",
        "--facts",
        facts,
        "--profile",
        profile,
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let out = nodecheck(&args);
    let report = json_stdout(&out);
    (out.status.code(), report)
}

/// (id, status) of every result that is not ok.
fn not_ok(report: &Value) -> Vec<(String, String)> {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] != "ok")
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn ids_statuses(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn incident_worker_fails_the_nic_and_bridge_checks() {
    let (code, report) = check_json(&worker("worker-41"), INCIDENT_PROFILE, &[]);
    assert_eq!(code, Some(3));
    assert_eq!(
        not_ok(&report),
        ids_statuses(&[
            ("NodeNic-Present", "fail"),
            ("Bridge-Docker0", "fail"),
            ("Bridge-br-3f2a1b4c5d6e", "fail"),
            ("Calico-AutodetectionIPv4", "fail"),
        ])
    );
    assert_eq!(
        report["summary"],
        serde_json::json!({"ok": 24, "warn": 0, "fail": 4, "skipped": 0})
    );
    let nic = result_by_id(&report, "NodeNic-Present");
    let message = nic["message"].as_str().unwrap();
    for evidence in [
        "eth3",
        "ens192",
        "00:50:56:8a:41:41",
        "vmxnet3",
        "0000:0b:00.0",
        "10.20.41.41/24",
        "net.ifnames",
    ] {
        assert!(
            message.contains(evidence),
            "NodeNic-Present lacks {evidence}: {message}"
        );
    }
    assert_eq!(nic["evidence"]["interface"], "ens192");
    let fix = nic["remediation"].as_str().unwrap();
    assert!(
        fix.contains("[Match] MACAddress=00:50:56:8a:41:41") && fix.contains("[Link] Name=eth3"),
        "{fix}"
    );
    let compose = result_by_id(&report, "Bridge-br-3f2a1b4c5d6e");
    assert_eq!(compose["evidence"]["compose_project"], "middleware");
    assert!(compose["message"]
        .as_str()
        .unwrap()
        .contains("Calico 3.24.1's first-found"));
}

#[test]
fn healthy_peer_passes_every_check() {
    let (code, report) = check_json(&worker("worker-12"), INCIDENT_PROFILE, &[]);
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(not_ok(&report), vec![]);
    assert_eq!(report["cluster"], "incident-cluster");
    assert_eq!(report["host"], "worker-12");
}

#[test]
fn default_profile_warns_about_docker_and_strict_turns_warnings_into_exit_3() {
    // The shipped default, given explicitly: /etc/nodecheck/profile.yaml may exist on a test machine.
    let default = concat!(env!("CARGO_MANIFEST_DIR"), "/profiles/default.yaml");
    let facts = worker("worker-41");
    let (code, report) = check_json(&facts, default, &[]);
    assert_eq!(code, Some(0));
    assert_eq!(report["profile"], default);
    assert_eq!(
        not_ok(&report),
        ids_statuses(&[
            ("Bridge-Docker0", "warn"),
            ("Bridge-br-3f2a1b4c5d6e", "warn"),
            ("Calico-AutodetectionIPv4", "warn")
        ])
    );
    let (strict, _) = check_json(&facts, default, &["--strict"]);
    assert_eq!(strict, Some(3));
}

#[test]
fn skip_list_from_flag_and_profile_keeps_skipped_checks_listed() {
    let dir = tempdir("skip");
    let profile = dir.join("p.yaml");
    let text = std::fs::read_to_string(INCIDENT_PROFILE)
        .unwrap()
        .replace("skip: []", "skip: [Bridge-*]");
    std::fs::write(&profile, text).unwrap();
    let out = nodecheck(&[
        "check",
        "--facts",
        &worker("worker-41"),
        "--profile",
        profile.to_str().unwrap(),
        "--skip",
        "NodeNic-Present,Calico-AutodetectionIPv4,No-Such-Check",
        "--format",
        "json",
    ]);
    assert_exit(&out, 0);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("skip entry `No-Such-Check` matches no check"),
        "{stderr}"
    );
    let report = json_stdout(&out);
    assert_eq!(
        not_ok(&report),
        ids_statuses(&[
            ("NodeNic-Present", "skip"),
            ("Bridge-Docker0", "skip"),
            ("Bridge-br-3f2a1b4c5d6e", "skip"),
            ("Calico-AutodetectionIPv4", "skip"),
        ])
    );
    let present = result_by_id(&report, "NodeNic-Present");
    assert!(present["message"]
        .as_str()
        .unwrap()
        .starts_with("skipped by the skip list (would have been fail: expected NIC eth3"));
}

#[test]
fn bad_facts_file_is_bad_input() {
    let dir = tempdir("badfacts");
    let f = dir.join("facts.json");
    std::fs::write(&f, "{\"schema_version\": 1, \"host\": 7}").unwrap();
    let out = nodecheck(&["check", "--facts", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a valid nodecheck facts snapshot"));
}

#[test]
fn ports_are_checked_before_the_join_only() {
    let mut facts = load_facts("worker-12");
    facts.listening_ports.push(
        serde_json::from_value(
            serde_json::json!({"protocol": "tcp6", "address": "::", "port": 10250}),
        )
        .unwrap(),
    );
    let profile = incident_profile();
    let pre = run(&facts, &profile, Phase::PreJoin);
    let port = check_result(&pre, "Port-10250");
    assert_eq!(port.status, Status::Fail);
    assert!(
        port.message.contains("[::]:10250 (tcp6)"),
        "{}",
        port.message
    );
    let post = run(&facts, &profile, Phase::PostJoin);
    assert!(post.iter().all(|r| !r.id.starts_with("Port-")));
}

#[test]
fn missing_bridge_sysctls_are_reported_as_br_netfilter_not_loaded() {
    let mut facts = load_facts("worker-12");
    facts
        .sysctls
        .insert("net.bridge.bridge-nf-call-iptables".into(), None);
    facts
        .sysctls
        .insert("net.bridge.bridge-nf-call-ip6tables".into(), None);
    facts
        .modules
        .state
        .insert("br_netfilter".into(), ModuleState::Available);
    let results = run(&facts, &incident_profile(), Phase::PreJoin);
    let s = check_result(&results, "Sysctl-net.bridge.bridge-nf-call-iptables");
    assert_eq!(s.status, Status::Fail);
    assert!(
        s.message
            .starts_with("br_netfilter not loaded (the module is available but not loaded)"),
        "{}",
        s.message
    );
    assert!(s
        .remediation
        .as_deref()
        .unwrap()
        .contains("modprobe br_netfilter"));
    assert_eq!(
        check_result(&results, "Module-br_netfilter").status,
        Status::Fail
    );
}

#[test]
fn ipv6_off_in_the_kernel_explains_missing_ipv6_sysctls() {
    let mut facts = load_facts("worker-12");
    facts.ipv6.disabled_on_cmdline = true;
    facts.ipv6.proc_present = false;
    facts
        .sysctls
        .insert("net.ipv6.conf.all.forwarding".into(), None);
    let mut profile = incident_profile();
    profile
        .sysctls
        .insert("net.ipv6.conf.all.forwarding".into(), "1".into());
    profile.ipv6 = nodecheck::profile::Ipv6Expectation::Required;
    let results = run(&facts, &profile, Phase::PreJoin);
    let s = check_result(&results, "Sysctl-net.ipv6.conf.all.forwarding");
    assert_eq!(s.status, Status::Fail);
    assert!(
        s.message
            .contains("IPv6 is off in the kernel (ipv6.disable=1)"),
        "{}",
        s.message
    );
    let v6 = check_result(&results, "IPv6-State");
    assert_eq!(v6.status, Status::Fail);
    assert!(v6
        .remediation
        .as_deref()
        .unwrap()
        .contains("ipv6.disable=1"));
}

#[test]
fn unknown_module_state_warns_that_it_cannot_tell() {
    let mut facts = load_facts("worker-12");
    facts.modules.sources = vec!["/lib/modules/5.4.0-150-generic: not found".into()];
    facts
        .modules
        .state
        .insert("overlay".into(), ModuleState::Unknown);
    let results = run(&facts, &incident_profile(), Phase::PreJoin);
    let m = check_result(&results, "Module-overlay");
    assert_eq!(m.status, Status::Warn);
    assert!(
        m.message
            .starts_with("cannot tell whether overlay is available: no /lib/modules"),
        "{}",
        m.message
    );
}

#[test]
fn facts_gathered_without_root_skip_what_needs_root() {
    let mut facts = load_facts("worker-12");
    facts.host.gathered_as_root = false;
    facts.unavailable.insert(
        "listening_ports".into(),
        "permission denied reading /proc/net/tcp".into(),
    );
    let results = run(&facts, &incident_profile(), Phase::PreJoin);
    let port = check_result(&results, "Port-10250");
    assert_eq!(port.status, Status::Skip);
    assert!(
        port.message.starts_with("skip (needs root)"),
        "{}",
        port.message
    );
    assert_eq!(check_result(&results, "Host-Root").status, Status::Warn);
}

#[test]
fn multipath_default_route_through_the_node_nic_is_fine() {
    let mut facts = load_facts("worker-12");
    let default = facts.routes.iter_mut().find(|r| r.is_default()).unwrap();
    default.device = None;
    default.gateway = None;
    default.nexthops = vec![
        NextHop {
            gateway: Some("10.20.41.1".parse().unwrap()),
            device: Some("eth3".into()),
            weight: 1,
        },
        NextHop {
            gateway: Some("10.20.41.2".parse().unwrap()),
            device: Some("eth3".into()),
            weight: 1,
        },
    ];
    let results = run(&facts, &incident_profile(), Phase::PreJoin);
    assert_eq!(
        check_result(&results, "NodeNic-DefaultRoute").status,
        Status::Ok
    );
    // With the default route on another NIC, kubelet would pick that NIC's address: warn.
    let default = facts.routes.iter_mut().find(|r| r.is_default()).unwrap();
    default.nexthops.clear();
    default.device = Some("lo".into());
    let r = run(&facts, &incident_profile(), Phase::PreJoin);
    let route = check_result(&r, "NodeNic-DefaultRoute");
    assert_eq!(route.status, Status::Warn);
    assert!(route
        .remediation
        .as_deref()
        .unwrap()
        .contains("--node-ip=10.20.41.12"));
}

#[test]
fn bridge_overlapping_the_service_range_fails() {
    let mut facts = load_facts("worker-41");
    let br = facts
        .interfaces
        .iter_mut()
        .find(|i| i.name == "br-3f2a1b4c5d6e")
        .unwrap();
    br.addresses[0].address = "10.96.0.1".parse().unwrap();
    br.addresses[0].prefix_len = 24;
    facts.docker.networks[1].subnets = vec!["10.96.0.0/24".parse().unwrap()];
    let results = run(&facts, &incident_profile(), Phase::PreJoin);
    let o = check_result(&results, "BridgeOverlap-br-3f2a1b4c5d6e");
    assert_eq!(o.status, Status::Fail);
    assert!(
        o.message
            .contains("10.96.0.0/24 overlaps the service CIDR 10.96.0.0/12"),
        "{}",
        o.message
    );
}

#[test]
fn no_default_route_and_no_profile_network_fails_the_address_check() {
    let mut facts = load_facts("worker-12");
    facts.routes.retain(|r| !r.is_default());
    let profile =
        parse_profile(nodecheck::profile::load::DEFAULT_PROFILE_YAML, "built-in").unwrap();
    let results = run(&facts, &profile, Phase::PreJoin);
    let a = check_result(&results, "NodeNic-Address");
    assert_eq!(a.status, Status::Fail);
    assert!(
        a.message.contains("there is no default route"),
        "{}",
        a.message
    );
}

#[test]
fn expected_nic_present_but_without_the_node_address_names_the_carrier() {
    let mut facts = load_facts("worker-41");
    // An eth3 exists, but the node address stays on ens192.
    let mut eth3 = facts.interface("ens192").unwrap().clone();
    eth3.index = 7;
    eth3.name = "eth3".into();
    eth3.addresses.clear();
    facts.interfaces.push(eth3);
    let results = run(&facts, &incident_profile(), Phase::PreJoin);
    let p = check_result(&results, "NodeNic-Present");
    assert_eq!(p.status, Status::Fail);
    assert!(p.message.contains("eth3 is present but carries no address in the node network 10.20.41.0/24; the node network is on ens192"), "{}", p.message);
    assert_eq!(
        check_result(&results, "NodeNic-Address").status,
        Status::Fail
    );
}

#[test]
fn uppercase_hostname_is_not_a_node_name() {
    let mut facts = load_facts("worker-12");
    facts.host.hostname = "Worker_12".into();
    let results = run(&facts, &incident_profile(), Phase::PreJoin);
    let h = check_result(&results, "Hostname-Valid");
    assert_eq!(h.status, Status::Fail);
    assert!(
        h.remediation
            .as_deref()
            .unwrap()
            .contains("hostnamectl set-hostname worker-12"),
        "{:?}",
        h.remediation
    );
}

/// A fresh directory under the target dir, unique per test.
pub fn tempdir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("nodecheck-checks-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn calico_version_flag_overrides_the_profile() {
    let facts = worker("worker-41");
    let (_, report) = check_json(&facts, INCIDENT_PROFILE, &["--calico-version", "3.25.0"]);
    let bridge = result_by_id(&report, "Bridge-br-3f2a1b4c5d6e");
    // Calico 3.25 skips br-* bridges in first-found, so the message no longer says it would not.
    assert!(
        !bridge["message"].as_str().unwrap().contains("first-found"),
        "{bridge}"
    );
    let bad = nodecheck(&["check", "--facts", &facts, "--calico-version", "three"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("--calico-version `three` is not a version")
    );
}

#[test]
fn other_nics_are_checked_by_role() {
    let facts = load_facts("worker-12");
    let mut profile = incident_profile();
    profile.other_nics = vec![
        nodecheck::profile::NicExpectation {
            name: Some("eth3".into()),
            role: Some("uplink".into()),
            cidrs: vec!["10.20.41.0/24".parse().unwrap()],
            ..Default::default()
        },
        nodecheck::profile::NicExpectation {
            name: Some("eth4".into()),
            role: Some("storage".into()),
            ..Default::default()
        },
    ];
    let results = run(&facts, &profile, Phase::PreJoin);
    assert_eq!(check_result(&results, "Nic-uplink").status, Status::Ok);
    let storage = check_result(&results, "Nic-storage");
    assert_eq!(storage.status, Status::Fail);
    assert!(
        storage.message.starts_with(
            "storage NIC eth4 is missing; physical NICs here: eth3 (MAC 00:50:56:8a:41:12"
        ),
        "{}",
        storage.message
    );
}

#[test]
fn allowed_bridges_pass_and_old_kernels_and_swap_fail() {
    let mut facts = load_facts("worker-41");
    facts.swap.total_kib = 2097148;
    facts.swap.devices = vec!["/swap.img".into()];
    facts.host.kernel_release = "4.15.0-213-generic".into();
    let mut profile = incident_profile();
    profile.bridges.allowed = vec![Pattern::new("br-[0-9a-f]{12}").unwrap()];
    let results = run(&facts, &profile, Phase::PreJoin);
    let bridge = check_result(&results, "Bridge-br-3f2a1b4c5d6e");
    assert_eq!(bridge.status, Status::Ok);
    assert!(
        bridge.message.contains("allowed by the profile"),
        "{}",
        bridge.message
    );
    assert_eq!(
        check_result(&results, "Bridge-Docker0").status,
        Status::Fail
    );
    let kernel = check_result(&results, "Kernel-Release");
    assert_eq!(kernel.status, Status::Fail);
    assert_eq!(
        kernel.message,
        "kernel 4.15.0-213-generic is older than the profile's minimum 4.19"
    );
    let swap = check_result(&results, "Swap");
    assert_eq!(swap.status, Status::Fail);
    assert!(
        swap.message
            .starts_with("swap is on: 2097148 KiB on /swap.img"),
        "{}",
        swap.message
    );
}

#[test]
fn nic_found_by_mac_pattern_and_named_nic_checked_against_it() {
    let worker41 = load_facts("worker-41");
    let mut by_mac = incident_profile();
    by_mac.node_network.nic = Some(nodecheck::profile::NicExpectation {
        mac_pattern: Some(Pattern::new("00:50:56:8a:41:[0-9a-f]{2}").unwrap()),
        ..Default::default()
    });
    let results = run(&worker41, &by_mac, Phase::PreJoin);
    let present = check_result(&results, "NodeNic-Present");
    assert_eq!(present.status, Status::Ok, "{}", present.message);
    assert!(
        present.message.starts_with("ens192 (MAC 00:50:56:8a:41:41"),
        "{}",
        present.message
    );

    let worker12 = load_facts("worker-12");
    let mut named = incident_profile();
    named.node_network.nic.as_mut().unwrap().pci_pattern =
        Some(Pattern::new("0000:13:00\\.0").unwrap());
    let results = run(&worker12, &named, Phase::PreJoin);
    let present = check_result(&results, "NodeNic-Present");
    assert_eq!(present.status, Status::Fail);
    assert_eq!(
        present.message,
        "eth3 is present but PCI device 0000:0b:00.0 does not match pci_pattern `0000:13:00\\.0`"
    );
}

/// `check` and `fix --check` load their inputs one way and judge the same checks with the same skip
/// list: every check `check` fails or warns on (and has not skipped) is one `fix` plans, holds, hands
/// to a manual step or names as not fixed, and a skipped check is in neither.
#[test]
fn check_and_fix_judge_the_same_checks_with_the_same_skips() {
    let facts = worker("worker-41");
    for skip in ["Sysctl-*,Bridge-docker0", "NodeNic-Present", "Calico-*"] {
        let common = ["--facts", facts.as_str(), "--profile", INCIDENT_PROFILE];
        let mut check_args = vec!["check", "--format", "json", "--skip", skip];
        check_args.extend(common);
        let report = json_stdout(&nodecheck(&check_args));
        let mut fix_args = vec!["fix", "--check", "--format", "json", "--skip", skip];
        fix_args.extend(common);
        let plan = json_stdout(&nodecheck(&fix_args));

        let mut judged: Vec<String> = report["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["status"] == "fail" || r["status"] == "warn")
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect();
        let skipped: Vec<&str> = report["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["status"] == "skip" && r["message"].as_str().unwrap().contains("skip"))
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        assert!(!skipped.is_empty(), "{skip}: nothing was skipped");
        let mut planned: Vec<String> = Vec::new();
        for section in ["changes", "held", "manual"] {
            for entry in plan[section].as_array().unwrap() {
                for id in entry["fixes"].as_array().unwrap() {
                    planned.push(id.as_str().unwrap().to_string());
                }
            }
        }
        for entry in plan["not_fixed"].as_array().unwrap() {
            planned.push(entry["id"].as_str().unwrap().to_string());
        }
        judged.sort();
        planned.sort();
        planned.dedup();
        assert_eq!(
            judged, planned,
            "--skip {skip}: check and fix judged differently"
        );
        for id in skipped {
            assert!(
                !planned.iter().any(|p| p == id),
                "--skip {skip}: fix acted on the skipped {id}"
            );
        }
    }
}
