//! Calico address autodetection checks (`Calico-AutodetectionIPv4`, `Calico-AutodetectionIPv6`): what the
//! profile's current method (unset = first-found) makes calico-node select on this node, judged against
//! the node network, with the recommended method as the remediation.

use super::finding::Finding;
use super::{Area, CheckResult, Context};
use crate::calico::analysis::env_var;
use crate::calico::candidates::calico_addresses;
use crate::calico::deployed::Detection;
use crate::calico::exclusions::{default_exclusions, list_changing_releases};
use crate::calico::fleet_eval::{evaluate_method, node_networks, Keep};
use crate::calico::go_regexp;
use crate::calico::nodes::build_fleet;
use crate::calico::outcome::Effect;
use crate::calico::predict::{predict, Model, Verdict};
use crate::calico::recommend::recommend;
use crate::facts::Family;
use crate::network::addresses::is_global_unicast;
use crate::profile::calico_version::CalicoVersion;

/// Link kinds that can legitimately carry the node address; any other kind is a virtual device.
const NODE_CAPABLE_KINDS: [&str; 3] = ["vlan", "bond", "team"];

fn check_id(family: Family) -> String {
    format!("Calico-AutodetectionIPv{}", family.number())
}

/// Evaluates the Calico autodetection checks for the profile's families.
pub fn evaluate(ctx: &Context) -> Vec<CheckResult> {
    let version = ctx.profile.calico.release();
    let families = ctx.profile.calico.families.clone();
    families
        .iter()
        .map(|family| check_family(ctx, version.value(), *family))
        .collect()
}

fn check_family(ctx: &Context, version: &CalicoVersion, family: Family) -> CheckResult {
    let id = check_id(family);
    let var = env_var(family);
    let profile_method = match family {
        Family::Ipv4 => ctx.profile.calico.ipv4_method.as_deref(),
        Family::Ipv6 => ctx.profile.calico.ipv6_method.as_deref(),
    };
    let shown = |m: Option<&str>| match m {
        None => format!("{var} unset (first-found)"),
        Some(m) => format!("{var}={m}"),
    };
    // The deployed method (`--calico-config`) is the current one; the profile's is named when it differs.
    let deployed = ctx.calico_deployed.map(|d| (d, d.detection(family)));
    let (current, method_text) = match deployed {
        Some((d, Detection::Autodetect(m))) => {
            let mut text = format!("{} (deployed: {})", shown(m.as_deref()), d.source);
            if m.as_deref().unwrap_or("first-found") != profile_method.unwrap_or("first-found") {
                text.push_str(&format!("; the profile says {}", shown(profile_method)));
            }
            (m.as_deref(), text)
        }
        Some((d, Detection::Off(why))) => {
            return CheckResult::skip(
                &id,
                Area::Calico,
                format!(
                    "the deployed calico-node does not autodetect this family ({why}; {})",
                    d.source
                ),
            )
            .with("deployed", d.source.clone());
        }
        Some((d, Detection::NotKnowable(why))) => (
            profile_method,
            format!(
                "{} (the profile's: the deployed value is not knowable: {why}; {})",
                shown(profile_method),
                d.source
            ),
        ),
        None => (profile_method, shown(profile_method)),
    };
    let method = current.unwrap_or("");
    let fleet = build_fleet(ctx.facts, ctx.this_node_kube, ctx.peers, &[]);
    let model = Model::new(version, &[]);
    let networks = node_networks(&fleet, &ctx.profile.node_network.cidrs, family);
    // Only this node's result is judged here: the other nodes' predictions are dropped before the
    // recommendation evaluates its candidates over the whole fleet.
    let here = evaluate_method(&model, &fleet, &networks, method, family, Keep::Counts)
        .nodes
        .into_iter()
        .next();
    let recommendation = recommend(
        &model,
        &fleet,
        &networks,
        family,
        ctx.profile.calico.can_reach.as_deref(),
        Keep::Counts,
    );
    let remediation = match &recommendation.chosen {
        Some(c) => format!(
            "set {var}={} on the calico-node DaemonSet (or the operator Installation); it {}; see `nodecheck calico`",
            crate::escape::shell_quote(&c.method),
            c.count_text()
        ),
        None => format!(
            "no single {var} value selects the node-network address on every node ({}); set IP per node or fix the nodes (`nodecheck calico` lists the reasons)",
            recommendation
                .rejected
                .first()
                .map(|r| r.reason.clone())
                .unwrap_or_default()
        ),
    };
    drop(recommendation);
    let Some(here) = &here else {
        return CheckResult::skip(id, Area::Calico, "no node to evaluate");
    };
    let p = &here.prediction;
    if family == Family::Ipv6 && ctx.facts.ipv6.kernel_off() && p.selected().is_none() {
        return CheckResult::fail(
            &id,
            Area::Calico,
            format!(
                "IPv6 is off in this node's kernel ({}), so calico-node's IPv6 autodetection ({method_text}) finds no address",
                if ctx.facts.ipv6.disabled_on_cmdline { "ipv6.disable=1 on the kernel command line" } else { "/proc/sys/net/ipv6 is missing" }
            ),
        )
        .with("calico_version", version.to_string())
        .with("method", method)
        .fix("enable IPv6 on this node (remove ipv6.disable=1 and reboot) or drop ipv6 from calico.families");
    }
    let network: Vec<String> = networks.per_node[0].iter().map(|c| c.to_string()).collect();
    let mut result = match (&p.verdict, here.outcome.effect, &here.problem) {
        (Verdict::Undetermined { reason }, _, _) => CheckResult::warn(
            &id,
            Area::Calico,
            format!(
                "cannot predict calico-node {version} with {method_text}: {}",
                reason
            ),
        ),
        (Verdict::Selected { .. }, _, None) if network.is_empty() => CheckResult::warn(
            &id,
            Area::Calico,
            format!(
                "calico-node {version} with {method_text} selects {}, but the node network is unknown (no profile node_network.cidrs, no default route)",
                here.outcome.summary
            ),
        ),
        (_, Effect::Runs, None) => {
            let (interface, address) = p.selected().map(|(i, a)| (i.to_string(), *a)).expect("selected");
            let warnings = fragility(ctx, &model, p, family, method, &interface);
            let base = format!(
                "calico-node {version} with {method_text} selects {} {address}, in the node network {}",
                &interface,
                network.join(", ")
            );
            if warnings.is_empty() {
                CheckResult::ok(&id, Area::Calico, base)
            } else {
                CheckResult::warn(&id, Area::Calico, format!("{base}, but {}", warnings.join("; ")))
            }
        }
        (_, _, problem) => CheckResult::fail(
            &id,
            Area::Calico,
            format!(
                "calico-node {version} with {method_text}: {}",
                problem
                    .as_deref()
                    .map(|p| without_method_prefix(p, method))
                    .unwrap_or_else(|| here.outcome.summary.clone())
            ),
        ),
    };
    result = result
        .with("calico_version", version.to_string())
        .found(Finding::CalicoMethod {
            family,
            method: method.to_string(),
        })
        .with("node_network", network)
        .with("log", here.outcome.log.clone())
        .with("trace", p.trace.clone());
    if let Some((i, a)) = p.selected() {
        result = result.with("interface", i).with("address", a.to_string());
    }
    if result.status != super::Status::Ok {
        result = result.fix(remediation);
    }
    result
}

/// A node problem without its leading "`method`: " / "`method` on node: " (the message names the method).
fn without_method_prefix(problem: &str, method: &str) -> String {
    let quoted = format!("`{}`", crate::calico::fleet_eval::shown_method(method));
    match problem.strip_prefix(&quoted) {
        Some(rest) => rest
            .strip_prefix(": ")
            .or_else(|| rest.strip_prefix(' '))
            .unwrap_or(rest)
            .to_string(),
        None => problem.to_string(),
    }
}

/// Why an answer that is right today is fragile: the selected interface is down, the method has a
/// trap (unanchored regex, second eligible address), or first-found hangs on a virtual device, on
/// interface order, or on the Calico version's exclusion list.
fn fragility(
    ctx: &Context,
    model: &Model,
    prediction: &crate::calico::predict::Prediction,
    family: Family,
    method: &str,
    interface: &str,
) -> Vec<String> {
    let facts = ctx.facts;
    let mut out = prediction.warnings.clone();
    let picked = facts.interface(interface);
    if let Some(i) = picked {
        if !i.admin_up || i.operstate == "down" {
            out.push(format!(
                "{} is down (calico-node does not check; BGP and tunnels to this node will fail)",
                interface
            ));
        }
    }
    if !matches!(method, "" | "first-found") {
        return out;
    }
    if let Some(kind) = picked.and_then(|i| i.kind.as_deref()) {
        if !NODE_CAPABLE_KINDS.contains(&kind) {
            out.push(format!(
                "the address is on a {kind} device ({}): first-found depends on a virtual device",
                interface
            ));
        }
    }
    let exclusions = format!("({})", default_exclusions(model.version).join(")|("));
    let excluded = model.regex(&exclusions).ok();
    let rivals: Vec<String> = facts
        .interfaces
        .iter()
        .filter(|other| other.name != interface)
        .filter(|other| {
            !excluded
                .as_ref()
                .is_some_and(|re| go_regexp::matches(re, &other.go_name()))
        })
        .filter(|other| {
            calico_addresses(other, family, model.version)
                .iter()
                .any(|a| is_global_unicast(&a.ip))
        })
        .map(|other| format!("{} (ifindex {})", &other.name, other.index))
        .collect();
    if !rivals.is_empty() {
        out.push(format!(
            "first-found depends on interface order: {} also carries an eligible address and would win with a higher ifindex than {} (a device created later, such as a new compose bridge or VPN, takes over at the next 60 s poll without a pod restart)",
            rivals.join(", "),
            interface
        ));
    }
    let node = &build_fleet(facts, None, &[], &[]).nodes[0].input.clone();
    let by_version: Vec<(CalicoVersion, String)> = list_changing_releases()
        .into_iter()
        .map(|v| {
            let p = predict(&Model::new(&v, &[]), node, "first-found", family);
            let pick = match p.selected() {
                Some((i, a)) => format!("{} {a}", i),
                None => "nothing".to_string(),
            };
            (v, pick)
        })
        .collect();
    if by_version.windows(2).any(|w| w[0].1 != w[1].1) {
        out.push(format!(
            "first-found's answer depends on the Calico version: {}",
            by_version
                .iter()
                .map(|(v, p)| format!("{v} picks {p}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::{Phase, Status};
    use crate::facts::testkit::host;
    use crate::facts::Facts;
    use crate::profile::Profile;

    /// Every result of the Calico checks for these facts under this profile YAML.
    fn run_all(facts: &Facts, yaml: &str) -> Vec<CheckResult> {
        let profile: Profile = crate::profile::load::parse_profile(yaml, "test").unwrap();
        let ctx = Context {
            facts,
            profile: &profile,
            phase: Phase::PreJoin,
            peers: &[],
            baseline: None,
            live: None,
            this_node_kube: None,
            calico_deployed: None,
        };
        evaluate(&ctx)
    }

    fn run(facts: &Facts, yaml: &str) -> CheckResult {
        run_all(facts, yaml).remove(0)
    }

    fn worker() -> Facts {
        host("worker-41")
            .nic("ens192", &["10.20.41.41/24"])
            .link("docker0", Some("bridge"), &["172.17.0.1/16"])
            .link("br-3f2a1b4c5d6e", Some("bridge"), &["172.18.0.1/16"])
            .route("default", Some("10.20.41.1"), "ens192", None, None)
            .build()
    }

    fn order_host() -> Facts {
        host("w")
            .nic("eth1", &["192.168.100.5/24"])
            .nic("eth0", &["10.20.41.5/24"])
            .route("default", Some("10.20.41.1"), "eth0", None, None)
            .build()
    }

    fn eth30_host() -> Facts {
        host("w")
            .nic("eth3", &["10.20.41.5/24"])
            .nic("eth30", &[])
            .route("default", Some("10.20.41.1"), "eth3", None, None)
            .build()
    }

    fn down_host() -> Facts {
        host("w")
            .nic("eth0", &["10.20.41.5/24"])
            .down()
            .route("default", Some("10.20.41.1"), "eth0", None, None)
            .build()
    }

    #[test]
    fn verdict_per_situation() {
        let cases: Vec<(&str, Facts, &str, Status, &str)> = vec![
            ("compose bridge picked by 3.24", worker(), "calico: {version: v3.24.1}\n", Status::Fail, "172.18.0.1/16"),
            ("skipped by 3.25 but version-dependent", worker(), "calico: {version: v3.25.0}\n", Status::Warn, "depends on the Calico version"),
            ("no eth3 on an ens192 node", worker(), "calico: {ipv4_method: interface=eth3}\n", Status::Fail,
             "Unable to auto-detect an IPv4 address using interface regexes [eth3]: no valid host interfaces found"),
            ("recommended method", worker(), "calico: {ipv4_method: cidr=10.20.41.0/24}\nnode_network: {cidrs: [10.20.41.0/24]}\n", Status::Ok, "selects ens192 10.20.41.41/24"),
            ("management NIC with a lower ifindex", order_host(), "calico: {version: v3.28.0}\n", Status::Warn, "interface order"),
            ("unanchored regex matching eth30 too", eth30_host(), "calico: {ipv4_method: interface=eth3}\n", Status::Warn, "unanchored"),
            ("node NIC down", down_host(), "calico: {ipv4_method: cidr=10.20.41.0/24}\n", Status::Warn, "is down"),
        ];
        for (name, facts, profile, status, text) in cases {
            let r = run(&facts, profile);
            assert_eq!(r.status, status, "{name}: {}", r.message);
            assert!(r.message.contains(text), "{name}: {}", r.message);
            assert_eq!(r.remediation.is_some(), status != Status::Ok, "{name}");
        }
        let fix = run(&worker(), "calico: {version: v3.24.1}\n")
            .remediation
            .unwrap();
        assert!(fix.contains("cidr=10.20.41.0/24"), "{fix}");
    }

    #[test]
    fn ipv6_off_in_the_kernel_is_named_as_the_cause() {
        let mut facts = worker();
        facts.ipv6.disabled_on_cmdline = true;
        let r = run(&facts, "calico: {families: [ipv6]}\n");
        assert_eq!(r.id, "Calico-AutodetectionIPv6");
        assert_eq!(r.status, Status::Fail);
        assert!(r.message.contains("ipv6.disable=1"), "{}", r.message);
    }

    #[test]
    fn only_profile_families_are_checked() {
        let ids: Vec<String> = run_all(&worker(), "calico: {families: [ipv4, ipv6]}\n")
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(
            ids,
            vec!["Calico-AutodetectionIPv4", "Calico-AutodetectionIPv6"]
        );
    }
}
