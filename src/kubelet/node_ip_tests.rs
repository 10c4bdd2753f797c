//! Table tests of the node-address model: the situations kubelet's own `NodeAddress` tests cover
//! without a cloud provider (a single, dual-stack, preferred-IPv6 and invalid `--node-ip`; a
//! hostname that is an IP; lookups preferring a family; the default-route fallback), re-expressed
//! over facts snapshots, plus the resolver-order and route-file details kubelet inherits.

use std::net::IpAddr;

use super::node_ip::{predict_node_ip, Step};
use crate::facts::kubelet::{
    DnsLookup, DnsLookupStatus, FlagValue, HostsEntry, KubeletFacts, KubeletFlags, NameLookup,
};
use crate::facts::testkit::host;
use crate::facts::Facts;

fn flag(value: &str) -> Option<FlagValue> {
    Some(FlagValue {
        value: value.into(),
        source: "/etc/default/kubelet:1".into(),
    })
}

fn no_dns() -> DnsLookup {
    DnsLookup {
        status: DnsLookupStatus::NoSuchName,
        server: Some("10.0.0.2:53".into()),
        query_name: None,
        addresses: Vec::new(),
        detail: None,
    }
}

fn dns(status: DnsLookupStatus, addresses: &[&str]) -> DnsLookup {
    DnsLookup {
        status,
        server: Some("10.0.0.2:53".into()),
        query_name: Some("worker-41.lab".into()),
        addresses: addresses.iter().map(|a| a.parse().unwrap()).collect(),
        detail: None,
    }
}

fn lookup(hosts: &[(usize, &str)], dns: DnsLookup, nsswitch: Option<&str>) -> NameLookup {
    NameLookup {
        name: "worker-41".into(),
        nsswitch_hosts: nsswitch.map(|s| s.split_whitespace().map(String::from).collect()),
        hosts_file: hosts
            .iter()
            .map(|(line, a)| HostsEntry {
                line: *line,
                address: a.parse().unwrap(),
            })
            .collect(),
        hosts_file_error: None,
        dns,
    }
}

/// worker-41: ens192 carries the node network (10.20.41.41, fd00:41::41), eth0 the management
/// network with the IPv4 and IPv6 default routes, docker0 a bridge.
fn worker(flags: KubeletFlags, name_lookup: Option<NameLookup>) -> Facts {
    let mut facts = host("worker-41")
        .nic(
            "eth0",
            &["192.168.1.41/24", "2001:db8::41/64", "fe80::1/64"],
        )
        .nic("ens192", &["10.20.41.41/24", "fd00:41::41/64"])
        .link("docker0", Some("bridge"), &["172.17.0.1/16"])
        .route("default", Some("192.168.1.1"), "eth0", Some(100), None)
        .route("default", Some("2001:db8::1"), "eth0", None, None)
        .build();
    let node_name = flags
        .hostname_override
        .as_ref()
        .map(|f| f.value.clone())
        .unwrap_or_else(|| "worker-41".into());
    facts.kubelet = Some(Box::new(KubeletFacts {
        unit: None,
        config_file: None,
        kubeadm_config: None,
        flags,
        node_name,
        name_lookup,
    }));
    facts
}

fn ips(list: &[&str]) -> Vec<IpAddr> {
    list.iter().map(|a| a.parse().unwrap()).collect()
}

/// One row of kubelet's situations; a row names only what it sets (no flags, no lookup and no
/// error by default).
struct Case {
    name: &'static str,
    node_ip: Option<&'static str>,
    hostname_override: Option<&'static str>,
    lookup: Option<NameLookup>,
    want: &'static [&'static str],
    step: Step,
    error_contains: Option<&'static str>,
}

impl Default for Case {
    fn default() -> Case {
        Case {
            name: "",
            node_ip: None,
            hostname_override: None,
            lookup: None,
            want: &[],
            step: Step::DefaultRoute,
            error_contains: None,
        }
    }
}

#[test]
fn kubelet_node_address_cases() {
    let cases = vec![
        Case {
            name: "single --node-ip",
            node_ip: Some("10.20.41.41"),
            want: &["10.20.41.41"],
            step: Step::NodeIp,
            ..Case::default()
        },
        Case {
            name: "dual-stack --node-ip, IPv4 first",
            node_ip: Some("10.20.41.41,fd00:41::41"),
            want: &["10.20.41.41", "fd00:41::41"],
            step: Step::NodeIp,
            ..Case::default()
        },
        Case {
            name: "dual-stack --node-ip, IPv6 first",
            node_ip: Some("fd00:41::41,10.20.41.41"),
            want: &["fd00:41::41", "10.20.41.41"],
            step: Step::NodeIp,
            ..Case::default()
        },
        Case {
            name: "--node-ip is loopback",
            node_ip: Some("127.0.0.1"),
            want: &[],
            step: Step::NodeIp,
            error_contains: Some("loopback"),
            ..Case::default()
        },
        Case {
            name: "--node-ip is link-local",
            node_ip: Some("fe80::1"),
            want: &[],
            step: Step::NodeIp,
            error_contains: Some("link-local"),
            ..Case::default()
        },
        Case {
            name: "--node-ip is multicast",
            node_ip: Some("224.0.0.1"),
            want: &[],
            step: Step::NodeIp,
            error_contains: Some("multicast"),
            ..Case::default()
        },
        Case {
            name: "--node-ip is not on this host",
            node_ip: Some("10.20.41.99"),
            want: &[],
            step: Step::NodeIp,
            error_contains: Some("not assigned to any interface"),
            ..Case::default()
        },
        Case {
            name: "dual-stack --node-ip with an invalid secondary",
            node_ip: Some("10.20.41.41,::1"),
            want: &[],
            step: Step::NodeIp,
            error_contains: Some("loopback"),
            ..Case::default()
        },
        Case {
            name: "two IPv4 addresses are not a dual-stack pair",
            node_ip: Some("10.20.41.41,192.168.1.41"),
            want: &[],
            step: Step::NodeIp,
            error_contains: Some("dual-stack pair"),
            ..Case::default()
        },
        Case {
            name: "--node-ip that is not an address",
            node_ip: Some("ens192"),
            want: &[],
            step: Step::NodeIp,
            error_contains: Some("not an IP address"),
            ..Case::default()
        },
        Case {
            name: "--node-ip with leading zeros parses as Go's sloppy parser does",
            node_ip: Some("010.020.041.041"),
            want: &["10.20.41.41"],
            step: Step::NodeIp,
            ..Case::default()
        },
        Case {
            name: "hostname override that is an IP, not validated",
            hostname_override: Some("10.99.0.1"),
            want: &["10.99.0.1"],
            step: Step::HostnameIsIp,
            ..Case::default()
        },
        Case {
            name: "lookup: /etc/hosts maps the name to the node NIC, not the default route's",
            lookup: Some(lookup(&[(2, "10.20.41.41")], no_dns(), None)),
            want: &["10.20.41.41"],
            step: Step::Lookup,
            ..Case::default()
        },
        Case {
            name: "lookup: IPv6 first in /etc/hosts, IPv4 preferred",
            lookup: Some(lookup(
                &[(3, "fd00:41::41"), (4, "10.20.41.41")],
                no_dns(),
                None,
            )),
            want: &["10.20.41.41"],
            step: Step::Lookup,
            ..Case::default()
        },
        Case {
            name: "lookup with --node-ip=:: prefers IPv6",
            node_ip: Some("::"),
            lookup: Some(lookup(
                &[(3, "10.20.41.41"), (4, "fd00:41::41")],
                no_dns(),
                None,
            )),
            want: &["fd00:41::41"],
            step: Step::Lookup,
            ..Case::default()
        },
        Case {
            name: "lookup: only IPv6 is valid, IPv4 preferred: the IPv6 one",
            lookup: Some(lookup(
                &[(2, "127.0.1.1"), (3, "fd00:41::41")],
                no_dns(),
                None,
            )),
            want: &["fd00:41::41"],
            step: Step::Lookup,
            ..Case::default()
        },
        Case {
            name: "lookup: only 127.0.1.1: the default route decides",
            lookup: Some(lookup(&[(2, "127.0.1.1")], no_dns(), None)),
            want: &["192.168.1.41"],
            step: Step::DefaultRoute,
            ..Case::default()
        },
        Case {
            name: "lookup: an address not on this host is skipped",
            lookup: Some(lookup(&[(2, "10.20.41.99")], no_dns(), None)),
            want: &["192.168.1.41"],
            step: Step::DefaultRoute,
            ..Case::default()
        },
        Case {
            name: "lookup: a docker bridge address is on this host, so kubelet takes it",
            lookup: Some(lookup(&[(2, "172.17.0.1")], no_dns(), None)),
            want: &["172.17.0.1"],
            step: Step::Lookup,
            ..Case::default()
        },
        Case {
            name: "lookup: /etc/hosts answers, so DNS is never asked",
            lookup: Some(lookup(
                &[(2, "127.0.1.1")],
                dns(DnsLookupStatus::Answered, &["10.20.41.41"]),
                Some("files dns"),
            )),
            want: &["192.168.1.41"],
            step: Step::DefaultRoute,
            ..Case::default()
        },
        Case {
            name: "lookup: DNS answers when /etc/hosts has no line",
            lookup: Some(lookup(
                &[],
                dns(DnsLookupStatus::Answered, &["10.20.41.41"]),
                Some("files myhostname dns"),
            )),
            want: &["10.20.41.41"],
            step: Step::Lookup,
            ..Case::default()
        },
        Case {
            name: "lookup: dns before files in nsswitch.conf",
            lookup: Some(lookup(
                &[(2, "172.17.0.1")],
                dns(DnsLookupStatus::Answered, &["10.20.41.41"]),
                Some("dns files"),
            )),
            want: &["10.20.41.41"],
            step: Step::Lookup,
            ..Case::default()
        },
        Case {
            name: "lookup: files only in nsswitch.conf ignores DNS",
            lookup: Some(lookup(
                &[],
                dns(DnsLookupStatus::Answered, &["10.20.41.41"]),
                Some("files"),
            )),
            want: &["192.168.1.41"],
            step: Step::DefaultRoute,
            ..Case::default()
        },
        Case {
            name: "--node-ip=0.0.0.0 is the same as no --node-ip",
            node_ip: Some("0.0.0.0"),
            lookup: Some(lookup(&[], no_dns(), None)),
            want: &["192.168.1.41"],
            step: Step::DefaultRoute,
            ..Case::default()
        },
        Case {
            name: "--node-ip=:: takes the IPv6 default route",
            node_ip: Some("::"),
            lookup: Some(lookup(&[], no_dns(), None)),
            want: &["2001:db8::41"],
            step: Step::DefaultRoute,
            ..Case::default()
        },
    ];
    for case in cases {
        let flags = KubeletFlags {
            node_ip: case.node_ip.and_then(flag),
            hostname_override: case.hostname_override.and_then(flag),
            cloud_provider: None,
            ..KubeletFlags::default()
        };
        let facts = worker(flags, case.lookup);
        let got = predict_node_ip(&facts);
        assert_eq!(got.addresses, ips(case.want), "{}: {got:#?}", case.name);
        assert_eq!(got.step, case.step, "{}: {got:#?}", case.name);
        match case.error_contains {
            Some(text) => assert!(
                got.error.as_deref().is_some_and(|e| e.contains(text)),
                "{}: {:?}",
                case.name,
                got.error
            ),
            None => assert_eq!(got.error, None, "{}", case.name),
        }
    }
}

#[test]
fn dns_dependence_and_rejected_mappings_are_flagged() {
    let facts = worker(
        KubeletFlags::default(),
        Some(lookup(
            &[],
            dns(DnsLookupStatus::Answered, &["10.20.41.41"]),
            None,
        )),
    );
    let got = predict_node_ip(&facts);
    assert!(got.dns_dependent);
    assert!(
        got.reason.starts_with(
            "DNS (10.0.0.2:53 answered for worker-41.lab) maps worker-41 to 10.20.41.41"
        ),
        "{}",
        got.reason
    );

    let silent = worker(
        KubeletFlags::default(),
        Some(lookup(&[], dns(DnsLookupStatus::Timeout, &[]), None)),
    );
    let got = predict_node_ip(&silent);
    assert_eq!(got.step, Step::DefaultRoute);
    assert!(got.dns_dependent);

    let debian = worker(
        KubeletFlags::default(),
        Some(lookup(&[(2, "127.0.1.1")], no_dns(), None)),
    );
    let got = predict_node_ip(&debian);
    assert!(got.rejected_mapping_only);
    assert!(!got.dns_dependent);
    assert!(
        got.trace
            .iter()
            .any(|t| t == "/etc/hosts line 2: 127.0.1.1 skipped (loopback)"),
        "{:?}",
        got.trace
    );
}

#[test]
fn no_route_no_mapping_means_no_address() {
    let mut facts = host("worker-41").nic("ens192", &["10.20.41.41/24"]).build();
    facts.kubelet = Some(Box::new(KubeletFacts {
        unit: None,
        config_file: None,
        kubeadm_config: None,
        flags: KubeletFlags::default(),
        node_name: "worker-41".into(),
        name_lookup: Some(lookup(&[], no_dns(), None)),
    }));
    let got = predict_node_ip(&facts);
    assert_eq!(got.step, Step::None);
    assert!(got.addresses.is_empty());
    assert!(got.error.unwrap().contains("no default routes found"));
}

#[test]
fn default_route_rules_follow_the_route_files() {
    // An IPv6 default route without a gateway is not in kubelet's list; an interface without a
    // global address hands over to a global address on lo (unnumbered BGP setups).
    let mut facts = host("worker-41")
        .nic("eth0", &["fe80::5/64"])
        .route("::/0", None, "eth0", None, None)
        .route("default", Some("169.254.0.1"), "eth0", None, None)
        .build();
    let borrowed = facts.interfaces[1].addresses[0].clone();
    facts.interfaces[0].addresses.push(borrowed);
    facts.interfaces[0].addresses[2].address = "10.255.0.7".parse().unwrap();
    facts.kubelet = Some(Box::new(KubeletFacts {
        unit: None,
        config_file: None,
        kubeadm_config: None,
        flags: KubeletFlags::default(),
        node_name: "worker-41".into(),
        name_lookup: None,
    }));
    let got = predict_node_ip(&facts);
    assert_eq!(got.addresses, ips(&["10.255.0.7"]), "{got:#?}");
    assert_eq!(got.step, Step::DefaultRoute);

    // A default route through a down interface gives nothing; with no other route kubelet fails.
    let down = host("w")
        .nic("eth0", &["192.168.1.5/24"])
        .down()
        .route("default", Some("192.168.1.1"), "eth0", None, None)
        .build();
    let mut down = down;
    down.kubelet = facts.kubelet.clone();
    let got = predict_node_ip(&down);
    assert_eq!(got.step, Step::None);
    assert!(got
        .error
        .unwrap()
        .contains("unable to select an IP from default routes"));
}

#[test]
fn a_cloud_provider_decides_and_missing_inputs_are_assumed() {
    let mut facts = worker(
        KubeletFlags {
            cloud_provider: flag("external"),
            ..KubeletFlags::default()
        },
        None,
    );
    let got = predict_node_ip(&facts);
    assert_eq!(got.step, Step::CloudProvider);
    assert!(got.addresses.is_empty());
    facts.kubelet = None;
    let got = predict_node_ip(&facts);
    assert_eq!(got.addresses, ips(&["192.168.1.41"]));
    assert!(got.assumed.is_some());
}

/// An /etc/hosts nodecheck could not read (over its cap) may hold the line that decides for
/// kubelet: the verdict still follows the other steps, and says it is uncertain; with `hosts:`
/// not reading files, the unread file changes nothing.
#[test]
fn an_unread_hosts_file_makes_the_lookup_verdict_uncertain() {
    let mut unread = lookup(&[], no_dns(), None);
    unread.hosts_file_error = Some("larger than 268435456 bytes".into());
    let p = predict_node_ip(&worker(KubeletFlags::default(), Some(unread.clone())));
    assert_eq!(p.step, Step::DefaultRoute);
    let assumed = p.assumed.expect("the verdict says it is uncertain");
    assert!(
        assumed.contains("/etc/hosts could not be read"),
        "{assumed}"
    );

    unread.nsswitch_hosts = Some(vec!["dns".into()]);
    let p = predict_node_ip(&worker(KubeletFlags::default(), Some(unread)));
    assert_eq!(p.assumed, None);
}
