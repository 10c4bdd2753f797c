//! The address models on real network namespaces: what the kernel really dumps (route order by
//! metric, multipath and blackhole defaults, address flags and lifetimes, address order) gathered
//! live by `nodecheck addresses` inside the namespace, and judged as flanneld and k3s would.

use std::path::PathBuf;

use serde_json::Value;

use crate::util::{json_stdout, netns_unavailable, skip, Netns};

/// A namespace for one rule, or `None` (skipped) where namespaces are not available.
fn namespace(tag: &str) -> Option<Netns> {
    if let Some(reason) = netns_unavailable() {
        skip(&reason);
        return None;
    }
    Some(Netns::new(&format!("addr-{tag}")))
}

fn profile(tag: &str, yaml: &str) -> PathBuf {
    let path =
        std::env::temp_dir().join(format!("nodecheck-addr-{tag}-{}.yaml", std::process::id()));
    std::fs::write(&path, yaml).unwrap();
    path
}

/// `nodecheck addresses --format json` in the namespace, with a profile.
fn addresses(ns: &Netns, tag: &str, yaml: &str, extra: &[&str]) -> Value {
    let p = profile(tag, yaml);
    let mut args = vec![
        "addresses",
        "--profile",
        p.to_str().unwrap(),
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let out = ns.nodecheck(&args);
    let _ = std::fs::remove_file(&p);
    assert!(
        matches!(out.status.code(), Some(0) | Some(3)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json_stdout(&out)
}

fn pick<'a>(report: &'a Value, component: &str) -> &'a Value {
    report["nodes"][0]["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["component"] == component)
        .unwrap_or_else(|| panic!("no {component}: {report}"))
}

fn flannel(version: &str) -> String {
    format!("cni:\n  flannel:\n    version: \"{version}\"\n")
}

/// Two NICs in 10.0.0.0/24 and 10.0.1.0/24.
fn two_nics(ns: &Netns) {
    ns.add_nic("a0", "a0p", "10.0.0.5/24");
    ns.add_nic("a1", "a1p", "10.0.1.5/24");
}

/// k3s#259: an ECMP default route kills flanneld and k3s's flannel; kubelet and k3s's node IP still
/// get an address (the route file shows the first next hop).
#[test]
fn ecmp_default_route() {
    let Some(ns) = namespace("ecmp") else { return };
    two_nics(&ns);
    ns.ip(&[
        "route", "add", "default", "nexthop", "via", "10.0.0.1", "dev", "a0", "nexthop", "via",
        "10.0.1.1", "dev", "a1",
    ]);
    let r = addresses(&ns, "ecmp", &flannel("0.26.1"), &[]);
    assert_eq!(
        pick(&r, "flannel")["fatal"],
        "Failed to find any valid interface to use: failed to get default interface: Found default route but could not determine interface"
    );
    assert_eq!(pick(&r, "kubelet")["address"], "10.0.0.5");
    let r = addresses(
        &ns,
        "ecmp-k3s",
        "cni:\n  k3s: {version: 1.33.7+k3s1}\n",
        &[],
    );
    assert_eq!(pick(&r, "k3s")["address"], "10.0.0.5");
    assert!(pick(&r, "flannel")["fatal"]
        .as_str()
        .unwrap()
        .contains("could not determine interface"));
}

#[test]
fn blackhole_default_route() {
    let Some(ns) = namespace("bh") else { return };
    two_nics(&ns);
    ns.ip(&["route", "add", "blackhole", "default"]);
    let r = addresses(&ns, "bh", &flannel("0.26.1"), &[]);
    assert!(pick(&r, "flannel")["fatal"]
        .as_str()
        .unwrap()
        .ends_with("Found default route but could not determine interface"));
}

/// The kernel dumps the lower metric first, whatever the order they were added in.
#[test]
fn two_default_routes_with_metrics() {
    let Some(ns) = namespace("metric") else {
        return;
    };
    two_nics(&ns);
    ns.ip(&[
        "route", "add", "default", "via", "10.0.0.1", "dev", "a0", "metric", "200",
    ]);
    ns.ip(&[
        "route", "add", "default", "via", "10.0.1.1", "dev", "a1", "metric", "100",
    ]);
    let r = addresses(&ns, "metric", &flannel("0.26.1"), &[]);
    assert_eq!(pick(&r, "flannel")["interface"], "a1");
    assert_eq!(pick(&r, "flannel")["address"], "10.0.1.5");
}

/// A DHCP-like lease (finite lifetime: `dynamic`) and a keepalived-style VIP (permanent): flannel
/// v0.27 keeps the lease, v0.28 sorts the VIP first; Flannel-Interface fails the VIP.
#[test]
fn dhcp_lease_and_permanent_vip() {
    let Some(ns) = namespace("vip") else { return };
    ns.ip(&["link", "add", "a0", "type", "veth", "peer", "name", "a0p"]);
    ns.ip(&[
        "addr",
        "add",
        "10.0.0.5/24",
        "dev",
        "a0",
        "valid_lft",
        "3600",
        "preferred_lft",
        "3600",
    ]);
    ns.ip(&["addr", "add", "10.0.0.100/32", "dev", "a0"]);
    ns.ip(&["link", "set", "a0", "up"]);
    ns.ip(&["link", "set", "a0p", "up"]);
    ns.ip(&["route", "add", "default", "via", "10.0.0.1", "dev", "a0"]);
    let r = addresses(&ns, "vip27", &flannel("0.27.4"), &[]);
    assert_eq!(pick(&r, "flannel")["public_address"], "10.0.0.5");
    let r = addresses(&ns, "vip28", &flannel("0.28.0"), &[]);
    assert_eq!(pick(&r, "flannel")["public_address"], "10.0.0.100");
    // The node's components now disagree: kubelet registers the lease.
    assert_eq!(pick(&r, "kubelet")["address"], "10.0.0.5");
    assert_eq!(r["consensus"]["agreed"], false);
    let p = profile("vipcheck", &flannel("0.28.0"));
    let out = ns.nodecheck(&[
        "check",
        "--profile",
        p.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let _ = std::fs::remove_file(&p);
    let report = json_stdout(&out);
    let result = crate::util::result_by_id(&report, "Flannel-Interface");
    assert_eq!(result["status"], "fail", "{result}");
    assert!(
        result["message"]
            .as_str()
            .unwrap()
            .contains("10.0.0.100/32 on a0 is a VIP"),
        "{result}"
    );
    assert!(
        result["remediation"]
            .as_str()
            .unwrap()
            .contains("--iface=a0"),
        "{result}"
    );
}

/// Thirteen permanent addresses of equal rank: beyond twelve Go's sort is not stable.
#[test]
fn more_than_twelve_addresses() {
    let Some(ns) = namespace("many") else { return };
    ns.add_nic("a0", "a0p", "10.0.0.5/24");
    for i in 10..22 {
        ns.ip(&["addr", "add", &format!("10.0.0.{i}/24"), "dev", "a0"]);
    }
    ns.ip(&["route", "add", "default", "via", "10.0.0.1", "dev", "a0"]);
    let r = addresses(&ns, "many28", &flannel("0.28.0"), &[]);
    assert!(pick(&r, "flannel")["uncertain"]
        .as_str()
        .unwrap()
        .contains("13 IPv4 addresses"));
    let r = addresses(&ns, "many27", &flannel("0.27.4"), &[]);
    assert_eq!(pick(&r, "flannel")["uncertain"], Value::Null);
    assert_eq!(pick(&r, "flannel")["address"], "10.0.0.5");
}

/// Dual stack with the IPv4 and IPv6 default routes on different NICs.
#[test]
fn v4_and_v6_default_routes_on_different_nics() {
    let Some(ns) = namespace("dual") else { return };
    ns.add_nic("a0", "a0p", "10.0.0.5/24");
    ns.add_nic("a1", "a1p", "10.0.1.5/24");
    ns.ip(&["addr", "add", "fd00:1::5/64", "dev", "a1", "nodad"]);
    ns.ip(&["route", "add", "default", "via", "10.0.0.1", "dev", "a0"]);
    ns.ip(&[
        "-6",
        "route",
        "add",
        "default",
        "via",
        "fd00:1::1",
        "dev",
        "a1",
    ]);
    let yaml = "cni:\n  flannel:\n    version: \"0.28.0\"\n    enable_ipv6: true\n";
    let r = addresses(&ns, "dual", yaml, &[]);
    assert_eq!(
        pick(&r, "flannel")["fatal"],
        "Failed to find any valid interface to use: v6 default route interface a1 must be the same with v4 default route interface a0"
    );
}

/// `--iface` given as an IP two interfaces hold: the first in the kernel's order.
#[test]
fn iface_ip_on_two_interfaces() {
    let Some(ns) = namespace("twoip") else { return };
    ns.add_nic("a0", "a0p", "10.0.0.5/24");
    ns.add_nic("a1", "a1p", "10.0.1.5/24");
    ns.ip(&["addr", "add", "10.9.9.9/32", "dev", "a1"]);
    ns.ip(&["addr", "add", "10.9.9.9/32", "dev", "a0"]);
    let yaml = "cni:\n  flannel:\n    version: \"0.26.1\"\n    args: [--iface=10.9.9.9]\n";
    let r = addresses(&ns, "twoip", yaml, &[]);
    assert_eq!(pick(&r, "flannel")["interface"], "a0");
    assert_eq!(pick(&r, "flannel")["address"], "10.9.9.9");
}

/// `10.0.0.1` unescaped and unanchored matches `110.0.0.15`, on the interface the kernel lists first.
#[test]
fn unanchored_regex_matches_another_address() {
    let Some(ns) = namespace("regex") else { return };
    ns.add_nic("a0", "a0p", "110.0.0.15/24");
    ns.add_nic("a1", "a1p", "10.0.0.1/24");
    let yaml = "cni:\n  flannel:\n    version: \"0.26.1\"\n    args: [--iface-regex=10.0.0.1]\n";
    let r = addresses(&ns, "regex", yaml, &[]);
    assert_eq!(pick(&r, "flannel")["interface"], "a0");
    assert_eq!(pick(&r, "flannel")["address"], "110.0.0.15");
}

/// docker0, cni0, flannel.1, tunl0 and a compose bridge present: a loose regex lands on a CNI or
/// Docker device, and the check says which.
#[test]
fn container_and_cni_devices_are_flagged() {
    let Some(ns) = namespace("cni") else { return };
    ns.add_bridge("docker0", "172.17.0.1/16");
    ns.add_bridge("br-0123456789ab", "172.18.0.1/16");
    ns.add_bridge("cni0", "10.244.1.1/24");
    ns.ip(&[
        "link",
        "add",
        "flannel.1",
        "type",
        "vxlan",
        "id",
        "1",
        "dstport",
        "8472",
        "nolearning",
    ]);
    ns.ip(&["addr", "add", "10.244.1.0/32", "dev", "flannel.1"]);
    if ns
        .exec("ip", &["link", "add", "tunl0", "type", "ipip"])
        .status
        .success()
    {
        ns.ip(&["addr", "add", "192.168.3.1/32", "dev", "tunl0"]);
    }
    ns.add_nic("eth0", "eth0p", "192.168.1.5/24");
    ns.ip(&[
        "route",
        "add",
        "default",
        "via",
        "192.168.1.1",
        "dev",
        "eth0",
    ]);
    for (regex, device, why) in [
        ("^172\\\\.", "docker0", "docker0 is a Docker bridge"),
        ("^172\\\\.18", "br-0123456789ab", "is a Docker bridge"),
        ("^10\\\\.244", "cni0", "cni0 is a CNI device"),
    ] {
        let yaml = format!("node_network: {{cidrs: [192.168.1.0/24]}}\ncni:\n  flannel:\n    version: \"0.26.1\"\n    args: [\"--iface-regex={regex}\"]\n");
        let r = addresses(&ns, "cni", &yaml, &[]);
        assert_eq!(pick(&r, "flannel")["interface"], device, "{regex}");
        let p = profile("cnicheck", &yaml);
        let out = ns.nodecheck(&[
            "check",
            "--profile",
            p.to_str().unwrap(),
            "--format",
            "json",
        ]);
        let _ = std::fs::remove_file(&p);
        let report = json_stdout(&out);
        let result = crate::util::result_by_id(&report, "Flannel-Interface");
        assert_eq!(result["status"], "fail");
        assert!(
            result["message"].as_str().unwrap().contains(why),
            "{result}"
        );
    }
    // Without a selector the default route decides, and all is well.
    let r = addresses(
        &ns,
        "cni-default",
        "node_network: {cidrs: [192.168.1.0/24]}\ncni:\n  flannel: {version: \"0.26.1\"}\n",
        &[],
    );
    assert_eq!(pick(&r, "flannel")["interface"], "eth0");
}

/// Vagrant: every node's NAT eth0 is 10.0.2.15 with the default route; the private network is eth1.
fn vagrant_node(tag: &str, private: &str) -> Option<Netns> {
    let ns = namespace(tag)?;
    ns.add_nic("eth0", "eth0p", "10.0.2.15/24");
    ns.add_nic("eth1", "eth1p", private);
    ns.ip(&["route", "add", "default", "via", "10.0.2.2", "dev", "eth0"]);
    Some(ns)
}

/// k3s#1365 / k3s#12056: the same NAT address on every node; --node-ip does not move flannel.
#[test]
fn vagrant_nat_address_shared_by_every_node() {
    let Some(a) = vagrant_node("vga", "192.168.56.11/24") else {
        return;
    };
    let Some(b) = vagrant_node("vgb", "192.168.56.12/24") else {
        return;
    };
    // node-b's snapshot, as `nodecheck facts` writes it there, under its own name.
    let out = b.nodecheck(&["facts", "--format", "json"]);
    let mut facts: Value = json_stdout(&out);
    facts["host"]["hostname"] = "node-b".into();
    facts["host"]["machine_id"] = Value::Null;
    facts["host"]["product_uuid"] = Value::Null;
    let peer =
        std::env::temp_dir().join(format!("nodecheck-addr-peer-{}.json", std::process::id()));
    std::fs::write(&peer, serde_json::to_vec(&facts).unwrap()).unwrap();
    let yaml = "cni:\n  k3s:\n    version: 1.33.7+k3s1\n    args: [--node-ip=192.168.56.11]\n";
    let r = addresses(&a, "vagrant", yaml, &["--peers", peer.to_str().unwrap()]);
    let _ = std::fs::remove_file(&peer);
    assert_eq!(pick(&r, "k3s")["node_ips"][0], "192.168.56.11");
    assert_eq!(pick(&r, "flannel")["interface"], "eth0");
    let shared = &r["consensus"]["shared_addresses"];
    assert!(
        shared
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["component"] == "flannel" && s["address"] == "10.0.2.15"),
        "{shared}"
    );
    assert!(!r["consensus"]["disagreements"]
        .as_array()
        .unwrap()
        .is_empty());
}

/// On a live k3s host the configuration is read from the host itself: `config.yaml`, a
/// `config.yaml.d` file and the unit's `ExecStart=` (with its `.env` file), under `--host-root`.
#[test]
fn k3s_configuration_read_from_the_host() {
    let Some(ns) = vagrant_node("vghost", "192.168.56.11/24") else {
        return;
    };
    let tree = crate::util::HostTree::new("addr-k3s");
    tree.write("/etc/rancher/k3s/config.yaml", "node-ip: 192.168.56.11\n")
        .write("/etc/rancher/k3s/config.yaml.d/50-flannel.yaml", "flannel-backend: vxlan\n")
        .write(
            "/etc/systemd/system/k3s.service",
            "[Service]\nEnvironmentFile=-/etc/systemd/system/k3s.service.env\nExecStart=/usr/local/bin/k3s server $K3S_FLAGS\n",
        )
        .write("/etc/systemd/system/k3s.service.env", "K3S_FLAGS=--flannel-iface=eth1\n");
    let empty = profile("vghost", "{}\n");
    let out = ns.nodecheck(&[
        "addresses",
        "--host-root",
        tree.dir.to_str().unwrap(),
        "--profile",
        empty.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let r = json_stdout(&out);
    assert_eq!(pick(&r, "k3s")["node_ips"][0], "192.168.56.11", "{r}");
    assert_eq!(pick(&r, "flannel")["interface"], "eth1");
    assert_eq!(r["consensus"]["agreed"], true);
    assert_eq!(out.status.code(), Some(0));
    // Without the unit's flag flannel stays on the NAT NIC (k3s#12056).
    std::fs::remove_file(tree.path("/etc/systemd/system/k3s.service")).unwrap();
    let out = ns.nodecheck(&[
        "addresses",
        "--host-root",
        tree.dir.to_str().unwrap(),
        "--profile",
        empty.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(pick(&json_stdout(&out), "flannel")["interface"], "eth0");
    let _ = std::fs::remove_file(&empty);
}

/// k3s with `--vpn-auth`: a real tun device named tailscale0 holding Tailscale-style addresses;
/// its addresses become k3s's node IPs and flannel moves onto it, whatever `--flannel-iface` says.
#[test]
fn k3s_vpn_interface_is_tailscale0() {
    let Some(ns) = namespace("vpn") else { return };
    two_nics(&ns);
    ns.default_route("10.0.0.1", "a0");
    ns.ip(&["tuntap", "add", "dev", "tailscale0", "mode", "tun"]);
    ns.ip(&["addr", "add", "100.101.1.2/32", "dev", "tailscale0"]);
    ns.ip(&["addr", "add", "fd7a:115c:a1e0::12/128", "dev", "tailscale0"]);
    ns.ip(&["link", "set", "tailscale0", "up"]);
    let yaml = "cni:\n  k3s:\n    version: 1.33.7+k3s1\n    args:\n      - \"--vpn-auth=name=tailscale,joinKey=tskey-auth-secret\"\n      - --flannel-iface=a1\n";
    let r = addresses(&ns, "vpn", yaml, &[]);
    let k3s = pick(&r, "k3s");
    assert_eq!(k3s["node_ips"][0], "100.101.1.2", "{r}");
    assert_eq!(k3s["node_ips"][1], "fd7a:115c:a1e0::12");
    assert_eq!(k3s["step"], "vpn");
    let f = pick(&r, "flannel");
    assert_eq!(f["interface"], "tailscale0");
    assert_eq!(f["address"], "100.101.1.2");
    assert!(!r.to_string().contains("tskey-auth-secret"));
}

/// RKE2's `--cni` decides the stack; a refused selection is RKE2's fatal line.
#[test]
fn rke2_cni_selection() {
    let Some(ns) = namespace("rke2cni") else {
        return;
    };
    two_nics(&ns);
    ns.default_route("10.0.0.1", "a0");
    let components = |r: &Value| -> Vec<String> {
        r["nodes"][0]["components"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["component"].as_str().unwrap().to_string())
            .collect()
    };
    let r = addresses(
        &ns,
        "rke2-canal",
        "cni:\n  rke2: {version: v1.33.1+rke2r1}\n",
        &[],
    );
    assert_eq!(components(&r), ["rke2", "flannel"]);
    let r = addresses(
        &ns,
        "rke2-calico",
        "cni:\n  rke2:\n    version: v1.33.1+rke2r1\n    args: [\"--cni=multus,calico\"]\n",
        &[],
    );
    assert_eq!(components(&r), ["rke2", "calico"]);
    let r = addresses(
        &ns,
        "rke2-bad",
        "cni:\n  rke2:\n    version: v1.29.6+rke2r1\n    args: [\"--cni=flannel,canal\"]\n",
        &[],
    );
    assert_eq!(
        pick(&r, "rke2")["fatal"],
        "invalid values provided for --cni flag: may only provide multiple values if multus is the first value"
    );
}

/// flanneld v0.28 words its helpers' errors in lower case; v0.27 did not.
#[test]
fn flannel_wording_per_release_on_a_namespace_without_default_route() {
    let Some(ns) = namespace("word") else { return };
    two_nics(&ns);
    for (version, line) in [
        ("0.27.4", "Failed to find any valid interface to use: failed to get default interface: Unable to find default route"),
        ("0.28.1", "Failed to find any valid interface to use: failed to get default interface: unable to find default route"),
    ] {
        let r = addresses(&ns, &format!("word-{version}"), &flannel(version), &[]);
        assert_eq!(pick(&r, "flannel")["fatal"], line);
    }
}

/// What the model says flanneld logs for `--iface-can-reach=<not an IP>` rests on the kernel:
/// Go's nil IP goes out as an RTM_GETROUTE with an empty RTA_DST, which the kernel refuses with
/// ERANGE ("numerical result out of range"). Asked of this kernel, read-only.
#[test]
fn the_kernel_refuses_an_empty_route_destination_with_erange() {
    // SAFETY: a plain netlink socket, one request, one reply, closed on return.
    unsafe {
        let fd = libc::socket(libc::AF_NETLINK, libc::SOCK_RAW, libc::NETLINK_ROUTE);
        assert!(fd >= 0);
        // nlmsghdr (16) + rtmsg (12) + an empty RTA_DST (4).
        let mut req = [0u8; 32];
        req[0..4].copy_from_slice(&32u32.to_ne_bytes());
        req[4..6].copy_from_slice(&libc::RTM_GETROUTE.to_ne_bytes());
        req[6..8].copy_from_slice(&(libc::NLM_F_REQUEST as u16).to_ne_bytes());
        req[8..12].copy_from_slice(&1u32.to_ne_bytes());
        req[16] = libc::AF_INET as u8;
        req[17] = 32;
        req[28..30].copy_from_slice(&4u16.to_ne_bytes());
        req[30..32].copy_from_slice(&libc::RTA_DST.to_ne_bytes());
        let sent = libc::send(fd, req.as_ptr().cast(), req.len(), 0);
        assert_eq!(sent, 32);
        let mut reply = [0u8; 256];
        let got = libc::recv(fd, reply.as_mut_ptr().cast(), reply.len(), 0);
        libc::close(fd);
        assert!(got >= 20);
        let kind = u16::from_ne_bytes([reply[4], reply[5]]);
        let error = i32::from_ne_bytes([reply[16], reply[17], reply[18], reply[19]]);
        assert_eq!(kind, libc::NLMSG_ERROR as u16);
        assert_eq!(error, -libc::ERANGE);
        assert_eq!(
            std::io::Error::from_raw_os_error(libc::ERANGE)
                .to_string()
                .split(" (os error")
                .next(),
            Some("Numerical result out of range")
        );
    }
}

/// A `kubectl get nodes -o json` list holding this host's Node with `internal_ip`.
fn this_node_list(tag: &str, internal_ip: &str) -> PathBuf {
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": [{
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": hostname.trim()},
        "status": {"addresses": [
            {"type": "InternalIP", "address": internal_ip},
            {"type": "Hostname", "address": hostname.trim()}
        ]}
    }]});
    let path = std::env::temp_dir().join(format!(
        "nodecheck-addr-nodes-{tag}-{}.json",
        std::process::id()
    ));
    std::fs::write(&path, list.to_string()).unwrap();
    path
}

/// kube-router takes the first link holding the Node's InternalIP: with the Node object given, the
/// certain answer; without it, kubelet's predicted address (the default route's NIC) and a pick that
/// says it is only as right as kubelet's.
#[test]
fn kube_router_follows_the_node_objects_internal_ip() {
    let Some(ns) = namespace("kr") else { return };
    two_nics(&ns);
    ns.default_route("10.0.0.1", "a0");
    let yaml = "cni:\n  kube_router:\n    version: v2.5.0\n";
    let predicted = addresses(&ns, "kr", yaml, &[]);
    let kr = pick(&predicted, "kube-router");
    assert_eq!(kr["interface"], "a0", "{kr}");
    assert!(
        kr["uncertain"]
            .as_str()
            .unwrap()
            .contains("only as right as kubelet's"),
        "{kr}"
    );
    let nodes = this_node_list("kr", "10.0.1.5");
    let known = addresses(&ns, "kr", yaml, &["--peers", nodes.to_str().unwrap()]);
    let kr = pick(&known, "kube-router");
    assert_eq!(kr["interface"], "a1", "{kr}");
    assert_eq!(kr["address"], "10.0.1.5");
    assert!(kr["uncertain"].is_null(), "{kr}");
    // An InternalIP no link holds: kube-router's own error.
    let nodes = this_node_list("kr", "10.0.7.7");
    let gone = addresses(&ns, "kr", yaml, &["--peers", nodes.to_str().unwrap()]);
    let _ = std::fs::remove_file(&nodes);
    assert!(pick(&gone, "kube-router")["fatal"]
        .as_str()
        .unwrap()
        .ends_with("failed to find interface with specified node ip"));
}

/// Antrea's transportInterfaceCIDRs moves its transport interface off the Node IP's NIC, and
/// Address-Consensus names antrea against kubelet.
#[test]
fn antrea_transport_cidrs_win_over_the_node_ip_and_consensus_names_it() {
    let Some(ns) = namespace("antrea") else {
        return;
    };
    two_nics(&ns);
    ns.default_route("10.0.0.1", "a0");
    let nodes = this_node_list("antrea", "10.0.0.5");
    let peers = ["--peers", nodes.to_str().unwrap()];
    let plain = addresses(&ns, "antrea", "cni:\n  antrea: {}\n", &peers);
    assert_eq!(pick(&plain, "antrea")["interface"], "a0");
    assert_eq!(pick(&plain, "antrea")["step"], "node-ip");
    assert_eq!(plain["consensus"]["agreed"], true, "{plain}");
    let yaml = "cni:\n  antrea:\n    transport_interface_cidrs: [10.0.1.0/24]\n";
    let moved = addresses(&ns, "antrea", yaml, &peers);
    let _ = std::fs::remove_file(&nodes);
    let antrea = pick(&moved, "antrea");
    assert_eq!(antrea["interface"], "a1", "{antrea}");
    assert_eq!(antrea["step"], "transportInterfaceCIDRs");
    assert_eq!(moved["consensus"]["agreed"], false);
    let votes = moved["consensus"]["disagreements"][0]["votes"].to_string();
    assert!(
        votes.contains("\"antrea\"") && votes.contains("\"kubelet\""),
        "{votes}"
    );
}
