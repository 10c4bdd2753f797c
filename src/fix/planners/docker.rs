//! Docker bridges (`BridgeOverlap-*` of Docker's bridges): `bip` and `default-address-pools` in
//! /etc/docker/daemon.json, chosen clear of the node network, the pod and service CIDRs, every peer's
//! node network and everything else this host already has addresses in. The JSON is edited in place:
//! only a clashing pool or `bip` is replaced, every other byte (number text, key order) is kept. dockerd reads the file when it starts, so the docker restart is a
//! side effect, run only with `--restart-services`. Networks that already exist keep their subnets
//! until recreated: compose networks are listed with their project and the command that recreates them.

use std::net::Ipv4Addr;
use std::path::PathBuf;

use ipnet::{IpNet, Ipv4Net};
use serde_json::{Map, Value};

use super::{json_edit, PlanInput};
use crate::checks::bridges::docker_bridge_devices;
use crate::checks::finding::Finding;
use crate::fix::plan::{
    Change, ChangeKind, Held, ManualStep, Plan, SideEffect, TakesEffect, Target,
};
use crate::fix::state::{FileState, DOCKER_DAEMON_JSON};
use crate::network::addresses::{is_global, overlaps};
use crate::network::node_subnets;

/// dockerd's default bridge address when daemon.json sets no `bip`.
const DEFAULT_BIP: &str = "172.17.0.1/16";

/// dockerd's default local address pools (moby `ipamutils.localScopeDefaultNetworks`): base, size.
const DEFAULT_POOLS: &[(&str, u8)] = &[
    ("172.17.0.0/16", 16),
    ("172.18.0.0/16", 16),
    ("172.19.0.0/16", 16),
    ("172.20.0.0/14", 16),
    ("172.24.0.0/14", 16),
    ("172.28.0.0/14", 16),
    ("192.168.0.0/16", 20),
];

/// Size of each network carved from the chosen pool (a /16 pool gives 256 networks of /24).
const POOL_NETWORK_SIZE: u8 = 24;

/// A network something else on this host, or in the cluster, already uses.
#[derive(Debug, Clone, PartialEq)]
pub struct Taken {
    pub net: IpNet,
    pub what: String,
}

pub fn plan(input: &PlanInput, plan: &mut Plan) {
    let docker_devices = docker_bridge_devices(input.facts);
    let failing: Vec<(&crate::checks::CheckResult, &str)> = input
        .findings()
        .filter_map(|(r, f)| match f {
            Finding::DockerBridge { interface } => Some((r, interface.as_str())),
            _ => None,
        })
        .collect();
    if failing.is_empty() {
        return;
    }
    let fixes: Vec<String> = failing.iter().map(|(r, _)| r.id.clone()).collect();
    let taken = taken_networks(input, &docker_devices);
    let before = match input.host.file(DOCKER_DAEMON_JSON) {
        FileState::Unusable(why) => {
            plan.held.push(Held {
                fixes,
                kind: ChangeKind::DockerBridges,
                reason: format!("cannot edit {DOCKER_DAEMON_JSON}: {why}"),
                change: None,
            });
            return;
        }
        state => state.text().map(str::to_string),
    };
    let config: Map<String, Value> = match before.as_deref().map(str::trim) {
        None | Some("") => Map::new(),
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(m)) => m,
            Ok(_) => {
                return hold_json(plan, fixes, "it is not a JSON object".to_string());
            }
            Err(e) => {
                return hold_json(
                    plan,
                    fixes,
                    format!("line {}, column {}: {e}", e.line(), e.column()),
                );
            }
        },
    };
    let current_bip = config
        .get("bip")
        .and_then(|v| v.as_str())
        .unwrap_or(DEFAULT_BIP)
        .to_string();
    let bip_clashes = current_bip
        .parse::<IpNet>()
        .map(|n| clashes(&n.trunc(), &taken))
        .unwrap_or_default();
    let mut summary_parts = Vec::new();
    let mut reasons = Vec::new();
    let mut chosen: Vec<Ipv4Net> = Vec::new();
    let avoid: Vec<Taken> = taken
        .iter()
        .cloned()
        .chain(docker_networks_now(input))
        .collect();
    let mut edit = DaemonJsonEdit::new(before.as_deref());
    // Each clashing IPv4 pool is replaced by a free one; every other pool (clear, IPv6, or not
    // understood) is kept as written.
    for (slot, pool) in pool_slots(&edit, &config) {
        let found = clashes(&IpNet::V4(pool), &taken);
        if found.is_empty() {
            continue;
        }
        if slot == PoolSlot::Builtin && !edit.builtin_replaced.is_empty() {
            // One written pool replaces all of dockerd's built-in ones.
            reasons.push(format!("the address pools clash: {}", found.join("; ")));
            continue;
        }
        let Some(free) = free_block(&avoid, &chosen, 16) else {
            return hold_no_space(plan, fixes);
        };
        chosen.push(free);
        edit.set_pool(slot, free);
        summary_parts.push(format!(
            "default-address-pools {free} (/{POOL_NETWORK_SIZE} networks, was {pool})"
        ));
        reasons.push(format!("the address pools clash: {}", found.join("; ")));
    }
    if !bip_clashes.is_empty() {
        let Some(block) = free_block(&avoid, &chosen, 24) else {
            return hold_no_space(plan, fixes);
        };
        let gateway = Ipv4Addr::from(u32::from(block.network()) + 1);
        let bip = format!("{gateway}/{}", block.prefix_len());
        edit.set_bip(&bip);
        summary_parts.push(format!("bip {bip} (docker0, was {current_bip})"));
        reasons.push(format!(
            "docker0's {current_bip} clashes: {}",
            bip_clashes.join("; ")
        ));
    }
    if summary_parts.is_empty() {
        // The configuration is already clear; the running bridges predate it.
        plan.manual.push(ManualStep {
            fixes,
            what: format!(
                "{DOCKER_DAEMON_JSON} already keeps Docker clear of the cluster's networks; docker has not been restarted since"
            ),
            commands: vec!["systemctl restart docker".to_string()],
        });
        return;
    }
    let after = edit.finish();
    plan.changes.push(Change {
        fixes: fixes.clone(),
        kind: ChangeKind::DockerBridges,
        summary: format!("set {} in {DOCKER_DAEMON_JSON}", summary_parts.join(" and ")),
        target: Target::File {
            path: PathBuf::from(DOCKER_DAEMON_JSON),
            before,
            after,
            new_mode: 0o644,
        },
        takes_effect: TakesEffect::ServiceRestart("docker".to_string()),
        side_effects: vec![SideEffect::RestartService {
            unit: "docker".to_string(),
        }],
        notes: {
            let mut notes = reasons;
            notes.push(format!(
                "chosen clear of {}",
                avoid.iter().map(|t| format!("{} ({})", t.net, t.what)).collect::<Vec<_>>().join(", ")
            ));
            notes.push("dockerd refuses to start when a setting is given both as a flag and in daemon.json: remove any --bip/--default-address-pool from its unit".to_string());
            notes
        },
    });
    recreate_steps(input, plan, &failing);
}

fn hold_json(plan: &mut Plan, fixes: Vec<String>, why: String) {
    plan.held.push(Held {
        fixes,
        kind: ChangeKind::DockerBridges,
        reason: format!("{DOCKER_DAEMON_JSON} is not valid JSON ({why}): fix it by hand first; nodecheck merges into it and will not overwrite it"),
        change: None,
    });
}

fn hold_no_space(plan: &mut Plan, fixes: Vec<String>) {
    plan.held.push(Held {
        fixes,
        kind: ChangeKind::DockerBridges,
        reason: "no private IPv4 range is free of the node, pod, service and peer networks"
            .to_string(),
        change: None,
    });
}

/// The IPv4 pools daemon.json configures, or dockerd's defaults.
/// Where an IPv4 pool sits in daemon.json: a written element of `default-address-pools`, or
/// dockerd's built-in pools (no such key).
#[derive(Debug, Clone, Copy, PartialEq)]
enum PoolSlot {
    Element(usize),
    Builtin,
}

/// The IPv4 pools dockerd will use, each with where it comes from.
fn pool_slots(edit: &DaemonJsonEdit, config: &Map<String, Value>) -> Vec<(PoolSlot, Ipv4Net)> {
    match config.get("default-address-pools") {
        Some(Value::Array(_)) => edit
            .pool_elements()
            .into_iter()
            .enumerate()
            .filter_map(|(n, p)| {
                let base = p.get("base")?.as_str()?.parse::<Ipv4Net>().ok()?;
                Some((PoolSlot::Element(n), base))
            })
            .collect(),
        Some(_) => Vec::new(),
        None => DEFAULT_POOLS
            .iter()
            .filter_map(|(b, _)| Some((PoolSlot::Builtin, b.parse().ok()?)))
            .collect(),
    }
}

/// daemon.json edited in place ([`json_edit`]): only the values that change are rewritten.
struct DaemonJsonEdit {
    text: String,
    edits: Vec<(std::ops::Range<usize>, String)>,
    added: Vec<(String, String)>,
    /// Pools replacing dockerd's built-in ones.
    builtin_replaced: Vec<Ipv4Net>,
}

fn pool_json(pool: Ipv4Net) -> String {
    format!("{{\"base\": \"{pool}\", \"size\": {POOL_NETWORK_SIZE}}}")
}

impl DaemonJsonEdit {
    fn new(before: Option<&str>) -> DaemonJsonEdit {
        let text = match before {
            Some(t) if !t.trim().is_empty() => t.to_string(),
            _ => "{}\n".to_string(),
        };
        DaemonJsonEdit {
            text,
            edits: Vec::new(),
            added: Vec::new(),
            builtin_replaced: Vec::new(),
        }
    }

    fn open(&self) -> usize {
        json_edit::top_object(&self.text).unwrap_or(0)
    }

    fn member(&self, key: &str) -> Option<json_edit::Member> {
        json_edit::members(&self.text, self.open())
            .into_iter()
            .rev()
            .find(|m| m.key == key)
    }

    fn pool_ranges(&self) -> Vec<std::ops::Range<usize>> {
        self.member("default-address-pools")
            .map(|m| json_edit::elements(&self.text, m.value.start))
            .unwrap_or_default()
    }

    fn pool_elements(&self) -> Vec<Value> {
        self.pool_ranges()
            .into_iter()
            .map(|r| serde_json::from_str(&self.text[r]).unwrap_or(Value::Null))
            .collect()
    }

    fn set_pool(&mut self, slot: PoolSlot, pool: Ipv4Net) {
        match slot {
            PoolSlot::Element(n) => {
                if let Some(r) = self.pool_ranges().get(n) {
                    self.edits.push((r.clone(), pool_json(pool)));
                }
            }
            PoolSlot::Builtin => {
                if self.builtin_replaced.is_empty() {
                    self.builtin_replaced.push(pool);
                }
            }
        }
    }

    fn set_bip(&mut self, bip: &str) {
        let value = serde_json::to_string(bip).unwrap_or_default();
        match self.member("bip") {
            Some(m) => self.edits.push((m.value, value)),
            None => self.added.push(("bip".to_string(), value)),
        }
    }

    fn finish(mut self) -> String {
        if !self.builtin_replaced.is_empty() {
            let pools: Vec<String> = self
                .builtin_replaced
                .iter()
                .map(|p| pool_json(*p))
                .collect();
            self.added.push((
                "default-address-pools".to_string(),
                format!("[{}]", pools.join(", ")),
            ));
        }
        let mut text = json_edit::replace(&self.text, self.edits);
        for (key, value) in &self.added {
            let open = json_edit::top_object(&text).unwrap_or(0);
            let edit = json_edit::add_member(&text, open, key, value);
            text = json_edit::replace(&text, vec![edit]);
        }
        text
    }
}

fn clashes(net: &IpNet, taken: &[Taken]) -> Vec<String> {
    taken
        .iter()
        .filter(|t| overlaps(net, &t.net))
        .map(|t| format!("{net} overlaps {} ({})", t.net, t.what))
        .collect()
}

/// Every IPv4 network Docker must stay clear of.
pub fn taken_networks(input: &PlanInput, docker_devices: &[String]) -> Vec<Taken> {
    let mut out: Vec<Taken> = Vec::new();
    let mut add = |net: IpNet, what: String| {
        let net = net.trunc();
        if matches!(net, IpNet::V4(_)) && !out.iter().any(|t| t.net == net) {
            out.push(Taken { net, what });
        }
    };
    let profile_cidrs = &input.profile.node_network.cidrs;
    for c in node_subnets(input.facts, profile_cidrs).cidrs {
        add(c, "node network".to_string());
    }
    for c in &input.profile.pod_cidrs {
        add(*c, "pod CIDR".to_string());
    }
    for c in &input.profile.service_cidrs {
        add(*c, "service CIDR".to_string());
    }
    for peer in input.peers {
        if let Some(f) = &peer.facts {
            // The profile's node CIDRs, and whatever the peer's default route really leaves through.
            let from_profile = node_subnets(f, profile_cidrs).cidrs;
            for c in from_profile.into_iter().chain(node_subnets(f, &[]).cidrs) {
                add(c, format!("node network of {}", peer.name));
            }
        }
        if let Some(node) = &peer.node {
            let annotated = node
                .calico_ipv4_address
                .as_deref()
                .and_then(|a| a.parse::<IpNet>().ok());
            match annotated {
                Some(n) => add(n, format!("node network of {}", node.name)),
                None => {
                    for (kind, addr) in &node.addresses {
                        if kind == "InternalIP" {
                            if let Ok(ip) = addr.parse::<std::net::IpAddr>() {
                                add(IpNet::from(ip), format!("address of {}", node.name));
                            }
                        }
                    }
                }
            }
        }
    }
    for iface in &input.facts.interfaces {
        if docker_devices.iter().any(|d| *d == iface.name) {
            continue;
        }
        for a in iface.addresses.iter().filter(|a| is_global(a)) {
            if let Some(n) = a.network() {
                add(n, format!("{} on this host", iface.name));
            }
        }
    }
    out
}

/// Subnets of Docker's other networks now: new values are chosen clear of them too (a pinned compose
/// subnet stays where it is), but they are not a reason to move docker0 or the pools.
fn docker_networks_now(input: &PlanInput) -> Vec<Taken> {
    input
        .facts
        .docker
        .networks
        .iter()
        .filter(|n| n.bridge_device.as_deref() != Some("docker0"))
        .flat_map(|n| {
            n.subnets
                .iter()
                .filter(|s| matches!(s, IpNet::V4(_)))
                .map(|s| Taken {
                    net: s.trunc(),
                    what: format!("Docker network {}", n.name),
                })
        })
        .collect()
}

/// The private ranges searched, in order: Docker's own 172.16.0.0/12 first, then 192.168.0.0/16,
/// then 10.0.0.0/8 (most often the node or pod network, so last).
const SEARCH: &[&str] = &["172.16.0.0/12", "192.168.0.0/16", "10.0.0.0/8"];

/// The first block of `prefix_len` in the search ranges clear of everything taken and chosen.
pub fn free_block(taken: &[Taken], chosen: &[Ipv4Net], prefix_len: u8) -> Option<Ipv4Net> {
    for range in SEARCH {
        let range: Ipv4Net = range.parse().ok()?;
        let Ok(blocks) = range.subnets(prefix_len) else {
            continue;
        };
        for block in blocks {
            let net = IpNet::V4(block);
            if taken.iter().all(|t| !overlaps(&net, &t.net))
                && chosen.iter().all(|c| !overlaps(&net, &IpNet::V4(*c)))
            {
                return Some(block);
            }
        }
    }
    None
}

/// Existing Docker networks that clash keep their subnets until recreated: one manual step each.
fn recreate_steps(
    input: &PlanInput,
    plan: &mut Plan,
    failing: &[(&crate::checks::CheckResult, &str)],
) {
    for &(r, dev) in failing {
        if dev == "docker0" {
            continue;
        }
        let Some(n) = input
            .facts
            .docker
            .networks
            .iter()
            .find(|n| n.bridge_device.as_deref() == Some(dev))
        else {
            continue;
        };
        let subnets = n
            .subnets
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let q = crate::escape::shell_quote;
        match &n.compose_project {
            Some(project) => plan.manual.push(ManualStep {
                fixes: vec![r.id.clone()],
                what: format!(
                    "compose project `{project}` network `{}` ({dev}) keeps {subnets} until recreated; if its compose file pins `ipam.config.subnet`, change it to a free range first",
                    n.compose_network.as_deref().unwrap_or(&n.name)
                ),
                commands: vec![format!(
                    "docker compose -p {} down && docker compose -p {} up -d",
                    q(project),
                    q(project)
                )],
            }),
            None => plan.manual.push(ManualStep {
                fixes: vec![r.id.clone()],
                what: format!(
                    "Docker network {} ({dev}) keeps {subnets} until recreated (disconnect its containers first)",
                    n.name
                ),
                commands: vec![format!(
                    "docker network rm {} && docker network create {}",
                    q(&n.name),
                    q(&n.name)
                )],
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taken(net: &str, what: &str) -> Taken {
        Taken {
            net: net.parse().unwrap(),
            what: what.to_string(),
        }
    }

    #[test]
    fn the_free_block_skips_taken_and_chosen_ranges_in_search_order() {
        let net = |s: &str| s.parse::<Ipv4Net>().unwrap();
        assert_eq!(free_block(&[], &[], 16), Some(net("172.16.0.0/16")));
        let busy = [taken("172.16.0.0/13", "node network")];
        assert_eq!(free_block(&busy, &[], 16), Some(net("172.24.0.0/16")));
        assert_eq!(
            free_block(&busy, &[net("172.24.0.0/16")], 16),
            Some(net("172.25.0.0/16"))
        );
        // Every private range taken: nothing is offered.
        let all = [
            taken("172.16.0.0/12", "a"),
            taken("192.168.0.0/16", "b"),
            taken("10.0.0.0/8", "c"),
        ];
        assert_eq!(free_block(&all, &[], 24), None);
    }

    #[test]
    fn clashes_name_both_networks_and_what_holds_the_other() {
        let net: IpNet = "172.17.0.0/16".parse().unwrap();
        let found = clashes(
            &net,
            &[taken("172.17.5.0/24", "pod CIDR"), taken("10.0.0.0/8", "x")],
        );
        assert_eq!(found, ["172.17.0.0/16 overlaps 172.17.5.0/24 (pod CIDR)"]);
    }

    #[test]
    fn daemon_json_edits_replace_only_the_clashing_values() {
        let before = "{\n  \"log-level\": \"warn\",\n  \"bip\": \"172.17.0.1/16\",\n  \"default-address-pools\": [{\"base\":\"172.18.0.0/16\",\"size\":24}, {\"base\":\"10.9.0.0/16\",\"size\":24}],\n  \"mtu\": 1.50e3\n}\n";
        let config: Map<String, Value> = serde_json::from_str(before).unwrap();
        let mut edit = DaemonJsonEdit::new(Some(before));
        let slots = pool_slots(&edit, &config);
        assert_eq!(
            slots,
            [
                (PoolSlot::Element(0), "172.18.0.0/16".parse().unwrap()),
                (PoolSlot::Element(1), "10.9.0.0/16".parse().unwrap()),
            ]
        );
        edit.set_pool(PoolSlot::Element(0), "172.30.0.0/16".parse().unwrap());
        edit.set_bip("192.168.5.1/24");
        let after = edit.finish();
        assert_eq!(
            after,
            "{\n  \"log-level\": \"warn\",\n  \"bip\": \"192.168.5.1/24\",\n  \"default-address-pools\": [{\"base\": \"172.30.0.0/16\", \"size\": 24}, {\"base\":\"10.9.0.0/16\",\"size\":24}],\n  \"mtu\": 1.50e3\n}\n"
        );
    }

    #[test]
    fn without_pools_the_builtin_ones_are_replaced_by_one_written_pool() {
        let edit = DaemonJsonEdit::new(None);
        let slots = pool_slots(&edit, &Map::new());
        assert_eq!(slots.len(), DEFAULT_POOLS.len());
        assert!(slots.iter().all(|(slot, _)| *slot == PoolSlot::Builtin));
        let mut edit = edit;
        edit.set_pool(PoolSlot::Builtin, "172.30.0.0/16".parse().unwrap());
        edit.set_pool(PoolSlot::Builtin, "172.31.0.0/16".parse().unwrap());
        let after: Value = serde_json::from_str(&edit.finish()).unwrap();
        assert_eq!(
            after["default-address-pools"],
            serde_json::json!([{"base": "172.30.0.0/16", "size": 24}])
        );
        assert!(after.get("bip").is_none());
    }
}
