//! End to end in network namespaces: `profile init` on a healthy node (eth3 carrying 10.20.41.12/24
//! and the default route), then `check` with that profile on a node built like the incident's worker
//! (ens192 carrying 10.20.41.41/24, a compose-style bridge br-3f2a1b4c5d6e with 172.18.0.1/16).

use crate::check::tempdir;
use crate::util::result_by_id;
use crate::util::{assert_exit, json_stdout, netns_unavailable, skip, Netns};

/// A node: a veth pair inside `ns` whose first end is called `name`, up, with `address` and the
/// default route via 10.20.41.1.
fn node_nic(ns: &Netns, name: &str, address: &str) {
    ns.add_nic(name, &format!("{name}-peer"), address);
    ns.default_route("10.20.41.1", name);
}

#[test]
fn profile_from_a_healthy_node_fails_the_incident_node_on_its_nic_name() {
    if let Some(reason) = netns_unavailable() {
        return skip(&reason);
    }
    let dir = tempdir("netns-e2e");
    let profile = dir.join("profile.yaml");
    let profile = profile.to_str().unwrap();

    let healthy = Netns::new("checks-healthy");
    node_nic(&healthy, "eth3", "10.20.41.12/24");
    let init = healthy.nodecheck(&[
        "profile",
        "init",
        "--cluster",
        "incident-cluster",
        "--out",
        profile,
    ]);
    assert_exit(&init, 0);
    let yaml = std::fs::read_to_string(profile).unwrap();
    assert!(
        yaml.contains("  cidrs: [\"10.20.41.0/24\"]\n") && yaml.contains("    name: \"eth3\"\n"),
        "{yaml}"
    );

    // The healthy node passes the node-NIC checks of its own profile.
    let own = healthy.nodecheck(&["check", "--profile", profile, "--format", "json"]);
    let own = json_stdout(&own);
    for id in [
        "NodeNic-Present",
        "NodeNic-Address",
        "NodeNic-State",
        "NodeNic-DefaultRoute",
        "NodeNic-Mtu",
    ] {
        assert_eq!(
            result_by_id(&own, id)["status"],
            "ok",
            "{id}: {}",
            result_by_id(&own, id)
        );
    }

    let incident = Netns::new("checks-incident");
    node_nic(&incident, "ens192", "10.20.41.41/24");
    incident.add_bridge("br-3f2a1b4c5d6e", "172.18.0.1/16");
    incident.ip(&["link", "set", "br-3f2a1b4c5d6e", "up"]);
    let out = incident.nodecheck(&["check", "--profile", profile, "--format", "json"]);
    assert_exit(&out, 3);
    let report = json_stdout(&out);
    let present = result_by_id(&report, "NodeNic-Present");
    assert_eq!(present["status"], "fail");
    assert_eq!(present["evidence"]["interface"], "ens192");
    let message = present["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "expected NIC eth3 is missing; the node network 10.20.41.0/24 is on ens192"
        ),
        "{message}"
    );
    let bridge = result_by_id(&report, "Bridge-br-3f2a1b4c5d6e");
    assert_eq!(bridge["status"], "warn");
    assert!(
        bridge["message"]
            .as_str()
            .unwrap()
            .contains("looks like a Docker user-defined or compose bridge"),
        "{bridge}"
    );
    assert_eq!(
        result_by_id(&report, "BridgeOverlap-br-3f2a1b4c5d6e")["status"],
        "ok"
    );
    // The address itself is fine: the NIC is only misnamed.
    assert_eq!(result_by_id(&report, "NodeNic-Address")["status"], "ok");
}
