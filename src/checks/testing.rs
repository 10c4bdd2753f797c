//! The one home of what check unit tests share: the post-join snapshots and a context runner, and
//! the assertions on results (`find`, `expect`). Facts built by hand come from `facts::testkit`.

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

/// The baseline, and a reboot that named the node NIC `e\x1bq$;x` (a control byte and shell
/// metacharacters) with MTU 9000: what escaping and quoting are tested on.
pub fn hostile_rename() -> (Facts, Facts) {
    let base = baseline();
    let mut now = base.clone();
    now.interfaces[1].name = "e\x1bq$;x".into();
    now.interfaces[1].mtu = 9000;
    (base, now)
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
        node: Some(Box::new(crate::peers::KubeNode {
            name: name.into(),
            addresses: vec![("InternalIP".into(), ip.into())],
            calico_ipv4_address: calico.map(str::to_string),
            ..Default::default()
        })),
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
            .find_map(|p| p.node.as_deref()),
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

/// Every pre-join check of a host whose `preflight` section is `preflight`, under `profile_yaml`.
pub fn pre_join_with_preflight(
    facts: crate::facts::Facts,
    preflight: crate::facts::preflight::Preflight,
    profile_yaml: &str,
) -> Vec<CheckResult> {
    let mut facts = facts;
    facts.preflight = Some(Box::new(preflight));
    run(
        &facts,
        &profile(profile_yaml),
        Phase::PreJoin,
        &[],
        None,
        None,
    )
}

/// Every pre-join check of a host whose nftables forward-hook base chains are `chains` and whose
/// iptables backend is `iptables` (when known).
pub fn pre_join_with_forward_chains(
    chains: Vec<crate::facts::preflight::NftForwardChain>,
    iptables: Option<crate::facts::preflight::IptablesBackend>,
) -> Vec<CheckResult> {
    let preflight = crate::facts::preflight::Preflight {
        iptables,
        forward: Some(crate::facts::preflight::ForwardPolicy {
            nftables: chains,
            nftables_error: None,
            ..Default::default()
        }),
        ..Default::default()
    };
    pre_join_with_preflight(
        crate::facts::testkit::host("n").build(),
        preflight,
        "cluster: t\n",
    )
}
