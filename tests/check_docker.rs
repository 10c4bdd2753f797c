//! With the real Docker engine: a network carrying docker compose's labels creates a `br-<id>` bridge;
//! `nodecheck check` on the host names it with its compose project and network.

use crate::util::result_by_id;
use crate::util::{docker_unavailable, json_stdout, nix_is_root, nodecheck, skip, ComposeNetwork};

#[test]
fn compose_bridge_is_named_with_its_project() {
    if let Some(reason) = docker_unavailable() {
        return skip(&reason);
    }
    if !nix_is_root() {
        return skip("needs root (the Docker API socket)");
    }
    let project = format!("checks-middleware-{}", std::process::id());
    let network = ComposeNetwork::create(&format!("{project}_default"), &project, "default");
    let device = network.bridge_device();
    // The shipped default profile, given explicitly (a package may have installed /etc/nodecheck).
    let default = concat!(env!("CARGO_MANIFEST_DIR"), "/profiles/default.yaml");
    let out = nodecheck(&["check", "--profile", default, "--format", "json"]);
    assert!(
        matches!(out.status.code(), Some(0 | 3)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json_stdout(&out);
    let bridge = result_by_id(&report, &format!("Bridge-{device}"));
    assert_eq!(bridge["status"], "warn", "{bridge}");
    assert_eq!(bridge["evidence"]["compose_project"], project.as_str());
    assert_eq!(bridge["evidence"]["compose_network"], "default");
    let message = bridge["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!("{device} is the bridge of compose project `{project}` (network `default`, Docker network {project}_default)")),
        "{message}"
    );
    let overlap = result_by_id(&report, &format!("BridgeOverlap-{device}"));
    assert!(
        overlap["evidence"]["subnets"]
            .as_array()
            .is_some_and(|s| !s.is_empty()),
        "{overlap}"
    );
}
