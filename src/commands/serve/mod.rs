//! `nodecheck serve`: the DaemonSet's main container. One thread re-runs the phase's checks on an
//! interval (one run at a time; `gather` keeps its own netlink runtime), and keeps the last run's
//! answers; the HTTP side ([`http`]) only ever serves that cached run, so no request triggers work
//! and a burst of requests cannot pile up check runs.
//!
//! Each run has a deadline (`--run-timeout`): a run that does not finish in time is counted
//! (`nodecheck_serve_runs_timed_out_total`), no new run starts while it is stuck, and `/healthz`
//! turns unhealthy once the last finished run is older than three intervals plus the deadline.

mod auth;
mod connections;
mod http;
pub mod web_config;

use std::process::ExitCode;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, RwLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::checks::Status;
use crate::cli::ServeArgs;
use crate::error::BadInput;
use crate::report::ReportFormat;

/// What the last finished run left to serve.
#[derive(Debug, Clone, Default)]
pub struct Latest {
    /// Finished runs since start.
    pub runs: u64,
    /// Runs that did not finish within the deadline.
    pub timed_out: u64,
    /// Unix time the last run finished, and how long it took.
    pub finished_at: f64,
    pub duration: f64,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, Default)]
pub enum Outcome {
    /// No run has finished yet.
    #[default]
    Pending,
    Ran {
        /// The report in Prometheus text format (what `--textfile` writes).
        metrics: String,
        report_json: String,
        /// IDs of failed checks (and, with `--strict`, warned ones).
        failed: Vec<String>,
    },
    /// The run itself failed (bad profile, unreadable input): the message.
    Error(String),
}

/// The cached run, shared between the runner thread and the server.
pub type Shared = Arc<RwLock<Arc<Latest>>>;

pub fn exec(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let input = &args.check.input;
    let stdin_inputs = input
        .facts
        .iter()
        .chain(input.peers.iter())
        .chain(args.check.baseline.iter())
        .chain(args.check.calico_config.iter())
        .any(|p| p.as_os_str() == "-");
    if stdin_inputs {
        return Err(BadInput(
            "serve re-reads its inputs on every run: give files, not `-` (stdin)".into(),
        )
        .into());
    }
    if args.check.npd {
        return Err(BadInput("--npd is a mode of `check`, not of `serve`".into()).into());
    }
    if args.check.probe_dataplane {
        return Err(BadInput(
            "--probe-dataplane changes host state and runs only when asked, with `check`: not on every `serve` run".into(),
        )
        .into());
    }
    let web = match &args.web_config_file {
        Some(path) => web_config::load(path)?,
        None => web_config::WebConfig::default(),
    };
    if args.report_json && web.users.is_empty() {
        eprintln!(
            "nodecheck: serve: /report.json (the host's addresses, MACs and units) is served without authentication; set basic_auth_users in --web-config-file to protect it"
        );
    }
    // Bind first: a port in use is reported before any check runs.
    let listener = http::bind(args.listen)?;
    let args = Arc::new(args);
    // A first run before serving: bad input (a broken profile) stops here with exit 2.
    let shared: Shared = Arc::new(RwLock::new(Arc::new(Latest::default())));
    let first = match start_run(&args, 0).recv_timeout(args.run_timeout) {
        Ok(first) => first,
        Err(_) => anyhow::bail!(
            "the first check run did not finish within --run-timeout {} s",
            args.run_timeout.as_secs()
        ),
    };
    if let Outcome::Error(message) = &first.outcome {
        return Err(BadInput(message.clone()).into());
    }
    store(&shared, first);
    let runner_shared = Arc::clone(&shared);
    let runner_args = Arc::clone(&args);
    std::thread::Builder::new()
        .name("nodecheck-runs".into())
        .spawn(move || run_forever(&runner_args, &runner_shared))?;
    let site = http::Site {
        shared,
        auth: auth::BasicAuth::new(web.users),
        tls: web.tls.map(tokio_rustls::TlsAcceptor::from),
        report_json: args.report_json,
        stale_after: 3.0 * args.interval.as_secs_f64() + args.run_timeout.as_secs_f64(),
    };
    http::serve(listener, site)?;
    Ok(crate::error::Exit::Ok.into())
}

/// Runs the checks every interval, each within the deadline; a run still stuck at the next tick
/// is waited for instead of starting another beside it.
fn run_forever(args: &Arc<ServeArgs>, shared: &Shared) {
    let mut stuck: Option<Receiver<Latest>> = None;
    loop {
        std::thread::sleep(args.interval);
        let latest = current(shared);
        let pending = match stuck.take() {
            Some(run) => run,
            None => start_run(args, latest.runs),
        };
        match pending.recv_timeout(args.run_timeout) {
            Ok(mut finished) => {
                if let Outcome::Error(e) = &finished.outcome {
                    eprintln!("nodecheck: serve: this run failed: {e}");
                }
                finished.runs = current(shared).runs + 1;
                finished.timed_out = current(shared).timed_out;
                store(shared, finished);
            }
            Err(RecvTimeoutError::Timeout) => {
                eprintln!(
                    "nodecheck: serve: a check run did not finish within {} s; no new run starts until it does",
                    args.run_timeout.as_secs()
                );
                let mut counted = (*current(shared)).clone();
                counted.timed_out += 1;
                store(shared, counted);
                stuck = Some(pending);
            }
            // The run's thread died (it does not panic; this keeps the loop going).
            Err(RecvTimeoutError::Disconnected) => {}
        }
    }
}

/// Starts one run on its own thread; its result arrives on the returned channel.
fn start_run(args: &Arc<ServeArgs>, runs_before: u64) -> Receiver<Latest> {
    let (tx, rx) = std::sync::mpsc::channel();
    let args = Arc::clone(args);
    let spawned = std::thread::Builder::new()
        .name("nodecheck-run".into())
        .spawn(move || {
            let _ = tx.send(run_once(&args, runs_before));
        });
    if let Err(e) = spawned {
        eprintln!("nodecheck: serve: cannot start a check run: {e}");
    }
    rx
}

/// Why the cached run is too old to vouch for the node (`/healthz` then fails): the last finished run
/// is older than `stale_after` seconds at `now`.
pub fn staleness(latest: &Latest, stale_after: f64, now: f64) -> Option<String> {
    let age = now - latest.finished_at;
    (latest.runs > 0 && age > stale_after).then(|| {
        format!(
            "stale: the last check run finished {age:.0} s ago and none has finished since ({} runs timed out)",
            latest.timed_out
        )
    })
}

/// Unix time now, in seconds.
pub fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The last stored run.
pub fn current(shared: &Shared) -> Arc<Latest> {
    Arc::clone(&shared.read().unwrap_or_else(|e| e.into_inner()))
}

fn store(shared: &Shared, latest: Latest) {
    *shared.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(latest);
}

/// One run of the checks, rendered for every endpoint.
fn run_once(args: &ServeArgs, runs_before: u64) -> Latest {
    let started = Instant::now();
    let outcome = match super::inputs::check_report(&args.check) {
        Err(e) => Outcome::Error(format!("{e:#}")),
        Ok(report) => {
            if let Err(e) = super::results::write(
                &report,
                args.check.write_results.as_deref(),
                args.check.textfile.as_deref(),
            ) {
                eprintln!("nodecheck: serve: cannot write the results: {e:#}");
            }
            let failed = report
                .results
                .iter()
                .filter(|r| {
                    r.status == Status::Fail || (args.check.strict && r.status == Status::Warn)
                })
                .map(|r| r.id.clone())
                .collect();
            Outcome::Ran {
                metrics: crate::report::render(&report, ReportFormat::Prometheus, false),
                report_json: crate::report::render(&report, ReportFormat::Json, false),
                failed,
            }
        }
    };
    Latest {
        runs: runs_before + 1,
        timed_out: 0,
        finished_at: now(),
        duration: started.elapsed().as_secs_f64(),
        outcome,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_older_than_the_limit_is_stale() {
        let latest = Latest {
            runs: 3,
            timed_out: 2,
            finished_at: 1000.0,
            ..Latest::default()
        };
        assert_eq!(staleness(&latest, 60.0, 1059.0), None);
        let stale = staleness(&latest, 60.0, 1061.0).unwrap();
        assert!(stale.contains("61 s ago"), "{stale}");
        assert!(stale.contains("2 runs timed out"), "{stale}");
        assert_eq!(
            staleness(&Latest::default(), 60.0, 1e9),
            None,
            "no run yet: pending, not stale"
        );
    }
}
