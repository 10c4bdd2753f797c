//! Report formats: golden files for every format on the incident worker, colour rules, and hostile
//! interface names that must not reach a terminal, an XML parser or a Prometheus scraper raw.

use std::process::{Command, Output};

use crate::check::tempdir;
use crate::report_golden::assert_golden;
use crate::util::{assert_exit, bin, fixture};

const INCIDENT_PROFILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/profiles/incident-cluster.yaml"
);

/// Runs nodecheck with a fixed width and without NO_COLOR, so only the flags decide.
fn run(args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .env("COLUMNS", "120")
        .env_remove("NO_COLOR")
        .output()
        .expect("run nodecheck")
}

fn check_worker(name: &str, format: &str) -> Output {
    let facts = fixture(&format!("incident/{name}.json"))
        .display()
        .to_string();
    run(&[
        "check",
        "--facts",
        &facts,
        "--profile",
        INCIDENT_PROFILE,
        "--format",
        format,
        "--color",
        "never",
    ])
}

/// `check` with the incident profile on a facts file, in a format.
fn check_file(facts: &str, format: &str) -> Output {
    run(&[
        "check",
        "--facts",
        facts,
        "--profile",
        INCIDENT_PROFILE,
        "--format",
        format,
    ])
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("UTF-8 output")
}

/// Golden files hold paths relative to the repository, not this checkout's.
fn portable(text: &str) -> String {
    text.replace(concat!(env!("CARGO_MANIFEST_DIR"), "/"), "")
}

#[test]
fn incident_worker_golden_reports() {
    for (format, file) in [
        ("human", "worker-41.human.txt"),
        ("json", "worker-41.json"),
        ("junit", "worker-41.junit.xml"),
        ("prometheus", "worker-41.prom"),
    ] {
        let out = check_worker("worker-41", format);
        assert_eq!(
            out.status.code(),
            Some(3),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_golden(file, &portable(&stdout(&out)));
    }
}

#[test]
fn healthy_peer_golden_human_report() {
    let out = check_worker("worker-12", "human");
    assert_eq!(out.status.code(), Some(0));
    let text = portable(&stdout(&out));
    assert!(
        text.ends_with("worker-12 : ok=25 warn=0 fail=0 skipped=0\n"),
        "{text}"
    );
    assert_golden("worker-12.human.txt", &text);
}

#[test]
fn colour_only_when_asked_and_never_in_other_formats() {
    let facts = fixture("incident/worker-41.json").display().to_string();
    let plain = run(&["check", "--facts", &facts, "--profile", INCIDENT_PROFILE]);
    assert!(
        !plain.stdout.contains(&0x1b),
        "piped output with --color auto must be plain"
    );
    let coloured = run(&[
        "check",
        "--facts",
        &facts,
        "--profile",
        INCIDENT_PROFILE,
        "--color",
        "always",
    ]);
    assert!(
        coloured.stdout.contains(&0x1b),
        "--color always colours the status column"
    );
    let json = run(&[
        "check",
        "--facts",
        &facts,
        "--profile",
        INCIDENT_PROFILE,
        "--color",
        "always",
        "--format",
        "json",
    ]);
    assert!(!json.stdout.contains(&0x1b));
}

/// worker-41 with its compose bridge renamed to something hostile.
fn hostile_facts() -> std::path::PathBuf {
    let text = std::fs::read_to_string(fixture("incident/worker-41.json")).unwrap();
    let hostile = "br-\u{1b}[31m$(id)\";<x>&\u{202e}\\";
    let text = text.replace(
        "br-3f2a1b4c5d6e",
        &hostile
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\u{1b}', "\\u001b"),
    );
    let dir = tempdir("hostile");
    let path = dir.join("facts.json");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn hostile_interface_names_are_escaped_in_every_format() {
    let facts = hostile_facts();
    let facts = facts.to_str().unwrap();
    let human = check_file(facts, "human");
    assert_exit(&human, 3);
    let text = stdout(&human);
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{202e}'),
        "raw control characters in human output"
    );
    assert!(
        text.contains("Bridge-br-\\x1b[31m$(id)\";<x>&\\u{202e}\\"),
        "{text}"
    );

    let junit = stdout(&check_file(facts, "junit"));
    assert!(!junit.contains('\u{1b}'));
    assert!(
        junit.contains("name=\"Bridge-br-\\x1b[31m$(id)&quot;;&lt;x&gt;&amp;\u{202e}\\\""),
        "{junit}"
    );

    let prom = stdout(&check_file(facts, "prometheus"));
    assert!(
        !prom.contains('\u{1b}') && !prom.contains('\u{202e}'),
        "raw control characters in a Prometheus label:\n{prom}"
    );
    assert!(
        prom.contains("id=\"Bridge-br-\\\\x1b[31m$(id)\\\";<x>&\\\\u{202e}\\\\\""),
        "{prom}"
    );
    for line in prom.lines().filter(|l| !l.starts_with('#')) {
        // name{labels} value: a quote inside a value never ends it early.
        let value = line.rsplit(' ').next().unwrap();
        assert!(
            value.parse::<f64>().is_ok(),
            "unparsable sample line: {line:?}"
        );
    }
}

#[test]
fn junit_is_well_formed_xml() {
    let out = check_worker("worker-41", "junit");
    let python = Command::new("python3").arg("--version").output();
    if python.is_err() {
        return crate::util::skip("python3 is not installed (XML well-formedness check)");
    }
    let dir = tempdir("junit");
    let path = dir.join("r.xml");
    std::fs::write(&path, &out.stdout).unwrap();
    let hostile = dir.join("hostile.xml");
    let facts = hostile_facts();
    let h = run(&[
        "check",
        "--facts",
        facts.to_str().unwrap(),
        "--profile",
        INCIDENT_PROFILE,
        "--format",
        "junit",
    ]);
    std::fs::write(&hostile, &h.stdout).unwrap();
    for file in [&path, &hostile] {
        let parsed = Command::new("python3")
            .args(["-c", "import sys, xml.dom.minidom as m; d = m.parse(sys.argv[1]); print(len(d.getElementsByTagName('testcase')), len(d.getElementsByTagName('failure')))", file.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            parsed.status.success(),
            "{}: {}",
            file.display(),
            String::from_utf8_lossy(&parsed.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&parsed.stdout).trim(), "28 4");
    }
}

/// Checks hand renderers the exact bytes of a name; only renderers escape. JSON keeps the name as the
/// kernel gave it, and the human table escapes it once (a check that escaped its own message made JSON
/// carry `\x1b` as text).
#[test]
fn messages_keep_exact_bytes_and_are_escaped_once_for_the_terminal() {
    let hostile = "ens\u{1b}[31m\u{202e}192";
    let text = std::fs::read_to_string(fixture("incident/worker-41.json")).unwrap();
    let text = text.replace("\"ens192\"", &serde_json::to_string(hostile).unwrap());
    let dir = tempdir("exact-bytes");
    let path = dir.join("facts.json");
    std::fs::write(&path, text).unwrap();
    let facts = path.to_str().unwrap();

    let json = check_file(facts, "json");
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let message = |id: &str| {
        report["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("no {id} in the report"))["message"]
            .as_str()
            .unwrap()
            .to_string()
    };
    for id in ["Mtu-Overlay", "NodeNic-Address", "Kubelet-NodeIP"] {
        let m = message(id);
        assert!(m.contains(hostile), "{id}: JSON lost the exact name: {m:?}");
        assert!(!m.contains("\\x1b"), "{id}: JSON carries an escape: {m:?}");
    }

    let human = check_file(facts, "human");
    let shown = stdout(&human);
    assert!(!shown.contains('\u{1b}') && !shown.contains('\u{202e}'));
    let line = shown
        .lines()
        .find(|l| l.contains("Mtu-Overlay"))
        .expect("Mtu-Overlay row");
    let rest: String = shown
        .lines()
        .skip_while(|l| !l.contains("Mtu-Overlay"))
        .take(4)
        .collect();
    assert!(
        rest.contains("ens\\x1b[31m\\u{202e}192"),
        "escaped once: {line}\n{rest}"
    );
    assert!(!rest.contains("\\\\x1b"), "escaped twice: {rest}");
}
