//! `Kubelet-NodeIP`: the InternalIP kubelet will register (from the `crate::kubelet` model), the
//! step that decided it, and whether it is in the node network. Calico's `kubernetes-internal-ip`,
//! kube-proxy, `kubectl logs/exec` and most CNIs inherit that address, so an address outside the
//! node network fails; one that depends on DNS answering, or that the default route decides because
//! the node name maps only to addresses kubelet rejects, warns. The fix pins `--node-ip` in the
//! file kubeadm's drop-in reads on this host.

use std::net::IpAddr;

use serde_json::{json, Value};

use super::finding::Finding;
use super::node_network::{self, NodeNetwork};
use super::{Area, CheckResult, Context};
use crate::facts::{Facts, Family};
use crate::kubelet::pin::node_ip_pin;
use crate::kubelet::{predict_node_ip, NodeIpPrediction, Step};
use crate::network::addresses::{is_global, owner_of};

const ID: &str = "Kubelet-NodeIP";
const AREA: Area = Area::NodeNic;

pub fn evaluate(ctx: &Context) -> Vec<CheckResult> {
    if ctx.profile.cni.k3s_family() {
        return vec![CheckResult::skip(
            ID,
            AREA,
            "k3s and RKE2 always pass --node-ip to the kubelet they embed: K3s-NodeIP judges the address",
        )];
    }
    let net = node_network::resolve(ctx.facts, ctx.profile);
    vec![node_ip(ctx.facts, &net)]
}

/// The node-network addresses to pin: the first global address per node-network family on the NIC
/// the node checks judge (IPv4 first).
pub fn node_network_addresses(net: &NodeNetwork) -> Vec<IpAddr> {
    let Some(nic) = net.nic else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for family in [Family::Ipv4, Family::Ipv6] {
        if let Some(a) = nic.addresses.iter().find(|a| {
            a.family == family && is_global(a) && net.cidrs.iter().any(|c| c.contains(&a.address))
        }) {
            out.push(a.address);
        }
    }
    out
}

fn evidence(result: CheckResult, prediction: &NodeIpPrediction) -> CheckResult {
    let node_ip = prediction
        .primary()
        .map(|ip| Value::String(ip.to_string()))
        .unwrap_or(Value::Null);
    result
        .with("node_ip", node_ip)
        .with(
            "node_ips",
            json!(prediction
                .addresses
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()),
        )
        .with("step", prediction.step.as_str())
        .with("reason", prediction.reason.clone())
        .with("trace", json!(prediction.trace))
        .with("dns_dependent", prediction.dns_dependent)
        .with(
            "assumed",
            prediction
                .assumed
                .clone()
                .map(Value::String)
                .unwrap_or(Value::Null),
        )
}

fn pin_fix(facts: &Facts, net: &NodeNetwork, lead: &str) -> Option<String> {
    let addresses = node_network_addresses(net);
    if addresses.is_empty() {
        return None;
    }
    let pin = node_ip_pin(facts, &addresses);
    Some(format!(
        "{lead}pin the node address: put `{}` in {} ({}), then `systemctl restart kubelet` (before the join, `kubeadm join` keeps it)",
        pin.line, pin.file, pin.why
    ))
}

/// The check for one host and its node network, with the node-network addresses to pin as its finding.
pub fn node_ip(facts: &Facts, net: &NodeNetwork) -> CheckResult {
    judge_node_ip(facts, net).found(Finding::NodeIp {
        addresses: node_network_addresses(net),
    })
}

fn judge_node_ip(facts: &Facts, net: &NodeNetwork) -> CheckResult {
    let prediction = predict_node_ip(facts);
    let assumed = prediction
        .assumed
        .as_ref()
        .map(|a| format!(" (assumed: {a})"))
        .unwrap_or_default();
    if prediction.step == Step::CloudProvider {
        return evidence(
            CheckResult::skip(ID, AREA, prediction.reason.clone()),
            &prediction,
        );
    }
    if let Some(error) = &prediction.error {
        let result = CheckResult::fail(
            ID,
            AREA,
            format!("kubelet will register no InternalIP: {error}{assumed}"),
        );
        let fix = pin_fix(facts, net, "").unwrap_or_else(|| {
            "give the host a default route or an /etc/hosts line mapping the node name to its node-network address, or pin kubelet's --node-ip".into()
        });
        return evidence(result.fix(fix), &prediction);
    }
    let shown: Vec<String> = prediction
        .addresses
        .iter()
        .map(|ip| match owner_of(facts, *ip) {
            Some(dev) => format!("{ip} ({})", dev.name),
            None => ip.to_string(),
        })
        .collect();
    let what = format!(
        "kubelet will register InternalIP {}: {}",
        shown.join(" and "),
        prediction.reason
    );
    if net.cidrs.is_empty() {
        return evidence(
            CheckResult::warn(
                ID,
                AREA,
                format!("{what}{assumed}; the node network is unknown (no profile CIDRs, no default route), so nodecheck cannot tell whether that is right"),
            )
            .fix("set node_network.cidrs in the profile"),
            &prediction,
        );
    }
    let outside: Vec<&IpAddr> = prediction
        .addresses
        .iter()
        .filter(|ip| {
            let family = Family::of(ip);
            let family_cidrs: Vec<_> = net
                .cidrs
                .iter()
                .filter(|c| Family::of(&c.addr()) == family)
                .collect();
            !family_cidrs.is_empty() && !family_cidrs.iter().any(|c| c.contains(*ip))
        })
        .collect();
    let cidrs = net.cidrs_text();
    if !outside.is_empty() {
        let list: Vec<String> = outside.iter().map(|a| a.to_string()).collect();
        let result = CheckResult::fail(
            ID,
            AREA,
            format!(
                "{what}{assumed}; {} is outside the node network {cidrs}: kube-proxy, kubectl logs/exec and Calico's kubernetes-internal-ip use this address",
                list.join(", ")
            ),
        );
        let fix = pin_fix(facts, net, "").unwrap_or_else(|| {
            format!("give the node NIC an address in {cidrs} and pin kubelet's --node-ip to it")
        });
        return evidence(result.fix(fix), &prediction);
    }
    if prediction.dns_dependent {
        let result = CheckResult::warn(
            ID,
            AREA,
            format!("{what}{assumed}; this depends on DNS answering when kubelet starts (a DNS change or outage changes the node's address)"),
        );
        let fix =
            pin_fix(facts, net, "map the node name in /etc/hosts, or ").unwrap_or_else(|| {
                "map the node name in /etc/hosts, or pin kubelet's --node-ip".into()
            });
        return evidence(result.fix(fix), &prediction);
    }
    if prediction.rejected_mapping_only {
        let result = CheckResult::warn(
            ID,
            AREA,
            format!("{what}{assumed}; the node name maps only to addresses kubelet rejects, so the default route decides: a change of default route changes the node's address"),
        );
        let fix = pin_fix(facts, net, "")
            .unwrap_or_else(|| "pin kubelet's --node-ip to the node-network address".into());
        return evidence(result.fix(fix), &prediction);
    }
    evidence(
        CheckResult::ok(
            ID,
            AREA,
            format!("{what}{assumed}; in the node network {cidrs}"),
        ),
        &prediction,
    )
}
