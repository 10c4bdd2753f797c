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
    /// `http` or `https`, from the server's own first line.
    scheme: String,
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
        // Notices may come first; the address is on the `serving` line.
        let mut line = String::new();
        while !line.contains(" serving ") {
            line.clear();
            if stderr.read_line(&mut line).unwrap() == 0 {
                panic!("serve ended before it listened");
            }
        }
        let port = line
            .trim()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        let scheme = if line.contains(" on https://") {
            "https"
        } else {
            "http"
        }
        .to_string();
        // Keep draining stderr so the server never blocks on it.
        std::thread::spawn(move || {
            let mut sink = String::new();
            let _ = stderr.read_to_string(&mut sink);
        });
        Server {
            child,
            port,
            scheme,
        }
    }

    /// `curl` one request: (status code, body).
    fn curl(&self, args: &[&str], path: &str) -> (u16, String) {
        let url = format!("{}://127.0.0.1:{}{path}", self.scheme, self.port);
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
    let server = Server::start(&["--report-json"]);
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
fn report_json_is_served_only_when_asked() {
    let server = Server::start(&[]);
    let (code, body) = server.get("/report.json");
    assert_eq!(code, 404, "{body}");
    assert!(body.contains("--report-json"), "{body}");
    assert_eq!(server.get("/metrics").0, 200);
}

#[test]
fn healthz_is_200_when_no_check_fails() {
    let skip = failed_ids().join(",");
    let server = Server::start(&["--skip", &skip]);
    assert_eq!(server.get("/healthz"), (200, "ok\n".to_string()));
}

#[test]
fn checks_rerun_on_the_interval_not_per_request() {
    let server = Server::start(&["--interval", "1s", "--report-json"]);
    let first = server.runs();
    let started = Instant::now();
    for _ in 0..20 {
        server.get("/report.json");
    }
    // Twenty requests did not run the checks twenty times: at most one run per second passed.
    let allowed = first + 1 + started.elapsed().as_secs();
    assert!(server.runs() <= allowed, "{} runs", server.runs());
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
    // The server closes the slow connection after its header timeout (3 s).
    slow.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut buf = Vec::new();
    let _ = slow.read_to_end(&mut buf);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(2) && waited < Duration::from_secs(15),
        "slow connection closed after {waited:?}"
    );
}

#[test]
fn concurrent_requests_are_all_answered() {
    let server = Server::start(&["--report-json"]);
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

/// Certificates made by `openssl` for one test: a CA, a server certificate for 127.0.0.1 and a client
/// certificate signed by the CA, and a client certificate from another, unknown CA.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Pki {
        let dir = tempfile::Builder::new()
            .prefix("nodecheck-serve-tls-")
            .tempdir()
            .unwrap();
        let pki = Pki { dir };
        pki.ca("ca", "/CN=serve-test-ca");
        pki.ca("other-ca", "/CN=serve-test-other-ca");
        pki.leaf(
            "server",
            "ca",
            "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
        );
        pki.leaf("client", "ca", "extendedKeyUsage=clientAuth\n");
        pki.leaf("stranger", "other-ca", "extendedKeyUsage=clientAuth\n");
        pki
    }

    /// A self-signed CA: `name.key` and `name.crt`.
    fn ca(&self, name: &str, subject: &str) {
        let (key, crt) = (format!("{name}.key"), format!("{name}.crt"));
        self.openssl(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &crt,
            "-days",
            "2",
            "-subj",
            subject,
        ]);
    }

    fn openssl(&self, args: &[&str]) {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .expect("run openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `name.key` and `name.crt`, signed by `ca`, with the given v3 extensions.
    fn leaf(&self, name: &str, ca: &str, extensions: &str) {
        let ext = format!("{name}.ext");
        std::fs::write(self.dir.path().join(&ext), extensions).unwrap();
        self.openssl(&[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.csr"),
            "-subj",
            &format!("/CN={name}"),
        ]);
        self.openssl(&[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            &format!("{ca}.crt"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-out",
            &format!("{name}.crt"),
            "-days",
            "2",
            "-extfile",
            &ext,
        ]);
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    /// Writes a web configuration next to the certificates (relative paths) and returns its path.
    fn web_config(&self, text: &str) -> String {
        let path = self.dir.path().join("web.yml");
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }
}

/// A bcrypt hash made by the same crate users' `htpasswd -B` hashes are checked with (cost 4: the
/// tests check it often).
fn bcrypt_hash(password: &str) -> String {
    bcrypt::hash(password, 4).unwrap()
}

#[test]
fn tls_with_basic_auth_and_client_certificates() {
    let pki = Pki::new();
    let config = pki.web_config(&format!(
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_ca_file: ca.crt\n  client_auth_type: RequireAndVerifyClientCert\nbasic_auth_users:\n  prometheus: '{}'\n",
        bcrypt_hash("scrape-secret")
    ));
    let server = Server::start(&["--web-config-file", &config, "--report-json"]);
    assert_eq!(server.scheme, "https");
    let ca = pki.path("ca.crt");
    let (cert, key) = (pki.path("client.crt"), pki.path("client.key"));
    let trusted = ["--cacert", &ca, "--cert", &cert, "--key", &key];

    let (code, metrics) = server.curl(
        &[&trusted[..], &["-u", "prometheus:scrape-secret"]].concat(),
        "/metrics",
    );
    assert_eq!(code, 200, "{metrics}");
    assert!(
        metrics.contains("nodecheck_serve_runs_total 1"),
        "{metrics}"
    );
    assert_eq!(
        server
            .curl(
                &[&trusted[..], &["-u", "prometheus:scrape-secret"]].concat(),
                "/report.json"
            )
            .0,
        200
    );
    // Wrong password, unknown user, no password: 401 with a Basic challenge.
    for credentials in [
        &["-u", "prometheus:wrong"][..],
        &["-u", "nobody:scrape-secret"][..],
        &[][..],
    ] {
        let (code, body) = server.curl(&[&trusted[..], credentials].concat(), "/healthz");
        assert_eq!(code, 401, "{credentials:?}: {body}");
    }
    let headers = Command::new("curl")
        .args(["-s", "-D", "-", "-o", "/dev/null", "--max-time", "10"])
        .args(trusted)
        .arg(format!("https://127.0.0.1:{}/metrics", server.port))
        .output()
        .unwrap();
    let headers = String::from_utf8_lossy(&headers.stdout).to_ascii_lowercase();
    assert!(
        headers.contains("www-authenticate: basic realm=\"nodecheck\""),
        "{headers}"
    );

    // mTLS: no client certificate, or one from an unknown CA, is refused in the handshake.
    let (stranger_cert, stranger_key) = (pki.path("stranger.crt"), pki.path("stranger.key"));
    for client in [
        vec!["--cacert", &ca, "-u", "prometheus:scrape-secret"],
        vec![
            "--cacert",
            &ca,
            "--cert",
            &stranger_cert,
            "--key",
            &stranger_key,
            "-u",
            "prometheus:scrape-secret",
        ],
    ] {
        let (code, body) = server.curl(&client, "/metrics");
        assert_eq!(
            code, 0,
            "no HTTP answer without a trusted client certificate: {body}"
        );
    }
    // Plain HTTP to the TLS port gets no HTTP answer either.
    let plain = Command::new("curl")
        .args([
            "-s",
            "--max-time",
            "5",
            "-w",
            "%{http_code}",
            "-o",
            "/dev/null",
        ])
        .arg(format!("http://127.0.0.1:{}/metrics", server.port))
        .output()
        .unwrap();
    assert_ne!(String::from_utf8_lossy(&plain.stdout), "200");
}

#[test]
fn tls_without_client_certificates_and_a_broken_web_config() {
    let pki = Pki::new();
    let config =
        pki.web_config("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n");
    let server = Server::start(&["--web-config-file", &config]);
    let ca = pki.path("ca.crt");
    assert_eq!(server.curl(&["--cacert", &ca], "/metrics").0, 200);
    // A client that does not trust the CA refuses the server.
    assert_eq!(server.get("/metrics").0, 0);

    // Broken configurations are bad input before anything listens: file:line:column, exit 2.
    for (text, expected) in [
        ("tls_server_config:\n  cert_file: [1]\n", "web.yml:2:"),
        (
            "tls_server_config:\n  cipher_suites: [TLS_AES_128_GCM_SHA256]\n",
            "cipher_suites",
        ),
        (
            "basic_auth_users:\n  alice: plaintext\n",
            "not a bcrypt hash",
        ),
        (
            "tls_server_config:\n  cert_file: missing.crt\n  key_file: server.key\n",
            "missing.crt",
        ),
        (
            "tls_server_config:\n  cert_file: server.crt\n  key_file: ca.key\n",
            "does not go with the certificate",
        ),
    ] {
        let config = pki.web_config(text);
        let out = serve_incident(&["--web-config-file", &config]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text}: {stderr}");
        assert!(stderr.contains(expected), "{text}: {stderr}");
    }
}

/// [`incident_inputs`] as `&str`s.
fn incident_args() -> Vec<&'static str> {
    incident_inputs()
        .into_iter()
        .map(|a| &*Box::leak(a.into_boxed_str()))
        .collect()
}

/// `serve` on a free port with the incident inputs and `extra`, for runs that end before listening.
fn serve_incident(extra: &[&str]) -> std::process::Output {
    nodecheck(
        &[
            &["serve", "--listen", "127.0.0.1:0"][..],
            extra,
            &incident_args(),
        ]
        .concat(),
    )
}

#[test]
fn a_port_in_use_is_a_tool_failure_not_bad_input() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let out = nodecheck(&[&["serve", "--listen", &address][..], &incident_args()].concat());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&address), "{stderr}");
}

/// 500 slowloris clients: each connects, sends a byte of its request now and then and never ends
/// it, and reconnects at once when the server drops it. Meanwhile a probe asks /healthz twice a
/// second, as kubelet and Prometheus would.
#[test]
fn five_hundred_slow_clients_do_not_starve_healthz() {
    const SLOW_CLIENTS: usize = 500;
    const THREADS: usize = 10;
    let server = Server::start(&[]);
    let port = server.port;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let attackers: Vec<_> = (0..THREADS)
        .map(|_| {
            let stop = std::sync::Arc::clone(&stop);
            std::thread::spawn(move || {
                let connect = || {
                    let s = TcpStream::connect(("127.0.0.1", port)).ok()?;
                    s.set_nonblocking(true).ok()?;
                    Some(s)
                };
                let mut sockets: Vec<Option<TcpStream>> =
                    (0..SLOW_CLIENTS / THREADS).map(|_| connect()).collect();
                let mut reconnects = 0usize;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    for slot in sockets.iter_mut() {
                        let alive = match slot {
                            Some(s) => {
                                let mut buf = [0u8; 512];
                                match s.read(&mut buf) {
                                    Ok(0) => false,
                                    Ok(_) => true,
                                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                                        s.write(b"G").is_ok()
                                    }
                                    Err(_) => false,
                                }
                            }
                            None => false,
                        };
                        if !alive {
                            *slot = connect();
                            reconnects += 1;
                        }
                    }
                    std::thread::sleep(Duration::from_millis(200));
                }
                reconnects
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(1));
    let started = Instant::now();
    let (mut probes, mut answered) = (0, 0);
    while started.elapsed() < Duration::from_secs(20) {
        let probe = Instant::now();
        let out = Command::new("curl")
            .args([
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "--max-time",
                "1",
            ])
            .arg(format!("http://127.0.0.1:{port}/healthz"))
            .output()
            .unwrap();
        probes += 1;
        if String::from_utf8_lossy(&out.stdout) == "503" && probe.elapsed() < Duration::from_secs(1)
        {
            answered += 1;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let reconnects: usize = attackers.into_iter().map(|t| t.join().unwrap()).sum();
    assert!(
        reconnects >= SLOW_CLIENTS,
        "the slow clients were cut off and came back ({reconnects} reconnects)"
    );
    assert!(
        answered * 100 >= probes * 95,
        "{answered} of {probes} /healthz probes answered within 1 s under {SLOW_CLIENTS} slow clients"
    );
}

/// A run that overruns --run-timeout (here: a Docker socket that accepts and never answers, so the
/// Docker query waits for its own 2 s timeout) is counted, and runs go on.
#[test]
fn runs_past_their_deadline_are_counted() {
    let tree = crate::util::HostTree::new("serve-deadline");
    tree.write("/etc/os-release", "ID=debian\n");
    let socket = tree.path("/run/serve-deadline-docker.sock");
    let mut child = Command::new(bin())
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--interval",
            "1s",
            "--run-timeout",
            "1s",
            "--host-root",
            tree.arg(),
        ])
        .env("DOCKER_HOST", format!("unix://{}", socket.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    std::thread::spawn(move || {
        let mut sink = String::new();
        let _ = stderr.read_to_string(&mut sink);
    });
    let port: u16 = line.trim().rsplit(':').next().unwrap().parse().unwrap();
    let server = Server {
        child,
        port,
        scheme: "http".into(),
    };
    // Docker hangs from now on: it accepts connections and never answers.
    std::fs::create_dir_all(socket.parent().unwrap()).unwrap();
    let _hung_docker = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let timed_out = || {
        let (_, metrics) = server.get("/metrics");
        metrics
            .lines()
            .find_map(|l| l.strip_prefix("nodecheck_serve_runs_timed_out_total "))
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("no timed-out counter in {metrics}"))
    };
    assert_eq!(timed_out(), 0);
    let deadline = Instant::now() + Duration::from_secs(20);
    while timed_out() == 0 {
        assert!(
            Instant::now() < deadline,
            "no run was counted as timed out in 20 s"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    // The late run still finishes and is counted as a run.
    let runs = server.runs();
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.runs() == runs {
        assert!(Instant::now() < deadline, "runs stopped after a timeout");
        std::thread::sleep(Duration::from_millis(250));
    }
}
