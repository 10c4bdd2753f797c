//! Public Cilium failure reports as snapshots (`tests/fixtures/cilium/`), each with the picks the
//! model must give and the `Cilium-Devices` verdict: cilium#37427 (a bridge holding the node IP:
//! fatal from 1.15, not in 1.14), cilium#25303 (br0 the only uplink: no device for BPF
//! masquerading), cilium#27121 (ECMP over VLAN sub-interfaces: only the node IP's dummy device),
//! cilium#12988 (two IPv4 addresses on the NodePort device: the first, not the node IP, served),
//! and cilium#33527 (a Helm `devices` comma list with `nodePort.directRoutingDevice`).

use serde_json::Value;

use crate::util::{fixture, json_stdout, nodecheck, result_by_id};

/// A scratch file of its own: tests on the same report run in parallel, so the name carries a
/// per-call number besides the process.
fn scratch(name: &str, text: &str) -> std::path::PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!(
        "nodecheck-cilrep-{}-{n}-{name}",
        std::process::id()
    ));
    std::fs::write(&path, text).unwrap();
    path
}

/// `addresses` (with `extra` arguments) and `check` on a report's snapshot with a profile: the
/// cilium pick and the `Cilium-Devices` result.
fn judge(report: &str, profile: &str, extra: &[&str]) -> (Value, Value) {
    judge_with(report, profile, extra, profile)
}

/// As [`judge`], `check` reading `check_profile` (`check` takes no `--cni-config`).
fn judge_with(report: &str, profile: &str, extra: &[&str], check_profile: &str) -> (Value, Value) {
    let facts = fixture(&format!("cilium/{report}.json"));
    let p = scratch(&format!("{report}.yaml"), profile);
    let mut args = vec![
        "addresses",
        "--facts",
        facts.to_str().unwrap(),
        "--profile",
        p.to_str().unwrap(),
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let out = nodecheck(&args);
    let addresses = json_stdout(&out);
    let pick = addresses["nodes"][0]["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["component"] == "cilium")
        .unwrap_or_else(|| panic!("no cilium: {addresses}"))
        .clone();
    let cp = scratch(&format!("{report}-check.yaml"), check_profile);
    let out = nodecheck(&[
        "check",
        "--facts",
        facts.to_str().unwrap(),
        "--profile",
        cp.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let _ = std::fs::remove_file(&cp);
    let report_json = json_stdout(&out);
    let _ = std::fs::remove_file(&p);
    (pick, result_by_id(&report_json, "Cilium-Devices").clone())
}

fn names(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect()
}

#[test]
fn issue_37427_bridge_node_ip() {
    let profile = "node_network: {cidrs: [192.168.1.0/24]}\ncni:\n  cilium: {version: 1.17.0}\n";
    let (pick, result) = judge("issue-37427-bridge-node-ip", profile, &[]);
    assert!(names(&pick["selected_devices"]).is_empty());
    assert_eq!(
        pick["not_selected"]["br0"],
        "bridge-like device, use --devices to override"
    );
    assert_eq!(
        pick["not_selected"]["enp1s0"],
        "bridged or bonded to ifindex 3"
    );
    assert_eq!(
        pick["fatal"],
        "unable to determine direct routing device. Use --direct-routing-device to specify it"
    );
    assert!(pick["interface"].is_null());
    assert_eq!(result["status"], "fail");
    let fix = result["remediation"].as_str().unwrap();
    assert!(fix.contains("--set devices=br0"), "{fix}");
    // 1.14 took the node IP's device.
    let (pick, result) = judge(
        "issue-37427-bridge-node-ip",
        &profile.replace("1.17.0", "1.14.12"),
        &[],
    );
    assert_eq!(pick["interface"], "br0");
    assert_eq!(pick["step"], "single-device");
    assert_eq!(result["status"], "ok", "{result}");
}

#[test]
fn issue_25303_br0_only_uplink_masquerades_on_nothing() {
    let profile = "node_network: {cidrs: [10.0.7.0/24]}\ncni:\n  cilium: {version: 1.14.0, needs_direct_routing_device: false}\n";
    let (pick, result) = judge("issue-25303-br0-only", profile, &[]);
    assert!(names(&pick["selected_devices"]).is_empty(), "{pick}");
    assert_eq!(pick["not_selected"]["br0"], "Ignoring bridge-like device");
    assert!(pick["fatal"].is_null());
    assert_eq!(pick["node_port_addresses"], serde_json::json!({}));
    assert_eq!(result["status"], "fail");
    assert!(result["message"]
        .as_str()
        .unwrap()
        .contains("the node IP 10.0.7.20 is on br0, not selected: Ignoring bridge-like device"));
}

#[test]
fn issue_27121_ecmp_over_vlans_finds_only_the_dummy() {
    let profile = "cni:\n  cilium: {version: 1.16.0}\n";
    let (pick, _) = judge("issue-27121-ecmp-vlan", profile, &[]);
    assert_eq!(names(&pick["selected_devices"]), ["dummy0"]);
    assert_eq!(pick["not_selected"]["eth0.100"], "no global unicast routes");
    assert_eq!(pick["not_selected"]["eth1.200"], "no global unicast routes");
    assert_eq!(pick["interface"], "dummy0");
    // 1.14 walks the main table: the multipath default names no link, the VLANs have no route.
    let (pick, _) = judge(
        "issue-27121-ecmp-vlan",
        &profile.replace("1.16.0", "1.14.5"),
        &[],
    );
    assert_eq!(
        pick["not_selected"]["eth0.100"],
        "no global unicast or default route (not considered)"
    );
    assert_eq!(pick["interface"], "dummy0");
    assert_eq!(pick["step"], "single-device");
}

#[test]
fn issue_12988_nodeport_serves_the_first_address_not_the_node_ip() {
    let profile = "node_network: {cidrs: [192.168.1.0/24]}\ncni:\n  cilium: {version: 1.18.0}\n";
    let (pick, result) = judge("issue-12988-two-addresses", profile, &[]);
    assert_eq!(
        pick["node_port_addresses"]["eth0"],
        serde_json::json!(["172.16.0.5"])
    );
    assert_eq!(pick["address"], "172.16.0.5");
    assert_eq!(result["status"], "warn");
    assert!(result["message"]
        .as_str()
        .unwrap()
        .contains("172.16.0.5 on eth0 outside the node network 192.168.1.0/24"));
}

/// cilium#33527 (RKE2's chart, 1.15.6): `devices: "external,internal"` and
/// `nodePort.directRoutingDevice: internal` from the Helm values.
#[test]
fn issue_33527_comma_list_in_helm_values() {
    let values = scratch(
        "values-33527.yaml",
        "kubeProxyReplacement: true\ndevices: \"enp1s0,br0\"\nnodePort:\n  directRoutingDevice: br0\nimage:\n  tag: v1.15.6\n",
    );
    let (pick, result) = judge_with(
        "issue-37427-bridge-node-ip",
        "node_network: {cidrs: [192.168.1.0/24]}\n",
        &["--cni-config", values.to_str().unwrap()],
        "node_network: {cidrs: [192.168.1.0/24]}\ncni:\n  cilium:\n    version: 1.15.6\n    devices: [\"enp1s0,br0\"]\n    direct_routing_device: br0\n",
    );
    let _ = std::fs::remove_file(&values);
    assert_eq!(pick["version"], "1.15.6");
    assert!(names(&pick["selected_devices"]).is_empty());
    assert_eq!(
        pick["not_selected"]["br0"],
        "Not selecting non-matching device"
    );
    assert!(pick["fatal"]
        .as_str()
        .unwrap()
        .starts_with("unable to determine direct routing device"));
    assert!(
        result["message"].as_str().unwrap().contains("cilium#33527"),
        "{result}"
    );
}

/// The human form names the devices, the fatal line, and each link's reason in the walk.
#[test]
fn human_form_lists_devices_and_reasons() {
    let facts = fixture("cilium/issue-37427-bridge-node-ip.json");
    let p = scratch("human.yaml", "cni:\n  cilium: {version: 1.17.0}\n");
    let out = nodecheck(&[
        "addresses",
        "--facts",
        facts.to_str().unwrap(),
        "--profile",
        p.to_str().unwrap(),
    ]);
    let _ = std::fs::remove_file(&p);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(text.contains("      devices: none"), "{text}");
    assert!(
        text.contains("FATAL: unable to determine direct routing device"),
        "{text}"
    );
    assert!(
        text.contains("· br0 (ifindex 3): bridge-like device, use --devices to override"),
        "{text}"
    );
}
