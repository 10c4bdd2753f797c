//! One module per subcommand: each turns validated arguments into gathered or loaded inputs, calls the
//! pure layers, and renders. No judgement lives here.

pub mod addresses;
pub mod assets;
pub mod baseline;
pub mod calico;
pub mod check;
pub mod facts;
pub mod fix;
pub mod inputs;
pub mod npd;
pub mod profile;
pub mod results;
pub mod serve;

use std::process::ExitCode;

use crate::cli::{Cli, Command};
use crate::error::BadInput;
use crate::facts::Facts;

/// Runs the parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let color = color_enabled(cli.color);
    match cli.command {
        Command::Facts(args) => facts::exec(args),
        Command::Check(args) if args.npd => Ok(npd::exec(&args)),
        Command::Check(args) => check::exec(args, color),
        Command::Calico(args) => calico::exec(args, color),
        Command::Addresses(args) => addresses::exec(args),
        Command::Profile(cmd) => profile::exec(cmd),
        Command::Baseline(cmd) => baseline::exec(cmd),
        Command::Fix(args) => fix::exec(args),
        Command::Serve(args) => serve::exec(args),
        Command::GenerateAssets(args) => assets::exec(args),
    }
}

/// Colour only on a terminal, never with NO_COLOR set (https://no-color.org).
fn color_enabled(choice: crate::report::ColorChoice) -> bool {
    use std::io::IsTerminal;
    match choice {
        crate::report::ColorChoice::Always => true,
        crate::report::ColorChoice::Never => false,
        crate::report::ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    }
}

/// The validated `--host-root` (bad input when it is not a directory).
pub fn host_root(args: &crate::cli::HostRootArgs) -> Result<crate::host_root::HostRoot, BadInput> {
    crate::host_root::HostRoot::from_arg(args.host_root.as_deref())
}

/// The kubeadm configuration `--kubeadm-config` names, parsed (bad input when the file is not a
/// usable kubeadm configuration).
pub fn kubeadm_registration(
    args: &crate::cli::KubeletArgs,
) -> Result<Option<crate::facts::kubelet::KubeadmNodeRegistration>, BadInput> {
    args.kubeadm_config
        .as_deref()
        .map(crate::gather::kubeadm_config::read_kubeadm_config)
        .transpose()
}

/// This node's facts: the saved snapshot given with `--facts`, else the live host read under
/// `--host-root`.
pub fn facts_from(
    path: Option<&std::path::Path>,
    host_root: &crate::host_root::HostRoot,
    kubelet: &crate::cli::KubeletArgs,
) -> anyhow::Result<Facts> {
    facts_for_profile(path, host_root, kubelet, None)
}

/// [`facts_from`]; a live run also reads every sysctl and module `profile` asks for, so none of
/// them is "not gathered" (a saved snapshot has what it has).
pub fn facts_for_profile(
    path: Option<&std::path::Path>,
    host_root: &crate::host_root::HostRoot,
    kubelet: &crate::cli::KubeletArgs,
    profile: Option<&crate::profile::Profile>,
) -> anyhow::Result<Facts> {
    let kubeadm = kubeadm_registration(kubelet)?;
    match path {
        Some(p) => {
            let mut facts = crate::facts::load::load_facts_file(p)?;
            if let Some(config) = kubeadm {
                crate::gather::kubelet::apply_kubeadm_config(&mut facts, config);
            }
            Ok(facts)
        }
        None => {
            let wanted = profile
                .map(|p| crate::gather::Wanted {
                    sysctls: p
                        .required_sysctls()
                        .into_iter()
                        .map(|(key, _)| key.to_string())
                        .collect(),
                    modules: p
                        .required_modules()
                        .into_iter()
                        .map(str::to_string)
                        .collect(),
                })
                .unwrap_or_default();
            crate::gather::gather_facts_with(host_root, kubeadm, &wanted)
        }
    }
}

/// Loads `--peers` (nothing when none is given); each unusable input is also reported on stderr.
pub fn peers_from(
    paths: &[std::path::PathBuf],
    facts: &Facts,
) -> Result<crate::peers::load::PeerSet, BadInput> {
    let set = crate::peers::load::load_peers(paths, facts)?;
    for problem in &set.problems {
        eprintln!(
            "nodecheck: peer input {}: {}",
            crate::escape::for_terminal(&problem.source),
            crate::escape::for_terminal(&problem.message)
        );
    }
    Ok(set)
}

/// Refuses two inputs that both want stdin.
pub fn at_most_one_stdin<'a>(
    paths: impl IntoIterator<Item = &'a std::path::Path>,
) -> Result<(), BadInput> {
    let n = paths.into_iter().filter(|p| p.as_os_str() == "-").count();
    if n > 1 {
        return Err(BadInput::new("`-` (stdin) can be given only once"));
    }
    Ok(())
}
