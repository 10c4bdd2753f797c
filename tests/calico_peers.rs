//! `nodecheck calico --peers` with the real peer loader: nodecheck snapshots of three eth3 nodes and a
//! `kubectl get nodes -o json` list that holds this node (worker-41, whose stored Calico address is the
//! compose bridge's) and a node known only to Kubernetes.

use crate::util::{assert_exit, fixture, json_stdout, nodecheck, result_by_id};

const INCIDENT_PROFILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/profiles/incident-cluster.yaml"
);

/// `nodecheck COMMAND --facts worker-41 --profile incident --peers fleet EXTRA...`
fn on_fleet(command: &str, extra: &[&str]) -> std::process::Output {
    let facts = fixture("incident/worker-41.json");
    let peers = fixture("calico/fleet");
    let mut args = vec![
        command,
        "--facts",
        facts.to_str().unwrap(),
        "--profile",
        INCIDENT_PROFILE,
        "--peers",
        peers.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    nodecheck(&args)
}

fn run(extra: &[&str]) -> std::process::Output {
    on_fleet("calico", extra)
}

#[test]
fn cidr_selects_the_node_network_address_on_4_of_4_nodes() {
    let out = run(&["--format", "json"]);
    assert_exit(&out, 0);
    let report = json_stdout(&out);
    let family = &report["families"][0];
    let chosen = &family["recommendation"]["chosen"];
    assert_eq!(chosen["method"], "cidr=10.20.41.0/24");
    assert_eq!(
        (chosen["good"].as_u64(), chosen["total"].as_u64()),
        (Some(4), Some(4))
    );
    assert_eq!(
        report["peers_without_facts"],
        serde_json::json!(["worker-99"])
    );

    // worker-41 already stores the bridge address: interface=eth3 fails there and keeps it.
    let current = family["methods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["evaluation"]["method"] == "interface=eth3")
        .unwrap();
    let here = &current["evaluation"]["nodes"][0];
    assert_eq!(here["prediction"]["node"], "worker-41");
    assert_eq!(here["outcome"]["effect"], "keeps-stored-address");
    assert_eq!(
        here["outcome"]["log"].as_array().unwrap().last().unwrap(),
        "Autodetection of IPv4 address failed, keeping existing value: 172.18.0.1/16"
    );
    assert_eq!(current["evaluation"]["good"], 3);
}

#[test]
fn human_report_lists_every_node_and_the_count() {
    let out = run(&[]);
    let human = String::from_utf8_lossy(&out.stdout);
    for expected in [
        "selects the node-network address on 4/4 nodes",
        "worker-13",
        "worker-14",
        "Peers without interface facts (kubectl input only; not predicted): worker-99",
        "`interface=eth3`: no interface matches on worker-41",
        "keeping existing value: 172.18.0.1/16\": it keeps running with that stale address",
    ] {
        assert!(human.contains(expected), "missing {expected:?} in\n{human}");
    }
}

#[test]
fn the_check_counts_the_peers_in_its_remediation() {
    let out = on_fleet("check", &["--format", "json"]);
    let report = json_stdout(&out);
    let calico = result_by_id(&report, "Calico-AutodetectionIPv4");
    assert_eq!(calico["status"], "fail");
    assert!(
        calico["remediation"]
            .as_str()
            .unwrap()
            .contains("on 4/4 nodes"),
        "{calico:#}"
    );
}
