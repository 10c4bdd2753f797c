//! The container image and the DaemonSet: the image is built `FROM scratch` with the local Docker engine
//! (nothing is pulled) from the static musl binary, run with host networking, and its facts must be the
//! host's; the manifest must stay host-network, read-only, and run a command line nodecheck accepts.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::util::{docker_unavailable, json_stdout, nodecheck, sh_ok, skip};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The binary packaging/build.sh makes; the image is only ever built from it.
fn musl_binary() -> PathBuf {
    repo().join("target/x86_64-unknown-linux-musl/release/nodecheck")
}

/// A locally built image, removed on drop.
struct Image {
    tag: String,
}

impl Image {
    fn build(tag: &str) -> Image {
        let context = std::env::temp_dir().join(format!("{tag}-context"));
        let _ = std::fs::remove_dir_all(&context);
        std::fs::create_dir_all(&context).unwrap();
        std::fs::copy(
            repo().join("packaging/container/Dockerfile"),
            context.join("Dockerfile"),
        )
        .unwrap();
        std::fs::copy(musl_binary(), context.join("nodecheck")).unwrap();
        let image = Image {
            tag: format!("{tag}:test"),
        };
        sh_ok(
            "docker",
            &[
                "build",
                "--quiet",
                "--build-arg",
                concat!("VERSION=", env!("CARGO_PKG_VERSION")),
                "-t",
                &image.tag,
                context.to_str().unwrap(),
            ],
        );
        let _ = std::fs::remove_dir_all(&context);
        image
    }
}

impl Drop for Image {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["image", "rm", "--force", &self.tag])
            .output();
    }
}

/// (index, name, MAC) of every interface, in order.
type LinkIdentity = Vec<(u64, String, Option<String>)>;

fn ip_link_identity() -> LinkIdentity {
    let out = sh_ok("ip", &["-j", "link", "show"]);
    json_stdout(&out)
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["ifindex"].as_u64().unwrap(),
                l["ifname"].as_str().unwrap().to_string(),
                // nodecheck reports lo's all-zero MAC as no MAC.
                l["address"]
                    .as_str()
                    .filter(|mac| *mac != "00:00:00:00:00:00")
                    .map(str::to_string),
            )
        })
        .collect()
}

/// The same triple from a snapshot.
fn facts_identity(facts: &Value) -> LinkIdentity {
    facts["interfaces"]
        .as_array()
        .unwrap_or_else(|| panic!("no interfaces in {facts}"))
        .iter()
        .map(|i| {
            (
                i["index"].as_u64().unwrap(),
                i["name"].as_str().unwrap().to_string(),
                i["mac"].as_str().map(str::to_string),
            )
        })
        .collect()
}

#[test]
fn scratch_image_with_host_network_sees_the_hosts_interfaces() {
    if let Some(reason) = docker_unavailable() {
        return skip(&reason);
    }
    if !musl_binary().is_file() {
        return skip(&format!(
            "{} is missing: run packaging/build.sh first",
            musl_binary().display()
        ));
    }
    let image = Image::build(&format!("wt-packaging-nodecheck-{}", std::process::id()));

    let size: u64 = String::from_utf8(
        sh_ok(
            "docker",
            &["image", "inspect", "--format", "{{.Size}}", &image.tag],
        )
        .stdout,
    )
    .unwrap()
    .trim()
    .parse()
    .unwrap();
    let binary_size = std::fs::metadata(musl_binary()).unwrap().len();
    assert!(
        size <= binary_size + 64 * 1024,
        "the image ({size} bytes) should hold the {binary_size}-byte binary and nothing else"
    );

    // Other tests on this machine add and remove links in the host namespace (Docker bridges); retry
    // when the host changed while the container ran.
    let mut last = String::new();
    for _attempt in 0..3 {
        let before = ip_link_identity();
        let out = Command::new("docker")
            .args(["run", "--rm", "--network", "host"])
            .args(["-v", "/etc/os-release:/etc/os-release:ro"])
            .args(["-v", "/etc/machine-id:/etc/machine-id:ro"])
            .args([&image.tag, "facts", "--format", "json"])
            .output()
            .expect("docker run");
        assert!(
            out.status.success(),
            "docker run failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let in_container = json_stdout(&out);
        let host_facts = json_stdout(&nodecheck(&["facts", "--format", "json"]));
        let after = ip_link_identity();
        if before != after {
            last = format!("host links changed during the run: {before:?} -> {after:?}");
            continue;
        }
        // A link that came and went between the two `ip` reads (another test's Docker network) is
        // seen by one run only: try again; a difference that stays fails below.
        let (seen, seen_by_host) = (facts_identity(&in_container), facts_identity(&host_facts));
        if seen != before || seen_by_host != before {
            last = format!(
                "container vs ip -j link: {seen:?} != {before:?}; host facts: {seen_by_host:?}"
            );
            continue;
        }
        assert_eq!(in_container["host"]["os"], host_facts["host"]["os"]);
        assert_eq!(
            in_container["host"]["machine_id"],
            host_facts["host"]["machine_id"]
        );
        assert_eq!(
            in_container["host"]["kernel_release"],
            host_facts["host"]["kernel_release"]
        );
        runs_the_daemonsets_check(&image);
        return;
    }
    panic!("no agreeing comparison in 3 attempts: {last}");
}

/// The image runs the DaemonSet's main container as the pod would (host network, the host's root
/// read-only at /host, a read-only root): `serve` answers on HTTP with a post-join report. Only the
/// listen address is changed, to a free port of 127.0.0.1.
fn runs_the_daemonsets_check(image: &Image) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut args = daemonset_check_args();
    let listen = args.iter().position(|a| a == "--listen").unwrap() + 1;
    args[listen] = format!("127.0.0.1:{port}");
    // The manifest does not serve the whole report; the test reads it to see the run's phase.
    args.push("--report-json".into());
    let name = format!("wt-data-serve-{}", std::process::id());
    sh_ok(
        "docker",
        &[
            &[
                "run",
                "-d",
                "--rm",
                "--name",
                &name,
                "--network",
                "host",
                "--read-only",
            ][..],
            &["-v", "/:/host:ro", &image.tag],
            &args.iter().map(String::as_str).collect::<Vec<_>>()[..],
        ]
        .concat(),
    );
    let mut report = None;
    for _ in 0..50 {
        let out = Command::new("curl")
            .args(["-sf", &format!("http://127.0.0.1:{port}/report.json")])
            .output()
            .expect("curl");
        if out.status.success() {
            report = Some(json_stdout(&out));
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let logs = Command::new("docker").args(["logs", &name]).output();
    let _ = Command::new("docker").args(["rm", "-f", &name]).output();
    let report = report.unwrap_or_else(|| {
        panic!(
            "serve in the image never answered: {:?}",
            logs.map(|o| String::from_utf8_lossy(&o.stderr).to_string())
        )
    });
    assert_eq!(report["phase"], "post-join", "{report}");
    assert!(
        report["results"].as_array().is_some_and(|r| !r.is_empty()),
        "{report}"
    );
}

fn daemonset_pod_spec() -> Value {
    let text = std::fs::read_to_string(repo().join("packaging/container/daemonset.yaml")).unwrap();
    let documents: Vec<Value> = serde_saphyr::from_multiple(&text).expect("daemonset.yaml parses");
    let daemonset = documents
        .iter()
        .find(|d| d["kind"] == "DaemonSet")
        .expect("a DaemonSet document");
    daemonset["spec"]["template"]["spec"].clone()
}

/// The arguments the DaemonSet's container gives the image's entrypoint.
fn daemonset_check_args() -> Vec<String> {
    daemonset_pod_spec()["containers"][0]["args"]
        .as_array()
        .expect("the check container has args")
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn daemonset_is_host_network_read_only_and_runs_a_valid_check() {
    let pod = &daemonset_pod_spec();
    assert_eq!(pod["hostNetwork"], true);
    assert_eq!(pod["hostPID"], false);
    assert_eq!(pod["automountServiceAccountToken"], false);

    let check = &pod["containers"][0];
    let mut argv = vec!["nodecheck".to_string()];
    argv.extend(daemonset_check_args());
    assert_eq!(argv[1], "serve", "{argv:?}");
    for pair in [["--phase", "post-join"], ["--host-root", "/host"]] {
        assert!(argv.windows(2).any(|w| w == pair), "{argv:?}");
    }
    let host_root = check["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["mountPath"] == "/host")
        .expect("the host's root is mounted at /host");
    assert_eq!(host_root["readOnly"], true);
    <nodecheck::cli::Cli as clap::Parser>::try_parse_from(&argv)
        .unwrap_or_else(|e| panic!("the DaemonSet runs {argv:?}, which nodecheck rejects: {e}"));

    let host_paths: Vec<&str> = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v.get("hostPath").is_some())
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert!(!host_paths.is_empty());
    for container in pod["containers"].as_array().unwrap() {
        assert_eq!(
            container["securityContext"]["readOnlyRootFilesystem"], true,
            "{container}"
        );
        assert_eq!(
            container["securityContext"]["allowPrivilegeEscalation"], false,
            "{container}"
        );
        for mount in container["volumeMounts"].as_array().into_iter().flatten() {
            assert_eq!(mount["readOnly"], true, "every mount is read-only: {mount}");
        }
    }
    let mounted: Vec<&str> = check["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    for name in host_paths {
        assert!(
            mounted.contains(&name),
            "hostPath volume {name} is not mounted"
        );
    }
}
