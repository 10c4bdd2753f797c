//! Container runtime sockets present on the host (containerd, CRI-O, Docker, cri-dockerd): kubeadm
//! needs exactly one CRI endpoint, and two present make it ask which.

use std::os::unix::fs::FileTypeExt;

use crate::facts::RuntimeSocket;

/// Well-known runtime sockets, in the order kubeadm probes them.
pub const RUNTIME_SOCKETS: &[(&str, &str)] = &[
    ("containerd", "/run/containerd/containerd.sock"),
    ("cri-o", "/var/run/crio/crio.sock"),
    ("docker", "/var/run/docker.sock"),
    ("cri-dockerd", "/var/run/cri-dockerd.sock"),
];

/// Each well-known socket, `present` when the path exists and is a Unix socket.
pub fn gather_runtime_sockets(root: &crate::host_root::HostRoot) -> Vec<RuntimeSocket> {
    RUNTIME_SOCKETS
        .iter()
        .map(|(runtime, path)| RuntimeSocket {
            runtime: (*runtime).into(),
            path: (*path).into(),
            present: root.metadata(path).is_ok_and(|m| m.file_type().is_socket()),
        })
        .collect()
}
