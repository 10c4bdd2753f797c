//! The address checks on the failure reports they exist for.

use super::*;
use crate::checks::testing::{expect, find, profile, run};
use crate::checks::Phase;
use crate::facts::testkit::host;
use crate::peers::Peer;

fn vagrant(name: &str, private: &str) -> Facts {
    host(name)
        .nic("eth0", &["10.0.2.15/24"])
        .nic("eth1", &[private])
        .route("default", Some("10.0.2.2"), "eth0", Some(100), None)
        .build()
}

fn peer(facts: Facts) -> Peer {
    Peer {
        name: facts.host.hostname.to_string(),
        source: "peers/".into(),
        facts: Some(Box::new(facts)),
        node: None,
    }
}

const K3S_NODE_IP: &str = "
node_network: {cidrs: [192.168.56.0/24]}
cni:
  k3s:
    version: 1.33.7+k3s1
    args: [--node-ip=192.168.56.11]
";

/// k3s#12056 / k3s#1365: --node-ip is right, flannel still takes the NAT interface.
#[test]
fn k3s_node_ip_right_and_flannel_on_the_nat_nic() {
    let results = run(
        &vagrant("node-a", "192.168.56.11/24"),
        &profile(K3S_NODE_IP),
        Phase::PreJoin,
        &[],
        None,
        None,
    );
    expect(
        &results,
        "K3s-NodeIP",
        Status::Ok,
        &["k3s registers 192.168.56.11 (node-ip)"],
    );
    expect(
        &results,
        "Flannel-Interface",
        Status::Fail,
        &[
            "takes eth0 and 10.0.2.15",
            "outside the node network 192.168.56.0/24",
        ],
    );
    let fix = find(&results, "Flannel-Interface")
        .remediation
        .clone()
        .unwrap();
    assert!(
        fix.contains("`flannel-iface: eth1`") && fix.contains("/etc/rancher/k3s/config.yaml"),
        "{fix}"
    );
    expect(
        &results,
        "Address-Consensus",
        Status::Fail,
        &["k3s 192.168.56.11 (eth1)", "flannel 10.0.2.15 (eth0)"],
    );
    // kubelet's own model does not apply on k3s.
    expect(&results, "Kubelet-NodeIP", Status::Skip, &["k3s"]);
    // The fix: --flannel-iface moves flannel; everything agrees.
    let fixed = profile(&K3S_NODE_IP.replace(
        "[--node-ip=192.168.56.11]",
        "[--node-ip=192.168.56.11, --flannel-iface=eth1]",
    ));
    let results = run(
        &vagrant("node-a", "192.168.56.11/24"),
        &fixed,
        Phase::PreJoin,
        &[],
        None,
        None,
    );
    expect(&results, "Flannel-Interface", Status::Ok, &["eth1"]);
    expect(&results, "Address-Consensus", Status::Ok, &["agree"]);
}

/// Every Vagrant node's NAT eth0 is 10.0.2.15: without a node network to judge by, the shared
/// address is what gives it away.
#[test]
fn the_same_nat_address_on_every_node_fails() {
    let yaml = "cni:\n  k3s:\n    version: 1.33.7+k3s1\n";
    let peers = [
        peer(vagrant("node-b", "192.168.56.12/24")),
        peer(vagrant("node-c", "192.168.56.13/24")),
    ];
    let results = run(
        &vagrant("node-a", "192.168.56.11/24"),
        &profile(yaml),
        Phase::PreJoin,
        &peers,
        None,
        None,
    );
    expect(
        &results,
        "Flannel-Interface",
        Status::Fail,
        &["10.0.2.15 is flannel's address on 3 nodes (node-a, node-b, node-c)"],
    );
    expect(
        &results,
        "Address-Consensus",
        Status::Fail,
        &[
            "flannel picks 10.0.2.15 on 3 nodes",
            "k3s picks 10.0.2.15 on 3 nodes",
        ],
    );
}

/// k3s#259: ECMP default route.
#[test]
fn an_ecmp_default_route_fails_flannel_with_its_log_line() {
    let facts = host("node-a")
        .nic("eth0", &["10.0.0.5/24"])
        .nic("eth1", &["10.0.1.5/24"])
        .multipath_default(&[("10.0.0.1", "eth0"), ("10.0.1.1", "eth1")], None)
        .build();
    let yaml = "node_network: {cidrs: [10.0.0.0/24]}\ncni:\n  flannel: {version: 0.26.1}\n";
    let results = run(&facts, &profile(yaml), Phase::PreJoin, &[], None, None);
    expect(
        &results,
        "Flannel-Interface",
        Status::Fail,
        &[
            "will exit",
            "Found default route but could not determine interface",
        ],
    );
    let fix = find(&results, "Flannel-Interface")
        .remediation
        .clone()
        .unwrap();
    assert!(
        fix.contains("--iface=eth0") && fix.contains("kube-flannel"),
        "{fix}"
    );
}

#[test]
fn a_docker_bridge_or_a_vip_is_not_flannel_s_interface() {
    let facts = host("node-a")
        .link("docker0", Some("bridge"), &["172.17.0.1/16"])
        .nic("eth0", &["10.0.0.5/24", "10.0.0.100/32"])
        .route("default", Some("10.0.0.1"), "eth0", None, None)
        .build();
    let yaml = "cni:\n  flannel:\n    version: 0.26.1\n    args: [--iface-regex=^172]\n";
    let results = run(&facts, &profile(yaml), Phase::PreJoin, &[], None, None);
    expect(
        &results,
        "Flannel-Interface",
        Status::Fail,
        &["docker0 is a Docker bridge"],
    );
    let yaml = "cni:\n  flannel:\n    version: 0.26.1\n    args: [--iface=10.0.0.100]\n";
    let results = run(&facts, &profile(yaml), Phase::PreJoin, &[], None, None);
    expect(
        &results,
        "Flannel-Interface",
        Status::Fail,
        &["10.0.0.100/32 on eth0 is a VIP"],
    );
}

#[test]
fn without_a_cni_section_the_checks_do_not_run() {
    let results = run(
        &vagrant("node-a", "192.168.56.11/24"),
        &profile("{}"),
        Phase::PreJoin,
        &[],
        None,
        None,
    );
    for id in ["Flannel-Interface", "K3s-NodeIP", "Address-Consensus"] {
        assert!(results.iter().all(|r| r.id != id), "{id}");
    }
}

/// The typed findings carry the pins a planner needs, without reading messages.
#[test]
fn findings_are_typed() {
    let facts = vagrant("node-a", "192.168.56.11/24");
    let p = profile(K3S_NODE_IP);
    let ctx = Context {
        facts: &facts,
        profile: &p,
        phase: Phase::PreJoin,
        peers: &[],
        baseline: None,
        live: None,
        this_node_kube: None,
        calico_deployed: None,
    };
    let all = findings(&ctx);
    let flannel = all.iter().find(|f| f.id == FLANNEL_INTERFACE).unwrap();
    assert_eq!(flannel.pins[0].name, "flannel-iface");
    assert_eq!(flannel.pins[0].value, "eth1");
    assert_eq!(flannel.picks[0].interface.as_deref(), Some("eth0"));
}

/// Raw link flags as the kernel reports them for up (0x1003) and down (0x1002) links, with
/// `eth0` enslaved to `br0` when a bridge is built.
fn with_flags(mut facts: Facts) -> Facts {
    for i in &mut facts.interfaces {
        i.flags = Some(match (i.name.as_str(), i.admin_up) {
            ("lo", _) => 0x49,
            (_, true) => 0x1003,
            (_, false) => 0x1002,
        });
    }
    facts
}

/// cilium#37427 / #40420: the node's only uplink is enslaved to br0, which holds the node IP.
fn bridged_node() -> Facts {
    let mut f = host("node-a")
        .nic("eth0", &[])
        .link("br0", Some("bridge"), &["192.168.1.10/24"])
        .route("default", Some("192.168.1.1"), "br0", Some(100), None)
        .build();
    f.interfaces
        .iter_mut()
        .find(|i| i.name == "eth0")
        .unwrap()
        .master = Some("br0".into());
    with_flags(f)
}

fn cilium_profile(extra: &str) -> crate::profile::Profile {
    profile(&format!(
        "node_network: {{cidrs: [192.168.1.0/24]}}\ncni:\n  cilium:\n{extra}"
    ))
}

#[test]
fn cilium_on_a_bridged_node_ip_exits_from_1_15_not_in_1_14() {
    let results = run(
        &bridged_node(),
        &cilium_profile("    version: 1.17.0\n"),
        Phase::PreJoin,
        &[],
        None,
        None,
    );
    expect(
        &results,
        CILIUM_DEVICES,
        Status::Fail,
        &[
            "selects no device",
            "unable to determine direct routing device. Use --direct-routing-device to specify it",
            "the node IP 192.168.1.10 is on br0, not selected: bridge-like device, use --devices to override",
        ],
    );
    let fix = find(&results, CILIUM_DEVICES).remediation.clone().unwrap();
    assert!(fix.contains("`--set devices=br0`"), "{fix}");
    assert!(fix.contains("`direct-routing-device: br0`"), "{fix}");
    let results = run(
        &bridged_node(),
        &cilium_profile("    version: 1.14.6\n"),
        Phase::PreJoin,
        &[],
        None,
        None,
    );
    expect(
        &results,
        CILIUM_DEVICES,
        Status::Ok,
        &["selects br0", "direct-routing device br0"],
    );
    // The pin applied: `devices: [br0]` selects the bridge with no further checks.
    let results = run(
        &bridged_node(),
        &cilium_profile("    version: 1.17.0\n    devices: [br0]\n"),
        Phase::PreJoin,
        &[],
        None,
        None,
    );
    expect(
        &results,
        CILIUM_DEVICES,
        Status::Ok,
        &["selects br0", "direct-routing device br0 (single-device)"],
    );
}

/// cilium#33527: `devices: "external,internal"` is one name no interface has.
#[test]
fn cilium_comma_list_is_one_name() {
    let facts = with_flags(
        host("node-a")
            .nic("external", &["203.0.113.5/24"])
            .nic("internal", &["192.168.1.10/24"])
            .route("default", Some("203.0.113.1"), "external", Some(100), None)
            .build(),
    );
    let results = run(
        &facts,
        &cilium_profile(
            "    version: 1.15.6\n    devices: [\"external,internal\"]\n    direct_routing_device: internal\n",
        ),
        Phase::PreJoin,
        &[],
        None,
        None,
    );
    expect(
        &results,
        CILIUM_DEVICES,
        Status::Fail,
        &[
            "selects no device",
            "unable to determine direct routing device",
            "cilium#33527",
        ],
    );
}

/// A second NIC outside the node network is selected too: NodePort is served on its address.
#[test]
fn cilium_nodeport_address_outside_the_node_network_warns() {
    let facts = with_flags(
        host("node-a")
            .nic("eth0", &["192.168.1.10/24"])
            .nic("eth1", &["10.99.0.5/24"])
            .route("default", Some("192.168.1.1"), "eth0", Some(100), None)
            .build(),
    );
    let results = run(
        &facts,
        &cilium_profile("    version: 1.18.1\n"),
        Phase::PreJoin,
        &[],
        None,
        None,
    );
    expect(
        &results,
        CILIUM_DEVICES,
        Status::Warn,
        &[
            "selects eth0, eth1",
            "direct-routing device eth0 (node-ip)",
            "10.99.0.5 on eth1 outside the node network 192.168.1.0/24",
        ],
    );
}
