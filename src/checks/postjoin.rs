//! What the post-join and drift checks share: finding this node's NIC and network in a snapshot, and
//! naming who owns an interface (a compose project's bridge, docker's default bridge, a Calico tunnel).

use crate::checks::node_network;
use crate::facts::{Address, Facts, Interface};
use crate::profile::Profile;

pub use crate::network::addresses::cidr_of as cidr;

/// The node NIC of a snapshot: the NIC the profile expects, else the first interface holding an
/// address in the node network (the profile's CIDRs, else the default route's subnets).
pub fn node_nic<'a>(facts: &'a Facts, profile: &Profile) -> Option<&'a Interface> {
    node_network::resolve(facts, profile).nic
}

/// Global addresses that are meant to stay (not IPv6 privacy addresses, which rotate by design).
pub fn stable_global_addresses(iface: &Interface) -> impl Iterator<Item = &Address> {
    iface.addresses.iter().filter(|a| is_stable_global(a))
}

fn is_stable_global(a: &Address) -> bool {
    a.scope == "global" && !a.flags.iter().any(|f| f == "temporary")
}

/// Who made this interface, when we can tell: `compose project middleware`, `docker network
/// backend`, `docker's default bridge`, `Calico IP-in-IP tunnel`; `None` otherwise.
pub fn interface_owner(facts: &Facts, name: &str) -> Option<String> {
    if let Some(net) = facts
        .docker
        .networks
        .iter()
        .find(|n| n.bridge_device.as_deref() == Some(name))
    {
        return Some(match &net.compose_project {
            Some(project) => format!("compose project {}", project),
            None if net.name == "bridge" => "docker's default bridge".to_string(),
            None => format!("docker network {}", net.name),
        });
    }
    let owner = match name {
        "docker0" => "docker's default bridge",
        "tunl0" => "Calico IP-in-IP tunnel",
        "vxlan.calico" | "vxlan-v6.calico" => "Calico VXLAN tunnel",
        "wireguard.cali" | "wg-v6.cali" => "Calico WireGuard tunnel",
        "kube-ipvs0" => "kube-proxy IPVS dummy",
        "nodelocaldns" => "NodeLocal DNSCache",
        n if is_docker_network_bridge(n) => "a docker network bridge",
        _ => return None,
    };
    Some(owner.to_string())
}

/// `br-` followed by 12 hex digits: the bridge `docker network create` (and compose) makes.
pub fn is_docker_network_bridge(name: &str) -> bool {
    name.strip_prefix("br-")
        .is_some_and(|h| h.len() == 12 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `br-3f2a1b4c5d6e (compose project middleware)`. Messages carry names as they are; the
/// renderers escape them for the terminal.
pub fn describe_interface(facts: &Facts, name: &str) -> String {
    match interface_owner(facts, name) {
        Some(owner) => format!("{name} ({owner})"),
        None => name.to_string(),
    }
}

/// `a, b, c` or `none`.
pub fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join(", ")
    }
}

/// Snapshots and contexts for the post-join and drift unit tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use crate::checks::{CheckResult, Context, Phase, Status};
    use crate::facts::Facts;
    use crate::peers::Peer;
    use crate::probes::LiveProbes;
    use crate::profile::Profile;

    /// worker-41 at join time: eth3 10.20.41.11/24 (default route), eth4, tunl0, BIRD routes.
    pub fn baseline() -> Facts {
        parse(include_str!(
            "../../tests/fixtures/postboot/worker-41-baseline.json"
        ))
    }

    /// worker-41 after the reboot: eth3 renamed ens192 with MTU 1450, docker0 and a compose bridge,
    /// a newer kernel, BIRD gone (no port 179, no routes).
    pub fn after_reboot() -> Facts {
        parse(include_str!(
            "../../tests/fixtures/postboot/worker-41-after-reboot.json"
        ))
    }

    fn parse(text: &str) -> Facts {
        crate::facts::load::parse_facts(text).expect("fixture parses")
    }

    pub fn profile(yaml: &str) -> Profile {
        crate::profile::load::parse_profile(yaml, "test").expect("profile parses")
    }

    /// A peer from `kubectl get nodes -o json`: its InternalIP and, optionally, Calico's annotation.
    pub fn kube_node(name: &str, ip: &str, calico: Option<&str>) -> Peer {
        Peer {
            name: name.into(),
            source: "nodes.json".into(),
            facts: None,
            node: Some(crate::peers::KubeNode {
                name: name.into(),
                addresses: vec![("InternalIP".into(), ip.into())],
                calico_ipv4_address: calico.map(str::to_string),
                ..Default::default()
            }),
        }
    }

    /// A post-boot report of worker-41 holding `results`.
    pub fn report(results: Vec<CheckResult>) -> crate::report::Report {
        crate::report::Report {
            host: "worker-41".into(),
            cluster: None,
            profile: None,
            phase: Phase::PostBoot,
            nodecheck_version: "0".into(),
            collected_at: "now".into(),
            summary: crate::report::Summary::of(&results),
            results,
        }
    }

    /// Evaluates every check of `phase` and returns them.
    pub fn run(
        facts: &Facts,
        profile: &Profile,
        phase: Phase,
        peers: &[Peer],
        baseline: Option<&Facts>,
        live: Option<&LiveProbes>,
    ) -> Vec<CheckResult> {
        let ctx = Context {
            facts,
            profile,
            phase,
            peers,
            baseline,
            live,
            this_node_kube: peers
                .iter()
                .filter(|p| p.name.eq_ignore_ascii_case(&facts.host.hostname))
                .find_map(|p| p.node.as_ref()),
            calico_deployed: None,
        };
        crate::checks::evaluate(&ctx)
    }

    /// The result with this ID; panics listing the IDs present when it is missing.
    pub fn find<'a>(results: &'a [CheckResult], id: &str) -> &'a CheckResult {
        results.iter().find(|r| r.id == id).unwrap_or_else(|| {
            let ids: Vec<&str> = results.iter().map(|r| r.id.as_str()).collect();
            panic!("no {id} among {ids:?}")
        })
    }

    /// Asserts a status and that the message contains every fragment.
    pub fn expect(results: &[CheckResult], id: &str, status: Status, fragments: &[&str]) {
        let r = find(results, id);
        assert_eq!(r.status, status, "{id}: {}", r.message);
        for f in fragments {
            assert!(r.message.contains(f), "{id}: {:?} lacks {f:?}", r.message);
        }
    }
}
