//! `nodecheck calico`: predict calico-node's address choice here and on each peer, and recommend the
//! `IP_AUTODETECTION_METHOD` that selects the node-network address on every node. The only I/O here is
//! loading inputs and, on a live host, asking the kernel (and the resolver) about `can-reach=` targets.

use std::net::IpAddr;
use std::process::ExitCode;

use crate::calico::analysis::{analyse_family, CalicoReport, FamilySettings};
use crate::calico::deployed::{DeployedCalico, Detection};
use crate::calico::method::{parse_method, Method};
use crate::calico::nodes::build_fleet;
use crate::calico::predict::{KernelReach, Model, Resolution};
use crate::cli::{CalicoArgs, CalicoFormat, FamilyChoice};
use crate::error::Exit;
use crate::facts::{Facts, Family};
use crate::network::routes::default_gateway;
use crate::profile::calico_version::CalicoVersion;
use crate::profile::Profile;
use crate::report::{calico_formats, calico_human};

/// The Calico version to model: `--calico-version`, else the profile's, else the built-in default.
pub fn calico_version(
    flag: Option<&str>,
    profile: &Profile,
) -> Result<(CalicoVersion, String), crate::error::BadInput> {
    match (flag, &profile.calico.version) {
        (Some(v), _) => Ok((v.parse()?, "--calico-version".into())),
        (None, Some(v)) => Ok((v.value().clone(), "profile calico.version".into())),
        (None, None) => Ok((
            profile.calico.release().value().clone(),
            "built-in default; set calico.version in the profile or --calico-version".into(),
        )),
    }
}

/// Every `can-reach=` destination any evaluated method may use.
fn reach_destinations(values: &[String], version: &CalicoVersion) -> Vec<String> {
    let mut out = Vec::new();
    for v in values {
        if let Method::CanReach { destination } = parse_method(v, version) {
            if !destination.is_empty() && !out.contains(&destination) {
                out.push(destination);
            }
        }
    }
    out
}

/// Resolves names and asks the kernel for the source address of each destination (live host only).
fn live_reach(destinations: &[String], live: bool) -> (Vec<Resolution>, Vec<KernelReach>) {
    let mut resolutions = Vec::new();
    let mut targets: Vec<IpAddr> = Vec::new();
    for d in destinations {
        match d.parse::<IpAddr>() {
            Ok(ip) => targets.push(ip),
            Err(_) => {
                let answer =
                    crate::gather::reach::resolve(d, crate::gather::reach::RESOLVE_TIMEOUT);
                if let Ok(list) = &answer {
                    targets.extend(list.iter().copied());
                }
                resolutions.push(Resolution {
                    name: d.clone(),
                    addresses: answer,
                });
            }
        }
    }
    let kernel = if live {
        targets
            .into_iter()
            .map(|dest| KernelReach {
                destination: dest,
                source: crate::gather::reach::source_address_for(dest).map_err(|e| {
                    e.raw_os_error()
                        .and_then(crate::calico::go_format::errno_text)
                        .map(String::from)
                        .unwrap_or_else(|| e.to_string())
                }),
            })
            .collect()
    } else {
        Vec::new()
    };
    (resolutions, kernel)
}

/// The prediction and recommendation for `families` here and on the peers: what `nodecheck calico`
/// prints, and what `nodecheck fix` shows as its manual cluster step. `methods`: the `--method` values
/// to show besides the current method, first-found and the recommended one; `None` works out only the
/// recommendation (all the machine formats print).
pub fn build_report(
    profile: &Profile,
    (version, version_source): (CalicoVersion, String),
    facts: &Facts,
    peer_set: &crate::peers::load::PeerSet,
    families: &[Family],
    (methods, deployed): (Option<&[String]>, Option<&DeployedCalico>),
    live: bool,
) -> CalicoReport {
    let only_recommendation = methods.is_none();
    let extra_methods = methods.unwrap_or_default();
    let mut values: Vec<String> = extra_methods.to_vec();
    for family in families {
        if let Some(Detection::Autodetect(Some(m))) = deployed.map(|d| d.detection(*family)) {
            values.push(m.clone());
        }
    }
    values.extend(profile.calico.ipv4_method.iter().cloned());
    values.extend(profile.calico.ipv6_method.iter().cloned());
    if let Some(dest) = &profile.calico.can_reach {
        values.push(format!("can-reach={dest}"));
    }
    for family in families {
        if let Some(g) = default_gateway(facts, *family) {
            values.push(format!("can-reach={g}"));
        }
    }
    let (resolutions, kernel) = live_reach(&reach_destinations(&values, &version), live);

    let fleet = build_fleet(facts, peer_set.this_node.as_ref(), &peer_set.peers, &kernel);
    let model = Model::new(&version, &resolutions);
    let analyses = families
        .iter()
        .map(|family| {
            let current = match family {
                Family::Ipv4 => profile.calico.ipv4_method.as_deref(),
                Family::Ipv6 => profile.calico.ipv6_method.as_deref(),
            };
            let settings = FamilySettings {
                current_method: current,
                can_reach: profile.calico.can_reach.as_deref(),
                profile_cidrs: &profile.node_network.cidrs,
                extra_methods,
                only_recommendation,
                deployed: deployed.map(|d| (d.source.as_str(), d.detection(*family))),
            };
            analyse_family(&model, &fleet, *family, &settings)
        })
        .collect();
    CalicoReport {
        host: facts.host.hostname.to_string(),
        calico_version: version,
        calico_version_source: version_source,
        live,
        families: analyses,
        peers_without_facts: fleet.without_facts.clone(),
        peer_problems: peer_set
            .problems
            .iter()
            .map(|p| format!("{}: {}", p.source, p.message))
            .collect(),
    }
}

pub fn exec(args: CalicoArgs, color: bool) -> anyhow::Result<ExitCode> {
    let _ = color;
    super::at_most_one_stdin(
        args.input
            .facts
            .iter()
            .chain(args.input.peers.iter())
            .chain(args.calico_config.iter())
            .map(|p| p.as_path()),
    )?;
    let (profile, _origin) = crate::profile::load::resolve_profile(args.input.profile.as_deref())?;
    let deployed = args
        .calico_config
        .as_deref()
        .map(crate::calico::deployed::load)
        .transpose()?;
    let deployed_version = deployed.as_ref().and_then(|d| d.version.clone());
    let (version, version_source) = match (&args.calico_version, &deployed_version) {
        (None, Some(v)) => {
            let version: CalicoVersion = v.parse()?;
            let source = deployed.as_ref().map_or("", |d| d.source.as_str());
            (version, format!("the deployed calico-node image, {source}"))
        }
        _ => calico_version(args.calico_version.as_deref(), &profile)?,
    };
    let facts: Facts = super::facts_from(
        args.input.facts.as_deref(),
        &args.input.host.resolve()?,
        &args.input.kubelet,
    )?;
    let live = args.input.facts.is_none();
    let peer_set = super::peers_from(&args.input.peers, &facts)?;
    let families = match args.family {
        Some(FamilyChoice::Ipv4) => vec![Family::Ipv4],
        Some(FamilyChoice::Ipv6) => vec![Family::Ipv6],
        Some(FamilyChoice::Both) => vec![Family::Ipv4, Family::Ipv6],
        None => profile.calico.families.clone(),
    };

    let report = build_report(
        &profile,
        (version, version_source),
        &facts,
        &peer_set,
        &families,
        (
            match args.format {
                CalicoFormat::Env | CalicoFormat::Kubectl | CalicoFormat::Operator => None,
                CalicoFormat::Human | CalicoFormat::Json => Some(&args.method),
            },
            deployed.as_ref(),
        ),
        live,
    );

    let recommended = report.all_recommended();
    let text = match args.format {
        CalicoFormat::Human => calico_human::human(&report),
        CalicoFormat::Json => calico_formats::json(&report),
        CalicoFormat::Env if recommended => calico_formats::env_lines(&report),
        CalicoFormat::Kubectl if recommended => calico_formats::kubectl_command(&report),
        CalicoFormat::Operator if recommended => calico_formats::operator_patch(&report)?,
        _ => String::new(),
    };
    crate::output::print_stdout(&text)?;
    if !recommended
        && matches!(
            args.format,
            CalicoFormat::Env | CalicoFormat::Kubectl | CalicoFormat::Operator
        )
    {
        for line in calico_formats::no_recommendation_reasons(&report) {
            eprintln!("nodecheck: {line}");
        }
    }
    // A peer input that could not be used is bad input (exit 2), as for `check`, ahead of 3: the others
    // are still modelled and the output printed; `peers_from` named each unusable input on stderr.
    if !report.peer_problems.is_empty() {
        return Ok(Exit::BadInput.into());
    }
    if !recommended {
        return Ok(Exit::ChecksFailed.into());
    }
    Ok(Exit::Ok.into())
}
