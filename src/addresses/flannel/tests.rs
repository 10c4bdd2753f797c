//! flanneld's selection, rule by rule; several cases re-express flannel's own `ipmatch` tests
//! (an interface by name, by IP, by regex over addresses then names, and the dual-stack pairing).

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::settings::{FlannelInputs, FlannelSettings};
use super::*;
use crate::facts::testkit::host;
use crate::facts::{Label, Route};

fn model(version: FlannelVersion, args: &[&str], ann: &[(&str, &str)], dual: bool) -> FlannelModel {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let ann: BTreeMap<String, String> = ann
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let inputs = FlannelInputs {
        args: &args,
        annotations: Some(&ann),
        enable_ipv6: Some(dual),
        args_place: "args",
        ..FlannelInputs::default()
    };
    let s = FlannelSettings::resolve(version, &inputs);
    FlannelModel::new(s.clone(), s, Flavor::Upstream)
}

fn run(m: &FlannelModel, facts: &Facts) -> Pick {
    m.pick(&NodeView {
        name: "n",
        facts,
        kube: None,
        is_this_node: true,
    })
}

fn ip(t: &str) -> Option<IpAddr> {
    Some(t.parse().unwrap())
}

const V: FlannelVersion = FlannelVersion::DEFAULT;

fn two_nics() -> Facts {
    host("w")
        .nic("eth0", &["10.0.2.15/24"])
        .nic("eth1", &["192.168.56.11/24"])
        .route("default", Some("10.0.2.2"), "eth0", Some(100), None)
        .build()
}

#[test]
fn without_selectors_the_default_route_decides() {
    let p = run(&model(V, &[], &[], false), &two_nics());
    assert_eq!(p.step, "default-route");
    assert_eq!(p.interface.as_deref(), Some("eth0"));
    assert_eq!(p.address, ip("10.0.2.15"));
    assert_eq!(p.public_address, ip("10.0.2.15"));
    assert_eq!(p.mtu, Some(1450));
    assert!(p.fatal.is_none());
}

/// Two default routes: the kernel dumps the lower metric first, and flanneld takes the first.
#[test]
fn of_two_default_routes_the_first_dumped_decides() {
    let facts = host("w")
        .nic("eth0", &["10.0.2.15/24"])
        .nic("eth1", &["192.168.56.11/24"])
        .route("default", Some("192.168.56.1"), "eth1", Some(50), None)
        .route("default", Some("10.0.2.2"), "eth0", Some(100), None)
        .build();
    assert_eq!(
        run(&model(V, &[], &[], false), &facts).interface.as_deref(),
        Some("eth1")
    );
}

/// k3s#259: a multipath default route has no single device.
#[test]
fn an_ecmp_default_route_is_fatal() {
    let facts = host("w")
        .nic("eth0", &["10.0.0.5/24"])
        .nic("eth1", &["10.0.1.5/24"])
        .multipath_default(&[("10.0.0.1", "eth0"), ("10.0.1.1", "eth1")], None)
        .build();
    let p = run(&model(V, &[], &[], false), &facts);
    assert_eq!(
        p.fatal.as_deref(),
        Some("Failed to find any valid interface to use: failed to get default interface: Found default route but could not determine interface")
    );
    assert!(p.interface.is_none());
}

#[test]
fn a_blackhole_default_route_is_fatal_and_no_default_route_too() {
    let mut facts = two_nics();
    facts.routes[0] = Route {
        device: None,
        gateway: None,
        route_type: "blackhole".into(),
        ..facts.routes[0].clone()
    };
    let p = run(&model(V, &[], &[], false), &facts);
    assert!(p
        .fatal
        .unwrap()
        .ends_with("Found default route but could not determine interface"));
    facts.routes.clear();
    let p = run(&model(V, &[], &[], false), &facts);
    assert!(p
        .fatal
        .unwrap()
        .ends_with("failed to get default interface: Unable to find default route"));
}

#[test]
fn a_down_default_route_interface_is_still_taken() {
    let facts = host("w")
        .nic("eth0", &["10.0.2.15/24"])
        .down()
        .route("default", Some("10.0.2.2"), "eth0", None, None)
        .build();
    let p = run(&model(V, &[], &[], false), &facts);
    assert_eq!(p.interface.as_deref(), Some("eth0"));
    assert!(p.trace.iter().any(|l| l.contains("does not check")));
}

#[test]
fn iface_names_are_tried_in_order_and_a_missing_one_is_passed() {
    let p = run(
        &model(V, &["--iface=eth9", "--iface=eth1"], &[], false),
        &two_nics(),
    );
    assert_eq!(p.step, "iface");
    assert_eq!(p.interface.as_deref(), Some("eth1"));
    assert_eq!(p.address, ip("192.168.56.11"));
    assert!(p.trace.iter().any(|l| l
        == "Could not find valid interface matching eth9: error looking up interface eth9: route ip+net: no such network interface"));
}

/// No fallback: every selector failing is fatal even with a good default route.
#[test]
fn selectors_that_all_fail_are_fatal() {
    let p = run(
        &model(V, &["--iface=eth9", "--iface-regex=^wlan"], &[], false),
        &two_nics(),
    );
    assert_eq!(
        p.fatal.as_deref(),
        Some("Failed to find interface to use that matches the interfaces and/or regexes provided")
    );
    assert!(p.trace.iter().any(|l| l.starts_with(
        "Could not find valid interface matching ^wlan: Could not match pattern ^wlan to any of the available network interfaces (lo:[], eth0:[10.0.2.15], eth1:[192.168.56.11])"
    )));
}

/// `--iface` as an IP: the first interface in kernel order holding it, and that IP is the address.
#[test]
fn iface_as_an_ip_held_by_two_interfaces_takes_the_first() {
    let facts = host("w")
        .nic("eth0", &["10.0.0.5/24", "10.9.9.9/32"])
        .nic("eth1", &["10.9.9.9/24", "10.1.0.5/24"])
        .route("default", Some("10.0.0.1"), "eth0", None, None)
        .build();
    let p = run(&model(V, &["--iface=10.9.9.9"], &[], false), &facts);
    assert_eq!(p.interface.as_deref(), Some("eth0"));
    assert_eq!(p.address, ip("10.9.9.9"));
}

/// Unanchored: `10.0.0.1` (dots unescaped) matches `110.0.0.15`; addresses before names.
#[test]
fn a_regex_matches_address_text_unanchored_before_names() {
    let facts = host("w")
        .nic("eth0", &["110.0.0.15/24"])
        .nic("eth1", &["10.0.0.1/24"])
        .route("default", Some("110.0.0.1"), "eth0", None, None)
        .build();
    let p = run(&model(V, &["--iface-regex=10.0.0.1"], &[], false), &facts);
    assert_eq!(p.interface.as_deref(), Some("eth0"));
    assert_eq!(p.address, ip("110.0.0.15"));
    // A name regex: no address matches, the first name that does wins; `eth` matches `veth…`.
    let facts = host("w")
        .link("veth1a2b", Some("veth"), &[])
        .nic("eth0", &["10.0.0.5/24"])
        .build();
    let p = run(&model(V, &["--iface-regex=eth"], &[], false), &facts);
    // ... and then it has no address: this regex is a dead end, and nothing follows it.
    assert!(
        p.trace
            .iter()
            .any(|l| l.ends_with("failed to find IPv4 address for interface veth1a2b")),
        "{:?}",
        p.trace
    );
    assert!(p.fatal.is_some());
    // An address regex reaches past the veth.
    let p = run(
        &model(V, &["--iface-regex=^eth|10\\.0"], &[], false),
        &facts,
    );
    assert_eq!(p.interface.as_deref(), Some("eth0"));
}

/// The matched address is the one used, not the interface's first; cni0 and docker0 qualify.
#[test]
fn a_regex_takes_the_matched_address_and_skips_no_bridge() {
    let facts = host("w")
        .link("docker0", Some("bridge"), &["172.17.0.1/16"])
        .link("cni0", Some("bridge"), &["10.244.1.1/24"])
        .nic("eth0", &["192.168.1.5/24", "10.20.0.5/24"])
        .route("default", Some("192.168.1.1"), "eth0", None, None)
        .build();
    let p = run(&model(V, &["--iface-regex=^10\\."], &[], false), &facts);
    assert_eq!(p.interface.as_deref(), Some("cni0"));
    let p = run(
        &model(V, &["--iface-regex=^10\\.20\\."], &[], false),
        &facts,
    );
    assert_eq!(
        (p.interface.as_deref(), p.address),
        (Some("eth0"), ip("10.20.0.5"))
    );
}

#[test]
fn a_regex_go_rejects_is_reported_with_go_s_text() {
    let p = run(&model(V, &["--iface-regex=a**"], &[], false), &two_nics());
    assert!(p.fatal.is_some());
    assert!(
        p.trace
            .iter()
            .any(|l| l
                .contains("could not compile the IP address regex 'a**': error parsing regexp")),
        "{:?}",
        p.trace
    );
}

/// flannel#1397: a public IP that is not local (an AWS EIP) is fatal without `--iface`.
#[test]
fn a_public_ip_that_is_not_local_is_fatal_without_iface() {
    let p = run(
        &model(V, &["--public-ip=54.1.2.3"], &[], false),
        &two_nics(),
    );
    assert_eq!(
        p.fatal.as_deref(),
        Some("Failed to find any valid interface to use: error looking up interface 54.1.2.3: No interface with given IP found")
    );
    // With --iface it need not be local: it is only the external address.
    let p = run(
        &model(V, &["--public-ip=54.1.2.3", "--iface=eth1"], &[], false),
        &two_nics(),
    );
    assert_eq!(p.interface.as_deref(), Some("eth1"));
    assert_eq!(p.address, ip("192.168.56.11"));
    assert_eq!(p.public_address, ip("54.1.2.3"));
}

/// flannel#1978: v0.25.2 reads `public-ip` (flanneld's own earlier answer, or a value set for
/// `public-ip-overwrite` tools); a stale one that is not local kills it after a reboot.
#[test]
fn the_v0_25_2_annotation_regression() {
    let ann = [("flannel.alpha.coreos.com/public-ip", "203.0.113.9")];
    let p = run(
        &model(FlannelVersion::new(0, 25, 1), &[], &ann, false),
        &two_nics(),
    );
    assert!(p.fatal.is_none());
    let p = run(
        &model(FlannelVersion::new(0, 25, 2), &[], &ann, false),
        &two_nics(),
    );
    assert!(p
        .fatal
        .unwrap()
        .contains("error looking up interface 203.0.113.9"));
    let p = run(
        &model(FlannelVersion::new(0, 25, 3), &[], &ann, false),
        &two_nics(),
    );
    assert!(p.fatal.is_none());
}

#[test]
fn public_ip_overwrite_changes_what_peers_use_not_the_interface() {
    let ann = [(
        "flannel.alpha.coreos.com/public-ip-overwrite",
        "198.51.100.7",
    )];
    let p = run(&model(V, &[], &ann, false), &two_nics());
    assert_eq!(p.interface.as_deref(), Some("eth0"));
    assert_eq!(p.address, ip("10.0.2.15"));
    assert_eq!(p.public_address, ip("198.51.100.7"));
}

/// A DHCP lease and a keepalived VIP on the default-route NIC: v0.27 keeps the lease, v0.28 the VIP.
#[test]
fn the_vip_becomes_the_public_ip_from_v0_28() {
    let mut facts = host("w")
        .nic("eth0", &["10.0.0.5/24", "10.0.0.100/32"])
        .route("default", Some("10.0.0.1"), "eth0", None, None)
        .build();
    facts.interfaces[1].addresses[0].flags = vec![Label::new("dynamic")];
    facts.interfaces[1].addresses[1].flags = vec![Label::new("permanent")];
    let at = |v| run(&model(v, &[], &[], false), &facts).public_address;
    assert_eq!(at(FlannelVersion::new(0, 27, 4)), ip("10.0.0.5"));
    assert_eq!(at(FlannelVersion::new(0, 28, 0)), ip("10.0.0.100"));
}

/// Dual stack: the two default routes must leave through one interface.
#[test]
fn dual_stack_default_routes_on_two_nics_are_fatal() {
    let facts = host("w")
        .nic("eth0", &["10.0.0.5/24"])
        .nic("eth1", &["2001:db8::5/64"])
        .route("default", Some("10.0.0.1"), "eth0", None, None)
        .route("default", Some("2001:db8::1"), "eth1", None, None)
        .build();
    let p = run(&model(V, &[], &[], true), &facts);
    assert_eq!(
        p.fatal.as_deref(),
        Some("Failed to find any valid interface to use: v6 default route interface eth1 must be the same with v4 default route interface eth0")
    );
    let facts = host("w")
        .nic("eth0", &["10.0.0.5/24", "2001:db8::5/64"])
        .route("default", Some("10.0.0.1"), "eth0", None, None)
        .route("default", Some("2001:db8::1"), "eth0", None, None)
        .build();
    let p = run(&model(V, &[], &[], true), &facts);
    assert_eq!(
        (p.address, p.address_v6),
        (ip("10.0.0.5"), ip("2001:db8::5"))
    );
    assert_eq!(p.public_address_v6, ip("2001:db8::5"));
}

/// `--iface=<IPv4>` in dual stack: before v0.27.4 the IPv6 address is left empty.
#[test]
fn dual_stack_completion_per_family_from_v0_27_4() {
    let facts = host("w")
        .nic("eth0", &["10.0.0.5/24", "2001:db8::5/64"])
        .build();
    let p = run(
        &model(
            FlannelVersion::new(0, 27, 4),
            &["--iface=10.0.0.5"],
            &[],
            true,
        ),
        &facts,
    );
    assert_eq!(
        (p.address, p.address_v6),
        (ip("10.0.0.5"), ip("2001:db8::5"))
    );
    let p = run(
        &model(
            FlannelVersion::new(0, 27, 3),
            &["--iface=10.0.0.5"],
            &[],
            true,
        ),
        &facts,
    );
    assert_eq!((p.address, p.address_v6), (ip("10.0.0.5"), None));
}

/// The dual-stack regex quirk: an IPv4 match on an interface whose IPv6 does not match is kept,
/// and the name pass pairs it with another interface.
#[test]
fn a_dual_stack_regex_keeps_a_stale_ipv4_match() {
    let facts = host("w")
        .nic("eth0", &["10.7.0.5/24", "2001:db8::5/64"])
        .nic("ens7", &["192.168.3.3/24", "2001:db8:1::3/64"])
        .build();
    let p = run(
        &model(V, &["--iface-regex=^10\\.7|ens7"], &[], true),
        &facts,
    );
    assert_eq!(p.interface.as_deref(), Some("ens7"));
    assert_eq!(p.address, ip("10.7.0.5"));
    assert_eq!(p.address_v6, ip("2001:db8:1::3"));
}

#[test]
fn can_reach_takes_the_route_s_device_and_source() {
    let facts = host("w")
        .nic("eth0", &["10.0.2.15/24"])
        .nic("eth1", &["192.168.56.11/24"])
        .route("default", Some("10.0.2.2"), "eth0", None, None)
        .route("192.168.56.0/24", None, "eth1", None, Some("192.168.56.11"))
        .build();
    let p = run(
        &model(V, &["--iface-can-reach=192.168.56.1"], &[], false),
        &facts,
    );
    assert_eq!(p.step, "iface-can-reach");
    assert_eq!(
        (p.interface.as_deref(), p.address),
        (Some("eth1"), ip("192.168.56.11"))
    );
}

#[test]
fn no_stack_is_fatal() {
    let args: Vec<String> = Vec::new();
    let s = FlannelSettings::resolve(
        V,
        &FlannelInputs {
            args: &args,
            enable_ipv4: Some(false),
            enable_ipv6: Some(false),
            ..FlannelInputs::default()
        },
    );
    let m = FlannelModel::new(s.clone(), s, Flavor::Upstream);
    // main.go's GetIPFamily refuses the stack before any interface is looked for.
    let p = run(&m, &two_nics());
    assert_eq!(p.fatal.as_deref(), Some("none defined stack"));
    assert_eq!(p.step, "ip-stack");
}

/// v0.28.0 lower-cased the first letter of every `pkg/ip` and `pkg/ipmatch` error.
#[test]
fn the_wording_follows_the_release() {
    let no_default = host("w").nic("eth0", &["10.0.2.15/24"]).build();
    for (version, line) in [
        (
            FlannelVersion::new(0, 27, 4),
            "Failed to find any valid interface to use: failed to get default interface: Unable to find default route",
        ),
        (
            FlannelVersion::new(0, 28, 0),
            "Failed to find any valid interface to use: failed to get default interface: unable to find default route",
        ),
    ] {
        assert_eq!(
            run(&model(version, &[], &[], false), &no_default).fatal.as_deref(),
            Some(line)
        );
    }
    let p = run(
        &model(
            FlannelVersion::new(0, 28, 1),
            &["--iface-regex=^wlan"],
            &[],
            false,
        ),
        &two_nics(),
    );
    assert!(p.trace.iter().any(|l| l
        == "Could not find valid interface matching ^wlan: could not match pattern ^wlan to any of the available network interfaces (lo:[], eth0:[10.0.2.15], eth1:[192.168.56.11])"));
    let p = run(
        &model(FlannelVersion::new(0, 28, 0), &[], &[], false),
        &host("w")
            .nic("eth0", &["10.0.0.5/24"])
            .nic("eth1", &["10.0.1.5/24"])
            .multipath_default(&[("10.0.0.1", "eth0"), ("10.0.1.1", "eth1")], None)
            .build(),
    );
    assert_eq!(
        p.fatal.as_deref(),
        Some("Failed to find any valid interface to use: failed to get default interface: found default route but could not determine interface")
    );
    let p = run(
        &model(
            FlannelVersion::new(0, 28, 0),
            &["--public-ip=54.1.2.3"],
            &[],
            false,
        ),
        &two_nics(),
    );
    assert_eq!(
        p.fatal.as_deref(),
        Some("Failed to find any valid interface to use: error looking up interface 54.1.2.3: no interface with given IP found")
    );
}

/// `--iface-can-reach` with a name: Go hands a nil IP to the kernel, which answers ERANGE; the
/// attempt is logged and, with nothing else given, flanneld exits.
#[test]
fn iface_can_reach_given_a_name_is_flanneld_s_route_error() {
    let p = run(
        &model(V, &["--iface-can-reach=eth1"], &[], false),
        &two_nics(),
    );
    assert_eq!(
        p.fatal.as_deref(),
        Some("Failed to find interface to use that matches the interfaces and/or regexes provided")
    );
    assert!(p.trace.iter().any(|l| l
        == "Could not find valid interface matching ifaceCanReach: eth1: failed to get ifcanreach based interface: couldn't lookup route to <nil>: numerical result out of range"));
}

/// Dual stack, `--iface` an IPv6 address and no `--public-ipv6`: flanneld reads the addresses of
/// a nil interface and panics, before any later `--iface` is tried.
#[test]
fn an_ipv6_iface_in_dual_stack_without_public_ipv6_panics() {
    let facts = host("w")
        .nic("eth0", &["10.0.2.15/24", "fd00::15/64"])
        .nic("eth1", &["192.168.56.11/24", "fd01::11/64"])
        .route("default", Some("10.0.2.2"), "eth0", Some(100), None)
        .build();
    let p = run(
        &model(V, &["--iface=fd00::15", "--iface=eth1"], &[], true),
        &facts,
    );
    assert_eq!(p.fatal.as_deref(), Some(NIL_DEREFERENCE));
    assert_eq!(
        NIL_DEREFERENCE,
        "panic: runtime error: invalid memory address or nil pointer dereference"
    );
}

#[test]
fn host_gw_keeps_the_interface_mtu() {
    assert_eq!(backend_mtu(FlannelBackend::HostGw, 9000), Some(9000));
    assert_eq!(backend_mtu(FlannelBackend::Vxlan, 9000), Some(8950));
}

#[test]
fn pins_name_the_flag_or_the_canal_key() {
    let m = model(V, &[], &[], false);
    let pin = &m.pins("eth1", "10.0.0.5".parse().unwrap())[0];
    assert_eq!(pin.written(), "--iface=eth1");
    let canal = FlannelModel::new(m.settings.clone(), m.settings.clone(), Flavor::Canal);
    assert_eq!(
        canal.pins("eth1", "10.0.0.5".parse().unwrap())[0].written(),
        "canal_iface: eth1"
    );
}
