//! The host-limit, kernel-configuration and reverse-path checks against scratch host trees
//! (`--host-root`): kernel configurations (gzip-compressed `/proc/config.gz` and
//! `/boot/config-<release>`), systemd units with `LimitNOFILE=`, `/etc/hosts`, `/proc/sys` files,
//! and, as root, a small tmpfs mounted in a private mount namespace for the disk-space checks.

use std::io::Write;
use std::process::Command;

use crate::util::{bin, json_stdout, nix_is_root, result_by_id, skip, HostTree};

fn check(tree: &HostTree, profile: &str) -> serde_json::Value {
    tree.write("/nodecheck-profile.yaml", profile);
    let out = Command::new(bin())
        .args(["check", "--format", "json", "--host-root", tree.arg()])
        .args([
            "--profile",
            tree.path("/nodecheck-profile.yaml").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    json_stdout(&out)
}

/// [`check`] run inside the network namespace `ns`, with the profile already in the tree.
fn check_in(ns: &crate::util::Netns, tree: &HostTree) -> serde_json::Value {
    let profile = tree.path("/nodecheck-profile.yaml");
    json_stdout(&ns.nodecheck(&[
        "check",
        "--format",
        "json",
        "--host-root",
        tree.arg(),
        "--profile",
        profile.to_str().unwrap(),
    ]))
}

fn status(report: &serde_json::Value, id: &str) -> String {
    result_by_id(report, id)["status"]
        .as_str()
        .unwrap()
        .to_string()
}

fn message(report: &serde_json::Value, id: &str) -> String {
    result_by_id(report, id)["message"]
        .as_str()
        .unwrap()
        .to_string()
}

fn gzip(text: &str) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(text.as_bytes()).unwrap();
    encoder.finish().unwrap()
}

const FULL_CONFIG: &str = "CONFIG_VETH=m\nCONFIG_OVERLAY_FS=m\nCONFIG_BRIDGE_NETFILTER=m\nCONFIG_NF_CONNTRACK=m\nCONFIG_NF_NAT=m\n\
CONFIG_NETFILTER_XT_MATCH_STATISTIC=m\nCONFIG_NETFILTER_XT_MATCH_COMMENT=m\nCONFIG_NETFILTER_XT_TARGET_MASQUERADE=m\n\
CONFIG_NETFILTER_XT_MATCH_ADDRTYPE=m\nCONFIG_NETFILTER_XT_MATCH_CONNTRACK=m\nCONFIG_NETFILTER_XT_MATCH_MARK=m\n\
CONFIG_NETFILTER_XT_MATCH_MULTIPORT=m\nCONFIG_NETFILTER_XT_SET=m\nCONFIG_IP_SET=m\nCONFIG_IP_SET_HASH_IP=m\n\
CONFIG_IP_SET_HASH_NET=m\nCONFIG_IP_NF_MATCH_RPFILTER=m\nCONFIG_NET_IPIP=m\n# CONFIG_VXLAN is not set\nCONFIG_WIREGUARD=m\n";

#[test]
fn kernel_configuration_from_proc_then_boot() {
    let tree = HostTree::new("kconfig");
    tree.write("/proc/sys/kernel/osrelease", "6.1.0-test\n");
    let gz = tree.path("/proc/config.gz");
    std::fs::write(&gz, gzip(FULL_CONFIG)).unwrap();
    let vxlan = check(&tree, "cluster: t\ncalico:\n  encapsulation: vxlan\n");
    assert_eq!(status(&vxlan, "KernelConfig-Vxlan"), "fail", "{vxlan}");
    assert!(message(&vxlan, "KernelConfig-Vxlan").contains("CONFIG_VXLAN"));
    assert!(message(&vxlan, "KernelConfig-Vxlan").contains("VXLAN encapsulation"));
    assert_eq!(status(&vxlan, "KernelConfig-Pods"), "ok");
    assert_eq!(status(&vxlan, "KernelConfig-CalicoPolicy"), "ok");
    let ipip = check(&tree, "cluster: t\n");
    assert_eq!(status(&ipip, "KernelConfig-Ipip"), "ok", "{ipip}");

    // Without /proc/config.gz: /boot/config-<release>, where IP-in-IP is missing.
    std::fs::remove_file(&gz).unwrap();
    tree.write(
        "/boot/config-6.1.0-test",
        &FULL_CONFIG.replace("CONFIG_NET_IPIP=m", "# CONFIG_NET_IPIP is not set"),
    );
    let boot = check(&tree, "cluster: t\n");
    assert_eq!(status(&boot, "KernelConfig-Ipip"), "fail", "{boot}");
    assert_eq!(
        result_by_id(&boot, "KernelConfig-Ipip")["evidence"]["source"],
        format!("{}:/boot/config-6.1.0-test", tree.arg())
    );
    // A corrupt /proc/config.gz is reported, and /boot is read instead.
    std::fs::write(&gz, b"not gzip").unwrap();
    let corrupt = check(&tree, "cluster: t\n");
    assert_eq!(status(&corrupt, "KernelConfig-Ipip"), "fail");
    // Neither: skipped with the reasons.
    std::fs::remove_file(&gz).unwrap();
    std::fs::remove_file(tree.path("/boot/config-6.1.0-test")).unwrap();
    let none = check(&tree, "cluster: t\n");
    assert_eq!(status(&none, "KernelConfig-Ipip"), "skip");
    assert!(
        message(&none, "KernelConfig-Ipip").contains("config.gz"),
        "{none}"
    );
}

#[test]
fn open_file_limits_localhost_and_inotify() {
    let tree = HostTree::new("limits");
    tree.write("/proc/sys/fs/inotify/max_user_instances", "128\n")
        .write("/proc/sys/fs/inotify/max_user_watches", "1048576\n")
        .write("/proc/sys/fs/nr_open", "1048576\n")
        .write("/proc/sys/fs/file-max", "9223372036854775807\n")
        .write(
            "/usr/lib/systemd/system/containerd.service",
            "[Service]\nExecStart=/usr/bin/containerd\nLimitNOFILE=infinity\n",
        )
        .write(
            "/etc/systemd/system/containerd.service.d/10-low.conf",
            "[Service]\nLimitNOFILE=1024:4096\n",
        )
        .write(
            "/usr/lib/systemd/system/kubelet.service",
            "[Service]\nExecStart=/usr/bin/kubelet\n",
        )
        .write(
            "/etc/systemd/system.conf",
            "[Manager]\n#DefaultLimitNOFILE=1\n",
        )
        .write(
            "/etc/hosts",
            "127.0.0.1 localhost\n10.20.0.7 localhost node7\n",
        )
        .write("/etc/nsswitch.conf", "hosts: files dns\n");
    let report = check(&tree, "cluster: t\n");
    assert_eq!(status(&report, "OpenFiles-containerd"), "warn", "{report}");
    assert!(message(&report, "OpenFiles-containerd").contains("10-low.conf:2"));
    assert_eq!(status(&report, "OpenFiles-kubelet"), "ok");
    assert!(message(&report, "OpenFiles-kubelet").contains("built-in default"));
    assert_eq!(status(&report, "OpenFiles-System"), "ok");
    assert_eq!(status(&report, "Host-Localhost"), "fail");
    assert!(message(&report, "Host-Localhost").contains("10.20.0.7"));
    assert_eq!(status(&report, "Inotify-Instances"), "warn");
    assert_eq!(status(&report, "Inotify-Watches"), "ok");

    // A lower systemd default reaches kubelet, which sets nothing itself; the drop-in's empty
    // assignment resets containerd to the default too.
    tree.write(
        "/etc/systemd/system.conf.d/50-nofile.conf",
        "[Manager]\nDefaultLimitNOFILE=1024:8192\n",
    )
    .write(
        "/etc/systemd/system/containerd.service.d/20-reset.conf",
        "[Service]\nLimitNOFILE=\n",
    )
    .write(
        "/etc/hosts",
        "::1 localhost\n127.0.0.1 localhost.localdomain localhost\n",
    );
    let report = check(&tree, "cluster: t\n");
    assert_eq!(status(&report, "OpenFiles-kubelet"), "warn", "{report}");
    assert!(message(&report, "OpenFiles-kubelet").contains("50-nofile.conf:2"));
    assert_eq!(status(&report, "OpenFiles-containerd"), "warn");
    assert_eq!(status(&report, "Host-Localhost"), "ok");
}

#[test]
fn reverse_path_filter_from_proc_sys() {
    let tree = HostTree::new("rpfilter");
    tree.write("/proc/sys/net/ipv4/conf/all/rp_filter", "2\n")
        .write("/proc/sys/net/ipv4/conf/default/rp_filter", "2\n")
        .write("/proc/sys/net/ipv4/conf/all/arp_ignore", "0\n");
    let old = check(&tree, "cluster: t\ncalico:\n  version: \"3.11.3\"\n");
    assert_eq!(status(&old, "RpFilter-Node"), "fail", "{old}");
    assert!(message(&old, "RpFilter-Node").contains("IgnoreLooseRPF"));
    assert!(result_by_id(&old, "RpFilter-Node")["remediation"]
        .as_str()
        .unwrap()
        .contains("net.ipv4.conf.all.rp_filter=1"));
    let new = check(&tree, "cluster: t\ncalico:\n  version: \"3.28.0\"\n");
    assert_eq!(status(&new, "RpFilter-Node"), "ok", "{new}");
    tree.write("/proc/sys/net/ipv4/conf/all/arp_ignore", "8\n");
    assert_eq!(status(&check(&tree, "cluster: t\n"), "Arp-Node"), "fail");
}

/// `Disk-Kubelet` on a real 8 MiB tmpfs mounted at the tree's /var/lib/kubelet in a private mount
/// namespace (nothing is mounted outside it), filled past kubelet's nodefs threshold.
#[test]
fn disk_space_on_a_small_tmpfs() {
    if !nix_is_root() {
        return skip("needs root (mounts a tmpfs in a private mount namespace)");
    }
    let tree = HostTree::new("disk");
    tree.mkdir("/var/lib/kubelet");
    tree.write("/nodecheck-profile.yaml", "cluster: t\n");
    let mount_point = tree.path("/var/lib/kubelet");
    let script = format!(
        "mount -t tmpfs -o size=8m preflight-disk '{mp}' && \
         dd if=/dev/zero of='{mp}/fill' bs=512K count={count} status=none && \
         exec '{bin}' check --format json --host-root '{root}' --profile '{root}/nodecheck-profile.yaml'",
        mp = mount_point.display(),
        bin = bin().display(),
        root = tree.arg(),
        count = "{count}",
    );
    let run = |count: &str| {
        let out = Command::new("unshare")
            .args(["--mount", "--propagation", "private", "sh", "-c"])
            .arg(script.replace("{count}", count))
            .output()
            .expect("unshare");
        json_stdout(&out)
    };
    let full = run("15");
    assert_eq!(status(&full, "Disk-Kubelet"), "fail", "{full}");
    assert!(message(&full, "Disk-Kubelet").contains("nodefs.available<10%"));
    assert_eq!(
        result_by_id(&full, "Disk-Kubelet")["evidence"]["total_bytes"],
        8 * 1024 * 1024
    );
    let roomy = run("2");
    assert_eq!(status(&roomy, "Disk-Kubelet"), "ok", "{roomy}");
    // The runtime's root does not exist: measured on its nearest parent, outside the tmpfs.
    assert_eq!(
        result_by_id(&roomy, "Disk-Runtime")["evidence"]["measured"],
        "/var/lib"
    );
    // Nothing stayed mounted outside the namespace.
    assert!(std::fs::read_dir(&mount_point).unwrap().next().is_none());
}

/// kubelet's `evictionHard`, read from the file its unit's `--config` names: a partial map with a
/// threshold no filesystem can meet fails `Disk-Kubelet` and leaves `imagefs` without a threshold;
/// with `mergeDefaultEvictionSettings` the defaults fill it in again.
#[test]
fn eviction_hard_from_kubelets_configuration_file() {
    let tree = HostTree::new("eviction");
    tree.mkdir("/var/lib/kubelet").write(
        "/etc/systemd/system/kubelet.service",
        "[Service]\nExecStart=/usr/bin/kubelet --config=/etc/kubernetes/kubelet.yaml\n",
    );
    let config = |merge: &str| {
        tree.write(
            "/etc/kubernetes/kubelet.yaml",
            &format!(
                "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n\
                 evictionHard:\n  memory.available: 100Mi\n  nodefs.available: 1Ei\n{merge}"
            ),
        );
        check(&tree, "cluster: t\n")
    };
    let partial = config("");
    assert_eq!(status(&partial, "Disk-Kubelet"), "fail", "{partial}");
    let kubelet = message(&partial, "Disk-Kubelet");
    assert!(kubelet.contains("nodefs.available<1Ei"), "{kubelet}");
    assert!(
        kubelet.contains("evictionHard in /etc/kubernetes/kubelet.yaml"),
        "{kubelet}"
    );
    assert_eq!(status(&partial, "Disk-Runtime"), "ok", "{partial}");
    let runtime = result_by_id(&partial, "Disk-Runtime");
    assert!(
        runtime["evidence"]["eviction_available_percent"].is_null(),
        "{runtime}"
    );
    assert!(message(&partial, "Disk-Runtime").contains("no imagefs.available threshold"));

    let merged = config("mergeDefaultEvictionSettings: true\n");
    let runtime = result_by_id(&merged, "Disk-Runtime");
    assert_eq!(
        runtime["evidence"]["eviction_available_percent"], 15.0,
        "{runtime}"
    );
    assert!(message(&merged, "Disk-Runtime").contains("imagefs.available<15%"));
}

#[test]
fn sandbox_image_of_containerd_per_kubernetes_version() {
    let tree = HostTree::new("sandbox");
    tree.write(
        "/etc/containerd/config.toml",
        "version = 3\n[plugins.'io.containerd.cri.v1.images'.pinned_images]\n  sandbox = 'registry.k8s.io/pause:3.9'\n",
    );
    let report = check(&tree, "cluster: t\nkubernetes_version: \"1.33\"\n");
    assert_eq!(status(&report, "Runtime-SandboxImage"), "warn", "{report}");
    let fix = result_by_id(&report, "Runtime-SandboxImage")["remediation"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        fix.contains("[plugins.\"io.containerd.cri.v1.images\".pinned_images] sandbox = \"registry.k8s.io/pause:3.10\""),
        "{fix}"
    );
    let older = check(&tree, "cluster: t\nkubernetes_version: \"1.30\"\n");
    assert_eq!(status(&older, "Runtime-SandboxImage"), "ok", "{older}");
    tree.write("/etc/containerd/config.toml", "version = [\n");
    let broken = check(&tree, "cluster: t\nkubernetes_version: \"1.30\"\n");
    assert_eq!(status(&broken, "Runtime-SandboxImage"), "warn");
    assert!(message(&broken, "Runtime-SandboxImage").contains("not valid TOML"));
}

#[test]
fn sandbox_image_of_crio_from_its_drop_ins() {
    let tree = HostTree::new("sandbox-crio");
    tree.write(
        "/etc/crio/crio.conf",
        "[crio.image]\npause_image = \"registry.k8s.io/pause:3.9\"\n",
    );
    tree.write(
        "/etc/crio/crio.conf.d/10-pause.conf",
        "[crio.image]\npause_image = \"mirror.local/pause:3.10\"\n",
    );
    tree.write("/etc/crio/crio.conf.d/20-other.conf", "[crio.runtime]\n");
    let same = check(&tree, "cluster: t\nkubernetes_version: \"1.33\"\n");
    assert_eq!(status(&same, "Runtime-SandboxImage"), "ok", "{same}");
    assert!(message(&same, "Runtime-SandboxImage").contains("CRI-O"));
    let newer = check(&tree, "cluster: t\nkubernetes_version: \"1.35\"\n");
    assert_eq!(status(&newer, "Runtime-SandboxImage"), "warn", "{newer}");
    let fix = result_by_id(&newer, "Runtime-SandboxImage")["remediation"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        fix.contains("[crio.image] pause_image = \"registry.k8s.io/pause:3.10.1\" in /etc/crio/crio.conf.d/10-pause.conf"),
        "{fix}"
    );
    assert!(fix.contains("restart crio"), "{fix}");
}

/// `Forward-Policy` from real nftables base chains in a network namespace, read over netlink.
#[test]
fn forward_policy_from_nftables_in_a_namespace() {
    if let Some(reason) = crate::util::netns_unavailable() {
        return skip(&reason);
    }
    let ns = crate::util::Netns::new("pf-fwd");
    ns.add_nic("eth0", "eth0-peer", "10.77.0.2/24");
    let tree = HostTree::new("forward");
    tree.write("/nodecheck-profile.yaml", "cluster: t\n");
    let nft = |rule: &str| {
        let out = ns.exec("nft", &[rule]);
        assert!(
            out.status.success(),
            "nft {rule}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let run = || check_in(&ns, &tree);
    let clean = run();
    assert_eq!(status(&clean, "Forward-Policy"), "ok", "{clean}");
    assert!(message(&clean, "Forward-Policy").contains("no nftables base chain"));
    // What Docker leaves with iptables-nft: filter FORWARD, policy drop.
    nft("add table ip filter");
    nft("add chain ip filter FORWARD { type filter hook forward priority 0; policy drop; }");
    let docker = run();
    assert_eq!(status(&docker, "Forward-Policy"), "ok", "{docker}");
    assert_eq!(
        result_by_id(&docker, "Forward-Policy")["evidence"]["chains"][0]["policy"],
        "drop"
    );
    // A drop policy in a table of its own is not overridden by Calico's rules.
    nft("add table inet hardening");
    nft("add chain inet hardening forward_drop { type filter hook forward priority 10; policy drop; }");
    let strict = run();
    assert_eq!(status(&strict, "Forward-Policy"), "warn", "{strict}");
    assert!(message(&strict, "Forward-Policy").contains("inet hardening forward_drop"));
}

/// `Forward-Policy` from iptables-legacy's `filter FORWARD` in a network namespace, read with the
/// x_tables socket options as iptables-legacy reads it; the table is asked for only when the
/// kernel lists it (`/proc/net/ip_tables_names`, here from the scratch root).
#[test]
fn forward_policy_from_iptables_legacy_in_a_namespace() {
    if let Some(reason) = crate::util::netns_unavailable() {
        return skip(&reason);
    }
    let ns = crate::util::Netns::new("pf-legacy");
    ns.add_nic("eth0", "eth0-peer", "10.78.0.2/24");
    let tree = HostTree::new("forward-legacy");
    tree.write("/nodecheck-profile.yaml", "cluster: t\n");
    let run = || check_in(&ns, &tree);
    let none = run();
    assert!(
        message(&none, "Forward-Policy").contains("there is no iptables-legacy filter table"),
        "{none}"
    );
    let out = ns.exec("iptables-legacy", &["-P", "FORWARD", "DROP"]);
    assert!(
        out.status.success(),
        "iptables-legacy: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    tree.write("/proc/net/ip_tables_names", "filter\n");
    let docker = run();
    assert_eq!(status(&docker, "Forward-Policy"), "ok", "{docker}");
    assert!(message(&docker, "Forward-Policy").contains("DROP in iptables-legacy"));
    assert_eq!(
        result_by_id(&docker, "Forward-Policy")["evidence"]["iptables_legacy"],
        "drop"
    );
    let out = ns.exec("iptables-legacy", &["-P", "FORWARD", "ACCEPT"]);
    assert!(out.status.success());
    let accept = run();
    assert!(
        message(&accept, "Forward-Policy")
            .contains("iptables-legacy's filter FORWARD policy is accept"),
        "{accept}"
    );
}

/// Debian's alternatives chain (`/etc/alternatives/iptables` → `/usr/sbin/iptables-nft`) under a
/// scratch root, with and without legacy x_tables tables in `/proc/net/ip_tables_names`.
#[test]
fn iptables_backend_from_the_alternatives_link() {
    let tree = HostTree::new("iptables");
    tree.symlink("/etc/alternatives/iptables", "/usr/sbin/iptables");
    tree.symlink("/usr/sbin/iptables-nft", "/etc/alternatives/iptables");
    tree.write("/usr/sbin/xtables-nft-multi", "");
    let report = check(&tree, "cluster: t\n");
    assert_eq!(status(&report, "Iptables-Backend"), "ok", "{report}");
    assert_eq!(
        result_by_id(&report, "Iptables-Backend")["evidence"]["target"],
        "/usr/sbin/iptables-nft"
    );
    tree.write("/proc/net/ip_tables_names", "nat\nfilter\n");
    let split = check(&tree, "cluster: t\n");
    assert_eq!(status(&split, "Iptables-Backend"), "warn", "{split}");
    assert!(message(&split, "Iptables-Backend").contains("nat, filter"));
    // A relative link to the legacy multi-binary, as RHEL 8's alternatives write it.
    let legacy = HostTree::new("iptables-legacy");
    legacy.symlink("xtables-legacy-multi", "/usr/sbin/iptables");
    legacy.write("/proc/net/ip_tables_names", "filter\n");
    let report = check(&legacy, "cluster: t\n");
    assert_eq!(
        result_by_id(&report, "Iptables-Backend")["evidence"]["target"],
        "/usr/sbin/xtables-legacy-multi"
    );
    // The nftables side is this namespace's own (read over netlink): iptables-nft tables there
    // make the legacy host split, none leave it whole.
    assert!(message(&report, "Iptables-Backend").starts_with("iptables is iptables-legacy"));
}

/// containerd's `root` moved by an imported drop-in (a pattern, relative to config.toml): the
/// runtime's disk is measured there, and the file that set it is named.
#[test]
fn disk_runtime_follows_containerds_root_through_imports() {
    let tree = HostTree::new("ctrd-root");
    tree.write(
        "/etc/containerd/config.toml",
        "version = 2\nroot = \"/srv/containerd-main\"\nimports = [\"conf.d/*.toml\"]\n",
    );
    tree.write(
        "/etc/containerd/conf.d/50-disk.toml",
        "root = \"/data/containerd\"\nstate = \"/run/containerd-x\"\n",
    );
    tree.write("/etc/containerd/conf.d/notes.txt", "root = \"/nope\"\n");
    tree.mkdir("/data/containerd");
    let report = check(&tree, "cluster: t\n");
    let disk = result_by_id(&report, "Disk-Runtime");
    assert_eq!(disk["evidence"]["path"], "/data/containerd", "{disk}");
    assert_eq!(disk["evidence"]["measured"], "/data/containerd");
    assert_eq!(
        disk["evidence"]["configured_by"],
        "/etc/containerd/conf.d/50-disk.toml"
    );
    // Without the import the main file's root applies; without any file the default.
    tree.write(
        "/etc/containerd/config.toml",
        "version = 2\nroot = \"/srv/containerd-main\"\n",
    );
    let report = check(&tree, "cluster: t\n");
    assert_eq!(
        result_by_id(&report, "Disk-Runtime")["evidence"]["path"],
        "/srv/containerd-main"
    );
    let bare = HostTree::new("ctrd-default");
    let report = check(&bare, "cluster: t\n");
    let disk = result_by_id(&report, "Disk-Runtime");
    assert_eq!(disk["evidence"]["path"], "/var/lib/containerd");
    assert!(disk["evidence"]["configured_by"].is_null());
}
