//! `nodecheck calico` end to end in network namespaces, where the kernel's real link dump order decides
//! first-found: compose bridges, a management NIC created after the node NIC, unanchored `interface=`
//! regexes, and the incident's `interface=eth3` on a node whose NIC is `ens192`.

use crate::util::{assert_exit, json_stdout, netns_unavailable, result_by_id, skip, Netns};

/// A namespace whose interfaces are created in the given order: (name, address) pairs, each a veth
/// whose peer is named `veth-<n>` (excluded by every default list), all up.
fn namespace(
    tag: &str,
    links: &[(&str, &str)],
    bridge: Option<(&str, &str)>,
    gateway: &str,
) -> Option<Netns> {
    if let Some(reason) = netns_unavailable() {
        skip(&reason);
        return None;
    }
    let ns = Netns::new(&format!("calico-{tag}"));
    for (i, (name, address)) in links.iter().enumerate() {
        ns.add_nic(name, &format!("veth-p{i}"), address);
    }
    if let Some((name, address)) = bridge {
        ns.add_bridge(name, address);
        ns.ip(&["link", "set", name, "up"]);
    }
    ns.ip(&["route", "add", "default", "via", gateway]);
    Some(ns)
}

/// The evaluation of `method` (as shown in the report) for IPv4.
fn evaluation<'a>(report: &'a serde_json::Value, method: &str) -> &'a serde_json::Value {
    report["families"][0]["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["evaluation"])
        .find(|e| e["method"] == method)
        .unwrap_or_else(|| panic!("no evaluation of {method:?} in {report:#}"))
}

fn verdict<'a>(report: &'a serde_json::Value, method: &str) -> &'a serde_json::Value {
    &evaluation(report, method)["nodes"][0]["prediction"]["verdict"]
}

#[test]
fn compose_bridge_with_the_highest_ifindex_is_picked_by_3_24_and_skipped_by_3_25() {
    let Some(ns) = namespace(
        "bridge",
        &[("ens192", "10.20.41.41/24")],
        Some(("br-3f2a1b4c5d6e", "172.18.0.1/16")),
        "10.20.41.1",
    ) else {
        return;
    };
    let out = ns.nodecheck(&["calico", "--calico-version", "3.24.1", "--format", "json"]);
    let report = json_stdout(&out);
    let v = verdict(&report, "");
    assert_eq!(v["interface"], "br-3f2a1b4c5d6e", "{report:#}");
    assert_eq!(v["address"]["ip"], "172.18.0.1");
    assert_eq!(
        v["log"],
        "Using autodetected IPv4 address on interface br-3f2a1b4c5d6e: 172.18.0.1/16"
    );
    assert_eq!(
        report["families"][0]["recommendation"]["chosen"]["method"],
        "cidr=10.20.41.0/24"
    );
    assert_eq!(out.status.code(), Some(0));

    let report =
        json_stdout(&ns.nodecheck(&["calico", "--calico-version", "3.25.0", "--format", "json"]));
    let v = verdict(&report, "");
    assert_eq!(v["interface"], "ens192", "{report:#}");

    // The check agrees: fail on 3.24.1 (outside the node network), warn on 3.25.0 (version-dependent).
    let out = ns.nodecheck(&["check", "--calico-version", "3.24.1", "--format", "json"]);
    let check = json_stdout(&out);
    let result = result_by_id(&check, "Calico-AutodetectionIPv4");
    assert_eq!(result["status"], "fail", "{result:#}");
    assert_eq!(out.status.code(), Some(3));
    let check =
        json_stdout(&ns.nodecheck(&["check", "--calico-version", "3.25.0", "--format", "json"]));
    let result = result_by_id(&check, "Calico-AutodetectionIPv4");
    assert_eq!(result["status"], "warn", "{result:#}");
}

#[test]
fn management_nic_created_after_the_node_nic_wins_first_found() {
    let Some(ns) = namespace(
        "mgmt",
        &[("eth0", "10.20.41.5/24"), ("eth1", "192.168.100.5/24")],
        None,
        "10.20.41.1",
    ) else {
        return;
    };
    let report = json_stdout(&ns.nodecheck(&["calico", "--format", "json"]));
    assert_eq!(verdict(&report, "")["interface"], "eth1", "{report:#}");
    let rec = &report["families"][0]["recommendation"]["chosen"];
    assert_eq!(rec["method"], "cidr=10.20.41.0/24");
    assert_eq!(evaluation(&report, "")["good"], 0);
}

#[test]
fn interface_eth3_matches_eth30_created_later() {
    let Some(ns) = namespace(
        "eth30",
        &[("eth3", "10.20.41.5/24"), ("eth30", "192.168.30.5/24")],
        None,
        "10.20.41.1",
    ) else {
        return;
    };
    let report = json_stdout(&ns.nodecheck(&[
        "calico",
        "--method",
        "interface=eth3",
        "--method",
        "interface=^eth3$",
        "--format",
        "json",
    ]));
    assert_eq!(
        verdict(&report, "interface=eth3")["interface"],
        "eth30",
        "{report:#}"
    );
    assert_eq!(verdict(&report, "interface=^eth3$")["interface"], "eth3");
}

#[test]
fn interface_eth3_on_a_node_with_ens192_fails_with_calico_s_log_line() {
    let Some(ns) = namespace(
        "ens192",
        &[("ens192", "10.20.41.41/24")],
        None,
        "10.20.41.1",
    ) else {
        return;
    };
    let out = ns.nodecheck(&["calico", "--method", "interface=eth3"]);
    let human = String::from_utf8_lossy(&out.stdout);
    assert!(
        human.contains("Unable to auto-detect an IPv4 address using interface regexes [eth3]: no valid host interfaces found"),
        "{human}"
    );
    let report =
        json_stdout(&ns.nodecheck(&["calico", "--method", "interface=eth3", "--format", "json"]));
    let node = &evaluation(&report, "interface=eth3")["nodes"][0];
    assert_eq!(node["outcome"]["effect"], "crash-loop-back-off");
    assert_eq!(node["outcome"]["log"][1], "Couldn't autodetect an IPv4 address. If auto-detecting, choose a different autodetection method. Otherwise provide an explicit address.");
}

#[test]
fn can_reach_asks_the_kernel_on_a_live_host() {
    let Some(ns) = namespace(
        "reach",
        &[("ens192", "10.20.41.41/24"), ("eth1", "192.168.100.5/24")],
        None,
        "192.168.100.1",
    ) else {
        return;
    };
    let report = json_stdout(&ns.nodecheck(&[
        "calico",
        "--method",
        "can-reach=10.20.41.1",
        "--method",
        "can-reach=8.8.8.8",
        "--format",
        "json",
    ]));
    assert_eq!(
        verdict(&report, "can-reach=10.20.41.1")["interface"],
        "ens192",
        "{report:#}"
    );
    assert_eq!(verdict(&report, "can-reach=8.8.8.8")["interface"], "eth1");
    let trace =
        evaluation(&report, "can-reach=8.8.8.8")["nodes"][0]["prediction"]["trace"].to_string();
    assert!(trace.contains("live lookup"), "{trace}");
}

#[test]
fn a_snapshot_taken_in_the_namespace_gives_the_live_answer() {
    let Some(ns) = namespace(
        "snapshot",
        &[("ens192", "10.20.41.41/24"), ("eth1", "192.168.100.5/24")],
        Some(("br-3f2a1b4c5d6e", "172.18.0.1/16")),
        "10.20.41.1",
    ) else {
        return;
    };
    let facts = ns.nodecheck(&["facts", "--format", "json"]);
    assert_exit(&facts, 0);
    let path = std::env::temp_dir().join(format!("wt-calico-snapshot-{}.json", std::process::id()));
    std::fs::write(&path, &facts.stdout).unwrap();
    let args = [
        "calico",
        "--calico-version",
        "3.24.1",
        "--method",
        "can-reach=10.20.41.1",
        "--format",
        "json",
    ];
    let live = json_stdout(&ns.nodecheck(&args));
    let mut with_facts = args.to_vec();
    with_facts.extend(["--facts", path.to_str().unwrap()]);
    let saved = json_stdout(&crate::util::nodecheck(&with_facts));
    std::fs::remove_file(&path).ok();
    for method in ["", "can-reach=10.20.41.1"] {
        assert_eq!(verdict(&live, method), verdict(&saved, method), "{method}");
    }
    assert_eq!(verdict(&saved, "")["interface"], "br-3f2a1b4c5d6e");
    assert_eq!(
        live["families"][0]["recommendation"]["chosen"]["method"],
        saved["families"][0]["recommendation"]["chosen"]["method"]
    );
}

#[test]
fn ipv6_newest_address_first_in_the_real_kernel() {
    let Some(ns) = namespace("ipv6", &[("ens192", "10.20.41.41/24")], None, "10.20.41.1") else {
        return;
    };
    ns.ip(&[
        "-6",
        "addr",
        "add",
        "fd00:20::41/64",
        "dev",
        "ens192",
        "nodad",
    ]);
    ns.ip(&[
        "-6",
        "addr",
        "add",
        "fd00:20::99/64",
        "dev",
        "ens192",
        "nodad",
    ]);
    ns.ip(&[
        "-6",
        "route",
        "add",
        "default",
        "via",
        "fd00:20::1",
        "dev",
        "ens192",
    ]);
    let report = json_stdout(&ns.nodecheck(&["calico", "--family", "ipv6", "--format", "json"]));
    let v = verdict(&report, "");
    assert_eq!(v["address"]["ip"], "fd00:20::99", "{report:#}");
    assert_eq!(report["families"][0]["env_var"], "IP6_AUTODETECTION_METHOD");
    assert_eq!(
        report["families"][0]["recommendation"]["chosen"]["method"],
        "cidr=fd00:20::/64"
    );
}

#[test]
fn point_to_point_prefix_follows_the_calico_version() {
    let Some(ns) = namespace("p2p", &[("eth9", "192.168.9.9/24")], None, "192.168.9.1") else {
        return;
    };
    ns.ip(&[
        "link", "add", "ens192", "type", "veth", "peer", "name", "veth-p2p",
    ]);
    ns.ip(&[
        "addr",
        "add",
        "10.20.41.5",
        "peer",
        "10.20.41.1/24",
        "dev",
        "ens192",
    ]);
    ns.ip(&["link", "set", "ens192", "up"]);
    ns.ip(&["link", "set", "veth-p2p", "up"]);
    let old =
        json_stdout(&ns.nodecheck(&["calico", "--calico-version", "3.31.0", "--format", "json"]));
    assert_eq!(verdict(&old, "")["interface"], "ens192", "{old:#}");
    assert_eq!(verdict(&old, "")["address"]["prefix_len"], 24);
    let new =
        json_stdout(&ns.nodecheck(&["calico", "--calico-version", "3.32.0", "--format", "json"]));
    assert_eq!(verdict(&new, "")["address"]["prefix_len"], 32, "{new:#}");
}

#[test]
fn hostile_interface_name_round_trips_through_kubectl_and_operator_output() {
    // cidr= loses to a VIP on a later device, kubelet's default node IP is on the management NIC and the
    // default gateway is off the node network, so the anchored interface list is what remains.
    let hostile = "n'$;\"x";
    let Some(ns) = namespace(
        "hostile",
        &[
            ("mgmt0", "192.168.77.10/24"),
            (hostile, "10.20.41.5/24"),
            ("vip0", "10.20.41.250/32"),
        ],
        None,
        "192.168.77.1",
    ) else {
        return;
    };
    let profile =
        std::env::temp_dir().join(format!("wt-calico-hostile-{}.yaml", std::process::id()));
    std::fs::write(&profile, "node_network:\n  cidrs: [10.20.41.0/24]\n").unwrap();
    let profile_arg = profile.to_str().unwrap();
    let expected_regex = "^n'\\$;\"x$";
    let kubectl = ns.nodecheck(&["calico", "--profile", profile_arg, "--format", "kubectl"]);
    let line = String::from_utf8(kubectl.stdout).unwrap();
    assert_eq!(
        kubectl.status.code(),
        Some(0),
        "{line}{}",
        String::from_utf8_lossy(&kubectl.stderr)
    );
    let rest = line
        .trim_end()
        .strip_prefix("kubectl ")
        .expect("a kubectl line");
    let words = crate::util::sh_ok("sh", &["-c", &format!("printf '%s\\0' {rest}")]).stdout;
    let words: Vec<&str> = std::str::from_utf8(&words)
        .unwrap()
        .split('\0')
        .filter(|w| !w.is_empty())
        .collect();
    assert_eq!(words.len(), 6, "{line}");
    assert_eq!(
        words[5],
        format!("IP_AUTODETECTION_METHOD=interface={expected_regex}"),
        "{line}"
    );

    let operator = ns.nodecheck(&["calico", "--profile", profile_arg, "--format", "operator"]);
    let yaml = String::from_utf8(operator.stdout).unwrap();
    let value: serde_json::Value =
        serde_saphyr::from_str(&yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    assert_eq!(
        value["spec"]["calicoNetwork"]["nodeAddressAutodetectionV4"]["interface"], expected_regex,
        "{yaml}"
    );

    // And the method it emits selects the hostile NIC when fed back as --method.
    let report = json_stdout(&ns.nodecheck(&[
        "calico",
        "--profile",
        profile_arg,
        "--method",
        &format!("interface={expected_regex}"),
        "--format",
        "json",
    ]));
    assert_eq!(
        verdict(&report, &format!("interface={expected_regex}"))["interface"],
        hostile
    );
    std::fs::remove_file(&profile).ok();
}

// ---- From saved snapshots: no root needed. ----

use crate::util::{fixture, nodecheck};

fn incident(name: &str) -> String {
    fixture(&format!("incident/{name}.json"))
        .display()
        .to_string()
}

const INCIDENT_PROFILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/profiles/incident-cluster.yaml"
);
const DEFAULT_PROFILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/profiles/default.yaml");

/// `nodecheck calico --facts FACTS --profile PROFILE EXTRA...`
fn calico_on(facts: &str, profile: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["calico", "--facts", facts, "--profile", profile];
    args.extend_from_slice(extra);
    nodecheck(&args)
}

#[test]
fn incident_worker_gets_the_cidr_method_and_the_eth3_failure_explained() {
    let out = calico_on(&incident("worker-41"), INCIDENT_PROFILE, &[]);
    assert_eq!(out.status.code(), Some(0));
    let human = String::from_utf8_lossy(&out.stdout);
    for expected in [
        "Calico v3.24.1 (profile calico.version)",
        "Unable to auto-detect an IPv4 address using interface regexes [eth3]: no valid host interfaces found",
        "br-3f2a1b4c5d6e: selected 172.18.0.1/16",
        "Recommended: IP_AUTODETECTION_METHOD=cidr=10.20.41.0/24",
        "selects the node-network address on 1/1 nodes",
        "`interface=eth3`: no interface matches on worker-41",
    ] {
        assert!(human.contains(expected), "missing {expected:?} in\n{human}");
    }
    let env = calico_on(
        &incident("worker-41"),
        INCIDENT_PROFILE,
        &["--format", "env"],
    );
    assert_eq!(
        String::from_utf8_lossy(&env.stdout),
        "IP_AUTODETECTION_METHOD=cidr=10.20.41.0/24\n"
    );
    let kubectl = calico_on(
        &incident("worker-41"),
        INCIDENT_PROFILE,
        &["--format", "kubectl"],
    );
    assert_eq!(
        String::from_utf8_lossy(&kubectl.stdout),
        "kubectl -n kube-system set env daemonset/calico-node IP_AUTODETECTION_METHOD=cidr=10.20.41.0/24\n"
    );
}

#[test]
fn calico_version_flag_overrides_the_profile_and_changes_first_found() {
    let report = json_stdout(&calico_on(
        &incident("worker-41"),
        INCIDENT_PROFILE,
        &["--calico-version", "v3.25.0", "--format", "json"],
    ));
    assert_eq!(report["calico_version"], "v3.25.0");
    assert_eq!(report["calico_version_source"], "--calico-version");
    assert_eq!(verdict(&report, "first-found")["interface"], "ens192");
    let bad = nodecheck(&[
        "calico",
        "--facts",
        &incident("worker-41"),
        "--calico-version",
        "latest",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("--calico-version `latest` is not a version")
    );
}

#[test]
fn no_usable_recommendation_exits_3_with_the_reasons() {
    let facts = fixture("calico/worker-41-no-default-route.json");
    let out = calico_on(
        facts.to_str().unwrap(),
        DEFAULT_PROFILE,
        &["--format", "env"],
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "no IP_AUTODETECTION_METHOD value selects the node-network address on every node"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("no IPv4 default gateway here and no calico.can_reach in the profile"),
        "{stderr}"
    );
    let human = calico_on(facts.to_str().unwrap(), DEFAULT_PROFILE, &[]);
    assert_eq!(human.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&human.stdout).contains("set the address per node"));
}

#[test]
fn hostile_interface_names_never_reach_the_terminal_raw() {
    let facts = fixture("facts/gather-hostile-names.json");
    let out = calico_on(
        facts.to_str().unwrap(),
        DEFAULT_PROFILE,
        &["--method", "interface=e\u{1b}q"],
    );
    let human = String::from_utf8_lossy(&out.stdout);
    assert!(!human.contains('\u{1b}'), "raw escape byte in\n{human}");
    assert!(human.contains("e\\x1bq"), "{human}");
    assert!(!human.contains("e\\\\x1bq"), "escaped twice:\n{human}");
    assert!(human.contains("x$;y"), "{human}");
}

#[test]
fn snapshot_can_reach_is_evaluated_from_routes_and_says_so() {
    let facts = fixture("facts/gather-hostile-names.json");
    let report = json_stdout(&calico_on(
        facts.to_str().unwrap(),
        DEFAULT_PROFILE,
        &[
            "--method",
            "can-reach=8.8.8.8",
            "--method",
            "can-reach=10.20.41.1",
            "--format",
            "json",
        ],
    ));
    assert_eq!(
        verdict(&report, "can-reach=8.8.8.8")["interface"],
        "mgmt0",
        "{report:#}"
    );
    assert_eq!(
        verdict(&report, "can-reach=10.20.41.1")["interface"],
        "ens192"
    );
    let trace =
        evaluation(&report, "can-reach=8.8.8.8")["nodes"][0]["prediction"]["trace"].to_string();
    assert!(
        trace.contains("evaluated from the snapshot's routes"),
        "{trace}"
    );
}
