//! Antrea's transport interface: the Node IP's device, `transportInterface` over
//! `transportInterfaceCIDRs` over the Node IP, the gateway skipped, and Antrea's error chains.

use super::*;
use crate::addresses::testkit::{kube_node, pick_on};
use crate::facts::testkit::host;
use crate::peers::KubeNode;

fn model(iface: Option<&str>, cidrs: &[&str]) -> AntreaModel {
    AntreaModel::from_profile(Some(&AntreaProfile {
        version: None,
        transport_interface: iface.map(String::from),
        transport_interface_cidrs: cidrs.iter().map(|s| s.to_string()).collect(),
        host_gateway: None,
    }))
}

fn node(addresses: &[(&str, &str)]) -> KubeNode {
    kube_node(addresses)
}

fn pick(m: &AntreaModel, facts: &Facts, kube: Option<&KubeNode>) -> Pick {
    pick_on(m, facts, kube)
}

fn two_nics() -> Facts {
    host("node-a")
        .nic("eth0", &["10.0.2.15/24", "fe80::1/64"])
        .nic("eth1", &["192.168.56.11/24", "fd00:56::11/64"])
        .route("default", Some("10.0.2.2"), "eth0", Some(100), None)
        .build()
}

#[test]
fn the_node_ip_device_is_the_transport_interface_by_default() {
    let facts = two_nics();
    let kube = node(&[("InternalIP", "10.0.2.15")]);
    let p = pick(&model(None, &[]), &facts, Some(&kube));
    assert_eq!(p.interface.as_deref(), Some("eth0"));
    assert_eq!(p.address, Some("10.0.2.15".parse().unwrap()));
    assert_eq!(p.step, "node-ip");
}

#[test]
fn transport_interface_wins_over_the_cidrs_which_win_over_the_node_ip() {
    let facts = two_nics();
    let kube = node(&[("InternalIP", "10.0.2.15")]);
    let by_cidr = pick(&model(None, &["192.168.56.0/24"]), &facts, Some(&kube));
    assert_eq!(by_cidr.interface.as_deref(), Some("eth1"));
    assert_eq!(by_cidr.step, "transportInterfaceCIDRs");
    let by_name = pick(
        &model(Some("eth0"), &["192.168.56.0/24"]),
        &facts,
        Some(&kube),
    );
    assert_eq!(by_name.interface.as_deref(), Some("eth0"));
    assert_eq!(by_name.step, "transportInterface");
    // By name: the first global-unicast address per family (eth0's fe80:: is not one).
    assert_eq!(by_name.address_v6, None);
    let eth1 = pick(&model(Some("eth1"), &[]), &facts, Some(&kube));
    assert_eq!(eth1.address_v6, Some("fd00:56::11".parse().unwrap()));
}

#[test]
fn antreas_own_errors() {
    let facts = two_nics();
    let kube = node(&[("InternalIP", "10.0.2.15")]);
    let missing = pick(&model(Some("ens5"), &[]), &facts, Some(&kube));
    assert_eq!(
        missing.fatal.as_deref(),
        Some("Error running agent: error initializing agent: failed to get local IPNet device with transport interface ens5: route ip+net: no such network interface")
    );
    let two_v4 = pick(
        &model(None, &["10.0.0.0/8", "192.168.0.0/16"]),
        &facts,
        Some(&kube),
    );
    assert!(two_v4.fatal.unwrap().ends_with("failed to get local IPNet device with transport Address CIDR [10.0.0.0/8 192.168.0.0/16]: len of cidrs is 2 and they are not configured as dual stack (at least one from each IPFamily)"));
    let nothing = pick(&model(None, &["172.16.0.0/12"]), &facts, Some(&kube));
    assert!(nothing
        .fatal
        .unwrap()
        .ends_with(": unable to find local IP and device"));
    let gone = pick(
        &model(None, &[]),
        &facts,
        Some(&node(&[("InternalIP", "10.9.9.9")])),
    );
    assert_eq!(
        gone.fatal.as_deref(),
        Some("Error running agent: error initializing agent: failed to get local IPNet device with IP &{10.9.9.9 <nil>}: unable to find local IPs and device")
    );
    let split = pick(
        &model(None, &[]),
        &facts,
        Some(&node(&[
            ("InternalIP", "10.0.2.15"),
            ("InternalIP", "fd00:56::11"),
        ])),
    );
    assert!(split
        .fatal
        .unwrap()
        .ends_with("IPs of localIPs should be on the same device"));
    let none = pick(
        &model(None, &[]),
        &facts,
        Some(&node(&[("Hostname", "node-a")])),
    );
    assert!(none
        .fatal
        .unwrap()
        .ends_with("no IP with type in [InternalIP ExternalIP] was found for Node 'node-a'"));
}

#[test]
fn the_gateway_never_holds_the_node_ip() {
    let facts = host("node-a")
        .link("antrea-gw0", Some("openvswitch"), &["10.0.0.5/32"])
        .nic("eth0", &["10.0.0.5/24"])
        .build();
    let p = pick(
        &model(None, &[]),
        &facts,
        Some(&node(&[("InternalIP", "10.0.0.5")])),
    );
    assert_eq!(p.interface.as_deref(), Some("eth0"));
}

#[test]
fn the_cluster_pin_is_one_cidr_per_family() {
    let m = model(None, &[]);
    let nets: Vec<IpNet> = ["192.168.56.0/24", "10.0.0.0/8", "fd00:56::/64"]
        .iter()
        .map(|n| n.parse().unwrap())
        .collect();
    let pins = m.pins_in(&nets, "eth1", "192.168.56.11".parse().unwrap());
    assert_eq!(pins[0].name, "transportInterfaceCIDRs");
    assert_eq!(pins[0].value, "[192.168.56.0/24, fd00:56::/64]");
    // The pinned model takes the node-network NIC.
    let pinned = model(None, &["192.168.56.0/24", "fd00:56::/64"]);
    let p = pick(
        &pinned,
        &two_nics(),
        Some(&node(&[("InternalIP", "10.0.2.15")])),
    );
    assert_eq!(p.interface.as_deref(), Some("eth1"));
}

#[test]
fn kubelets_predicted_address_makes_the_answer_uncertain() {
    let p = pick(&model(None, &[]), &two_nics(), None);
    assert!(p.uncertain.unwrap().contains("only as right as kubelet's"));
}
