//! The Calico recommendation across a fleet, from the incident's snapshots: worker-41 (node NIC
//! `ens192`, docker0, a compose bridge) and worker-12 (node NIC `eth3`), plus peers derived from them.
//! Peers are built as the peer loader delivers them (`Peer.facts`, `Peer.node`).

use nodecheck::calico::analysis::{analyse_family, FamilyAnalysis, FamilySettings};
use nodecheck::calico::nodes::build_fleet;
use nodecheck::calico::predict::Model;
use nodecheck::facts::{Facts, Family};
use nodecheck::peers::{KubeNode, Peer};
use nodecheck::profile::calico_version::CalicoVersion;

use crate::util::fixture;

fn snapshot(name: &str) -> Facts {
    let text = std::fs::read_to_string(fixture(&format!("incident/{name}.json"))).unwrap();
    nodecheck::facts::load::parse_facts(&text).unwrap()
}

fn peer(facts: Facts) -> Peer {
    Peer {
        name: facts.host.hostname.to_string(),
        source: format!("{}.json", facts.host.hostname),
        facts: Some(Box::new(facts)),
        node: None,
    }
}

fn kube(name: &str, internal_ip: &str, calico: Option<&str>) -> Peer {
    Peer {
        name: name.into(),
        source: "nodes.json".into(),
        facts: None,
        node: Some(Box::new(KubeNode {
            name: name.into(),
            addresses: vec![
                ("InternalIP".into(), internal_ip.into()),
                ("Hostname".into(), name.into()),
            ],
            calico_ipv4_address: calico.map(String::from),
            ..KubeNode::default()
        })),
    }
}

/// worker-12 renamed and renumbered: another eth3 node.
fn eth3_node(name: &str, last_octet: u8) -> Facts {
    let mut f = snapshot("worker-12");
    f.host.hostname = name.into();
    for i in &mut f.interfaces {
        for a in &mut i.addresses {
            if a.address.to_string() == "10.20.41.12" {
                a.address = format!("10.20.41.{last_octet}").parse().unwrap();
            }
        }
    }
    f
}

fn analyse(
    this: &Facts,
    peers: &[Peer],
    version: &str,
    current: Option<&str>,
    cidrs: &[&str],
    extra: &[String],
) -> FamilyAnalysis {
    let version: CalicoVersion = version.parse().unwrap();
    let fleet = build_fleet(this, None, peers, &[]);
    let model = Model::new(&version, &[]);
    let cidrs: Vec<ipnet::IpNet> = cidrs.iter().map(|c| c.parse().unwrap()).collect();
    let settings = FamilySettings {
        current_method: current,
        can_reach: None,
        profile_cidrs: &cidrs,
        extra_methods: extra,
        only_recommendation: false,
        deployed: None,
    };
    analyse_family(&model, &fleet, Family::Ipv4, &settings)
}

#[test]
fn cidr_is_recommended_on_4_of_4_nodes_and_interface_eth3_is_rejected_for_worker_41() {
    let this = snapshot("worker-41");
    let peers = vec![
        peer(snapshot("worker-12")),
        peer(eth3_node("worker-13", 13)),
        peer(eth3_node("worker-14", 14)),
    ];
    let f = analyse(
        &this,
        &peers,
        "3.24.1",
        Some("interface=eth3"),
        &["10.20.41.0/24"],
        &[],
    );
    let chosen = f.recommendation.chosen.as_ref().expect("a recommendation");
    assert_eq!(chosen.method, "cidr=10.20.41.0/24");
    assert_eq!(
        chosen.count_text(),
        "selects the node-network address on 4/4 nodes"
    );
    let current = f
        .methods
        .iter()
        .find(|m| m.labels.contains(&"current".to_string()))
        .unwrap();
    assert_eq!(current.evaluation.good, 3);
    assert_eq!(
        current.evaluation.rejection().unwrap(),
        "`interface=eth3`: no interface matches on worker-41; calico-node would log \"Unable to auto-detect an IPv4 address using interface regexes [eth3]: no valid host interfaces found\" and exit (CrashLoopBackOff on a new node; a node with a stored address keeps that stale address)"
    );
    let first_found = f
        .methods
        .iter()
        .find(|m| m.labels.contains(&"first-found".to_string()))
        .unwrap();
    assert_eq!(
        first_found.evaluation.good, 3,
        "the compose bridge wins on worker-41 with 3.24.1"
    );
}

#[test]
fn same_bridge_address_on_two_nodes_is_a_conflict() {
    let this = snapshot("worker-41");
    let mut twin = snapshot("worker-41");
    twin.host.hostname = "worker-42".into();
    for i in &mut twin.interfaces {
        for a in &mut i.addresses {
            if a.address.to_string() == "10.20.41.41" {
                a.address = "10.20.41.42".parse().unwrap();
            }
        }
    }
    let f = analyse(
        &this,
        &[peer(twin)],
        "3.24.1",
        None,
        &["10.20.41.0/24"],
        &[],
    );
    let first_found = &f.methods[0].evaluation;
    let second = &first_found.nodes[1];
    assert_eq!(
        second.outcome.log[1],
        "Calico node 'worker-41' is already using the IPv4 address 172.18.0.1."
    );
    assert!(
        second
            .problem
            .as_ref()
            .unwrap()
            .contains("address conflict"),
        "{:?}",
        second.problem
    );
}

#[test]
fn can_reach_the_gateway_when_cidr_and_node_ip_do_not_hold() {
    // A keepalived VIP of the node subnet on a later device breaks cidr= on worker-12; kubectl says
    // worker-41's InternalIP is the bridge address (a wrong --node-ip), breaking kubernetes-internal-ip.
    let this = snapshot("worker-41");
    let mut vip = snapshot("worker-12");
    let mut extra = vip.interfaces[1].clone();
    extra.index = 9;
    extra.name = "kube-vip0".into();
    extra.kind = Some("dummy".into());
    extra.addresses.truncate(1);
    extra.addresses[0].address = "10.20.41.250".parse().unwrap();
    extra.addresses[0].prefix_len = 32;
    vip.interfaces.push(extra);
    let peers = vec![
        peer(vip),
        kube("worker-41", "172.18.0.1", Some("172.18.0.1/16")),
    ];
    let anchored = vec!["interface=^(ens192|eth3)$".to_string()];
    let f = analyse(&this, &peers, "3.28.0", None, &["10.20.41.0/24"], &anchored);
    let chosen = f.recommendation.chosen.as_ref().expect("a recommendation");
    assert_eq!(
        chosen.method, "can-reach=10.20.41.1",
        "the default gateway, on the node network and on no node"
    );
    assert_eq!(
        chosen.count_text(),
        "selects the node-network address on 2/2 nodes"
    );
    assert!(
        f.recommendation
            .warnings
            .iter()
            .any(|w| w.starts_with("verified from the saved routes of worker-41, worker-12")),
        "{:?}",
        f.recommendation.warnings
    );
    let listed = f
        .methods
        .iter()
        .find(|m| m.evaluation.method == anchored[0])
        .unwrap();
    assert!(listed.evaluation.works_everywhere());
    let reasons: Vec<&str> = f
        .recommendation
        .rejected
        .iter()
        .map(|r| r.reason.as_str())
        .collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("10.20.41.250/32") && r.contains("kube-vip0")),
        "{reasons:#?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("`kubernetes-internal-ip`") && r.contains("172.18.0.1/16")),
        "{reasons:#?}"
    );
    // The stored (wrong) address shows what a failing method would leave in place.
    let failing = analyse(
        &this,
        &peers,
        "3.28.0",
        Some("interface=eth3"),
        &["10.20.41.0/24"],
        &[],
    );
    let here = &failing.methods[0].evaluation.nodes[0];
    assert_eq!(
        here.outcome.log.last().unwrap(),
        "Autodetection of IPv4 address failed, keeping existing value: 172.18.0.1/16"
    );
}

#[test]
fn peers_known_only_to_kubectl_are_listed_not_counted() {
    let this = snapshot("worker-41");
    let peers = vec![
        peer(snapshot("worker-12")),
        kube("worker-99", "10.20.41.99", None),
    ];
    let fleet = build_fleet(&this, None, &peers, &[]);
    assert_eq!(fleet.nodes.len(), 2);
    assert_eq!(fleet.without_facts, vec!["worker-99".to_string()]);
}

#[test]
fn this_node_s_kubernetes_view_gives_its_internal_ip_and_stored_address() {
    let this = snapshot("worker-41");
    let view = kube("worker-41", "10.20.41.41", Some("172.18.0.1/16"));
    let fleet = build_fleet(&this, view.node.as_deref(), &[], &[]);
    let here = &fleet.nodes[0];
    assert_eq!(
        here.input.internal_ips.addresses,
        vec!["10.20.41.41".to_string()]
    );
    assert_eq!(here.stored_address(Family::Ipv4), Some("172.18.0.1/16"));
    // Without it, kubelet's default (the default-route interface's address) is assumed.
    let fleet = build_fleet(&this, None, &[], &[]);
    assert_eq!(
        fleet.nodes[0].input.internal_ips.addresses,
        vec!["10.20.41.41".to_string()]
    );
    assert_eq!(fleet.nodes[0].stored_address(Family::Ipv4), None);
}
