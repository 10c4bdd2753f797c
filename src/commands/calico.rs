//! `nodecheck calico`: predict calico-node's address choice here and on each peer, and recommend the
//! `IP_AUTODETECTION_METHOD` that selects the node-network address on every node. The only I/O here is
//! loading inputs and, on a live host, asking the kernel (and the resolver) about `can-reach=` targets.

use std::process::ExitCode;

use super::inputs::calico::{report as calico_report, version_to_model};
use super::inputs::{Inputs, Sources};
use crate::cli::{CalicoArgs, CalicoFormat, FamilyChoice};
use crate::error::Exit;
use crate::facts::Family;
use crate::report::{calico_formats, calico_human};

pub fn exec(args: CalicoArgs, color: bool) -> anyhow::Result<ExitCode> {
    let _ = color;
    let inputs = Inputs::load(Sources::of(
        &args.input,
        args.calico_version.as_deref(),
        args.calico_config.as_deref(),
    )?)?;

    let version = version_to_model(&inputs)?;
    let families = match args.family {
        Some(FamilyChoice::Ipv4) => vec![Family::Ipv4],
        Some(FamilyChoice::Ipv6) => vec![Family::Ipv6],
        Some(FamilyChoice::Both) => vec![Family::Ipv4, Family::Ipv6],
        None => inputs.profile.calico.families.clone(),
    };

    let methods = match args.format {
        CalicoFormat::Env | CalicoFormat::Kubectl | CalicoFormat::Operator => None,
        CalicoFormat::Human | CalicoFormat::Json => Some(args.method.as_slice()),
    };
    let report = calico_report(&inputs, version, &families, methods);

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
