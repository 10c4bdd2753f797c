//! The kubeadm-join and data-plane checks against scratch host trees (`--host-root`), binaries on a
//! scratch `PATH`, and a real TCP listener in a network namespace for `ApiServer-Reach`.

use std::process::Command;

use crate::util::{bin, json_stdout, netns_unavailable, skip, HostTree, Netns};

/// Runs `check --format json` on `tree` with `profile` (YAML) and extra arguments.
fn check(tree: &HostTree, profile: &str, extra: &[&str]) -> serde_json::Value {
    tree.write("/nodecheck-profile.yaml", profile);
    let profile_path = tree.path("/nodecheck-profile.yaml");
    let out = Command::new(bin())
        .args(["check", "--format", "json", "--host-root", tree.arg()])
        .args(["--profile", profile_path.to_str().unwrap()])
        .args(extra)
        .env("PATH", "/opt/k8s/bin")
        .output()
        .unwrap();
    json_stdout(&out)
}

fn result<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {report}"))
}

fn status(report: &serde_json::Value, id: &str) -> String {
    result(report, id)["status"].as_str().unwrap().to_string()
}

#[test]
fn an_earlier_join_fails_pre_join() {
    let tree = HostTree::new("joined");
    let clean = check(&tree, "cluster: t\n", &[]);
    assert_eq!(status(&clean, "Kubelet-Joined"), "ok");
    tree.write("/etc/kubernetes/kubelet.conf", "apiVersion: v1\n")
        .write(
            "/etc/kubernetes/manifests/kube-apiserver.yaml",
            "kind: Pod\n",
        );
    let report = check(&tree, "cluster: t\n", &[]);
    let joined = result(&report, "Kubelet-Joined");
    assert_eq!(joined["status"], "fail", "{joined}");
    let message = joined["message"].as_str().unwrap();
    assert!(
        message.contains("/etc/kubernetes/kubelet.conf"),
        "{message}"
    );
    assert!(message.contains("kube-apiserver.yaml"), "{message}");
}

const CONTAINERD_UNIT: &str =
    "[Unit]\nDescription=containerd\n[Service]\nExecStart=/usr/bin/containerd\n";

#[test]
fn cgroup_driver_mismatch_between_kubelet_and_containerd() {
    let tree = HostTree::new("cgroup-driver");
    tree.write("/lib/systemd/system/containerd.service", CONTAINERD_UNIT)
        .write(
            "/etc/containerd/config.toml",
            "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n  SystemdCgroup = false\n",
        );
    // Before the join: kubeadm's default (systemd) against runc on cgroupfs.
    let report = check(&tree, "cluster: t\n", &[]);
    let driver = result(&report, "Cgroups-Driver");
    assert_eq!(driver["status"], "fail", "{driver}");
    assert!(
        driver["message"].as_str().unwrap().contains("cgroupfs"),
        "{driver}"
    );
    // A joined node whose kubelet config says cgroupfs matches.
    tree.write(
        "/var/lib/kubelet/config.yaml",
        "kind: KubeletConfiguration\ncgroupDriver: cgroupfs\n",
    );
    assert_eq!(
        status(&check(&tree, "cluster: t\n", &[]), "Cgroups-Driver"),
        "ok"
    );
    // containerd on systemd, kubelet on cgroupfs: mismatch the other way.
    tree.write(
        "/etc/containerd/config.toml",
        "version = 3\n[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]\n  SystemdCgroup = true\n",
    );
    assert_eq!(
        status(&check(&tree, "cluster: t\n", &[]), "Cgroups-Driver"),
        "fail"
    );
    // A corrupt file is reported, not a crash.
    tree.write("/etc/containerd/config.toml", "version = [\n");
    let report = check(&tree, "cluster: t\n", &[]);
    assert!(
        result(&report, "Cgroups-Driver")["evidence"]["containerd_source"]
            .as_str()
            .unwrap()
            .contains("config.toml"),
        "{report}"
    );
}

const KUBELET_UNIT: &str = "[Unit]\nDescription=kubelet\n[Service]\nExecStart=/usr/bin/kubelet\n[Install]\nWantedBy=multi-user.target\n";

#[test]
fn kubelet_service_enablement_version_and_proxy() {
    let tree = HostTree::new("kubelet-service");
    let profile = "cluster: t\nkubernetes_version: \"1.30\"\nnode_network:\n  cidrs: [10.20.41.0/24]\npod_cidrs: [192.168.0.0/16]\nservice_cidrs: [10.96.0.0/12]\n";
    let missing = check(&tree, profile, &[]);
    assert_eq!(status(&missing, "Kubelet-Service"), "fail");
    tree.write("/lib/systemd/system/kubelet.service", KUBELET_UNIT)
        .write("/usr/bin/kubelet", "#!/bin/sh\necho Kubernetes v1.30.4\n");
    std::fs::set_permissions(
        tree.path("/usr/bin/kubelet"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let report = check(&tree, profile, &[]);
    let service = result(&report, "Kubelet-Service");
    assert_eq!(service["status"], "warn", "{service}");
    assert_eq!(service["evidence"]["version"], "v1.30.4", "{service}");
    // Enabled through an absolute wants link, resolved inside the tree.
    tree.symlink(
        "/lib/systemd/system/kubelet.service",
        "/etc/systemd/system/multi-user.target.wants/kubelet.service",
    );
    assert_eq!(status(&check(&tree, profile, &[]), "Kubelet-Service"), "ok");
    // A kubelet newer than the cluster is a skew kubeadm refuses.
    tree.write("/usr/bin/kubelet", "#!/bin/sh\necho Kubernetes v1.31.0\n");
    let newer = check(&tree, profile, &[]);
    assert_eq!(status(&newer, "Kubelet-Service"), "fail", "{newer}");

    assert_eq!(status(&newer, "Proxy-Env"), "ok");
    tree.write(
        "/etc/systemd/system/kubelet.service.d/http-proxy.conf",
        "[Service]\nEnvironment=\"HTTPS_PROXY=http://proxy.corp:3128\"\n",
    );
    let proxied = check(&tree, profile, &[]);
    let proxy = result(&proxied, "Proxy-Env");
    assert_eq!(proxy["status"], "fail", "{proxy}");
    assert!(
        proxy["message"].as_str().unwrap().contains("no NO_PROXY"),
        "{proxy}"
    );
    // NO_PROXY from an EnvironmentFile that misses the pod network.
    tree.write(
        "/etc/systemd/system/kubelet.service.d/http-proxy.conf",
        "[Service]\nEnvironment=\"HTTPS_PROXY=http://proxy.corp:3128\"\nEnvironmentFile=/etc/default/kubelet-proxy\n",
    )
    .write("/etc/default/kubelet-proxy", "NO_PROXY=localhost,10.0.0.0/8,.svc\n");
    let partial = check(&tree, profile, &[]);
    let proxy = result(&partial, "Proxy-Env");
    assert_eq!(proxy["status"], "fail", "{proxy}");
    assert!(
        proxy["message"]
            .as_str()
            .unwrap()
            .contains("pod network 192.168.0.0/16"),
        "{proxy}"
    );
    tree.write(
        "/etc/default/kubelet-proxy",
        "NO_PROXY=localhost,10.0.0.0/8,192.168.0.0/16,.svc\n",
    );
    assert_eq!(status(&check(&tree, profile, &[]), "Proxy-Env"), "ok");
}

#[test]
fn network_manager_without_and_with_unmanaged_calico_devices() {
    let tree = HostTree::new("nm");
    tree.write(
        "/etc/NetworkManager/NetworkManager.conf",
        "[main]\nplugins=keyfile\n",
    );
    // Not running: nothing to judge.
    assert_eq!(
        status(&check(&tree, "cluster: t\n", &[]), "NetworkManager-Calico"),
        "ok"
    );
    tree.mkdir("/run/systemd/units")
        .symlink("x", "/run/systemd/units/invocation:NetworkManager.service");
    let report = check(&tree, "cluster: t\ncalico:\n  encapsulation: vxlan\n", &[]);
    let nm = result(&report, "NetworkManager-Calico");
    assert_eq!(nm["status"], "fail", "{nm}");
    let message = nm["message"].as_str().unwrap();
    assert!(
        message.contains("cali*") && message.contains("vxlan.calico"),
        "{message}"
    );
    assert!(!message.contains("tunl0"), "{message}");
    tree.write(
        "/etc/NetworkManager/conf.d/calico.conf",
        "[keyfile]\nunmanaged-devices=interface-name:cali*;interface-name:tunl*;interface-name:vxlan.calico\n",
    );
    let report = check(&tree, "cluster: t\ncalico:\n  encapsulation: vxlan\n", &[]);
    assert_eq!(status(&report, "NetworkManager-Calico"), "ok", "{report}");
    // A later file that resets the list wins, as in NetworkManager.
    tree.write(
        "/etc/NetworkManager/conf.d/zz-override.conf",
        "[keyfile]\nunmanaged-devices=interface-name:docker0\n",
    );
    let report = check(&tree, "cluster: t\ncalico:\n  encapsulation: vxlan\n", &[]);
    assert_eq!(status(&report, "NetworkManager-Calico"), "fail", "{report}");
}

#[test]
fn binaries_on_a_scratch_path_per_kubernetes_version() {
    let tree = HostTree::new("binaries");
    for name in ["kubeadm", "ip", "iptables", "mount", "nsenter", "crictl"] {
        tree.write(&format!("/opt/k8s/bin/{name}"), "#!/bin/sh\n");
        std::fs::set_permissions(
            tree.path(&format!("/opt/k8s/bin/{name}")),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
    }
    // Present but not executable: not found.
    tree.write("/opt/k8s/bin/socat", "");
    let old = check(&tree, "cluster: t\nkubernetes_version: \"1.30\"\n", &[]);
    assert_eq!(status(&old, "Binary-ip"), "ok");
    assert_eq!(
        result(&old, "Binary-ip")["evidence"]["path"],
        "/opt/k8s/bin/ip"
    );
    assert_eq!(status(&old, "Binary-conntrack"), "fail");
    // kubeadm 1.28-1.31 patch releases no longer look for socat or ebtables.
    assert_eq!(status(&old, "Binary-socat"), "ok");
    assert_eq!(status(&old, "Binary-ebtables"), "ok");
    assert_eq!(
        result(&old, "Binary-socat")["evidence"]["checked_by_kubeadm"],
        false
    );
    let older = check(&tree, "cluster: t\nkubernetes_version: \"1.27\"\n", &[]);
    assert_eq!(status(&older, "Binary-socat"), "warn");
    assert_eq!(status(&older, "Binary-ebtables"), "warn");
    let new = check(&tree, "cluster: t\nkubernetes_version: \"1.32\"\n", &[]);
    // kube-proxy 1.32 does not use conntrack: kubeadm does not look for it.
    assert_eq!(status(&new, "Binary-conntrack"), "ok");
    assert!(
        result(&new, "Binary-conntrack")["message"]
            .as_str()
            .unwrap()
            .contains("kubernetes#126953"),
        "{new}"
    );
    assert_eq!(status(&new, "Binary-tc"), "warn");
    assert_eq!(status(&new, "Binary-crictl"), "ok");
    let current = check(&tree, "cluster: t\nkubernetes_version: \"1.34\"\n", &[]);
    assert_eq!(status(&current, "Binary-tc"), "ok");
    assert_eq!(status(&current, "Binary-ethtool"), "ok");
}

#[test]
fn resources_against_profile_minimums() {
    let tree = HostTree::new("resources");
    tree.write("/sys/devices/system/cpu/online", "0-1\n")
        .write("/proc/meminfo", "MemTotal:        2097152 kB\n");
    let report = check(
        &tree,
        "cluster: t\nresources:\n  min_cpus: 4\n  min_memory_mib: 1024\n",
        &[],
    );
    let cpu = result(&report, "Host-Cpu");
    assert_eq!(cpu["status"], "fail", "{cpu}");
    assert_eq!(cpu["evidence"]["cpus"], 2);
    assert_eq!(status(&report, "Host-Memory"), "ok");
    assert_eq!(
        result(&report, "Host-Memory")["evidence"]["memory_mib"],
        2048
    );
}

/// A TCP listener bound inside the namespace (the socket keeps the namespace it was made in).
fn listen_in(ns: &Netns, addr: &str) -> std::net::TcpListener {
    let path = format!("/run/netns/{}", ns.name);
    let addr = addr.to_string();
    std::thread::spawn(move || {
        let file = std::fs::File::open(&path).unwrap();
        nix::sched::setns(file, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        std::net::TcpListener::bind(addr).unwrap()
    })
    .join()
    .unwrap()
}

#[test]
fn api_server_open_refused_and_silent_in_a_namespace() {
    if let Some(reason) = netns_unavailable() {
        return skip(&reason);
    }
    let ns = Netns::new("apiserver");
    ns.add_nic("nodenic0", "nodepeer0", "10.91.0.1/24");
    ns.add_nic("othernic0", "otherpeer0", "10.92.0.1/24");
    let _listener = listen_in(&ns, "10.92.0.1:6443");
    let tree = HostTree::new("apiserver");
    tree.write(
        "/p.yaml",
        "cluster: t\nnode_network:\n  cidrs: [10.91.0.0/24]\napi_server: \"10.91.0.1:6443\"\n",
    );
    let profile = tree.path("/p.yaml");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "check",
            "--format",
            "json",
            "--host-root",
            tree.arg(),
            "--profile",
            profile.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let started = std::time::Instant::now();
        let out = ns.nodecheck(&args);
        (json_stdout(&out), started.elapsed())
    };
    // Open: the listener answers, but from othernic0, not the node NIC.
    let (report, _) = run(&["--api-server", "10.92.0.1:6443"]);
    let reach = result(&report, "ApiServer-Reach");
    assert_eq!(reach["status"], "fail", "{reach}"); // the profile's endpoint is refused
    let probes = reach["evidence"]["probes"].as_array().unwrap();
    let open = probes
        .iter()
        .find(|p| p["endpoint"] == "10.92.0.1:6443")
        .unwrap();
    assert_eq!(open["verdict"], "connected", "{open}");
    assert_eq!(open["local"], "10.92.0.1", "{open}");
    let refused = probes
        .iter()
        .find(|p| p["endpoint"] == "10.91.0.1:6443")
        .unwrap();
    assert_eq!(refused["verdict"], "refused", "{refused}");
    let message = reach["message"].as_str().unwrap();
    assert!(message.contains("not the node NIC nodenic0"), "{message}");
    assert!(message.contains("refuses"), "{message}");
    // Silent: an address on the node network nobody holds; bounded by 2 s.
    tree.write(
        "/p.yaml",
        "cluster: t\nnode_network:\n  cidrs: [10.91.0.0/24]\napi_server: \"10.91.0.77:6443\"\n",
    );
    let (report, elapsed) = run(&[]);
    let reach = result(&report, "ApiServer-Reach");
    assert_eq!(reach["status"], "fail", "{reach}");
    assert_eq!(
        reach["evidence"]["probes"][0]["verdict"], "timeout",
        "{reach}"
    );
    assert!(
        elapsed < std::time::Duration::from_secs(6),
        "took {elapsed:?}"
    );
    // Only the node NIC's endpoint, open: ok.
    let _node_listener = listen_in(&ns, "10.91.0.1:6443");
    tree.write(
        "/p.yaml",
        "cluster: t\nnode_network:\n  cidrs: [10.91.0.0/24]\napi_server: \"10.91.0.1:6443\"\n",
    );
    let (report, _) = run(&[]);
    assert_eq!(status(&report, "ApiServer-Reach"), "ok", "{report}");
}

#[test]
fn firewalld_and_ufw_rules_for_calico_and_kubelet() {
    let tree = HostTree::new("firewall");
    let profile = "cluster: t\ncalico:\n  encapsulation: vxlan\n";
    // Installed but not running: nothing to judge.
    tree.write("/usr/lib/systemd/system/firewalld.service", "[Service]\nExecStart=/usr/sbin/firewalld\n")
        .write("/etc/firewalld/firewalld.conf", "DefaultZone=public\n")
        .write(
            "/usr/lib/firewalld/zones/public.xml",
            "<?xml version=\"1.0\"?>\n<zone>\n  <service name=\"bgp\"/>\n  <port port=\"10250\" protocol=\"tcp\"/>\n</zone>\n",
        )
        .write(
            "/usr/lib/firewalld/services/bgp.xml",
            "<?xml version=\"1.0\"?>\n<service>\n  <port protocol=\"tcp\" port=\"179\"/>\n</service>\n",
        );
    assert_eq!(status(&check(&tree, profile, &[]), "Firewall-Active"), "ok");
    tree.mkdir("/run/systemd/units")
        .symlink("x", "/run/systemd/units/invocation:firewalld.service");
    let report = check(&tree, profile, &[]);
    let fw = result(&report, "Firewall-Active");
    assert_eq!(fw["status"], "warn", "{fw}");
    let message = fw["message"].as_str().unwrap();
    assert!(
        message.contains("4789/udp (VXLAN)") && message.contains("5473/tcp"),
        "{message}"
    );
    assert!(
        !message.contains("179/tcp"),
        "the bgp service opens 179: {message}"
    );
    // An /etc zone file overrides the packaged one.
    tree.write(
        "/etc/firewalld/zones/public.xml",
        "<zone>\n<service name=\"bgp\"/><port port=\"10250\" protocol=\"tcp\"/><port port=\"5473\" protocol=\"tcp\"/><port port=\"4789\" protocol=\"udp\"/>\n</zone>\n",
    );
    assert_eq!(status(&check(&tree, profile, &[]), "Firewall-Active"), "ok");
    // ufw enabled, default DROP, allowing only BGP.
    tree.write("/etc/ufw/ufw.conf", "ENABLED=yes\n")
        .write("/etc/default/ufw", "DEFAULT_INPUT_POLICY=\"DROP\"\n")
        .write(
            "/etc/ufw/user.rules",
            "### tuple ### allow tcp 179 0.0.0.0/0 any 0.0.0.0/0 in\n",
        );
    let report = check(&tree, profile, &[]);
    let fw = result(&report, "Firewall-Active");
    assert_eq!(fw["status"], "warn", "{fw}");
    assert!(
        fw["message"]
            .as_str()
            .unwrap()
            .contains("10250/tcp (kubelet) in ufw"),
        "{fw}"
    );
}
