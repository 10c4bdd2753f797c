//! k3s's node IP and embedded flannel, with the cases of k3s's own interface helper re-expressed
//! (one global IPv4, one plus IPv6, several, none, a down interface) and the failure reports.

use super::*;
use crate::facts::testkit::host;
use crate::facts::Facts;

fn args(list: &[&str]) -> K3sFlags {
    K3sFlags::parse(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>())
}

fn on(model: &dyn AddressModel, facts: &Facts) -> Pick {
    model.pick(&NodeView {
        name: "n",
        facts,
        kube: None,
        is_this_node: true,
    })
}

fn node_ip(version: &str, flags: &[&str], facts: &Facts) -> Pick {
    let model = K3sNodeIpModel {
        distro: Component::K3s,
        version: version.parse().unwrap(),
        flags: args(flags),
    };
    on(&model, facts)
}

fn flannel(version: &str, flags: &[&str], facts: &Facts) -> Pick {
    let model = K3sFlannelModel {
        distro: Component::K3s,
        version: version.parse().unwrap(),
        flags: args(flags),
    };
    on(&model, facts)
}

fn vagrant() -> Facts {
    host("node-a")
        .nic("eth0", &["10.0.2.15/24"])
        .nic("eth1", &["192.168.56.11/24"])
        .route("default", Some("10.0.2.2"), "eth0", Some(100), None)
        .build()
}

const NEW: &str = "v1.33.7+k3s1";

#[test]
fn flags_in_both_spellings_and_comma_lists() {
    let f = args(&[
        "--node-ip",
        "10.0.0.5,fd00::5",
        "--flannel-iface=eth1",
        "--flannel-external-ip",
        "--node-external-ip=203.0.113.5",
    ]);
    assert_eq!(f.node_ip, ["10.0.0.5", "fd00::5"]);
    assert_eq!(f.flannel_iface.as_deref(), Some("eth1"));
    assert!(f.flannel_external_ip);
    assert!(f.runs_flannel());
    assert!(!args(&["--flannel-backend=none"]).runs_flannel());
}

/// k3s#12056 / k3s#1365: `--node-ip` sets the InternalIP, and flannel still takes the default route.
#[test]
fn node_ip_does_not_move_flannel() {
    let facts = vagrant();
    let k = node_ip(NEW, &["--node-ip=192.168.56.11"], &facts);
    assert_eq!(k.node_ips, ["192.168.56.11".parse::<IpAddr>().unwrap()]);
    assert_eq!(k.interface.as_deref(), Some("eth1"));
    let f = flannel(NEW, &["--node-ip=192.168.56.11"], &facts);
    assert_eq!(f.interface.as_deref(), Some("eth0"));
    assert_eq!(f.address, Some("10.0.2.15".parse().unwrap()));
    assert!(f.trace.iter().any(|l| l.contains("k3s#12056")));
    // --flannel-iface moves both.
    let f = flannel(NEW, &["--flannel-iface=eth1"], &facts);
    assert_eq!(f.interface.as_deref(), Some("eth1"));
    let k = node_ip(NEW, &["--flannel-iface=eth1"], &facts);
    assert_eq!(
        (k.step.as_str(), k.address),
        ("flannel-iface", Some("192.168.56.11".parse().unwrap()))
    );
}

#[test]
fn without_flags_choose_host_interface_decides() {
    let k = node_ip(NEW, &[], &vagrant());
    assert_eq!(k.step, "default-route");
    assert_eq!(k.address, Some("10.0.2.15".parse().unwrap()));
}

/// k3s#8346: two global IPv4 addresses on the --flannel-iface interface; the message per release.
#[test]
fn flannel_iface_with_two_addresses_is_fatal_with_the_release_s_message() {
    let facts = host("n")
        .nic("eth1", &["192.168.56.11/24", "192.168.56.200/32"])
        .build();
    let before = node_ip("v1.28.1+k3s1", &["--flannel-iface=eth1"], &facts);
    assert_eq!(
        before.fatal.as_deref(),
        Some("invalid node-ip: invalid ip format ''")
    );
    assert!(before.trace.iter().any(|l| l.contains(
        "multiple global unicast addresses defined for eth1, please set ip from one of [192.168.56.11 192.168.56.200]"
    )));
    let after = node_ip("v1.28.2+k3s1", &["--flannel-iface=eth1"], &facts);
    assert_eq!(
        after.fatal.as_deref(),
        Some("interface eth1 does not have a correct global unicast ip: multiple global unicast addresses defined for eth1, please set ip from one of [192.168.56.11 192.168.56.200]")
    );
}

#[test]
fn flannel_iface_down_missing_or_empty_is_fatal() {
    let down = host("n").nic("eth1", &["192.168.56.11/24"]).down().build();
    assert!(node_ip(NEW, &["--flannel-iface=eth1"], &down)
        .fatal
        .unwrap()
        .ends_with("the interface eth1 is not up"));
    let facts = vagrant();
    assert!(node_ip(NEW, &["--flannel-iface=eth7"], &facts)
        .fatal
        .unwrap()
        .ends_with("no such network interface"));
    let empty = host("n").nic("eth1", &["fe80::1/64"]).build();
    assert!(node_ip(NEW, &["--flannel-iface=eth1"], &empty)
        .fatal
        .unwrap()
        .ends_with("can't find ip for interface eth1"));
    // One IPv4 and one IPv6: both, IPv4 first.
    let dual = host("n")
        .nic("eth1", &["192.168.56.11/24", "2001:db8::11/64"])
        .build();
    assert_eq!(
        node_ip(NEW, &["--flannel-iface=eth1"], &dual)
            .node_ips
            .len(),
        2
    );
}

#[test]
fn a_node_ip_that_is_not_local_or_not_an_ip_is_fatal() {
    let facts = vagrant();
    assert_eq!(
        node_ip(NEW, &["--node-ip=10.0.0.300"], &facts)
            .fatal
            .as_deref(),
        Some("invalid node-ip: invalid ip format '10.0.0.300'")
    );
    assert!(node_ip(NEW, &["--node-ip=10.9.9.9"], &facts)
        .fatal
        .unwrap()
        .contains("not assigned to any interface"));
}

/// k3s#11476: --flannel-external-ip publishes the external IP; the interface is unchanged.
#[test]
fn flannel_external_ip_is_the_public_address() {
    let f = flannel(
        NEW,
        &[
            "--flannel-iface=eth1",
            "--flannel-external-ip",
            "--node-external-ip=203.0.113.5",
        ],
        &vagrant(),
    );
    assert_eq!(f.interface.as_deref(), Some("eth1"));
    assert_eq!(f.address, Some("192.168.56.11".parse().unwrap()));
    assert_eq!(f.public_address, Some("203.0.113.5".parse().unwrap()));
}

/// k3s#259: the ECMP default route kills k3s's flannel, while ChooseHostInterface still answers.
#[test]
fn ecmp_kills_flannel_but_not_the_node_ip() {
    let facts = host("n")
        .nic("eth0", &["10.0.0.5/24"])
        .nic("eth1", &["10.0.1.5/24"])
        .multipath_default(&[("10.0.0.1", "eth0"), ("10.0.1.1", "eth1")], None)
        .build();
    assert_eq!(
        flannel(NEW, &[], &facts).fatal.as_deref(),
        Some("failed to get default interface: Found default route but could not determine interface")
    );
    assert_eq!(
        node_ip(NEW, &[], &facts).address,
        Some("10.0.0.5".parse().unwrap())
    );
}
