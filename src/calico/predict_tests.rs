//! Table-driven tests of the predictor: every trap of calico-node's autodetection, per method and per
//! Calico version.

use super::predict::*;
use crate::facts::testkit::host;
use crate::facts::{Facts, Family};
use crate::profile::calico_version::CalicoVersion;

enum Expect {
    Selected(&'static str, &'static str),
    Failed(&'static str),
    Terminated(&'static str),
    Undetermined,
}

struct Case {
    name: &'static str,
    facts: Facts,
    method: &'static str,
    version: &'static str,
    family: Family,
    expect: Expect,
}

fn node_input<'a>(facts: &'a Facts, kernel: &'a [KernelReach]) -> NodeInput<'a> {
    NodeInput {
        name: facts.host.hostname.to_string(),
        facts,
        internal_ips: InternalIps {
            addresses: vec!["10.20.41.11".into(), "fd00:20::11".into()],
            origin: InternalIpOrigin::Kubectl,
            reason: None,
            dns_dependent: false,
        },
        kernel_reach: kernel,
    }
}

fn run(cases: Vec<Case>) {
    let mut failures = Vec::new();
    for case in cases {
        let version: CalicoVersion = case.version.parse().unwrap();
        let resolutions = [Resolution {
            name: "router.example".into(),
            addresses: Ok(vec!["10.20.41.1".parse().unwrap()]),
        }];
        let model = Model::new(&version, &resolutions);
        let p = predict(
            &model,
            &node_input(&case.facts, &[]),
            case.method,
            case.family,
        );
        let ok = match (&case.expect, &p.verdict) {
            (
                Expect::Selected(i, a),
                Verdict::Selected {
                    interface, address, ..
                },
            ) => interface == i && address.to_string() == *a,
            (Expect::Failed(text), Verdict::Failed { log }) => {
                log.last().map(|l| l.as_str()) == Some(*text)
            }
            (Expect::Terminated(text), Verdict::Terminated { log }) => log == text,
            (Expect::Undetermined, Verdict::Undetermined { .. }) => true,
            _ => false,
        };
        if !ok {
            failures.push(format!(
                "{}: got {:?}\n  trace: {:?}",
                case.name, p.verdict, p.trace
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The incident's worker: node NIC ens192 (10.20.41.41/24), docker0, a compose bridge created last.
fn compose_worker() -> Facts {
    host("worker-41")
        .nic("ens192", &["10.20.41.41/24"])
        .link("docker0", Some("bridge"), &["172.17.0.1/16"])
        .link("br-3f2a1b4c5d6e", Some("bridge"), &["172.18.0.1/16"])
        .route("default", Some("10.20.41.1"), "ens192", None, None)
        .route("10.20.41.0/24", None, "ens192", None, Some("10.20.41.41"))
        .build()
}

fn c(
    name: &'static str,
    facts: Facts,
    method: &'static str,
    version: &'static str,
    expect: Expect,
) -> Case {
    Case {
        name,
        facts,
        method,
        version,
        family: Family::Ipv4,
        expect,
    }
}

use Expect::*;

#[test]
fn first_found_walks_interfaces_backwards_per_version() {
    run(vec![
        c("compose bridge wins on 3.24.1", compose_worker(), "", "3.24.1",
          Selected("br-3f2a1b4c5d6e", "172.18.0.1/16")),
        c("compose bridge wins on 3.24.6", compose_worker(), "first-found", "3.24.6",
          Selected("br-3f2a1b4c5d6e", "172.18.0.1/16")),
        c("compose bridge skipped on 3.25.0", compose_worker(), "first-found", "3.25.0",
          Selected("ens192", "10.20.41.41/24")),
        c("management NIC created after the node NIC wins",
          host("w").nic("eth0", &["10.20.41.5/24"]).nic("eth1", &["192.168.100.5/24"]).build(),
          "first-found", "3.28.0", Selected("eth1", "192.168.100.5/24")),
        c("unanchored lo drops wlo1 before 3.24.3",
          host("w").nic("eth0", &["10.20.41.5/24"]).nic("wlo1", &["192.168.1.9/24"]).build(),
          "", "3.24.2", Selected("eth0", "10.20.41.5/24")),
        c("anchored ^lo keeps wlo1 from 3.24.3",
          host("w").nic("eth0", &["10.20.41.5/24"]).nic("wlo1", &["192.168.1.9/24"]).build(),
          "", "3.24.3", Selected("wlo1", "192.168.1.9/24")),
        c("unanchored veth.* drops ibmveth0 on 3.22",
          host("w").nic("eth0", &["10.20.41.5/24"]).nic("ibmveth0", &["10.9.0.1/24"]).build(),
          "", "3.22.0", Selected("eth0", "10.20.41.5/24")),
        c("nodelocaldns /32 wins before 3.24.6",
          host("w").nic("ens5", &["10.20.41.5/24"]).link("nodelocaldns", Some("dummy"), &["10.96.0.10/32"]).build(),
          "", "3.24.5", Selected("nodelocaldns", "10.96.0.10/32")),
        c("nodelocaldns skipped from 3.24.6",
          host("w").nic("ens5", &["10.20.41.5/24"]).link("nodelocaldns", Some("dummy"), &["10.96.0.10/32"]).build(),
          "", "3.24.6", Selected("ens5", "10.20.41.5/24")),
        c("vxlan.calico skipped from 3.24.4",
          host("w").nic("ens5", &["10.20.41.5/24"]).link("vxlan.calico", Some("vxlan"), &["192.168.7.0/32"]).build(),
          "", "3.24.4", Selected("ens5", "10.20.41.5/24")),
        c("podman0 wins before 3.25",
          host("w").nic("ens5", &["10.20.41.5/24"]).link("podman0", Some("bridge"), &["10.88.0.1/16"]).build(),
          "", "3.24.6", Selected("podman0", "10.88.0.1/16")),
        c("real br-mgmt bridge with the node IP skipped on 3.25+",
          host("w").link("br-mgmt", Some("bridge"), &["10.20.41.5/24"]).build(),
          "", "3.25.0", Failed("Unable to auto-detect an IPv4 address: no valid host interfaces found")),
        c("tailscale CGNAT address is eligible and wins",
          host("w").nic("eth0", &["10.20.41.5/24"]).link("tailscale0", Some("tun"), &["100.101.102.103/32"]).build(),
          "", "3.28.0", Selected("tailscale0", "100.101.102.103/32")),
        c("down interface is still picked",
          host("w").nic("eth0", &["10.20.41.5/24"]).nic("eth1", &["192.168.100.5/24"]).down().build(),
          "", "3.28.0", Selected("eth1", "192.168.100.5/24")),
        c("link-local and loopback-only interfaces are skipped",
          host("w").nic("eth0", &["10.20.41.5/24"]).nic("eth1", &["169.254.3.4/16"]).build(),
          "", "3.28.0", Selected("eth0", "10.20.41.5/24")),
        c("primary before secondary on one interface",
          host("w").nic("eth0", &["10.20.41.5/24", "10.20.41.200/24"]).build(),
          "", "3.28.0", Selected("eth0", "10.20.41.5/24")),
        c("only excluded interfaces: no valid host interfaces",
          host("w").link("docker0", Some("bridge"), &["172.17.0.1/16"]).build(),
          "", "3.28.0", Failed("Unable to auto-detect an IPv4 address: no valid host interfaces found")),
        c("a bridge without IPv4 passes the filter: no valid addresses",
          host("w").link("docker0", Some("bridge"), &["172.17.0.1/16"]).link("kube-bridge", Some("bridge"), &[]).build(),
          "", "3.28.0", Failed("Unable to auto-detect an IPv4 address: no valid IPv4 addresses found on the host interfaces")),
    ]);
}

#[test]
fn interface_regexes_keep_go_traps() {
    let eth30 = || {
        host("w")
            .nic("eth3", &["10.20.41.5/24"])
            .nic("eth30", &["192.168.30.5/24"])
            .build()
    };
    run(vec![
        c("unanchored eth3 matches eth30 (created later)", eth30(), "interface=eth3", "3.28.0",
          Selected("eth30", "192.168.30.5/24")),
        c("anchored ^eth3$ does not", eth30(), "interface=^eth3$", "3.28.0", Selected("eth3", "10.20.41.5/24")),
        c("eth3 matches a VLAN eth3.100",
          host("w").nic("eth3", &["10.20.41.5/24"]).link("eth3.100", Some("vlan"), &["10.100.0.5/24"]).build(),
          "interface=eth3", "3.28.0", Selected("eth3.100", "10.100.0.5/24")),
        c("eth3 matches veth3abc",
          host("w").nic("eth3", &["10.20.41.5/24"]).link("veth3abc", Some("veth"), &["10.1.1.1/30"]).build(),
          "interface=eth3", "3.28.0", Selected("veth3abc", "10.1.1.1/30")),
        c("no eth3 on a node with ens192", compose_worker(), "interface=eth3", "3.28.0",
          Failed("Unable to auto-detect an IPv4 address using interface regexes [eth3]: no valid host interfaces found")),
        c("name matches but no IPv4", host("w").nic("eth1", &["fd00::5/64"]).build(), "interface=eth1", "3.28.0",
          Failed("Unable to auto-detect an IPv4 address using interface regexes [eth1]: no valid IPv4 addresses found on the host interfaces")),
        c("empty regex matches everything, no exclusions", compose_worker(), "interface=", "3.28.0",
          Selected("br-3f2a1b4c5d6e", "172.18.0.1/16")),
        c("trailing comma adds an empty regex", compose_worker(), "interface=ens192,", "3.28.0",
          Selected("br-3f2a1b4c5d6e", "172.18.0.1/16")),
        c("eth{1,2} is split at the comma", host("w").nic("eth1", &["10.20.41.5/24"]).build(),
          "interface=eth{1,2}", "3.28.0",
          Failed("Unable to auto-detect an IPv4 address using interface regexes [eth{1 2}]: no valid host interfaces found")),
        c("leading space is kept", host("w").nic("eth0", &["10.20.41.5/24"]).build(), "interface= eth0", "3.28.0",
          Failed("Unable to auto-detect an IPv4 address using interface regexes [ eth0]: no valid host interfaces found")),
        c("list order is not a priority", host("w").nic("ens192", &["10.20.41.5/24"]).nic("eth0", &["192.168.0.5/24"]).build(),
          "interface=ens192,eth0", "3.28.0", Selected("eth0", "192.168.0.5/24")),
        c("invalid regex is an ordinary failure", compose_worker(), "interface=(ens192", "3.28.0",
          Failed("Unable to auto-detect an IPv4 address using interface regexes [(ens192]: error parsing regexp: missing closing ): `((ens192)`")),
        c("(?<name>) rejected by calico-node built with Go < 1.22", compose_worker(), "interface=(?<n>ens192)", "3.27.0",
          Failed("Unable to auto-detect an IPv4 address using interface regexes [(?<n>ens192)]: error parsing regexp: invalid or unsupported Perl syntax: `(?<`")),
        c("(?<name>) accepted from 3.28", compose_worker(), "interface=(?<n>ens192)", "3.28.0",
          Selected("ens192", "10.20.41.41/24")),
        c("anchored list for the fleet", compose_worker(), "interface=^(eth3|ens192)$", "3.28.0",
          Selected("ens192", "10.20.41.41/24")),
    ]);
}

/// calico-node holds a name as Go bytes and its regexp reads each byte that is not UTF-8 as U+FFFD;
/// the display form's backslash is not in the name.
#[test]
fn names_that_are_not_utf8_match_as_go_sees_them() {
    let node = || {
        host("w")
            .nic("eth0", &["10.20.41.5/24"])
            .link("x", Some("bridge"), &["10.9.9.1/24"])
            .bytes_name(b"n\xff")
            .build()
    };
    let docker = host("w")
        .nic("eth0", &["10.20.41.5/24"])
        .link("x", Some("bridge"), &["172.17.0.1/16"])
        .bytes_name(b"docker\xe2\x82")
        .build();
    run(vec![
        c("dot matches the invalid byte", node(), "interface=^n.$", "3.28.0",
          Selected("n\\xff", "10.9.9.1/24")),
        c("U+FFFD matches the invalid byte", node(), "interface=^n\\x{fffd}$", "3.28.0",
          Selected("n\\xff", "10.9.9.1/24")),
        c("the display form's backslash is not in the name", node(), "interface=xff", "3.28.0",
          Failed("Unable to auto-detect an IPv4 address using interface regexes [xff]: no valid host interfaces found")),
        c("first-found takes it (created last)", node(), "first-found", "3.28.0",
          Selected("n\\xff", "10.9.9.1/24")),
        c("skip-interface by the Go view", node(), "skip-interface=^n\\x{fffd}$", "3.28.0",
          Selected("eth0", "10.20.41.5/24")),
        c("two invalid bytes are two runes to Go", docker.clone(), "interface=^docker..$", "3.28.0",
          Selected("docker\\xe2\\x82", "172.17.0.1/16")),
        c("the default exclusion list skips docker\\xe2\\x82", docker, "first-found", "3.28.0",
          Selected("eth0", "10.20.41.5/24")),
    ]);
}

#[test]
fn skip_interface_adds_to_the_default_list() {
    run(vec![
        c("br- still wins with the 3.24 list", compose_worker(), "skip-interface=eth9", "3.24.1",
          Selected("br-3f2a1b4c5d6e", "172.18.0.1/16")),
        c("user regex skips it", compose_worker(), "skip-interface=^br-.*", "3.24.1", Selected("ens192", "10.20.41.41/24")),
        c("3.25 list skips it", compose_worker(), "skip-interface=eth9", "3.25.0", Selected("ens192", "10.20.41.41/24")),
        c("empty entry excludes everything", compose_worker(), "skip-interface=", "3.28.0",
          Failed("Unable to auto-detect an IPv4 address while excluding []: no valid host interfaces found")),
    ]);
}

#[test]
fn cidr_is_or_without_exclusions() {
    let vip = || {
        host("w")
            .nic("ens192", &["10.20.41.41/24"])
            .link("flannel.1", Some("vxlan"), &["10.20.41.250/32"])
            .build()
    };
    run(vec![
        c("node subnet", compose_worker(), "cidr=10.20.41.0/24", "3.28.0", Selected("ens192", "10.20.41.41/24")),
        c("host bits are masked off", compose_worker(), "cidr=10.20.41.7/24", "3.28.0", Selected("ens192", "10.20.41.41/24")),
        c("a /32 VIP on a later device wins", vip(), "cidr=10.20.41.0/24", "3.28.0", Selected("flannel.1", "10.20.41.250/32")),
        c("order of cidrs is not a preference", compose_worker(), "cidr=10.20.41.0/24,172.18.0.0/16", "3.28.0",
          Selected("br-3f2a1b4c5d6e", "172.18.0.1/16")),
        c("bad prefix", compose_worker(), "cidr=10.20.41.0/33", "3.28.0",
          Failed("Invalid CIDR \"10.20.41.0/33\" for IP autodetection method: cidr=10.20.41.0/33")),
        c("bare IP is not a CIDR", compose_worker(), "cidr=10.20.41.5", "3.28.0",
          Failed("Invalid CIDR \"10.20.41.5\" for IP autodetection method: cidr=10.20.41.5")),
        c("trailing comma gives an empty CIDR", compose_worker(), "cidr=10.20.41.0/24,", "3.28.0",
          Failed("Invalid CIDR \"\" for IP autodetection method: cidr=10.20.41.0/24,")),
        c("no address in the cidr", compose_worker(), "cidr=10.99.0.0/16", "3.28.0",
          Failed("Unable to auto-detect an IPv4 address using interface cidr [10.99.0.0/16]: no valid IPv4 addresses found on the host interfaces")),
    ]);
}

#[test]
fn invalid_methods_terminate() {
    run(vec![
        c(
            "typo without prefix",
            compose_worker(),
            "eth3",
            "3.28.0",
            Terminated("Invalid IP autodetection method: eth3"),
        ),
        c(
            "case matters",
            compose_worker(),
            "First-Found",
            "3.28.0",
            Terminated("Invalid IP autodetection method: First-Found"),
        ),
        c(
            "internal-ip unknown before 3.22",
            compose_worker(),
            "kubernetes-internal-ip",
            "3.21.0",
            Terminated("Invalid IP autodetection method: kubernetes-internal-ip"),
        ),
    ]);
}

#[test]
fn can_reach_follows_routes() {
    let two_nics = || {
        host("w")
            .nic("ens192", &["10.20.41.41/24"])
            .nic("eth1", &["192.168.100.41/24", "192.168.100.250/32"])
            .route("default", Some("192.168.100.1"), "eth1", Some(100), None)
            .route("10.20.41.0/24", None, "ens192", None, None)
            .route("192.168.100.0/24", None, "eth1", None, None)
            .build()
    };
    run(vec![
        c("destination on the node network", two_nics(), "can-reach=10.20.41.1", "3.28.0", Selected("ens192", "10.20.41.41/24")),
        c("default gateway selects the management NIC", two_nics(), "can-reach=8.8.8.8", "3.28.0",
          Selected("eth1", "192.168.100.41/24")),
        c("a local VIP selects itself", two_nics(), "can-reach=192.168.100.250", "3.28.0",
          Selected("eth1", "192.168.100.250/32")),
        c("resolved name", two_nics(), "can-reach=router.example", "3.28.0", Selected("ens192", "10.20.41.41/24")),
        c("unresolved name", two_nics(), "can-reach=unknown.example", "3.28.0", Undetermined),
        c("IPv6 destination for IPv4", two_nics(), "can-reach=2001:db8::1", "3.28.0",
          Failed("Unable to auto-detect IPv4 address by connecting to 2001:db8::1: dial udp4: address 2001:db8::1: no suitable address found")),
        c("no route", host("w").nic("eth0", &["10.0.0.5/24"]).route("10.0.0.0/24", None, "eth0", None, None).build(),
          "can-reach=8.8.8.8", "3.28.0",
          Failed("Unable to auto-detect IPv4 address by connecting to 8.8.8.8: dial udp4 8.8.8.8:80: connect: network is unreachable")),
    ]);
}

#[test]
fn can_reach_prefers_the_live_kernel_answer() {
    let facts = host("w")
        .nic("eth0", &["10.0.0.5/24"])
        .nic("eth1", &["10.1.0.5/24"])
        .build();
    let version: CalicoVersion = "3.28.0".parse().unwrap();
    let model = Model::new(&version, &[]);
    let kernel = [KernelReach {
        destination: "8.8.8.8".parse().unwrap(),
        source: Ok("10.1.0.5".parse().unwrap()),
    }];
    let p = predict(
        &model,
        &node_input(&facts, &kernel),
        "can-reach=8.8.8.8",
        Family::Ipv4,
    );
    assert_eq!(
        p.selected().map(|(i, a)| (i.to_string(), a.to_string())),
        Some(("eth1".into(), "10.1.0.5/24".into()))
    );
    assert!(
        p.trace.iter().any(|t| t.contains("live lookup")),
        "{:?}",
        p.trace
    );
}

#[test]
fn kubernetes_internal_ip_must_be_local() {
    run(vec![
        c(
            "internal IP on the node NIC",
            host("w").nic("ens192", &["10.20.41.11/24"]).build(),
            "kubernetes-internal-ip",
            "3.28.0",
            Selected("ens192", "10.20.41.11/24"),
        ),
        c(
            "internal IP not local",
            compose_worker(),
            "kubernetes-internal-ip",
            "3.28.0",
            Failed("Unable to parse CIDR 10.20.41.11 : invalid CIDR address: 10.20.41.11"),
        ),
    ]);
    let facts = host("w").nic("ens192", &["10.20.41.11/24"]).build();
    let version: CalicoVersion = "3.28.0".parse().unwrap();
    let model = Model::new(&version, &[]);
    let mut node = node_input(&facts, &[]);
    node.internal_ips.addresses = vec!["10.20.41.11".into()];
    let p = predict(&model, &node, "kubernetes-internal-ip", Family::Ipv6);
    assert_eq!(
        p.verdict,
        Verdict::Failed {
            log: vec!["Unable to parse CIDR  : invalid CIDR address: ".into()]
        }
    );
    node.internal_ips.origin = InternalIpOrigin::Unknown;
    let p = predict(&model, &node, "kubernetes-internal-ip", Family::Ipv4);
    assert!(matches!(p.verdict, Verdict::Undetermined { .. }));
}

#[test]
fn ipv6_newest_first_and_ula_eligible() {
    // The kernel lists the newest IPv6 address first; the facts keep that order.
    let facts = host("w")
        .nic(
            "ens192",
            &[
                "10.20.41.41/24",
                "fd00:20::99/64",
                "fd00:20::41/64",
                "fe80::1/64",
            ],
        )
        .build();
    let v6 = |method: &'static str, expect| Case {
        name: method,
        facts: facts.clone(),
        method,
        version: "3.28.0",
        family: Family::Ipv6,
        expect,
    };
    run(vec![
        v6("", Selected("ens192", "fd00:20::99/64")),
        v6("cidr=fd00:20::/64", Selected("ens192", "fd00:20::99/64")),
        v6("interface=^lo$", Failed("Unable to auto-detect an IPv6 address using interface regexes [^lo$]: no valid IPv6 addresses found on the host interfaces")),
    ]);
}

#[test]
fn point_to_point_prefix_depends_on_version() {
    let p2p = || {
        host("w")
            .nic("eth0", &["10.20.41.5/24 peer 10.20.41.1"])
            .build()
    };
    run(vec![
        c(
            "before 3.32: the /24",
            p2p(),
            "",
            "3.31.2",
            Selected("eth0", "10.20.41.5/24"),
        ),
        c(
            "3.32+: host mask",
            p2p(),
            "",
            "3.32.0",
            Selected("eth0", "10.20.41.5/32"),
        ),
    ]);
}

#[test]
fn success_log_lines_are_exact() {
    let facts = compose_worker();
    let version: CalicoVersion = "3.28.0".parse().unwrap();
    let model = Model::new(&version, &[]);
    let node = node_input(&facts, &[]);
    let log = |m: &str| match predict(&model, &node, m, Family::Ipv4).verdict {
        Verdict::Selected { log, .. } => log,
        other => panic!("{m}: {other:?}"),
    };
    assert_eq!(
        log(""),
        "Using autodetected IPv4 address on interface ens192: 10.20.41.41/24"
    );
    assert_eq!(
        log("interface=ens.*"),
        "Using autodetected IPv4 address 10.20.41.41/24 on matching interface ens192"
    );
    assert_eq!(log("skip-interface=docker0"), "Using autodetected IPv4 address on interface ens192: 10.20.41.41/24 while skipping matching interfaces");
    assert_eq!(log("cidr=10.20.41.0/24"), "Using autodetected IPv4 address 10.20.41.41/24 on interface ens192 matching cidrs [10.20.41.0/24]");
    assert_eq!(
        log("can-reach=10.20.41.1"),
        "Using autodetected IPv4 address 10.20.41.41/24, detected by connecting to 10.20.41.1"
    );
}

fn warnings_of(facts: &Facts, method: &str) -> Vec<String> {
    let version: CalicoVersion = "3.28.0".parse().unwrap();
    let model = Model::new(&version, &[]);
    predict(&model, &node_input(facts, &[]), method, Family::Ipv4).warnings
}

#[test]
fn configuration_traps_are_reported() {
    let facts = host("w")
        .nic("eth3", &["10.20.41.5/24"])
        .nic("eth30", &["192.168.30.5/24"])
        .build();
    let w = warnings_of(&facts, "interface=eth3");
    assert!(
        w.iter()
            .any(|w| w.contains("unanchored") && w.contains("eth3, eth30") && w.contains("^eth3$")),
        "{w:?}"
    );
    assert!(warnings_of(&facts, "interface=^eth3$").is_empty());
    let w = warnings_of(&facts, "interface=eth3,");
    assert!(
        w.iter()
            .any(|w| w.contains("empty regex") && w.contains("matches every interface")),
        "{w:?}"
    );
    let w = warnings_of(&facts, "skip-interface=docker0,");
    assert!(
        w.iter().any(|w| w.contains("excludes every interface")),
        "{w:?}"
    );
    let w = warnings_of(&facts, "interface=eth{1,2}");
    assert!(
        w.iter().any(|w| w.contains("comma inside a regex")),
        "{w:?}"
    );
    let w = warnings_of(&facts, "interface= eth3");
    assert!(w.iter().any(|w| w.contains("blanks")), "{w:?}");
}

#[test]
fn second_eligible_address_and_local_can_reach_target_are_reported() {
    let facts = host("w")
        .nic("ens192", &["10.20.41.41/24", "10.20.41.200/24"])
        .route("default", Some("10.20.41.1"), "ens192", None, None)
        .build();
    let w = warnings_of(&facts, "cidr=10.20.41.0/24");
    assert!(
        w.iter()
            .any(|w| w.contains("2 eligible addresses") && w.contains("10.20.41.200/24")),
        "{w:?}"
    );
    let w = warnings_of(&facts, "can-reach=10.20.41.200");
    assert!(
        w.iter().any(|w| w.contains("address of this node")),
        "{w:?}"
    );
}
