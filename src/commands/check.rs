//! `nodecheck check`: load the inputs, evaluate the checks of the phase, apply the skip list, render.

use std::process::ExitCode;

use crate::checks::{CheckResult, Context, Status};
use crate::cli::CheckArgs;
use crate::report::{Report, Summary};

/// `check` (`check --npd` is `npd::exec`; `commands::run` picks).
pub fn exec(args: CheckArgs, color: bool) -> anyhow::Result<ExitCode> {
    let report = build_report(&args)?;
    crate::output::print_stdout(&crate::report::render(&report, args.format, color))?;
    super::results::write(
        &report,
        args.write_results.as_deref(),
        args.textfile.as_deref(),
    )?;
    // A peer input that could not be used is bad input (exit 2), ahead of failed checks (3).
    if peer_input_failed(&report) {
        return Ok(crate::error::Exit::BadInput.into());
    }
    Ok(report.exit(args.strict).into())
}

/// Whether a peer input could not be used (`Peers-Input` failed with problems): bad input. A peer
/// snapshot older than `--max-peer-age` fails `Peers-Input` too, but as a check (exit 3): the input
/// was read, and the report says what is stale.
pub fn peer_input_failed(report: &Report) -> bool {
    report.results.iter().any(|r| {
        r.id == crate::checks::parity::input::ID
            && r.status == Status::Fail
            && r.evidence
                .get("problems")
                .and_then(|p| p.as_array())
                .is_some_and(|p| !p.is_empty())
    })
}

/// Loads every input, evaluates the checks of the phase and applies the skip list: the report that
/// `check`, `check --npd` and `serve` render.
pub fn build_report(args: &CheckArgs) -> anyhow::Result<Report> {
    super::at_most_one_stdin(
        args.input
            .facts
            .iter()
            .chain(args.input.peers.iter())
            .chain(args.baseline.iter())
            .chain(args.calico_config.iter())
            .map(|p| p.as_path()),
    )?;
    let (mut profile, origin) =
        crate::profile::load::resolve_profile(args.input.profile.as_deref())?;
    if let Some(version) = &args.calico_version {
        let release = crate::profile::parsed::Parsed::new(version.as_str()).map_err(|_| {
            crate::error::BadInput(format!(
                "--calico-version `{version}` is not a version (expected e.g. 3.24.1)"
            ))
        })?;
        profile.calico.version = Some(release);
    }
    let deployed = args
        .calico_config
        .as_deref()
        .map(crate::calico::deployed::load)
        .transpose()?;
    // The deployed image tag stands in for the profile's version when it names a release.
    if let Some(version) = deployed.as_ref().and_then(|d| d.version.as_ref()) {
        if args.calico_version.is_none() {
            if let Ok(release) = crate::profile::parsed::Parsed::new(version.as_str()) {
                profile.calico.version = Some(release);
            }
        }
    }
    let host_root = args.input.host.resolve()?;
    let facts = super::facts_for_profile(
        args.input.facts.as_deref(),
        &host_root,
        &args.input.kubelet,
        Some(&profile),
    )?;
    let baseline = super::baseline::load_for_check(args.phase, args.baseline.as_deref())?;
    let peer_set = super::peers_from(&args.input.peers, &facts)?;
    let live = live_probes(args, &profile, &host_root);
    let ctx = Context {
        facts: &facts,
        profile: &profile,
        phase: args.phase,
        peers: &peer_set.peers,
        baseline: baseline.as_ref(),
        live: live.as_ref(),
        this_node_kube: peer_set.this_node.as_ref(),
        calico_deployed: deployed.as_ref(),
    };
    let mut results = crate::checks::evaluate(&ctx);
    if !args.input.peers.is_empty() {
        results.push(crate::checks::parity::peers_input(
            &peer_set,
            crate::checks::parity::PeerAge {
                now: &facts.collected_at,
                max_seconds: args.max_peer_age.map(|d| d.as_secs()),
            },
        ));
    }
    let skips: Vec<String> = args
        .skip
        .iter()
        .chain(profile.skip.iter())
        .cloned()
        .collect();
    apply_skips(&mut results, &skips);
    for unmatched in unmatched_skips(&results, &skips) {
        eprintln!(
            "nodecheck: warning: skip entry `{}` matches no check of this run (IDs: docs/checks.md)",
            crate::escape::for_terminal(&unmatched)
        );
    }
    Ok(Report {
        host: facts.host.hostname.to_string(),
        cluster: profile.cluster.clone(),
        profile: Some(origin.clone()),
        phase: args.phase,
        nodecheck_version: env!("CARGO_PKG_VERSION").to_string(),
        collected_at: facts.collected_at.to_string(),
        summary: Summary::of(&results),
        results,
    })
}

/// Runs the live probes on the live host (not for a saved snapshot): the API server endpoints in
/// every phase, Felix and cluster DNS for post-join and post-boot.
fn live_probes(
    args: &CheckArgs,
    profile: &crate::profile::Profile,
    host_root: &crate::host_root::HostRoot,
) -> Option<crate::probes::LiveProbes> {
    if args.input.facts.is_some() {
        return None;
    }
    let mut api_servers: Vec<(String, String)> = Vec::new();
    if let Some(endpoint) = &args.api_server {
        api_servers.push((endpoint.clone(), "--api-server".into()));
    }
    if let Some(endpoint) = &profile.api_server {
        if !api_servers.iter().any(|(e, _)| e == endpoint) {
            api_servers.push((endpoint.clone(), "profile api_server".into()));
        }
    }
    let post_join = args.phase >= crate::checks::Phase::PostJoin;
    let flags = crate::probes::config::ProbeFlags {
        felix_port: args.felix_port,
        cluster_dns: args.cluster_dns,
        cluster_domain: args.cluster_domain.clone(),
    };
    let kubelet_config = match &args.kubelet_config {
        Some(path) => path.clone(),
        None => host_root.path(crate::probes::kubelet::DEFAULT_KUBELET_CONFIG),
    };
    let settings = crate::probes::settings(&flags, &profile.post_join, &kubelet_config);
    Some(crate::probes::run(&settings, post_join, &api_servers))
}

/// The skip list, normalised once: exact IDs in a set, `prefix*` entries apart. Matching a result is
/// one lookup plus one comparison per prefix entry, so a skip list of any length costs time linear in
/// its length (a quadratic scan made 100,000 entries take seconds). `fix --only` matches the same way.
pub struct SkipList {
    exact: std::collections::HashSet<String>,
    prefixes: Vec<String>,
}

impl SkipList {
    pub fn new(skips: &[String]) -> SkipList {
        let mut list = SkipList {
            exact: Default::default(),
            prefixes: Vec::new(),
        };
        let mut seen_prefixes = std::collections::HashSet::new();
        for s in skips {
            let s = s.trim().to_ascii_lowercase();
            match s.strip_suffix('*') {
                Some(prefix) if seen_prefixes.insert(prefix.to_string()) => {
                    list.prefixes.push(prefix.to_string());
                }
                Some(_) => {}
                None if !s.is_empty() => {
                    list.exact.insert(s);
                }
                None => {}
            }
        }
        list
    }

    pub fn matches(&self, id: &str) -> bool {
        let id = id.to_ascii_lowercase();
        self.exact.contains(&id) || self.prefixes.iter().any(|p| id.starts_with(p.as_str()))
    }
}

/// Marks every result whose ID is in the skip list (exact, case-insensitive, or a `prefix*`) as skipped.
pub fn apply_skips(results: &mut [CheckResult], skips: &[String]) {
    let list = SkipList::new(skips);
    for r in results.iter_mut() {
        if r.status != Status::Skip && list.matches(&r.id) {
            *r = r.skipped_by_list();
        }
    }
}

/// Skip-list entries that match none of the results: usually a typo, or a check of another phase.
/// Each entry is named once, in the order given.
pub fn unmatched_skips(results: &[CheckResult], skips: &[String]) -> Vec<String> {
    let ids: std::collections::HashSet<String> =
        results.iter().map(|r| r.id.to_ascii_lowercase()).collect();
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for s in skips {
        let s = s.trim();
        let key = s.to_ascii_lowercase();
        if s.is_empty() || !seen.insert(key.clone()) {
            continue;
        }
        let matched = match key.strip_suffix('*') {
            Some(prefix) => ids.iter().any(|id| id.starts_with(prefix)),
            None => ids.contains(&key),
        };
        if !matched {
            out.push(s.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::CheckResult;

    fn result(id: &str) -> CheckResult {
        CheckResult::new(id, crate::checks::Area::Host, Status::Fail, "broken")
    }

    #[test]
    fn skip_entries_match_exactly_case_insensitively_or_by_prefix() {
        let mut results = vec![
            result("Swap-Off"),
            result("Sysctl-net.ipv4.ip_forward"),
            result("Mtu"),
        ];
        let skips = vec![
            "swap-off".to_string(),
            "Sysctl-*".into(),
            "Nope".into(),
            "nope".into(),
        ];
        apply_skips(&mut results, &skips);
        let statuses: Vec<Status> = results.iter().map(|r| r.status).collect();
        assert_eq!(statuses, [Status::Skip, Status::Skip, Status::Fail]);
        assert_eq!(unmatched_skips(&results, &skips), ["Nope"]);
    }

    #[test]
    fn a_huge_skip_list_costs_linear_time() {
        let mut results: Vec<CheckResult> =
            (0..60).map(|i| result(&format!("Check-{i}"))).collect();
        let skips: Vec<String> = (0..100_000).map(|i| format!("Unknown-{i}")).collect();
        let started = std::time::Instant::now();
        apply_skips(&mut results, &skips);
        let unmatched = unmatched_skips(&results, &skips);
        assert_eq!(unmatched.len(), 100_000);
        // The quadratic scan took 16 s in a release build (minutes in a test build); the linear one
        // takes milliseconds optimised and a few seconds in a test build on a busy machine.
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{:?}",
            started.elapsed()
        );
    }
}
