//! `--host-root DIR` / `NODECHECK_HOST_ROOT`: host files, /proc and /sys are read from a scratch host
//! tree, while netlink stays this process's namespace.

use crate::util::{assert_exit, json_stdout, nodecheck, HostTree};

/// A host tree that differs from this machine in every file-backed fact.
fn scratch_host() -> HostTree {
    let tree = HostTree::new("facts");
    tree.write(
        "/usr/lib/os-release",
        "ID=\"rocky\"\nVERSION_ID=\"9.4\"\nPRETTY_NAME=\"Rocky Linux 9.4 (Blue Onyx)\"\n",
    )
    .symlink("../usr/lib/os-release", "/etc/os-release")
    .write("/etc/machine-id", "0123456789abcdef0123456789abcdef\n")
    .write("/proc/sys/kernel/hostname", "scratch-worker-7\n")
    .write(
        "/proc/sys/kernel/osrelease",
        "5.14.0-427.13.1.el9_4.x86_64\n",
    )
    .write(
        "/proc/cmdline",
        "BOOT_IMAGE=/vmlinuz ro net.ifnames=0 biosdevname=0\n",
    )
    .write("/proc/sys/net/ipv4/ip_forward", "0\n")
    .write(
        "/proc/swaps",
        "Filename\tType\tSize\tUsed\tPriority\n/swap\\040file file 1048572 0 -2\n",
    )
    .write(
        "/proc/meminfo",
        "MemTotal: 4030000 kB\nSwapTotal: 1048572 kB\nSwapFree: 1048572 kB\n",
    )
    .write("/proc/modules", "br_netfilter 36864 0 - Live 0x0\n")
    .write(
        "/sys/class/dmi/id/product_uuid",
        "EC2A1B2C-0000-1111-2222-333344445555\n",
    )
    // /var/run is an absolute link on real hosts: it must resolve inside the tree.
    .symlink("/run", "/var/run")
    .mkdir("/run/containerd");
    tree
}

fn check_scratch_facts(facts: &serde_json::Value) {
    assert_eq!(facts["host"]["hostname"], "scratch-worker-7");
    assert_eq!(
        facts["host"]["kernel_release"],
        "5.14.0-427.13.1.el9_4.x86_64"
    );
    assert_eq!(facts["host"]["os"]["id"], "rocky");
    assert_eq!(facts["host"]["os"]["version_id"], "9.4");
    assert_eq!(
        facts["host"]["machine_id"],
        "0123456789abcdef0123456789abcdef"
    );
    assert_eq!(
        facts["host"]["product_uuid"],
        "ec2a1b2c-0000-1111-2222-333344445555"
    );
    assert_eq!(facts["host"]["cmdline"]["net_ifnames"], "0");
    assert_eq!(facts["sysctls"]["net.ipv4.ip_forward"], "0");
    // Present on this machine, absent from the tree.
    assert!(
        facts["sysctls"]["net.core.somaxconn"].is_null(),
        "{}",
        facts["sysctls"]
    );
    assert_eq!(facts["swap"]["devices"][0], "/swap file");
    assert_eq!(facts["swap"]["total_kib"], 1048572);
    assert_eq!(facts["modules"]["state"]["br_netfilter"], "loaded");
    // Netlink is this process's namespace: loopback is always there.
    let names: Vec<&str> = facts["interfaces"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["name"].as_str())
        .collect();
    assert!(names.contains(&"lo"), "{names:?}");
}

#[test]
fn facts_read_host_files_under_host_root() {
    let tree = scratch_host();
    // A real Unix socket behind the /var/run -> /run link.
    let _listener =
        std::os::unix::net::UnixListener::bind(tree.path("/run/containerd/containerd.sock"))
            .unwrap();
    let out = nodecheck(&["facts", "--host-root", tree.arg()]);
    assert_exit(&out, 0);
    let facts = json_stdout(&out);
    check_scratch_facts(&facts);
    let containerd = facts["runtime_sockets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["runtime"] == "containerd")
        .unwrap();
    assert_eq!(containerd["present"], true, "{containerd}");
    let cri_o = facts["runtime_sockets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["runtime"] == "cri-o")
        .unwrap();
    assert_eq!(cri_o["present"], false, "{cri_o}");
}

#[test]
fn host_root_comes_from_the_environment_too() {
    let tree = scratch_host();
    let out = std::process::Command::new(crate::util::bin())
        .args(["facts"])
        .env("NODECHECK_HOST_ROOT", tree.arg())
        .output()
        .unwrap();
    assert_exit(&out, 0);
    check_scratch_facts(&json_stdout(&out));
}

#[test]
fn missing_host_root_is_bad_input() {
    let tree = HostTree::new("missing");
    let missing = tree.path("/no/such/dir");
    for command in [
        &["facts"][..],
        &["check"],
        &["calico"],
        &["profile", "init"],
    ] {
        let mut args: Vec<&str> = command.to_vec();
        args.extend(["--host-root", missing.to_str().unwrap()]);
        let out = nodecheck(&args);
        assert_exit(&out, 2);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("--host-root"), "{stderr}");
    }
}

#[test]
fn check_judges_the_scratch_host() {
    let tree = scratch_host();
    let out = nodecheck(&["check", "--host-root", tree.arg(), "--format", "json"]);
    let report = json_stdout(&out);
    assert_eq!(report["host"], "scratch-worker-7");
    let forward = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"].as_str().unwrap_or("").contains("ip_forward"))
        .expect("an ip_forward check");
    assert_eq!(forward["status"], "fail", "{forward}");
}
