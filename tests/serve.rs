//! `nodecheck serve` with real HTTP clients (curl, and raw TCP for a slow client) against a running
//! server on a free port of 127.0.0.1, and `check --npd`'s exit codes.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{bin, check_incident, incident_inputs, nodecheck};

/// The IDs `check --format json` fails on the fixture node with the incident profile (what serve's
/// /healthz and check --npd must name).
fn failed_ids() -> Vec<String> {
    let out = check_incident(&["--format", "json"]);
    let report = crate::util::json_stdout(&out);
    let failed: Vec<String> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "fail")
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    assert!(!failed.is_empty(), "the fixture node fails some check");
    failed
}

/// A running `nodecheck serve`, killed on drop.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(extra: &[&str]) -> Server {
        let mut child = Command::new(bin())
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(incident_inputs())
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start nodecheck serve");
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        let port = line
            .trim()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        // Keep draining stderr so the server never blocks on it.
        std::thread::spawn(move || {
            let mut sink = String::new();
            let _ = stderr.read_to_string(&mut sink);
        });
        Server { child, port }
    }

    /// `curl` one request: (status code, body).
    fn curl(&self, args: &[&str], path: &str) -> (u16, String) {
        let url = format!("http://127.0.0.1:{}{path}", self.port);
        let out = Command::new("curl")
            .args(["-s", "--max-time", "10", "-w", "\n%{http_code}"])
            .args(args)
            .arg(&url)
            .output()
            .expect("run curl");
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let (body, code) = text.rsplit_once('\n').unwrap();
        (code.parse().unwrap_or(0), body.to_string())
    }

    fn get(&self, path: &str) -> (u16, String) {
        self.curl(&[], path)
    }

    fn runs(&self) -> u64 {
        let (_, metrics) = self.get("/metrics");
        metrics
            .lines()
            .find_map(|l| l.strip_prefix("nodecheck_serve_runs_total "))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no run counter in {metrics}"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn endpoints_serve_the_cached_run_and_nothing_else() {
    let server = Server::start(&[]);
    let (code, body) = server.get("/healthz");
    assert_eq!(
        (code, body),
        (503, format!("failed: {}\n", failed_ids().join(", ")))
    );
    let (code, metrics) = server.get("/metrics");
    assert_eq!(code, 200);
    assert!(metrics.contains("nodecheck_check_status{"), "{metrics}");
    assert!(
        metrics.contains("nodecheck_serve_runs_total 1"),
        "{metrics}"
    );
    let (code, report) = server.get("/report.json");
    assert_eq!(code, 200);
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert_eq!(report["host"], "worker-1");
    assert_eq!(server.get("/").0, 404);
    assert_eq!(server.get("/metrics/extra").0, 404);
    assert_eq!(server.curl(&["-X", "POST"], "/healthz").0, 405);
    let (code, _) = server.curl(&["-I"], "/report.json");
    assert_eq!(code, 200, "HEAD is served like GET");
}

#[test]
fn healthz_is_200_when_no_check_fails() {
    let skip = failed_ids().join(",");
    let server = Server::start(&["--skip", &skip]);
    assert_eq!(server.get("/healthz"), (200, "ok\n".to_string()));
}

#[test]
fn checks_rerun_on_the_interval_not_per_request() {
    let server = Server::start(&["--interval", "1s"]);
    let first = server.runs();
    for _ in 0..20 {
        server.get("/report.json");
    }
    // Twenty requests did not run the checks twenty times.
    assert!(server.runs() <= first + 1);
    let deadline = Instant::now() + Duration::from_secs(15);
    while server.runs() < first + 2 {
        assert!(
            Instant::now() < deadline,
            "no new run within 15 s at --interval 1s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_slow_client_is_cut_off_and_does_not_block_others() {
    let server = Server::start(&[]);
    let mut slow = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    slow.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    // While the slow client holds its connection, others are answered at once.
    let started = Instant::now();
    assert_eq!(server.get("/healthz").0, 503);
    assert!(started.elapsed() < Duration::from_secs(3));
    // The server closes the slow connection after its header timeout (5 s).
    slow.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut buf = Vec::new();
    let _ = slow.read_to_end(&mut buf);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(4) && waited < Duration::from_secs(15),
        "slow connection closed after {waited:?}"
    );
}

#[test]
fn concurrent_requests_are_all_answered() {
    let server = Server::start(&[]);
    let codes: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..24)
            .map(|i| {
                let server = &server;
                scope.spawn(move || {
                    let path = ["/metrics", "/healthz", "/report.json"][i % 3];
                    server.get(path).0
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (i, code) in codes.iter().enumerate() {
        let expected = if i % 3 == 1 { 503 } else { 200 };
        assert_eq!(*code, expected, "request {i}: {codes:?}");
    }
}

#[test]
fn serve_refuses_stdin_inputs() {
    let out = nodecheck(&["serve", "--listen", "127.0.0.1:0", "--peers", "-"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn npd_mode_speaks_the_plugin_exit_codes() {
    let run = |extra: &[&str]| {
        let out = check_incident(&[&["--npd"], extra].concat());
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
        )
    };
    let failed = failed_ids();
    assert_eq!(
        run(&[]),
        (
            Some(1),
            format!(
                "nodecheck pre-join: {} failed: {}\n",
                failed.len(),
                failed.join(", ")
            )
        )
    );
    let skip = failed.join(",");
    let (code, line) = run(&["--skip", &skip]);
    assert_eq!(code, Some(0), "{line}");
    assert!(
        line.starts_with("nodecheck pre-join: no check failed ("),
        "{line}"
    );
    let (code, line) = run(&[
        "--baseline",
        "/nonexistent/baseline.json",
        "--phase",
        "post-boot",
    ]);
    assert_eq!(code, Some(2), "{line}");
    assert!(line.starts_with("nodecheck could not run: "), "{line}");
    assert_eq!(line.lines().count(), 1);
}

/// The sample node-problem-detector config runs a command nodecheck accepts, in the custom-plugin
/// mode, and keeps the whole one-line message.
#[test]
fn the_sample_npd_config_runs_check_npd() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("packaging/npd/nodecheck-plugin-monitor.json");
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(config["plugin"], "custom");
    let rule = &config["rules"][0];
    assert_eq!(rule["condition"], config["conditions"][0]["type"]);
    let mut argv = vec!["nodecheck".to_string()];
    argv.extend(
        rule["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_string()),
    );
    assert!(argv.contains(&"--npd".to_string()), "{argv:?}");
    <nodecheck::cli::Cli as clap::Parser>::try_parse_from(&argv)
        .unwrap_or_else(|e| panic!("the sample runs {argv:?}, which nodecheck rejects: {e}"));
    assert!(
        config["pluginConfig"]["max_output_length"]
            .as_u64()
            .unwrap()
            >= 200
    );
}
