//! Plain Ansible facts as peers: the real `setup` module of this host, run by ansible-core 2.19+ (its
//! jsonfile cache writes `__payload__`) and by 2.18 (the older cache layout), saved in every form
//! operators have (jsonfile cache, `--tree`, ad-hoc output of several hosts, a YAML cache written with
//! Ansible's own dumper, `__ansible_unsafe` wrappers from Ansible's own encoder), plus hand-made fixtures
//! for other distributions and dashed interface names.
//!
//! The facts are this machine's; the node being checked is this machine's own snapshot renamed, so the
//! Ansible host is a peer whose every mapped value can be compared with what nodecheck gathered.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

use crate::ansible::ansible_venv_at;
use crate::util::{check_incident, fixture, json_stdout, nodecheck, result_by_id, skip};

/// Every form the real ansible-core produced, in one directory per form, and this host renamed.
struct Produced {
    dir: PathBuf,
    /// `nodecheck facts` of this machine under another name and machine-id: the node being checked.
    other: PathBuf,
    /// This machine's own snapshot, as gathered.
    me: Value,
}

fn run(program: &Path, args: &[&str], env: &[(&str, &Path)], cwd: &Path) -> Output {
    let out = Command::new(program)
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_os_str())))
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_LOCALHOST_WARNING", "0")
        .env("ANSIBLE_CONFIG", cwd.join("no-ansible.cfg"))
        .current_dir(cwd)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", program.display()));
    assert!(
        out.status.success(),
        "{} {args:?}: {}{}",
        program.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `ansible -m setup` over an inventory of `hosts` (all this machine, local connection).
fn setup(venv: &Path, dir: &Path, hosts: &[&str], extra: &[&str], env: &[(&str, &Path)]) -> Output {
    let python = venv.join("bin/python3");
    let inventory = dir.join(format!("inventory-{}", hosts.join("-")));
    let lines: Vec<String> = hosts
        .iter()
        .map(|h| {
            format!(
                "{h} ansible_connection=local ansible_python_interpreter={}",
                python.display()
            )
        })
        .collect();
    std::fs::write(&inventory, lines.join("\n") + "\n").unwrap();
    let mut args = vec!["all", "-i", inventory.to_str().unwrap(), "-m", "setup"];
    args.extend(extra);
    run(&venv.join("bin/ansible"), &args, env, dir)
}

/// Runs ansible-core once for all tests of this module; `Err` when it cannot be installed.
fn produced() -> Result<&'static Produced, String> {
    static PRODUCED: OnceLock<Result<Produced, String>> = OnceLock::new();
    PRODUCED
        .get_or_init(|| {
            let latest = ansible_venv_at("target/ansible-venv", "ansible-core")?;
            let v218 = ansible_venv_at("target/ansible-venv-2.18", "ansible-core>=2.15,<2.19")?;
            let dir = std::env::temp_dir().join(format!("nodecheck-ansible-facts-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            let cache = |name: &str| dir.join(name);
            // jsonfile caches: 2.19+ (`__payload__`) and 2.18.
            for (venv, name) in [(&latest, "cache-2.19"), (&v218, "cache-2.18")] {
                setup(
                    venv,
                    &dir,
                    &["localhost"],
                    &[],
                    &[
                        ("ANSIBLE_CACHE_PLUGIN", Path::new("jsonfile")),
                        ("ANSIBLE_CACHE_PLUGIN_CONNECTION", &cache(name)),
                    ],
                );
            }
            // `--tree` and ad-hoc output of two inventory hosts in one file.
            setup(&latest, &dir, &["localhost"], &["--tree", cache("tree").to_str().unwrap()], &[]);
            let adhoc = setup(&latest, &dir, &["node-a", "node-b"], &[], &[]);
            std::fs::create_dir_all(cache("adhoc")).unwrap();
            std::fs::write(cache("adhoc/setup.txt"), &adhoc.stdout).unwrap();
            // A YAML cache as Ansible's YAML dumper writes it, and `__ansible_unsafe` wrappers as
            // Ansible's JSON encoder writes unsafe values, from the 2.18 cache entry.
            std::fs::create_dir_all(cache("yaml")).unwrap();
            std::fs::create_dir_all(cache("unsafe")).unwrap();
            let script = format!(
                r#"
import json, yaml
from ansible.parsing.yaml.dumper import AnsibleDumper
from ansible.module_utils.common.json import AnsibleJSONEncoder
from ansible.utils.unsafe_proxy import wrap_var
facts = json.load(open({cache:?}))
open({yaml:?}, "w").write(yaml.dump(facts, Dumper=AnsibleDumper, default_flow_style=False))
open({unsafe:?}, "w").write(json.dumps(wrap_var(facts), cls=AnsibleJSONEncoder, preprocess_unsafe=True, sort_keys=True, indent=4))
"#,
                cache = cache("cache-2.18/localhost").display().to_string(),
                yaml = cache("yaml/localhost").display().to_string(),
                unsafe = cache("unsafe/localhost").display().to_string(),
            );
            run(&v218.join("bin/python3"), &["-c", &script], &[], &dir);
            let me = json_stdout(&nodecheck(&["facts", "--format", "json"]));
            let mut other = me.clone();
            other["host"]["hostname"] = "nodecheck-test-other".into();
            other["host"]["machine_id"] = "0123456789abcdef0123456789abcdef".into();
            other["host"]["product_uuid"] = Value::Null;
            let other_path = dir.join("other.json");
            std::fs::write(&other_path, serde_json::to_vec(&other).unwrap()).unwrap();
            Ok(Produced {
                dir,
                other: other_path,
                me,
            })
        })
        .as_ref()
        .map_err(Clone::clone)
}

fn produced_or_skip() -> Option<&'static Produced> {
    match produced() {
        Ok(p) => Some(p),
        Err(e) => {
            skip(&format!("ansible-core is not available: {e}"));
            None
        }
    }
}

fn check(p: &Produced, peers: &Path) -> Value {
    let out = nodecheck(&[
        "check",
        "--facts",
        p.other.to_str().unwrap(),
        "--peers",
        peers.to_str().unwrap(),
        "--format",
        "json",
    ]);
    json_stdout(&out)
}

fn message(report: &Value, id: &str) -> String {
    result_by_id(report, id)["message"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The node NIC of this machine's snapshot: the default route's interface.
fn default_nic(me: &Value) -> &Value {
    let device = me["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["destination"] == "0.0.0.0/0")
        .and_then(|r| r["device"].as_str())
        .expect("the test host has an IPv4 default route");
    me["interfaces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == device)
        .unwrap()
}

#[test]
fn every_form_ansible_writes_maps_this_hosts_facts() {
    let Some(p) = produced_or_skip() else { return };
    let nic = default_nic(&p.me);
    let nodename = p.me["host"]["hostname"].as_str().unwrap();
    for form in ["cache-2.19", "cache-2.18", "tree", "yaml", "unsafe"] {
        let report = check(p, &p.dir.join(form));
        let input = message(&report, "Peers-Input");
        assert!(
            input.contains("1 peer loaded") && input.contains("1 from plain Ansible facts"),
            "{form}: {input}"
        );
        // Kernel, node NIC name and MTU: equal to what nodecheck gathered on the same machine.
        for id in [
            "Parity-KernelRelease",
            "Parity-NodeNicName",
            "Parity-NodeNicMtu",
        ] {
            assert_eq!(
                result_by_id(&report, id)["status"],
                "ok",
                "{form} {id}: {report:#}"
            );
        }
        assert!(message(&report, "Parity-NodeNicName").contains(nic["name"].as_str().unwrap()));
        assert!(message(&report, "Parity-NodeNicMtu").contains(&nic["mtu"].to_string()));
        // The MAC and the node address are the same machine's: both must be seen as duplicates.
        let mac = message(&report, "Unique-NodeNicMac");
        assert!(
            mac.contains(nic["mac"].as_str().unwrap()) && mac.contains(nodename),
            "{form}: {mac}"
        );
        assert_eq!(
            result_by_id(&report, "Unique-NodeAddress")["status"],
            "fail",
            "{form}"
        );
        // IPv6 is on where the node NIC has an IPv6 address (a link-local one included): the setup facts
        // show it, and the state is then this machine's own. Without one it is not known, and says so.
        let ipv6 = message(&report, "Parity-IPv6");
        let nic_has_ipv6 = nic["addresses"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["family"] == "ipv6");
        let unknown = format!("not known for {nodename} (from Ansible facts)");
        if nic_has_ipv6 {
            assert!(!ipv6.contains(&unknown), "{form}: {ipv6}");
            assert_eq!(
                result_by_id(&report, "Parity-IPv6")["status"],
                "ok",
                "{form}: {ipv6}"
            );
        } else {
            assert!(ipv6.contains(&unknown), "{form}: {ipv6}");
        }
        let runtimes = message(&report, "Parity-ContainerRuntime");
        assert!(
            runtimes.contains("(from Ansible facts)"),
            "{form}: {runtimes}"
        );
    }
}

#[test]
fn ad_hoc_output_of_several_hosts_in_one_file() {
    let Some(p) = produced_or_skip() else { return };
    let text = std::fs::read_to_string(p.dir.join("adhoc/setup.txt")).unwrap();
    assert!(text.contains("node-a | SUCCESS => {") && text.contains("node-b | SUCCESS => {"));
    let report = check(p, &p.dir.join("adhoc"));
    let input = result_by_id(&report, "Peers-Input");
    // Two inventory names, one machine (same nodename and machine-id): one peer, one merge.
    assert_eq!(input["evidence"]["merged"], 1, "{input:#}");
    assert!(
        input["message"]
            .as_str()
            .unwrap()
            .contains("1 from plain Ansible facts"),
        "{input:#}"
    );
}

#[test]
fn calico_predictions_from_this_hosts_ansible_facts() {
    let Some(p) = produced_or_skip() else { return };
    let nic = default_nic(&p.me);
    let address = nic["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["family"] == "ipv4" && a["scope"] == "global")
        .unwrap();
    let cidr = format!(
        "{}/{}",
        address["address"].as_str().unwrap(),
        address["prefix_len"]
    );
    let method = format!("cidr={cidr}");
    let out = nodecheck(&[
        "calico",
        "--facts",
        p.other.to_str().unwrap(),
        "--peers",
        p.dir.join("cache-2.19").to_str().unwrap(),
        "--method",
        &method,
        "--method",
        "can-reach=192.0.2.250",
        "--format",
        "json",
    ]);
    let doc = json_stdout(&out);
    let text = doc.to_string();
    // `cidr=` has one match on the Ansible host: predicted, the same interface as gathered.
    let nodename = p.me["host"]["hostname"].as_str().unwrap();
    assert!(
        text.contains(&format!(
            "Using autodetected IPv4 address {}/{} on interface {}",
            address["address"].as_str().unwrap(),
            address["prefix_len"],
            nic["name"].as_str().unwrap()
        )),
        "{doc:#}"
    );
    // `can-reach=` follows routes Ansible does not hold.
    assert!(
        text.contains("cannot tell from Ansible facts: the source address towards 192.0.2.250"),
        "{nodename}: {doc:#}"
    );
}

#[test]
fn hand_made_facts_of_other_distributions_and_dashed_names() {
    // worker-41 (Ubuntu, `--tree`, every string `__ansible_unsafe`), worker-42 (Rocky 9, YAML cache,
    // bond0.100 and storage-net), worker-43 (Debian 12, ad-hoc output with an unreachable host).
    let out = check_incident(&[
        "--peers",
        fixture("ansible").to_str().unwrap(),
        "--format",
        "json",
    ]);
    let report = json_stdout(&out);
    let nic_names = message(&report, "Parity-NodeNicName");
    assert!(
        nic_names.contains("bond0.100 (other naming): worker-42.dc1.example"),
        "{nic_names}"
    );
    assert!(
        nic_names.contains("enp1s0 (en* predictable naming): worker-43"),
        "{nic_names}"
    );
    let kernels = message(&report, "Parity-KernelRelease");
    assert!(
        kernels.contains("5.14.x: worker-42.dc1.example"),
        "{kernels}"
    );
    let mtu = message(&report, "Parity-NodeNicMtu");
    assert!(mtu.contains("9000: worker-42.dc1.example"), "{mtu}");
    let input = message(&report, "Peers-Input");
    assert!(
        input.contains("adhoc.txt#worker-44: Ansible reported UNREACHABLE"),
        "{input}"
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unusable peer input is bad input"
    );
}

#[test]
fn interface_order_decides_only_where_several_interfaces_qualify() {
    // Calico 3.24 does not skip `br-*`: on worker-41 first-found has eth3 and the compose bridge to
    // choose from, in an order Ansible does not keep; `cidr=` and `interface=^eth3$` have one match.
    let out = nodecheck(&[
        "calico",
        "--facts",
        fixture("fleet/incident/worker-1.json").to_str().unwrap(),
        "--peers",
        fixture("ansible/worker-41.json").to_str().unwrap(),
        "--calico-version",
        "3.24.0",
        "--method",
        "first-found",
        "--method",
        "cidr=10.20.41.0/24",
        "--method",
        "interface=^eth3$",
        "--format",
        "json",
    ]);
    let text = json_stdout(&out).to_string();
    assert!(
        text.contains(
            "cannot tell from Ansible facts: br-3f2a1b0c9d8e, eth3 qualify, and calico-node takes the \
             one it meets first in the kernel's interface order"
        ),
        "{text}"
    );
    assert!(
        text.contains("Using autodetected IPv4 address 10.20.41.41/24 on interface eth3 matching cidrs [10.20.41.0/24]"),
        "{text}"
    );
    assert!(
        text.contains("Using autodetected IPv4 address 10.20.41.41/24 on matching interface eth3"),
        "{text}"
    );
}

#[test]
fn a_mixed_cache_directory_loads_every_form_and_names_unknown_keys() {
    let dir = std::env::temp_dir().join(format!("nodecheck-ansible-mixed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["worker-41.json", "worker-42.yaml", "adhoc.txt"] {
        std::fs::copy(fixture(&format!("ansible/{name}")), dir.join(name)).unwrap();
    }
    std::fs::copy(
        fixture("fleet/ansible-cache/worker-2"),
        dir.join("worker-2"),
    )
    .unwrap();
    std::fs::copy(
        fixture("fleet/incident/worker-3.json"),
        dir.join("worker-3.json"),
    )
    .unwrap();
    std::fs::write(
        dir.join("inventory.json"),
        r#"{"all": {"hosts": ["a"]}, "_meta": {}}"#,
    )
    .unwrap();
    let out = nodecheck(&[
        "check",
        "--facts",
        fixture("fleet/incident/worker-1.json").to_str().unwrap(),
        "--peers",
        dir.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let report = json_stdout(&out);
    let input = message(&report, "Peers-Input");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        input.contains("5 other peers are still compared"),
        "{input}"
    );
    assert!(
        input.contains("inventory.json: not a nodecheck snapshot, Ansible facts (cache, setup --tree or ad-hoc output) or kubectl node list: a JSON object with top-level keys \"all\", \"_meta\""),
        "{input}"
    );
}
