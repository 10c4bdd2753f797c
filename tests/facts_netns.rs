//! `nodecheck facts` inside a network namespace built like the incident's worker: a veth renamed
//! `ens192`, a management NIC with a multipath default route, `docker0` and a compose bridge with
//! addresses, a vxlan, IPv6 disabled on one interface, and hostile interface names. Asserts the exact
//! facts and that interface order is the kernel's (`ip -j link show`).

use std::os::unix::ffi::OsStrExt;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::util::{bin, json_stdout, netns_unavailable, nix_is_root, nodecheck, skip, Netns};

const ESCAPE_NAME: &str = "e\x1bq";
const SHELL_NAME: &str = "x$;y";
const NON_ASCII_NAME: &str = "néé";

/// The JSON snapshot of a `nodecheck facts` run that must have succeeded.
pub(crate) fn successful_facts(out: &std::process::Output) -> Value {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    json_stdout(out)
}

/// Adds a veth pair `name` / `peer` inside the namespace.
fn veth_pair(ns: &Netns, name: &str, peer: &str) {
    ns.ip(&["link", "add", name, "type", "veth", "peer", "name", peer]);
}

/// Builds the namespace; each step panics with `ip`'s message when it fails.
fn incident_namespace(tag: &str) -> Netns {
    let ns = Netns::new(tag);
    // The node network: a veth renamed ens192, as on the mis-named worker.
    veth_pair(&ns, "tmp-ens", "ens-peer");
    ns.ip(&["link", "set", "tmp-ens", "name", "ens192"]);
    ns.ip(&["addr", "add", "10.20.41.41/24", "dev", "ens192"]);
    // The management NIC.
    veth_pair(&ns, "mgmt0", "mgmt-peer");
    ns.ip(&["addr", "add", "192.168.77.10/24", "dev", "mgmt0"]);
    for dev in ["ens192", "ens-peer", "mgmt0", "mgmt-peer"] {
        ns.ip(&["link", "set", dev, "up"]);
    }
    ns.default_route("192.168.77.1", "mgmt0");
    ns.ip(&[
        "route",
        "add",
        "10.99.0.0/16",
        "nexthop",
        "via",
        "10.20.41.1",
        "dev",
        "ens192",
        "weight",
        "3",
        "nexthop",
        "via",
        "192.168.77.1",
        "dev",
        "mgmt0",
    ]);
    // Docker's default bridge and a compose bridge, with a port enslaved to docker0.
    ns.add_bridge("docker0", "172.17.0.1/16");
    ns.add_bridge("br-3f2a1b4c5d6e", "10.20.41.1/24");
    veth_pair(&ns, "vethd0", "vethd0-peer");
    ns.ip(&["link", "set", "vethd0", "master", "docker0"]);
    // An overlay and hostile names.
    ns.add_vxlan("vxlan.calico", "mgmt0");
    veth_pair(&ns, SHELL_NAME, ESCAPE_NAME);
    ns.ip(&["link", "add", NON_ASCII_NAME, "type", "bridge"]);
    for setting in [
        "net.ipv6.conf.vxlan/calico.disable_ipv6=1",
        "net.ipv4.ip_forward=1",
    ] {
        let out = ns.exec("sysctl", &["-qw", setting]);
        assert!(
            out.status.success(),
            "sysctl {setting}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    ns
}

/// Runs `nodecheck facts --format json` inside the namespace while a TCP socket listens on
/// 127.0.0.1:`port` (kubelet's port taken). One process holds the socket and runs nodecheck, so the
/// listener is certainly up, and in the same namespace, while the facts are gathered.
fn facts_while_listening(ns: &Netns, port: u16) -> std::process::Output {
    let script = format!(
        "import socket,subprocess,sys\n\
         s=socket.socket()\n\
         s.bind(('127.0.0.1',{port}))\n\
         s.listen()\n\
         r=subprocess.run([sys.argv[1],'facts','--format','json'],capture_output=True)\n\
         sys.stdout.buffer.write(r.stdout)\n\
         sys.stderr.buffer.write(r.stderr)\n\
         sys.exit(r.returncode)"
    );
    ns.exec("python3", &["-c", &script, bin().to_str().unwrap()])
}

pub(crate) fn interface<'a>(facts: &'a Value, name: &str) -> &'a Value {
    facts["interfaces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("no interface {name:?} in facts"))
}

fn addresses(iface: &Value, family: &str) -> Vec<String> {
    iface["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["family"] == family)
        .map(|a| format!("{}/{}", a["address"].as_str().unwrap(), a["prefix_len"]))
        .collect()
}

#[test]
fn facts_in_a_namespace_match_the_kernel() {
    if let Some(reason) = netns_unavailable() {
        return skip(&reason);
    }
    let ns = incident_namespace("gather-facts");
    let out = facts_while_listening(&ns, 10250);
    let facts = successful_facts(&out);

    let names: Vec<String> = facts["interfaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        names,
        ns.ip_link_names(),
        "interface order must be the kernel's"
    );
    for hostile in [SHELL_NAME, ESCAPE_NAME, NON_ASCII_NAME] {
        assert!(names.iter().any(|n| n == hostile), "{hostile:?} missing");
    }

    let ens = interface(&facts, "ens192");
    assert_eq!(ens["kind"], "veth");
    assert_eq!(ens["physical"], Value::Null);
    assert_eq!(ens["admin_up"], true);
    assert_eq!(ens["ipv6_disabled"], false);
    assert_eq!(addresses(ens, "ipv4"), vec!["10.20.41.41/24"]);
    assert_eq!(ens["addresses"][0]["scope"], "global");
    assert_eq!(ens["mtu"], 1500);
    let mac = ens["mac"].as_str().unwrap();
    assert_eq!(mac.len(), 17, "mac {mac}");

    let docker0 = interface(&facts, "docker0");
    assert_eq!(docker0["kind"], "bridge");
    assert_eq!(addresses(docker0, "ipv4"), vec!["172.17.0.1/16"]);
    let compose = interface(&facts, "br-3f2a1b4c5d6e");
    assert_eq!(compose["kind"], "bridge");
    assert_eq!(addresses(compose, "ipv4"), vec!["10.20.41.1/24"]);
    assert_eq!(interface(&facts, "vethd0")["master"], "docker0");
    assert_eq!(interface(&facts, "ens192")["master"], Value::Null);

    let vxlan = interface(&facts, "vxlan.calico");
    assert_eq!(vxlan["kind"], "vxlan");
    assert_eq!(vxlan["ipv6_disabled"], true);
    assert!(addresses(vxlan, "ipv6").is_empty());
    assert_eq!(interface(&facts, NON_ASCII_NAME)["kind"], "bridge");
    assert_eq!(interface(&facts, ESCAPE_NAME)["kind"], "veth");

    let lo = interface(&facts, "lo");
    assert_eq!(lo["kind"], Value::Null);
    assert_eq!(addresses(lo, "ipv4"), vec!["127.0.0.1/8"]);
    assert_eq!(lo["addresses"][0]["scope"], "host");

    let routes = facts["routes"].as_array().unwrap();
    let default: Vec<&Value> = routes
        .iter()
        .filter(|r| r["destination"] == "0.0.0.0/0")
        .collect();
    assert_eq!(default.len(), 1, "routes: {routes:#?}");
    assert_eq!(default[0]["device"], "mgmt0");
    assert_eq!(default[0]["gateway"], "192.168.77.1");
    assert_eq!(default[0]["protocol"], "boot");
    let multipath = routes
        .iter()
        .find(|r| r["destination"] == "10.99.0.0/16")
        .expect("multipath route");
    assert_eq!(multipath["device"], Value::Null);
    assert_eq!(
        multipath["nexthops"],
        serde_json::json!([
            {"gateway": "10.20.41.1", "device": "ens192", "weight": 3},
            {"gateway": "192.168.77.1", "device": "mgmt0", "weight": 1},
        ])
    );
    let connected = routes
        .iter()
        .find(|r| r["destination"] == "10.20.41.0/24" && r["device"] == "ens192")
        .expect("connected route of ens192");
    assert_eq!(connected["protocol"], "kernel");
    assert_eq!(connected["scope"], "link");
    assert_eq!(connected["preferred_source"], "10.20.41.41");
    // Only the main table: the local table's 10.20.41.41 route must not appear.
    assert!(routes.iter().all(|r| r["route_type"] != "local"));
    let families: Vec<&str> = routes
        .iter()
        .map(|r| r["family"].as_str().unwrap())
        .collect();
    let first_v6 = families
        .iter()
        .position(|f| *f == "ipv6")
        .unwrap_or(families.len());
    assert!(
        families[first_v6..].iter().all(|f| *f == "ipv6"),
        "IPv4 routes first"
    );

    assert_eq!(facts["sysctls"]["net.ipv4.ip_forward"], "1");
    assert_eq!(facts["ipv6"]["proc_present"], true);
    assert_eq!(
        facts["docker"]["bridges"],
        serde_json::json!(["docker0", "br-3f2a1b4c5d6e"])
    );
    assert_eq!(
        facts["listening_ports"],
        serde_json::json!([{"protocol": "tcp", "address": "127.0.0.1", "port": 10250}])
    );
}

#[test]
fn yaml_round_trips_and_table_escapes_hostile_names() {
    if let Some(reason) = netns_unavailable() {
        return skip(&reason);
    }
    let ns = incident_namespace("gather-render");
    let json = ns.nodecheck(&["facts", "--format", "json"]);
    let yaml = ns.nodecheck(&["facts", "--format", "yaml"]);
    assert_eq!(yaml.status.code(), Some(0));
    let from_json: nodecheck::facts::Facts = serde_json::from_slice(&json.stdout).unwrap();
    let from_yaml: nodecheck::facts::Facts =
        serde_saphyr::from_str(&String::from_utf8(yaml.stdout).unwrap()).expect("YAML facts");
    let names = |f: &nodecheck::facts::Facts| {
        f.interfaces
            .iter()
            .map(|i| i.name.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&from_yaml), names(&from_json));
    assert_eq!(from_yaml.routes, from_json.routes);
    assert_eq!(
        from_yaml.interface(ESCAPE_NAME).map(|i| &i.addresses),
        from_json.interface(ESCAPE_NAME).map(|i| &i.addresses)
    );

    let table = ns.nodecheck(&["facts", "--format", "table"]);
    assert_eq!(table.status.code(), Some(0));
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(
        !text.contains('\x1b'),
        "raw escape byte reached the terminal"
    );
    for shown in [
        "e\\x1bq",
        SHELL_NAME,
        NON_ASCII_NAME,
        "br-3f2a1b4c5d6e",
        "10.20.41.41/24",
    ] {
        assert!(text.contains(shown), "table lacks {shown:?}:\n{text}");
    }
}

/// `ip -n NS ARGS…` where some arguments are bytes that are not UTF-8.
fn ip_bytes(ns: &Netns, args: &[&[u8]]) {
    let out = Command::new("ip")
        .args(["-n", &ns.name])
        .args(args.iter().map(|a| std::ffi::OsStr::from_bytes(a)))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The interface named `n\xff`: a bridge with an IPv4 and an IPv6 address. IPv4 addresses carry the
/// name as their label, which once made the whole address message undecodable and dropped.
#[test]
fn interface_name_that_is_not_utf8_keeps_its_addresses_and_bytes() {
    if let Some(reason) = netns_unavailable() {
        return skip(&reason);
    }
    let ns = Netns::new("gather-utf8");
    // The kernel accepts any bytes in a name but `/`, `:` and white space.
    let name: &[u8] = b"n\xff";
    ip_bytes(&ns, &[b"link", b"add", name, b"type", b"bridge"]);
    ip_bytes(&ns, &[b"addr", b"add", b"10.9.9.1/24", b"dev", name]);
    ip_bytes(
        &ns,
        &[b"addr", b"add", b"fd00:9::1/64", b"dev", name, b"nodad"],
    );
    ip_bytes(&ns, &[b"link", b"set", name, b"up"]);

    let out = ns.nodecheck(&["facts", "--format", "json"]);
    let facts = successful_facts(&out);
    let bridge = interface(&facts, "n\\xff");
    assert_eq!(bridge["kind"], "bridge");
    assert_eq!(bridge["name_bytes"], "6eff");
    let addresses: Vec<&str> = bridge["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["address"].as_str().unwrap())
        .collect();
    assert!(addresses.contains(&"10.9.9.1"), "{addresses:?}");
    assert!(addresses.contains(&"fd00:9::1"), "{addresses:?}");
    assert!(
        !facts["unavailable"]
            .as_object()
            .unwrap()
            .keys()
            .any(|k| k.starts_with("interfaces") || k == "addresses"),
        "nothing about the interface is missing: {}",
        facts["unavailable"]
    );
    // Other names keep their JSON: no name_bytes.
    assert!(interface(&facts, "lo").get("name_bytes").is_none());

    // The snapshot judged elsewhere: the checks and the Calico model consider the interface.
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("facts.json");
    std::fs::write(&snapshot, &out.stdout).unwrap();
    let profile = dir.path().join("profile.yaml");
    std::fs::write(
        &profile,
        "node_network:\n  cidrs: [10.9.9.0/24]\n  nic:\n    name: 'n\\xff'\n  mtu: 9000\n\
         calico:\n  version: \"3.28.0\"\n  ipv4_method: interface=^n.$\n  families: [ipv4]\n",
    )
    .unwrap();
    let (snapshot, profile) = (snapshot.to_str().unwrap(), profile.to_str().unwrap());
    let judge = |command: &str| {
        let out = nodecheck(&[
            command,
            "--facts",
            snapshot,
            "--profile",
            profile,
            "--format",
            "json",
        ]);
        let code = out.status.code();
        assert!(
            code != Some(2) && code.is_some(),
            "{command}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    let check = judge("check");
    let report = json_stdout(&check);
    for id in [
        "NodeNic-Present",
        "NodeNic-Address",
        "Calico-AutodetectionIPv4",
    ] {
        let result = crate::util::result_by_id(&report, id);
        assert_eq!(result["status"], "ok", "{id}: {result}");
    }
    let calico = crate::util::result_by_id(&report, "Calico-AutodetectionIPv4");
    assert!(calico.to_string().contains("10.9.9.1"), "{calico}");
    // The fix names the real bytes: pasted into bash, it changes this interface.
    let mtu = crate::util::result_by_id(&report, "NodeNic-Mtu");
    assert_eq!(mtu["status"], "fail", "{mtu}");
    let fix = mtu["remediation"].as_str().unwrap();
    let command = fix
        .split('`')
        .find(|part| part.starts_with("ip link set"))
        .unwrap_or_else(|| panic!("no command in {fix:?}"));
    assert_eq!(command, "ip link set $'n\\xff' mtu 9000");
    let pasted = ns.exec("bash", &["-c", command]);
    assert!(
        pasted.status.success(),
        "{}",
        String::from_utf8_lossy(&pasted.stderr)
    );
    let after = successful_facts(&ns.nodecheck(&["facts", "--format", "json"]));
    assert_eq!(interface(&after, "n\\xff")["mtu"], 9000);

    // calico: the model predicts the address, and the recommended method, verified on this node,
    // names the byte as calico-node's regexp reads it.
    let calico = judge("calico");
    assert_eq!(calico.status.code(), Some(0));
    let text = String::from_utf8_lossy(&calico.stdout);
    assert!(text.contains("10.9.9.1"), "{text}");
}

#[test]
fn facts_as_an_unprivileged_user_succeed_without_product_uuid() {
    if !nix_is_root() {
        return skip("needs root to switch to an unprivileged user with setpriv");
    }
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(bin())
        .args(["facts", "--format", "json"])
        .output()
        .expect("setpriv");
    let facts = successful_facts(&out);
    assert_eq!(facts["host"]["gathered_as_root"], false);
    assert_eq!(facts["host"]["product_uuid"], Value::Null);
    let reason = facts["unavailable"]["host.product_uuid"]
        .as_str()
        .expect("a reason for the missing product_uuid");
    assert!(reason.contains("product_uuid"), "{reason}");
    if std::path::Path::new("/var/run/docker.sock").exists() {
        assert_eq!(facts["docker"]["api"]["status"], "permission_denied");
    }
}

#[test]
fn unknown_facts_format_is_bad_input() {
    let out = nodecheck(&["facts", "--format", "xml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("xml"));
}

#[test]
fn closed_stdout_pipe_exits_quietly() {
    let mut child = Command::new(bin())
        .args(["facts", "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn nodecheck");
    // Close the reading end before nodecheck has gathered anything: its write meets a broken pipe,
    // as with `nodecheck facts | head -c1`.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.is_empty(), "stderr: {stderr}");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn facts_piped_into_head_print_no_error() {
    let script = format!("{} facts --format table | head -c1", bin().display());
    let out = Command::new("sh").args(["-c", &script]).output().unwrap();
    assert_eq!(out.stdout.len(), 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.is_empty(), "stderr: {stderr}");
}
