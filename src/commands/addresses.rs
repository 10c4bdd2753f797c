//! `nodecheck addresses`: every component's node address here and on each peer, and whether they
//! agree. Loads the inputs (profile, `--cni-config`, facts, peers), builds the stack of address
//! models, and renders; exit 3 when a component would exit or the picks disagree.

use std::process::ExitCode;

use super::inputs::{Inputs, Sources};
use crate::addresses::fleet::FleetWalk;
use crate::cli::{AddressesArgs, AddressesFormat};
use crate::error::Exit;
use crate::report::addresses;

/// Where flanneld's argument words are written, for the walk: the manifest or the profile.
fn flannel_place(args: &AddressesArgs) -> String {
    match args.cni_config.first() {
        Some(p) => format!("--cni-config {}", p.display()),
        None => "the profile's cni.flannel.args".to_string(),
    }
}

/// On a live host without `--cni-config`: the k3s/RKE2 configuration files and unit flags found
/// under `--host-root`.
fn host_configuration(
    host: &crate::host_root::HostRoot,
) -> Result<Option<crate::cni_config::DeployedCni>, crate::error::BadInput> {
    use crate::profile::cni::ComponentName;
    let found = crate::gather::k3s_config::read(host);
    if found.is_empty() {
        return Ok(None);
    }
    let mut deployed = crate::cni_config::DeployedCni::default();
    for config in found {
        let distro = if config.distro == "rke2" {
            ComponentName::Rke2
        } else {
            ComponentName::K3s
        };
        for problem in &config.unreadable {
            eprintln!("nodecheck: {}", crate::escape::for_terminal(problem));
        }
        for (path, text) in &config.files {
            crate::cni_config::parse_into(text, path, distro, &mut deployed)
                .map_err(|e| crate::error::BadInput(format!("{}: {e}", host.show(path))))?;
        }
        if let Some((declared_at, flags)) = config.unit_args {
            deployed.add_unit_flags(distro, &declared_at, flags);
        }
    }
    Ok(Some(deployed))
}

pub fn exec(args: AddressesArgs) -> anyhow::Result<ExitCode> {
    let mut sources = Sources::of(&args.input, None, None)?;
    sources.other_inputs = args.cni_config.iter().map(|p| p.as_path()).collect();
    let inputs = Inputs::load(sources)?;
    let (profile, facts, peer_set) = (&inputs.profile, &inputs.facts, &inputs.peer_set);
    let mut cni = profile.cni.clone();
    let mut deployed = crate::cni_config::load(&args.cni_config)?;
    if deployed.is_none() && inputs.live {
        deployed = host_configuration(&inputs.host_root)?;
    }
    if let Some(d) = &deployed {
        d.apply_to(&mut cni);
        for ignored in &d.ignored {
            eprintln!(
                "nodecheck: --cni-config: ignored (says nothing about node addresses): {}",
                crate::escape::for_terminal(ignored)
            );
        }
    }
    let calico_version = profile.calico.release().value().clone();
    let stack = crate::addresses::stack::build(
        &cni,
        &profile.calico,
        &calico_version,
        &flannel_place(&args),
    );
    let walk = FleetWalk::new(&stack, facts, peer_set.this_node.as_ref(), &peer_set.peers);
    let (any_fatal, agreed) = match args.format {
        AddressesFormat::Human => {
            let (picks, any_fatal) = walk.collect_all();
            crate::output::print_stdout(&addresses::human(&picks))?;
            (any_fatal, picks.consensus.agreed)
        }
        AddressesFormat::Json => {
            // Each node is written as it is predicted: the fleet's walks are never all in memory.
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let (verdict, written) = addresses::write_json_walking(walk, &mut out);
            match written.and_then(|()| std::io::Write::flush(&mut out)) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                other => other?,
            }
            (verdict.any_fatal, verdict.consensus.agreed)
        }
    };
    if !peer_set.problems.is_empty() {
        return Ok(Exit::BadInput.into());
    }
    if any_fatal || !agreed {
        return Ok(Exit::ChecksFailed.into());
    }
    Ok(Exit::Ok.into())
}
