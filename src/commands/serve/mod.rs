//! `nodecheck serve`: the DaemonSet's main container. One thread re-runs the phase's checks on an
//! interval (one run at a time; `gather` keeps its own netlink runtime), and keeps the last run's
//! answers; the HTTP side ([`http`]) only ever serves that cached run, so no request triggers work
//! and a burst of requests cannot pile up check runs.

mod http;

use std::process::ExitCode;
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
    // A first run before listening: bad input (a broken profile) stops here with exit 2.
    let shared: Shared = Arc::new(RwLock::new(Arc::new(Latest::default())));
    let first = run_once(&args, 0);
    if let Outcome::Error(message) = &first.outcome {
        return Err(BadInput(message.clone()).into());
    }
    store(&shared, first);
    let runner_shared = Arc::clone(&shared);
    let interval = args.interval;
    let listen = args.listen;
    std::thread::Builder::new()
        .name("nodecheck-runs".into())
        .spawn(move || loop {
            std::thread::sleep(interval);
            let runs = current(&runner_shared).runs;
            let latest = run_once(&args, runs);
            if let Outcome::Error(e) = &latest.outcome {
                eprintln!("nodecheck: serve: this run failed: {e}");
            }
            store(&runner_shared, latest);
        })?;
    http::serve(listen, shared)?;
    Ok(crate::error::Exit::Ok.into())
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
        finished_at: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64()),
        duration: started.elapsed().as_secs_f64(),
        outcome,
    }
}
