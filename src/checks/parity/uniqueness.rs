//! Uniqueness across the fleet: hostname, machine-id, product_uuid, the node NIC's MAC and the node
//! address must each belong to one node only. kubeadm documents the first four as requirements and
//! checks none of them; a node address on two nodes makes calico-node on one of them exit.

use compact_str::CompactString;
use serde_json::Value;

use super::group::{labels, names, thousands, Grouping, Member, NAMES_SHOWN};
use super::nodes::{group_by, NodeView};
use crate::checks::{Area, CheckResult, Context, Status};
use crate::facts::Host;
use crate::peers::KubeNode;

pub fn evaluate(ctx: &Context, nodes: &[NodeView]) -> Vec<CheckResult> {
    let cidrs = &ctx.profile.node_network.cidrs;
    vec![
        Uniqueness {
            id: "Unique-Hostname",
            what: "hostname",
            remediation: "give every node its own hostname before it joins (`hostnamectl set-hostname \
                          <name>`): kubelet registers the node under it, and a second node of the \
                          same name takes over the first one's Node object",
        }
        .judge(named_by_source(group_by(nodes, |n| match (n.facts, n.kube) {
            (Some(f), _) => lower(&f.host.hostname),
            (None, Some(k)) => lower(&k.name),
            (None, None) => None,
        }), nodes)),
        Uniqueness {
            id: "Unique-MachineId",
            what: "machine-id",
            remediation: "these nodes were cloned without resetting /etc/machine-id: on each clone run \
                          `rm -f /etc/machine-id /var/lib/dbus/machine-id && systemd-machine-id-setup` \
                          and reboot (kubeadm requires unique machine IDs; DHCP client IDs derive from it)",
        }
        .judge(group_by(nodes, |n| {
            identifier(n, |h| &h.machine_id, |k| &k.machine_id)
        })),
        Uniqueness {
            id: "Unique-ProductUuid",
            what: "product_uuid",
            remediation: "these VMs report one DMI product_uuid (a copied VM definition): give each VM \
                          its own UUID in the hypervisor (kubeadm requires a unique product_uuid)",
        }
        .judge(group_by(nodes, |n| {
            identifier(n, |h| &h.product_uuid, |k| &k.system_uuid)
        })),
        Uniqueness {
            id: "Unique-NodeNicMac",
            what: "node NIC MAC",
            remediation: "give each node NIC its own MAC (in the hypervisor, or netplan `macaddress:`): \
                          with one MAC on two hosts the switch delivers each host's traffic to the other \
                          at random",
        }
        .judge(group_by(nodes, |n| {
            n.nic
                .and_then(|nic| nic.mac.as_deref())
                .and_then(lower)
                .filter(|mac| mac != "00:00:00:00:00:00")
        })),
        Uniqueness {
            id: "Unique-NodeAddress",
            what: "node address",
            remediation: "give each node its own address (DHCP reservations, static configuration): \
                          calico-node exits on the second node (\"already using the IPv4 address\") and \
                          traffic for one node reaches the other",
        }
        .judge(Grouping::of(nodes.iter().flat_map(|n| {
            let addresses = n.node_addresses(cidrs);
            let known = !addresses.is_empty();
            addresses
                .into_iter()
                .map(|a| (n.member(), Some(a.to_string())))
                .chain((!known).then(|| (n.member(), None)))
                .collect::<Vec<_>>()
        }))),
    ]
}

/// Nodes sharing a hostname share their name too (`w2: w2, w2`): each peer is named with its source
/// instead (`w2 (from fleet.jsonl:3)`), so the two records can be told apart and found. A member is
/// matched to its node by its name's address: it borrows that node's name.
fn named_by_source<'a>(mut grouping: Grouping<'a>, nodes: &[NodeView<'a>]) -> Grouping<'a> {
    for group in grouping.groups.iter_mut() {
        if group.members.len() < 2 {
            continue;
        }
        for member in group.members.iter_mut().filter(|m| !m.this) {
            if let Some(source) = nodes
                .iter()
                .find(|n| !n.this && std::ptr::eq(n.name, member.name))
                .and_then(|n| n.source)
            {
                member.detail = Some(format!("from {source}"));
            }
        }
    }
    grouping
}

fn lower(s: &str) -> Option<String> {
    Some(s.trim().to_ascii_lowercase()).filter(|s| !s.is_empty())
}

/// A machine identifier from the snapshot, else from the node list; lower case.
fn identifier(
    node: &NodeView,
    in_facts: impl Fn(&Host) -> &Option<CompactString>,
    in_kube: impl Fn(&KubeNode) -> &Option<String>,
) -> Option<String> {
    let from_facts = node.facts.and_then(|f| in_facts(&f.host).as_deref());
    from_facts
        .or_else(|| node.kube.and_then(|k| in_kube(k).as_deref()))
        .and_then(lower)
}

struct Uniqueness {
    id: &'static str,
    what: &'static str,
    remediation: &'static str,
}

impl Uniqueness {
    /// Takes the grouping by value, so each one is freed as soon as it is judged: the groupings of a
    /// large fleet (one group per node, as every value should be unique) are never all alive at once.
    fn judge(&self, grouping: Grouping) -> CheckResult {
        let (id, what) = (self.id, self.what);
        let known = grouping.known();
        if known == 0 {
            return CheckResult::skip(id, Area::Parity, format!("no node's {what} is known"));
        }
        let shared: Vec<_> = grouping.shared().collect();
        let unknown = grouping.unknown_note();
        let duplicates = Value::from(shared.iter().map(|g| g.evidence()).collect::<Vec<_>>());
        let unknown_labels = labels(&grouping.unknown);
        if shared.is_empty() {
            return CheckResult::ok(
                id,
                Area::Parity,
                format!("no two nodes share a {what}{unknown}"),
            )
            .with("duplicates", duplicates)
            .with("unknown", unknown_labels);
        }
        let listed: Vec<String> = shared
            .iter()
            .take(NAMES_SHOWN)
            .map(|g| format!("{}: {}", g.value, names(&g.members)))
            .collect();
        let mut line = listed.join("; ");
        if shared.len() > NAMES_SHOWN {
            line.push_str(&format!(
                "; and {} more shared values",
                thousands(shared.len() - NAMES_SHOWN)
            ));
        }
        let mine = shared.iter().find(|g| g.has_this_node());
        let (status, message) = match mine {
            Some(g) => {
                let others: Vec<Member> = g.members.iter().filter(|m| !m.this).cloned().collect();
                (
                    Status::Fail,
                    format!(
                        "this node's {what} {} is also on {}: {line}{unknown}",
                        g.value,
                        names(&others)
                    ),
                )
            }
            None => (
                Status::Warn,
                format!(
                    "{} {what} value{} shared by several peers: {line}{unknown}",
                    thousands(shared.len()),
                    if shared.len() == 1 { " is" } else { "s are" }
                ),
            ),
        };
        CheckResult::new(id, Area::Parity, status, message)
            .with("duplicates", duplicates)
            .with("unknown", unknown_labels)
            .fix(self.remediation)
    }
}
