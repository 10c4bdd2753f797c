//! `nodecheck profile init|validate|schema`.

use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::{ProfileCommand, ProfileInitArgs};
use crate::error::{BadInput, Exit};

pub fn exec(cmd: ProfileCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ProfileCommand::Validate(args) => {
            crate::profile::load::load_profile_file(&args.file)?;
            eprintln!(
                "{}: valid",
                crate::escape::for_terminal(&args.file.display().to_string())
            );
            Ok(Exit::Ok.into())
        }
        ProfileCommand::Schema => {
            let schema = crate::profile::schema::profile_schema();
            crate::output::print_stdout(&(serde_json::to_string_pretty(&schema)? + "\n"))?;
            Ok(Exit::Ok.into())
        }
        ProfileCommand::Init(args) => init(args),
    }
}

fn init(args: ProfileInitArgs) -> anyhow::Result<ExitCode> {
    if let Some(out) = &args.out {
        if out.exists() && !args.force {
            return Err(BadInput(format!(
                "{} exists; pass --force to overwrite it",
                out.display()
            ))
            .into());
        }
    }
    let facts = super::facts_from(
        args.facts.as_deref(),
        &super::host_root(&args.host)?,
        &crate::cli::KubeletArgs::default(),
    )?;
    let options = crate::profile::init::InitOptions {
        cluster: args.cluster.as_deref(),
        node_network: args.node_network,
        node_nic: args.node_nic.as_deref(),
    };
    let generated = crate::profile::init::profile_yaml(&facts, &options)?;
    for conflict in &generated.conflicts {
        eprintln!(
            "nodecheck: warning: {}",
            crate::escape::for_terminal(conflict)
        );
    }
    if !generated.added.is_empty() {
        eprintln!(
            "nodecheck: note: the profile requires what this node does not have (marked `added` in \
             it): {}; this node fails these until fixed (`nodecheck fix`)",
            crate::escape::for_terminal(&generated.added.join(", "))
        );
    }
    let yaml = generated.yaml;
    // What we write must load: a failure here is a nodecheck bug, not bad input.
    crate::profile::load::parse_profile(&yaml, "generated profile")
        .map_err(|e| anyhow::anyhow!("the generated profile does not validate: {e}"))?;
    match &args.out {
        Some(out) => {
            crate::output::write_atomically(out, yaml.as_bytes())
                .with_context(|| format!("writing {}", out.display()))?;
            eprintln!(
                "wrote {}",
                crate::escape::for_terminal(&out.display().to_string())
            );
        }
        None => crate::output::print_stdout(&yaml)?,
    }
    Ok(Exit::Ok.into())
}
