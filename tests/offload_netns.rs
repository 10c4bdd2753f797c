//! Offload features read through ethtool netlink, in a network namespace: a veth node NIC with the
//! default route and Calico's `vxlan.calico`, their features switched on and off with the real
//! `ethtool -K`, and `nodecheck facts` / `check` reading back exactly what `ethtool -k` shows.
//! (A veth's driver is not one known for broken offloads, so the node-NIC verdict here is "not
//! known"; the driver judgement is unit-tested on facts in `checks::data_plane::offload`.)

use std::process::Command;

use serde_json::Value;

use crate::facts_netns::{interface, successful_facts};
use crate::util::{json_stdout, netns_unavailable, result_by_id, skip, Netns};

const FEATURES: [&str; 5] = [
    "tx-checksum-ipv4",
    "tx-checksum-ip-generic",
    "tx-checksum-ipv6",
    "tx-udp_tnl-segmentation",
    "tx-udp_tnl-csum-segmentation",
];

/// Why these tests cannot run here, if they cannot.
fn unavailable() -> Option<String> {
    if let Some(reason) = netns_unavailable() {
        return Some(reason);
    }
    match Command::new("ethtool").arg("--version").output() {
        Ok(o) if o.status.success() => None,
        _ => Some("`ethtool` is not installed (scripts/setup-test-env.sh installs it)".into()),
    }
}

/// `ethtool -k DEV` inside the namespace, as nodecheck records it: `on`, `off`, `on [fixed]`,
/// `off [fixed]` (ethtool's `[requested …]` notes dropped).
fn ethtool_k(ns: &Netns, dev: &str) -> Vec<(String, String)> {
    let out = ns.exec("ethtool", &["-k", dev]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    FEATURES
        .iter()
        .map(|name| {
            let line = text
                .lines()
                .map(str::trim)
                .find(|l| l.starts_with(&format!("{name}: ")))
                .unwrap_or_else(|| panic!("ethtool -k {dev} shows no {name}:\n{text}"));
            let value = line[name.len() + 2..].trim();
            let value = match value.find(" [requested") {
                Some(at) => &value[..at],
                None => value,
            };
            (name.to_string(), value.to_string())
        })
        .collect()
}

fn ethtool_set(ns: &Netns, dev: &str, state: &str, features: &[&str]) {
    let mut args = vec!["-K", dev];
    for f in features {
        args.extend([*f, state]);
    }
    let out = ns.exec("ethtool", &args);
    assert!(
        out.status.success(),
        "ethtool {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The recorded features of `dev`, as (name, state) pairs in `FEATURES` order.
fn recorded(facts: &Value, dev: &str) -> Vec<(String, String)> {
    let offload = &interface(facts, dev)["offload"];
    assert!(
        offload.is_object(),
        "{dev}: offload is {offload}; unavailable: {}",
        facts["unavailable"]
    );
    FEATURES
        .iter()
        .map(|n| {
            (
                n.to_string(),
                offload[*n].as_str().unwrap_or("null").to_string(),
            )
        })
        .collect()
}

/// A node: eth3 (10.20.41.12/24, default route), its peer, a pod veth, and vxlan.calico over eth3.
fn node(tag: &str) -> Netns {
    let ns = Netns::new(tag);
    ns.add_nic("eth3", "eth3-peer", "10.20.41.12/24");
    ns.default_route("10.20.41.1", "eth3");
    ns.add_nic("cali1a2b3c4d5e6", "pod0", "192.168.0.7/32");
    ns.add_vxlan("vxlan.calico", "eth3");
    ns
}

#[test]
fn facts_read_the_real_feature_state_on_and_off() {
    if let Some(reason) = unavailable() {
        return skip(&reason);
    }
    let ns = node("offload");
    let switched = [
        "tx-checksum-ip-generic",
        "tx-udp_tnl-segmentation",
        "tx-udp_tnl-csum-segmentation",
    ];

    ethtool_set(&ns, "eth3", "on", &switched);
    ethtool_set(&ns, "vxlan.calico", "on", &["tx-checksum-ip-generic"]);
    let facts = successful_facts(&ns.nodecheck(&["facts", "--format", "json"]));
    let on = recorded(&facts, "eth3");
    assert_eq!(on, ethtool_k(&ns, "eth3"));
    for name in switched {
        assert!(on.contains(&(name.to_string(), "on".to_string())), "{on:?}");
    }
    assert_eq!(
        recorded(&facts, "vxlan.calico"),
        ethtool_k(&ns, "vxlan.calico")
    );
    assert_eq!(
        interface(&facts, "vxlan.calico")["offload"]["tx-checksum-ip-generic"],
        "on"
    );

    ethtool_set(&ns, "eth3", "off", &switched);
    ethtool_set(&ns, "vxlan.calico", "off", &["tx-checksum-ip-generic"]);
    let facts = successful_facts(&ns.nodecheck(&["facts", "--format", "json"]));
    let off = recorded(&facts, "eth3");
    assert_eq!(off, ethtool_k(&ns, "eth3"));
    for name in switched {
        assert!(
            off.contains(&(name.to_string(), "off".to_string())),
            "{off:?}"
        );
    }
    assert_eq!(
        interface(&facts, "vxlan.calico")["offload"]["tx-checksum-ip-generic"],
        "off"
    );

    // Only the links that can matter are asked: no default route, no device, not Calico's VXLAN.
    for quiet in ["eth3-peer", "cali1a2b3c4d5e6", "pod0", "lo"] {
        assert_eq!(interface(&facts, quiet)["offload"], Value::Null, "{quiet}");
    }
    let unavailable = facts["unavailable"].as_object().unwrap();
    assert!(
        !unavailable.keys().any(|k| k.ends_with(".offload")),
        "{unavailable:?}"
    );
}

/// `check` on the live namespace: vxlan.calico with checksum offload on warns with the ethtool
/// command, and passes once it is off; the veth node NIC is named with no known driver.
#[test]
fn check_judges_the_live_features() {
    if let Some(reason) = unavailable() {
        return skip(&reason);
    }
    let ns = node("offload-check");
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("profile.yaml");
    std::fs::write(&profile, "cluster: t\ncalico:\n  encapsulation: vxlan\n").unwrap();
    // kubelet's node IP pinned: no node-name lookup waiting on the namespace's unreachable DNS.
    let kubeadm = dir.path().join("kubeadm.yaml");
    std::fs::write(
        &kubeadm,
        "apiVersion: kubeadm.k8s.io/v1beta3\nkind: JoinConfiguration\n\
         nodeRegistration:\n  kubeletExtraArgs:\n    node-ip: 10.20.41.12\n",
    )
    .unwrap();
    let run = |ns: &Netns| {
        json_stdout(&ns.nodecheck(&[
            "check",
            "--format",
            "json",
            "--profile",
            profile.to_str().unwrap(),
            "--kubeadm-config",
            kubeadm.to_str().unwrap(),
        ]))
    };

    ethtool_set(&ns, "vxlan.calico", "on", &["tx-checksum-ip-generic"]);
    let report = run(&ns);
    let r = result_by_id(&report, "Nic-ChecksumOffload");
    assert_eq!(r["status"], "warn", "{r:#}");
    let message = r["message"].as_str().unwrap();
    assert!(
        message.contains("vxlan.calico has tx-checksum-ip-generic on"),
        "{message}"
    );
    assert!(message.contains("eth3 (no device driver)"), "{message}");
    assert!(
        r["remediation"]
            .as_str()
            .unwrap()
            .contains("`ethtool -K vxlan.calico tx-checksum-ip-generic off`"),
        "{r:#}"
    );

    ethtool_set(&ns, "vxlan.calico", "off", &["tx-checksum-ip-generic"]);
    let report = run(&ns);
    let r = result_by_id(&report, "Nic-ChecksumOffload");
    assert_eq!(r["status"], "ok", "{r:#}");
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .contains("vxlan.calico has tx-checksum-ip-generic off"),
        "{r:#}"
    );
}
