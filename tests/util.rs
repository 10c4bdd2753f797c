//! Shared test helpers: run the built binary, make throw-away network namespaces, and skip (or, in CI,
//! fail) when root, netns or Docker are missing.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// When this variable is set (CI sets it), a test that would skip for lack of root, netns, Docker,
/// dnsmasq or ansible fails instead, so CI always runs everything.
pub const REQUIRE_ALL_ENV: &str = "NODECHECK_TEST_REQUIRE_ALL";

/// The nodecheck binary cargo built for these tests.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_nodecheck"))
}

pub fn nodecheck(args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .output()
        .expect("run nodecheck")
}

/// Path of a file under `tests/fixtures/`.
pub fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// `--facts <fleet/incident/worker-1.json> --profile <profiles/incident-cluster.yaml>`: the fixture
/// node and the incident's profile that the command tests run with.
pub fn incident_inputs() -> Vec<String> {
    let facts = fixture("fleet/incident/worker-1.json");
    let profile = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("profiles/incident-cluster.yaml");
    vec![
        "--facts".into(),
        facts.display().to_string(),
        "--profile".into(),
        profile.display().to_string(),
    ]
}

/// `nodecheck check` on [`incident_inputs`], then `extra`.
pub fn check_incident(extra: &[&str]) -> Output {
    Command::new(bin())
        .arg("check")
        .args(incident_inputs())
        .args(extra)
        .output()
        .expect("run nodecheck")
}

/// Skips the current test with a printed reason, or panics when CI demands every test run.
/// Use as `if let Some(reason) = ... { return skip(reason); }`.
pub fn skip(reason: &str) {
    if std::env::var_os(REQUIRE_ALL_ENV).is_some_and(|v| !v.is_empty() && v != "0") {
        panic!("{REQUIRE_ALL_ENV} is set, but this test would skip: {reason}");
    }
    eprintln!("SKIP: {reason}");
}

/// Skips a test whose subject the running kernel does not have (a link type whose driver is a
/// module this kernel was built without: bonding, 802.1Q). Unlike [`skip`] this never fails under
/// CI: the test setup can install packages and start services, never add a driver to the kernel it
/// runs on. The same rules are held by unit tests on built facts.
pub fn skip_kernel_lacks(reason: &str) {
    eprintln!("SKIP (this kernel): {reason}");
}

/// Why netns tests cannot run here, if they cannot.
pub fn netns_unavailable() -> Option<String> {
    if !nix_is_root() {
        return Some("needs root (network namespaces)".into());
    }
    let ok = Command::new("ip")
        .arg("-V")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        return Some("`ip` (iproute2) is not installed".into());
    }
    None
}

/// Why Docker tests cannot run here, if they cannot.
pub fn docker_unavailable() -> Option<String> {
    match Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .output()
    {
        Ok(o) if o.status.success() => None,
        Ok(o) => Some(format!(
            "docker engine not answering: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) => Some(format!("docker CLI not available: {e}")),
    }
}

pub fn nix_is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc_geteuid() == 0 }
}

extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}

/// A named network namespace, deleted on drop. Names are unique per test process and call.
pub struct Netns {
    pub name: String,
}

impl Netns {
    /// Creates `nc-<tag>-<pid>`. Panics if `ip netns add` fails (call `netns_unavailable` first).
    pub fn new(tag: &str) -> Netns {
        let name = format!("nc-{tag}-{}", std::process::id());
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        sh_ok("ip", &["netns", "add", &name]);
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    /// Runs `ip -n <ns> <args>` and panics with its stderr on failure.
    pub fn ip(&self, args: &[&str]) {
        let mut full = vec!["-n", self.name.as_str()];
        full.extend_from_slice(args);
        sh_ok("ip", &full);
    }

    /// Adds a NIC: a veth pair whose end `name` holds `address`, both ends up.
    pub fn add_nic(&self, name: &str, peer: &str, address: &str) {
        self.ip(&["link", "add", name, "type", "veth", "peer", "name", peer]);
        self.ip(&["addr", "add", address, "dev", name]);
        self.ip(&["link", "set", name, "up"]);
        self.ip(&["link", "set", peer, "up"]);
    }

    /// Runs a command inside the namespace (`ip netns exec`).
    /// A bridge with one address (`docker0`, a compose `br-…`), left down.
    pub fn add_bridge(&self, name: &str, address: &str) {
        self.ip(&["link", "add", name, "type", "bridge"]);
        self.ip(&["addr", "add", address, "dev", name]);
    }

    /// Calico's VXLAN device (VNI 4096, port 4789) over `dev`.
    pub fn add_vxlan(&self, name: &str, dev: &str) {
        self.ip(&[
            "link", "add", name, "type", "vxlan", "id", "4096", "dstport", "4789", "dev", dev,
        ]);
    }

    /// `ip route add default via GATEWAY dev DEV`.
    pub fn default_route(&self, gateway: &str, dev: &str) {
        self.ip(&["route", "add", "default", "via", gateway, "dev", dev]);
    }

    pub fn exec(&self, program: &str, args: &[&str]) -> Output {
        Command::new("ip")
            .args(["netns", "exec", &self.name, program])
            .args(args)
            .output()
            .expect("ip netns exec")
    }

    /// Runs the built nodecheck inside the namespace.
    pub fn nodecheck(&self, args: &[&str]) -> Output {
        let bin = bin();
        self.exec(bin.to_str().unwrap(), args)
    }

    /// `ip -j link show` order of interface names inside the namespace.
    pub fn ip_link_names(&self) -> Vec<String> {
        let out = self.exec("ip", &["-j", "link", "show"]);
        let v: serde_json::Value =
            serde_json::from_str(&escape_raw_control_bytes(&out.stdout)).expect("ip -j output");
        v.as_array()
            .unwrap()
            .iter()
            .map(|l| l["ifname"].as_str().unwrap().to_string())
            .collect()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}

/// `ip -j` writes control bytes of interface names into its JSON strings unescaped, which is not valid
/// JSON; escape them so the names parse back exactly.
fn escape_raw_control_bytes(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .map(|c| match c {
            '\n' | '\t' | '\r' | ' ' => c.to_string(),
            c if (c as u32) < 0x20 => format!("\\u{:04x}", c as u32),
            c => c.to_string(),
        })
        .collect()
}

/// Runs a command and panics with its output unless it succeeds.
pub fn sh_ok(program: &str, args: &[&str]) -> Output {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Parses a command's stdout as JSON, showing stderr when it is not.
pub fn json_stdout(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}); status {:?}\nstdout: {}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Asserts a command's exit code, showing its stderr when it differs.
#[track_caller]
pub fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A real compose-labelled Docker bridge network on a free /24, removed on drop (also when an
/// assertion failed).
pub struct ComposeNetwork {
    pub name: String,
    pub id: String,
    pub subnet: String,
}

impl ComposeNetwork {
    /// `docker network create` with compose's project and network labels. Subnets are tried until the
    /// engine accepts one, since other networks on the host may hold some.
    pub fn create(name: &str, project: &str, network: &str) -> ComposeNetwork {
        let _ = Command::new("docker")
            .args(["network", "rm", name])
            .output();
        let mut last_error = String::new();
        for attempt in 0..40 {
            let subnet = format!("10.241.{}.0/24", (std::process::id() + attempt * 7) % 250);
            let out = Command::new("docker")
                .args([
                    "network", "create", "--driver", "bridge", "--subnet", &subnet,
                ])
                .args(["--label", &format!("com.docker.compose.project={project}")])
                .args(["--label", &format!("com.docker.compose.network={network}")])
                .arg(name)
                .output()
                .expect("docker network create");
            if out.status.success() {
                return ComposeNetwork {
                    name: name.to_string(),
                    id: String::from_utf8_lossy(&out.stdout).trim().to_string(),
                    subnet,
                };
            }
            last_error = String::from_utf8_lossy(&out.stderr).into_owned();
        }
        panic!("docker network create {name} failed: {last_error}");
    }

    /// The Linux bridge Docker made for it: `br-` and the first 12 hex digits of the id.
    pub fn bridge_device(&self) -> String {
        format!("br-{}", &self.id[..12])
    }
}

impl Drop for ComposeNetwork {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["network", "rm", &self.name])
            .output();
    }
}

/// A scratch host tree for `--host-root`: files written under a unique temporary directory as they
/// would be on a host (`tree.write("/etc/os-release", ...)`), removed on drop.
pub struct HostTree {
    pub dir: PathBuf,
}

impl HostTree {
    pub fn new(tag: &str) -> HostTree {
        static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("nodecheck-host-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the scratch host tree");
        HostTree { dir }
    }

    /// Where the host path `host_path` (absolute) is in the tree.
    pub fn path(&self, host_path: &str) -> PathBuf {
        self.dir.join(host_path.trim_start_matches('/'))
    }

    /// Writes a host file, creating its directories.
    pub fn write(&self, host_path: &str, content: &str) -> &HostTree {
        let path = self.path(host_path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content).unwrap();
        self
    }

    /// Creates a host directory (and its parents).
    pub fn mkdir(&self, host_path: &str) -> &HostTree {
        std::fs::create_dir_all(self.path(host_path)).unwrap();
        self
    }

    /// Creates a symbolic link at `host_path` pointing at `target` (stored as given: an absolute
    /// target means the host's path, as in a real tree).
    pub fn symlink(&self, target: &str, host_path: &str) -> &HostTree {
        let path = self.path(host_path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, &path).unwrap();
        self
    }

    /// The tree as a `--host-root` argument.
    pub fn arg(&self) -> &str {
        self.dir.to_str().expect("temp dir path is UTF-8")
    }
}

impl Drop for HostTree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The result with this ID in a JSON report (`check --format json`, the Ansible module's, a
/// results file); panics naming the report when it is missing.
pub fn result_by_id<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results in {report:#}"))
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {report:#}"))
}

/// The result with this ID among results judged in-process; panics listing the IDs present.
pub fn check_result<'a>(
    results: &'a [nodecheck::checks::CheckResult],
    id: &str,
) -> &'a nodecheck::checks::CheckResult {
    results.iter().find(|r| r.id == id).unwrap_or_else(|| {
        let ids: Vec<&str> = results.iter().map(|r| r.id.as_str()).collect();
        panic!("no {id} among {ids:?}")
    })
}

/// One component's pick on node `node` of a `nodecheck addresses --format json` report.
pub fn address_component<'a>(
    report: &'a serde_json::Value,
    node: usize,
    name: &str,
) -> &'a serde_json::Value {
    report["nodes"][node]["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["component"] == name)
        .unwrap_or_else(|| panic!("no {name} in {report}"))
}
