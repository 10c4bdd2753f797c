//! Regression tests for what hostile or unusual input did to nodecheck: inputs that blocked forever,
//! exit codes that hid a corrupt peer, profile init failing on common lab networks.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::util::{assert_exit, bin, fixture};

/// Runs nodecheck and kills it if it has not finished within `limit` (a blocked read would hang the
/// test run otherwise); `None` when it had to be killed.
fn nodecheck_within(args: &[&std::ffi::OsStr], limit: Duration) -> Option<Output> {
    let mut child = Command::new(bin())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run nodecheck");
    let started = Instant::now();
    while started.elapsed() < limit {
        if child.try_wait().expect("wait").is_some() {
            return Some(child.wait_with_output().expect("output"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("nodecheck-robust-")
        .tempdir()
        .expect("a scratch directory")
}

fn mkfifo(dir: &Path) -> PathBuf {
    let fifo = dir.join("input.fifo");
    mkfifo_at(&fifo);
    fifo
}

fn mkfifo_at(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(status.success());
}

#[test]
fn a_fifo_given_as_any_input_is_refused_at_once() {
    let dir = scratch();
    let fifo = mkfifo(dir.path());
    let facts = fixture("incident/worker-41.json");
    let f = fifo.as_os_str();
    let w = facts.as_os_str();
    let cases: Vec<(&str, Vec<&std::ffi::OsStr>)> = vec![
        ("--facts", vec!["check".as_ref(), "--facts".as_ref(), f]),
        (
            "--profile",
            vec![
                "check".as_ref(),
                "--facts".as_ref(),
                w,
                "--profile".as_ref(),
                f,
            ],
        ),
        (
            "--peers",
            vec![
                "check".as_ref(),
                "--facts".as_ref(),
                w,
                "--peers".as_ref(),
                f,
            ],
        ),
        (
            "--baseline",
            vec![
                "check".as_ref(),
                "--phase".as_ref(),
                "post-boot".as_ref(),
                "--facts".as_ref(),
                w,
                "--baseline".as_ref(),
                f,
            ],
        ),
        (
            "calico --peers",
            vec![
                "calico".as_ref(),
                "--facts".as_ref(),
                w,
                "--peers".as_ref(),
                f,
            ],
        ),
        (
            "calico --calico-config",
            vec![
                "calico".as_ref(),
                "--facts".as_ref(),
                w,
                "--calico-config".as_ref(),
                f,
            ],
        ),
        (
            "profile validate",
            vec!["profile".as_ref(), "validate".as_ref(), f],
        ),
        (
            "profile init --facts",
            vec!["profile".as_ref(), "init".as_ref(), "--facts".as_ref(), f],
        ),
    ];
    for (what, args) in cases {
        let out = nodecheck_within(&args, Duration::from_secs(20))
            .unwrap_or_else(|| panic!("{what} FIFO: nodecheck blocked for 20 s"));
        assert_exit(&out, 2);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("is a FIFO (named pipe), expected a regular file"),
            "{what}: {stderr}"
        );
    }
}

/// A host tree with kubelet's and containerd's units whose every configuration file the gathering
/// reads is a FIFO nobody writes to.
fn host_tree_of_fifos() -> crate::util::HostTree {
    let tree = crate::util::HostTree::new("robust-fifos");
    tree.write(
        "/lib/systemd/system/kubelet.service",
        "[Service]\nEnvironmentFile=/etc/default/kubelet\nExecStart=/usr/bin/kubelet $KUBELET_EXTRA_ARGS\n",
    );
    tree.write(
        "/lib/systemd/system/containerd.service",
        "[Service]\nExecStart=/usr/bin/containerd\n",
    );
    tree.mkdir("/etc/systemd/system/containerd.service.d");
    for fifo in [
        "/etc/default/kubelet",
        "/etc/systemd/system/containerd.service.d/10-proxy.conf",
        "/etc/hosts",
        "/etc/nsswitch.conf",
        "/etc/resolv.conf",
        "/etc/containerd/config.toml",
    ] {
        let path = tree.path(fifo);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        mkfifo_at(&path);
    }
    tree
}

#[test]
fn fifos_in_the_host_tree_are_refused_and_gathering_finishes() {
    let tree = host_tree_of_fifos();
    let out = nodecheck_within(
        &[
            "facts".as_ref(),
            "--host-root".as_ref(),
            tree.arg().as_ref(),
        ],
        Duration::from_secs(30),
    )
    .expect("facts blocked for 30 s on a FIFO in the host tree");
    assert_exit(&out, 0);
    let facts: serde_json::Value = serde_json::from_slice(&out.stdout).expect("facts JSON");
    let text = facts.to_string();
    assert!(
        text.contains("is a FIFO (named pipe), expected a regular file"),
        "the facts say why the files were not read: {text}"
    );
    let kubelet_env = &facts["node_setup"]["kubelet"]["unit"]["environment_files"][0];
    assert_eq!(kubelet_env["state"], "failed", "{kubelet_env}");
}

#[test]
fn the_ansible_module_refuses_a_fifo_without_blocking() {
    let dir = scratch();
    let fifo = mkfifo(dir.path());
    let args_file = dir.path().join("args");
    let args = serde_json::json!({"command": "check", "profile": fifo});
    std::fs::write(&args_file, args.to_string()).unwrap();
    let out = nodecheck_within(&[args_file.as_os_str()], Duration::from_secs(20))
        .expect("the module blocked for 20 s on a FIFO");
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON result");
    assert_eq!(result["failed"], true, "{result}");
    assert!(
        result["msg"].as_str().unwrap_or("").contains("is a FIFO"),
        "{result}"
    );
}

#[test]
fn calico_exits_2_on_a_corrupt_peer_like_check() {
    let dir = scratch();
    let corrupt = dir.path().join("worker-12.json");
    std::fs::write(&corrupt, "{\"schema_version\": 1, \"host\": ").unwrap();
    let facts = fixture("incident/worker-41.json");
    for format in ["human", "json", "env", "kubectl", "operator"] {
        let out = Command::new(bin())
            .args(["calico", "--format", format, "--facts"])
            .arg(&facts)
            .arg("--peers")
            .arg(&corrupt)
            .output()
            .unwrap();
        assert_exit(&out, 2);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("peer input") && stderr.contains("worker-12.json"),
            "{format}: {stderr}"
        );
    }
    let check = Command::new(bin())
        .args(["check", "--facts"])
        .arg(&facts)
        .arg("--peers")
        .arg(&corrupt)
        .output()
        .unwrap();
    assert_exit(&check, 2);
}

#[test]
fn profile_init_on_a_libvirt_network_flags_the_pod_cidr_conflict() {
    let dir = scratch();
    let text = std::fs::read_to_string(fixture("incident/worker-41.json"))
        .unwrap()
        .replace("10.20.41.", "192.168.122.");
    let facts = dir.path().join("libvirt.json");
    std::fs::write(&facts, text).unwrap();
    let out_file = dir.path().join("profile.yaml");
    let out = Command::new(bin())
        .args(["profile", "init", "--facts"])
        .arg(&facts)
        .arg("--out")
        .arg(&out_file)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr
            .contains("warning: the node network 192.168.122.0/24 overlaps the default pod_cidrs"),
        "{stderr}"
    );
    let written = std::fs::read_to_string(&out_file).unwrap();
    assert!(written.contains("# CONFLICT:"), "{written}");
    let validate = Command::new(bin())
        .args(["profile", "validate"])
        .arg(&out_file)
        .output()
        .unwrap();
    assert_exit(&validate, 0);

    let bad = Command::new(bin())
        .args(["profile", "init", "--facts"])
        .arg(&facts)
        .args(["--node-network", "10.20.41.5/24"])
        .output()
        .unwrap();
    assert_exit(&bad, 2);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("host bits"));
}

#[test]
fn a_live_run_gathers_the_sysctls_and_modules_the_profile_asks_for() {
    let tree = crate::util::HostTree::new("wanted");
    tree.write("/proc/sys/vm/overcommit_memory", "1\n")
        .write("/proc/sys/kernel/panic", "0\n")
        .write(
            "/proc/modules",
            "br_netfilter 36864 0 - Live 0x0\nmy_nic_driver 1 0 - Live 0x0\n",
        );
    let dir = scratch();
    let profile = dir.path().join("profile.yaml");
    std::fs::write(
        &profile,
        "sysctls:\n  vm.overcommit_memory: 1\n  kernel.panic: 10\nmodules: [my_nic_driver]\n",
    )
    .unwrap();
    let out = Command::new(bin())
        .args([
            "check",
            "--format",
            "json",
            "--host-root",
            tree.arg(),
            "--profile",
        ])
        .arg(&profile)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let status = |id: &str| {
        report["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .map(|r| r["status"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("no {id} in {report}"))
    };
    assert_eq!(status("Sysctl-vm.overcommit_memory"), "ok");
    assert_eq!(status("Sysctl-kernel.panic"), "fail");
    assert_eq!(status("Module-my_nic_driver"), "ok");
}

/// Control bytes that would drive a terminal (title change, bell, CSI).
fn has_raw_controls(text: &[u8]) -> bool {
    String::from_utf8_lossy(text)
        .chars()
        .any(|c| (c < ' ' && c != '\n' && c != '\t') || ('\u{7f}'..='\u{9f}').contains(&c))
}

#[test]
fn paths_and_values_from_the_command_line_are_escaped_in_errors() {
    let hostile = "/x\u{1b}]0;pwn\u{7}";
    for args in [
        vec!["check", "--facts", hostile],
        vec!["check", "--profile", hostile],
        vec!["profile", "validate", hostile],
        vec!["calico", "--peers", hostile],
        vec!["check", "--format", hostile],
        vec![
            "check",
            "--skip",
            hostile,
            "--facts",
            "/nonexistent\u{9b}2J",
        ],
        vec!["profile", "init", "--node-network", hostile],
    ] {
        let out = crate::util::nodecheck(&args);
        assert!(
            !has_raw_controls(&out.stderr),
            "{args:?}: {:?}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !has_raw_controls(&out.stdout),
            "{args:?}: {:?}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert_exit(&out, 2);
    }
}

#[test]
fn emitted_commands_quote_hostile_names_without_raw_control_bytes() {
    let facts = fixture("facts/gather-hostile-names.json");
    for format in ["env", "kubectl", "human"] {
        let out = Command::new(bin())
            .args([
                "calico",
                "--format",
                format,
                "--profile",
                "profiles/default.yaml",
                "--facts",
            ])
            .arg(&facts)
            .args([
                "--method",
                "interface=e\u{1b}q",
                "--method",
                "interface=^br\\.100$",
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert!(
            !has_raw_controls(&out.stdout),
            "{format}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

#[test]
fn the_recommended_line_is_the_word_env_and_kubectl_print() {
    let dir = scratch();
    let text = std::fs::read_to_string(fixture("incident/worker-41.json"))
        .unwrap()
        .replace("\"ens192\"", "\"br.100\"");
    let facts = dir.path().join("vlan.json");
    std::fs::write(&facts, text).unwrap();
    let run = |format: &str| {
        let out = Command::new(bin())
            .args(["calico", "--format", format, "--facts"])
            .arg(&facts)
            .args(["--method", "interface=^br\\.100$"])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let env = run("env");
    let human = run("human");
    let kubectl = run("kubectl");
    let word = env
        .lines()
        .find_map(|l| l.strip_prefix("IP_AUTODETECTION_METHOD="))
        .unwrap_or_else(|| panic!("no env line in {env}"))
        .to_string();
    assert!(
        human.contains(&format!("Recommended: IP_AUTODETECTION_METHOD={word}")),
        "{word} not in\n{human}"
    );
    // The VLAN-style regex is shown as it is pasted, never with its backslash doubled.
    assert!(human.contains("interface=^br\\.100$"), "{human}");
    assert!(!human.contains("br\\\\.100"), "{human}");
    assert!(
        kubectl.contains(&format!(
            "IP_AUTODETECTION_METHOD={}",
            word.trim_matches('\'')
        )),
        "{kubectl}"
    );
}

/// Values planted in a host tree that no output may carry.
const PLANTED_SECRETS: [&str; 4] = [
    "S3cr3tPassw0rd",
    "AKIAplantedSecretKey41",
    "regtok-planted-41",
    "CtrPr0xyPassw0rd",
];

/// A host tree whose kubelet and containerd units carry credentials: cloud keys and a registry token in
/// a 0600 environment file, proxy passwords in drop-ins.
fn host_tree_with_secrets() -> crate::util::HostTree {
    use std::os::unix::fs::PermissionsExt;
    let tree = crate::util::HostTree::new("robust-secrets");
    tree.write(
        "/lib/systemd/system/kubelet.service",
        "[Service]\nExecStart=/usr/bin/kubelet\n",
    );
    tree.write(
        "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf",
        "[Service]\n\
         Environment=\"HTTPS_PROXY=http://proxyuser:S3cr3tPassw0rd@proxy.corp:3128\"\n\
         EnvironmentFile=-/etc/default/kubelet\n\
         ExecStart=\n\
         ExecStart=/usr/bin/kubelet $KUBELET_EXTRA_ARGS\n",
    );
    tree.write(
        "/etc/default/kubelet",
        "AWS_SECRET_ACCESS_KEY=AKIAplantedSecretKey41\n\
         REGISTRY_TOKEN=regtok-planted-41\n\
         not an assignment regtok-planted-41\n\
         KUBELET_EXTRA_ARGS=--node-ip=10.20.41.41\n",
    );
    std::fs::set_permissions(
        tree.path("/etc/default/kubelet"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    tree.write(
        "/lib/systemd/system/containerd.service",
        "[Service]\nExecStart=/usr/bin/containerd\n",
    );
    tree.write(
        "/etc/systemd/system/containerd.service.d/http-proxy.conf",
        "[Service]\n\
         Environment=HTTP_PROXY=http://ctr:CtrPr0xyPassw0rd@proxy.corp:3128 NO_PROXY=localhost\n\
         Environment=REGISTRY_PASSWORD=regtok-planted-41\n",
    );
    tree
}

/// Fails naming the channel when `output` carries a planted secret.
fn assert_no_secret(channel: &str, output: &[u8]) {
    let text = String::from_utf8_lossy(output);
    for secret in PLANTED_SECRETS {
        assert!(
            !text.contains(secret),
            "{channel} carries the planted secret {secret}:\n{text}"
        );
    }
}

#[test]
fn no_planted_secret_reaches_any_output() {
    let tree = host_tree_with_secrets();
    let root = tree.arg();
    let dir = scratch();
    let run = |args: &[&str]| {
        let out = Command::new(bin())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run nodecheck");
        assert!(
            matches!(out.status.code(), Some(0 | 3)),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };

    // The facts say the variables exist, and show the proxy with its password masked.
    let facts = run(&["facts", "--host-root", root, "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&facts.stdout).unwrap();
    let kubelet = &json["node_setup"]["kubelet"]["unit"];
    let env = kubelet["environment"].as_array().unwrap();
    let var = |name: &str| env.iter().find(|v| v["name"] == name).unwrap().clone();
    assert_eq!(
        var("HTTPS_PROXY")["value"],
        "http://proxyuser:***@proxy.corp:3128"
    );
    assert_eq!(var("AWS_SECRET_ACCESS_KEY")["withheld"], true);
    assert_eq!(var("AWS_SECRET_ACCESS_KEY")["value"], "");
    assert_eq!(var("KUBELET_EXTRA_ARGS")["value"], "--node-ip=10.20.41.41");
    for format in ["json", "yaml", "table"] {
        let out = run(&["facts", "--host-root", root, "--format", format]);
        assert_no_secret(&format!("facts --format {format}"), &out.stdout);
        assert_no_secret(&format!("facts --format {format} (stderr)"), &out.stderr);
    }

    let results = dir.path().join("results");
    let textfile = dir.path().join("nodecheck.prom");
    for format in ["human", "json", "junit", "prometheus"] {
        let out = run(&[
            "check",
            "--host-root",
            root,
            "--format",
            format,
            "--write-results",
            results.to_str().unwrap(),
            "--textfile",
            textfile.to_str().unwrap(),
        ]);
        assert_no_secret(&format!("check --format {format}"), &out.stdout);
        assert_no_secret(&format!("check --format {format} (stderr)"), &out.stderr);
        if format == "json" {
            let report = String::from_utf8_lossy(&out.stdout);
            assert!(
                report.contains("http://proxyuser:***@proxy.corp:3128"),
                "Proxy-Env names the proxy, masked: {report}"
            );
        }
    }
    for written in std::fs::read_dir(&results).unwrap() {
        let path = written.unwrap().path();
        assert_no_secret(&path.display().to_string(), &std::fs::read(&path).unwrap());
    }
    assert_no_secret("--textfile", &std::fs::read(&textfile).unwrap());

    let baseline = dir.path().join("baseline.json");
    run(&[
        "baseline",
        "record",
        "--host-root",
        root,
        "--out",
        baseline.to_str().unwrap(),
    ]);
    assert_no_secret("the baseline", &std::fs::read(&baseline).unwrap());
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&baseline).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the baseline is readable by root only");

    // The Ansible module, as Ansible runs it: the args file as the only argument.
    for command in ["facts", "check"] {
        let args_file = dir.path().join(format!("args-{command}"));
        std::fs::write(&args_file, format!(r#"{{"command": "{command}"}}"#)).unwrap();
        let out = Command::new(bin())
            .arg(&args_file)
            .env("NODECHECK_HOST_ROOT", root)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let result: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("one JSON result");
        // A failed check task returns its results without the snapshot; the facts task returns it.
        let carried = if command == "facts" {
            &result["ansible_facts"]["nodecheck"]
        } else {
            &result["results"]
        };
        assert!(
            !carried.is_null(),
            "the module ({command}) answered: {result}"
        );
        assert_no_secret(&format!("the Ansible module ({command})"), &out.stdout);
    }

    // Every endpoint of `serve`.
    let mut server = Command::new(bin())
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--host-root",
            root,
            "--report-json",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(server.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains(" serving ") {
        line.clear();
        let read = std::io::BufRead::read_line(&mut stderr, &mut line).unwrap();
        assert!(read > 0, "serve ended before it listened");
    }
    let address = line
        .trim()
        .rsplit("http://")
        .next()
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    for path in ["/metrics", "/healthz", "/report.json", "/nothing"] {
        let out = Command::new("curl")
            .args(["-s", "--max-time", "10"])
            .arg(format!("http://{address}{path}"))
            .output()
            .expect("run curl");
        assert!(!out.stdout.is_empty(), "{path} answered");
        assert_no_secret(&format!("serve {path}"), &out.stdout);
    }
    let _ = server.kill();
    let _ = server.wait();
}

/// Broken args files (a byte-order mark, trailing garbage, over 1 MiB, nested too deep, truncated)
/// are answered in module mode: one JSON failure naming the problem, so Ansible does not show a bare
/// MODULE FAILURE with the command line's usage error.
#[test]
fn a_broken_ansible_args_file_gets_a_json_failure() {
    let dir = scratch();
    let deep = format!("{{\"command\": {}{}}}", "[".repeat(200), "]".repeat(200));
    let large = format!(
        "{{\"command\": \"facts\", \"pad\": \"{}\"}}",
        "x".repeat(1024 * 1024 + 16)
    );
    let cases: [(&str, String, &str); 5] = [
        (
            "bom",
            "\u{feff}{\"command\": \"facts\"}".to_string(),
            "byte-order mark",
        ),
        (
            "trailing",
            "{\"command\": \"facts\"} garbage".to_string(),
            "text after the JSON object, at line 1 column",
        ),
        ("deep", deep, "nested more than 128 levels deep"),
        ("large", large, "larger than 1 MiB"),
        (
            "truncated",
            "{\"command\": \"fac".to_string(),
            "not valid JSON",
        ),
    ];
    for (name, text, expected) in cases {
        let args_file = dir.path().join(format!("args-{name}"));
        std::fs::write(&args_file, text).unwrap();
        let out = nodecheck_within(&[args_file.as_os_str()], Duration::from_secs(20))
            .expect("the module answered within 20 s");
        assert_exit(&out, 0);
        let result: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{name}: not one JSON result ({e}): {out:?}"));
        assert_eq!(result["failed"], true, "{name}: {result}");
        let msg = result["msg"].as_str().unwrap_or("");
        assert!(msg.contains(expected), "{name}: {msg}");
    }
    // A file that does not start like JSON is still a command-line word.
    let other = dir.path().join("notes.txt");
    std::fs::write(&other, "just text\n").unwrap();
    let out = nodecheck_within(&[other.as_os_str()], Duration::from_secs(20)).unwrap();
    assert_exit(&out, 2);
}

/// A method of thousands of alternatives is shown whole in the "Why" list, and cut in the table
/// cells (whose layout is not linear in a cell's length), saying how much was left out.
#[test]
fn a_huge_method_is_cut_in_the_calico_table_and_whole_below_it() {
    let alternatives: Vec<String> = (0..12_000).map(|n| format!("nic{n}")).collect();
    let method = format!("interface=({})", alternatives.join("|"));
    let facts = fixture("incident/worker-41.json");
    // The output (over 100 kB) is read as it comes: a pipe left unread would block the writer.
    let out = Command::new(bin())
        .args(["calico", "--facts"])
        .arg(&facts)
        .args(["--method", &method])
        .stdin(Stdio::null())
        .output()
        .expect("run nodecheck calico");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        matches!(out.status.code(), Some(0 | 3)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let left_out = method.chars().count() - 240;
    assert!(
        stdout.contains(&format!("… (+{left_out} characters)")),
        "the table cell is cut"
    );
    assert!(
        stdout.contains(&format!("  {method}:\n")),
        "the Why list names the whole method"
    );
}

/// A peer whose host name is longer than any host name can be is refused with a message (a 10 MB
/// name once made a 167 MB report), like any other corrupt peer: exit 2.
#[test]
fn a_peer_with_an_overlong_host_name_is_refused() {
    let dir = scratch();
    let facts = fixture("incident/worker-41.json");
    let mut peer: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&facts).unwrap()).unwrap();
    peer["host"]["hostname"] = serde_json::Value::String("w".repeat(100_000));
    let peer_file = dir.path().join("peer.json");
    std::fs::write(&peer_file, peer.to_string()).unwrap();
    let out = Command::new(bin())
        .args(["check", "--format", "json", "--facts"])
        .arg(&facts)
        .arg("--peers")
        .arg(&peer_file)
        .output()
        .unwrap();
    assert_exit(&out, 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("is 100000 bytes long, over the 253 bytes a host or node name can have"),
        "{stderr}"
    );
    assert!(stderr.len() < 10_000, "the name is not repeated whole");
}
