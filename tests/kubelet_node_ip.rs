//! kubelet's node address, predicted on real network namespaces: `/etc/hosts`, `/etc/nsswitch.conf`
//! and `/etc/resolv.conf` given per namespace in a scratch directory (bind-mounted over their `/etc`
//! namesakes in a private mount namespace, so the machine's own `/etc` is never written), the host
//! name set in a private UTS namespace, DNS answered by a real dnsmasq or
//! by nobody; and kubelet's flags from scratch host trees (`--host-root`): a drop-in's
//! `Environment=`, `/etc/default/kubelet` under kubeadm's drop-in, a kubeadm `JoinConfiguration`.

use std::net::SocketAddr;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::dns_dnsmasq::{dnsmasq_unavailable, Dnsmasq};
use crate::util::{bin, json_stdout, netns_unavailable, skip, HostTree, Netns};

/// Where a namespace's own `/etc` files are kept: a scratch directory, never under `/etc` (what
/// `ip netns exec` reads from `/etc/netns/NAME/`, [`run_as`] mounts from here).
fn etc_dir(ns: &Netns) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("nodecheck-etc-{}", ns.name))
}

/// Per-namespace `/etc` files, removed on drop.
struct NetnsEtc {
    dir: std::path::PathBuf,
}

impl NetnsEtc {
    fn new(ns: &Netns, files: &[(&str, &str)]) -> NetnsEtc {
        let dir = etc_dir(ns);
        std::fs::create_dir_all(&dir).expect("create the namespace's /etc scratch directory");
        for (name, content) in files {
            std::fs::write(dir.join(name), content).expect("write a namespace /etc file");
        }
        NetnsEtc { dir }
    }
}

impl Drop for NetnsEtc {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The namespace of a worker: `node0` on the node network (10.20.41.41/24, fd00:41::41/64),
/// `mgmt0` with the default routes (192.168.77.41/24, fd00:77::41/64), a `docker0` bridge
/// (172.17.0.1/16) and, unless `default_route` is false, IPv4 and IPv6 default routes via mgmt0.
fn worker_namespace(tag: &str, default_route: bool) -> Option<Netns> {
    if let Some(reason) = netns_unavailable() {
        skip(&reason);
        return None;
    }
    let ns = Netns::new(tag);
    ns.add_nic("node0", "node0p", "10.20.41.41/24");
    ns.ip(&["addr", "add", "fd00:41::41/64", "dev", "node0", "nodad"]);
    ns.add_nic("mgmt0", "mgmt0p", "192.168.77.41/24");
    ns.ip(&["addr", "add", "fd00:77::41/64", "dev", "mgmt0", "nodad"]);
    ns.ip(&["link", "add", "docker0", "type", "bridge"]);
    ns.ip(&["addr", "add", "172.17.0.1/16", "dev", "docker0"]);
    ns.ip(&["link", "set", "docker0", "up"]);
    if default_route {
        ns.ip(&["route", "add", "default", "via", "192.168.77.1"]);
        ns.ip(&[
            "-6",
            "route",
            "add",
            "default",
            "via",
            "fd00:77::1",
            "dev",
            "mgmt0",
        ]);
    }
    Some(ns)
}

/// Runs nodecheck in the namespace with the host name `hostname` (a private UTS namespace) and the
/// namespace's `/etc` files (from [`etc_dir`]) bind-mounted over their namesakes in a private mount
/// namespace.
fn run_as(ns: &Netns, hostname: &str, args: &[&str]) -> Output {
    let script = format!(
        "for f in \"$NODECHECK_TEST_ETC\"/*; do \
             if [ -e \"$f\" ]; then mount --bind \"$f\" \"/etc/${{f##*/}}\" || exit 99; fi; \
         done && hostname {hostname} && exec \"$0\" \"$@\""
    );
    Command::new("ip")
        .args([
            "netns", "exec", &ns.name, "unshare", "--uts", "--mount", "sh", "-c", &script,
        ])
        .env("NODECHECK_TEST_ETC", etc_dir(ns))
        .arg(bin())
        .args(args)
        .output()
        .expect("ip netns exec unshare")
}

const PROFILE: &str = "node_network:\n  cidrs: [10.20.41.0/24]\n";

fn write_profile(tag: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!(
        "nodecheck-kubelet-{tag}-{}.yaml",
        std::process::id()
    ));
    std::fs::write(&path, PROFILE).unwrap();
    path
}

fn check_result<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {report:#}"))
}

/// `check --format json` in the namespace, with or without the node-network profile.
fn kubelet_check(ns: &Netns, extra: &[&str], with_profile: bool) -> (Value, Value) {
    let profile = write_profile(&ns.name);
    let mut args = vec!["check", "--format", "json"];
    let profile_arg = profile.to_str().unwrap().to_string();
    if with_profile {
        args.extend(["--profile", profile_arg.as_str()]);
    }
    args.extend_from_slice(extra);
    let out = run_as(ns, "worker-41", &args);
    let _ = std::fs::remove_file(&profile);
    let report = json_stdout(&out);
    let node_ip = check_result(&report, "Kubelet-NodeIP").clone();
    (report, node_ip)
}

#[test]
fn etc_hosts_maps_the_name_to_the_node_nic_while_the_default_route_uses_another() {
    let Some(ns) = worker_namespace("kl-hosts", true) else {
        return;
    };
    let _etc = NetnsEtc::new(
        &ns,
        &[
            ("hosts", "127.0.0.1 localhost\n10.20.41.41 worker-41\n"),
            ("nsswitch.conf", "hosts: files dns\n"),
            ("resolv.conf", "nameserver 127.0.0.1\n"),
        ],
    );
    let (report, node_ip) = kubelet_check(&ns, &[], true);
    assert_eq!(node_ip["status"], "ok", "{node_ip:#}");
    assert_eq!(node_ip["evidence"]["node_ip"], "10.20.41.41");
    assert_eq!(node_ip["evidence"]["step"], "lookup");
    assert!(node_ip["message"]
        .as_str()
        .unwrap()
        .contains("/etc/hosts line 2 maps worker-41 to 10.20.41.41"));
    let route = check_result(&report, "NodeNic-DefaultRoute");
    assert_eq!(route["status"], "warn");
    assert!(
        route["message"]
            .as_str()
            .unwrap()
            .contains("kubelet does not follow the default route here: it registers 10.20.41.41"),
        "{route:#}"
    );
    // Calico's kubernetes-internal-ip now reads the prediction, not an assumption.
    let calico = run_as(
        &ns,
        "worker-41",
        &[
            "calico",
            "--method",
            "kubernetes-internal-ip",
            "--format",
            "json",
        ],
    );
    let text = String::from_utf8_lossy(&calico.stdout);
    assert!(
        text.contains("kubelet's InternalIP there is predicted: /etc/hosts line 2 maps worker-41 to 10.20.41.41"),
        "{text}"
    );
    assert!(
        !text.contains("assumed: no Kubernetes Node object"),
        "{text}"
    );
}

#[test]
fn debian_127_0_1_1_mapping_falls_through_to_the_default_route() {
    let Some(ns) = worker_namespace("kl-debian", true) else {
        return;
    };
    let _etc = NetnsEtc::new(
        &ns,
        &[
            (
                "hosts",
                "127.0.0.1 localhost\n127.0.1.1 worker-41.lab worker-41\n",
            ),
            ("nsswitch.conf", "hosts: files dns\n"),
        ],
    );
    // Without a profile the node network is the default route's: kubelet's address is in it, but
    // only because the default route decided.
    let (_, node_ip) = kubelet_check(&ns, &[], false);
    assert_eq!(node_ip["status"], "warn", "{node_ip:#}");
    assert_eq!(node_ip["evidence"]["node_ip"], "192.168.77.41");
    assert_eq!(node_ip["evidence"]["step"], "default-route");
    let trace = node_ip["evidence"]["trace"].to_string();
    assert!(
        trace.contains("/etc/hosts line 2: 127.0.1.1 skipped (loopback)"),
        "{trace}"
    );
    // With the node network of the profile, that address is outside it: fail, with the pin.
    let (_, node_ip) = kubelet_check(&ns, &[], true);
    assert_eq!(node_ip["status"], "fail", "{node_ip:#}");
    let fix = node_ip["remediation"].as_str().unwrap();
    assert!(
        fix.contains("KUBELET_EXTRA_ARGS=\"--node-ip=10.20.41.41,fd00:41::41\"")
            || fix.contains("KUBELET_EXTRA_ARGS=\"--node-ip=10.20.41.41\""),
        "{fix}"
    );
}

#[test]
fn an_address_not_on_the_host_is_skipped_and_a_docker_bridge_address_is_taken() {
    let Some(ns) = worker_namespace("kl-elsewhere", true) else {
        return;
    };
    {
        let _etc = NetnsEtc::new(
            &ns,
            &[
                ("hosts", "10.99.0.7 worker-41\n"),
                ("nsswitch.conf", "hosts: files\n"),
            ],
        );
        let (_, node_ip) = kubelet_check(&ns, &[], true);
        assert_eq!(node_ip["evidence"]["step"], "default-route", "{node_ip:#}");
        assert!(node_ip["evidence"]["trace"]
            .to_string()
            .contains("10.99.0.7 skipped (not assigned to any interface of this host)"));
    }
    let _etc = NetnsEtc::new(
        &ns,
        &[
            ("hosts", "172.17.0.1 worker-41\n"),
            ("nsswitch.conf", "hosts: files\n"),
        ],
    );
    let (_, node_ip) = kubelet_check(&ns, &[], true);
    assert_eq!(node_ip["status"], "fail", "{node_ip:#}");
    assert_eq!(node_ip["evidence"]["node_ip"], "172.17.0.1");
    assert_eq!(node_ip["evidence"]["step"], "lookup");
    assert!(node_ip["message"]
        .as_str()
        .unwrap()
        .contains("172.17.0.1 (docker0)"));
}

#[test]
fn ipv6_first_in_etc_hosts_still_gives_the_ipv4_address() {
    let Some(ns) = worker_namespace("kl-v6first", true) else {
        return;
    };
    let _etc = NetnsEtc::new(
        &ns,
        &[
            ("hosts", "fd00:41::41 worker-41\n10.20.41.41 worker-41\n"),
            ("nsswitch.conf", "hosts: files\n"),
        ],
    );
    let (_, node_ip) = kubelet_check(&ns, &[], true);
    assert_eq!(node_ip["evidence"]["node_ip"], "10.20.41.41", "{node_ip:#}");
    assert_eq!(node_ip["status"], "ok");
}

#[test]
fn no_mapping_and_no_default_route_means_kubelet_registers_nothing() {
    let Some(ns) = worker_namespace("kl-nothing", false) else {
        return;
    };
    let _etc = NetnsEtc::new(
        &ns,
        &[
            ("hosts", "127.0.0.1 localhost\n"),
            ("nsswitch.conf", "hosts: files\n"),
        ],
    );
    let (_, node_ip) = kubelet_check(&ns, &[], true);
    assert_eq!(node_ip["status"], "fail", "{node_ip:#}");
    assert_eq!(node_ip["evidence"]["node_ip"], Value::Null);
    assert_eq!(node_ip["evidence"]["step"], "none");
    assert!(node_ip["message"]
        .as_str()
        .unwrap()
        .contains("kubelet will register no InternalIP"));
}

/// Waits until dnsmasq answers on `server` (at most 5 s).
fn wait_for_dns(ns: &Netns, server: SocketAddr) {
    crate::dns_dnsmasq::in_netns(ns, || {
        let until = Instant::now() + Duration::from_secs(5);
        while Instant::now() < until {
            match nodecheck::probes::dns::query_a(server, "worker-41", Duration::from_millis(300)) {
                nodecheck::probes::DnsVerdict::NoServer { .. } => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                _ => return,
            }
        }
        panic!("dnsmasq on {server} did not start");
    });
}

/// `/etc/hosts` as given, `hosts: files dns`, and a nameserver on the node network with no such
/// neighbour: a query to it goes unanswered.
fn silent_dns_etc(ns: &Netns, hosts: &str) -> NetnsEtc {
    NetnsEtc::new(
        ns,
        &[
            ("hosts", hosts),
            ("nsswitch.conf", "hosts: files dns\n"),
            ("resolv.conf", "nameserver 10.20.41.99\n"),
        ],
    )
}

/// `facts` in the namespace: the name lookup's `dns` object, and how long the run took.
fn timed_dns_lookup(ns: &Netns) -> (Value, Duration) {
    let started = Instant::now();
    let out = run_as(ns, "worker-41", &["facts"]);
    let elapsed = started.elapsed();
    let facts = json_stdout(&out);
    (facts["kubelet"]["name_lookup"]["dns"].clone(), elapsed)
}

#[test]
fn dns_answered_by_dnsmasq_and_dns_silent_within_the_bound() {
    if let Some(reason) = dnsmasq_unavailable() {
        return skip(&reason);
    }
    let Some(ns) = worker_namespace("kl-dns", true) else {
        return;
    };
    ns.ip(&["addr", "add", "10.53.0.53/32", "dev", "lo"]);
    let _dns = Dnsmasq::start(&ns, "10.53.0.53", &["--address=/worker-41.lab/10.20.41.41"]);
    wait_for_dns(&ns, "10.53.0.53:53".parse().unwrap());
    {
        let _etc = NetnsEtc::new(
            &ns,
            &[
                ("hosts", "127.0.0.1 localhost\n"),
                ("nsswitch.conf", "hosts: files dns\n"),
                ("resolv.conf", "nameserver 10.53.0.53\nsearch lab\n"),
            ],
        );
        let (_, node_ip) = kubelet_check(&ns, &[], true);
        assert_eq!(node_ip["status"], "warn", "{node_ip:#}");
        assert_eq!(node_ip["evidence"]["node_ip"], "10.20.41.41");
        assert_eq!(node_ip["evidence"]["step"], "lookup");
        assert_eq!(node_ip["evidence"]["dns_dependent"], true);
        assert!(node_ip["message"].as_str().unwrap().contains(
            "DNS (10.53.0.53:53 answered for worker-41.lab) maps worker-41 to 10.20.41.41"
        ));
    }
    // A server on the node network that never answers (no such neighbour): bounded, and the default
    // route decides, with the DNS dependence said.
    let _etc = silent_dns_etc(&ns, "127.0.0.1 localhost\n");
    let (dns, elapsed) = timed_dns_lookup(&ns);
    assert_eq!(dns["status"], "timeout", "{dns:#}");
    assert!(
        elapsed < Duration::from_millis(3500),
        "facts took {elapsed:?}"
    );
    let (_, node_ip) = kubelet_check(&ns, &[], false);
    assert_eq!(node_ip["evidence"]["step"], "default-route", "{node_ip:#}");
    assert_eq!(node_ip["evidence"]["dns_dependent"], true);
    assert_eq!(node_ip["status"], "warn");
}

/// A host tree with kubelet installed from the Debian packages (unit in /lib, kubeadm's drop-in in
/// /usr/lib), the host name worker-41, and an /etc/hosts that maps nothing.
fn kubeadm_tree(tag: &str) -> HostTree {
    let tree = HostTree::new(tag);
    tree.write("/proc/sys/kernel/hostname", "worker-41\n")
        .write("/etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n")
        .write("/etc/hosts", "127.0.0.1 localhost\n")
        .write("/etc/nsswitch.conf", "hosts: files\n")
        .write(
            "/lib/systemd/system/kubelet.service",
            "[Unit]\nDescription=kubelet\n[Service]\nExecStart=/usr/bin/kubelet\nRestart=always\n",
        )
        .write(
            "/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf",
            "[Service]\n\
Environment=\"KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf\"\n\
Environment=\"KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml\"\n\
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env\n\
EnvironmentFile=-/etc/default/kubelet\n\
ExecStart=\n\
ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS\n",
        );
    tree
}

fn tree_check(ns: &Netns, tree: &HostTree, extra: &[&str]) -> Value {
    let mut args = vec!["--host-root", tree.arg()];
    args.extend_from_slice(extra);
    let (_, node_ip) = kubelet_check(ns, &args, true);
    node_ip
}

#[test]
fn node_ip_from_a_drop_in_from_etc_default_kubelet_and_from_a_join_configuration() {
    let Some(ns) = worker_namespace("kl-flags", true) else {
        return;
    };
    // A drop-in's Environment= (a second drop-in after kubeadm's, by file name).
    let tree = kubeadm_tree("kl-dropin");
    tree.write(
        "/etc/systemd/system/kubelet.service.d/20-node-ip.conf",
        "[Service]\nEnvironment=\"KUBELET_EXTRA_ARGS=--node-ip=10.20.41.41\"\n",
    );
    let node_ip = tree_check(&ns, &tree, &[]);
    assert_eq!(node_ip["status"], "ok", "{node_ip:#}");
    assert_eq!(node_ip["evidence"]["step"], "node-ip");
    assert!(node_ip["message"].as_str().unwrap().contains(
        "--node-ip=10.20.41.41 ($KUBELET_EXTRA_ARGS from /etc/systemd/system/kubelet.service.d/20-node-ip.conf:2)"
    ));
    // /etc/default/kubelet overrides Environment= (EnvironmentFile= wins), and a wrong address there
    // is reported with its file and line.
    tree.write(
        "/etc/default/kubelet",
        "KUBELET_EXTRA_ARGS=--node-ip=10.20.41.99\n",
    );
    let node_ip = tree_check(&ns, &tree, &[]);
    assert_eq!(node_ip["status"], "fail", "{node_ip:#}");
    assert_eq!(node_ip["evidence"]["node_ip"], Value::Null);
    let message = node_ip["message"].as_str().unwrap();
    assert!(message.contains("--node-ip 10.20.41.99 ($KUBELET_EXTRA_ARGS from /etc/default/kubelet:1) is not assigned to any interface"), "{message}");
    let fix = node_ip["remediation"].as_str().unwrap();
    assert!(fix.contains("in /etc/default/kubelet"), "{fix}");

    // A kubeadm JoinConfiguration (v1beta4 list form) with a dual-stack pair, before the join.
    let tree = kubeadm_tree("kl-join");
    let config = tree.path("/root/join.yaml");
    tree.write(
        "/root/join.yaml",
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\nnodeRegistration:\n  name: worker-41\n  kubeletExtraArgs:\n  - name: node-ip\n    value: 10.20.41.41,fd00:41::41\n",
    );
    let node_ip = tree_check(&ns, &tree, &["--kubeadm-config", config.to_str().unwrap()]);
    assert_eq!(node_ip["status"], "ok", "{node_ip:#}");
    assert_eq!(
        node_ip["evidence"]["node_ips"],
        serde_json::json!(["10.20.41.41", "fd00:41::41"])
    );
    assert!(node_ip["message"]
        .as_str()
        .unwrap()
        .contains("JoinConfiguration kubeadm.k8s.io/v1beta4 in"));
}

#[test]
fn unspecified_node_ips_choose_the_family_and_an_ip_hostname_override_wins() {
    let Some(ns) = worker_namespace("kl-family", true) else {
        return;
    };
    let tree = kubeadm_tree("kl-family");
    tree.write(
        "/etc/default/kubelet",
        "KUBELET_EXTRA_ARGS=\"--node-ip=0.0.0.0\"\n",
    );
    let node_ip = tree_check(&ns, &tree, &[]);
    assert_eq!(
        node_ip["evidence"]["node_ip"], "192.168.77.41",
        "{node_ip:#}"
    );
    assert_eq!(node_ip["evidence"]["step"], "default-route");
    tree.write(
        "/etc/default/kubelet",
        "KUBELET_EXTRA_ARGS=\"--node-ip=::\"\n",
    );
    let node_ip = tree_check(&ns, &tree, &[]);
    assert_eq!(node_ip["evidence"]["node_ip"], "fd00:77::41", "{node_ip:#}");
    tree.write(
        "/etc/default/kubelet",
        "KUBELET_EXTRA_ARGS=\"--hostname-override=10.20.41.41\"\n",
    );
    let node_ip = tree_check(&ns, &tree, &[]);
    assert_eq!(node_ip["evidence"]["step"], "hostname-is-ip", "{node_ip:#}");
    assert_eq!(node_ip["evidence"]["node_ip"], "10.20.41.41");
    assert_eq!(node_ip["status"], "ok");
}

#[test]
fn a_hosts_line_ends_the_lookup_before_a_silent_dns_server_is_asked() {
    let Some(ns) = worker_namespace("kl-hostsfirst", true) else {
        return;
    };
    // The nameserver sits on the node network with no such neighbour: asking it would wait the
    // whole bound. Go's resolver never asks it, because /etc/hosts answers first.
    let _etc = silent_dns_etc(&ns, "127.0.0.1 localhost\n10.20.41.41 worker-41\n");
    let (dns, elapsed) = timed_dns_lookup(&ns);
    assert_eq!(dns["status"], "not_asked", "{dns:#}");
    assert_eq!(
        dns["detail"], "/etc/hosts line 2 answers before DNS would be asked",
        "{dns:#}"
    );
    assert!(
        elapsed < Duration::from_millis(1500),
        "facts took {elapsed:?}"
    );
    let (_, node_ip) = kubelet_check(&ns, &[], true);
    assert_eq!(node_ip["status"], "ok", "{node_ip:#}");
    assert_eq!(node_ip["evidence"]["dns_dependent"], false);

    // DNS listed first: kubelet's resolver asks it before /etc/hosts, so the wait is real, bounded,
    // and said.
    std::fs::write(etc_dir(&ns).join("nsswitch.conf"), "hosts: dns files\n").unwrap();
    let started = Instant::now();
    let (_, node_ip) = kubelet_check(&ns, &[], true);
    assert!(
        started.elapsed() < Duration::from_millis(3500),
        "check took {:?}",
        started.elapsed()
    );
    assert_eq!(node_ip["evidence"]["dns_dependent"], true, "{node_ip:#}");
    assert_eq!(node_ip["status"], "warn", "{node_ip:#}");
}
