//! The cluster-DNS probe against real dnsmasq servers in a network namespace: an answer, NXDOMAIN,
//! an error rcode, nothing listening (ICMP port unreachable) and a silent address (timeout). Each
//! verdict must arrive within the probe's timeout.

use std::net::SocketAddr;
use std::os::fd::AsFd;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nodecheck::probes::dns::query_a;
use nodecheck::probes::{DnsVerdict, PROBE_TIMEOUT};

use crate::util::{netns_unavailable, skip, Netns};

/// Scheduling slack allowed on top of the probe's own timeout.
const MARGIN: Duration = Duration::from_millis(700);

const NAME: &str = "kubernetes.default.svc.cluster.local";

/// A dnsmasq serving in a namespace, killed (by its own pid) on drop.
pub struct Dnsmasq {
    child: Child,
}

impl Dnsmasq {
    /// Starts `dnsmasq` in `ns` on `listen`:53 with extra options.
    pub fn start(ns: &Netns, listen: &str, extra: &[&str]) -> Dnsmasq {
        let listen_arg = format!("--listen-address={listen}");
        let mut args = vec![
            "netns",
            "exec",
            ns.name.as_str(),
            "dnsmasq",
            "--no-daemon",
            "--conf-file=/dev/null",
            "--no-hosts",
            "--no-resolv",
            "--port=53",
            "--bind-interfaces",
            "--pid-file=",
            listen_arg.as_str(),
        ];
        args.extend_from_slice(extra);
        let child = Command::new("ip")
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dnsmasq");
        Dnsmasq { child }
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Why dnsmasq tests cannot run here, if they cannot.
pub fn dnsmasq_unavailable() -> Option<String> {
    if let Some(reason) = netns_unavailable() {
        return Some(reason);
    }
    match Command::new("dnsmasq").arg("--version").output() {
        Ok(o) if o.status.success() => None,
        _ => Some("dnsmasq is not installed (Debian package dnsmasq-base)".into()),
    }
}

/// Runs `f` on a thread that has joined the namespace (only that thread moves).
pub fn in_netns<T: Send>(ns: &Netns, f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        s.spawn(|| {
            let file = std::fs::File::open(format!("/run/netns/{}", ns.name)).expect("netns file");
            nix::sched::setns(file.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
            f()
        })
        .join()
        .expect("netns thread")
    })
}

/// Queries until dnsmasq is up (it answers something other than "refused"), at most 5 s.
fn wait_until_serving(server: SocketAddr) {
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until {
        match query_a(server, NAME, Duration::from_millis(300)) {
            DnsVerdict::NoServer { .. } => std::thread::sleep(Duration::from_millis(50)),
            _ => return,
        }
    }
    panic!("dnsmasq on {server} did not start within 5 s");
}

/// One query, timed; asserts it finished within the timeout plus scheduling slack.
fn timed_query(server: SocketAddr, name: &str) -> DnsVerdict {
    let started = Instant::now();
    let verdict = query_a(server, name, PROBE_TIMEOUT);
    let elapsed = started.elapsed();
    assert!(
        elapsed < PROBE_TIMEOUT + MARGIN,
        "query to {server} took {elapsed:?} (timeout {PROBE_TIMEOUT:?}): {verdict:?}"
    );
    verdict
}

#[test]
fn dnsmasq_answer_nxdomain_refused_no_server_and_silence() {
    if let Some(reason) = dnsmasq_unavailable() {
        return skip(&reason);
    }
    let ns = Netns::new("postboot-dns");
    for addr in ["10.96.0.10/32", "10.96.0.11/32", "10.96.0.12/32"] {
        ns.ip(&["addr", "add", addr, "dev", "lo"]);
    }
    // A link whose far side never answers ARP: packets to 10.99.0.2 vanish (no ICMP error within 3 s).
    ns.ip(&[
        "link", "add", "pbdns0", "type", "veth", "peer", "name", "pbdns1",
    ]);
    ns.ip(&["addr", "add", "10.99.0.1/24", "dev", "pbdns0"]);
    ns.ip(&["link", "set", "pbdns0", "up"]);
    ns.ip(&["link", "set", "pbdns1", "up"]);

    let _answering = Dnsmasq::start(
        &ns,
        "10.96.0.10",
        &["--address=/kubernetes.default.svc.cluster.local/10.96.0.1"],
    );
    let _authoritative = Dnsmasq::start(&ns, "10.96.0.11", &["--local=/cluster.local/"]);
    let answering: SocketAddr = "10.96.0.10:53".parse().unwrap();
    let authoritative: SocketAddr = "10.96.0.11:53".parse().unwrap();

    in_netns(&ns, || {
        wait_until_serving(answering);
        wait_until_serving(authoritative);

        assert_eq!(
            timed_query(answering, NAME),
            DnsVerdict::Answered {
                addresses: vec!["10.96.0.1".parse().unwrap()]
            }
        );
        assert_eq!(timed_query(authoritative, NAME), DnsVerdict::NameMissing);
        // No upstream for names outside its own: dnsmasq refuses them.
        match timed_query(answering, "kubernetes.default.svc.example.org") {
            DnsVerdict::Refused { rcode } => assert_eq!(rcode, "REFUSED"),
            other => panic!("expected REFUSED, got {other:?}"),
        }
        match timed_query("10.96.0.12:53".parse().unwrap(), NAME) {
            DnsVerdict::NoServer { reason } => {
                assert!(reason.contains("ICMP port unreachable"), "{reason}")
            }
            other => panic!("expected no server (refused), got {other:?}"),
        }
        let started = Instant::now();
        match timed_query("10.99.0.2:53".parse().unwrap(), NAME) {
            DnsVerdict::NoServer { reason } => {
                assert!(reason.contains("no answer"), "{reason}");
                assert!(started.elapsed() >= PROBE_TIMEOUT, "gave up early");
            }
            other => panic!("expected no server (timeout), got {other:?}"),
        }
    });
}
