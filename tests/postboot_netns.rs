//! `check --phase post-join` end to end in a network namespace: Calico's routes (`proto bird` and
//! Felix's `proto 80`) and tunnel, a Felix health endpoint served inside the namespace, and a real
//! dnsmasq as the cluster DNS.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::dns_dnsmasq::{dnsmasq_unavailable, in_netns, Dnsmasq};
use crate::postboot_felix::{serve_on, Behaviour};
use crate::postboot_util::{assert_result, node_namespace};
use crate::util::result_by_id;
use crate::util::{json_stdout, netns_unavailable, skip, Netns};

/// A node NIC eth0 with the default route; Calico's routes and devices are added by each test.
fn calico_node_namespace(tag: &str) -> Netns {
    node_namespace(tag, "eth0", "10.20.41.11/24", "10.20.41.1")
}

/// `check --phase post-join` inside the namespace with extra flags, as JSON.
fn post_join(ns: &Netns, extra: &[&str]) -> (Value, Option<i32>) {
    let mut args = vec!["check", "--phase", "post-join", "--format", "json"];
    args.extend_from_slice(extra);
    let out = ns.nodecheck(&args);
    (json_stdout(&out), out.status.code())
}

#[test]
fn bird_routes_in_a_namespace_count_as_calico_routes() {
    if let Some(reason) = netns_unavailable() {
        return skip(&reason);
    }
    let ns = calico_node_namespace("postboot-routes");
    let (report, _) = post_join(&ns, &[]);
    assert_result(
        &report,
        "Calico-Routes",
        "warn",
        &["no routes installed by Calico"],
    );
    assert_result(&report, "Calico-Tunnel", "fail", &[]);

    for (block, via) in [
        ("192.168.5.0/26", "10.20.41.12"),
        ("192.168.7.0/26", "10.20.41.13"),
    ] {
        ns.ip(&[
            "route", "add", block, "via", via, "dev", "eth0", "proto", "bird",
        ]);
    }
    ns.ip(&[
        "route",
        "add",
        "blackhole",
        "192.168.41.0/26",
        "proto",
        "bird",
    ]);
    // A route of another protocol is not Calico's.
    ns.ip(&[
        "route",
        "add",
        "192.168.9.0/26",
        "via",
        "10.20.41.14",
        "dev",
        "eth0",
    ]);
    let (report, _) = post_join(&ns, &[]);
    assert_result(
        &report,
        "Calico-Routes",
        "ok",
        &["2 Calico routes to other nodes' pod blocks via 2 nodes"],
    );
    assert_eq!(
        result_by_id(&report, "Calico-Routes")["evidence"]["local_blocks"][0],
        "192.168.41.0/26"
    );
    assert_result(&report, "Calico-Tunnel", "ok", &["directly via eth0"]);

    // VXLAN mode: Felix's routes (proto 80) through vxlan.calico.
    ns.add_vxlan("vxlan.calico", "eth0");
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
    let (report, _) = post_join(&ns, &[]);
    assert_result(&report, "Calico-Routes", "ok", &["3 Calico routes"]);
    assert_result(
        &report,
        "Calico-Tunnel",
        "ok",
        &["vxlan.calico (up, 192.168.41.0/32)"],
    );
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

    // dnsmasq may still be starting: retry while its address answers nothing, for at most 5 s.
    let probe = |felix_port: &str, dns: &str| -> Value {
        let started = Instant::now();
        loop {
            let (report, _) = post_join(&ns, &["--felix-port", felix_port, "--cluster-dns", dns]);
            let verdict =
                &result_by_id(&report, "ClusterDNS-Query")["evidence"]["probe"]["verdict"];
            if verdict["verdict"] != "no_server" || started.elapsed() > Duration::from_secs(5) {
                return report;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    };

    let report = probe(&ready_port, "10.96.0.10");
    assert_result(&report, "Calico-FelixReady", "ok", &["answered 200"]);
    assert_result(
        &report,
        "ClusterDNS-Query",
        "ok",
        &["kubernetes.default.svc.cluster.local → 10.96.0.1, answered by 10.96.0.10:53 (--cluster-dns)"],
    );

    // The server and domain from a kubeadm kubelet config instead of flags.
    let kubelet =
        std::env::temp_dir().join(format!("postboot-kubelet-{}.yaml", std::process::id()));
    std::fs::write(
        &kubelet,
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n\
         authentication:\n  anonymous:\n    enabled: false\ncgroupDriver: systemd\n\
         clusterDNS:\n- 10.96.0.10\nclusterDomain: cluster.local\nrotateCertificates: true\n",
    )
    .unwrap();
    let kubelet_arg = kubelet.to_str().unwrap();
    let (report, _) = post_join(
        &ns,
        &["--felix-port", &ready_port, "--kubelet-config", kubelet_arg],
    );
    let _ = std::fs::remove_file(&kubelet);
    assert_result(
        &report,
        "ClusterDNS-Query",
        "ok",
        &[&format!(
            "answered by 10.96.0.10:53 (kubelet config {kubelet_arg})"
        )],
    );

    let report = probe(&not_ready_port, "10.96.0.11:53");
    assert_result(
        &report,
        "Calico-FelixReady",
        "fail",
        &["503: felix-startup not ready"],
    );
    assert_result(
        &report,
        "ClusterDNS-Query",
        "fail",
        &["the DNS path works; the name is missing"],
    );

    // Nothing on the Felix port, nothing at the DNS address: both verdicts within about one
    // timeout, because the probes run side by side. kubelet's --node-ip is pinned through a kubeadm
    // config so that gathering makes no node-name lookup: in this namespace the host's resolver is
    // unreachable and that lookup would wait out its own 2 s bound, which is not what this measures.
    let kubeadm =
        std::env::temp_dir().join(format!("postboot-kubeadm-{}.yaml", std::process::id()));
    std::fs::write(
        &kubeadm,
        "apiVersion: kubeadm.k8s.io/v1beta3\nkind: JoinConfiguration\n\
         nodeRegistration:\n  kubeletExtraArgs:\n    node-ip: 10.20.41.11\n",
    )
    .unwrap();
    let started = Instant::now();
    let (report, code) = post_join(
        &ns,
        &[
            "--felix-port",
            "1",
            "--cluster-dns",
            "10.20.41.99",
            "--kubeadm-config",
            kubeadm.to_str().unwrap(),
        ],
    );
    let elapsed = started.elapsed();
    let _ = std::fs::remove_file(&kubeadm);
    assert_result(&report, "Calico-FelixReady", "fail", &["not answering"]);
    assert_result(
        &report,
        "ClusterDNS-Query",
        "fail",
        &["no DNS server reachable at 10.20.41.99:53"],
    );
    assert!(
        elapsed < nodecheck::probes::PROBE_TIMEOUT + Duration::from_millis(1500),
        "check took {elapsed:?}"
    );
    assert_eq!(code, Some(3));
}
