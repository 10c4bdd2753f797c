//! Cilium's device selection rule by rule and per generation; the table re-expresses the cases of
//! Cilium's own `devices_controller_test.go` (dummy devices with addresses, a veth with and
//! without a default route, bond slaves, bridges, excluded prefixes, link-local only devices, the
//! `--devices` filter with and without `--force-device-detection`), then the direct-routing device.

use std::net::IpAddr;

use super::*;
use crate::facts::testkit::host;
use crate::facts::Facts;

fn model(version: &str, devices: &[&str], drd: Option<&str>, force: bool) -> CiliumModel {
    CiliumModel::from_profile(Some(&CiliumProfile {
        version: Some(version.parse().unwrap()),
        devices: devices.iter().map(|d| d.to_string()).collect(),
        direct_routing_device: drd.map(Into::into),
        force_device_detection: Some(force),
        needs_direct_routing_device: Some(true),
    }))
}

fn ip(t: &str) -> Option<IpAddr> {
    Some(t.parse().unwrap())
}

fn set(facts: &mut Facts, name: &str, f: impl FnOnce(&mut crate::facts::Interface)) {
    f(facts
        .interfaces
        .iter_mut()
        .find(|i| i.name == name)
        .unwrap())
}

/// A node with flags as the kernel sets them: up broadcast links 0x1003.
fn flags_up(facts: &mut Facts) {
    for i in &mut facts.interfaces {
        i.flags = Some(if i.admin_up { 0x1003 } else { 0x1002 });
    }
}

fn selected(
    m: &CiliumModel,
    facts: &Facts,
    node_ip: Option<IpAddr>,
) -> (Vec<String>, CiliumDevices) {
    let d = m.devices_on(facts, node_ip);
    (d.selection.selected().map(|v| v.name.clone()).collect(), d)
}

fn reason<'a>(d: &'a CiliumDevices, name: &str) -> &'a str {
    d.selection
        .verdicts
        .iter()
        .find(|v| v.name == name)
        .and_then(|v| v.reason.as_deref())
        .unwrap_or("selected")
}

/// The rules of `isSelectedDevice` (1.16 to 1.18), one link each.
#[test]
fn selection_table_1_16() {
    let mut f = host("n")
        .link("dummy0", Some("dummy"), &["192.168.0.1/24"])
        .link("dummy1", Some("dummy"), &[])
        .link("veth0", Some("veth"), &["192.168.1.1/24"])
        .link("br0", Some("bridge"), &["10.0.0.5/24"])
        .link("bond0", Some("bond"), &["10.1.0.5/24"])
        .link("eth1", None, &[])
        .link("lxc1234", Some("veth"), &["10.2.0.1/32"])
        .link("cilium_host", Some("veth"), &["10.2.0.2/32"])
        .link("docker0", Some("bridge"), &["172.17.0.1/16"])
        .link("ll0", Some("dummy"), &["169.254.0.1/16", "fe80::1/64"])
        .link("down0", Some("dummy"), &["192.168.5.1/24"])
        .down()
        .link("tun0", Some("tun"), &["10.8.0.1/24"])
        .route("default", Some("10.0.0.1"), "br0", None, None)
        .build();
    flags_up(&mut f);
    set(&mut f, "lo", |i| {
        i.flags = Some(0x49);
        i.mac = None
    });
    set(&mut f, "eth1", |i| {
        i.master = Some("bond0".into());
        i.flags = Some(0x1803);
        i.addresses = host("x")
            .link("y", None, &["10.1.0.9/24"])
            .build()
            .interfaces[0]
            .addresses
            .clone();
    });
    set(&mut f, "tun0", |i| {
        i.mac = None;
        i.flags = Some(0x10d1);
    });
    let m = model("1.16.5", &[], None, false);
    let (names, d) = selected(&m, &f, ip("10.0.0.5"));
    assert_eq!(names, ["dummy0", "bond0", "tun0"]);
    let cases = [
        ("dummy1", "device has no addresses"),
        ("veth0", "veth without default route"),
        ("br0", "bridge-like device, use --devices to override"),
        ("eth1", "excluded flag set (mask=0x808, flags=0x1803)"),
        ("lxc1234", "excluded prefix \"lxc\""),
        ("cilium_host", "excluded prefix \"cilium_\""),
        ("docker0", "excluded prefix \"docker\""),
        ("ll0", "no global unicast routes"),
        ("down0", "missing required flag (mask=0x1, flags=0x1002)"),
    ];
    for (name, want) in cases {
        assert!(
            reason(&d, name).starts_with(want) || reason(&d, name) == want,
            "{name}: {}",
            reason(&d, name)
        );
    }
    // lo is up and loopback: the flags check names it.
    set(&mut f, "lo", |i| i.flags = Some(0x49));
    let (_, d) = selected(&m, &f, None);
    assert_eq!(
        reason(&d, "lo"),
        "excluded flag set (mask=0x808, flags=0x49)"
    );
    // Three selected devices, none holding the node IP: no direct-routing device, fatal.
    assert_eq!(d.direct_routing.device, None);
    assert_eq!(
        d.direct_routing.fatal.as_deref(),
        Some(direct_routing::NO_DIRECT_ROUTING_DEVICE)
    );
}

/// A bridge port (master set, no IFF_SLAVE) is rejected by its master; an L3 device needs 5.8.
#[test]
fn bridge_ports_and_l3_devices() {
    let mut f = host("n")
        .link("br0", Some("bridge"), &["10.0.0.5/24"])
        .link("eth0", None, &["10.0.9.9/24"])
        .link("wg0", Some("wireguard"), &["10.9.0.1/24"])
        .build();
    flags_up(&mut f);
    set(&mut f, "eth0", |i| i.master = Some("br0".into()));
    set(&mut f, "wg0", |i| i.mac = None);
    f.host.kernel_release = "5.4.0-150-generic".into();
    let (names, d) = selected(&model("1.17.0", &[], None, false), &f, ip("10.0.0.5"));
    assert!(names.is_empty());
    assert_eq!(reason(&d, "eth0"), "bridged or bonded to ifindex 2");
    assert_eq!(
        reason(&d, "wg0"),
        "L3 device, kernel too old, >= 5.8 required"
    );
    f.host.kernel_release = "6.1.0".into();
    let (names, _) = selected(&model("1.17.0", &[], None, false), &f, None);
    assert_eq!(names, ["wg0"]);
}

/// `--devices` selects a match with no further checks; `--force-device-detection` adds detection.
#[test]
fn devices_filter_and_force_detection() {
    let mut f = host("n")
        .link("br0", Some("bridge"), &["10.0.0.5/24"])
        .link("dummy0", Some("dummy"), &["192.168.0.1/24"])
        .link("veth0", Some("veth"), &["192.168.1.1/24"])
        .build();
    flags_up(&mut f);
    let m = model("1.16.0", &["br+", "veth0"], None, false);
    let (names, d) = selected(&m, &f, ip("10.0.0.5"));
    assert_eq!(names, ["br0", "veth0"]);
    assert_eq!(reason(&d, "dummy0"), "not matching user filter [br+ veth0]");
    let m = model("1.16.0", &["br0"], None, true);
    // veth0 matches nothing, is detected, and with `--devices` given its default route is not
    // asked for.
    let (names, _) = selected(&m, &f, None);
    assert_eq!(names, ["br0", "dummy0", "veth0"]);
    // 1.15 knows no --force-device-detection.
    let m = model("1.15.6", &["br0"], None, true);
    let (names, d) = selected(&m, &f, None);
    assert_eq!(names, ["br0"]);
    assert_eq!(reason(&d, "dummy0"), "Not selecting non-matching device");
}

/// 1.19: the filter decides before the address and up checks, and `!` excludes.
#[test]
fn generation_1_19_filter_first_with_exclusions() {
    let mut f = host("n")
        .link("eth0", None, &["10.0.0.5/24"])
        .link("eth1", None, &["10.0.1.5/24"])
        .link("eth2", None, &[])
        .link("ens4", None, &["10.0.4.5/24"])
        .build();
    flags_up(&mut f);
    let m = model("1.19.0", &["!eth1", "eth+"], None, false);
    let (names, d) = selected(&m, &f, ip("10.0.0.5"));
    // eth2 has no address but the filter chose it first.
    assert_eq!(names, ["eth0", "eth2"]);
    assert_eq!(reason(&d, "eth1"), "excluded by user filter [!eth1 eth+]");
    assert_eq!(reason(&d, "ens4"), "not matching user filter [!eth1 eth+]");
    // 1.18 checks the address first and reads `!eth1` as a name.
    let (names, d) = selected(&model("1.18.2", &["!eth1", "eth+"], None, false), &f, None);
    assert_eq!(names, ["eth0", "eth1"]);
    assert_eq!(reason(&d, "eth2"), "device has no addresses");
}

/// A veth is auto-selected only with a default route of its own; a multipath default route names
/// no single link.
#[test]
fn veth_default_route_and_ecmp() {
    let mut f = host("n")
        .link("veth0", Some("veth"), &["172.18.0.2/16"])
        .route("default", Some("172.18.0.1"), "veth0", None, None)
        .build();
    flags_up(&mut f);
    let (names, _) = selected(&model("1.16.0", &[], None, false), &f, None);
    assert_eq!(names, ["veth0"]);
    let mut f = host("n")
        .link("veth0", Some("veth"), &["172.18.0.2/16"])
        .link("veth1", Some("veth"), &["172.19.0.2/16"])
        .multipath_default(&[("172.18.0.1", "veth0"), ("172.19.0.1", "veth1")], None)
        .build();
    flags_up(&mut f);
    let (names, d) = selected(&model("1.16.0", &[], None, false), &f, None);
    assert!(names.is_empty());
    assert_eq!(reason(&d, "veth1"), "veth without default route");
}

/// The direct-routing device: the setting filters the selected devices, else the only one, else
/// the node IP's; 1.14 adds the node IP's device whatever its kind.
#[test]
fn direct_routing_device_per_generation() {
    let mut f = host("n")
        .link("eth0", None, &["10.0.0.5/24"])
        .link("eth1", None, &["192.168.56.11/24"])
        .link("br0", Some("bridge"), &["10.20.0.5/24"])
        .build();
    flags_up(&mut f);
    let (_, d) = selected(
        &model("1.16.0", &[], Some("eth1"), false),
        &f,
        ip("10.0.0.5"),
    );
    assert_eq!(d.direct_routing.device.as_deref(), Some("eth1"));
    let (_, d) = selected(&model("1.16.0", &[], None, false), &f, ip("192.168.56.11"));
    assert_eq!(d.direct_routing.device.as_deref(), Some("eth1"));
    assert_eq!(d.direct_routing.step, "node-ip");
    // The node IP on the bridge: 1.16 has no device, 1.14 takes the bridge.
    let (_, d) = selected(&model("1.16.0", &[], None, false), &f, ip("10.20.0.5"));
    assert_eq!(d.direct_routing.device, None);
    assert!(d.direct_routing.fatal.is_some());
    let (names, d) = selected(&model("1.14.9", &[], None, false), &f, ip("10.20.0.5"));
    assert_eq!(d.direct_routing.device.as_deref(), Some("br0"));
    assert!(names.contains(&"br0".to_string()));
    // A setting naming an unselected device selects nothing from 1.15.
    let (_, d) = selected(
        &model("1.15.0", &[], Some("br0"), false),
        &f,
        ip("10.20.0.5"),
    );
    assert_eq!(d.direct_routing.device, None);
}

/// NodePort addresses: primary before secondary, then scope; link scope dropped.
#[test]
fn node_port_address_order() {
    let mut f = host("n")
        .link(
            "eth0",
            None,
            &["10.0.0.9/24", "10.0.0.5/24", "fe80::1/64", "2001:db8::5/64"],
        )
        .build();
    set(&mut f, "eth0", |i| {
        i.addresses[0].flags = vec!["secondary".into()];
    });
    let eth0 = f.interfaces.iter().find(|i| i.name == "eth0").unwrap();
    let addrs = node_addresses::node_port_addresses(eth0);
    assert_eq!(addrs, [ip("10.0.0.5").unwrap(), ip("2001:db8::5").unwrap()]);
}

/// The pick: interface = direct-routing device, its primary address; the JSON carries the lists.
#[test]
fn pick_carries_devices() {
    let mut f = host("n")
        .link("eth0", None, &["10.0.0.5/24"])
        .link("docker0", Some("bridge"), &["172.17.0.1/16"])
        .build();
    flags_up(&mut f);
    let m = model("1.18.0", &[], None, false);
    let p = m.pick(&NodeView {
        name: "n",
        facts: &f,
        kube: None,
        is_this_node: true,
    });
    assert_eq!(p.interface.as_deref(), Some("eth0"));
    assert_eq!(p.address, ip("10.0.0.5"));
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(json["selected_devices"], serde_json::json!(["eth0"]));
    assert_eq!(
        json["not_selected"]["docker0"],
        "excluded prefix \"docker\""
    );
    assert_eq!(
        json["node_port_addresses"]["eth0"],
        serde_json::json!(["10.0.0.5"])
    );
    let pins = m.pins("eth1", "10.0.1.5".parse().unwrap());
    assert_eq!(pins[0].written(), "--set devices=eth1");
    assert_eq!(pins[3].written(), "direct-routing-device: eth1");
}

/// The steps of Cilium's own `TestDevicesController` (1.16+), each state rebuilt as a snapshot:
/// dummy devices are selected, a veth only with the default route, a bond's slave gives way to
/// the bond, a bridge port and the bridge select nothing.
#[test]
fn cilium_devices_controller_steps() {
    let names = |f: &mut Facts| -> Vec<String> {
        flags_up(f);
        // Bonding sets IFF_SLAVE on its slaves; a bridge port carries only its master.
        for i in &mut f.interfaces {
            if i.master.as_deref().is_some_and(|m| m.starts_with("bond")) {
                i.flags = Some(0x1803);
            }
        }
        let m = model("1.17.0", &[], None, false);
        m.devices_on(f, None)
            .selection
            .selected()
            .map(|v| v.name.clone())
            .collect()
    };
    // "initial", "add dummy1" (with the default route).
    let mut f = host("n")
        .link("dummy0", Some("dummy"), &["192.168.0.1/24"])
        .link("dummy1", Some("dummy"), &["192.168.1.1/24"])
        .route("default", Some("192.168.1.254"), "dummy1", None, None)
        .build();
    assert_eq!(names(&mut f), ["dummy0", "dummy1"]);
    // "secondary address": still selected.
    set(&mut f, "dummy1", |i| {
        let mut a = i.addresses[0].clone();
        a.address = "192.168.1.2".parse().unwrap();
        a.scope = "site".into();
        a.flags = vec!["secondary".into()];
        i.addresses.push(a);
    });
    assert_eq!(names(&mut f), ["dummy0", "dummy1"]);
    // "veth-without-default-gw".
    let mut f = host("n")
        .link("dummy0", Some("dummy"), &["192.168.0.1/24"])
        .link("dummy1", Some("dummy"), &["192.168.1.1/24"])
        .link("veth0", Some("veth"), &["192.168.4.1/24"])
        .route("default", Some("192.168.1.254"), "dummy1", None, None)
        .build();
    assert_eq!(names(&mut f), ["dummy0", "dummy1"]);
    // "veth-with-default-gw": the default route moved to veth0.
    f.routes[0].device = Some("veth0".into());
    assert_eq!(names(&mut f), ["dummy0", "dummy1", "veth0"]);
    // "bond-is-selected": dummy1 enslaved to bond0.
    let mut f = host("n")
        .link("dummy1", Some("dummy"), &[])
        .link("bond0", Some("bond"), &["192.168.6.1/24"])
        .build();
    set(&mut f, "dummy1", |i| i.master = Some("bond0".into()));
    assert_eq!(names(&mut f), ["bond0"]);
    // "skip-bridge-devices": dummy1 a port of br0.
    let mut f = host("n")
        .link("dummy1", Some("dummy"), &["192.168.1.1/24"])
        .link("br0", Some("bridge"), &["192.168.5.1/24"])
        .build();
    set(&mut f, "dummy1", |i| i.master = Some("br0".into()));
    assert!(names(&mut f).is_empty());
}

/// `TestDevicesController_Wildcards` and `_with_ForcedDetection`: `dummy+` selects dummy0 only,
/// unless detection is forced, which adds the other viable devices.
#[test]
fn cilium_wildcards_and_forced_detection() {
    let mut f = host("n")
        .link("dummy0", Some("dummy"), &["192.168.0.1/24"])
        .link("nonviable", Some("dummy"), &["192.168.1.1/24"])
        .link("eth0", Some("dummy"), &["1.2.3.4/24"])
        .build();
    flags_up(&mut f);
    let (names, _) = selected(&model("1.16.0", &["dummy+"], None, false), &f, None);
    assert_eq!(names, ["dummy0"]);
    let (names, _) = selected(&model("1.16.0", &["dummy+"], None, true), &f, None);
    assert_eq!(names, ["dummy0", "nonviable", "eth0"]);
}
