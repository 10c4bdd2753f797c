//! Parity and uniqueness checks judged from the incident fleet's snapshots (tests/fixtures/fleet),
//! changed one fact at a time.

use pretty_assertions::assert_eq;
use serde_json::json;

use super::evaluate;
use crate::checks::testing::find;
use crate::checks::{CheckResult, Context, Phase, Status};
use crate::facts::Facts;
use crate::peers::{KubeNode, Peer};
use crate::profile::{KernelParity, Profile};

fn snapshot(name: &str) -> Facts {
    let text = match name {
        "worker-1" => include_str!("../../../tests/fixtures/fleet/incident/worker-1.json"),
        "worker-2" => include_str!("../../../tests/fixtures/fleet/incident/worker-2.json"),
        "worker-3" => include_str!("../../../tests/fixtures/fleet/incident/worker-3.json"),
        "worker-41" => include_str!("../../../tests/fixtures/fleet/incident/worker-41.json"),
        other => panic!("no fixture {other}"),
    };
    serde_json::from_str(text).expect("fixture snapshot parses")
}

fn peer(facts: Facts) -> Peer {
    Peer {
        name: facts.host.hostname.to_string(),
        source: format!("{}.json", facts.host.hostname),
        facts: Some(Box::new(facts)),
        node: None,
    }
}

fn kube_peer(name: &str, kubelet: &str, calico: &str) -> Peer {
    Peer {
        name: name.into(),
        source: "nodes.json".into(),
        facts: None,
        node: Some(Box::new(kube(name, kubelet, calico))),
    }
}

fn kube(name: &str, kubelet: &str, calico: &str) -> KubeNode {
    KubeNode {
        name: name.into(),
        kubelet_version: Some(kubelet.into()),
        calico_ipv4_address: Some(calico.into()),
        addresses: vec![(
            "InternalIP".into(),
            calico.split('/').next().unwrap().into(),
        )],
        ..Default::default()
    }
}

fn profile(yaml: &str) -> Profile {
    crate::profile::load::parse_profile(yaml, "test").expect("test profile")
}

fn node_network_profile() -> Profile {
    profile("node_network:\n  cidrs: [10.20.41.0/24]\n")
}

fn judge(this: &Facts, peers: &[Peer], profile: &Profile) -> Vec<CheckResult> {
    judge_with(this, peers, profile, None)
}

fn judge_with(
    this: &Facts,
    peers: &[Peer],
    profile: &Profile,
    this_node_kube: Option<&KubeNode>,
) -> Vec<CheckResult> {
    evaluate(&Context {
        facts: this,
        profile,
        phase: Phase::PreJoin,
        peers,
        baseline: None,
        live: None,
        this_node_kube,
        calico_deployed: None,
    })
}

fn incident_peers() -> Vec<Peer> {
    ["worker-1", "worker-2", "worker-3"]
        .map(|n| peer(snapshot(n)))
        .to_vec()
}

#[test]
fn no_peers_no_parity_results() {
    assert!(judge(&snapshot("worker-1"), &[], &node_network_profile()).is_empty());
}

#[test]
fn every_check_id_is_reported_in_order() {
    let results = judge(
        &snapshot("worker-41"),
        &incident_peers(),
        &node_network_profile(),
    );
    let ids: Vec<&str> = results.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "Parity-KernelRelease",
            "Parity-OsImage",
            "Parity-IPv6",
            "Parity-NodeNicName",
            "Parity-NodeNicMtu",
            "Parity-ContainerRuntime",
            "Parity-KubeletVersion",
            "Parity-KubeletNodeIP",
            "Parity-CalicoAddress",
            "Unique-Hostname",
            "Unique-MachineId",
            "Unique-ProductUuid",
            "Unique-NodeNicMac",
            "Unique-NodeAddress",
        ]
    );
    let status = |id| find(&results, id).status;
    // The incident: same kernel, same IPv6, same MTU; only the NIC name differs.
    assert_eq!(status("Parity-KernelRelease"), Status::Ok);
    assert_eq!(status("Parity-IPv6"), Status::Ok);
    assert_eq!(status("Parity-NodeNicMtu"), Status::Ok);
    assert_eq!(status("Parity-NodeNicName"), Status::Fail);
    // No node list: nothing to say about kubelets or Calico's recorded address.
    assert_eq!(status("Parity-KubeletVersion"), Status::Skip);
    assert_eq!(status("Parity-CalicoAddress"), Status::Skip);
    // Snapshots of schema version 1 carry no kubelet inputs.
    assert_eq!(status("Parity-KubeletNodeIP"), Status::Skip);
    for id in ids.iter().filter(|id| id.starts_with("Unique-")) {
        assert_eq!(status(id), Status::Ok, "{id}");
    }
}

#[test]
fn the_incident_worker_is_named_as_the_nic_name_outlier() {
    let results = judge(
        &snapshot("worker-41"),
        &incident_peers(),
        &node_network_profile(),
    );
    let nic = find(&results, "Parity-NodeNicName");
    assert_eq!(nic.status, Status::Fail);
    assert_eq!(
        nic.message,
        "this node's node NIC name is ens192 (en* predictable naming), the majority's eth3 (eth* \
         kernel naming); nodes by value: eth3 (eth* kernel naming): worker-1, worker-2, worker-3; \
         ens192 (en* predictable naming): worker-41 (this node)"
    );
    assert_eq!(
        nic.evidence["groups"],
        json!([
            {"value": "eth3 (eth* kernel naming)", "count": 3, "nodes": ["worker-1", "worker-2", "worker-3"]},
            {"value": "ens192 (en* predictable naming)", "count": 1, "nodes": ["worker-41 (this node)"]},
        ])
    );
    assert_eq!(nic.evidence["majority"], "eth3 (eth* kernel naming)");
    let fix = nic.remediation.as_deref().unwrap();
    assert!(
        fix.contains("rename ens192 to eth3")
            && fix.contains("MACAddress=52:54:00:0b:41:03")
            && fix.contains("IP_AUTODETECTION_METHOD=cidr=10.20.41.0/24"),
        "{fix}"
    );
}

#[test]
fn a_healthy_node_warns_about_the_peer_that_differs() {
    let mut peers = incident_peers();
    peers[0] = peer(snapshot("worker-41"));
    let results = judge(&snapshot("worker-1"), &peers, &node_network_profile());
    let nic = find(&results, "Parity-NodeNicName");
    assert_eq!(nic.status, Status::Warn);
    assert!(
        nic.message.starts_with(
            "this node's node NIC name is the majority's (eth3 (eth* kernel naming)), but peers differ"
        ) && nic.message.ends_with("ens192 (en* predictable naming): worker-41"),
        "{}",
        nic.message
    );
}

#[test]
fn without_node_network_cidrs_the_default_route_nic_is_the_node_nic() {
    let results = judge(&snapshot("worker-41"), &incident_peers(), &profile("{}"));
    assert_eq!(
        find(&results, "Parity-NodeNicName").evidence["this_node"],
        "ens192 (en* predictable naming)"
    );
}

fn with_kernel(name: &str, release: &str) -> Facts {
    let mut facts = snapshot(name);
    facts.host.kernel_release = release.into();
    facts
}

#[test]
fn kernel_parity_follows_the_profile_policy() {
    let peers = vec![
        peer(with_kernel("worker-2", "5.15.0-89-generic")),
        peer(snapshot("worker-3")),
        peer(with_kernel("worker-41", "6.8.0-40-generic")),
    ];
    let this = snapshot("worker-1");
    let with_policy = |policy: &str| {
        let results = judge(
            &this,
            &peers,
            &profile(&format!("kernel:\n  parity: {policy}\n")),
        );
        find(&results, "Parity-KernelRelease").clone()
    };
    let exact = with_policy("exact");
    // 5.15.0-91: this node and worker-3; no strict majority among four.
    assert_eq!(exact.status, Status::Fail);
    assert_eq!(
        exact.message,
        "kernel release differs and no value has a majority; this node's is 5.15.0-91-generic; \
         nodes by value: 5.15.0-91-generic: worker-1 (this node), worker-3; 5.15.0-89-generic: \
         worker-2; 6.8.0-40-generic: worker-41"
    );
    let minor = with_policy("same-minor");
    assert_eq!(minor.status, Status::Warn);
    assert_eq!(
        minor.message,
        "this node's kernel release is the majority's (5.15.x), but peers differ; nodes by value: \
         5.15.x: worker-1 (this node), worker-2, worker-3; 6.8.x: worker-41"
    );
    assert_eq!(
        minor.evidence["releases"],
        json!([
            {"value": "5.15.0-91-generic", "count": 2, "nodes": ["worker-1 (this node)", "worker-3"]},
            {"value": "5.15.0-89-generic", "count": 1, "nodes": ["worker-2"]},
            {"value": "6.8.0-40-generic", "count": 1, "nodes": ["worker-41"]},
        ])
    );
    assert_eq!(with_policy("same-major").status, Status::Warn);
    assert_eq!(with_policy("ignore").status, Status::Skip);
    // The default policy is same-minor, and a 6.8 node among 5.15 ones fails on itself.
    let results = judge(
        &with_kernel("worker-41", "6.8.0-40-generic"),
        &incident_peers(),
        &profile("{}"),
    );
    assert_eq!(KernelParity::default(), KernelParity::SameMinor);
    let kernel = find(&results, "Parity-KernelRelease");
    assert_eq!(kernel.status, Status::Fail);
    assert!(
        kernel.message.starts_with(
            "this node's kernel release is 6.8.x, the majority's 5.15.x; nodes by value"
        ),
        "{}",
        kernel.message
    );
}

#[test]
fn ipv6_state_off_in_kernel_and_disabled_on_the_nic_are_told_apart() {
    let mut nic_off = snapshot("worker-3");
    nic_off.interfaces[1].ipv6_disabled = Some(true);
    let mut kernel_off = snapshot("worker-41");
    kernel_off.ipv6.disabled_on_cmdline = true;
    kernel_off.ipv6.proc_present = false;
    for interface in &mut kernel_off.interfaces {
        interface.ipv6_disabled = None;
    }
    let mut global = snapshot("worker-2");
    global.interfaces[1].addresses.push(
        serde_json::from_value(json!({
            "family": "ipv6", "address": "2001:db8:41::12", "prefix_len": 64, "scope": "global", "flags": []
        }))
        .unwrap(),
    );
    let results = judge(
        &snapshot("worker-1"),
        &[peer(global), peer(nic_off), peer(kernel_off)],
        &node_network_profile(),
    );
    let ipv6 = find(&results, "Parity-IPv6");
    assert_eq!(ipv6.status, Status::Fail);
    assert_eq!(
        ipv6.evidence["groups"],
        json!([
            {"value": "on, no global address, no default route", "count": 1, "nodes": ["worker-1 (this node)"]},
            {"value": "on, a global address, no default route", "count": 1, "nodes": ["worker-2"]},
            {"value": "disabled on the node NIC", "count": 1, "nodes": ["worker-3"]},
            {"value": "off in the kernel", "count": 1, "nodes": ["worker-41"]},
        ])
    );
}

#[test]
fn mtu_outlier_is_named_with_its_mtu() {
    let mut jumbo = snapshot("worker-2");
    jumbo.interfaces[1].mtu = 9000;
    let results = judge(
        &snapshot("worker-1"),
        &[peer(jumbo), peer(snapshot("worker-3"))],
        &node_network_profile(),
    );
    let mtu = find(&results, "Parity-NodeNicMtu");
    assert_eq!(mtu.status, Status::Warn);
    assert!(mtu
        .message
        .ends_with("1500: worker-1 (this node), worker-3; 9000: worker-2"));
    assert!(mtu.remediation.as_deref().unwrap().contains("MTU to 1500"));
}

#[test]
fn a_cloned_image_shares_machine_id_mac_and_address() {
    let this = snapshot("worker-1");
    // worker-5 was cloned from worker-1's disk and VM: same machine-id, MAC and address.
    let mut clone = snapshot("worker-1");
    clone.host.hostname = "worker-5".into();
    clone.host.product_uuid = Some("4C4C4544-0035-3210-8052-B3C04F503132".into());
    // worker-2 and worker-3 share a product_uuid (a copied VM definition).
    let mut w3 = snapshot("worker-3");
    w3.host.product_uuid = snapshot("worker-2").host.product_uuid;
    let peers = vec![peer(snapshot("worker-2")), peer(w3), peer(clone)];
    let results = judge(&this, &peers, &node_network_profile());
    let machine_id = find(&results, "Unique-MachineId");
    assert_eq!(machine_id.status, Status::Fail);
    assert_eq!(
        machine_id.message,
        "this node's machine-id 6f1c0b7e3a9d4c2e8b5f1a7d9e3c5b21 is also on worker-5: \
         6f1c0b7e3a9d4c2e8b5f1a7d9e3c5b21: worker-1 (this node), worker-5"
    );
    assert_eq!(
        machine_id.evidence["duplicates"],
        json!([{"value": "6f1c0b7e3a9d4c2e8b5f1a7d9e3c5b21", "count": 2, "nodes": ["worker-1 (this node)", "worker-5"]}])
    );
    assert_eq!(find(&results, "Unique-NodeNicMac").status, Status::Fail);
    let address = find(&results, "Unique-NodeAddress");
    assert_eq!(address.status, Status::Fail);
    assert!(address
        .message
        .contains("10.20.41.11: worker-1 (this node), worker-5"));
    let uuid = find(&results, "Unique-ProductUuid");
    assert_eq!(uuid.status, Status::Warn);
    assert_eq!(
        uuid.message,
        "1 product_uuid value is shared by several peers: \
         4c4c4544-0032-3210-8052-b3c04f503132: worker-2, worker-3"
    );
    assert_eq!(find(&results, "Unique-Hostname").status, Status::Ok);
}

#[test]
fn a_second_machine_with_this_hostname_is_a_duplicate_hostname() {
    let mut twin = snapshot("worker-2");
    twin.host.hostname = "WORKER-1".into();
    let results = judge(
        &snapshot("worker-1"),
        &[peer(twin)],
        &node_network_profile(),
    );
    let hostname = find(&results, "Unique-Hostname");
    assert_eq!(hostname.status, Status::Fail);
    assert!(hostname
        .message
        .starts_with("this node's hostname worker-1 is also on WORKER-1"));
}

#[test]
fn kubelet_versions_come_from_the_node_list_and_only_warn() {
    let peers = vec![
        kube_peer("worker-2", "v1.28.4", "10.20.41.12/24"),
        kube_peer("worker-3", "v1.28.4", "10.20.41.13/24"),
        kube_peer("worker-41", "v1.27.9", "10.20.41.41/24"),
    ];
    let this = snapshot("worker-1");
    let results = judge(&this, &peers, &node_network_profile());
    let kubelet = find(&results, "Parity-KubeletVersion");
    assert_eq!(kubelet.status, Status::Warn);
    assert_eq!(
        kubelet.message,
        "kubelet version differs among peers; nodes by value: v1.28.4: worker-2, worker-3; \
         v1.27.9: worker-41; not known for worker-1 (this node)"
    );
    // With this node in the list, it is compared too; a version skew is a warning, not a failure.
    let me = kube("worker-1", "v1.27.9", "10.20.41.11/24");
    let results = judge_with(&this, &peers, &node_network_profile(), Some(&me));
    let kubelet = find(&results, "Parity-KubeletVersion");
    assert_eq!(kubelet.status, Status::Warn);
    assert!(kubelet.message.starts_with(
        "kubelet version differs and no value has a majority; this node's is v1.27.9"
    ));
}

#[test]
fn calico_address_outside_the_node_network_is_named_per_node() {
    let peers = vec![
        kube_peer("worker-2", "v1.28.4", "10.20.41.12/24"),
        kube_peer("worker-3", "v1.28.4", "10.20.41.13/24"),
    ];
    let this = snapshot("worker-41");
    let mut me = kube("worker-41", "v1.28.4", "172.18.0.1/16");
    me.addresses = vec![("InternalIP".into(), "10.20.41.41".into())];
    let results = judge_with(&this, &peers, &node_network_profile(), Some(&me));
    let calico = find(&results, "Parity-CalicoAddress");
    assert_eq!(calico.status, Status::Fail);
    assert_eq!(
        calico.message,
        "calico-node on this node recorded an address outside the node network (10.20.41.0/24): \
         inside the node network: worker-2, worker-3; outside the node network: \
         worker-41 (this node, 172.18.0.1/16)"
    );
    // Seen from worker-2, worker-41's bad address is a peer's problem: a warning.
    let results = judge_with(
        &snapshot("worker-2"),
        &[
            kube_peer("worker-3", "v1.28.4", "10.20.41.13/24"),
            Peer {
                name: "worker-41".into(),
                source: "nodes.json".into(),
                facts: None,
                node: Some(Box::new(me.clone())),
            },
        ],
        &profile("{}"),
        Some(&kube("worker-2", "v1.28.4", "10.20.41.12/24")),
    );
    let calico = find(&results, "Parity-CalicoAddress");
    assert_eq!(calico.status, Status::Warn);
    assert!(calico
        .message
        .contains("(each node's InternalIP): inside the node network: worker-2 (this node), worker-3; outside the node network: worker-41 (172.18.0.1/16)"),
        "{}", calico.message);
}

#[test]
fn two_nodes_with_one_calico_address_are_a_duplicate_node_address() {
    let peers = vec![
        kube_peer("worker-2", "v1.28.4", "172.18.0.1/16"),
        kube_peer("worker-3", "v1.28.4", "172.18.0.1/16"),
    ];
    let results = judge(&snapshot("worker-1"), &peers, &node_network_profile());
    let address = find(&results, "Unique-NodeAddress");
    assert_eq!(address.status, Status::Warn);
    assert_eq!(
        address.message,
        "1 node address value is shared by several peers: 172.18.0.1: worker-2, worker-3"
    );
}

#[test]
fn a_fleet_of_five_thousand_reads_as_a_few_lines() {
    let base = snapshot("worker-2");
    let peers: Vec<Peer> = (0..4_999)
        .map(|i| {
            let mut facts = base.clone();
            facts.host.hostname = compact_str::format_compact!("worker-{i:04}");
            facts.host.machine_id = Some(compact_str::format_compact!("{i:032x}"));
            facts.host.product_uuid = Some(compact_str::format_compact!("uuid-{i}"));
            facts.interfaces[1].mac = Some(compact_str::format_compact!(
                "52:54:00:00:{:02x}:{:02x}",
                i / 256,
                i % 256
            ));
            facts.interfaces[1].addresses[0].address = format!("10.20.{}.{}", i / 250, i % 250 + 1)
                .parse()
                .unwrap();
            if i == 41 || i == 77 {
                facts.host.kernel_release = "6.8.0-40-generic".into();
            }
            peer(facts)
        })
        .collect();
    let results = judge(
        &snapshot("worker-1"),
        &peers,
        &profile("node_network:\n  cidrs: [10.20.0.0/16]\n"),
    );
    let kernel = find(&results, "Parity-KernelRelease");
    assert_eq!(
        kernel.message,
        "this node's kernel release is the majority's (5.15.x), but peers differ; nodes by value: \
         5.15.x: 4,998 nodes, this node among them; 6.8.x: worker-0041, worker-0077"
    );
    assert_eq!(kernel.evidence["groups"][0]["count"], 4998);
    for r in &results {
        assert!(r.message.len() < 700, "{}: {} bytes", r.id, r.message.len());
    }
}

fn with_kubelet(mut facts: Facts, node_ip: Option<&str>, hosts: &[(usize, &str)]) -> Facts {
    use crate::facts::kubelet::*;
    let name = facts.host.hostname.clone();
    facts.kubelet = Some(Box::new(KubeletFacts {
        unit: None,
        config_file: None,
        kubeadm_config: None,
        flags: KubeletFlags {
            node_ip: node_ip.map(|v| FlagValue {
                value: v.into(),
                source: "/etc/default/kubelet:1".into(),
            }),
            ..KubeletFlags::default()
        },
        node_name: name.to_string(),
        name_lookup: node_ip.is_none().then(|| NameLookup {
            name: name.to_string(),
            nsswitch_hosts: None,
            hosts_file: hosts
                .iter()
                .map(|(line, a)| HostsEntry {
                    line: *line,
                    address: a.parse().unwrap(),
                })
                .collect(),
            hosts_file_error: None,
            dns: DnsLookup {
                status: DnsLookupStatus::NoSuchName,
                server: None,
                query_name: None,
                addresses: Vec::new(),
                detail: None,
            },
        }),
    }));
    facts
}

#[test]
fn kubelet_node_ip_steps_are_compared_and_predicted_addresses_must_be_unique() {
    let this = with_kubelet(snapshot("worker-41"), None, &[(2, "127.0.1.1")]);
    let pinned = snapshot("worker-1");
    let pinned_ip = pinned
        .interfaces
        .iter()
        .flat_map(|i| i.addresses.iter())
        .find(|a| a.address.to_string().starts_with("10.20.41."))
        .map(|a| a.address.to_string())
        .expect("worker-1 has a node address");
    let pinned = with_kubelet(pinned, Some(&pinned_ip), &[]);
    let results = judge(&this, &[peer(pinned)], &node_network_profile());
    let parity = find(&results, "Parity-KubeletNodeIP");
    assert_eq!(parity.status, Status::Warn, "{parity:#?}");
    assert!(parity.message.contains("node-ip"), "{}", parity.message);
    assert!(
        parity.message.contains("default-route"),
        "{}",
        parity.message
    );

    // kubelet flags copied from worker-41 to worker-1: an IP --hostname-override is registered
    // as it is (kubelet does not check it), so both nodes claim 10.20.41.41.
    let mut copied = with_kubelet(snapshot("worker-1"), None, &[]);
    let kubelet = copied.kubelet.as_mut().unwrap();
    kubelet.flags.hostname_override = Some(crate::facts::kubelet::FlagValue {
        value: "10.20.41.41".into(),
        source: "/etc/default/kubelet:1".into(),
    });
    kubelet.node_name = "10.20.41.41".into();
    kubelet.name_lookup = None;
    let results = judge(&this, &[peer(copied)], &node_network_profile());
    let unique = find(&results, "Unique-NodeAddress");
    assert_eq!(unique.status, Status::Fail, "{unique:#?}");
    assert!(unique.message.contains("10.20.41.41"), "{}", unique.message);
}
