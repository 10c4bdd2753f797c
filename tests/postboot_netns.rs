//! `check --phase post-join` end to end in a network namespace: Calico's routes (`proto bird` and
//! Felix's `proto 80`) and tunnel, a Felix health endpoint served inside the namespace, and a real
//! dnsmasq as the cluster DNS.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::dns_dnsmasq::{dnsmasq_unavailable, in_netns, Dnsmasq};
use crate::postboot_felix::{serve_on, Behaviour};
use crate::util::{json_stdout, netns_unavailable, skip, Netns};

fn result<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {report:#}"))
}

/// A node network NIC, and Calico's IP-in-IP-less BGP routes plus a VXLAN tunnel.
fn calico_node_namespace(tag: &str) -> Netns {
    let ns = Netns::new(tag);
    ns.ip(&[
        "link",
        "add",
        "eth0",
        "type",
        "veth",
        "peer",
        "name",
        "eth0-peer",
    ]);
    ns.ip(&["addr", "add", "10.20.41.11/24", "dev", "eth0"]);
    ns.ip(&["link", "set", "eth0", "up"]);
    ns.ip(&["link", "set", "eth0-peer", "up"]);
    ns.ip(&[
        "route",
        "add",
        "default",
        "via",
        "10.20.41.1",
        "dev",
        "eth0",
    ]);
    ns
}

#[test]
fn bird_routes_in_a_namespace_count_as_calico_routes() {
    if let Some(reason) = netns_unavailable() {
        return skip(&reason);
    }
    let ns = calico_node_namespace("postboot-routes");
    let out = ns.nodecheck(&["check", "--phase", "post-join", "--format", "json"]);
    let report = json_stdout(&out);
    assert_eq!(result(&report, "Calico-Routes")["status"], "warn");
    assert_eq!(result(&report, "Calico-Tunnel")["status"], "fail");

    ns.ip(&[
        "route",
        "add",
        "192.168.5.0/26",
        "via",
        "10.20.41.12",
        "dev",
        "eth0",
        "proto",
        "bird",
    ]);
    ns.ip(&[
        "route",
        "add",
        "192.168.7.0/26",
        "via",
        "10.20.41.13",
        "dev",
        "eth0",
        "proto",
        "bird",
    ]);
    ns.ip(&[
        "route",
        "add",
        "blackhole",
        "192.168.41.0/26",
        "proto",
        "bird",
    ]);
    // A kernel route is not Calico's.
    ns.ip(&[
        "route",
        "add",
        "192.168.9.0/26",
        "via",
        "10.20.41.14",
        "dev",
        "eth0",
    ]);
    let out = ns.nodecheck(&["check", "--phase", "post-join", "--format", "json"]);
    let report = json_stdout(&out);
    let routes = result(&report, "Calico-Routes");
    assert_eq!(routes["status"], "ok", "{}", routes["message"]);
    assert!(routes["message"]
        .as_str()
        .unwrap()
        .contains("2 Calico routes to other nodes' pod blocks via 2 nodes"));
    assert_eq!(routes["evidence"]["local_blocks"][0], "192.168.41.0/26");
    let tunnel = result(&report, "Calico-Tunnel");
    assert_eq!(tunnel["status"], "ok", "{}", tunnel["message"]);
    assert!(tunnel["message"]
        .as_str()
        .unwrap()
        .contains("directly via eth0"));

    // VXLAN mode: Felix's routes (proto 80) through vxlan.calico.
    ns.ip(&[
        "link",
        "add",
        "vxlan.calico",
        "type",
        "vxlan",
        "id",
        "4096",
        "dstport",
        "4789",
        "dev",
        "eth0",
    ]);
    ns.ip(&["addr", "add", "192.168.41.0/32", "dev", "vxlan.calico"]);
    ns.ip(&["link", "set", "vxlan.calico", "up"]);
    ns.ip(&[
        "route",
        "add",
        "192.168.6.0/26",
        "via",
        "192.168.6.0",
        "dev",
        "vxlan.calico",
        "onlink",
        "proto",
        "80",
    ]);
    let out = ns.nodecheck(&["check", "--phase", "post-join", "--format", "json"]);
    let report = json_stdout(&out);
    let routes = result(&report, "Calico-Routes");
    assert!(
        routes["message"]
            .as_str()
            .unwrap()
            .contains("3 Calico routes"),
        "{}",
        routes["message"]
    );
    let tunnel = result(&report, "Calico-Tunnel");
    assert_eq!(tunnel["status"], "ok");
    assert!(tunnel["message"]
        .as_str()
        .unwrap()
        .contains("vxlan.calico (up, 192.168.41.0/32)"));
}

#[test]
fn felix_and_cluster_dns_probed_inside_the_namespace() {
    if let Some(reason) = dnsmasq_unavailable() {
        return skip(&reason);
    }
    let ns = calico_node_namespace("postboot-probes");
    ns.ip(&["addr", "add", "10.96.0.10/32", "dev", "lo"]);
    ns.ip(&["addr", "add", "10.96.0.11/32", "dev", "lo"]);
    let _dns = Dnsmasq::start(
        &ns,
        "10.96.0.10",
        &["--address=/kubernetes.default.svc.cluster.local/10.96.0.1"],
    );
    let _nx = Dnsmasq::start(&ns, "10.96.0.11", &["--local=/cluster.local/"]);
    // Listeners bound from a thread inside the namespace stay in it.
    let (ready, not_ready) = in_netns(&ns, || {
        (
            TcpListener::bind("127.0.0.1:0").unwrap(),
            TcpListener::bind("127.0.0.1:0").unwrap(),
        )
    });
    let ready_port = ready.local_addr().unwrap().port().to_string();
    let not_ready_port = not_ready.local_addr().unwrap().port().to_string();
    serve_on(ready, Behaviour::Answer(200, "ok"));
    serve_on(not_ready, Behaviour::Answer(503, "felix-startup not ready"));

    let check = |felix_port: &str, dns: &str| -> (Value, Duration) {
        let started = Instant::now();
        // dnsmasq may still be starting: retry while the server is not reachable yet.
        loop {
            let out = ns.nodecheck(&[
                "check",
                "--phase",
                "post-join",
                "--felix-port",
                felix_port,
                "--cluster-dns",
                dns,
                "--format",
                "json",
            ]);
            let report = json_stdout(&out);
            let dns_status = result(&report, "ClusterDNS-Query")["evidence"]["probe"]["verdict"]
                ["verdict"]
                .clone();
            if dns_status != "no_server" || started.elapsed() > Duration::from_secs(5) {
                return (report, started.elapsed());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    };

    let (report, _) = check(&ready_port, "10.96.0.10");
    let felix = result(&report, "Calico-FelixReady");
    assert_eq!(felix["status"], "ok", "{}", felix["message"]);
    let dns = result(&report, "ClusterDNS-Query");
    assert_eq!(dns["status"], "ok", "{}", dns["message"]);
    assert!(dns["message"]
        .as_str()
        .unwrap()
        .contains("kubernetes.default.svc.cluster.local → 10.96.0.1, answered by 10.96.0.10:53 (--cluster-dns)"));

    let (report, _) = check(&not_ready_port, "10.96.0.11:53");
    let felix = result(&report, "Calico-FelixReady");
    assert_eq!(felix["status"], "fail");
    assert!(felix["message"]
        .as_str()
        .unwrap()
        .contains("503: felix-startup not ready"));
    let dns = result(&report, "ClusterDNS-Query");
    assert_eq!(dns["status"], "fail");
    assert!(dns["message"]
        .as_str()
        .unwrap()
        .contains("the DNS path works; the name is missing"));

    // Nothing on the Felix port, nothing on the DNS address: both verdicts within one timeout,
    // because the probes run side by side.
    let out_started = Instant::now();
    let out = ns.nodecheck(&[
        "check",
        "--phase",
        "post-join",
        "--felix-port",
        "1",
        "--cluster-dns",
        "10.20.41.99",
        "--format",
        "json",
    ]);
    let elapsed = out_started.elapsed();
    let report = json_stdout(&out);
    assert!(result(&report, "Calico-FelixReady")["message"]
        .as_str()
        .unwrap()
        .contains("not answering"));
    let dns = result(&report, "ClusterDNS-Query");
    assert!(dns["message"]
        .as_str()
        .unwrap()
        .contains("no DNS server reachable at 10.20.41.99:53"));
    assert!(
        elapsed < nodecheck::probes::PROBE_TIMEOUT + Duration::from_millis(1500),
        "check took {elapsed:?}"
    );
    assert_eq!(out.status.code(), Some(3));
}
