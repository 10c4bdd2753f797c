//! The Calico prediction and recommendation as every command builds it (`calico` prints it, `fix`
//! shows its manual cluster step from it): the version to model, and on a live host the resolver's
//! and the kernel's answers for `can-reach=` destinations, then the pure model.

use std::net::IpAddr;

use super::Inputs;
use crate::calico::analysis::{analyse_family, CalicoReport, FamilySettings};
use crate::calico::deployed::Detection;
use crate::calico::method::{parse_method, Method};
use crate::calico::nodes::build_fleet;
use crate::calico::predict::{KernelReach, Model, Resolution};
use crate::error::BadInput;
use crate::facts::Family;
use crate::network::routes::default_gateway;
use crate::profile::calico_version::CalicoVersion;
use crate::profile::Profile;

/// The Calico version to model: `--calico-version`, else the profile's, else the built-in default.
pub fn calico_version(
    flag: Option<&str>,
    profile: &Profile,
) -> Result<(CalicoVersion, String), BadInput> {
    match (flag, &profile.calico.version) {
        (Some(v), _) => Ok((v.parse()?, "--calico-version".into())),
        (None, Some(v)) => Ok((v.value().clone(), "profile calico.version".into())),
        (None, None) => Ok((
            profile.calico.release().value().clone(),
            "built-in default; set calico.version in the profile or --calico-version".into(),
        )),
    }
}

/// The Calico version the `calico` command models: `--calico-version`, else the deployed calico-node
/// image's tag (`--calico-config`), else the profile's, else the built-in default; with where it came
/// from.
pub fn version_to_model(inputs: &Inputs) -> Result<(CalicoVersion, String), BadInput> {
    let deployed = inputs.deployed_calico.as_ref();
    match (
        &inputs.calico_version_flag,
        deployed.and_then(|d| d.version.as_ref()),
    ) {
        (None, Some(v)) => Ok((
            v.parse()?,
            format!(
                "the deployed calico-node image, {}",
                deployed.map_or("", |d| d.source.as_str())
            ),
        )),
        (flag, _) => calico_version(flag.as_deref(), &inputs.profile),
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
pub fn report(
    inputs: &Inputs,
    (version, version_source): (CalicoVersion, String),
    families: &[Family],
    methods: Option<&[String]>,
) -> CalicoReport {
    let (profile, facts, peer_set) = (&inputs.profile, &inputs.facts, &inputs.peer_set);
    let (deployed, live) = (inputs.deployed_calico.as_ref(), inputs.live);
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
