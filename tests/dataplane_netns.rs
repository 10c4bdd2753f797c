//! `check --probe-dataplane` end to end, run inside a private network namespace per test (so the
//! probe's own namespaces, veths and routes are made under it and the machine's are never touched):
//! forwarding on, `ip_forward` off, an nftables FORWARD drop policy, interruption by SIGTERM and
//! SIGKILL, and the removal of a killed run's leftovers.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::check::tempdir;
use crate::util::{bin, json_stdout, netns_unavailable, result_by_id, skip, Netns};

/// A node namespace: NIC `ens3` with 10.77.0.5/24 and the default route (MTU 1500), forwarding
/// as `ip_forward` says.
fn node(tag: &str, ip_forward: bool) -> Netns {
    let ns = Netns::new(tag);
    ns.add_nic("ens3", "ens3-peer", "10.77.0.5/24");
    ns.default_route("10.77.0.1", "ens3");
    let value = format!("net.ipv4.ip_forward={}", u8::from(ip_forward));
    let out = ns.exec("sysctl", &["-qw", &value]);
    assert!(out.status.success(), "sysctl: {out:?}");
    ns
}

/// A profile with its own pod CIDR and VXLAN (veth MTU 1500 - 50 = 1450).
fn profile(tag: &str) -> String {
    let path = tempdir(tag).join("profile.yaml");
    std::fs::write(
        &path,
        "cluster: dp\npod_cidrs: [10.244.0.0/16]\ncalico:\n  encapsulation: vxlan\n",
    )
    .unwrap();
    path.to_str().unwrap().to_string()
}

/// Real nftables rules inside the namespace.
fn nft(ns: &Netns, rules: &[&str]) {
    for rule in rules {
        let out = ns.exec("nft", &[rule]);
        assert!(out.status.success(), "nft {rule}: {out:?}");
    }
}

/// The probe's links left in the namespace.
fn probe_links(ns: &Netns) -> Vec<String> {
    ns.ip_link_names()
        .into_iter()
        .filter(|n| n.starts_with("ncp"))
        .collect()
}

fn probe(ns: &Netns, profile: &str) -> serde_json::Value {
    let out = ns.nodecheck(&[
        "check",
        "--profile",
        profile,
        "--probe-dataplane",
        "--format",
        "json",
    ]);
    let report = json_stdout(&out);
    assert!(
        probe_links(ns).is_empty(),
        "left behind: {:?}",
        probe_links(ns)
    );
    result_by_id(&report, "Dataplane-Probe").clone()
}

#[test]
fn dataplane_probe_passes_through_a_forwarding_host_at_the_overlay_mtu() {
    if let Some(reason) = netns_unavailable() {
        return skip(&reason);
    }
    let ns = node("dp-ok", true);
    // A pod of a CNI already running holds the pod CIDR's highest address.
    ns.ip(&["route", "add", "10.244.255.254/32", "dev", "ens3"]);
    let r = probe(&ns, &profile("dp-ok"));
    assert_eq!(r["status"], "ok", "{r:#}");
    assert_eq!(r["evidence"]["mtu"], 1450, "{r:#}");
    assert_eq!(
        r["evidence"]["addresses"],
        serde_json::json!(["10.244.255.252", "10.244.255.253"])
    );
    let message = r["message"].as_str().unwrap();
    assert!(
        message.contains("at MTU 1450")
            && message.contains("TCP 5640 bytes")
            && message.contains("large packet at MTU 1422 bytes"),
        "{message}"
    );
    // Not asked for: not run, not reported.
    let out = ns.nodecheck(&["check", "--format", "json"]);
    let report = json_stdout(&out);
    assert!(report["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["id"] != "Dataplane-Probe"));
}

#[test]
fn dataplane_probe_names_ip_forward_off() {
    if let Some(reason) = netns_unavailable() {
        return skip(&reason);
    }
    let ns = node("dp-nofwd", false);
    let r = probe(&ns, &profile("dp-nofwd"));
    assert_eq!(r["status"], "fail", "{r:#}");
    let message = r["message"].as_str().unwrap();
    assert!(
        message.contains("TCP (5640 bytes)") && message.contains("net.ipv4.ip_forward is 0"),
        "{message}"
    );
    // The probe set no sysctl: forwarding is still off.
    let out = ns.exec("sysctl", &["-n", "net.ipv4.ip_forward"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0");
}

#[test]
fn dataplane_probe_names_a_forward_drop_policy() {
    if let Some(reason) = netns_unavailable() {
        return skip(&reason);
    }
    let ns = node("dp-drop", true);
    nft(
        &ns,
        &[
            "add table ip filter",
            "add chain ip filter FORWARD { type filter hook forward priority 0; policy drop; }",
        ],
    );
    let r = probe(&ns, &profile("dp-drop"));
    assert_eq!(r["status"], "fail", "{r:#}");
    let message = r["message"].as_str().unwrap();
    assert!(
        message.contains("UDP (32 bytes)")
            && message.contains("nftables ip filter FORWARD on the forward hook has policy drop")
            && !message.contains("ip_forward"),
        "{message}"
    );
    // The ruleset is as it was.
    let out = ns.exec("nft", &["list", "chain", "ip", "filter", "FORWARD"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("policy drop"));
}

/// Starts the probe in `ns` (forwarding off, so the legs wait), waits for its links, then sends
/// `signal`; returns the exit status and stderr.
fn interrupt(ns: &Netns, signal: libc::c_int) -> (Option<i32>, String) {
    let child = Command::new("ip")
        .args(["netns", "exec", &ns.name])
        .arg(bin())
        .args(["check", "--probe-dataplane", "--format", "json"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while probe_links(ns).len() < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "the probe's links never appeared"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // `ip netns exec` execs nodecheck in place: the child is nodecheck.
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: a plain kill(2) of our own child.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Waits up to 5 s for the kernel to finish tearing down namespaces and their veths.
fn assert_probe_links_go(ns: &Netns) {
    let started = Instant::now();
    while !probe_links(ns).is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "left behind: {:?}",
            probe_links(ns)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn dataplane_probe_interrupted_by_sigterm_removes_what_it_made() {
    if let Some(reason) = netns_unavailable() {
        return skip(&reason);
    }
    let ns = node("dp-term", false);
    let (code, stderr) = interrupt(&ns, libc::SIGTERM);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("interrupted by SIGTERM"), "{stderr}");
    // Deleted before the exit, not left to the kernel.
    assert!(
        probe_links(&ns).is_empty(),
        "left behind: {:?}",
        probe_links(&ns)
    );
}

#[test]
fn dataplane_probe_killed_leaves_nothing_and_old_leftovers_are_removed() {
    if let Some(reason) = netns_unavailable() {
        return skip(&reason);
    }
    let ns = node("dp-kill", false);
    let (code, _) = interrupt(&ns, libc::SIGKILL);
    assert_eq!(code, None);
    // The namespaces die with the process, and their veths with them.
    assert_probe_links_go(&ns);
    // A host end whose process is gone (as a kill racing the teardown could leave) is removed by
    // the next run.
    ns.ip(&[
        "link",
        "add",
        "ncp4194303ha",
        "type",
        "veth",
        "peer",
        "name",
        "ncp4194303a",
    ]);
    ns.exec("sysctl", &["-qw", "net.ipv4.ip_forward=1"]);
    let r = probe(&ns, &profile("dp-kill"));
    assert_eq!(r["status"], "ok", "{r:#}");
    assert_eq!(
        r["evidence"]["leftovers_removed"],
        serde_json::json!(["ncp4194303ha"])
    );
}

#[test]
fn serve_refuses_the_dataplane_probe() {
    let out = crate::util::nodecheck(&["serve", "--listen", "127.0.0.1:0", "--probe-dataplane"]);
    crate::util::assert_exit(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--probe-dataplane changes host state"));
}

#[test]
fn dataplane_probe_without_root_skips() {
    if let Some(reason) = netns_unavailable() {
        return skip(&reason);
    }
    let ns = node("dp-nonroot", true);
    // A copy `nobody` can run wherever the checkout lives (it may be under a 0700 home).
    use std::os::unix::fs::PermissionsExt;
    let dir = tempdir("dp-nonroot");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let copy = dir.join("nodecheck");
    std::fs::copy(bin(), &copy).unwrap();
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = ns.exec(
        "setpriv",
        &[
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            copy.to_str().unwrap(),
            "check",
            "--probe-dataplane",
            "--format",
            "json",
        ],
    );
    let r = result_by_id(&json_stdout(&out), "Dataplane-Probe").clone();
    assert_eq!(r["status"], "skip", "{r:#}");
    assert_eq!(r["message"], "skip (needs root)");
    assert!(probe_links(&ns).is_empty());
}

#[test]
fn dataplane_probe_names_the_size_when_only_large_packets_are_dropped() {
    if let Some(reason) = netns_unavailable() {
        return skip(&reason);
    }
    let ns = node("dp-size", true);
    nft(
        &ns,
        &[
            "add table ip dpsize",
            "add chain ip dpsize sizecheck { type filter hook forward priority 0; policy accept; }",
            "add rule ip dpsize sizecheck ip length > 1400 drop",
        ],
    );
    let r = probe(&ns, &profile("dp-size"));
    assert_eq!(r["status"], "fail", "{r:#}");
    let message = r["message"].as_str().unwrap();
    assert!(
        message.contains("large packet at MTU (1422 bytes)")
            && message.contains("drops 1450-byte packets with DF set while smaller ones pass")
            && !message.contains("UDP (32 bytes)"),
        "{message}"
    );
}

#[test]
fn a_saved_snapshot_cannot_be_probed() {
    let out = crate::util::check_incident(&["--probe-dataplane"]);
    crate::util::assert_exit(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot judge a saved snapshot"));
}
