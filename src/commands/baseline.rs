//! `nodecheck baseline record`: save this node's facts at join time, and load them back for the
//! post-boot drift checks.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::checks::Phase;
use crate::cli::{BaselineCommand, BaselineRecordArgs};
use crate::error::BadInput;
use crate::escape::for_terminal;
use crate::facts::Facts;

/// Where `nodecheck baseline record` writes, and where post-boot looks, by default.
pub const DEFAULT_BASELINE_PATH: &str = "/var/lib/nodecheck/baseline.json";

pub fn exec(cmd: BaselineCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        BaselineCommand::Record(args) => record(&args),
    }
}

/// Gathers the live host's facts and writes them atomically, mode 0600: a full snapshot of the host
/// (addresses, MACs, units) is for root only. Running it again replaces
/// the baseline with the node as it is now.
fn record(args: &BaselineRecordArgs) -> anyhow::Result<ExitCode> {
    let facts = crate::gather::gather_facts(&super::host_root(&args.host)?)?;
    let json = serde_json::to_string_pretty(&facts)? + "\n";
    let out = &args.out;
    crate::output::write_atomically_with_mode(out, json.as_bytes(), BASELINE_MODE)
        .with_context(|| format!("writing the baseline to {}", out.display()))?;
    let (profile, _) = crate::profile::load::resolve_profile(None)?;
    let node_nic = match crate::checks::node_network::resolve(&facts, &profile).nic {
        Some(n) => {
            let addrs: Vec<String> = crate::network::addresses::stable_global_addresses(n)
                .map(crate::network::addresses::cidr_of)
                .collect();
            format!(
                "node NIC {} {} MAC {}",
                for_terminal(&n.name),
                crate::checks::list_or_none(&addrs),
                n.mac.as_deref().unwrap_or("none")
            )
        }
        None => "no node NIC found: no default route and no address in the profile's node network; NIC drift cannot be checked".to_string(),
    };
    eprintln!(
        "baseline recorded: {} ({} interfaces, {node_nic})",
        out.display(),
        facts.interfaces.len()
    );
    if !facts.host.gathered_as_root {
        eprintln!("note: recorded without root: facts that need root (product_uuid) are missing");
    }
    Ok(ExitCode::SUCCESS)
}

/// The baseline's mode, whatever the umask.
const BASELINE_MODE: u32 = 0o600;

/// The baseline a `check` run compares with: `--baseline FILE` (missing or corrupt: bad input,
/// exit 2); for post-boot without it, the default file when it exists (else `None`: the drift
/// checks then report a `Drift-Baseline` skip saying how to record one).
pub fn load_for_check(phase: Phase, explicit: Option<&Path>) -> Result<Option<Facts>, BadInput> {
    if let Some(path) = explicit {
        return crate::facts::load::load_facts_file(path)
            .map(Some)
            .map_err(|e| BadInput(format!("baseline: {}", e.0)));
    }
    let default = Path::new(DEFAULT_BASELINE_PATH);
    if phase == Phase::PostBoot && default.exists() {
        return crate::facts::load::load_facts_file(default)
            .map(Some)
            .map_err(|e| {
                BadInput(format!(
                    "baseline: {} (record it again with `nodecheck baseline record`)",
                    e.0
                ))
            });
    }
    Ok(None)
}
