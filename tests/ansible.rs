//! nodecheck as an Ansible module, driven by real ansible-core (from PyPI, in `target/ansible-venv`, made
//! on first use): the example playbook `packaging/ansible/playbook.yml` runs against localhost with the
//! built binary as `library/nodecheck`; `ansible-doc` renders the sidecar documentation.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

use serde_json::Value;

use crate::util::{bin, json_stdout, nodecheck, result_by_id, skip};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The venv with ansible-core, created when missing. Serialised: two tests must not both run pip.
fn ansible_venv() -> Result<PathBuf, String> {
    ansible_venv_at("target/ansible-venv", "ansible-core")
}

/// A venv under the repository with `requirement` installed, created when missing (as
/// `scripts/setup-test-env.sh` makes it). Serialised: two tests must not both run pip.
pub fn ansible_venv_at(dir: &str, requirement: &str) -> Result<PathBuf, String> {
    static CREATING: Mutex<()> = Mutex::new(());
    let _guard = CREATING.lock().unwrap_or_else(|e| e.into_inner());
    let venv = repo().join(dir);
    if venv.join("bin/ansible-playbook").is_file() {
        return Ok(venv);
    }
    let run = |program: &Path, args: &[&str]| -> Result<(), String> {
        let out = Command::new(program)
            .args(args)
            .output()
            .map_err(|e| format!("{}: {e}", program.display()))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{} {args:?} failed: {}",
                program.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    };
    run(
        Path::new("python3"),
        &["-m", "venv", venv.to_str().unwrap()],
    )
    .map_err(|e| format!("cannot create the ansible venv: {e}"))?;
    run(&venv.join("bin/pip"), &["install", "--quiet", requirement])
        .map_err(|e| format!("cannot install ansible-core from PyPI: {e}"))?;
    Ok(venv)
}

/// A throw-away playbook directory: the example playbook, `library/nodecheck` (the built binary) with its
/// documentation, an inventory whose `cluster` and `new_nodes` groups are both this machine, and
/// controller directories for the fact cache, snapshots and reports.
struct PlaybookDir {
    dir: PathBuf,
    venv: PathBuf,
}

impl PlaybookDir {
    fn new(tag: &str, venv: PathBuf) -> PlaybookDir {
        let dir =
            std::env::temp_dir().join(format!("wt-packaging-ansible-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("library")).unwrap();
        std::fs::create_dir_all(dir.join("node-tmp")).unwrap();
        std::fs::copy(
            repo().join("packaging/ansible/playbook.yml"),
            dir.join("playbook.yml"),
        )
        .unwrap();
        std::fs::copy(
            repo().join("packaging/ansible/fix.yml"),
            dir.join("fix.yml"),
        )
        .unwrap();
        std::fs::copy(
            repo().join("packaging/ansible/library/nodecheck.yml"),
            dir.join("library/nodecheck.yml"),
        )
        .unwrap();
        std::fs::copy(bin(), dir.join("library/nodecheck")).unwrap();
        std::fs::copy(
            repo().join("packaging/ansible/library/nodecheck_installed.py"),
            dir.join("library/nodecheck_installed.py"),
        )
        .unwrap();
        let python = venv.join("bin/python3");
        std::fs::write(
            dir.join("inventory"),
            format!(
                "[cluster]\nnode-a ansible_connection=local\n\n[new_nodes]\nlocalhost ansible_connection=local\n\n\
                 [all:vars]\nansible_python_interpreter={}\n",
                python.display()
            ),
        )
        .unwrap();
        PlaybookDir { dir, venv }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    /// Runs the example playbook with `extra` arguments; the fact cache is a jsonfile cache in `cache/`.
    fn run<S: AsRef<std::ffi::OsStr>>(&self, extra: &[S]) -> Output {
        let var = |name: &str, rel: &str| format!("{name}={}", self.path(rel).display());
        Command::new(self.venv.join("bin/ansible-playbook"))
            .current_dir(&self.dir)
            .args(["-i", "inventory", "playbook.yml"])
            .args(["-e", "nodecheck_become=false"])
            .args(["-e", &var("nodecheck_fleet_dir", "fleet")])
            .args(["-e", &var("nodecheck_report_dir", "reports")])
            .args(extra)
            .env("ANSIBLE_CONFIG", self.path("no-ansible.cfg"))
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_LOCAL_TEMP", self.path("tmp-local"))
            .env("ANSIBLE_REMOTE_TEMP", self.path("tmp-remote"))
            .env("TMPDIR", self.path("node-tmp"))
            .env("ANSIBLE_CACHE_PLUGIN", "jsonfile")
            .env("ANSIBLE_CACHE_PLUGIN_CONNECTION", self.path("cache"))
            .env("ANSIBLE_RETRY_FILES_ENABLED", "false")
            .output()
            .expect("run ansible-playbook")
    }

    /// Runs `fix.yml` against localhost only, with `extra` arguments.
    fn run_fix<S: AsRef<std::ffi::OsStr>>(&self, extra: &[S]) -> Output {
        let python = self.venv.join("bin/python3");
        std::fs::write(
            self.path("fix-inventory"),
            format!(
                "localhost ansible_connection=local ansible_python_interpreter={}\n",
                python.display()
            ),
        )
        .unwrap();
        Command::new(self.venv.join("bin/ansible-playbook"))
            .current_dir(&self.dir)
            .args(["-i", "fix-inventory", "fix.yml"])
            .args(["-e", "nodecheck_become=false"])
            .args(extra)
            .env("ANSIBLE_CONFIG", self.path("no-ansible.cfg"))
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_LOCAL_TEMP", self.path("tmp-local"))
            .env("ANSIBLE_REMOTE_TEMP", self.path("tmp-remote"))
            .env("ANSIBLE_RETRY_FILES_ENABLED", "false")
            .output()
            .expect("run ansible-playbook")
    }

    fn report(&self, name: &str) -> Value {
        let path = self.path(&format!("reports/{name}"));
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}\n{text}", path.display()))
    }
}

impl Drop for PlaybookDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn show(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Interface names of this host, in kernel order, as `ip -j link show` lists them.
fn host_interface_names() -> Vec<String> {
    let out = Command::new("ip")
        .args(["-j", "link", "show"])
        .output()
        .expect("ip -j link show");
    json_stdout(&out)
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["ifname"].as_str().unwrap().to_string())
        .collect()
}

fn interface_names(snapshot: &Value) -> Vec<String> {
    snapshot["interfaces"]
        .as_array()
        .unwrap_or_else(|| panic!("no interfaces in {snapshot}"))
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_string())
        .collect()
}

/// One host's facts from a jsonfile fact cache. ansible-core up to 2.18 writes `<host>` holding the facts
/// object; 2.19 writes `s1_<host>` holding `{"__payload__": "<the facts object as a JSON string>"}`.
fn cached_facts(cache: &Path, host: &str) -> Value {
    for name in [host.to_string(), format!("s1_{host}")] {
        let Ok(text) = std::fs::read_to_string(cache.join(&name)) else {
            continue;
        };
        let file: Value = serde_json::from_str(&text).unwrap();
        return match file["__payload__"].as_str() {
            Some(payload) => serde_json::from_str(payload).unwrap(),
            None => file,
        };
    }
    panic!("no fact cache file for {host} in {}", cache.display());
}

fn venv_or_skip() -> Option<PathBuf> {
    match ansible_venv() {
        Ok(venv) => Some(venv),
        Err(reason) => {
            skip(&reason);
            None
        }
    }
}

/// Extra arguments for a run that must pass here: a profile made by `nodecheck profile init` on this
/// host, and as `skip` the IDs of the checks that still fail with it (this test host is no Kubernetes
/// node: e.g. Docker without a CRI runtime). The gate must then pass and list those IDs as skipped.
/// Returns the arguments and those IDs.
fn good_profile_vars(pb: &PlaybookDir, extra: &[&str]) -> (Vec<String>, Vec<String>) {
    let profile = pb.path("good-profile.yaml");
    let out = nodecheck(&["profile", "init", "--out", profile.to_str().unwrap()]);
    assert!(out.status.success(), "profile init: {}", show(&out));
    let out = nodecheck(&[
        "check",
        "--profile",
        profile.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let failing: Vec<String> = json_stdout(&out)["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "fail")
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    let mut args = vec![
        "-e".to_string(),
        format!("nodecheck_profile={}", profile.display()),
        "-e".to_string(),
        serde_json::json!({ "nodecheck_skip": failing }).to_string(),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    (args, failing)
}

#[test]
fn ansible_doc_renders_the_sidecar_documentation() {
    let Some(venv) = venv_or_skip() else { return };
    let pb = PlaybookDir::new("doc", venv);
    let out = Command::new(pb.venv.join("bin/ansible-doc"))
        .args(["--json", "-M"])
        .arg(pb.path("library"))
        .arg("nodecheck")
        .env("ANSIBLE_CONFIG", pb.path("no-ansible.cfg"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    let doc = json_stdout(&out);
    let options = &doc["nodecheck"]["doc"]["options"];
    for param in nodecheck::ansible::params::PARAMETER_NAMES {
        assert!(
            options.get(param).is_some(),
            "ansible-doc lacks option {param}: {options}"
        );
    }
    assert_eq!(
        options["command"]["choices"],
        serde_json::json!(["facts", "check", "calico", "fix"])
    );
    assert!(doc["nodecheck"]["examples"]
        .as_str()
        .unwrap()
        .contains("command: calico"));
    assert!(doc["nodecheck"]["return"]["ansible_facts"].is_object());
}

#[test]
fn playbook_passes_with_a_good_profile_and_caches_the_facts() {
    let Some(venv) = venv_or_skip() else { return };
    let pb = PlaybookDir::new("good", venv);
    let (args, host_findings) = good_profile_vars(&pb, &[]);
    let before = host_interface_names();
    let out = pb.run(&args);
    assert!(out.status.success(), "{}", show(&out));

    let gate = pb.report("localhost.gate.json");
    assert_eq!(gate["failed"], false, "{gate}");
    assert_eq!(gate["changed"], false, "{gate}");
    assert_eq!(gate["failed_checks"], serde_json::json!([]), "{gate}");
    assert!(gate["msg"].as_str().unwrap().contains("fail=0"), "{gate}");
    assert!(
        gate["results"].is_array() && gate["summary"].is_object(),
        "{gate}"
    );
    for id in &host_findings {
        let result = result_by_id(&gate, id);
        assert_eq!(result["status"], "skip", "{result}");
    }

    let calico = pb.report("localhost.calico.json");
    assert_eq!(calico["failed"], false, "{calico}");
    assert!(calico["calico"].is_object(), "{calico}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let method_line = calico["msg"].as_str().unwrap();
    assert!(
        stdout.contains(method_line),
        "the play does not print the Calico method {method_line:?}:\n{stdout}"
    );

    // The snapshot lands in ansible_facts: in the jsonfile fact cache and in the saved fleet snapshots,
    // and it is this host's. Other tests add and remove links in the host namespace meanwhile, so only
    // the links present both before and after the run must be in it.
    let after = host_interface_names();
    let lasting: Vec<&String> = before.iter().filter(|n| after.contains(n)).collect();
    let machine_id = std::fs::read_to_string("/etc/machine-id").unwrap_or_default();
    let cached = cached_facts(&pb.path("cache"), "localhost")["nodecheck"].clone();
    let saved = |node: &str| -> Value {
        let path = pb.path(&format!("fleet/{node}.json"));
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
    };
    for snapshot in [&cached, &saved("localhost"), &saved("node-a")] {
        let names = interface_names(snapshot);
        for name in &lasting {
            assert!(names.contains(name), "{name} missing from {names:?}");
        }
        assert_eq!(
            snapshot["host"]["machine_id"].as_str(),
            Some(machine_id.trim())
        );
    }
    // The saved fleet snapshots, a saved module result (it carries ansible_facts) and the jsonfile fact
    // cache as this ansible-core wrote it are peer input for the command line: every one of them loads.
    for peers in [
        pb.path("fleet"),
        pb.path("reports/localhost.gate.json"),
        pb.path("cache"),
    ] {
        let out = nodecheck(&[
            "check",
            "--peers",
            peers.to_str().unwrap(),
            "--format",
            "json",
        ]);
        assert!(
            matches!(out.status.code(), Some(0) | Some(3)),
            "check --peers {}: {}",
            peers.display(),
            show(&out)
        );
        let report = json_stdout(&out);
        let unusable: Vec<&Value> = report["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["id"] == "Peers-Input" && r["status"] == "fail")
            .collect();
        assert!(unusable.is_empty(), "{}: {unusable:?}", peers.display());
    }
    // The gate staged its peers in a private directory of the node's temporary directory (TMPDIR, for
    // this local connection) and removed it: nothing is left on the node, and nothing was changed.
    let left: Vec<_> = std::fs::read_dir(pb.path("node-tmp"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "staged files left on the node: {left:?}");
    assert_eq!(recap_changed(&out), Some(0), "{}", show(&out));
}

#[test]
fn playbook_fails_naming_the_failed_check_ids_with_a_bad_profile() {
    let Some(venv) = venv_or_skip() else { return };
    let pb = PlaybookDir::new("bad", venv);
    let profile = pb.path("bad-profile.yaml");
    std::fs::write(
        &profile,
        "cluster: wt-packaging-test\nnode_network:\n  nic:\n    name: nc-missing0\n",
    )
    .unwrap();
    let out = pb.run(&["-e", &format!("nodecheck_profile={}", profile.display())]);
    assert_eq!(out.status.code(), Some(2), "a failed host: {}", show(&out));

    // The full result is in the report directory; the task output has the recap and the failed IDs.
    let gate = pb.report("localhost.gate.json");
    assert_eq!(gate["changed"], false, "{gate}");
    assert_eq!(gate["rc"], 3, "{gate}");
    let failed: Vec<&str> = gate["failed_checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(!failed.is_empty(), "{gate}");
    let msg = gate["msg"].as_str().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    for id in &failed {
        assert!(msg.contains(id), "msg lacks {id}: {msg}");
        assert!(stdout.contains(id), "the play output lacks {id}:\n{stdout}");
    }
    let verdict = format!(
        "{}; failed: {}; full report: {}",
        gate["recap"].as_str().unwrap(),
        failed.join(", "),
        pb.path("reports/localhost.gate.json").display()
    );
    assert!(
        stdout.contains(&verdict),
        "no line {verdict:?} in:\n{stdout}"
    );
    assert!(
        !stdout.contains("\"results\""),
        "the play output carries the whole result:\n{stdout}"
    );
    let results = gate["results"].as_array().unwrap();
    assert!(
        results
            .iter()
            .any(|r| r["status"] == "fail" && r.to_string().contains("nc-missing0")),
        "no failing check names the missing NIC nc-missing0: {gate}"
    );
}

#[test]
fn check_mode_runs_the_same_read_only_checks() {
    let Some(venv) = venv_or_skip() else { return };
    let pb = PlaybookDir::new("checkmode", venv);
    let (args, _) = good_profile_vars(&pb, &["--check"]);
    let out = pb.run(&args);
    assert!(out.status.success(), "{}", show(&out));
    let gate = pb.report("localhost.gate.json");
    assert_eq!(gate["changed"], false, "{gate}");
    assert!(
        gate["msg"].as_str().unwrap().contains("check mode"),
        "{gate}"
    );
    assert!(
        gate["ansible_facts"]["nodecheck"]["interfaces"].is_array(),
        "{gate}"
    );
}

/// The recap line of one host: `ok=2 changed=1 ...`.
fn recap_changed(out: &Output) -> Option<u32> {
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .rev()
        .find(|l| l.starts_with("localhost") && l.contains("changed="))?;
    line.split_whitespace()
        .find_map(|w| w.strip_prefix("changed="))
        .and_then(|n| n.parse().ok())
}

#[test]
fn fix_playbook_plans_with_diff_then_applies_then_changes_nothing() {
    if !crate::util::nix_is_root() {
        return skip("needs root (`nodecheck fix --apply` refuses to run without it)");
    }
    let Some(venv) = venv_or_skip() else {
        return;
    };
    let pb = PlaybookDir::new("fix", venv);
    // A scratch host tree: the plan is made from a saved snapshot and written under it, never to /.
    let root = pb.path("root");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(
        root.join("etc/fstab"),
        "UUID=1 / ext4 defaults 0 1\n/swap.img none swap sw 0 0\n",
    )
    .unwrap();
    let vars = [
        "-e".to_string(),
        format!("nodecheck_root={}", root.display()),
        "-e".to_string(),
        format!(
            "nodecheck_facts={}",
            crate::util::fixture("fix/worker-77.json").display()
        ),
        "-e".to_string(),
        format!(
            "nodecheck_profile={}",
            crate::util::fixture("fix/profile.yaml").display()
        ),
    ];
    let fstab_before = std::fs::read_to_string(root.join("etc/fstab")).unwrap();

    let mut args: Vec<String> = vars.to_vec();
    args.extend(["--check".into(), "--diff".into()]);
    let review = pb.run_fix(&args);
    assert!(review.status.success(), "{}", show(&review));
    let text = String::from_utf8_lossy(&review.stdout);
    assert!(text.contains("+++ after: /etc/fstab"), "{}", show(&review));
    assert!(
        text.contains("+# disabled by nodecheck fix (Swap): /swap.img none swap sw 0 0"),
        "{}",
        show(&review)
    );
    assert!(
        text.contains("+++ after: /etc/sysctl.d/99-kubernetes.conf"),
        "{}",
        show(&review)
    );
    assert_eq!(recap_changed(&review), Some(1), "{}", show(&review));
    assert_eq!(
        std::fs::read_to_string(root.join("etc/fstab")).unwrap(),
        fstab_before,
        "check mode changed a file"
    );
    assert!(!root.join("etc/sysctl.d").exists());

    // Without confirmation the playbook stops after the plan.
    let unconfirmed = pb.run_fix(&vars);
    assert!(!unconfirmed.status.success(), "{}", show(&unconfirmed));
    assert!(
        !root.join("etc/sysctl.d").exists(),
        "{}",
        show(&unconfirmed)
    );

    let mut args: Vec<String> = vars.to_vec();
    args.extend(["-e".into(), "nodecheck_confirm=true".into()]);
    let applied = pb.run_fix(&args);
    assert!(applied.status.success(), "{}", show(&applied));
    assert!(
        std::fs::read_to_string(root.join("etc/sysctl.d/99-kubernetes.conf"))
            .unwrap()
            .contains("net.ipv4.ip_forward = 1\n")
    );
    assert!(std::fs::read_to_string(root.join("etc/fstab"))
        .unwrap()
        .contains("# disabled by nodecheck fix (Swap): /swap.img"));
    // The plan (check mode) and the apply both report the change.
    assert_eq!(recap_changed(&applied), Some(2), "{}", show(&applied));

    let again = pb.run_fix(&args);
    assert!(again.status.success(), "{}", show(&again));
    assert_eq!(recap_changed(&again), Some(0), "{}", show(&again));
}

impl PlaybookDir {
    /// Runs one module task against localhost with `ansible -t`, returning its result (`changed`,
    /// `msg`...) as Ansible recorded it, with `ansible`'s exit status as `ansible_rc` (2: the task failed).
    fn run_module(&self, module: &str, args: &Value, extra: &[&str]) -> Value {
        let tree = self.path(&format!("tree-{module}"));
        let _ = std::fs::remove_dir_all(&tree);
        let python = self.venv.join("bin/python3");
        let out = Command::new(self.venv.join("bin/ansible"))
            .current_dir(&self.dir)
            .args([
                "localhost",
                "-c",
                "local",
                "-i",
                "localhost,",
                "-M",
                "library",
            ])
            .arg("-e")
            .arg(format!("ansible_python_interpreter={}", python.display()))
            .args(["-m", module, "-a", &args.to_string(), "-t"])
            .arg(&tree)
            .args(extra)
            .env("ANSIBLE_CONFIG", self.path("no-ansible.cfg"))
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_LOCAL_TEMP", self.path("tmp-local"))
            .env("ANSIBLE_REMOTE_TEMP", self.path("tmp-remote"))
            .env("TMPDIR", self.path("node-tmp"))
            .output()
            .expect("run ansible");
        let path = tree.join("localhost");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}\n{}", path.display(), show(&out)));
        let mut result: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        result["ansible_rc"] = Value::from(out.status.code());
        result
    }

    /// A copy of the built binary at a scratch path, standing for the package's /usr/bin/nodecheck.
    fn installed_binary(&self) -> PathBuf {
        let path = self.path("node-usr-bin/nodecheck");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::copy(bin(), &path).unwrap();
        path
    }
}

#[test]
fn installed_module_returns_what_the_binary_module_returns() {
    let Some(venv) = venv_or_skip() else { return };
    let pb = PlaybookDir::new("installed", venv);
    let binary = pb.installed_binary();
    let root = pb.path("image-root");
    std::fs::create_dir_all(&root).unwrap();
    // A plan from a snapshot under a scratch root: the same input gives the same result byte for byte.
    let fix_args = serde_json::json!({
        "fix": "apply",
        "facts": crate::util::fixture("fix/worker-79.json"),
        "profile": crate::util::fixture("fix/profile.yaml"),
        "root": root,
    });
    // A bad parameter: the binary's own message, passed on unchanged.
    let bad_args = serde_json::json!({"command": "check", "profil": "/x"});
    for (args, extra) in [(fix_args, &["--check", "--diff"][..]), (bad_args, &[][..])] {
        let from_binary = pb.run_module("nodecheck", &args, extra);
        let mut installed_args = args.clone();
        installed_args["binary"] = Value::from(binary.to_str().unwrap());
        let from_installed = pb.run_module("nodecheck_installed", &installed_args, extra);
        assert_eq!(from_installed, from_binary);
    }
    assert_eq!(
        pb.run_module(
            "nodecheck",
            &serde_json::json!({"command": "check", "profil": "/x"}),
            &[]
        )["ansible_rc"],
        2
    );
}

#[test]
fn installed_module_fails_clearly_without_the_binary_or_with_an_old_one() {
    let Some(venv) = venv_or_skip() else { return };
    let pb = PlaybookDir::new("installed-missing", venv);
    // The task fails (ansible exits 2) with this message.
    let failure = |args: Value| {
        let result = pb.run_module("nodecheck_installed", &args, &[]);
        assert_eq!(result["ansible_rc"], 2, "{result}");
        result["msg"].as_str().unwrap().to_string()
    };
    let missing = pb.path("node-usr-bin/nodecheck");
    let msg = failure(serde_json::json!({"command": "facts", "binary": missing}));
    let expected = format!("{}: nodecheck is not installed", missing.display());
    assert!(msg.starts_with(&expected), "{msg}");
    assert!(msg.contains("nodecheck_module=binary"), "{msg}");

    let binary = pb.installed_binary();
    let msg =
        failure(serde_json::json!({"command": "facts", "binary": binary, "min_version": "99.0.0"}));
    let expected = format!(
        "is nodecheck {}; these playbooks need 99.0.0 or newer",
        env!("CARGO_PKG_VERSION")
    );
    assert!(msg.contains(&expected), "{msg}");
}

/// The installed-binary module asks by default for the version it was shipped with.
#[test]
fn installed_module_asks_for_this_version() {
    let module =
        std::fs::read_to_string(repo().join("packaging/ansible/library/nodecheck_installed.py"))
            .unwrap();
    assert!(
        module.contains(&format!("SHIPPED_WITH = \"{}\"", env!("CARGO_PKG_VERSION"))),
        "update SHIPPED_WITH in nodecheck_installed.py"
    );
}

/// With the binary module absent from the library, the playbook can only pass through
/// `nodecheck_installed`: `auto` picks it where `nodecheck_binary` is executable; `installed` without
/// the binary fails every node's gather, naming the path.
#[test]
fn playbook_uses_the_installed_binary_where_there_is_one() {
    let Some(venv) = venv_or_skip() else { return };
    let pb = PlaybookDir::new("auto-installed", venv);
    std::fs::remove_file(pb.path("library/nodecheck")).unwrap();
    let binary = pb.installed_binary();
    let (mut args, _) = good_profile_vars(&pb, &[]);
    args.extend([
        "-e".to_string(),
        format!("nodecheck_binary={}", binary.display()),
    ]);
    let out = pb.run(&args);
    assert!(out.status.success(), "{}", show(&out));
    let gate = pb.report("localhost.gate.json");
    assert_eq!(gate["failed_checks"], serde_json::json!([]), "{gate}");

    std::fs::remove_file(&binary).unwrap();
    args.extend(["-e".to_string(), "nodecheck_module=installed".to_string()]);
    let out = pb.run(&args);
    assert!(!out.status.success(), "{}", show(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "{}: nodecheck is not installed on this node",
            binary.display()
        )),
        "{stdout}"
    );
}
