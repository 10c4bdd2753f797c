//! Free space and inodes on the filesystems of `/var/lib/kubelet` (kubelet's `nodefs`) and the
//! runtime's root (containerd's `root`, by default `/var/lib/containerd`; CRI-O's `/var/lib/containers/storage`: the `imagefs`), from
//! `statvfs(2)` under the host root. Before the directory exists its nearest existing parent is
//! measured: the filesystem it will be created on.

use std::path::Path;

use crate::facts::preflight::{DiskRole, DiskSpace};
use crate::host_root::HostRoot;

/// kubelet's directory (its `nodefs`).
pub const KUBELET_DIRECTORY: &str = "/var/lib/kubelet";

/// kubelet's directory and the runtime's root: containerd's `root` from its configuration (and
/// imports), `/var/lib/containerd` when nothing sets it.
pub fn gather_disks(root: &HostRoot) -> Vec<DiskSpace> {
    let containerd = super::containerd_root::gather_containerd_dirs(root);
    let mut runtime = measure(root, DiskRole::Runtime, &containerd.root.0);
    runtime.configured_by = containerd.root.1;
    vec![measure(root, DiskRole::Kubelet, KUBELET_DIRECTORY), runtime]
}

fn measure(root: &HostRoot, role: DiskRole, path: &str) -> DiskSpace {
    let mut space = DiskSpace {
        role,
        path: path.to_string(),
        configured_by: None,
        measured: None,
        total_bytes: 0,
        available_bytes: 0,
        inodes_total: 0,
        inodes_free: 0,
        filesystem_id: 0,
        error: None,
    };
    let Some(existing) = Path::new(path)
        .ancestors()
        .find(|p| root.metadata(p).is_ok_and(|m| m.is_dir()))
    else {
        space.error = Some(format!("neither {path} nor any parent directory exists"));
        return space;
    };
    let measured = match root.path(existing) {
        Ok(p) => p,
        Err(e) => {
            space.error = Some(format!("{}: {e}", existing.display()));
            return space;
        }
    };
    match nix::sys::statvfs::statvfs(&measured) {
        Ok(s) => {
            let block = s.fragment_size();
            space.measured = Some(existing.display().to_string());
            space.total_bytes = s.blocks() * block;
            space.available_bytes = s.blocks_available() * block;
            space.inodes_total = s.files();
            space.inodes_free = s.files_available();
            space.filesystem_id = s.filesystem_id();
        }
        Err(e) => space.error = Some(format!("statvfs {}: {e}", existing.display())),
    }
    space
}
