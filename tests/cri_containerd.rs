//! The container runtime asked over its CRI socket (`Runtime-CRI`, the `cri` facts): a real
//! containerd started on its own socket and state directories inside a scratch host tree, a socket
//! that accepts connections and never answers (the 2 s deadline holds), and a missing socket.

use std::os::unix::fs::FileTypeExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{bin, json_stdout, nix_is_root, result_by_id, skip, HostTree};

/// A containerd serving CRI at `<tree>/run/containerd/containerd.sock`, killed on drop.
struct Containerd {
    child: Child,
    tree: HostTree,
}

impl Containerd {
    /// Starts containerd with a configuration whose root, state, sockets, CNI directories (which
    /// the CRI plugin creates) and `opt` directory are all in a fresh scratch tree, so nothing of
    /// the machine's own is touched; the reason when it cannot run here.
    fn start() -> Result<Containerd, String> {
        if !nix_is_root() {
            return Err("needs root (containerd)".into());
        }
        if Command::new("containerd")
            .arg("--version")
            .output()
            .is_err()
        {
            return Err(
                "containerd is not installed (scripts/setup-test-env.sh installs it)".into(),
            );
        }
        let tree = HostTree::new("cri");
        let data = tree.path("/containerd-test");
        let socket = tree.path("/run/containerd/containerd.sock");
        std::fs::create_dir_all(socket.parent().unwrap()).unwrap();
        let config = format!(
            "version = 2\nroot = \"{root}\"\nstate = \"{state}\"\n\
             [grpc]\n  address = \"{socket}\"\n[ttrpc]\n  address = \"{socket}.ttrpc\"\n\
             [debug]\n  address = \"\"\n[metrics]\n  address = \"\"\n\
             [plugins.\"io.containerd.grpc.v1.cri\".cni]\n  conf_dir = \"{data}/cni/net.d\"\n  bin_dir = \"{data}/cni/bin\"\n\
             [plugins.\"io.containerd.internal.v1.opt\"]\n  path = \"{data}/opt\"\n",
            data = data.display(),
            root = data.join("root").display(),
            state = data.join("state").display(),
            socket = socket.display(),
        );
        tree.write("/containerd-test/config.toml", &config);
        let child = Command::new("containerd")
            .arg("--config")
            .arg(data.join("config.toml"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start containerd: {e}"))?;
        let started = Containerd { child, tree };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if std::fs::metadata(&socket).is_ok_and(|m| m.file_type().is_socket()) {
                return Ok(started);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("containerd did not create {} within 20 s", socket.display());
    }

    /// The version `containerd --version` prints (its third field).
    fn version() -> String {
        let out = Command::new("containerd")
            .arg("--version")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .nth(2)
            .unwrap()
            .trim_start_matches('v')
            .to_string()
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `nodecheck <args>` with no `CONTAINER_RUNTIME_ENDPOINT` unless `endpoint` gives one.
fn run(args: &[&str], endpoint: Option<&str>) -> std::process::Output {
    let mut command = Command::new(bin());
    command.args(args).env_remove("CONTAINER_RUNTIME_ENDPOINT");
    if let Some(endpoint) = endpoint {
        command.env("CONTAINER_RUNTIME_ENDPOINT", endpoint);
    }
    command.output().unwrap()
}

fn cri_facts(tree: &HostTree, endpoint: Option<&str>) -> serde_json::Value {
    let facts = json_stdout(&run(&["facts", "--host-root", tree.arg()], endpoint));
    facts["preflight"]["cri"].clone()
}

fn check(tree: &HostTree, kubernetes_version: &str, endpoint: Option<&str>) -> serde_json::Value {
    tree.write(
        "/nodecheck-profile.yaml",
        &format!("cluster: t\nkubernetes_version: \"{kubernetes_version}\"\n"),
    );
    let profile = tree.path("/nodecheck-profile.yaml");
    let profile = profile.to_str().unwrap();
    let args = [
        "check",
        "--format=json",
        "--host-root",
        tree.arg(),
        "--profile",
        profile,
    ];
    let out = run(&args, endpoint);
    result_by_id(&json_stdout(&out), "Runtime-CRI").clone()
}

#[test]
fn a_real_containerd_answers_over_its_socket_under_the_host_root() {
    let containerd = match Containerd::start() {
        Ok(c) => c,
        Err(reason) => return skip(&reason),
    };
    let tree = &containerd.tree;
    // No endpoint given: the well-known socket, found inside the host root.
    let cri = cri_facts(tree, None);
    assert_eq!(cri["status"], "answered", "{cri:#}");
    assert_eq!(cri["socket"], "/run/containerd/containerd.sock", "{cri:#}");
    assert_eq!(cri["selected_by"], "containerd's well-known socket");
    assert_eq!(cri["runtime_name"], "containerd", "{cri:#}");
    assert_eq!(cri["runtime_version"], Containerd::version().as_str());
    assert_eq!(cri["runtime_api_version"], "v1");
    // containerd implements RuntimeConfig from 2.0; the 1.x of Debian 12 answers Unimplemented.
    let implements = !Containerd::version().starts_with("1.");
    assert_eq!(cri["runtime_config"], implements, "{cri:#}");
    if implements {
        assert!(
            cri["cgroup_driver"] == "systemd" || cri["cgroup_driver"] == "cgroupfs",
            "{cri:#}"
        );
    } else {
        assert!(cri["cgroup_driver"].is_null(), "{cri:#}");
    }

    // kubeadm's rule for the profile's version.
    let result = check(tree, "1.34", None);
    assert_eq!(result["status"], "ok", "{result:#}");
    assert!(result["message"].as_str().unwrap().contains("containerd"));
    let (warn, fail) = (check(tree, "1.35", None), check(tree, "1.37", None));
    if implements {
        assert_eq!(warn["status"], "ok", "{warn:#}");
        assert_eq!(fail["status"], "ok", "{fail:#}");
    } else {
        assert_eq!(warn["status"], "warn", "{warn:#}");
        assert!(warn["message"]
            .as_str()
            .unwrap()
            .contains("ContainerRuntimeVersion"));
        assert_eq!(fail["status"], "fail", "{fail:#}");
        assert!(fail["remediation"]
            .as_str()
            .unwrap()
            .contains("RuntimeConfig"));
    }

    // The same socket named by CONTAINER_RUNTIME_ENDPOINT (a caller's path, not under the root).
    let socket = tree.path("/run/containerd/containerd.sock");
    let endpoint = format!("unix://{}", socket.display());
    let empty = HostTree::new("cri-empty");
    let cri = cri_facts(&empty, Some(&endpoint));
    assert_eq!(cri["status"], "answered", "{cri:#}");
    assert_eq!(cri["selected_by"], "CONTAINER_RUNTIME_ENDPOINT");
    assert_eq!(cri["socket"], socket.to_str().unwrap());
}

/// A scratch host tree whose kubelet is configured by `unit_flags` (added to `ExecStart`) and, when
/// given, `config` at `/var/lib/kubelet/config.yaml`; the real containerd's socket is hard-linked
/// into it at `/run/nodecheck-kubelet/cri.sock`, a path no well-known search finds, and a socket
/// that never answers sits at containerd's well-known path as a decoy.
fn kubelet_tree(containerd: &Containerd, unit_flags: &str, config: Option<&str>) -> HostTree {
    let tree = HostTree::new("cri-kubelet");
    tree.mkdir("/run/nodecheck-kubelet")
        .mkdir("/run/containerd");
    std::fs::hard_link(
        containerd.tree.path("/run/containerd/containerd.sock"),
        tree.path("/run/nodecheck-kubelet/cri.sock"),
    )
    .unwrap();
    tree.write(
        "/etc/systemd/system/kubelet.service",
        &format!("[Service]\nExecStart=/usr/bin/kubelet {unit_flags}\n"),
    );
    if let Some(config) = config {
        tree.write("/var/lib/kubelet/config.yaml", config);
    }
    tree
}

/// Whether the runtime answered (the check judged its answers rather than failing or skipping).
fn answered(result: &serde_json::Value) -> bool {
    result["status"] == "ok" || result["status"] == "warn"
}

#[test]
fn kubelets_configured_endpoint_is_the_socket_asked() {
    let containerd = match Containerd::start() {
        Ok(c) => c,
        Err(reason) => return skip(&reason),
    };
    let socket = "/run/nodecheck-kubelet/cri.sock";
    // The flag wins over the configuration file and over CONTAINER_RUNTIME_ENDPOINT.
    let flagged = kubelet_tree(
        &containerd,
        "--config=/var/lib/kubelet/config.yaml --container-runtime-endpoint=unix:///run/nodecheck-kubelet/cri.sock",
        Some("kind: KubeletConfiguration\ncontainerRuntimeEndpoint: unix:///run/missing.sock\n"),
    );
    let _decoy =
        std::os::unix::net::UnixListener::bind(flagged.path("/run/containerd/containerd.sock"))
            .unwrap();
    let result = check(&flagged, "1.34", Some("unix:///nowhere/cri.sock"));
    // Answered: ok, or a warning when containerd's cgroup driver differs from the file's.
    assert!(answered(&result), "{result:#}");
    assert_eq!(result["evidence"]["socket"], socket, "{result:#}");
    let selected_by = result["evidence"]["selected_by"].as_str().unwrap();
    assert!(
        selected_by.starts_with("kubelet's --container-runtime-endpoint ("),
        "{result:#}"
    );

    // The configuration file's containerRuntimeEndpoint when no flag sets one (a bare path, as
    // kubelet still accepts).
    let configured = kubelet_tree(
        &containerd,
        "--config /var/lib/kubelet/config.yaml",
        Some("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncgroupDriver: systemd\ncontainerRuntimeEndpoint: /run/nodecheck-kubelet/cri.sock\n"),
    );
    let result = check(&configured, "1.34", None);
    // Answered: ok, or a warning when containerd's cgroup driver differs from the file's.
    assert!(answered(&result), "{result:#}");
    assert_eq!(result["evidence"]["socket"], socket, "{result:#}");
    assert_eq!(
        result["evidence"]["selected_by"],
        "kubelet's containerRuntimeEndpoint in /var/lib/kubelet/config.yaml",
        "{result:#}"
    );
    let facts = json_stdout(&run(&["facts", "--host-root", configured.arg()], None));
    let file = &facts["kubelet"]["config_file"];
    assert_eq!(file["container_runtime_endpoint"], socket, "{file:#}");
    assert!(file["error"].is_null(), "{file:#}");
}

#[test]
fn a_socket_that_never_answers_is_a_fact_within_the_deadline() {
    let tree = HostTree::new("cri-silent");
    let socket = tree.path("/run/containerd/containerd.sock");
    std::fs::create_dir_all(socket.parent().unwrap()).unwrap();
    // Connections are queued by the kernel and never read or answered.
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let started = Instant::now();
    let cri = cri_facts(&tree, None);
    let took = started.elapsed();
    assert_eq!(cri["status"], "timeout", "{cri:#}");
    assert!(
        cri["detail"]
            .as_str()
            .unwrap()
            .contains("did not answer within 2 s"),
        "{cri:#}"
    );
    assert!(took < Duration::from_secs(10), "facts took {took:?}");
    let result = check(&tree, "1.35", None);
    assert_eq!(result["status"], "fail", "{result:#}");
}

#[test]
fn a_missing_socket_is_a_fact_and_a_skip() {
    let tree = HostTree::new("cri-missing");
    let cri = cri_facts(&tree, None);
    assert_eq!(cri["status"], "no_socket", "{cri:#}");
    assert!(cri["socket"].is_null());
    let missing = tree.path("/nowhere/cri.sock");
    let endpoint = missing.to_str().unwrap();
    let cri = cri_facts(&tree, Some(endpoint));
    assert_eq!(cri["status"], "no_socket", "{cri:#}");
    assert!(
        cri["detail"].as_str().unwrap().contains("does not exist"),
        "{cri:#}"
    );
    let result = check(&tree, "1.35", Some(endpoint));
    assert_eq!(result["status"], "skip", "{result:#}");
}
