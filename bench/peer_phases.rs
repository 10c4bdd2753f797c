//! Times the phases of a peer-parity run in-process, for `bench/peers.sh`: loading the peers, the
//! parity and uniqueness checks alone, and every check of `nodecheck check` (which includes checks of
//! other areas that also look at every peer, such as the Calico model).
//!
//! Usage: `cargo run --release --example peer_phases -- THIS.json PEERS_PATH [PROFILE.yaml]`
//! Prints one line: `load_s parity_s all_checks_s peers`.

use std::path::PathBuf;
use std::time::Instant;

use nodecheck::checks::{self, Context, Phase};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: peer_phases THIS.json PEERS_PATH [PROFILE.yaml]";
    let this = nodecheck::facts::load::load_facts_file(args.first().ok_or(usage)?.as_ref())?;
    let peers_path = PathBuf::from(args.get(1).ok_or(usage)?);
    let profile = match args.get(2) {
        Some(path) => nodecheck::profile::load::load_profile_file(path.as_ref())?,
        None => nodecheck::profile::load::resolve_profile(None)?.0,
    };

    let start = Instant::now();
    let set = nodecheck::peers::load::load_peers(&[peers_path], &this)?;
    let load = start.elapsed();
    let ctx = Context {
        facts: &this,
        profile: &profile,
        phase: Phase::PreJoin,
        peers: &set.peers,
        baseline: None,
        live: None,
        this_node_kube: set.this_node.as_ref(),
        calico_deployed: None,
    };
    let start = Instant::now();
    let parity = checks::parity::evaluate(&ctx);
    let parity_time = start.elapsed();
    let start = Instant::now();
    let all = checks::evaluate(&ctx);
    let all_time = start.elapsed();
    assert!(parity.len() <= all.len());
    println!(
        "{:.3} {:.3} {:.3} {}",
        load.as_secs_f64(),
        parity_time.as_secs_f64(),
        all_time.as_secs_f64(),
        set.peers.len()
    );
    Ok(())
}
