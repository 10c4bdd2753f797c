//! Profiles: the shipped ones validate, malformed ones give exit 2 with a located message and never a
//! panic, `profile init` writes a profile that reads back, and the JSON Schema matches the types.

use std::process::Output;

use serde_json::Value;

use crate::check::tempdir;
use crate::util::{fixture, json_stdout, nodecheck};

fn root(rel: &str) -> String {
    format!("{}/{rel}", env!("CARGO_MANIFEST_DIR"))
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn shipped_profiles_are_valid() {
    for p in ["profiles/default.yaml", "profiles/incident-cluster.yaml"] {
        let out = nodecheck(&["profile", "validate", &root(p)]);
        assert_eq!(out.status.code(), Some(0), "{p}: {}", stderr(&out));
        assert!(stderr(&out).ends_with(": valid\n"), "{}", stderr(&out));
    }
}

/// (name, file content, substrings the first line of the error must contain)
fn malformed() -> Vec<(&'static str, Vec<u8>, Vec<&'static str>)> {
    let huge = {
        let mut v = b"cluster: x\nskip:\n".to_vec();
        while v.len() < 2 * 1024 * 1024 {
            v.extend_from_slice(b"  - Port-10250\n");
        }
        v
    };
    vec![
        ("bad yaml", b"cluster: [x\nnode_network: {}\n".to_vec(), vec![":1:10: ", "(key `cluster`)"]),
        ("bad indentation", b"node_network:\n  cidrs: []\n   mtu: 1500\n".to_vec(), vec![":3:"]),
        ("unknown key", b"cluster: x\nnode_netwrok:\n  cidrs: []\n".to_vec(), vec![":2:1: unknown key `node_netwrok` at line 2 column 1", "did you mean `node_network`?"]),
        ("unknown nested key", b"node_network:\n  nic:\n    nmae: eth3\n".to_vec(), vec![":3:5: unknown key `nmae`", "(key `node_network.nic.nmae`)", "did you mean `name`?"]),
        ("bad cidr", b"pod_cidrs: [192.168.0.0/33]\n".to_vec(), vec![":1:13: ", "`192.168.0.0/33` is not a CIDR", "(key `pod_cidrs[0]`)"]),
        ("host bits", b"node_network:\n  cidrs: [10.20.41.0/24, 10.20.41.41/24]\n".to_vec(), vec![":2:26: ", "`10.20.41.41/24` has host bits set; the network is `10.20.41.0/24`", "(key `node_network.cidrs[1]`)"]),
        ("bad regex", b"bridges:\n  allowed: [\"br-(\"]\n".to_vec(), vec![":2:13: ", "`br-(` is not a valid regular expression", "(key `bridges.allowed[0]`)"]),
        // Every profile regex and the Calico release are compiled or parsed once, at load: each
        // position is refused there, located, rather than skipped where a check would use it.
        ("bad mac pattern", b"node_network:\n  nic:\n    mac_pattern: \"00:50:(\"\n".to_vec(), vec![":3:18: ", "`00:50:(` is not a valid regular expression", "(key `node_network.nic.mac_pattern`)"]),
        ("bad pci pattern", b"other_nics:\n  - name: eth4\n    pci_pattern: \"[\"\n".to_vec(), vec![":3:18: ", "`[` is not a valid regular expression", "(key `other_nics[0].pci_pattern`)"]),
        ("bad kernel pattern", b"kernel:\n  allowed: [\"5.15.*\", \"6.(\"]\n".to_vec(), vec![":2:23: ", "`6.(` is not a valid regular expression", "(key `kernel.allowed[1]`)"]),
        ("bad calico version", b"calico:\n  version: latest\n".to_vec(), vec![":2:12: ", "`latest` is not a Calico version", "(key `calico.version`)"]),
        ("bad kubernetes version", b"kubernetes_version: latest\n".to_vec(), vec![":1:21: ", "`latest` is not a Kubernetes version", "(key `kubernetes_version`)"]),
        ("bad kernel minimum", b"kernel:\n  minimum: five\n".to_vec(), vec![":2:12: ", "`five` is not a kernel release", "(key `kernel.minimum`)"]),
        ("unknown parity", b"kernel:\n  parity: same-minr\n".to_vec(), vec![":2:11: unknown value `same-minr`", "did you mean `same-minor`?"]),
        ("port zero", b"ports_free: [10250, 0]\n".to_vec(), vec![":1:21: ", "port 0 is not a port", "(key `ports_free[1]`)"]),
        ("port out of range", b"ports_free: [70000]\n".to_vec(), vec![":1:14: ", "(key `ports_free[0]`)"]),
        ("unknown family", b"calico:\n  families: [ipv4, ipv5]\n".to_vec(), vec![":2:20: ", "unknown address family `ipv5`", "did you mean `ipv6`?"]),
        ("wrong type", b"node_network:\n  mtu: big\n".to_vec(), vec![":2:8: ", "(key `node_network.mtu`)"]),
        ("mtu range", b"node_network:\n  mtu: 20\n".to_vec(), vec![":2:8: ", "MTU 20 is out of range"]),
        ("duplicate key", b"cluster: a\ncluster: b\n".to_vec(), vec![":2:1: key `cluster` appears twice"]),
        ("not a mapping", b"- eth3\n- eth4\n".to_vec(), vec![":1:1: "]),
        ("overlapping ranges", b"pod_cidrs: [10.0.0.0/8]\nservice_cidrs: [10.96.0.0/12]\n".to_vec(), vec![":2:1: pod_cidrs `10.0.0.0/8` overlaps service_cidrs `10.96.0.0/12`"]),
        ("unknown runtime", b"runtimes: [containerd, crio]\n".to_vec(), vec![":1:24: ", "unknown container runtime `crio`", "did you mean `cri-o`?"]),
        ("bad endpoint", b"api_server: \"fd00::10:6443\"\n".to_vec(), vec![":1:13: ", "is not an endpoint"]),
        ("bad sysctl name", b"sysctls:\n  net.ipv4.ip_forward: 1\n  ip_forward: 1\n".to_vec(), vec![":3:3: ", "`ip_forward` is not a sysctl name"]),
        ("bad sysctl value", b"sysctls:\n  net.ipv4.ip_forward: true\n".to_vec(), vec![":2:24: ", "is a boolean"]),
        ("nic without identity", b"node_network:\n  nic:\n    role: node\n".to_vec(), vec![":2:3: node_network.nic needs a `name`"]),
        ("bad cilium version", b"cni:\n  cilium:\n    version: 1.13.4\n".to_vec(), vec![":3:14: ", "older than the oldest release modelled", "(key `cni.cilium.version`)"]),
        ("unknown cilium key", b"cni:\n  cilium:\n    direct_routing_devce: eth1\n".to_vec(), vec![":3:5: unknown key `direct_routing_devce`", "did you mean `direct_routing_device`?"]),
        ("cilium flag not a bool", b"cni:\n  cilium:\n    force_device_detection: yes please\n".to_vec(), vec![":3:29: ", "(key `cni.cilium.force_device_detection`)"]),
        ("empty file", b"".to_vec(), vec!["is empty"]),
        ("comments only", b"# nothing here\n".to_vec(), vec!["the profile is empty"]),
        ("binary garbage", vec![0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0xff, 0xfe, 0x00, 0x9c], vec!["not UTF-8 text"]),
        ("control bytes", b"cluster: \x1b[31mred\x00\n".to_vec(), vec![":1:"]),
        ("alias bomb", b"a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n".to_vec(), vec![":1:1: unknown key `a`"]),
        ("huge file", huge, vec!["larger than 1 MiB"]),
    ]
}

#[test]
fn malformed_profiles_exit_2_with_a_located_message() {
    let dir = tempdir("malformed");
    let cases = malformed();
    assert!(cases.len() >= 15);
    for (name, content, expected) in cases {
        let path = dir.join(format!("{}.yaml", name.replace(' ', "-")));
        std::fs::write(&path, &content).unwrap();
        for command in [
            vec!["profile", "validate"],
            vec![
                "check",
                "--facts",
                &fixture("incident/worker-12.json").display().to_string(),
                "--profile",
            ],
        ] {
            let mut args: Vec<String> = command.iter().map(|s| s.to_string()).collect();
            args.push(path.display().to_string());
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = nodecheck(&args);
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "{name}: {err}");
            assert!(!err.contains("panicked"), "{name}: {err}");
            assert!(
                out.stdout.is_empty(),
                "{name}: stdout {:?}",
                String::from_utf8_lossy(&out.stdout)
            );
            let first = err.lines().next().unwrap_or_default();
            assert!(
                first.starts_with(&format!("nodecheck: error: {}", path.display())),
                "{name}: {first}"
            );
            for want in &expected {
                assert!(
                    first.contains(want),
                    "{name}: {want:?} not in {first:?}\n{err}"
                );
            }
            assert!(
                !err.bytes().any(|b| b == 0x1b || b == 0),
                "{name}: control bytes reached stderr: {err:?}"
            );
        }
    }
}

#[test]
fn errors_show_the_source_snippet() {
    let dir = tempdir("snippet");
    let path = dir.join("p.yaml");
    std::fs::write(&path, "cluster: x\nnode_netwrok:\n  cidrs: []\n").unwrap();
    let out = nodecheck(&["profile", "validate", path.to_str().unwrap()]);
    let err = stderr(&out);
    assert!(
        err.contains(&format!("--> {}:2:1", path.display())),
        "{err}"
    );
    assert!(err.contains("2 | node_netwrok:"), "{err}");
}

#[test]
fn init_from_a_healthy_node_reads_back_and_passes_on_it() {
    let dir = tempdir("init");
    let out_file = dir.join("profile.yaml");
    let facts = fixture("incident/worker-12.json").display().to_string();
    let out = nodecheck(&[
        "profile",
        "init",
        "--facts",
        &facts,
        "--cluster",
        "incident-cluster",
        "--out",
        out_file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let yaml = std::fs::read_to_string(&out_file).unwrap();
    for line in [
        "cluster: \"incident-cluster\"",
        "  cidrs: [\"10.20.41.0/24\"]",
        "    name: \"eth3\"",
        "  mtu: 1500",
        "  minimum: \"5.4\"",
        "runtimes: [containerd]",
        "ports_free: [10250, 10256, 179, 9099]",
    ] {
        assert!(yaml.lines().any(|l| l == line), "{line:?} missing:\n{yaml}");
    }
    let valid = nodecheck(&["profile", "validate", out_file.to_str().unwrap()]);
    assert_eq!(valid.status.code(), Some(0), "{}", stderr(&valid));
    // The healthy node passes its own profile; the incident worker fails it on the NIC name.
    let healthy = nodecheck(&[
        "check",
        "--facts",
        &facts,
        "--profile",
        out_file.to_str().unwrap(),
    ]);
    assert_eq!(
        healthy.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&healthy.stdout)
    );
    let incident = nodecheck(&[
        "check",
        "--facts",
        &fixture("incident/worker-41.json").display().to_string(),
        "--profile",
        out_file.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(incident.status.code(), Some(3));
    let report = json_stdout(&incident);
    let present = crate::util::result_by_id(&report, "NodeNic-Present");
    assert_eq!(present["status"], "fail");
    assert_eq!(present["evidence"]["interface"], "ens192");
    // Refuses to overwrite without --force, overwrites with it.
    let again = nodecheck(&[
        "profile",
        "init",
        "--facts",
        &facts,
        "--out",
        out_file.to_str().unwrap(),
    ]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        stderr(&again).contains("exists; pass --force"),
        "{}",
        stderr(&again)
    );
    let forced = nodecheck(&[
        "profile",
        "init",
        "--facts",
        &facts,
        "--out",
        out_file.to_str().unwrap(),
        "--force",
    ]);
    assert_eq!(forced.status.code(), Some(0));
    assert!(std::fs::read_to_string(&out_file)
        .unwrap()
        .contains("cluster: null"));
}

/// The full example in docs/profile.md (the first ```yaml block).
fn documented_example() -> String {
    let doc = std::fs::read_to_string(root("docs/profile.md")).unwrap();
    let start = doc
        .find("```yaml\n")
        .expect("docs/profile.md has a ```yaml block")
        + 8;
    let end = start + doc[start..].find("```").unwrap();
    doc[start..end].to_string()
}

fn child_path(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// Every key path of a JSON value (`calico.families`), descending into objects and array items.
fn key_paths(v: &Value, prefix: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let path = child_path(prefix, k);
                out.push(path.clone());
                key_paths(child, &path, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                key_paths(item, prefix, out);
            }
        }
        _ => {}
    }
}

/// Every property path the schema declares, through `properties`, `items` and `oneOf` object branches.
fn schema_paths(schema: &Value, prefix: &str, out: &mut Vec<String>) {
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for (k, child) in props {
            let path = child_path(prefix, k);
            out.push(path.clone());
            schema_paths(child, &path, out);
        }
    }
    if let Some(items) = schema.get("items") {
        schema_paths(items, prefix, out);
    }
    for branch in schema
        .get("oneOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        schema_paths(branch, prefix, out);
    }
}

#[test]
fn schema_covers_every_field_of_the_full_example_and_nothing_else() {
    let example = documented_example();
    let profile = nodecheck::profile::load::parse_profile(&example, "docs/profile.md").unwrap();
    let as_json = serde_json::to_value(&profile).unwrap();
    let mut fields = Vec::new();
    key_paths(&as_json, "", &mut fields);
    // sysctl names are data, not fields.
    fields.retain(|f| !f.starts_with("sysctls."));
    let out = nodecheck(&["profile", "schema"]);
    assert_eq!(out.status.code(), Some(0));
    let schema = json_stdout(&out);
    let mut declared = Vec::new();
    schema_paths(&schema, "", &mut declared);
    fields.sort();
    fields.dedup();
    declared.sort();
    declared.dedup();
    let missing: Vec<_> = fields.iter().filter(|f| !declared.contains(f)).collect();
    let extra: Vec<_> = declared.iter().filter(|d| !fields.contains(d)).collect();
    assert!(
        missing.is_empty(),
        "fields of the example missing from the schema: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "schema properties the full example does not set (add them to docs/profile.md): {extra:?}"
    );
    // The example really is full: it sets every field explicitly.
    let example_value: Value = serde_json::to_value(serde_saphyr_value(&example)).unwrap();
    let mut written = Vec::new();
    key_paths(&example_value, "", &mut written);
    written.retain(|f| !f.starts_with("sysctls."));
    written.sort();
    written.dedup();
    assert_eq!(
        written, fields,
        "docs/profile.md's example should spell out every field"
    );
}

/// The example as a generic value (which keys the author wrote, defaults not filled in).
fn serde_saphyr_value(text: &str) -> Value {
    serde_saphyr::from_str::<Value>(text).unwrap()
}
