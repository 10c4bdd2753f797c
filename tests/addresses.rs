//! `nodecheck addresses`: the JSON contract, the configuration sources (profile `cni:`,
//! `--cni-config`), bad input with its place, and the exit codes.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::util::{
    address_component as component, assert_exit, bin, fixture, json_stdout, nodecheck,
};

const WORKER_41: &str = "incident/worker-41.json";

fn scratch(name: &str, text: &str) -> std::path::PathBuf {
    let path =
        std::env::temp_dir().join(format!("nodecheck-addresses-{}-{name}", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

/// The keys scripts rely on, and nothing renamed.
#[test]
fn the_json_contract() {
    let facts = fixture(WORKER_41);
    let out = nodecheck(&[
        "addresses",
        "--facts",
        facts.to_str().unwrap(),
        "--cni-config",
        fixture("cni-config/kube-flannel.yml").to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_exit(&out, 0);
    let report = json_stdout(&out);
    assert_eq!(report["nodes"][0]["name"], "worker-41");
    assert_eq!(report["nodes"][0]["this_node"], true);
    let flannel = component(&report, 0, "flannel");
    for key in [
        "component",
        "version",
        "interface",
        "address",
        "address_v6",
        "public_address",
        "public_address_v6",
        "mtu",
        "step",
        "fatal",
        "trace",
    ] {
        assert!(flannel.get(key).is_some(), "flannel lacks {key}: {flannel}");
    }
    assert_eq!(flannel["version"], "v0.28.0", "the image tag decides");
    assert_eq!(flannel["interface"], "ens192");
    assert_eq!(flannel["address"], "10.20.41.41");
    assert_eq!(flannel["mtu"], 1450);
    assert_eq!(flannel["step"], "default-route");
    assert_eq!(flannel["fatal"], Value::Null);
    let kubelet = component(&report, 0, "kubelet");
    assert_eq!(kubelet["node_ips"][0], "10.20.41.41");
    assert_eq!(report["consensus"]["agreed"], true);
    assert!(report["consensus"]["disagreements"]
        .as_array()
        .unwrap()
        .is_empty());
    // The ignored documents are named.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Namespace kube-flannel")
            && stderr.contains("ServiceAccount kube-flannel/flannel"),
        "{stderr}"
    );
}

/// k3s#12056 from a config.yaml on stdin: the node IP and flannel disagree, exit 3.
#[test]
fn k3s_node_ip_and_flannel_disagree_from_a_config_file_on_stdin() {
    let facts = fixture(WORKER_41);
    let mut child = Command::new(bin())
        .args([
            "addresses",
            "--facts",
            facts.to_str().unwrap(),
            "--cni-config",
            "-",
            "--format",
            "json",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // docker0's address is local, so k3s accepts it; flannel still follows the default route.
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"node-ip: 172.17.0.1\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_exit(&out, 3);
    let report = json_stdout(&out);
    assert_eq!(component(&report, 0, "k3s")["node_ips"][0], "172.17.0.1");
    let flannel = component(&report, 0, "flannel");
    assert_eq!(flannel["interface"], "ens192");
    assert!(flannel["version"]
        .as_str()
        .unwrap()
        .contains("embedded in k3s"));
    let d = &report["consensus"]["disagreements"][0];
    assert_eq!(d["node"], "worker-41");
    assert_eq!(d["family"], "ipv4");
    // Human output names both picks.
    let human = nodecheck(&[
        "addresses",
        "--facts",
        facts.to_str().unwrap(),
        "--cni-config",
        scratch("k3s.yaml", "node-ip: 172.17.0.1\n")
            .to_str()
            .unwrap(),
    ]);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains(
            "DISAGREE on worker-41 (IPv4): k3s 172.17.0.1 (docker0), flannel 10.20.41.41 (ens192)"
        ),
        "{text}"
    );
}

#[test]
fn bad_cni_config_exits_2_saying_where() {
    let facts = fixture(WORKER_41);
    let run = |text: &str| {
        let path = scratch("bad.yaml", text);
        nodecheck(&[
            "addresses",
            "--facts",
            facts.to_str().unwrap(),
            "--cni-config",
            path.to_str().unwrap(),
        ])
    };
    let out = run("kind: DaemonSet\nspec: [1, 2\n");
    assert_exit(&out, 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("invalid YAML at line"), "{stderr}");
    let out = run("kind: Service\nmetadata: {name: web, namespace: prod}\n");
    assert_exit(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("found: Service prod/web"));
    let missing = nodecheck(&[
        "addresses",
        "--facts",
        facts.to_str().unwrap(),
        "--cni-config",
        "/nonexistent/kube-flannel.yml",
    ]);
    assert_exit(&missing, 2);
}

#[test]
fn the_profile_cni_section_is_validated_with_its_place() {
    let facts = fixture(WORKER_41);
    for (yaml, fragment) in [
        ("cni:\n  flannel:\n    ifaces: [eth0]\n", "ifaces"),
        (
            "cni:\n  flannel:\n    version: latest\n",
            "not a flannel release",
        ),
        (
            "cni:\n  k3s:\n    version: 2.0.0\n",
            "not a k3s or RKE2 release",
        ),
        ("cni:\n  components: [weave]\n", "weave"),
    ] {
        let path = scratch("profile.yaml", yaml);
        let out = nodecheck(&[
            "addresses",
            "--profile",
            path.to_str().unwrap(),
            "--facts",
            facts.to_str().unwrap(),
        ]);
        assert_exit(&out, 2);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(fragment) && stderr.contains("line"),
            "{yaml}: {stderr}"
        );
    }
}
