//! Generates a fleet of peer snapshots for the peer-parity benchmark (`bench/peers.sh`).
//!
//! Usage: `cargo run --release --example gen_peers -- OUT_DIR COUNT [--pods N] [--kubectl]`
//!
//! Writes `OUT_DIR/this.json` (the node being checked) and `OUT_DIR/peers/worker-NNNNN.json`, one
//! `nodecheck facts` snapshot per peer, built from the incident fixture's worker-1 with its own
//! hostname, machine-id, product_uuid, MAC and node address, and N pod interfaces (`cali*` veths with
//! a link-local IPv6 address each, default 20) as on a busy worker. A few nodes differ on purpose
//! (kernel, NIC name, MTU) so the parity checks have outliers to group. With `--kubectl`, also writes
//! `OUT_DIR/nodes.json`, a `kubectl get nodes -o json` list of the same nodes with typical fields.

use std::io::Write;
use std::path::PathBuf;

use nodecheck::facts::{Address, Facts, Interface};
use serde_json::json;

const TEMPLATE: &str = include_str!("../tests/fixtures/fleet/incident/worker-1.json");

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: gen_peers OUT_DIR COUNT [--pods N] [--kubectl]";
    let out = PathBuf::from(args.first().ok_or(usage)?);
    let count: usize = args.get(1).ok_or(usage)?.parse()?;
    let pods: usize = match args.iter().position(|a| a == "--pods") {
        Some(i) => args.get(i + 1).ok_or(usage)?.parse()?,
        None => 20,
    };
    let kubectl = args.iter().any(|a| a == "--kubectl");

    let template: Facts = serde_json::from_str(TEMPLATE)?;
    let peers_dir = out.join("peers");
    std::fs::create_dir_all(&peers_dir)?;
    write_json(&out.join("this.json"), &node(&template, 0, pods))?;
    for i in 1..=count {
        let facts = node(&template, i, pods);
        write_json(
            &peers_dir.join(format!("{}.json", facts.host.hostname)),
            &facts,
        )?;
    }
    if kubectl {
        let items: Vec<_> = (0..=count).map(kube_node).collect();
        let list = json!({"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}});
        write_json(&out.join("nodes.json"), &list)?;
    }
    Ok(())
}

fn name(i: usize) -> String {
    format!("worker-{i:05}")
}

fn node_ip(i: usize) -> String {
    format!("10.20.{}.{}", 41 + i / 250, i % 250 + 2)
}

/// Node `i` of the fleet; node 0 is the one being checked.
fn node(template: &Facts, i: usize, pods: usize) -> Facts {
    let mut facts = template.clone();
    facts.host.hostname = name(i).into();
    facts.host.machine_id = Some(compact_str::format_compact!(
        "{:032x}",
        0x6f1c_0000_0000_u64 + i as u64
    ));
    facts.host.product_uuid = Some(compact_str::format_compact!(
        "4c4c4544-{:04x}-3210-8052-{:012x}",
        i % 65536,
        i
    ));
    if i % 2_500 == 41 {
        facts.host.kernel_release = "6.8.0-40-generic".into();
    }
    let nic = &mut facts.interfaces[1];
    nic.mac = Some(compact_str::format_compact!(
        "52:54:00:{:02x}:{:02x}:{:02x}",
        i >> 16,
        (i >> 8) & 0xff,
        i & 0xff
    ));
    nic.permanent_mac = nic.mac.clone();
    nic.addresses[0].address = node_ip(i).parse().expect("address");
    nic.addresses[0].prefix_len = 16;
    if i % 5_000 == 77 {
        nic.name = "ens192".into();
    }
    if i % 5_000 == 78 {
        nic.mtu = 9000;
    }
    let nic_name = nic.name.clone();
    for route in &mut facts.routes {
        if route.device.as_deref() == Some("eth3") {
            route.device = Some(nic_name.clone());
        }
    }
    let veth = facts
        .interfaces
        .iter()
        .find(|i| i.name.starts_with("cali"))
        .cloned()
        .expect("template has a cali interface");
    facts.interfaces.retain(|i| !i.name.starts_with("cali"));
    for pod in 0..pods {
        let index = facts.interfaces.len() as u32 + 1;
        facts.interfaces.push(Interface {
            index,
            name: compact_str::format_compact!("cali{:011x}", (i * 1_000 + pod) * 7_919),
            addresses: vec![Address {
                address: format!("fe80::ecee:eeff:feee:{:x}", pod + 1)
                    .parse()
                    .expect("v6"),
                ..veth.addresses[0].clone()
            }],
            ..veth.clone()
        });
    }
    facts
}

fn kube_node(i: usize) -> serde_json::Value {
    let ip = node_ip(i);
    json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "annotations": {
                "kubeadm.alpha.kubernetes.io/cri-socket": "unix:///var/run/containerd/containerd.sock",
                "node.alpha.kubernetes.io/ttl": "0",
                "projectcalico.org/IPv4Address": if i % 5_000 == 79 { "172.18.0.1/16".to_string() } else { format!("{ip}/16") },
                "projectcalico.org/IPv4IPIPTunnelAddr": format!("10.244.{}.{}", i / 256, i % 256),
                "volumes.kubernetes.io/controller-managed-attach-detach": "true"
            },
            "creationTimestamp": "2026-03-02T08:11:09Z",
            "labels": {
                "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": name(i), "kubernetes.io/os": "linux",
                "node-role.kubernetes.io/worker": ""
            },
            "name": name(i),
            "resourceVersion": (4_810_000 + i).to_string(),
            "uid": format!("5c1e{i:04x}-9a3b-4f1e-8d2c-{i:012x}")
        },
        "spec": {"podCIDR": format!("10.244.{}.0/24", i % 256), "podCIDRs": [format!("10.244.{}.0/24", i % 256)]},
        "status": {
            "addresses": [{"address": ip, "type": "InternalIP"}, {"address": name(i), "type": "Hostname"}],
            "allocatable": {"cpu": "8", "ephemeral-storage": "93492209899", "memory": "32671208Ki", "pods": "110"},
            "capacity": {"cpu": "8", "ephemeral-storage": "101445540Ki", "memory": "32773608Ki", "pods": "110"},
            "conditions": [
                {"lastHeartbeatTime": "2026-11-20T09:44:51Z", "lastTransitionTime": "2026-03-02T08:11:09Z",
                 "message": "kubelet is posting ready status", "reason": "KubeletReady", "status": "True", "type": "Ready"}
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "images": [
                {"names": ["docker.io/calico/node:v3.26.4"], "sizeBytes": 116_143_578},
                {"names": ["registry.k8s.io/kube-proxy:v1.28.4"], "sizeBytes": 28_120_463}
            ],
            "nodeInfo": {
                "architecture": "amd64", "bootID": format!("b3d9c2e1-{:04x}-4a5b-9c8d-7e6f5a4b3c2d", i % 65536),
                "containerRuntimeVersion": "containerd://1.7.2",
                "kernelVersion": if i % 2_500 == 41 { "6.8.0-40-generic" } else { "5.15.0-91-generic" },
                "kubeProxyVersion": "v1.28.4", "kubeletVersion": "v1.28.4",
                "machineID": format!("{:032x}", 0x6f1c_0000_0000_u64 + i as u64),
                "operatingSystem": "linux", "osImage": "Ubuntu 22.04.3 LTS",
                "systemUUID": format!("4c4c4544-{:04x}-3210-8052-{:012x}", i % 65536, i)
            }
        }
    })
}

fn write_json(path: &std::path::Path, value: &impl serde::Serialize) -> std::io::Result<()> {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    serde_json::to_writer_pretty(&mut file, value)?;
    file.write_all(b"\n")?;
    file.flush()
}
