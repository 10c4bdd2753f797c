//! Docker in the snapshot: a real compose-labelled network made with the local engine must appear with
//! its bridge device and compose project; a missing or silent API socket is a recorded fact, not a
//! failure or a hang.

use std::os::unix::net::UnixListener;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::facts_netns::successful_facts;
use crate::util::{bin, docker_unavailable, skip, ComposeNetwork};

fn facts_with_docker_host(docker_host: &str) -> (Value, Duration) {
    let started = Instant::now();
    let out = Command::new(bin())
        .args(["facts", "--format", "json"])
        .env("DOCKER_HOST", docker_host)
        .output()
        .expect("run nodecheck");
    let elapsed = started.elapsed();
    (successful_facts(&out), elapsed)
}

#[test]
fn compose_network_names_its_bridge_and_project() {
    if let Some(reason) = docker_unavailable() {
        return skip(&reason);
    }
    let name = format!("gather-incident41-backend-{}", std::process::id());
    let created = ComposeNetwork::create(&name, "incident41", "backend");
    let (id, subnet, bridge) = (&created.id, &created.subnet, created.bridge_device());

    let out = Command::new(bin())
        .args(["facts", "--format", "json"])
        .env_remove("DOCKER_HOST")
        .output()
        .expect("run nodecheck");
    let facts = successful_facts(&out);
    assert_eq!(facts["docker"]["api"]["status"], "answered");
    let network = facts["docker"]["networks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == name.as_str())
        .unwrap_or_else(|| panic!("network {name} missing: {:#}", facts["docker"]));
    assert_eq!(network["id"], id.as_str());
    assert_eq!(network["driver"], "bridge");
    assert_eq!(network["bridge_device"], bridge.as_str());
    assert_eq!(network["compose_project"], "incident41");
    assert_eq!(network["compose_network"], "backend");
    assert_eq!(network["subnets"], serde_json::json!([subnet]));
    let default = facts["docker"]["networks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "bridge")
        .expect("the default bridge network");
    assert_eq!(default["bridge_device"], "docker0");

    // The bridge exists in the kernel and is recognised from netlink too.
    let interface = facts["interfaces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == bridge.as_str())
        .unwrap_or_else(|| panic!("no interface {bridge}"));
    assert_eq!(interface["kind"], "bridge");
    let bridges: Vec<&str> = facts["docker"]["bridges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_str().unwrap())
        .collect();
    assert!(bridges.contains(&bridge.as_str()), "{bridges:?}");
}

#[test]
fn missing_docker_socket_is_recorded() {
    let path = std::env::temp_dir().join(format!("gather-no-docker-{}.sock", std::process::id()));
    let (facts, _) = facts_with_docker_host(&format!("unix://{}", path.display()));
    assert_eq!(facts["docker"]["api"]["status"], "no_socket");
    assert_eq!(facts["docker"]["api"]["socket"], path.to_str().unwrap());
    assert!(facts["docker"]["networks"].as_array().unwrap().is_empty());
}

#[test]
fn silent_docker_socket_times_out_without_hanging() {
    let path = std::env::temp_dir().join(format!("gather-silent-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    // Accepts connections (the backlog does) but never answers: a wedged dockerd.
    let listener = UnixListener::bind(&path).expect("bind a unix socket");
    let (facts, elapsed) = facts_with_docker_host(&format!("unix://{}", path.display()));
    drop(listener);
    let _ = std::fs::remove_file(&path);
    assert_eq!(facts["docker"]["api"]["status"], "timeout");
    assert!(
        facts["docker"]["api"]["detail"]
            .as_str()
            .unwrap()
            .contains("2 s"),
        "{}",
        facts["docker"]["api"]
    );
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
}
