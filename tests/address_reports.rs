//! Public failure reports as snapshots (tests/fixtures/address-reports, rebuilt by its make.sh in
//! network namespaces as each report describes the node): `nodecheck addresses` must pick what the
//! report says happened, and `check` must flag it before the join.

use serde_json::Value;

use crate::util::{address_component, fixture, json_stdout, nodecheck, result_by_id};

fn scratch(name: &str, text: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("nodecheck-report-{}-{name}", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

/// `addresses` and `check` on a report's snapshot with a profile.
fn run(report: &str, profile: &str) -> (Value, Value) {
    let facts = fixture(&format!("address-reports/{report}.json"));
    let p = scratch(report, profile);
    let facts = facts.to_str().unwrap();
    let profile = p.to_str().unwrap();
    let [addresses, check] = ["addresses", "check"].map(|command| {
        json_stdout(&nodecheck(&[
            command,
            "--facts",
            facts,
            "--profile",
            profile,
            "--format",
            "json",
        ]))
    });
    let _ = std::fs::remove_file(&p);
    (addresses, check)
}

fn component<'a>(report: &'a Value, name: &str) -> &'a Value {
    address_component(report, 0, name)
}

/// k3s#12459 (k3s v1.31.9, dual stack): `--node-ip` names the static ULA, yet flannel takes the
/// first IPv6 address of the default-route interface, the ISP prefix, and breaks when it changes.
/// From k3s 1.33 (flannel v0.28 sorts permanent before dynamic) flannel takes the ULA.
#[test]
fn k3s_12459_flannel_ignores_the_ipv6_node_ip() {
    let profile = |version: &str| {
        format!(
            "cni:\n  k3s:\n    version: {version}\n    args:\n      - \"--node-ip=192.168.0.230,fd00::aa31:e606:ab0e:b5a9\"\n      - \"--cluster-cidr=10.42.0.0/16,2001:cafe:42::/56\"\n"
        )
    };
    let (r, check) = run("k3s-12459", &profile("v1.31.9+k3s1"));
    let k3s = component(&r, "k3s");
    assert_eq!(k3s["address_v6"], "fd00::aa31:e606:ab0e:b5a9", "{r}");
    let flannel = component(&r, "flannel");
    assert_eq!(flannel["interface"], "eth0");
    assert_eq!(flannel["address"], "192.168.0.230");
    assert_eq!(
        flannel["address_v6"], "2001:db8:4a:7f00:aa31:e606:ab0e:b5a9",
        "the report: flannel uses the dynamic prefix"
    );
    assert_eq!(r["consensus"]["agreed"], false);
    let consensus = result_by_id(&check, "Address-Consensus");
    assert_eq!(consensus["status"], "fail", "{consensus}");
    assert!(consensus["message"]
        .as_str()
        .unwrap()
        .contains("2001:db8:4a:7f00:aa31:e606:ab0e:b5a9"));
    let (r, _) = run("k3s-12459", &profile("v1.33.7+k3s1"));
    assert_eq!(
        component(&r, "flannel")["address_v6"],
        "fd00::aa31:e606:ab0e:b5a9"
    );
}

/// k3s#259: two uplinks behind an ECMP default route; flannel exits with "Found default route but
/// could not determine interface" while the node IP is still found.
#[test]
fn k3s_259_ecmp_default_route_kills_flannel() {
    let (r, check) = run("k3s-259", "cni:\n  k3s:\n    version: v1.30.14+k3s1\n");
    assert_eq!(component(&r, "k3s")["address"], "10.0.0.5", "{r}");
    let flannel = component(&r, "flannel");
    assert_eq!(
        flannel["fatal"],
        "flannel exited: failed to find the interface: failed to get default interface: Found default route but could not determine interface"
    );
    let result = result_by_id(&check, "Flannel-Interface");
    assert_eq!(result["status"], "fail", "{result}");
    assert!(result["message"]
        .as_str()
        .unwrap()
        .contains("Found default route but could not determine interface"));
}

/// flannel#1397: `--public-ip` set to the instance's Elastic IP, which no interface holds:
/// flanneld exits instead of using the private address. The report's release predates the
/// oldest modelled; the line is the same through v0.27.
#[test]
fn flannel_1397_public_ip_not_local_is_fatal() {
    let (r, check) = run(
        "flannel-1397",
        "cni:\n  flannel:\n    version: \"0.22.0\"\n    args: [--ip-masq, --kube-subnet-mgr, --public-ip=3.121.45.67]\n",
    );
    assert_eq!(
        component(&r, "flannel")["fatal"],
        "Failed to find any valid interface to use: error looking up interface 3.121.45.67: No interface with given IP found",
        "{r}"
    );
    let result = result_by_id(&check, "Flannel-Interface");
    assert_eq!(result["status"], "fail", "{result}");
}
