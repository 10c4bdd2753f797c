//! k3s's node IP and embedded flannel, with the cases of k3s's own interface helper re-expressed
//! (one global IPv4, one plus IPv6, several, none, a down interface) and the failure reports.

use super::*;
use crate::addresses::testkit::vagrant;
use crate::facts::testkit::host;
use crate::facts::Facts;
use std::net::IpAddr;

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
        Some("Error: invalid node-ip: invalid ip format ''")
    );
    assert!(before.trace.iter().any(|l| l.contains(
        "multiple global unicast addresses defined for eth1, please set ip from one of [192.168.56.11 192.168.56.200]"
    )));
    let after = node_ip("v1.28.2+k3s1", &["--flannel-iface=eth1"], &facts);
    assert_eq!(
        after.fatal.as_deref(),
        Some("Error: interface eth1 does not have a correct global unicast ip: multiple global unicast addresses defined for eth1, please set ip from one of [192.168.56.11 192.168.56.200]")
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
        Some("Error: invalid node-ip: invalid ip format '10.0.0.300'")
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
        Some("flannel exited: failed to find the interface: failed to get default interface: found default route but could not determine interface")
    );
    assert_eq!(
        node_ip(NEW, &[], &facts).address,
        Some("10.0.0.5".parse().unwrap())
    );
}

fn tailscale_node() -> Facts {
    host("n")
        .nic("eth0", &["10.0.2.15/24"])
        .link(
            "tailscale0",
            Some("tun"),
            &["100.101.1.2/32", "fd7a:115c:a1e0::12/128", "fe80::1/64"],
        )
        .route("default", Some("10.0.2.2"), "eth0", Some(100), None)
        .build()
}

const VPN: &str = "--vpn-auth=name=tailscale,joinKey=tskey-auth-secret";

/// `--vpn-auth`: the VPN's addresses become the node IPs (`--node-ip` overridden), and its
/// interface, tailscale0, flannel's, with the tailscale backend.
#[test]
fn the_vpn_replaces_node_ip_and_flannel_interface() {
    let facts = tailscale_node();
    let p = node_ip(NEW, &[VPN, "--node-ip=10.0.2.15"], &facts);
    assert_eq!(p.step, "vpn");
    assert_eq!(
        p.node_ips,
        [
            "100.101.1.2".parse::<IpAddr>().unwrap(),
            "fd7a:115c:a1e0::12".parse().unwrap()
        ]
    );
    assert!(p
        .trace
        .contains(&"VPN provider overrides configured node-ip parameter".to_string()));
    assert!(!p.trace.iter().any(|l| l.contains("secret")));
    let f = flannel(NEW, &[VPN, "--flannel-iface=eth0"], &facts);
    assert_eq!(f.interface.as_deref(), Some("tailscale0"));
    assert_eq!(f.address, Some("100.101.1.2".parse().unwrap()));
    assert_eq!(f.mtu, None);
}

#[test]
fn a_vpn_without_its_interface_yet_is_uncertain_and_a_refused_one_fatal() {
    let p = node_ip(NEW, &[VPN], &vagrant());
    assert_eq!(p.interface.as_deref(), Some("tailscale0"));
    assert!(p.uncertain.unwrap().contains("tailscale up"));
    assert!(p.fatal.is_none());
    let p = node_ip(NEW, &["--vpn-auth=name=zerotier,joinKey=k"], &vagrant());
    assert_eq!(
        p.fatal.as_deref(),
        Some(
            "Error: Requested VPN: zerotier is not supported. We currently only support tailscale"
        )
    );
    let no_v4 = host("n")
        .nic("eth0", &["10.0.2.15/24"])
        .link("tailscale0", Some("tun"), &["fd7a:115c:a1e0::12/128"])
        .route("default", Some("10.0.2.2"), "eth0", Some(100), None)
        .build();
    assert_eq!(
        node_ip(NEW, &[VPN], &no_v4).fatal.as_deref(),
        Some("address family mismatch when assigning VPN addresses to node: node=[10.0.2.15], VPN ipv4=<nil> ipv6=fd7a:115c:a1e0::12")
    );
}

/// k3s's agent looks `--flannel-iface` up by name before flannel starts.
#[test]
fn embedded_flannel_lines_are_k3s_lines() {
    assert_eq!(
        flannel(NEW, &["--flannel-iface=eth7"], &vagrant())
            .fatal
            .as_deref(),
        Some("unable to find interface eth7: route ip+net: no such network interface")
    );
    let v6_only = host("n")
        .nic("eth0", &["fd00::5/64"])
        .route("default", Some("10.0.2.2"), "eth0", Some(100), None)
        .build();
    assert_eq!(
        flannel(NEW, &[], &v6_only).fatal.as_deref(),
        Some("flannel exited: failed to find the interface: failed to find IPv4 address for interface eth0: no IPv4 address found for given interface")
    );
    // k3s 1.32 vendors flannel v0.25: the older wording inside the same chain.
    assert_eq!(
        flannel("v1.32.5+k3s1", &[], &v6_only).fatal.as_deref(),
        Some("flannel exited: failed to find the interface: failed to find IPv4 address for interface eth0: No IPv4 address found for given interface")
    );
}

/// Dual-stack cluster CIDRs: k3s's flannel needs an IPv6 address on the same interface, and
/// `--flannel-external-ip` publishes both families of `--node-external-ip`.
#[test]
fn dual_stack_cluster_cidrs_and_external_ips() {
    let dual = host("n")
        .nic("eth0", &["10.0.2.15/24", "2001:db8::15/64"])
        .route("default", Some("10.0.2.2"), "eth0", Some(100), None)
        .build();
    let cidrs = "--cluster-cidr=10.42.0.0/16,2001:cafe:42::/56";
    let f = flannel(
        NEW,
        &[
            cidrs,
            "--flannel-external-ip",
            "--node-external-ip=203.0.113.5,2001:db8:ff::5",
        ],
        &dual,
    );
    assert_eq!(f.address_v6, Some("2001:db8::15".parse().unwrap()));
    assert_eq!(f.public_address, Some("203.0.113.5".parse().unwrap()));
    assert_eq!(f.public_address_v6, Some("2001:db8:ff::5".parse().unwrap()));
    let v4_only = vagrant();
    assert_eq!(
        flannel(NEW, &[cidrs], &v4_only).fatal.as_deref(),
        Some("flannel exited: failed to find the interface: failed to find IPv6 address for interface eth0: no IPv6 address found for given interface")
    );
    // Two families of --node-ip: both registered, IPv4 and IPv6 each in its slot.
    let p = node_ip(NEW, &["--node-ip=2001:db8::15,10.0.2.15"], &dual);
    assert_eq!(p.address, Some("10.0.2.15".parse().unwrap()));
    assert_eq!(p.address_v6, Some("2001:db8::15".parse().unwrap()));
    assert_eq!(p.node_ips[0], "2001:db8::15".parse::<IpAddr>().unwrap());
}

/// RKE2 refuses a bad `--cni` before it picks an address.
#[test]
fn rke2_refuses_a_bad_cni_selection() {
    let model = K3sNodeIpModel {
        distro: Component::Rke2,
        version: "v1.33.1+rke2r1".parse().unwrap(),
        flags: args(&["--cni=canal,calico"]),
    };
    let p = on(&model, &vagrant());
    assert_eq!(p.step, "cni");
    assert_eq!(
        p.fatal.as_deref(),
        Some("Failed to validate --cni flag: may only provide multiple values if multus is the first value")
    );
}
