//! kube-router's node interface: the first link holding the Node's primary IP, the ExternalIP
//! fallback, the family checks, and each generation's error chain.

use super::*;
use crate::addresses::testkit::{kube_node, pick_on, vagrant};
use crate::facts::testkit::host;
use crate::facts::Facts;
use crate::peers::KubeNode;

fn model(version: &str, args: &[&str]) -> KubeRouterModel {
    KubeRouterModel::from_profile(Some(&KubeRouterProfile {
        version: Some(version.parse().unwrap()),
        args: args.iter().map(|s| s.to_string()).collect(),
    }))
}

fn node(addresses: &[(&str, &str)]) -> KubeNode {
    kube_node(addresses)
}

fn pick(m: &KubeRouterModel, facts: &Facts, kube: Option<&KubeNode>) -> Pick {
    pick_on(m, facts, kube)
}

#[test]
fn the_first_internal_ip_decides_and_its_link_is_the_node_interface() {
    let facts = vagrant();
    let kube = node(&[("InternalIP", "192.168.56.11"), ("InternalIP", "10.0.2.15")]);
    let p = pick(&model("v2.5.0", &[]), &facts, Some(&kube));
    assert_eq!(p.fatal, None);
    assert_eq!(p.interface.as_deref(), Some("eth1"));
    assert_eq!(p.address, Some("192.168.56.11".parse().unwrap()));
    assert_eq!(p.uncertain, None, "a Node object is Kubernetes' own word");
    assert_eq!(p.step, "node-internal-ip");
}

#[test]
fn without_an_internal_ip_the_first_external_ip() {
    let facts = vagrant();
    let kube = node(&[("Hostname", "node-a"), ("ExternalIP", "10.0.2.15")]);
    let p = pick(&model("v2.5.0", &[]), &facts, Some(&kube));
    assert_eq!(p.step, "node-external-ip");
    assert_eq!(p.interface.as_deref(), Some("eth0"));
}

#[test]
fn an_ip_no_link_holds_is_kube_routers_own_error_per_generation() {
    let facts = vagrant();
    let kube = node(&[("InternalIP", "10.9.9.9")]);
    let new = pick(&model("v2.5.0", &[]), &facts, Some(&kube));
    assert_eq!(
        new.fatal.as_deref(),
        Some("failed to run kube-router: failed to create network routing controller: error getting node subnet: failed to find interface with specified node ip")
    );
    let old = pick(&model("v2.2.1", &[]), &facts, Some(&kube));
    assert!(
        old.fatal.as_deref().unwrap().contains(
            "interface onwhich its configured: failed to find interface with specified node ip"
        ),
        "{old:?}"
    );
    let none = pick(&model("v2.5.0", &[]), &facts, Some(&node(&[])));
    assert!(none
        .fatal
        .unwrap()
        .ends_with("error getting primary NodeIP: host IP unknown"));
}

#[test]
fn an_enabled_family_without_an_address_is_fatal() {
    let facts = vagrant();
    let kube = node(&[("InternalIP", "192.168.56.11")]);
    let p = pick(
        &model("v2.5.0", &["--enable-ipv6=true"]),
        &facts,
        Some(&kube),
    );
    assert!(p
        .fatal
        .unwrap()
        .ends_with("IPv6 was enabled, but no IPv6 address was found on the node"));
    let p = pick(
        &model("v2.5.0", &["--enable-ipv6", "--enable-ipv6=false"]),
        &facts,
        Some(&kube),
    );
    assert_eq!(p.fatal, None, "the last flag wins");
}

#[test]
fn kubelets_predicted_address_makes_the_answer_uncertain() {
    let facts = vagrant();
    let p = pick(&model("v2.5.0", &[]), &facts, None);
    // kubelet without inputs falls back to the default route: eth0.
    assert_eq!(p.interface.as_deref(), Some("eth0"));
    assert!(
        p.uncertain
            .as_deref()
            .unwrap()
            .contains("only as right as kubelet's"),
        "{p:?}"
    );
}

#[test]
fn the_first_link_in_kernel_order_wins_when_two_hold_the_address() {
    let facts = host("node-a")
        .nic("eth0", &["10.0.0.5/24"])
        .link("kube-ipvs0", Some("dummy"), &["10.0.0.5/32"])
        .build();
    let kube = node(&[("InternalIP", "10.0.0.5")]);
    let p = pick(&model("v2.5.0", &[]), &facts, Some(&kube));
    assert_eq!(p.interface.as_deref(), Some("eth0"));
}
