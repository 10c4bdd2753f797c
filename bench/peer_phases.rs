//! Times the phases of a `nodecheck check --peers` run in-process, for `bench/peers.sh`: reading and
//! parsing the peers, the parity and uniqueness checks, the Calico model (both autodetection checks:
//! the profile's method and the recommendation over the whole fleet), every check of the run, and
//! rendering the JSON report. It also reads the process's peak resident memory during each phase
//! (loading; parity; the Calico checks; all checks and rendering), so a phase that holds too much
//! shows where.
//!
//! Usage: `cargo run --release --example peer_phases -- THIS.json PEERS_PATH [PROFILE.yaml]`
//! Prints one line: `load_s parity_s calico_s all_checks_s render_s peers load_peak_kib
//! parity_peak_kib calico_peak_kib checks_and_render_peak_kib`.

use std::path::PathBuf;
use std::time::Instant;

use nodecheck::checks::{self, Context, Phase};
use nodecheck::report::{Report, Summary};

/// `VmHWM` (peak resident set) of this process since the last [`reset_peak`], in KiB.
fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Starts a new peak (`clear_refs` 5 resets `VmHWM` to the current resident set).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

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
    let load_peak = peak_kib();
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
    reset_peak();
    let start = Instant::now();
    let parity = checks::parity::evaluate(&ctx);
    let parity_time = start.elapsed();
    let parity_peak = peak_kib();
    reset_peak();
    let start = Instant::now();
    let calico = checks::calico::evaluate(&ctx);
    let calico_time = start.elapsed();
    let calico_peak = peak_kib();
    reset_peak();
    let start = Instant::now();
    let all = checks::evaluate(&ctx);
    let all_time = start.elapsed();
    assert!(parity.len() + calico.len() <= all.len());
    let start = Instant::now();
    let report = Report {
        host: this.host.hostname.to_string(),
        cluster: profile.cluster.clone(),
        profile: None,
        phase: Phase::PreJoin,
        nodecheck_version: env!("CARGO_PKG_VERSION").to_string(),
        collected_at: this.collected_at.to_string(),
        summary: Summary::of(&all),
        results: all,
    };
    let rendered = nodecheck::report::render_json(&report);
    let render_time = start.elapsed();
    assert!(!rendered.is_empty());
    let render_peak = peak_kib();
    println!(
        "{:.3} {:.3} {:.3} {:.3} {:.3} {} {} {} {} {}",
        load.as_secs_f64(),
        parity_time.as_secs_f64(),
        calico_time.as_secs_f64(),
        all_time.as_secs_f64(),
        render_time.as_secs_f64(),
        set.peers.len(),
        load_peak,
        parity_peak,
        calico_peak,
        render_peak,
    );
    Ok(())
}
