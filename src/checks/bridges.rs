//! Bridges that confuse CNI address autodetection: Docker's `docker0`, compose and other user-defined
//! Docker bridges (named with their compose project when the Docker API said so), and LXD, libvirt,
//! Podman, CNI and hand-made bridges; and every bridge's subnets against the node, pod and service CIDRs.

use ipnet::IpNet;

use super::finding::Finding;
use super::node_network::{self, join, NodeNetwork};
use super::{Area, CheckResult, Context};
use crate::calico::exclusions::default_exclusions;
use crate::calico::go_regexp::{self, GoNamedGroups};
use crate::facts::{DockerApiStatus, DockerNetwork, Facts, Interface};
use crate::network::addresses::{cidr_of, is_global, overlaps};
use crate::profile::calico_version::CalicoVersion;
use crate::profile::parsed::Pattern;

const AREA: Area = Area::Bridges;

/// Bridge names other software creates, which CNIs' "first interface with an address" logic can pick.
const KNOWN_BRIDGES: &[(&str, &str)] = &[
    ("lxdbr0", "LXD"),
    ("incusbr0", "Incus"),
    ("lxcbr0", "LXC"),
    ("virbr", "libvirt"),
    ("podman", "Podman"),
    ("cni-podman", "Podman (CNI)"),
    ("cni", "a CNI bridge plugin"),
    ("cbr0", "kubenet"),
    ("kube-bridge", "kube-router"),
    ("br0", "a hand-made bridge"),
];

/// What a bridge is, as far as the facts tell.
enum Origin<'a> {
    DockerDefault(Option<&'a DockerNetwork>),
    Compose(&'a DockerNetwork),
    DockerNetwork(&'a DockerNetwork),
    /// `br-<12 hex>` but the Docker API did not describe it.
    DockerLike,
    Known(&'static str),
    Other,
}

pub fn evaluate(ctx: &Context) -> Vec<CheckResult> {
    let facts = ctx.facts;
    let net = node_network::resolve(facts, ctx.profile);
    let allowed = &ctx.profile.bridges.allowed;
    let mut out = Vec::new();
    let docker0 = facts.interface("docker0");
    out.push(match docker0 {
        Some(b) => judge(ctx, &net, allowed, b, "Bridge-Docker0"),
        None => CheckResult::ok("Bridge-Docker0", AREA, "no docker0 bridge"),
    });
    let bridges: Vec<&Interface> = facts
        .interfaces
        .iter()
        .filter(|i| i.kind.as_deref() == Some("bridge") && i.name != "docker0")
        .collect();
    for b in &bridges {
        out.push(judge(ctx, &net, allowed, b, &format!("Bridge-{}", b.name)));
    }
    for b in docker0.into_iter().chain(bridges) {
        if let Some(r) = overlap(ctx, &net, b) {
            out.push(r);
        }
    }
    out
}

fn origin<'a>(facts: &'a Facts, bridge: &Interface) -> Origin<'a> {
    let network = facts
        .docker
        .networks
        .iter()
        .find(|n| n.bridge_device.as_deref() == Some(bridge.name.as_str()));
    if bridge.name == "docker0" {
        return Origin::DockerDefault(network);
    }
    if let Some(n) = network {
        return if n.compose_project.is_some() {
            Origin::Compose(n)
        } else {
            Origin::DockerNetwork(n)
        };
    }
    if crate::facts::is_docker_network_bridge(&bridge.name) {
        return Origin::DockerLike;
    }
    for (prefix, owner) in KNOWN_BRIDGES {
        if bridge.name.starts_with(prefix) {
            return Origin::Known(owner);
        }
    }
    Origin::Other
}

/// Whether Calico's `first-found` skips this name in that release: its default exclusion list, matched
/// as Go's `regexp.MatchString` does (unanchored search; the patterns are RE2-compatible).
/// Matched through the Calico model's Go-regex translation, so this check and the model agree.
fn first_found_skips(name: &str, calico_version: &CalicoVersion) -> bool {
    let joined = format!("({})", default_exclusions(calico_version).join(")|("));
    go_regexp::compile(&joined, GoNamedGroups::POnly).is_ok_and(|re| go_regexp::matches(&re, name))
}

fn judge(
    ctx: &Context,
    net: &NodeNetwork,
    allowed: &[Pattern],
    bridge: &Interface,
    id: &str,
) -> CheckResult {
    let facts = ctx.facts;
    let addresses: Vec<String> = bridge
        .addresses
        .iter()
        .filter(|a| is_global(a))
        .map(cidr_of)
        .collect();
    let addr_text = if addresses.is_empty() {
        "no address".to_string()
    } else {
        join(addresses.iter())
    };
    let members: Vec<String> = facts
        .interfaces
        .iter()
        .filter(|i| i.master.as_deref() == Some(bridge.name.as_str()))
        .map(|i| i.name.to_string())
        .collect();
    let with_evidence = |r: CheckResult| {
        r.with("interface", bridge.name.as_str())
            .with("addresses", addresses.clone())
            .with("ports", members.clone())
    };
    if allowed.iter().any(|re| re.is_match(&bridge.name)) {
        return with_evidence(CheckResult::ok(
            id,
            AREA,
            format!(
                "{} ({addr_text}) is allowed by the profile (bridges.allowed)",
                bridge.name
            ),
        ));
    }
    if net.nic.is_some_and(|n| n.name == bridge.name)
        || net.carriers.iter().any(|(i, _)| i.name == bridge.name)
    {
        return with_evidence(CheckResult::ok(
            id,
            AREA,
            format!("{} carries the node network ({addr_text})", bridge.name),
        ));
    }
    let release = ctx.profile.calico.release();
    let calico_note =
        if addresses.is_empty() || first_found_skips(&bridge.go_name(), release.value()) {
            String::new()
        } else {
            format!("; Calico {release}'s first-found autodetection does not skip it")
        };
    let docker_status = if ctx.profile.bridges.docker_bridges_fail {
        super::Status::Fail
    } else {
        super::Status::Warn
    };
    let api_note = match facts.docker.api.status {
        DockerApiStatus::Answered => String::new(),
        DockerApiStatus::PermissionDenied => {
            " (compose project unknown: the Docker API refused access; run as root)".to_string()
        }
        other => format!(
            " (compose project unknown: Docker API {})",
            serde_json::to_value(other)
                .ok()
                .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
                .unwrap_or_default()
        ),
    };
    let pin = match net.cidrs.first() {
        Some(c) => format!("pin Calico to the node network (IP_AUTODETECTION_METHOD=cidr={c})"),
        None => "pin Calico to the node NIC (IP_AUTODETECTION_METHOD=interface=<node NIC>)".into(),
    };
    let accept = format!(
        "or accept it with bridges.allowed: [\"{}\"] in the profile",
        bridge.name
    );
    let (status, message, fix) = match origin(facts, bridge) {
        Origin::DockerDefault(_) => (
            docker_status,
            format!("docker0 (Docker's default bridge, {addr_text}) is present: Docker runs on this node{calico_note}"),
            format!("run no Docker engine on Kubernetes nodes (`systemctl disable --now docker.socket docker.service`), or {pin}; {accept}"),
        ),
        Origin::Compose(n) => {
            let project = n.compose_project.as_deref().unwrap_or_default();
            (
                docker_status,
                format!(
                    "{} is the bridge of compose project `{project}` (network `{}`, Docker network {}) with {addr_text}{calico_note}",
                    bridge.name,
                    n.compose_network.as_deref().unwrap_or("?"),
                    n.name
                ),
                format!("move compose project `{project}` off this node (`docker compose -p {} down`), or {pin}; {accept}", crate::escape::shell_quote(project)),
            )
        }
        Origin::DockerNetwork(n) => (
            docker_status,
            format!("{} is the bridge of Docker network {} with {addr_text}{calico_note}", bridge.name, n.name),
            format!("remove it (`docker network rm {}`), or {pin}; {accept}", crate::escape::shell_quote(&n.name)),
        ),
        Origin::DockerLike => (
            docker_status,
            format!("{} looks like a Docker user-defined or compose bridge{api_note}, with {addr_text}{calico_note}", bridge.name),
            format!("find its owner with `docker network ls`; remove it, or {pin}; {accept}"),
        ),
        Origin::Known(owner) if !addresses.is_empty() => (
            super::Status::Warn,
            format!("{} ({owner}) has {addr_text}: CNI address autodetection can pick it{calico_note}", bridge.name),
            format!("remove it if {owner} is not needed on this node, or {pin}; {accept}"),
        ),
        Origin::Other if !addresses.is_empty() => (
            super::Status::Warn,
            format!("bridge {} has {addr_text}: CNI address autodetection can pick it{calico_note}", bridge.name),
            format!("{pin}; {accept}"),
        ),
        Origin::Known(owner) => (
            super::Status::Ok,
            format!("{} ({owner}) has no address, so no autodetection can pick it", bridge.name),
            String::new(),
        ),
        Origin::Other => (
            super::Status::Ok,
            format!("bridge {} has no address, so no autodetection can pick it", bridge.name),
            String::new(),
        ),
    };
    let mut r = with_evidence(CheckResult::new(id, AREA, status, message));
    if let Origin::Compose(n) | Origin::DockerNetwork(n) | Origin::DockerDefault(Some(n)) =
        origin(facts, bridge)
    {
        r = r
            .with("docker_network", n.name.clone())
            .with("compose_project", n.compose_project.clone())
            .with("compose_network", n.compose_network.clone());
    }
    if !fix.is_empty() {
        r = r.fix(fix);
    }
    r
}

/// The bridge's subnets: its global addresses' networks, plus the Docker IPAM subnets behind it.
fn bridge_subnets(facts: &Facts, bridge: &Interface) -> Vec<IpNet> {
    let mut out: Vec<IpNet> = Vec::new();
    let from_addresses = bridge
        .addresses
        .iter()
        .filter(|a| is_global(a))
        .filter_map(|a| a.network());
    let from_docker = facts
        .docker
        .networks
        .iter()
        .filter(|n| n.bridge_device.as_deref() == Some(bridge.name.as_str()))
        .flat_map(|n| n.subnets.iter().map(|s| s.trunc()));
    for s in from_addresses.chain(from_docker) {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

fn overlap(ctx: &Context, net: &NodeNetwork, bridge: &Interface) -> Option<CheckResult> {
    let subnets = bridge_subnets(ctx.facts, bridge);
    if subnets.is_empty() {
        return None;
    }
    let id = format!("BridgeOverlap-{}", bridge.name);
    // A bridge that carries the node network overlaps it by design.
    let carries_node = net.carriers.iter().any(|(i, _)| i.name == bridge.name);
    let mut ranges: Vec<(&str, &IpNet)> = Vec::new();
    if !carries_node {
        ranges.extend(net.cidrs.iter().map(|c| ("node network", c)));
    }
    ranges.extend(ctx.profile.pod_cidrs.iter().map(|c| ("pod CIDR", c)));
    ranges.extend(
        ctx.profile
            .service_cidrs
            .iter()
            .map(|c| ("service CIDR", c)),
    );
    let clashes: Vec<String> = subnets
        .iter()
        .flat_map(|s| {
            ranges
                .iter()
                .filter(move |(_, r)| overlaps(s, r))
                .map(move |(what, r)| format!("{s} overlaps the {what} {r}"))
        })
        .collect();
    let subnets_text = join(subnets.iter());
    let r = if clashes.is_empty() {
        let checked = if ranges.is_empty() {
            "no node, pod or service CIDRs are known".to_string()
        } else {
            format!("clear of {}", join(ranges.iter().map(|(_, r)| r)))
        };
        CheckResult::ok(
            id,
            AREA,
            format!("{} subnets {subnets_text}: {checked}", bridge.name),
        )
    } else {
        CheckResult::fail(
            id,
            AREA,
            format!("{}: {}; traffic to those addresses would be routed into the bridge", bridge.name, clashes.join("; ")),
        )
        .fix(format!(
            "move the bridge to a free range (Docker: `bip` and `default-address-pools` in /etc/docker/daemon.json, or the compose network's ipam subnet), or delete {}",
            bridge.name
        ))
    };
    let r = r.with("interface", bridge.name.as_str());
    // Docker's bridges are fixable (`bip`, `default-address-pools`); others are not nodecheck's.
    let r = if docker_bridge_devices(ctx.facts)
        .iter()
        .any(|d| d == bridge.name.as_str())
    {
        r.found(Finding::DockerBridge {
            interface: bridge.name.to_string(),
        })
    } else {
        r
    };
    Some(
        r.with(
            "subnets",
            subnets.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        )
        .with("overlaps", clashes),
    )
}

/// docker0 and the bridges of Docker's networks, as the facts name them.
pub fn docker_bridge_devices(facts: &Facts) -> Vec<String> {
    let mut out = vec!["docker0".to_string()];
    let d = &facts.docker;
    for name in d
        .bridges
        .iter()
        .cloned()
        .chain(d.networks.iter().filter_map(|n| n.bridge_device.clone()))
    {
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_found_learnt_to_skip_compose_bridges_in_3_25() {
        let v = |s: &str| s.parse::<CalicoVersion>().unwrap();
        assert!(!first_found_skips("br-3f2a1b4c5d6e", &v("3.24.1")));
        assert!(first_found_skips("br-3f2a1b4c5d6e", &v("3.25.0")));
        assert!(first_found_skips("docker0", &v("3.20.0")));
        assert!(!first_found_skips("lxdbr0", &v("3.28.0")));
    }
}
