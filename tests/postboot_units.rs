//! The systemd units: `systemd-analyze verify` is clean, the service's exposure score stays at or
//! below 2.2 (the read-only adjtimex that Clock-Sync needs costs 0.4 of it), it never hides the host network, and its ExecStart command line is one the binary
//! accepts (run here against saved snapshots, with the paths moved to a temporary directory).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{bin, fixture, skip};

fn unit_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("packaging/systemd")
}

fn read_unit(name: &str) -> String {
    std::fs::read_to_string(unit_dir().join(name)).expect("unit file")
}

fn exec_start(service: &str) -> Vec<String> {
    let line = service
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("ExecStart=");
    line.split_whitespace().map(str::to_string).collect()
}

fn systemd_analyze_unavailable() -> Option<String> {
    match Command::new("systemd-analyze").arg("--version").output() {
        Ok(o) if o.status.success() => None,
        _ => Some("systemd-analyze is not installed (Debian package systemd)".into()),
    }
}

/// A copy of the units whose ExecStart runs the binary cargo built (verify wants it to exist).
fn units_for_verify(dir: &Path) -> Vec<PathBuf> {
    let built = bin();
    ["nodecheck-post-boot.service", "nodecheck-post-boot.timer"]
        .iter()
        .map(|name| {
            let text = read_unit(name).replace("/usr/bin/nodecheck", built.to_str().unwrap());
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            path
        })
        .collect()
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("postboot-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn units_verify_clean_and_exposure_at_most_2_2() {
    if let Some(reason) = systemd_analyze_unavailable() {
        return skip(&reason);
    }
    let dir = temp_dir("units");
    let units = units_for_verify(&dir);
    // --man=no: the man page is installed by the package, not present in a build tree.
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg("--man=no")
        .args(&units)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.trim().is_empty(),
        "systemd-analyze verify: {stderr}"
    );
    let out = Command::new("systemd-analyze")
        .args(["security", "--offline=true"])
        .arg(&units[0])
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let score: f64 = text
        .lines()
        .find_map(|l| l.split("Overall exposure level for ").nth(1))
        .and_then(|rest| rest.split(": ").nth(1))
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level in: {text}"));
    assert!(score <= 2.2, "exposure {score} > 2.2:\n{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn units_keep_the_host_network_visible() {
    let service = read_unit("nodecheck-post-boot.service");
    for forbidden in [
        "PrivateNetwork=yes",
        "IPAddressDeny=",
        "PrivateUsers=yes",
        "ProcSubset=pid",
    ] {
        assert!(
            !service.contains(forbidden),
            "{forbidden} would hide what nodecheck checks"
        );
    }
    assert!(service.contains("Type=oneshot"));
    assert!(service.contains("RuntimeDirectoryPreserve=yes"));
    assert!(
        !service.contains("SuccessExitStatus"),
        "a failed check must fail the unit"
    );
    let timer = read_unit("nodecheck-post-boot.timer");
    assert!(timer.contains("OnBootSec=") && timer.contains("OnUnitActiveSec="));
}

#[test]
fn unit_command_line_runs_and_writes_results() {
    let service = read_unit("nodecheck-post-boot.service");
    let args = exec_start(&service);
    assert_eq!(args[0], "/usr/bin/nodecheck");
    let dir = temp_dir("exec");
    let results = dir.join("run-nodecheck");
    let textfile_dir = dir.join("textfile_collector");
    std::fs::create_dir_all(&textfile_dir).unwrap();
    let textfile = textfile_dir.join("nodecheck.prom");
    let moved: Vec<String> = args[1..]
        .iter()
        .map(|a| match a.as_str() {
            "/run/nodecheck" => results.display().to_string(),
            a if a.ends_with("nodecheck.prom") => textfile.display().to_string(),
            a => a.to_string(),
        })
        .collect();
    let baseline = fixture("postboot/worker-41-baseline.json");
    let facts = fixture("postboot/worker-41-after-reboot.json");
    let run = |journal: Option<&str>| {
        let mut cmd = Command::new(bin());
        cmd.args(&moved)
            .arg("--facts")
            .arg(&facts)
            .arg("--baseline")
            .arg(&baseline)
            .env_remove("JOURNAL_STREAM");
        if let Some(stream) = journal {
            cmd.env("JOURNAL_STREAM", stream);
        }
        cmd.output().unwrap()
    };
    // Under systemd, stderr lines carry syslog priorities the journal understands.
    let journal = run(Some("8:12345"));
    let journal_stderr = String::from_utf8_lossy(&journal.stderr);
    assert!(
        journal_stderr
            .lines()
            .any(|l| l.starts_with("<3>nodecheck[Drift-NodeNicName]: fail:")),
        "{journal_stderr}"
    );
    assert!(journal_stderr
        .lines()
        .any(|l| l.starts_with("<4>nodecheck[Drift-Bridges]: warn:")));
    let out = run(None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("<3>"), "{stderr}");
    assert_eq!(out.status.code(), Some(3), "stderr: {stderr}");
    assert!(
        stderr.contains("nodecheck[Drift-NodeNicName]: fail: node NIC renamed: eth3 → ens192"),
        "{stderr}"
    );
    assert!(
        stderr.contains("nodecheck: post-boot worker-41 : ok="),
        "{stderr}"
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(results.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["phase"], "post-boot");
    assert!(report["results"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["id"] == "Drift-Mtu" && r["status"] == "fail"));
    let prom = std::fs::read_to_string(&textfile).expect("textfile written");
    assert!(
        prom.contains(r#"nodecheck_check_status{id="Drift-Mtu",area="drift",status="fail"} 1"#),
        "{prom}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
