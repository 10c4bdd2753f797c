//! `nodecheck fix`: plans from a snapshot against scratch `--root` trees (every change kind), apply and
//! rollback round trips compared byte for byte, idempotence, refusals (symlinks, changed files, no
//! root), a failure half-way (a read-only target) rolled back, and live sysctls in a private network
//! namespace.

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::util::{assert_exit, bin, fixture, json_stdout, nix_is_root, skip};

const FSTAB: &str = "# /etc/fstab: static file system information.\n\
UUID=7f3c1e2a-0b4d-4e5f-9a8b-1c2d3e4f5a6b / ext4 errors=remount-ro 0 1\n\
/swap.img\tnone\tswap\tsw\t0\t0\n\
UUID=11112222-3333-4444-5555-666677778888 /data xfs defaults 0 2\n";

/// A scratch host tree: fstab with a swap file, a real-world daemon.json, a swap unit from a
/// generator, an initramfs tool, and an unrelated sysctl drop-in.
fn scratch_root() -> tempfile::TempDir {
    let root = tempfile::tempdir().expect("tempdir");
    let r = root.path();
    let write = |rel: &str, content: &str, mode: u32| {
        let p = r.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, content).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    write("etc/fstab", FSTAB, 0o644);
    write(
        "etc/docker/daemon.json",
        &std::fs::read_to_string(fixture("fix/daemon.json")).unwrap(),
        0o600,
    );
    write(
        "run/systemd/generator.late/dev-sdb2.swap",
        "[Swap]\nWhat=/dev/sdb2\n",
        0o644,
    );
    write("usr/sbin/update-initramfs", "#!/bin/sh\nexit 0\n", 0o755);
    write("etc/sysctl.d/10-local.conf", "vm.swappiness = 10\n", 0o644);
    root
}

/// `nodecheck fix` for the fixture node under `root`, with extra arguments.
fn fix(root: &Path, extra: &[&str]) -> Output {
    // worker-79 is worker-77 with NetworkManager running and managing Calico's devices.
    let peer = fixture("fix/peer-worker-90.json");
    let peers = ["--peers", peer.to_str().unwrap()];
    fix_node("fix/worker-79.json", root, &[&peers[..], extra].concat())
}

/// `nodecheck fix --facts FACTS --profile fix/profile.yaml --root ROOT`, then `extra`.
fn fix_node(facts: &str, root: &Path, extra: &[&str]) -> Output {
    fix_with_facts(&fixture(facts), root, extra)
}

/// Every file, directory and symlink under `root` with type, mode, owner and content, except the
/// run records under /var (which stay, by design, after a rollback).
fn tree(root: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap().to_path_buf();
            // The scratch trees have no /var: it holds only the run records.
            if rel.starts_with("var") {
                continue;
            }
            let m = std::fs::symlink_metadata(&p).unwrap();
            let what = if m.file_type().is_symlink() {
                format!("link {}", std::fs::read_link(&p).unwrap().display())
            } else if m.is_dir() {
                stack.push(p.clone());
                "dir".to_string()
            } else {
                format!("file {:?}", std::fs::read(&p).unwrap())
            };
            out.insert(
                rel,
                format!(
                    "{what} mode {:o} owner {}:{}",
                    m.mode() & 0o7777,
                    m.uid(),
                    m.gid()
                ),
            );
        }
    }
    out
}

/// Asserts two trees are equal, naming only the entries that differ.
fn assert_same_tree(got: &BTreeMap<PathBuf, String>, want: &BTreeMap<PathBuf, String>, what: &str) {
    let mut diffs = Vec::new();
    for (k, v) in want {
        match got.get(k) {
            None => diffs.push(format!("missing {}", k.display())),
            Some(g) if g != v => diffs.push(format!("changed {}", k.display())),
            _ => {}
        }
    }
    for k in got.keys().filter(|k| !want.contains_key(*k)) {
        diffs.push(format!("extra {}", k.display()));
    }
    assert!(diffs.is_empty(), "{what}: {}", diffs.join(", "));
}

fn needs_root() -> bool {
    if nix_is_root() {
        return true;
    }
    skip("needs root (`fix --apply` refuses to run without it)");
    false
}

/// The run directories under the root's record directory (not its lock file), oldest first.
fn run_dirs(root: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(root.join("var/lib/nodecheck/fix"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
        .collect();
    out.sort();
    out
}

fn changes(plan: &serde_json::Value) -> &Vec<serde_json::Value> {
    plan["changes"].as_array().expect("changes")
}

fn file_after(plan: &serde_json::Value, path: &str) -> String {
    changes(plan)
        .iter()
        .find(|c| c["target"]["path"] == path)
        .unwrap_or_else(|| panic!("no change to {path}: {plan:#}"))["target"]["after"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn fix_plan_covers_every_change_kind_with_the_checks_it_fixes() {
    let root = scratch_root();
    let before = tree(root.path());
    let out = fix(root.path(), &["--format", "json", "--diff"]);
    assert_exit(&out, 3);
    let plan = json_stdout(&out);
    let kinds: Vec<&str> = changes(&plan)
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "nic-name",
        "module",
        "sysctl",
        "swap",
        "docker-bridges",
        "network-manager",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    for c in changes(&plan) {
        assert!(!c["fixes"].as_array().unwrap().is_empty(), "{c:#}");
        // --root: files only, nothing live.
        assert!(
            matches!(c["target"]["type"].as_str(), Some("file" | "mask_unit")),
            "{c:#}"
        );
        if c["target"]["type"] == "file" {
            assert!(c["diff"].as_str().unwrap().contains("+++ b/"), "{c:#}");
        }
    }
    let swap_ids: Vec<&str> = changes(&plan)
        .iter()
        .filter(|c| c["kind"] == "swap")
        .map(|c| c["target"]["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        swap_ids,
        vec!["/etc/fstab", "/etc/systemd/system/dev-sdb2.swap"]
    );
    let fstab = file_after(&plan, "/etc/fstab");
    assert!(fstab.contains("# disabled by nodecheck fix (Swap): /swap.img\tnone\tswap"));
    assert!(fstab.contains("UUID=11112222-3333-4444-5555-666677778888 /data xfs defaults 0 2\n"));
    let nm = file_after(&plan, "/etc/NetworkManager/conf.d/calico.conf");
    assert!(
        nm.contains("[keyfile]\nunmanaged-devices=interface-name:cali*;interface-name:tunl*;"),
        "{nm}"
    );
    let link = file_after(&plan, "/etc/systemd/network/10-node0.link");
    assert!(
        link.contains("PermanentMACAddress=00:50:56:8a:41:41\n"),
        "{link}"
    );
    let nic = changes(&plan)
        .iter()
        .find(|c| c["kind"] == "nic-name")
        .unwrap();
    let effects: Vec<&str> = nic["side_effects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(effects, vec!["rebuild_initramfs", "reboot"]);
    assert_eq!(
        nic["side_effects"][0]["command"],
        serde_json::json!(["update-initramfs", "-u"])
    );
    // The Calico method is a manual, cluster-wide step; kubectl is never run.
    assert!(plan["manual"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["fixes"][0] == "Calico-AutodetectionIPv4"));
    assert_same_tree(&tree(root.path()), &before, "--check changed the tree");
}

#[test]
fn fix_daemon_json_merge_keeps_every_other_key_and_clears_all_networks() {
    let root = scratch_root();
    let plan = json_stdout(&fix(root.path(), &["--format", "json"]));
    let after: serde_json::Value =
        serde_json::from_str(&file_after(&plan, "/etc/docker/daemon.json")).unwrap();
    let original: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("fix/daemon.json")).unwrap())
            .unwrap();
    for (k, v) in original.as_object().unwrap() {
        if k != "default-address-pools" {
            assert_eq!(&after[k], v, "key {k} changed");
        }
    }
    let pools = after["default-address-pools"].as_array().unwrap();
    // The IPv6 pool is kept as it was.
    assert!(pools.contains(&serde_json::json!({"base": "2001:db8:2::/56", "size": 64})));
    let mut chosen: Vec<ipnet::IpNet> = pools
        .iter()
        .map(|p| p["base"].as_str().unwrap().parse().unwrap())
        .filter(|n: &ipnet::IpNet| matches!(n, ipnet::IpNet::V4(_)))
        .collect();
    let bip: ipnet::IpNet = after["bip"].as_str().unwrap().parse().unwrap();
    chosen.push(bip.trunc());
    let given: Vec<ipnet::IpNet> = [
        "10.20.41.0/24", // node network
        "172.16.0.0/14", // pod CIDR
        "10.96.0.0/12",  // service CIDR
        "172.20.5.0/24", // worker-90's node network (a peer)
        "172.18.0.0/16", // the compose network, which keeps its subnet
    ]
    .iter()
    .map(|s| s.parse().unwrap())
    .collect();
    for c in &chosen {
        for g in &given {
            assert!(
                !c.contains(&g.network()) && !g.contains(&c.network()),
                "{c} overlaps {g}"
            );
        }
    }
    let docker = changes(&plan)
        .iter()
        .find(|c| c["kind"] == "docker-bridges")
        .unwrap();
    assert_eq!(docker["side_effects"][0]["unit"], "docker");
    assert!(plan["manual"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["commands"][0]
            == "docker compose -p middleware down && docker compose -p middleware up -d"));
}

#[test]
fn fix_check_exits_0_when_nothing_needs_changing() {
    let root = tempfile::tempdir().unwrap();
    let out = Command::new(bin())
        .args([
            "fix",
            "--facts",
            fixture("incident/worker-12.json").to_str().unwrap(),
            "--root",
            root.path().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing to change"));
}

/// Parses the `[Section] Key=Value` lines of a systemd .link file.
fn parse_link(text: &str) -> Vec<(String, String, String)> {
    let mut section = String::new();
    let mut out = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if let Some(s) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = s.to_string();
        } else if let Some((k, v)) = line.split_once('=') {
            out.push((section.clone(), k.to_string(), v.to_string()));
        }
    }
    out
}

/// The .link file as systemd finds it under the root (`systemd-analyze cat-config`), when the host
/// has systemd-analyze; else the file itself.
fn link_as_systemd_reads_it(root: &Path) -> String {
    let out = Command::new("systemd-analyze")
        .arg(format!("--root={}", root.display()))
        .args(["cat-config", "systemd/network/10-node0.link"])
        .output();
    match out {
        Ok(o) if o.status.success() => String::from_utf8(o.stdout).unwrap(),
        _ => {
            eprintln!("systemd-analyze unavailable: parsing the .link file directly");
            std::fs::read_to_string(root.join("etc/systemd/network/10-node0.link")).unwrap()
        }
    }
}

#[test]
fn fix_apply_then_rollback_leaves_the_tree_byte_identical() {
    if !needs_root() {
        return;
    }
    let root = scratch_root();
    let r = root.path();
    let before = tree(r);
    let out = fix(r, &["--apply"]);
    assert_exit(&out, 0);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("finds nothing left to write"), "{text}");
    assert!(text.contains("not run: --root"), "{text}");
    // The .link file, read back.
    let keys = parse_link(&link_as_systemd_reads_it(r));
    assert!(
        keys.contains(&(
            "Match".into(),
            "PermanentMACAddress".into(),
            "00:50:56:8a:41:41".into()
        )),
        "{keys:?}"
    );
    assert!(
        keys.contains(&("Link".into(), "Name".into(), "node0".into())),
        "{keys:?}"
    );
    // Mode and owner kept on the edited daemon.json; the swap unit masked.
    let meta = std::fs::metadata(r.join("etc/docker/daemon.json")).unwrap();
    assert_eq!(meta.mode() & 0o7777, 0o600);
    assert_eq!(
        std::fs::read_link(r.join("etc/systemd/system/dev-sdb2.swap")).unwrap(),
        Path::new("/dev/null")
    );
    let applied = tree(r);

    // Idempotent: the second run has nothing to do and changes nothing.
    let again = fix(r, &["--apply"]);
    assert_exit(&again, 0);
    assert!(String::from_utf8_lossy(&again.stdout).contains("nothing to do"));
    assert_same_tree(&tree(r), &applied, "a second --apply changed the tree");
    assert_exit(&fix(r, &["--check"]), 0);

    let history = json_stdout(&fix(r, &["--history", "--format", "json"]));
    assert_eq!(history.as_array().unwrap().len(), 1, "{history:#}");
    assert_eq!(history[0]["status"], "applied");

    let back = fix(r, &["--rollback"]);
    assert_exit(&back, 0);
    assert_same_tree(&tree(r), &before, "rollback did not restore the tree");
    let history = json_stdout(&fix(r, &["--history", "--format", "json"]));
    assert_eq!(history[0]["status"], "rolled-back");
    // Nothing left to roll back.
    assert_exit(&fix(r, &["--rollback"]), 2);
}

#[test]
fn fix_rollback_refuses_a_file_changed_since_unless_forced() {
    if !needs_root() {
        return;
    }
    let root = scratch_root();
    let r = root.path();
    let before = tree(r);
    assert_exit(&fix(r, &["--apply", "--only", "Module-*,Sysctl-*"]), 0);
    let edited = r.join("etc/modules-load.d/k8s.conf");
    std::fs::write(&edited, "br_netfilter\nip_vs\n").unwrap();
    let changed = tree(r);
    let refused = fix(r, &["--rollback"]);
    assert_exit(&refused, 1);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("/etc/modules-load.d/k8s.conf changed since run"),
        "{stderr}"
    );
    assert_same_tree(&tree(r), &changed, "a refused rollback changed something");
    assert_exit(&fix(r, &["--rollback", "--force"]), 0);
    assert_same_tree(&tree(r), &before, "forced rollback");
}

#[test]
fn fix_apply_refuses_a_symlink_out_of_the_target_directory() {
    if !needs_root() {
        return;
    }
    let root = scratch_root();
    let r = root.path();
    std::fs::write(r.join("etc/elsewhere.conf"), "kernel.panic = 10\n").unwrap();
    std::os::unix::fs::symlink(
        "../elsewhere.conf",
        r.join("etc/sysctl.d/99-kubernetes.conf"),
    )
    .unwrap();
    let before = tree(r);
    let out = fix(r, &["--apply"]);
    assert_exit(&out, 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("refusing to follow it"), "{stderr}");
    assert!(stderr.contains("nothing was changed"), "{stderr}");
    assert_same_tree(&tree(r), &before, "a refused --apply");
    assert!(run_dirs(r).is_empty());
}

#[test]
fn fix_apply_without_root_exits_2_before_touching_anything() {
    let root = scratch_root();
    let before = tree(root.path());
    let mut cmd = Command::new(bin());
    cmd.args(["fix", "--apply", "--root", root.path().to_str().unwrap()]);
    if nix_is_root() {
        // Run as nobody.
        std::os::unix::process::CommandExt::uid(&mut cmd, 65534);
        std::os::unix::process::CommandExt::gid(&mut cmd, 65534);
    }
    let out = cmd.output().unwrap();
    assert_exit(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs root"));
    assert_same_tree(&tree(root.path()), &before, "an unprivileged --apply");
}

/// Runs `f` on a fresh thread that has its own network and mount namespaces (`/` made private), so
/// the host's sysctls and mounts are never touched. Returns `None` when that is not possible here.
fn in_private_namespaces<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    std::thread::spawn(move || {
        use nix::mount::{mount, MsFlags};
        use nix::sched::{unshare, CloneFlags};
        if let Err(e) = unshare(CloneFlags::CLONE_NEWNET | CloneFlags::CLONE_NEWNS) {
            eprintln!("unshare: {e}");
            return None;
        }
        mount(
            None::<&str>,
            "/",
            None::<&str>,
            MsFlags::MS_REC | MsFlags::MS_PRIVATE,
            None::<&str>,
        )
        .ok()?;
        Some(f())
    })
    .join()
    .expect("namespace thread panicked")
}

fn bind(source: &Path, target: &Path, read_only: bool) {
    use nix::mount::{mount, MsFlags};
    mount(
        Some(source),
        target,
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    )
    .expect("bind mount");
    if read_only {
        mount(
            None::<&str>,
            target,
            None::<&str>,
            MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY,
            None::<&str>,
        )
        .expect("read-only remount");
    }
}

#[test]
fn fix_apply_failure_half_way_rolls_back_the_run() {
    if !needs_root() {
        return;
    }
    let root = scratch_root();
    let r = root.path().to_path_buf();
    let before = tree(&r);
    let result = in_private_namespaces(move || {
        // daemon.json is the last file written: everything before it must be undone.
        let docker = r.join("etc/docker");
        bind(&docker, &docker, true);
        let out = fix(&r, &["--apply"]);
        let after = tree(&r);
        (out, after, r)
    });
    let Some((out, after, r)) = result else {
        return skip("cannot make private mount and network namespaces here");
    };
    assert_exit(&out, 1);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("FAILED at step"), "{text}");
    assert!(text.contains("/etc/docker/daemon.json"), "{text}");
    assert!(
        text.contains("rolled back: every change this run had made was undone"),
        "{text}"
    );
    assert_same_tree(&after, &before, "the failed run left changes behind");
    let history = json_stdout(&fix(&r, &["--history", "--format", "json"]));
    assert_eq!(history[0]["status"], "failed-rolled-back");
}

#[test]
fn fix_live_sysctl_in_a_network_namespace_applies_and_rolls_back() {
    if !needs_root() {
        return;
    }
    if !Path::new("/etc/sysctl.d").is_dir() || !Path::new("/var/lib").is_dir() {
        return skip("no /etc/sysctl.d or /var/lib to shadow");
    }
    let result = in_private_namespaces(|| {
        // Files go to throw-away directories mounted over the host's, in this mount namespace only.
        let sysctl_d = tempfile::tempdir().unwrap();
        let var_lib = tempfile::tempdir().unwrap();
        bind(sysctl_d.path(), Path::new("/etc/sysctl.d"), false);
        bind(var_lib.path(), Path::new("/var/lib"), false);
        let read = || std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap();
        // A new namespace may inherit the host's value (net.core.devconf_inherit_init_net): start at 0.
        std::fs::write("/proc/sys/net/ipv4/ip_forward", "0\n").unwrap();
        let fresh = read();
        let profile = fixture("fix/profile.yaml");
        let run = |extra: &[&str]| {
            let mut args = vec!["fix", "--profile", profile.to_str().unwrap()];
            args.extend_from_slice(extra);
            Command::new(bin()).args(&args).output().unwrap()
        };
        let applied = run(&[
            "--apply",
            "--only",
            "Sysctl-net.ipv4.ip_forward",
            "--format",
            "json",
        ]);
        let during = read();
        let drop_in = std::fs::read_to_string(sysctl_d.path().join("99-kubernetes.conf")).ok();
        let rolled = run(&["--rollback"]);
        let after = read();
        let left: Vec<_> = std::fs::read_dir(sysctl_d.path()).unwrap().collect();
        (fresh, applied, during, drop_in, rolled, after, left.len())
    });
    let Some((fresh, applied, during, drop_in, rolled, after, left)) = result else {
        return skip("cannot make private mount and network namespaces here");
    };
    assert_eq!(fresh.trim(), "0");
    assert_exit(&applied, 0);
    let v = json_stdout(&applied);
    assert_eq!(during.trim(), "1");
    assert!(drop_in.unwrap().contains("net.ipv4.ip_forward = 1\n"));
    let proof = &v["proof"]["checks"];
    assert_eq!(proof[0]["id"], "Sysctl-net.ipv4.ip_forward", "{v:#}");
    assert_eq!(proof[0]["before"], "fail");
    assert_eq!(proof[0]["after"], "ok");
    assert_exit(&rolled, 0);
    assert_eq!(after.trim(), "0");
    assert_eq!(left, 0, "the drop-in was not removed");
}

#[test]
fn fix_rollback_undoes_an_interrupted_run_including_an_unrecorded_write() {
    if !needs_root() {
        return;
    }
    let root = scratch_root();
    let r = root.path();
    let before = tree(r);
    assert_exit(&fix(r, &["--apply"]), 0);
    // Make the record look like a crash right after the last file was renamed into place, before the
    // manifest said so.
    let run = run_dirs(r).pop().unwrap();
    let manifest_path = run.join("manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest_path).unwrap()).unwrap();
    manifest["status"] = "applying".into();
    let last = manifest["steps"].as_array().unwrap().len() - 1;
    manifest["steps"][last]["done"] = false.into();
    manifest["side_effects_run"] = serde_json::json!([]);
    std::fs::write(&manifest_path, serde_json::to_string(&manifest).unwrap()).unwrap();
    let history = json_stdout(&fix(r, &["--history", "--format", "json"]));
    assert_eq!(history[0]["status"], "applying");
    assert_exit(&fix(r, &["--rollback"]), 0);
    assert_same_tree(&tree(r), &before, "rollback of an interrupted run");
}

#[test]
fn fix_pins_kubelet_node_ip_in_the_file_kubeadms_drop_in_reads() {
    if !needs_root() {
        return;
    }
    // worker-78's default route leaves through ens224 (10.99.0.78), outside the node network.
    let root = scratch_root();
    let r = root.path();
    let before = tree(r);
    let run = |extra: &[&str]| {
        fix_node(
            "fix/worker-78.json",
            r,
            &[&["--only", "Kubelet-NodeIP"], extra].concat(),
        )
    };
    let plan = json_stdout(&run(&["--format", "json"]));
    let change = &changes(&plan)[0];
    assert_eq!(change["kind"], "node-ip", "{plan:#}");
    assert_eq!(change["fixes"][0], "Kubelet-NodeIP");
    assert_eq!(change["side_effects"][0]["unit"], "kubelet");
    assert_exit(&run(&["--apply"]), 0);
    // Ubuntu: /etc/default/kubelet, which kubeadm's drop-in reads (never kubeadm-flags.env).
    assert_eq!(
        std::fs::read_to_string(r.join("etc/default/kubelet")).unwrap(),
        "KUBELET_EXTRA_ARGS=\"--node-ip=10.20.41.41\"\n"
    );
    assert!(!r.join("var/lib/kubelet/kubeadm-flags.env").exists());
    let again = run(&["--apply"]);
    assert_exit(&again, 0);
    assert!(String::from_utf8_lossy(&again.stdout).contains("nothing to do"));
    assert_exit(&run(&["--rollback"]), 0);
    assert_same_tree(&tree(r), &before, "node-ip rollback");
}

/// Applies the fixture plan under a fresh scratch root; returns the root, its tree before, and the
/// run's manifest (path and JSON).
fn applied_run() -> (
    tempfile::TempDir,
    BTreeMap<PathBuf, String>,
    PathBuf,
    serde_json::Value,
) {
    let root = scratch_root();
    let before = tree(root.path());
    assert_exit(&fix(root.path(), &["--apply"]), 0);
    let run = run_dirs(root.path()).pop().expect("a run directory");
    let manifest_path = run.join("manifest.json");
    let manifest = serde_json::from_str(&std::fs::read_to_string(&manifest_path).unwrap()).unwrap();
    (root, before, manifest_path, manifest)
}

/// The run ID of a manifest: its directory's name.
fn run_id_of(manifest_path: &Path) -> String {
    let dir = manifest_path.parent().expect("a run directory");
    dir.file_name().unwrap().to_string_lossy().into_owned()
}

/// The index of the step that wrote `host_path`.
fn step_of(manifest: &serde_json::Value, host_path: &str) -> usize {
    manifest["steps"]
        .as_array()
        .unwrap()
        .iter()
        .position(|s| s["record"]["path"] == host_path)
        .unwrap_or_else(|| panic!("no step for {host_path}: {manifest:#}"))
}

/// `host_path` written as a root-relative climb to `outside` (`/etc/../../<outside>`).
fn climbing_path(root: &Path, outside: &Path) -> String {
    let depth = root.components().count() - 1;
    format!(
        "/etc/sysctl.d/{}{}",
        "../".repeat(depth + 2),
        outside.strip_prefix("/").unwrap().display()
    )
}

#[test]
fn fix_rollback_refuses_a_tampered_manifest_that_points_out_of_the_root() {
    if !needs_root() {
        return;
    }
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim");
    let secret = outside.path().join("secret");
    let empty_dir = outside.path().join("empty");
    type Tamper = Box<dyn Fn(&mut serde_json::Value, &Path, &Path)>;
    let cases: Vec<(&str, Tamper)> = vec![
        (
            "a path climbing out, restored set-uid",
            Box::new(|m, r, o| {
                let n = step_of(m, "/etc/docker/daemon.json");
                m["steps"][n]["record"]["path"] = climbing_path(r, &o.join("victim")).into();
                m["steps"][n]["record"]["previous"]["mode"] = 0o4755.into();
            }),
        ),
        (
            "a path climbing out, deleted",
            Box::new(|m, r, o| {
                let n = step_of(m, "/etc/sysctl.d/99-kubernetes.conf");
                m["steps"][n]["record"]["path"] = climbing_path(r, &o.join("victim")).into();
            }),
        ),
        (
            "saved content read from outside the run",
            Box::new(|m, r, o| {
                let n = step_of(m, "/etc/docker/daemon.json");
                let depth = r.components().count() + 4;
                m["steps"][n]["record"]["previous"]["content"] = format!(
                    "{}{}",
                    "../".repeat(depth),
                    o.join("secret").strip_prefix("/").unwrap().display()
                )
                .into();
            }),
        ),
        (
            "an outside directory to remove",
            Box::new(|m, r, o| {
                m["created_dirs"]
                    .as_array_mut()
                    .unwrap()
                    .push(climbing_path(r, &o.join("empty")).into());
            }),
        ),
        (
            "a path no planner writes",
            Box::new(|m, _, _| {
                let n = step_of(m, "/etc/docker/daemon.json");
                m["steps"][n]["record"]["path"] = "/etc/passwd".into();
            }),
        ),
    ];
    for (what, tamper) in cases {
        std::fs::write(&victim, "victim bytes\n").unwrap();
        std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::write(&secret, "outside secret\n").unwrap();
        let _ = std::fs::create_dir(&empty_dir);
        let (root, _, manifest_path, mut manifest) = applied_run();
        let r = root.path();
        tamper(&mut manifest, r, outside.path());
        std::fs::write(&manifest_path, manifest.to_string()).unwrap();
        let applied = tree(r);
        let out = fix(r, &["--rollback"]);
        assert_exit(&out, 2);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("nothing was restored"), "{what}: {stderr}");
        assert_eq!(
            std::fs::read_to_string(&victim).unwrap(),
            "victim bytes\n",
            "{what}"
        );
        assert_eq!(
            std::fs::metadata(&victim).unwrap().mode() & 0o7777,
            0o644,
            "{what}"
        );
        assert!(
            empty_dir.is_dir(),
            "{what}: the outside directory was removed"
        );
        assert_same_tree(&tree(r), &applied, what);
    }
}

#[test]
fn fix_rollback_restores_no_set_id_bit_and_names_the_run_by_its_directory() {
    if !needs_root() {
        return;
    }
    let (root, before, manifest_path, mut manifest) = applied_run();
    let r = root.path();
    let n = step_of(&manifest, "/etc/docker/daemon.json");
    manifest["steps"][n]["record"]["previous"]["mode"] = 0o6600.into();
    manifest["run_id"] = "someone-elses-run".into();
    std::fs::write(&manifest_path, manifest.to_string()).unwrap();
    let out = fix(r, &["--rollback"]);
    assert_exit(&out, 0);
    let run_id = run_id_of(&manifest_path);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("run {run_id} ")),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let meta = std::fs::metadata(r.join("etc/docker/daemon.json")).unwrap();
    assert_eq!(meta.mode() & 0o7777, 0o600, "set-id bits restored");
    assert_same_tree(&tree(r), &before, "rollback with a foreign run_id");
}

#[test]
fn fix_rollback_refuses_records_that_are_not_plain_files_and_directories() {
    if !needs_root() {
        return;
    }
    // manifest.json a FIFO: refused at once, never read (a blocking read would hang here).
    let (root, _, manifest_path, _) = applied_run();
    std::fs::remove_file(&manifest_path).unwrap();
    nix::unistd::mkfifo(
        &manifest_path,
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .unwrap();
    let run_id = run_id_of(&manifest_path);
    let mut child = Command::new(bin())
        .args(["fix", "--root"])
        .arg(root.path())
        .args(["--rollback", &run_id])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > std::time::Duration::from_secs(20) {
            let _ = child.kill();
            panic!("--rollback blocked on a FIFO manifest");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert_exit(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a regular file"));

    // files/ a symlink to a directory of attacker-chosen bytes: refused.
    let (root, _, manifest_path, _) = applied_run();
    let run = manifest_path.parent().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(run.join("files")).unwrap().flatten() {
        std::fs::write(elsewhere.path().join(e.file_name()), "attacker bytes\n").unwrap();
    }
    std::fs::rename(run.join("files"), run.join("files.old")).unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), run.join("files")).unwrap();
    let applied = tree(root.path());
    let run_id = run.file_name().unwrap().to_str().unwrap();
    let out = fix(root.path(), &["--rollback", run_id]);
    assert_exit(&out, 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("symlink"), "{stderr}");
    assert_same_tree(&tree(root.path()), &applied, "a symlinked files/");
}

#[test]
fn fix_run_records_never_follow_a_symlinked_record_directory() {
    if !needs_root() {
        return;
    }
    let root = scratch_root();
    let r = root.path();
    let outside = tempfile::tempdir().unwrap();
    std::fs::set_permissions(outside.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
    std::fs::create_dir_all(r.join("var/lib/nodecheck")).unwrap();
    std::os::unix::fs::symlink(outside.path(), r.join("var/lib/nodecheck/fix")).unwrap();
    let before = tree(r);
    let out = fix(r, &["--apply"]);
    assert_exit(&out, 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("symlink"), "{stderr}");
    assert!(stderr.contains("nothing was changed"), "{stderr}");
    assert_eq!(
        std::fs::metadata(outside.path()).unwrap().mode() & 0o7777,
        0o1777
    );
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    assert_same_tree(&tree(r), &before, "a refused run record");
}

#[test]
fn fix_rollback_refuses_a_parent_swapped_for_a_symlink_after_the_run() {
    if !needs_root() {
        return;
    }
    for force in [false, true] {
        let (root, _, _, _) = applied_run();
        let r = root.path();
        let outside = tempfile::tempdir().unwrap();
        // The outside directory holds exactly what the run wrote, so the rollback would act on it.
        for e in std::fs::read_dir(r.join("etc/sysctl.d")).unwrap().flatten() {
            std::fs::copy(e.path(), outside.path().join(e.file_name())).unwrap();
        }
        std::fs::rename(r.join("etc/sysctl.d"), r.join("etc/sysctl.d.moved")).unwrap();
        std::os::unix::fs::symlink(outside.path(), r.join("etc/sysctl.d")).unwrap();
        let outside_before: Vec<_> = std::fs::read_dir(outside.path())
            .unwrap()
            .flatten()
            .map(|e| (e.file_name(), std::fs::read(e.path()).unwrap()))
            .collect();
        let out = fix(
            r,
            &if force {
                vec!["--rollback", "--force"]
            } else {
                vec!["--rollback"]
            },
        );
        assert_exit(&out, 1);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("/etc/sysctl.d is a symlink"), "{stderr}");
        let outside_after: Vec<_> = std::fs::read_dir(outside.path())
            .unwrap()
            .flatten()
            .map(|e| (e.file_name(), std::fs::read(e.path()).unwrap()))
            .collect();
        assert_eq!(outside_after, outside_before, "force {force}");
    }
}

#[test]
fn fix_plan_reads_only_inside_the_root() {
    let root = scratch_root();
    let r = root.path();
    let outside = tempfile::tempdir().unwrap();
    let host_file = outside.path().join("daemon.json");
    std::fs::write(&host_file, "{\"outside-secret\": \"from the host\"}\n").unwrap();
    std::fs::remove_file(r.join("etc/docker/daemon.json")).unwrap();
    std::os::unix::fs::symlink(&host_file, r.join("etc/docker/daemon.json")).unwrap();
    let out = fix(r, &["--diff"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("outside-secret"), "{text}");
    let out = fix(r, &["--diff", "--format", "json"]);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("outside-secret"));
}

#[test]
fn fix_concurrent_applies_on_one_root_never_lose_a_file() {
    if !needs_root() {
        return;
    }
    for pair in 0..10 {
        let root = scratch_root();
        let r = root.path();
        let before = tree(r);
        let spawn = || {
            Command::new(bin())
                .arg("fix")
                .arg("--facts")
                .arg(fixture("fix/worker-79.json"))
                .arg("--profile")
                .arg(fixture("fix/profile.yaml"))
                .arg("--peers")
                .arg(fixture("fix/peer-worker-90.json"))
                .arg("--root")
                .arg(r)
                .args(["--apply", "--format", "json"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = (spawn(), spawn());
        let outs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
        let mut applied = Vec::new();
        for out in &outs {
            let stderr = String::from_utf8_lossy(&out.stderr);
            match out.status.code() {
                Some(0) => {
                    let v = json_stdout(out);
                    if v["changed"] == true {
                        applied.push(v["run_id"].as_str().unwrap().to_string());
                    }
                }
                Some(1) => assert!(
                    stderr.contains("nothing was changed"),
                    "pair {pair}: {stderr}"
                ),
                other => panic!("pair {pair}: exit {other:?}: {stderr}"),
            }
        }
        assert_eq!(applied.len(), 1, "pair {pair}: exactly one run applies");
        let history = json_stdout(&fix(r, &["--history", "--format", "json"]));
        assert_eq!(history[0]["status"], "applied", "pair {pair}: {history:#}");
        assert_exit(&fix(r, &["--check"]), 0);
        assert_exit(&fix(r, &["--rollback", &applied[0]]), 0);
        assert_same_tree(&tree(r), &before, &format!("pair {pair}"));
    }
}

#[test]
fn fix_history_and_rollback_escape_recorded_strings() {
    if !needs_root() {
        return;
    }
    let (root, _, manifest_path, mut manifest) = applied_run();
    let r = root.path();
    manifest["started_at"] = "2026\u{1b}]0;PWN\u{7}".into();
    manifest["fixes"] = serde_json::json!(["Swap\u{1b}[2J"]);
    manifest["steps"][0]["fixes"] = serde_json::json!(["Swap\u{1b}[2J"]);
    std::fs::write(&manifest_path, manifest.to_string()).unwrap();
    let history = fix(r, &["--history"]);
    assert_exit(&history, 0);
    assert!(
        !history.stdout.contains(&0x1b),
        "{:?}",
        String::from_utf8_lossy(&history.stdout)
    );
    let json = json_stdout(&fix(r, &["--history", "--format", "json"]));
    assert_eq!(json[0]["started_at"], "2026\u{1b}]0;PWN\u{7}");
    let back = fix(r, &["--rollback"]);
    assert_exit(&back, 0);
    assert!(
        !back.stdout.contains(&0x1b),
        "{:?}",
        String::from_utf8_lossy(&back.stdout)
    );
}

#[test]
fn fix_node_ip_pin_edits_the_file_and_keeps_every_other_flag() {
    if !needs_root() {
        return;
    }
    let root = scratch_root();
    let r = root.path();
    std::fs::create_dir_all(r.join("etc/default")).unwrap();
    let kubelet = "# Set by the node image; kubeadm's drop-in reads this file.\n\
KUBELET_EXTRA_ARGS=--v=4\n\
KUBELET_EXTRA_ARGS=\"--max-pods=200 --cgroup-driver=systemd \\\n    --node-labels='tier=db zone' --node-ip=10.99.0.78\"\n\
# keep this comment\n\
HTTP_PROXY=http://proxy:3128\n";
    std::fs::write(r.join("etc/default/kubelet"), kubelet).unwrap();
    let before = tree(r);
    let run = |extra: &[&str]| {
        fix_node(
            "fix/worker-78.json",
            r,
            &[&["--only", "Kubelet-NodeIP"], extra].concat(),
        )
    };
    assert_exit(&run(&["--apply"]), 0);
    assert_eq!(
        std::fs::read_to_string(r.join("etc/default/kubelet")).unwrap(),
        "# Set by the node image; kubeadm's drop-in reads this file.\n\
KUBELET_EXTRA_ARGS=--v=4\n\
KUBELET_EXTRA_ARGS=\"--max-pods=200 --cgroup-driver=systemd '--node-labels=tier=db zone' --node-ip=10.20.41.41\"\n\
# keep this comment\n\
HTTP_PROXY=http://proxy:3128\n"
    );
    let again = run(&["--apply"]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("nothing to do"));
    assert_exit(&run(&["--rollback"]), 0);
    assert_same_tree(&tree(r), &before, "node-ip rollback");
}

/// `nodecheck fix` with facts from `facts` (a file written by the test) against the fix profile.
fn fix_with_facts(facts: &Path, root: &Path, extra: &[&str]) -> Output {
    Command::new(bin())
        .arg("fix")
        .arg("--facts")
        .arg(facts)
        .arg("--profile")
        .arg(fixture("fix/profile.yaml"))
        .arg("--root")
        .arg(root)
        .args(extra)
        .output()
        .expect("run nodecheck")
}

/// worker-79's facts with `edit` applied to the node NIC (`ens192`), written next to the root.
fn edited_facts(dir: &Path, edit: impl Fn(&mut serde_json::Value)) -> PathBuf {
    let mut facts: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("fix/worker-79.json")).unwrap())
            .unwrap();
    let nic = facts["interfaces"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|i| i["name"] == "ens192")
        .unwrap();
    edit(nic);
    let path = dir.join("facts.json");
    std::fs::write(&path, facts.to_string()).unwrap();
    path
}

#[test]
fn fix_link_files_get_only_validated_names_and_macs() {
    let root = scratch_root();
    let r = root.path();
    let scratch = tempfile::tempdir().unwrap();
    const INJECTED: &str = "\n[Link]\nName=evil\n#";
    type Edit = Box<dyn Fn(&mut serde_json::Value)>;
    let cases: Vec<(&str, Edit)> = vec![
        (
            "name",
            Box::new(|nic| nic["name"] = format!("ens{INJECTED}").into()),
        ),
        (
            "permanent MAC",
            Box::new(|nic| nic["permanent_mac"] = format!("00:50:56:8a:41:41{INJECTED}").into()),
        ),
        (
            "MAC",
            Box::new(|nic| {
                nic["permanent_mac"] = serde_json::Value::Null;
                nic["mac"] = format!("00:50:56:8a:41:41{INJECTED}").into();
            }),
        ),
    ];
    for (what, edit) in cases {
        let facts = edited_facts(scratch.path(), edit);
        let out = fix_with_facts(
            &facts,
            r,
            &["--only", "NodeNic-Present", "--format", "json"],
        );
        let plan = json_stdout(&out);
        assert!(
            changes(&plan).iter().all(|c| c["kind"] != "nic-name"),
            "{what}: {plan:#}"
        );
        let held = plan["held"].as_array().unwrap();
        assert!(
            held.iter().any(|h| h["kind"] == "nic-name"),
            "{what}: {plan:#}"
        );
    }
}

#[test]
fn fix_daemon_json_edit_keeps_number_text_key_order_and_clear_pools() {
    let root = scratch_root();
    let r = root.path();
    let before = "{\n  \"max-concurrent-downloads\": 123456789012345678901234567890,\n  \"shutdown-timeout\": 1.5E3,\n  \"default-address-pools\": [\n    {\"base\": \"10.50.0.0/16\", \"size\": 24},\n    {\"base\": \"172.17.0.0/16\", \"size\": 24},\n    {\"base\": \"not-a-cidr\", \"size\": 24},\n    {\"base\": \"2001:db8:2::/56\", \"size\": 64}\n  ],\n  \"log-driver\": \"json-file\"\n}\n";
    std::fs::write(r.join("etc/docker/daemon.json"), before).unwrap();
    let plan = json_stdout(&fix(r, &["--format", "json"]));
    let after = file_after(&plan, "/etc/docker/daemon.json");
    let parsed: serde_json::Value = serde_json::from_str(&after).unwrap();
    let pool = parsed["default-address-pools"][1]["base"].as_str().unwrap();
    let bip = parsed["bip"].as_str().unwrap();
    assert_ne!(pool, "172.17.0.0/16");
    let expected = before
        .replace(
            "{\"base\": \"172.17.0.0/16\", \"size\": 24}",
            &format!("{{\"base\": \"{pool}\", \"size\": 24}}"),
        )
        .replace(
            "\"json-file\"\n}",
            &format!("\"json-file\",\n  \"bip\": \"{bip}\"\n}}"),
        );
    assert_eq!(after, expected);
}

#[test]
fn fix_rollback_restores_the_tree_after_sigkill_at_any_point() {
    if !needs_root() {
        return;
    }
    // How long a whole --apply takes here, to spread the kills over it.
    let probe = scratch_root();
    let started = std::time::Instant::now();
    assert_exit(&fix(probe.path(), &["--apply"]), 0);
    let whole = started.elapsed().as_micros() as u64;
    let mut seed: u64 = 0x5eed_f1c5;
    let mut outcomes: BTreeMap<&str, u32> = BTreeMap::new();
    // Gathering and planning take most of the time: the kills aim at the end of the run, and the aim
    // follows what the kills found (the time a run takes varies with the machine's load).
    let mut aim = whole * 3 / 4;
    let mut kill = 0;
    while kill < 48 || (outcomes.get("interrupted").copied().unwrap_or(0) < 10 && kill < 200) {
        kill += 1;
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let delay = std::time::Duration::from_micros(aim / 2 + (seed >> 33) % (aim + 1));
        let root = scratch_root();
        let r = root.path();
        let before = tree(r);
        let peer = fixture("fix/peer-worker-90.json");
        let mut child = Command::new(bin())
            .arg("fix")
            .arg("--facts")
            .arg(fixture("fix/worker-79.json"))
            .arg("--profile")
            .arg(fixture("fix/profile.yaml"))
            .arg("--peers")
            .arg(&peer)
            .arg("--root")
            .arg(r)
            .arg("--apply")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        // SIGKILL (what Child::kill sends on Unix); an already finished run is left alone.
        let _ = child.kill();
        let status = child.wait().unwrap();
        let history = fix(r, &["--history"]);
        assert_exit(&history, 0);
        let history = String::from_utf8_lossy(&history.stdout).into_owned();
        let outcome = if history.contains("incomplete") {
            assert!(
                history.contains("remove /var/lib/nodecheck/fix/"),
                "{history}"
            );
            "incomplete"
        } else if history.contains("no recorded runs") {
            "not started"
        } else {
            let back = fix(r, &["--rollback"]);
            assert_exit(&back, 0);
            if status.success() {
                "finished"
            } else {
                "interrupted"
            }
        };
        *outcomes.entry(outcome).or_insert(0) += 1;
        match outcome {
            "not started" | "incomplete" => aim += aim / 8,
            "finished" => aim -= aim / 8,
            _ => {}
        }
        assert_same_tree(
            &tree(r),
            &before,
            &format!("kill {kill} after {delay:?} ({outcome}): {history}"),
        );
    }
    eprintln!("kills: {outcomes:?}");
    assert!(
        outcomes.get("interrupted").copied().unwrap_or(0) >= 10,
        "too few kills landed during the run: {outcomes:?}"
    );
}

#[test]
fn fix_human_output_escapes_check_ids_from_interface_names() {
    let root = scratch_root();
    let scratch = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture("fix/worker-79.json")).unwrap();
    let hostile = serde_json::to_string("x\u{1b}]0;PWN\u{7}").unwrap();
    let facts = scratch.path().join("facts.json");
    std::fs::write(&facts, text.replace("\"br-3f2a1b4c5d6e\"", &hostile)).unwrap();
    let peer = fixture("fix/peer-worker-90.json");
    let out = fix_with_facts(&facts, root.path(), &["--peers", peer.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("PWN"), "{stdout}");
    assert!(!out.stdout.contains(&0x1b), "{stdout:?}");
    let json = json_stdout(&fix_with_facts(
        &facts,
        root.path(),
        &["--peers", peer.to_str().unwrap(), "--format", "json"],
    ));
    assert!(json
        .to_string()
        .contains("BridgeOverlap-x\\u001b]0;PWN\\u0007"));
}

#[test]
fn fix_plan_names_overrides_that_would_undo_its_changes() {
    let root = scratch_root();
    let r = root.path();
    // systemd-sysctl applies a file that is not UTF-8 too, after ours.
    std::fs::write(
        r.join("etc/sysctl.d/99-zz-vendor.conf"),
        b"# \xff\xfe vendor\nnet.ipv4.ip_forward = 0\n",
    )
    .unwrap();
    std::fs::create_dir_all(r.join("etc/NetworkManager/conf.d")).unwrap();
    std::fs::write(
        r.join("etc/NetworkManager/conf.d/calico.conf"),
        "[keyfile]\nunmanaged-devices=interface-name:docker0\n[main]\ndns=default\n[keyfile]\nunmanaged-devices=interface-name:eth9\n",
    )
    .unwrap();
    let plan = json_stdout(&fix(r, &["--format", "json"]));
    let notes_of = |kind: &str| -> String {
        changes(&plan)
            .iter()
            .filter(|c| c["kind"] == kind)
            .map(|c| c["notes"].to_string())
            .collect()
    };
    assert!(
        notes_of("sysctl")
            .contains("/etc/sysctl.d/99-zz-vendor.conf:2 sets net.ipv4.ip_forward = 0"),
        "{plan:#}"
    );
    assert!(
        notes_of("network-manager").contains("later [keyfile] group"),
        "{plan:#}"
    );
}

#[test]
fn fix_holds_a_link_file_an_earlier_one_matching_the_same_mac_would_override() {
    let root = scratch_root();
    let r = root.path();
    std::fs::create_dir_all(r.join("usr/lib/systemd/network")).unwrap();
    std::fs::write(
        r.join("usr/lib/systemd/network/05-vendor.link"),
        "[Match]\nMACAddress=00:50:56:8A:41:41\n[Link]\nName=lan0\n",
    )
    .unwrap();
    let plan = json_stdout(&fix(r, &["--format", "json", "--only", "NodeNic-Present"]));
    assert!(
        changes(&plan).iter().all(|c| c["kind"] != "nic-name"),
        "{plan:#}"
    );
    let held = plan["held"].to_string();
    assert!(
        held.contains("/usr/lib/systemd/network/05-vendor.link matches the same MAC"),
        "{plan:#}"
    );
}

#[test]
fn a_missing_root_is_named_as_missing_and_a_file_root_as_not_a_directory() {
    let scratch = tempfile::tempdir().unwrap();
    let missing = scratch.path().join("image-root");
    let out = Command::new(bin())
        .args(["fix", "--check", "--root"])
        .arg(&missing)
        .output()
        .unwrap();
    assert_exit(&out, 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("image-root: does not exist"), "{stderr}");
    assert!(!missing.exists(), "--check created {}", missing.display());

    let file = scratch.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let out = Command::new(bin())
        .args(["fix", "--check", "--root"])
        .arg(&file)
        .output()
        .unwrap();
    assert_exit(&out, 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("a-file: not a directory"), "{stderr}");
}

/// worker-79 with low inotify and open-file limits, loose reverse-path filtering, `arp_ignore` 8, and kubelet and
/// containerd limited to 4096 descriptors (containerd by `containerd_source`), planned against the
/// fix profile with Calico 3.17 (whose felix exits on loose `all`): facts and profile written to `dir`.
fn limits_inputs(dir: &Path, containerd_source: &str) -> (PathBuf, PathBuf) {
    let mut facts: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("fix/worker-79.json")).unwrap())
            .unwrap();
    facts["preflight"] = serde_json::json!({
        "sysctls": {
            "fs.inotify.max_user_instances": "128",
            "fs.inotify.max_user_watches": "8192",
            "fs.file-max": "9223372036854775807",
            "fs.nr_open": "32768",
            "net.ipv4.conf.all.rp_filter": "2",
            "net.ipv4.conf.default.rp_filter": "2",
            "net.ipv4.conf.ens192.rp_filter": "2",
            "net.ipv4.conf.all.arp_ignore": "8",
            "net.ipv4.conf.ens192.arp_ignore": "0"
        },
        "open_files": {
            "units": [
                {"unit": "kubelet.service", "installed": true, "limit_nofile": null, "source": null},
                {"unit": "containerd.service", "installed": true, "limit_nofile": "4096",
                 "source": containerd_source}
            ],
            "systemd_default": "1024:4096",
            "systemd_default_source": "/etc/systemd/system.conf:3"
        }
    });
    let facts_path = dir.join("facts.json");
    std::fs::write(&facts_path, facts.to_string()).unwrap();
    let profile = std::fs::read_to_string(fixture("fix/profile.yaml"))
        .unwrap()
        .replace("version: \"3.28.0\"", "version: \"3.11.3\"");
    let profile_path = dir.join("profile.yaml");
    std::fs::write(&profile_path, profile).unwrap();
    (facts_path, profile_path)
}

/// `nodecheck fix --only` the limit, reverse-path and ARP checks, with the inputs of [`limits_inputs`].
fn fix_limits(inputs: &(PathBuf, PathBuf), root: &Path, extra: &[&str]) -> Output {
    Command::new(bin())
        .arg("fix")
        .arg("--facts")
        .arg(&inputs.0)
        .arg("--profile")
        .arg(&inputs.1)
        .arg("--root")
        .arg(root)
        .args(["--only", "Inotify-*,RpFilter-Node,Arp-Node,OpenFiles-*"])
        .args(extra)
        .output()
        .expect("run nodecheck")
}

fn fixes_of(change: &serde_json::Value) -> Vec<&str> {
    change["fixes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect()
}

#[test]
fn fix_plans_inotify_rp_filter_arp_and_open_file_limits_tied_to_their_checks() {
    let scratch = tempfile::tempdir().unwrap();
    let root = scratch_root();
    let inputs = limits_inputs(scratch.path(), "/lib/systemd/system/containerd.service:20");
    let out = fix_limits(&inputs, root.path(), &["--format", "json"]);
    assert_exit(&out, 3);
    let plan = json_stdout(&out);
    let sysctl = changes(&plan)
        .iter()
        .find(|c| c["target"]["path"] == "/etc/sysctl.d/99-kubernetes.conf")
        .unwrap_or_else(|| panic!("no sysctl drop-in: {plan:#}"));
    assert_eq!(
        fixes_of(sysctl),
        [
            "OpenFiles-System",
            "Inotify-Instances",
            "Inotify-Watches",
            "RpFilter-Node",
            "Arp-Node"
        ]
    );
    let dropin = sysctl["target"]["after"].as_str().unwrap();
    for line in [
        "fs.nr_open = 1048576\n",
        "fs.inotify.max_user_instances = 512\n",
        "fs.inotify.max_user_watches = 524288\n",
        "net.ipv4.conf.all.rp_filter = 1\n",
        "net.ipv4.conf.all.arp_ignore = 0\n",
        "net.ipv4.conf.ens192.arp_ignore = 0\n",
    ] {
        assert!(dropin.contains(line), "{line:?} missing from {dropin}");
    }
    // fs.file-max is far above the minimum: not touched.
    assert!(!dropin.contains("fs.file-max"), "{dropin}");
    for (unit, id) in [
        ("kubelet", "OpenFiles-kubelet"),
        ("containerd", "OpenFiles-containerd"),
    ] {
        let path = format!("/etc/systemd/system/{unit}.service.d/limits.conf");
        let c = changes(&plan)
            .iter()
            .find(|c| c["target"]["path"] == path.as_str())
            .unwrap_or_else(|| panic!("no {path}: {plan:#}"));
        assert_eq!(fixes_of(c), [id]);
        assert_eq!(c["kind"], "unit-limits");
        assert!(c["target"]["after"]
            .as_str()
            .unwrap()
            .ends_with("[Service]\nLimitNOFILE=1048576\n"));
        let effects: Vec<&str> = c["side_effects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["type"].as_str().unwrap())
            .collect();
        assert_eq!(effects, ["daemon_reload", "restart_service"], "{c:#}");
        assert_eq!(c["side_effects"][1]["unit"], unit);
    }
    assert_eq!(changes(&plan).len(), 3, "{plan:#}");
}

#[test]
fn fix_limits_apply_replan_empty_and_rollback_byte_identical() {
    if !needs_root() {
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let root = scratch_root();
    let r = root.path();
    // An operator's drop-in for containerd that sets other things stays as it is.
    let site = r.join("etc/systemd/system/containerd.service.d");
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(
        site.join("limits.conf"),
        "[Service]\nTasksMax=infinity\nLimitNOFILE=4096\n",
    )
    .unwrap();
    let inputs = limits_inputs(
        scratch.path(),
        "/etc/systemd/system/containerd.service.d/limits.conf:3",
    );
    let before = tree(r);
    let out = fix_limits(&inputs, r, &["--apply"]);
    assert_exit(&out, 0);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("finds nothing left to write"), "{text}");
    assert_eq!(
        std::fs::read_to_string(site.join("limits.conf")).unwrap(),
        "[Service]\nTasksMax=infinity\nLimitNOFILE=1048576\n"
    );
    let kubelet =
        std::fs::read_to_string(r.join("etc/systemd/system/kubelet.service.d/limits.conf"))
            .unwrap();
    assert!(kubelet.contains("OpenFiles-kubelet"), "{kubelet}");
    assert!(
        kubelet.ends_with("[Service]\nLimitNOFILE=1048576\n"),
        "{kubelet}"
    );
    let sysctl = std::fs::read_to_string(r.join("etc/sysctl.d/99-kubernetes.conf")).unwrap();
    assert!(
        sysctl.contains("net.ipv4.conf.all.rp_filter = 1\n"),
        "{sysctl}"
    );
    // Re-planning finds nothing to write.
    assert_exit(&fix_limits(&inputs, r, &["--check"]), 0);
    assert_exit(&fix_limits(&inputs, r, &["--rollback"]), 0);
    assert_same_tree(&tree(r), &before, "rollback did not restore the tree");
}

#[test]
fn fix_holds_a_unit_limit_a_later_drop_in_would_override() {
    let scratch = tempfile::tempdir().unwrap();
    let root = scratch_root();
    let inputs = limits_inputs(
        scratch.path(),
        "/etc/systemd/system/containerd.service.d/override.conf:2",
    );
    let plan = json_stdout(&fix_limits(&inputs, root.path(), &["--format", "json"]));
    let held = plan["held"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["fixes"][0] == "OpenFiles-containerd")
        .unwrap_or_else(|| panic!("not held: {plan:#}"));
    assert!(
        held["reason"]
            .as_str()
            .unwrap()
            .contains("/etc/systemd/system/containerd.service.d/override.conf sorts after"),
        "{held:#}"
    );
    assert!(!changes(&plan)
        .iter()
        .any(|c| c["target"]["path"] == "/etc/systemd/system/containerd.service.d/limits.conf"));
}
