//! `--peers` end to end on fixture fleets (tests/fixtures/fleet, written by its make_fleet.py): the
//! incident's snapshots, a kubectl node list, an Ansible fact cache, and a directory with a corrupt,
//! an empty, a binary and a hidden file. Exact check IDs, groups, statuses and exit codes.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use pretty_assertions::assert_eq;
use serde_json::{json, Value};

use nodecheck::facts::Facts;
use nodecheck::peers::load::load_peers;

use crate::util::{bin, fixture, json_stdout, nodecheck, result_by_id};

fn fleet(rel: &str) -> String {
    fixture(&format!("fleet/{rel}")).display().to_string()
}

fn facts_of(rel: &str) -> Facts {
    nodecheck::facts::load::load_facts_file(&fixture(&format!("fleet/{rel}"))).unwrap()
}

fn check(this: &str, peers: &[&str], extra: &[&str]) -> (Output, Value) {
    let facts = fleet(this);
    let mut args = vec!["check", "--facts", facts.as_str(), "--format", "json"];
    let peer_paths: Vec<String> = peers.iter().map(|p| fleet(p)).collect();
    for p in &peer_paths {
        args.extend(["--peers", p.as_str()]);
    }
    args.extend_from_slice(extra);
    let out = nodecheck(&args);
    let report = json_stdout(&out);
    (out, report)
}

fn status_of(report: &Value, id: &str) -> String {
    result_by_id(report, id)["status"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn incident_fleet_names_the_worker_whose_nic_is_ens192() {
    let (out, report) = check("incident/worker-41.json", &["incident"], &[]);
    assert_eq!(out.status.code(), Some(3), "a failed check exits 3");
    let nic = result_by_id(&report, "Parity-NodeNicName");
    assert_eq!(nic["status"], "fail");
    assert_eq!(
        nic["evidence"]["groups"],
        json!([
            {"value": "eth3 (eth* kernel naming)", "count": 3, "nodes": ["worker-1", "worker-2", "worker-3"]},
            {"value": "ens192 (en* predictable naming)", "count": 1, "nodes": ["worker-41 (this node)"]},
        ])
    );
    // The kernel really was the same, as the incident's team found by hand.
    assert_eq!(status_of(&report, "Parity-KernelRelease"), "ok");
    let input = result_by_id(&report, "Peers-Input");
    assert_eq!(input["status"], "ok");
    assert_eq!(
        input["message"],
        "3 peers loaded from 4 inputs (3 from snapshots, 0 from node lists, this node recognised \
         in 1 and not compared with itself, the oldest peer snapshot, worker-1's, 30m older than \
         this node's)"
    );
    assert_eq!(
        input["evidence"]["this_node_sources"],
        json!([fleet("incident/worker-41.json")])
    );
}

#[test]
fn kubectl_list_shows_calico_bound_to_the_compose_bridge() {
    let (out, report) = check("incident/worker-41.json", &["kubectl/nodes.json"], &[]);
    assert_eq!(out.status.code(), Some(3));
    let calico = result_by_id(&report, "Parity-CalicoAddress");
    assert_eq!(calico["status"], "fail");
    assert_eq!(
        calico["evidence"]["groups"],
        json!([
            {"value": "inside the node network", "count": 3, "nodes": ["worker-1", "worker-2", "worker-3"]},
            {"value": "outside the node network", "count": 1, "nodes": ["worker-41 (this node, 172.18.0.1/16)"]},
        ])
    );
    // This node's kubelet is in the list, so it is compared.
    let kubelet = result_by_id(&report, "Parity-KubeletVersion");
    assert_eq!(kubelet["status"], "ok");
    assert_eq!(
        kubelet["message"],
        "kubelet version is the same on all 4 nodes: v1.28.4"
    );
    // Peers known only from the list have no interfaces: the NIC checks say so.
    let nic = result_by_id(&report, "Parity-NodeNicName");
    assert_eq!(nic["status"], "ok");
    assert_eq!(
        nic["evidence"]["unknown"],
        json!(["worker-1", "worker-2", "worker-3"])
    );
}

#[test]
fn snapshots_and_the_node_list_of_one_node_merge() {
    let (_, report) = check(
        "incident/worker-41.json",
        &["kubectl/nodes.json", "incident"],
        &[],
    );
    let input = result_by_id(&report, "Peers-Input");
    assert_eq!(
        input["message"],
        "3 peers loaded from 5 inputs (3 from snapshots, 3 from node lists, 3 merged with another \
         source of the same node, this node recognised in 2 and not compared with itself, the \
         oldest peer snapshot, worker-1's, 30m older than this node's)"
    );
    // Merged peers have interfaces and kubelet versions: both comparisons see four nodes.
    assert_eq!(
        result_by_id(&report, "Parity-NodeNicName")["evidence"]["unknown"],
        json!([])
    );
    assert_eq!(
        result_by_id(&report, "Parity-KubeletVersion")["evidence"]["groups"][0]["count"],
        4
    );
}

#[test]
fn a_healthy_worker_warns_about_worker_41_and_exits_0() {
    let (out, report) = check(
        "incident/worker-1.json",
        &["incident", "kubectl/nodes.json"],
        &[],
    );
    // Parity and uniqueness only warn here; other areas' checks decide whether anything failed.
    let results = report["results"].as_array().unwrap();
    let parity_failed = results.iter().any(|r| {
        let id = r["id"].as_str().unwrap();
        (id.starts_with("Parity-") || id.starts_with("Unique-")) && r["status"] == "fail"
    });
    assert!(!parity_failed, "{report:#}");
    let any_failed = results.iter().any(|r| r["status"] == "fail");
    assert_eq!(out.status.code(), Some(if any_failed { 3 } else { 0 }));
    assert_eq!(status_of(&report, "Parity-NodeNicName"), "warn");
    assert_eq!(status_of(&report, "Parity-CalicoAddress"), "warn");
    assert!(result_by_id(&report, "Parity-CalicoAddress")["message"]
        .as_str()
        .unwrap()
        .ends_with("outside the node network: worker-41 (172.18.0.1/16)"));
    let (strict, _) = check(
        "incident/worker-1.json",
        &["incident", "kubectl/nodes.json"],
        &["--strict"],
    );
    assert_eq!(strict.status.code(), Some(3), "--strict: warnings exit 3");
}

#[test]
fn ansible_fact_caches_are_peers() {
    let (out, report) = check(
        "incident/worker-41.json",
        &["ansible-cache", "ansible-tree"],
        &[],
    );
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        result_by_id(&report, "Peers-Input")["message"],
        "3 peers loaded from 4 inputs (3 from snapshots, 0 from node lists, 1 merged with another \
         source of the same node, the oldest peer snapshot, worker-1's, 30m older than this node's)"
    );
    assert_eq!(
        result_by_id(&report, "Parity-NodeNicName")["evidence"]["groups"][0]["nodes"],
        json!(["worker-1", "worker-2", "worker-3"])
    );
}

#[test]
fn corrupt_empty_and_binary_files_are_named_and_the_rest_compared() {
    let (out, report) = check("incident/worker-41.json", &["broken"], &[]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "bad peer input exits 2, ahead of failed checks"
    );
    let input = result_by_id(&report, "Peers-Input");
    assert_eq!(input["status"], "fail");
    let dir = fleet("broken");
    assert_eq!(
        input["evidence"]["problems"],
        json!([
            {"source": format!("{dir}/core.bin"),
             "message": "binary content, not JSON text (byte 0x80 at offset 136 is not UTF-8)"},
            {"source": format!("{dir}/empty.json"), "message": "empty file"},
            {"source": format!("{dir}/inventory.json"),
             "message": "not a nodecheck snapshot, Ansible facts (cache, setup --tree or ad-hoc output) or kubectl node list: a JSON object with top-level keys \"all\""},
            {"source": format!("{dir}/worker-3.json"),
             "message": "invalid JSON in a nodecheck snapshot: EOF while parsing a string at line 186 column 10"},
        ])
    );
    assert!(input["message"]
        .as_str()
        .unwrap()
        .starts_with("4 peer inputs could not be used (2 other peers are still compared): "));
    // The good files are still compared; the hidden file is not read at all.
    assert_eq!(
        result_by_id(&report, "Parity-NodeNicName")["evidence"]["groups"][0]["nodes"],
        json!(["worker-1", "worker-2"])
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "nodecheck: peer input {dir}/empty.json: empty file"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains(".swp"), "{stderr}");
}

#[test]
fn skipping_peers_input_keeps_the_checks_exit_code() {
    let (out, report) = check(
        "incident/worker-41.json",
        &["broken"],
        &["--skip", "Peers-Input"],
    );
    assert_eq!(status_of(&report, "Peers-Input"), "skip");
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn a_peer_path_that_does_not_exist_is_bad_input() {
    let facts = fleet("incident/worker-1.json");
    let out = nodecheck(&["check", "--facts", &facts, "--peers", "/nonexistent/peers"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "nodecheck: error: --peers /nonexistent/peers: no such file or directory\n"
    );
}

/// `nodecheck check` of worker-41 with `--peers -` reading `input`.
fn check_peers_on_stdin(input: &[u8]) -> Output {
    let facts = fleet("incident/worker-41.json");
    let mut child = Command::new(bin())
        .args([
            "check", "--facts", &facts, "--peers", "-", "--format", "json",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn node_list_from_stdin() {
    let list = std::fs::read(fleet("kubectl/nodes.json")).unwrap();
    let out = check_peers_on_stdin(&list);
    let report = json_stdout(&out);
    assert_eq!(status_of(&report, "Parity-CalicoAddress"), "fail");
    assert_eq!(
        result_by_id(&report, "Peers-Input")["evidence"]["this_node_sources"],
        json!(["stdin#items[3]"])
    );
}

#[test]
fn without_peers_there_are_no_parity_results() {
    let facts = fleet("incident/worker-41.json");
    let out = nodecheck(&["check", "--facts", &facts, "--format", "json"]);
    let report = json_stdout(&out);
    let ids: Vec<&str> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["id"].as_str())
        .filter(|id| id.starts_with("Parity-") || id.starts_with("Unique-") || *id == "Peers-Input")
        .collect();
    assert!(ids.is_empty(), "{ids:?}");
}

#[test]
fn loading_keeps_order_merges_and_recognises_this_node() {
    let this = facts_of("incident/worker-2.json");
    let paths: Vec<PathBuf> = ["kubectl/nodes.json", "incident", "ansible-cache"]
        .iter()
        .map(|p| fixture(&format!("fleet/{p}")))
        .collect();
    let set = load_peers(&paths, &this).unwrap();
    assert!(set.problems.is_empty(), "{:?}", set.problems);
    let names: Vec<&str> = set.peers.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["worker-1", "worker-3", "worker-41"]);
    let w1 = &set.peers[0];
    assert!(w1.facts.is_some() && w1.node.is_some());
    assert_eq!(
        w1.source,
        format!(
            "{}, {}, {}",
            fleet("incident/worker-1.json"),
            fleet("ansible-cache/worker-1"),
            fleet("kubectl/nodes.json#items[0]")
        )
    );
    assert_eq!(set.this_node.as_ref().unwrap().name, "worker-2");
    assert_eq!(
        set.this_node_sources,
        [
            fleet("incident/worker-2.json"),
            fleet("ansible-cache/worker-2"),
            fleet("kubectl/nodes.json#items[1]"),
        ]
    );
    assert_eq!(set.inputs, 8);
    assert_eq!(set.merged, 5);
}

#[test]
fn a_newer_schema_in_an_ansible_cache_says_upgrade() {
    let dir = tempdir("newer-schema");
    let mut cache: Value =
        serde_json::from_slice(&std::fs::read(fleet("ansible-cache/worker-1")).unwrap()).unwrap();
    cache["nodecheck"]["schema_version"] = json!(99);
    cache["nodecheck"]["a_field_from_the_future"] = json!(true);
    std::fs::write(dir.join("worker-1"), cache.to_string()).unwrap();
    let set = load_peers(
        std::slice::from_ref(&dir),
        &facts_of("incident/worker-41.json"),
    )
    .unwrap();
    assert_eq!(set.problems.len(), 1);
    assert!(
        set.problems[0]
            .message
            .contains("schema_version 99, newer than this nodecheck"),
        "{}",
        set.problems[0].message
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_empty_directory_is_a_problem_not_silence() {
    let dir = tempdir("empty-dir");
    let set = load_peers(
        std::slice::from_ref(&dir),
        &facts_of("incident/worker-41.json"),
    )
    .unwrap();
    assert_eq!(set.problems[0].source, dir.display().to_string());
    assert!(set.problems[0]
        .message
        .starts_with("no peer files in this directory"));
    std::fs::remove_dir_all(dir).unwrap();
}

/// A fresh directory under the target dir, unique per test and process.
fn tempdir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nodecheck-peers-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn hostile_names_from_peers_never_reach_the_terminal_raw() {
    let dir = tempdir("hostile");
    let mut peer: Value =
        serde_json::from_slice(&std::fs::read(fleet("incident/worker-2.json")).unwrap()).unwrap();
    peer["host"]["hostname"] = json!("w2\u{1b}]0;owned\u{7}");
    peer["interfaces"][1]["name"] = json!("x$;y\u{1b}[31m");
    std::fs::write(dir.join("peer.json"), peer.to_string()).unwrap();
    std::fs::write(dir.join("bad\u{1b}[2J.json"), "{").unwrap();
    let facts = fleet("incident/worker-1.json");
    let out = nodecheck(&[
        "check",
        "--facts",
        &facts,
        "--peers",
        dir.to_str().unwrap(),
        "--color",
        "never",
    ]);
    assert_eq!(out.status.code(), Some(2));
    for (what, text) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let text = String::from_utf8_lossy(text);
        assert!(!text.contains('\u{1b}'), "raw ESC on {what}:\n{text}");
        assert!(
            text.contains("\\x1b"),
            "escaped ESC missing on {what}:\n{text}"
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn one_file_of_many_snapshots_is_the_fleet_as_json_lines_or_an_array() {
    let dir = tempdir("multi");
    let docs: Vec<Value> = ["worker-1", "worker-2", "worker-3", "worker-41"]
        .iter()
        .map(|w| {
            serde_json::from_slice(
                &std::fs::read(fixture(&format!("fleet/incident/{w}.json"))).unwrap(),
            )
            .unwrap()
        })
        .collect();
    let lines: String = docs.iter().map(|d| format!("{d}\n")).collect();
    let jsonl = dir.join("fleet.jsonl");
    std::fs::write(&jsonl, &lines).unwrap();
    let array = dir.join("fleet.json");
    std::fs::write(&array, serde_json::to_vec_pretty(&docs).unwrap()).unwrap();
    let this = fleet("incident/worker-41.json");
    for (path, sources) in [
        (&jsonl, [":1", ":2", ":3", ":4"]),
        (&array, ["#[0]", "#[1]", "#[2]", "#[3]"]),
    ] {
        let path = path.display().to_string();
        let out = nodecheck(&[
            "check", "--facts", &this, "--peers", &path, "--format", "json",
        ]);
        assert_eq!(out.status.code(), Some(3), "{path}");
        let report = json_stdout(&out);
        let input = result_by_id(&report, "Peers-Input");
        assert_eq!(input["status"], "ok", "{input}");
        assert_eq!(
            input["evidence"]["this_node_sources"],
            json!([format!("{path}{}", sources[3])])
        );
        assert_eq!(
            result_by_id(&report, "Parity-NodeNicName")["evidence"]["groups"][0]["nodes"],
            json!(["worker-1", "worker-2", "worker-3"])
        );
        // On stdin too.
        let piped = check_peers_on_stdin(&std::fs::read(&path).unwrap());
        assert_eq!(piped.status.code(), Some(3));
        assert_eq!(
            result_by_id(&json_stdout(&piped), "Peers-Input")["evidence"]["this_node_sources"],
            json!([format!("stdin{}", sources[3])])
        );
    }
    // One broken document is a problem of its own; the rest load.
    let mut broken = lines.clone();
    broken.push_str("{\"schema_version\": 1, \"host\": 7}\n");
    std::fs::write(&jsonl, &broken).unwrap();
    let path = jsonl.display().to_string();
    let out = nodecheck(&[
        "check", "--facts", &this, "--peers", &path, "--format", "json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let report = json_stdout(&out);
    let input = result_by_id(&report, "Peers-Input");
    assert_eq!(
        input["evidence"]["problems"][0]["source"],
        format!("{path}:5")
    );
    assert!(input["message"]
        .as_str()
        .unwrap()
        .starts_with("1 peer input could not be used (3 other peers are still compared)"));
    // A file broken between documents says where.
    std::fs::write(&jsonl, format!("{lines}{{\"schema_version\": ")).unwrap();
    let out = nodecheck(&[
        "check", "--facts", &this, "--peers", &path, "--format", "json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let report = json_stdout(&out);
    let input = result_by_id(&report, "Peers-Input");
    assert_eq!(
        input["evidence"]["problems"][0]["message"],
        "invalid JSON Lines: EOF while parsing a value at line 5 column 19"
    );
}

#[test]
fn each_peer_snapshots_age_is_reported_and_max_peer_age_bounds_it() {
    let (out, report) = check("incident/worker-41.json", &["incident"], &[]);
    assert_eq!(out.status.code(), Some(3));
    let input = result_by_id(&report, "Peers-Input");
    assert_eq!(input["status"], "ok");
    assert_eq!(
        input["evidence"]["peer_ages"],
        json!([
            {"node": "worker-1", "collected_at": "2026-11-20T09:11:00Z", "age_seconds": 1800},
            {"node": "worker-2", "collected_at": "2026-11-20T09:12:00Z", "age_seconds": 1740},
            {"node": "worker-3", "collected_at": "2026-11-20T09:13:00Z", "age_seconds": 1680},
        ])
    );
    // A bound the oldest snapshots exceed: they are named, and the check fails.
    let (out, report) = check(
        "incident/worker-41.json",
        &["incident"],
        &["--max-peer-age", "28m", "--skip", "Parity-*"],
    );
    assert_eq!(out.status.code(), Some(3), "a stale peer is a failed check");
    let input = result_by_id(&report, "Peers-Input");
    assert_eq!(input["status"], "fail");
    assert_eq!(
        input["message"],
        "2 peer snapshots are older than --max-peer-age 28m: worker-1 (30m old), worker-2 (29m old)"
    );
    assert_eq!(input["evidence"]["max_peer_age_seconds"], 1680);
    let (_, report) = check(
        "incident/worker-41.json",
        &["incident"],
        &["--max-peer-age", "1d"],
    );
    assert_eq!(status_of(&report, "Peers-Input"), "ok");
    // A bound that is not a duration is bad input.
    let out = nodecheck(&[
        "check",
        "--facts",
        &fleet("incident/worker-41.json"),
        "--max-peer-age",
        "soon",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn peers_sharing_a_hostname_are_named_by_their_source() {
    let dir = tempdir("duphost");
    let mut second: Value =
        serde_json::from_slice(&std::fs::read(fixture("fleet/incident/worker-2.json")).unwrap())
            .unwrap();
    second["host"]["hostname"] = json!("worker-1");
    let first: Value =
        serde_json::from_slice(&std::fs::read(fixture("fleet/incident/worker-1.json")).unwrap())
            .unwrap();
    let path = dir.join("fleet.jsonl");
    std::fs::write(&path, format!("{first}\n{second}\n")).unwrap();
    let path = path.display().to_string();
    let this = fleet("incident/worker-41.json");
    let out = nodecheck(&[
        "check", "--facts", &this, "--peers", &path, "--format", "json",
    ]);
    let report = json_stdout(&out);
    let unique = result_by_id(&report, "Unique-Hostname");
    assert_eq!(unique["status"], "warn", "{unique}");
    assert_eq!(
        unique["message"],
        format!(
            "1 hostname value is shared by several peers: worker-1: worker-1 (from {path}:1), \
             worker-1 (from {path}:2)"
        )
    );
}
