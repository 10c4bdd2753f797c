//! `--calico-config`: the deployed calico-node configuration, in every accepted form, becomes the
//! current method of `check` and `calico` (the profile's is still shown when it differs).

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::util::{assert_exit, fixture, json_stdout, nodecheck};

const WORKER_41: &str = "fleet/incident/worker-41.json";

fn autodetection_check(config: &str) -> Value {
    let out = nodecheck(&[
        "check",
        "--facts",
        fixture(WORKER_41).to_str().unwrap(),
        "--calico-config",
        fixture(&format!("calico-config/{config}"))
            .to_str()
            .unwrap(),
        "--format",
        "json",
    ]);
    let report = json_stdout(&out);
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "Calico-AutodetectionIPv4")
        .cloned()
        .unwrap()
}

#[test]
fn every_accepted_form_gives_the_deployed_method_and_version() {
    let cases = [
        (
            "calico.yaml",
            "calico-node v3.24.5 with IP_AUTODETECTION_METHOD=interface=eth.* (deployed: ",
            "fail",
        ),
        (
            "list.json",
            "with IP_AUTODETECTION_METHOD=cidr=10.20.41.0/24 (deployed: ",
            "ok",
        ),
        (
            "custom-resources.yaml",
            "with IP_AUTODETECTION_METHOD=kubernetes-internal-ip (deployed: ",
            "ok",
        ),
        (
            "helm-values.yaml",
            "with IP_AUTODETECTION_METHOD=skip-interface=^br-.*,^docker.* (deployed: ",
            "ok",
        ),
    ];
    for (config, expected, status) in cases {
        let result = autodetection_check(config);
        let message = result["message"].as_str().unwrap();
        assert!(message.contains(expected), "{config}: {message}");
        assert!(
            message.contains("the profile says IP_AUTODETECTION_METHOD unset (first-found)"),
            "{config}: {message}"
        );
        assert_eq!(result["status"], status, "{config}: {message}");
    }
}

#[test]
fn a_value_from_the_cluster_is_not_knowable() {
    let result = autodetection_check("ds-value-from.json");
    let message = result["message"].as_str().unwrap();
    assert!(
        message.contains("the deployed value is not knowable: IP_AUTODETECTION_METHOD comes from configMapKeyRef (valueFrom)"),
        "{message}"
    );
    assert!(message.starts_with("calico-node v3.27.3 "), "{message}");
}

#[test]
fn calico_shows_the_deployed_and_the_profile_method_from_stdin() {
    let mut child = Command::new(crate::util::bin())
        .args([
            "calico",
            "--facts",
            fixture(WORKER_41).to_str().unwrap(),
            "--calico-config",
            "-",
            "--format",
            "json",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let text = std::fs::read(fixture("calico-config/calico.yaml")).unwrap();
    child.stdin.take().unwrap().write_all(&text).unwrap();
    let out = child.wait_with_output().unwrap();
    let doc = json_stdout(&out);
    assert_eq!(doc["calico_version"], "v3.24.5", "{doc:#}");
    let family = &doc["families"][0];
    assert_eq!(
        family["deployed"],
        "deployed (stdin: DaemonSet kube-system/calico-node): IP_AUTODETECTION_METHOD=interface=eth.*"
    );
    let rows: Vec<(String, Vec<String>)> = family["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["evaluation"]["method"].as_str().unwrap().to_string(),
                serde_json::from_value(m["labels"].clone()).unwrap(),
            )
        })
        .collect();
    assert_eq!(rows[0].0, "interface=eth.*");
    assert_eq!(rows[0].1, ["current (deployed)"]);
    assert!(
        rows[1].1.contains(&"profile (unset)".to_string()),
        "{rows:?}"
    );
}

#[test]
fn a_document_without_calico_node_is_bad_input() {
    let out = nodecheck(&[
        "calico",
        "--facts",
        fixture(WORKER_41).to_str().unwrap(),
        "--calico-config",
        fixture("calico-config/unrelated.yaml").to_str().unwrap(),
    ]);
    assert_exit(&out, 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no calico-node DaemonSet, operator Installation or tigera-operator Helm values (`installation:`) in it; found: ConfigMap kube-proxy, DaemonSet kube-proxy"),
        "{stderr}"
    );
    let out = nodecheck(&[
        "check",
        "--facts",
        fixture(WORKER_41).to_str().unwrap(),
        "--calico-config",
        fixture("calico-config/broken.yaml").to_str().unwrap(),
    ]);
    assert_exit(&out, 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("invalid YAML at line"), "{stderr}");
}

/// `--calico-config TEXT` (written to a scratch file) for `calico --format json`.
fn calico_with_config(text: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("calico-config.yaml");
    std::fs::write(&path, text).unwrap();
    nodecheck(&[
        "calico",
        "--facts",
        fixture(WORKER_41).to_str().unwrap(),
        "--calico-config",
        path.to_str().unwrap(),
        "--format",
        "json",
    ])
}

const DAEMONSET_HEAD: &str = "kind: DaemonSet\nmetadata: {name: calico-node, namespace: kube-system}\nspec:\n  template:\n    spec:\n      containers:\n      - name: calico-node\n        image: calico/node:v3.28.0\n";

#[test]
fn manifests_the_api_server_or_the_operator_would_refuse_are_bad_input() {
    for (text, at) in [
        (format!("{DAEMONSET_HEAD}        env: IP_AUTODETECTION_METHOD=first-found\n"), "line 9 column"),
        (format!("{DAEMONSET_HEAD}        env:\n        - name: IP_AUTODETECTION_METHOD\n          value: 5\n"), "line 11 column"),
        ("kind: Installation\nmetadata: {name: default}\nspec:\n  calicoNetwork:\n    nodeAddressAutodetectionV4: [1, 2]\n".to_string(), "line 5 column"),
        ("installation: enabled\n".to_string(), "line 1 column"),
    ] {
        let out = calico_with_config(&text);
        assert_exit(&out, 2);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(at), "{text}\n{stderr}");
    }
}

#[test]
fn only_the_installation_named_default_counts() {
    let other = "kind: Installation\nmetadata: {name: staging}\nspec:\n  calicoNetwork:\n    nodeAddressAutodetectionV4: {interface: eth9}\n";
    let out = calico_with_config(other);
    assert_exit(&out, 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Installation staging is not named default"),
        "{stderr}"
    );

    // A stream of flow-style documents: the default one is read, the other is noted.
    let stream = "{kind: Installation, metadata: {name: staging}, spec: {calicoNetwork: {nodeAddressAutodetectionV4: {interface: eth9}}}}\n---\n{kind: Installation, metadata: {name: default}, spec: {calicoNetwork: {nodeAddressAutodetectionV4: {canReach: 10.20.41.1}}}}\n";
    let out = calico_with_config(stream);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(3),
        "{out:?}"
    );
    assert!(text.contains("can-reach=10.20.41.1"), "{text}");
    assert!(!text.contains("interface=eth9"), "{text}");
    assert!(text.contains("Installation staging ignored"), "{text}");
}
