//! Cilium's device selection on real network namespaces, one rule per namespace: the links,
//! flags, masters, routes and addresses are the kernel's, gathered live by `nodecheck addresses`
//! inside the namespace and judged by the Cilium model per release generation.

use std::path::PathBuf;

use serde_json::Value;

use crate::util::{json_stdout, netns_unavailable, skip, skip_kernel_lacks, Netns};

fn namespace(tag: &str) -> Option<Netns> {
    if let Some(reason) = netns_unavailable() {
        skip(&reason);
        return None;
    }
    Some(Netns::new(&format!("cil-{tag}")))
}

fn profile_file(tag: &str, yaml: &str) -> PathBuf {
    let path =
        std::env::temp_dir().join(format!("nodecheck-cil-{tag}-{}.yaml", std::process::id()));
    std::fs::write(&path, yaml).unwrap();
    path
}

/// The `cilium` component of `nodecheck addresses --format json` in the namespace.
fn cilium(ns: &Netns, tag: &str, settings: &str) -> Value {
    let p = profile_file(tag, &format!("cni:\n  cilium:\n{settings}"));
    let out = ns.nodecheck(&[
        "addresses",
        "--profile",
        p.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let _ = std::fs::remove_file(&p);
    assert!(
        matches!(out.status.code(), Some(0) | Some(3)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json_stdout(&out);
    report["nodes"][0]["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["component"] == "cilium")
        .unwrap_or_else(|| panic!("no cilium: {report}"))
        .clone()
}

fn version(v: &str) -> String {
    format!("    version: \"{v}\"\n")
}

fn selected(pick: &Value) -> Vec<&str> {
    pick["selected_devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect()
}

fn reason<'a>(pick: &'a Value, name: &str) -> &'a str {
    pick["not_selected"][name]
        .as_str()
        .unwrap_or_else(|| panic!("{name} has no reason: {pick}"))
}

/// Whether this kernel can make a link of `kind` (bonding, 802.1Q and WireGuard are modules some
/// kernels lack); skips the test when it cannot (the unit tests in `addresses::cilium` hold the
/// same rules on built facts).
fn kernel_has(ns: &Netns, args: &[&str], kind: &str) -> bool {
    let mut full = vec!["-n", ns.name.as_str(), "link", "add"];
    full.extend_from_slice(args);
    let out = std::process::Command::new("ip")
        .args(&full)
        .output()
        .unwrap();
    if !out.status.success() {
        skip_kernel_lacks(&format!(
            "this kernel cannot make a {kind} link: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    out.status.success()
}

/// A NIC-like link: an `ifb` device has a MAC, no master and no peer, and Cilium has no rule for
/// its kind, so it is judged as a physical NIC is (dummy devices need a module not every kernel
/// has).
fn dummy(ns: &Netns, name: &str, address: Option<&str>) {
    ns.ip(&["link", "add", name, "type", "ifb"]);
    if let Some(a) = address {
        ns.ip(&["addr", "add", a, "dev", name]);
    }
    ns.ip(&["link", "set", name, "up"]);
}

/// cilium#37427 / #40420: the only uplink enslaved to br0, which holds the node IP.
#[test]
fn bridge_holding_the_node_ip() {
    let Some(ns) = namespace("br") else { return };
    dummy(&ns, "eth0", None);
    ns.ip(&["link", "add", "br0", "type", "bridge"]);
    ns.ip(&["link", "set", "eth0", "master", "br0"]);
    ns.ip(&["addr", "add", "10.0.0.5/24", "dev", "br0"]);
    ns.ip(&["link", "set", "br0", "up"]);
    ns.default_route("10.0.0.1", "br0");
    let p = cilium(&ns, "br-117", &version("1.17.0"));
    assert!(selected(&p).is_empty(), "{p}");
    assert_eq!(
        reason(&p, "br0"),
        "bridge-like device, use --devices to override"
    );
    // The up port has its IPv6 link-local address, so the master check names it.
    let port = reason(&p, "eth0");
    assert!(port.starts_with("bridged or bonded to ifindex "), "{port}");
    assert_eq!(
        p["fatal"],
        "unable to determine direct routing device. Use --direct-routing-device to specify it"
    );
    assert!(p["interface"].is_null());
    // 1.14 adds the node IP's device, whatever its kind.
    let p = cilium(&ns, "br-114", &version("1.14.9"));
    assert_eq!(p["interface"], "br0", "{p}");
    assert!(p["fatal"].is_null());
    // The pin: `devices: [br0]` selects the bridge with no further checks.
    let p = cilium(
        &ns,
        "br-pin",
        &format!("{}    devices: [br0]\n", version("1.17.0")),
    );
    assert_eq!(selected(&p), ["br0"]);
    assert_eq!(p["interface"], "br0");
    assert_eq!(p["address"], "10.0.0.5");
    // Taken down, the port loses its link-local address: the address check comes first.
    ns.ip(&["link", "set", "eth0", "down"]);
    let p = cilium(&ns, "br-port", &version("1.16.3"));
    assert_eq!(reason(&p, "eth0"), "device has no addresses");
}

/// A bond's slaves carry IFF_SLAVE; the bond is the device.
#[test]
fn bond_with_slaves() {
    let Some(ns) = namespace("bond") else { return };
    if !kernel_has(&ns, &["bond0", "type", "bond"], "bond") {
        return;
    }
    for s in ["s0", "s1"] {
        ns.ip(&["link", "add", s, "type", "ifb"]);
        ns.ip(&["link", "set", s, "master", "bond0"]);
    }
    ns.ip(&["addr", "add", "10.0.0.5/24", "dev", "bond0"]);
    ns.ip(&["link", "set", "bond0", "up"]);
    ns.default_route("10.0.0.1", "bond0");
    let p = cilium(&ns, "bond-118", &version("1.18.2"));
    assert_eq!(selected(&p), ["bond0"]);
    assert_eq!(p["interface"], "bond0");
    assert_eq!(p["step"], "single-device");
    assert_eq!(reason(&p, "s0"), "device has no addresses");
    // 1.15 checks the flags first: the kernel's IFF_SLAVE names the slave.
    let p = cilium(&ns, "bond-115", &version("1.15.6"));
    let r = reason(&p, "s1");
    assert!(
        r.starts_with("Not selecting device as it has an excluded flag set (mask=0x808, flags=0x"),
        "{r}"
    );
}

/// A VLAN sub-interface holds the node IP; its parent has no address.
#[test]
fn vlan_sub_interface() {
    let Some(ns) = namespace("vlan") else { return };
    ns.add_nic("eth0", "eth0p", "192.0.2.5/32");
    ns.ip(&["addr", "flush", "dev", "eth0"]);
    if !kernel_has(
        &ns,
        &[
            "link", "eth0", "name", "eth0.100", "type", "vlan", "id", "100",
        ],
        "802.1Q VLAN",
    ) {
        return;
    }
    ns.ip(&["addr", "add", "10.0.0.5/24", "dev", "eth0.100"]);
    ns.ip(&["link", "set", "eth0.100", "up"]);
    ns.default_route("10.0.0.1", "eth0.100");
    let p = cilium(&ns, "vlan", &version("1.16.0"));
    assert_eq!(selected(&p), ["eth0.100"]);
    assert_eq!(p["interface"], "eth0.100");
    assert_eq!(reason(&p, "eth0"), "device has no addresses");
    assert_eq!(
        p["node_port_addresses"]["eth0.100"],
        serde_json::json!(["10.0.0.5"])
    );
}

/// docker0, cni0 and lxc* never selected: their prefixes come before the bridge check.
#[test]
fn docker_cni_and_lxc_prefixes() {
    let Some(ns) = namespace("pfx") else { return };
    dummy(&ns, "eth0", Some("10.0.0.5/24"));
    ns.default_route("10.0.0.1", "eth0");
    for (name, address) in [("docker0", "172.17.0.1/16"), ("cni0", "10.244.0.1/24")] {
        ns.add_bridge(name, address);
        ns.ip(&["link", "set", name, "up"]);
    }
    ns.add_nic("lxc12ab", "lxc12abp", "10.2.0.1/32");
    let p = cilium(&ns, "pfx", &version("1.17.2"));
    assert_eq!(selected(&p), ["eth0"]);
    assert_eq!(reason(&p, "docker0"), "excluded prefix \"docker\"");
    assert_eq!(reason(&p, "cni0"), "excluded prefix \"cni\"");
    assert_eq!(reason(&p, "lxc12ab"), "excluded prefix \"lxc\"");
    assert_eq!(reason(&p, "lxc12abp"), "excluded prefix \"lxc\"");
    // The kernel's own flags for an up loopback: UP, LOOPBACK, RUNNING, LOWER_UP.
    assert_eq!(
        reason(&p, "lo"),
        "excluded flag set (mask=0x808, flags=0x10049)"
    );
    assert!(p["uncertain"].is_null(), "{p}");
    assert_eq!(p["interface"], "eth0");
}

/// A veth is selected only with a default route through it (kind, k3d).
#[test]
fn veth_with_and_without_a_default_route() {
    let Some(ns) = namespace("veth") else { return };
    ns.add_nic("v0", "v0p", "10.0.0.5/24");
    let p = cilium(
        &ns,
        "veth-none",
        &format!(
            "{}    needs_direct_routing_device: false\n",
            version("1.16.0")
        ),
    );
    assert_eq!(reason(&p, "v0"), "veth without default route");
    assert!(p["fatal"].is_null(), "no feature needs the device: {p}");
    ns.default_route("10.0.0.1", "v0");
    let p = cilium(&ns, "veth-dflt", &version("1.16.0"));
    assert_eq!(selected(&p), ["v0"]);
    assert_eq!(p["interface"], "v0");
}

/// ECMP over two NICs: both selected (their prefix and local routes), the node IP's device
/// is the direct-routing device.
#[test]
fn ecmp_over_two_nics() {
    let Some(ns) = namespace("ecmp") else { return };
    dummy(&ns, "a0", Some("10.0.0.5/24"));
    dummy(&ns, "a1", Some("10.0.1.5/24"));
    ns.ip(&[
        "route", "add", "default", "nexthop", "via", "10.0.0.1", "dev", "a0", "nexthop", "via",
        "10.0.1.1", "dev", "a1",
    ]);
    let p = cilium(&ns, "ecmp", &version("1.18.0"));
    assert_eq!(selected(&p), ["a0", "a1"]);
    assert_eq!(p["step"], "node-ip");
    assert_eq!(p["interface"], "a0", "{p}");
    // Two veths over ECMP: the multipath default names neither, so neither is selected.
    let Some(ns2) = namespace("ecmpv") else {
        return;
    };
    ns2.add_nic("v0", "v0p", "10.0.0.5/24");
    ns2.add_nic("v1", "v1p", "10.0.1.5/24");
    ns2.ip(&[
        "route", "add", "default", "nexthop", "via", "10.0.0.1", "dev", "v0", "nexthop", "via",
        "10.0.1.1", "dev", "v1",
    ]);
    let p = cilium(&ns2, "ecmpv", &version("1.18.0"));
    assert_eq!(reason(&p, "v0"), "veth without default route");
    assert_eq!(reason(&p, "v1"), "veth without default route");
}

/// An L3 device (no MAC): a tun device, and WireGuard when the module loads. This kernel runs
/// BPF host routing for L3 devices (5.8+), so they are selected.
#[test]
fn l3_devices_without_a_mac() {
    let Some(ns) = namespace("l3") else { return };
    dummy(&ns, "eth0", Some("10.0.0.5/24"));
    ns.default_route("10.0.0.1", "eth0");
    ns.ip(&["tuntap", "add", "mode", "tun", "dev", "tun0"]);
    ns.ip(&["addr", "add", "10.8.0.1/24", "dev", "tun0"]);
    ns.ip(&["link", "set", "tun0", "up"]);
    // WireGuard where the module exists; the tun device is the L3 case everywhere.
    let wireguard = std::process::Command::new("ip")
        .args(["-n", &ns.name, "link", "add", "wg0", "type", "wireguard"])
        .output()
        .is_ok_and(|o| o.status.success());
    if wireguard {
        ns.ip(&["addr", "add", "10.9.0.1/24", "dev", "wg0"]);
        ns.ip(&["link", "set", "wg0", "up"]);
    }
    let p = cilium(&ns, "l3", &version("1.18.0"));
    let names = selected(&p);
    assert!(names.contains(&"tun0"), "{p}");
    if wireguard {
        assert!(names.contains(&"wg0"), "{p}");
    }
    // Several devices: the node IP's is the direct-routing device.
    assert_eq!(p["interface"], "eth0");
}

/// 1.19: `!` excludes, and the filter decides before the address and up checks (a down link with
/// no address is selected).
#[test]
fn generation_1_19_exclusions() {
    let Some(ns) = namespace("x19") else { return };
    dummy(&ns, "eth0", Some("10.0.0.5/24"));
    dummy(&ns, "eth1", Some("10.0.1.5/24"));
    // Down: no address at all, not even IPv6 link-local.
    ns.ip(&["link", "add", "eth2", "type", "ifb"]);
    ns.default_route("10.0.0.1", "eth0");
    let settings = "    devices: [\"!eth1\", \"eth+\"]\n";
    let p = cilium(&ns, "x19", &format!("{}{settings}", version("1.19.0")));
    assert_eq!(selected(&p), ["eth0", "eth2"]);
    assert_eq!(reason(&p, "eth1"), "excluded by user filter [!eth1 eth+]");
    let p = cilium(&ns, "x18", &format!("{}{settings}", version("1.18.0")));
    assert_eq!(selected(&p), ["eth0", "eth1"]);
    assert_eq!(reason(&p, "eth2"), "device has no addresses");
}
