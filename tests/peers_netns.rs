//! Peer parity end to end with real network namespaces as nodes: `nodecheck facts` in each, then
//! `nodecheck check --peers DIR` live inside one of them.
//!
//! Three nodes carry the node network 10.20.41.0/24 on `eth3`, one (the node checked) on `ens192`, and
//! one of the `eth3` nodes has IPv6 disabled on its NIC. Namespaces share the host's hostname,
//! machine-id and product_uuid, so the snapshots of the other nodes are given their own hostnames and
//! product_uuids — and worker-3 keeps the host's machine-id, as a cloned image would, which
//! `Unique-MachineId` must flag. The checked node's own snapshot is in the directory too, untouched, and
//! must be recognised as itself.

use serde_json::json;

use crate::util::result_by_id;
use crate::util::{json_stdout, netns_unavailable, skip, Netns};

struct Node {
    name: &'static str,
    nic: &'static str,
    address: &'static str,
    ipv6_off: bool,
}

const NODES: [Node; 4] = [
    Node {
        name: "worker-1",
        nic: "eth3",
        address: "10.20.41.11/24",
        ipv6_off: false,
    },
    Node {
        name: "worker-2",
        nic: "eth3",
        address: "10.20.41.12/24",
        ipv6_off: true,
    },
    Node {
        name: "worker-3",
        nic: "eth3",
        address: "10.20.41.13/24",
        ipv6_off: false,
    },
    Node {
        name: "worker-41",
        nic: "ens192",
        address: "10.20.41.41/24",
        ipv6_off: false,
    },
];

fn node_namespace(node: &Node) -> Netns {
    let ns = Netns::new(&format!("peers-{}", node.name));
    ns.ip(&[
        "link", "add", "tmp-nic", "type", "veth", "peer", "name", "nic-peer",
    ]);
    ns.ip(&["link", "set", "tmp-nic", "name", node.nic]);
    ns.ip(&["addr", "add", node.address, "dev", node.nic]);
    ns.ip(&["link", "set", node.nic, "up"]);
    ns.ip(&["link", "set", "nic-peer", "up"]);
    ns.default_route("10.20.41.1", node.nic);
    if node.ipv6_off {
        let key = format!("net.ipv6.conf.{}.disable_ipv6=1", node.nic);
        let out = ns.exec("sysctl", &["-qw", &key]);
        assert!(out.status.success(), "sysctl {key}: {out:?}");
    }
    ns
}

#[test]
fn namespaces_as_nodes_name_the_nic_outlier_and_the_shared_machine_id() {
    if let Some(reason) = netns_unavailable() {
        return skip(&reason);
    }
    let namespaces: Vec<Netns> = NODES.iter().map(node_namespace).collect();
    let dir = std::env::temp_dir().join(format!("nodecheck-peers-netns-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    let mut host_identity = None;
    for (i, (node, ns)) in NODES.iter().zip(&namespaces).enumerate() {
        let out = ns.nodecheck(&["facts", "--format", "json"]);
        assert!(
            out.status.success(),
            "nodecheck facts in {}: {out:?}",
            ns.name
        );
        let mut facts = json_stdout(&out);
        host_identity.get_or_insert_with(|| {
            (
                facts["host"]["hostname"].clone(),
                facts["host"]["machine_id"].clone(),
            )
        });
        if node.name != "worker-41" {
            facts["host"]["hostname"] = json!(node.name);
            facts["host"]["product_uuid"] =
                json!(format!("4c4c4544-00{i}0-3210-8052-b3c04f503132"));
            if node.name != "worker-3" {
                facts["host"]["machine_id"] = json!(format!("{:032x}", 0x6f1c + i));
            }
        }
        std::fs::write(
            dir.join(format!("{}.json", node.name)),
            serde_json::to_vec_pretty(&facts).unwrap(),
        )
        .unwrap();
    }
    let (hostname, machine_id) = host_identity.unwrap();
    let hostname = hostname.as_str().unwrap().to_string();
    let profile = dir.with_extension("profile.yaml");
    std::fs::write(&profile, "node_network:\n  cidrs: [10.20.41.0/24]\n").unwrap();

    // Live, inside the ens192 node.
    let out = namespaces[3].nodecheck(&[
        "check",
        "--profile",
        profile.to_str().unwrap(),
        "--peers",
        dir.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let report = json_stdout(&out);
    assert_eq!(out.status.code(), Some(3), "{report:#}");

    let input = result_by_id(&report, "Peers-Input");
    assert_eq!(input["status"], "ok", "{input:#}");
    assert_eq!(
        input["evidence"]["this_node_sources"],
        json!([dir.join("worker-41.json").display().to_string()])
    );

    let nic = result_by_id(&report, "Parity-NodeNicName");
    assert_eq!(nic["status"], "fail");
    assert_eq!(
        nic["evidence"]["groups"],
        json!([
            {"value": "eth3 (eth* kernel naming)", "count": 3, "nodes": ["worker-1", "worker-2", "worker-3"]},
            {"value": "ens192 (en* predictable naming)", "count": 1, "nodes": [format!("{hostname} (this node)")]},
        ])
    );

    let ipv6 = result_by_id(&report, "Parity-IPv6");
    assert_eq!(ipv6["status"], "warn", "{ipv6:#}");
    assert_eq!(
        ipv6["evidence"]["groups"][1],
        json!({"value": "disabled on the node NIC", "count": 1, "nodes": ["worker-2"]})
    );

    let machine = result_by_id(&report, "Unique-MachineId");
    assert_eq!(machine["status"], "fail", "{machine:#}");
    assert_eq!(
        machine["evidence"]["duplicates"],
        json!([{
            "value": machine_id.as_str().unwrap().to_ascii_lowercase(),
            "count": 2,
            "nodes": [format!("{hostname} (this node)"), "worker-3"],
        }])
    );
    assert_eq!(result_by_id(&report, "Unique-NodeAddress")["status"], "ok");
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_file(&profile).unwrap();
}
