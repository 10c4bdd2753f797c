//! What the judging commands work from, loaded one way: the profile (with the deployed Calico
//! configuration and `--calico-version` folded in), this node's facts (a saved snapshot, or the host
//! read under `--host-root`), the peers, and the checks judged on them with one skip list.
//!
//! `check`, `check --npd`, `serve`, `fix` and `calico` all load through here (the Ansible module runs
//! those commands), so the same flags give the same checks with the same skips whichever command
//! judges. No command calls another command's internals.

pub mod calico;

use std::path::{Path, PathBuf};

use crate::calico::deployed::DeployedCalico;
use crate::checks::skip::{apply_skips, unmatched_skips};
use crate::checks::{CheckResult, Context, Phase, Status};
use crate::cli::{CheckArgs, InputArgs, KubeletArgs};
use crate::error::BadInput;
use crate::facts::Facts;
use crate::host_root::HostRoot;
use crate::peers::load::PeerSet;
use crate::probes::LiveProbes;
use crate::profile::Profile;
use crate::report::{Report, Summary};

/// Where the inputs come from: the flags the judging commands share.
pub struct Sources<'a> {
    pub profile: Option<&'a Path>,
    /// A saved snapshot; `None` reads the host under `host_root`.
    pub facts: Option<&'a Path>,
    pub peers: &'a [PathBuf],
    pub host_root: HostRoot,
    pub kubelet: &'a KubeletArgs,
    pub calico_version: Option<&'a str>,
    pub calico_config: Option<&'a Path>,
    /// Other inputs of the command that may be `-` (a baseline): stdin can be read only once.
    pub other_inputs: Vec<&'a Path>,
    /// `--max-peer-age`.
    pub max_peer_age: Option<std::time::Duration>,
}

/// The loaded inputs.
pub struct Inputs {
    pub profile: Profile,
    /// Where the profile came from, for reports (`/etc/nodecheck/profile.yaml`, `built-in default`).
    pub profile_origin: String,
    /// The deployed calico-node configuration (`--calico-config`).
    pub deployed_calico: Option<DeployedCalico>,
    pub calico_version_flag: Option<String>,
    pub facts: Facts,
    pub peer_set: PeerSet,
    /// Whether any peer input was given (`Peers-Input` is judged only then).
    pub peers_given: bool,
    /// `--max-peer-age`: older peer snapshots fail `Peers-Input`.
    pub max_peer_age: Option<std::time::Duration>,
    pub host_root: HostRoot,
    /// The facts were read from this host now, not from a saved snapshot.
    pub live: bool,
}

impl Inputs {
    pub fn load(sources: Sources) -> anyhow::Result<Inputs> {
        super::at_most_one_stdin(
            sources
                .facts
                .into_iter()
                .chain(sources.peers.iter().map(PathBuf::as_path))
                .chain(sources.calico_config)
                .chain(sources.other_inputs.iter().copied()),
        )?;
        let (mut profile, profile_origin) = crate::profile::load::resolve_profile(sources.profile)?;
        if let Some(version) = sources.calico_version {
            let release = crate::profile::parsed::Parsed::new(version).map_err(|_| {
                BadInput(format!(
                    "--calico-version `{version}` is not a version (expected e.g. 3.24.1 or v3.28.0)"
                ))
            })?;
            profile.calico.version = Some(release);
        }
        let deployed_calico = sources
            .calico_config
            .map(crate::calico::deployed::load)
            .transpose()?;
        // The deployed image tag stands in for the profile's version when it names a release.
        if let Some(version) = deployed_calico.as_ref().and_then(|d| d.version.as_ref()) {
            if sources.calico_version.is_none() {
                if let Ok(release) = crate::profile::parsed::Parsed::new(version.as_str()) {
                    profile.calico.version = Some(release);
                }
            }
        }
        let facts = super::facts_for_profile(
            sources.facts,
            &sources.host_root,
            sources.kubelet,
            Some(&profile),
        )?;
        let peer_set = super::peers_from(sources.peers, &facts)?;
        Ok(Inputs {
            profile,
            profile_origin,
            deployed_calico,
            calico_version_flag: sources.calico_version.map(str::to_string),
            facts,
            peer_set,
            peers_given: !sources.peers.is_empty(),
            max_peer_age: sources.max_peer_age,
            host_root: sources.host_root,
            live: sources.facts.is_none(),
        })
    }

    /// The context the checks of `phase` read.
    pub fn context<'a>(
        &'a self,
        phase: Phase,
        baseline: Option<&'a Facts>,
        live: Option<&'a LiveProbes>,
    ) -> Context<'a> {
        self.context_of(&self.facts, phase, baseline, live)
    }

    /// [`Inputs::context`] for other facts of this node (gathered again after `fix --apply`).
    pub fn context_of<'a>(
        &'a self,
        facts: &'a Facts,
        phase: Phase,
        baseline: Option<&'a Facts>,
        live: Option<&'a LiveProbes>,
    ) -> Context<'a> {
        Context {
            facts,
            profile: &self.profile,
            phase,
            peers: &self.peer_set.peers,
            baseline,
            live,
            this_node_kube: self.peer_set.this_node.as_ref(),
            calico_deployed: self.deployed_calico.as_ref(),
        }
    }

    /// Every check of the context's phase, `Peers-Input` when peers were given, and the skip list
    /// (`extra_skips` and the profile's `skip:`) applied; unmatched skip entries are named on stderr.
    pub fn judge(&self, ctx: &Context, extra_skips: &[String]) -> Vec<CheckResult> {
        let mut results = crate::checks::evaluate(ctx);
        if self.peers_given {
            results.push(crate::checks::parity::peers_input(
                &self.peer_set,
                crate::checks::parity::PeerAge {
                    now: &ctx.facts.collected_at,
                    max_seconds: self.max_peer_age.map(|d| d.as_secs()),
                },
            ));
        }
        let skips: Vec<String> = extra_skips
            .iter()
            .chain(self.profile.skip.iter())
            .cloned()
            .collect();
        apply_skips(&mut results, &skips);
        for unmatched in unmatched_skips(&results, &skips) {
            eprintln!(
                "nodecheck: warning: skip entry `{}` matches no check of this run (IDs: docs/checks.md)",
                crate::escape::for_terminal(&unmatched)
            );
        }
        results
    }
}

impl<'a> Sources<'a> {
    /// The sources `check`'s and `calico`'s shared input flags name, with their Calico flags.
    pub fn of(
        input: &'a InputArgs,
        calico_version: Option<&'a str>,
        calico_config: Option<&'a Path>,
    ) -> Result<Sources<'a>, BadInput> {
        Ok(Sources {
            profile: input.profile.as_deref(),
            facts: input.facts.as_deref(),
            peers: &input.peers,
            host_root: super::host_root(&input.host)?,
            kubelet: &input.kubelet,
            calico_version,
            calico_config,
            other_inputs: Vec::new(),
            max_peer_age: None,
        })
    }
}

/// The inputs `check`'s flags name (also `check --npd` and `serve`).
pub fn load_for_check(args: &CheckArgs) -> anyhow::Result<Inputs> {
    let mut sources = Sources::of(
        &args.input,
        args.calico_version.as_deref(),
        args.calico_config.as_deref(),
    )?;
    sources.other_inputs = args.baseline.iter().map(PathBuf::as_path).collect();
    sources.max_peer_age = args.max_peer_age;
    Inputs::load(sources)
}

/// Loads every input `check`'s flags name, evaluates the checks of the phase and applies the skip
/// list: the report that `check`, `check --npd` and `serve` render.
pub fn check_report(args: &CheckArgs) -> anyhow::Result<Report> {
    if args.probe_dataplane && args.input.facts.is_some() {
        return Err(BadInput(
            "--probe-dataplane probes this host's forwarding path: it cannot judge a saved snapshot (--facts)".into(),
        )
        .into());
    }
    let inputs = load_for_check(args)?;
    let baseline = super::baseline::load_for_check(args.phase, args.baseline.as_deref())?;
    let live = live_probes(args, &inputs);
    if let Some(crate::probes::dataplane::DataplaneOutcome::Interrupted { signal }) = live
        .as_ref()
        .and_then(|l| l.dataplane.as_ref())
        .map(|d| &d.outcome)
    {
        anyhow::bail!(
            "interrupted by {signal} during the data-plane probe; the namespaces and links it made were removed"
        );
    }
    let ctx = inputs.context(args.phase, baseline.as_ref(), live.as_ref());
    let results = inputs.judge(&ctx, &args.skip);
    Ok(Report {
        host: inputs.facts.host.hostname.to_string(),
        cluster: inputs.profile.cluster.clone(),
        profile: Some(inputs.profile_origin.clone()),
        phase: args.phase,
        nodecheck_version: env!("CARGO_PKG_VERSION").to_string(),
        collected_at: inputs.facts.collected_at.to_string(),
        summary: Summary::of(&results),
        results,
    })
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

/// Runs the live probes on the live host (not for a saved snapshot): the API server endpoints in
/// every phase, Felix and cluster DNS for post-join and post-boot.
fn live_probes(args: &CheckArgs, inputs: &Inputs) -> Option<LiveProbes> {
    if !inputs.live {
        return None;
    }
    let profile = &inputs.profile;
    let mut api_servers: Vec<(String, String)> = Vec::new();
    if let Some(endpoint) = &args.api_server {
        api_servers.push((endpoint.clone(), "--api-server".into()));
    }
    if let Some(endpoint) = &profile.api_server {
        if !api_servers.iter().any(|(e, _)| e == endpoint) {
            api_servers.push((endpoint.clone(), "profile api_server".into()));
        }
    }
    let post_join = args.phase >= Phase::PostJoin;
    let flags = crate::probes::config::ProbeFlags {
        felix_port: args.felix_port,
        cluster_dns: args.cluster_dns,
        cluster_domain: args.cluster_domain.clone(),
    };
    let kubelet_config = match &args.kubelet_config {
        Some(path) => path.clone(),
        // A link loop under the host root: an empty path, which reads as a missing file.
        None => inputs
            .host_root
            .path(crate::probes::kubelet::DEFAULT_KUBELET_CONFIG)
            .unwrap_or_default(),
    };
    let settings = crate::probes::settings(&flags, &profile.post_join, &kubelet_config);
    let mut live = crate::probes::run(&settings, post_join, &api_servers);
    if args.probe_dataplane {
        live.dataplane = Some(crate::probes::dataplane::probe(&dataplane_request(inputs)));
    }
    Some(live)
}

/// Where the data-plane probe takes its addresses (the profile's first IPv4 pod CIDR, or Calico's
/// default) and the MTU it sends at (the veth MTU `Mtu-Overlay` predicts).
fn dataplane_request(inputs: &Inputs) -> crate::probes::dataplane::DataplaneRequest {
    let pod_cidr = inputs
        .profile
        .pod_cidrs
        .iter()
        .find_map(|net| match net {
            ipnet::IpNet::V4(v4) => Some(*v4),
            ipnet::IpNet::V6(_) => None,
        })
        .unwrap_or_else(|| {
            crate::profile::init::DEFAULT_POD_CIDR
                .parse()
                .expect("the default pod CIDR parses")
        });
    // Addresses on this host's interfaces, and pods' /32 routes (a CNI already running).
    let used = inputs
        .facts
        .interfaces
        .iter()
        .flat_map(|i| &i.addresses)
        .map(|a| a.address)
        .chain(
            inputs
                .facts
                .routes
                .iter()
                .filter(|r| r.destination.prefix_len() == 32)
                .map(|r| r.destination.addr()),
        )
        .filter_map(|a| match a {
            std::net::IpAddr::V4(v4) => Some(v4),
            std::net::IpAddr::V6(_) => None,
        })
        .collect();
    crate::probes::dataplane::DataplaneRequest {
        pod_cidr,
        used,
        mtu: crate::checks::data_plane::mtu::predicted_veth_mtu(&inputs.facts, &inputs.profile),
    }
}
