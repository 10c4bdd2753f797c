//! The shipped playbooks on a fleet of real hosts: Debian 12 containers from the debootstrap root the
//! package tests build (`packaging/debian-root.sh`, imported with `docker import`: nothing is pulled),
//! reached with ansible-core's Docker connection (`community.docker`, from the `ansible` package on
//! PyPI, in `target/ansible-fleet-venv`).
//!
//! The cluster is w1, w2 and w3; w3 is stopped before the run. The new nodes are n-ok (a plain node),
//! n-bad (a compose-like bridge, IPv6 off), n-dup (w2's hostname, its own machine-id) and n-clone (w1's
//! hostname and machine-id: a full clone). The gate must flag each, run every gate although w3 is
//! unreachable and name w3, change nothing and leave nothing staged on the nodes; `fix.yml` applied
//! twice changes nothing the second time and prints the cluster-wide Calico step once.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::ansible::ansible_venv_at;
use crate::util::{bin, docker_unavailable, nix_is_root, result_by_id, skip};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"))
}

fn run_ok(program: &str, args: &[&str]) -> String {
    let out = run(program, args);
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The module pushed to the containers: NODECHECK_TEST_MODULE_BINARY when set, else the static build
/// when there is one (packaging/build.sh makes it before the tests run), else the release build, else
/// this test build.
fn module_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("NODECHECK_TEST_MODULE_BINARY") {
        return PathBuf::from(path);
    }
    [
        "target/x86_64-unknown-linux-musl/release/nodecheck",
        "target/release/nodecheck",
    ]
    .iter()
    .map(|p| repo().join(p))
    .find(|p| p.is_file())
    .unwrap_or_else(bin)
}

/// The containers, their image and network; removed on drop.
struct Fleet {
    prefix: String,
    image: String,
    containers: Vec<String>,
}

impl Fleet {
    fn name(&self, node: &str) -> String {
        format!("{}-{node}", self.prefix)
    }

    fn start(&mut self, node: &str, hostname: &str, extra: &[&str]) {
        let name = self.name(node);
        let network = self.prefix.clone();
        let mut args = vec![
            "run",
            "-d",
            "--name",
            &name,
            "--hostname",
            hostname,
            "--network",
            &network,
        ];
        // Containers see the host's DMI product_uuid: hide it, as most containers and some clouds
        // have none, which is the case the clone must be caught in.
        if Path::new("/sys/class/dmi/id").is_dir() {
            args.extend(["--tmpfs", "/sys/class/dmi/id"]);
        }
        args.extend_from_slice(extra);
        args.extend([self.image.as_str(), "sleep", "infinity"]);
        run_ok("docker", &args);
        self.containers.push(name);
    }

    fn exec(&self, node: &str, script: &str) -> String {
        run_ok("docker", &["exec", &self.name(node), "sh", "-c", script])
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for c in &self.containers {
            let _ = run("docker", &["rm", "-f", c]);
        }
        let _ = run("docker", &["network", "rm", &self.prefix]);
        let _ = run("docker", &["rmi", "-f", &self.image]);
    }
}

fn machine_id(seed: u8) -> String {
    format!("{:032x}", 0x5eed_0000_u128 + u128::from(seed))
}

fn recap(stdout: &str, host: &str) -> String {
    stdout
        .lines()
        .rev()
        .find(|l| l.split_whitespace().next() == Some(host) && l.contains("changed="))
        .unwrap_or_else(|| panic!("no recap line for {host}:\n{stdout}"))
        .to_string()
}

fn recap_count(stdout: &str, host: &str, key: &str) -> u32 {
    recap(stdout, host)
        .split_whitespace()
        .find_map(|w| w.strip_prefix(&format!("{key}=")))
        .and_then(|n| n.parse().ok())
        .unwrap()
}

fn status(report: &Value, id: &str) -> String {
    result_by_id(report, id)["status"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[test]
fn the_shipped_playbooks_gate_and_fix_a_fleet_of_containers() {
    if !nix_is_root() {
        return skip("needs root (debootstrap, docker)");
    }
    if let Some(reason) = docker_unavailable() {
        return skip(&reason);
    }
    let venv = match ansible_venv_at("target/ansible-fleet-venv", "ansible>=12,<13") {
        Ok(venv) => venv,
        Err(reason) => return skip(&reason),
    };
    let root = Command::new("bash")
        .arg(repo().join("packaging/debian-root.sh"))
        .output()
        .expect("packaging/debian-root.sh");
    if !root.status.success() {
        return skip(&format!(
            "the Debian root could not be built: {}",
            String::from_utf8_lossy(&root.stderr).trim()
        ));
    }
    let tarball = repo().join(String::from_utf8_lossy(&root.stdout).trim());

    let prefix = format!("ansible-fleet-{}", std::process::id());
    let mut fleet = Fleet {
        image: format!("{prefix}:root"),
        prefix: prefix.clone(),
        containers: Vec::new(),
    };
    run_ok(
        "docker",
        &["import", tarball.to_str().unwrap(), &fleet.image],
    );
    run_ok("docker", &["network", "create", &prefix]);
    let ipv6_off = ["--sysctl", "net.ipv6.conf.all.disable_ipv6=1"];
    let plain = ["--sysctl", "net.ipv6.conf.all.disable_ipv6=0"];
    for (node, hostname, seed, extra) in [
        ("w1", "w1", 1, &plain[..]),
        ("w2", "w2", 2, &plain[..]),
        ("w3", "w3", 3, &plain[..]),
        ("n-ok", "n-ok", 4, &plain[..]),
        ("n-bad", "n-bad", 5, &ipv6_off[..]),
        ("n-dup", "w2", 6, &plain[..]),
        ("n-clone", "w1", 1, &plain[..]),
    ] {
        let mut args = extra.to_vec();
        if node == "n-bad" {
            args.extend(["--cap-add", "NET_ADMIN"]);
        }
        fleet.start(node, hostname, &args);
        fleet.exec(
            node,
            &format!("echo {} > /etc/machine-id", machine_id(seed)),
        );
    }
    // A compose network's bridge, as Docker Compose makes it on a host.
    fleet.exec(
        "n-bad",
        "ip link add br-3f2a9c1d7e5b type bridge && ip addr add 172.31.0.1/16 dev br-3f2a9c1d7e5b \
         && ip link set br-3f2a9c1d7e5b up",
    );
    run_ok("docker", &["stop", "-t", "1", &fleet.name("w3")]);

    // The playbook directory: the shipped playbooks and module documentation, the binary as the module.
    let dir = std::env::temp_dir().join(&prefix);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("library")).unwrap();
    for (from, to) in [
        ("packaging/ansible/playbook.yml", "playbook.yml"),
        ("packaging/ansible/fix.yml", "fix.yml"),
        (
            "packaging/ansible/library/nodecheck.yml",
            "library/nodecheck.yml",
        ),
        (
            "packaging/ansible/library/nodecheck_installed.py",
            "library/nodecheck_installed.py",
        ),
    ] {
        std::fs::copy(repo().join(from), dir.join(to)).unwrap();
    }
    std::fs::copy(module_binary(), dir.join("library/nodecheck")).unwrap();
    let host_line = |node: &str| {
        format!(
            "{node} ansible_connection=community.docker.docker ansible_host={} \
             ansible_python_interpreter=/usr/bin/python3\n",
            fleet.name(node)
        )
    };
    let mut inventory = String::from("[cluster]\n");
    for node in ["w1", "w2", "w3"] {
        inventory.push_str(&host_line(node));
    }
    inventory.push_str("\n[new_nodes]\n");
    for node in ["n-ok", "n-bad", "n-dup", "n-clone"] {
        inventory.push_str(&host_line(node));
    }
    std::fs::write(dir.join("inventory"), inventory).unwrap();
    let playbook = |file: &str, extra: &[&str]| -> (Output, String) {
        let out = Command::new(venv.join("bin/ansible-playbook"))
            .current_dir(&dir)
            .args(["-i", "inventory", file, "-e", "nodecheck_become=false"])
            .args(extra)
            .env("ANSIBLE_CONFIG", dir.join("no-ansible.cfg"))
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_LOCAL_TEMP", dir.join("tmp-local"))
            .env("ANSIBLE_RETRY_FILES_ENABLED", "false")
            .env("ANSIBLE_HOST_KEY_CHECKING", "false")
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    venv.join("bin").display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .output()
            .expect("ansible-playbook");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let shown = format!(
            "{stdout}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (out, shown)
    };

    // The gate.
    let reports = dir.join("reports");
    let (_, gate_out) = playbook(
        "playbook.yml",
        &["-e", &format!("nodecheck_report_dir={}", reports.display())],
    );
    let report = |node: &str| -> Value {
        let path = reports.join(format!("{node}.gate.json"));
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}\n{gate_out}", path.display()));
        serde_json::from_str(&text).unwrap()
    };
    // w3 is unreachable: named, left out, and no other gate fails for it.
    assert_eq!(recap_count(&gate_out, "w3", "unreachable"), 1, "{gate_out}");
    assert!(
        gate_out.contains("no snapshot of w3: left out of the peers"),
        "{gate_out}"
    );
    for node in ["n-ok", "n-bad", "n-dup", "n-clone"] {
        let gate = report(node);
        assert_eq!(gate["rc"], 3, "{node}: {gate}");
        let input = result_by_id(&gate, "Peers-Input");
        assert_eq!(input["status"], "ok", "{node}: {input}");
        assert_eq!(input["evidence"]["peers"], 2, "{node}: {input}");
        // Read-only: nothing changed, nothing staged is left on the node.
        assert_eq!(recap_count(&gate_out, node, "changed"), 0, "{gate_out}");
        assert_eq!(
            fleet.exec(node, "ls -A /tmp /var/tmp | grep -c nodecheck || true"),
            "0",
            "{node}: staged files left"
        );
        // The task output is the recap and the failed IDs, not the whole result.
        let failed: Vec<&str> = gate["failed_checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let verdict = format!(
            "{}; failed: {}",
            gate["recap"].as_str().unwrap(),
            failed.join(", ")
        );
        assert!(
            gate_out.contains(&verdict),
            "{node}: no {verdict:?} in\n{gate_out}"
        );
    }
    assert!(!gate_out.contains("\"results\""), "{gate_out}");
    // The plain node differs from no peer in what must be unique.
    let ok = report("n-ok");
    for id in ["Unique-Hostname", "Unique-MachineId"] {
        assert_eq!(
            status(&ok, id),
            "ok",
            "n-ok {id}: {}",
            result_by_id(&ok, id)
        );
    }
    // The compose-like bridge and IPv6 off.
    let bad = report("n-bad");
    assert_ne!(status(&bad, "Bridge-br-3f2a9c1d7e5b"), "ok", "{bad}");
    assert_eq!(
        status(&bad, "Parity-IPv6"),
        "fail",
        "{}",
        result_by_id(&bad, "Parity-IPv6")
    );
    // Two machines named w2.
    let dup = report("n-dup");
    assert_eq!(
        status(&dup, "Unique-Hostname"),
        "fail",
        "{}",
        result_by_id(&dup, "Unique-Hostname")
    );
    assert_eq!(status(&dup, "Unique-MachineId"), "ok");
    // w1's clone is compared with w1, not taken for itself.
    let clone = report("n-clone");
    assert_eq!(
        clone["failed_checks"].as_array().map(|a| a.is_empty()),
        Some(false)
    );
    assert_eq!(
        status(&clone, "Unique-Hostname"),
        "fail",
        "{}",
        result_by_id(&clone, "Unique-Hostname")
    );
    assert_eq!(
        status(&clone, "Unique-MachineId"),
        "fail",
        "{}",
        result_by_id(&clone, "Unique-MachineId")
    );
    assert_eq!(
        result_by_id(&clone, "Peers-Input")["evidence"]["this_node_sources"],
        serde_json::json!([])
    );

    // fix.yml, applied twice under a root that does not exist yet: the second run changes nothing, and
    // the cluster-wide Calico step is computed and printed once.
    let fix_vars = [
        "-e",
        "nodecheck_root=/var/tmp/nodecheck-fleet-root",
        "-e",
        "nodecheck_confirm=true",
    ];
    let (_, first) = playbook("fix.yml", &fix_vars);
    let live = ["w1", "w2", "n-ok", "n-bad", "n-dup", "n-clone"];
    let calico_task = "TASK [The Calico method to apply, once for the cluster]";
    assert_eq!(first.matches(calico_task).count(), 1, "{first}");
    let after_task = first.split(calico_task).nth(1).unwrap();
    let printed = after_task.split("TASK [").next().unwrap();
    assert_eq!(printed.matches("ok: [").count(), 1, "{first}");
    assert!(printed.contains("(6 nodes)"), "{first}");
    for node in live {
        assert_eq!(recap_count(&first, node, "failed"), 0, "{first}");
    }
    assert!(
        live.iter().any(|n| recap_count(&first, n, "changed") > 0),
        "{first}"
    );
    let (_, second) = playbook("fix.yml", &fix_vars);
    for node in live {
        assert_eq!(
            recap_count(&second, node, "changed"),
            0,
            "{node}:\n{second}"
        );
        assert_eq!(recap_count(&second, node, "failed"), 0, "{node}:\n{second}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
