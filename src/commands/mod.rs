//! One module per subcommand: each turns validated arguments into gathered or loaded inputs, calls the
//! pure layers, and renders. No judgement lives here.

pub mod assets;
pub mod baseline;
pub mod calico;
pub mod check;
pub mod facts;
pub mod fix;
pub mod profile;
pub mod results;

use crate::error::BadInput;
use crate::facts::Facts;

/// This node's facts: the saved snapshot given with `--facts`, else the live host read under
/// `--host-root`.
pub fn facts_from(
    path: Option<&std::path::Path>,
    host_root: &crate::host_root::HostRoot,
) -> anyhow::Result<Facts> {
    match path {
        Some(p) => Ok(crate::facts::load::load_facts_file(p)?),
        None => crate::gather::gather_facts(host_root),
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
