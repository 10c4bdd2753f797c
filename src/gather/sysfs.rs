//! Physical-device detection from sysfs: physical NICs carry no netlink link kind, so a NIC is told
//! from a virtual link by where `/sys/class/net/<if>` points (below `/sys/devices`, not
//! `/sys/devices/virtual`), and its bus and driver by the `subsystem` and `driver` links of its parent
//! device. Only `readlink` is used, and only for interfaces that may be physical: a link with a
//! netlink kind (veth, bridge, vxlan, ...) and no parent device is virtual without asking sysfs, which
//! spares a lookup per cali* veth on a busy node.

use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use crate::facts::PhysicalDevice;
use crate::host_root::HostRoot;

const CLASS_NET: &str = "/sys/class/net";

/// What netlink already said about an interface: its link kind and parent device
/// (`IFLA_PARENT_DEV_*`, kernel 5.13+).
#[derive(Debug, Clone, Default)]
pub struct NetlinkHints<'a> {
    pub kind: Option<&'a str>,
    pub device: Option<&'a str>,
    pub bus: Option<&'a str>,
}

impl NetlinkHints<'_> {
    /// A link with a kind and no parent device is a software device: no sysfs lookup needed.
    pub fn certainly_virtual(&self) -> bool {
        self.kind.is_some() && self.device.is_none()
    }
}

/// The physical device behind `name`, or `None` for a virtual link or when sysfs does not list it.
pub fn physical_device(
    root: &HostRoot,
    name: &[u8],
    parent: NetlinkHints<'_>,
) -> Option<PhysicalDevice> {
    if parent.certainly_virtual() {
        return None;
    }
    // `/sys/class/net` itself is resolved inside the root; the per-interface links below it are
    // relative (`../../devices/...`) and resolve inside the root on their own.
    // The kernel's bytes: a name that is not UTF-8 is a directory of that name in sysfs too.
    let class_link = root
        .path(CLASS_NET)
        .ok()?
        .join(std::ffi::OsStr::from_bytes(name));
    let device_path = std::fs::read_link(&class_link).ok().and_then(|target| {
        device_path_from_class_link(&target.to_string_lossy(), &String::from_utf8_lossy(name))
    });
    if device_path.is_none() && parent.device.is_none() {
        return None;
    }
    let device_dir = class_link.join("device");
    let bus = parent
        .bus
        .map(str::to_string)
        .or_else(|| link_basename(&device_dir.join("subsystem")));
    let driver = link_basename(&device_dir.join("driver"));
    Some(PhysicalDevice {
        bus: bus.map(Into::into),
        device_path: device_path.map(Into::into),
        driver: driver.map(Into::into),
    })
}

fn link_basename(path: &PathBuf) -> Option<String> {
    let target = std::fs::read_link(path).ok()?;
    target.file_name().map(|n| n.to_string_lossy().into_owned())
}

/// The device path below `/sys/devices` from the target of the `/sys/class/net/<if>` symlink
/// (`../../devices/pci0000:00/0000:00:03.0/virtio2/net/eth0` → `pci0000:00/0000:00:03.0/virtio2`);
/// `None` for virtual links (`../../devices/virtual/net/br0`).
pub fn device_path_from_class_link(target: &str, name: &str) -> Option<String> {
    let below_devices = target
        .trim_start_matches("../")
        .trim_start_matches("/sys/")
        .strip_prefix("devices/")?;
    if below_devices.starts_with("virtual/") {
        return None;
    }
    let suffix = format!("/net/{name}");
    let device = below_devices.strip_suffix(&suffix).unwrap_or(below_devices);
    Some(device.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_link_of_a_real_nic_gives_its_device_path() {
        assert_eq!(
            device_path_from_class_link(
                "../../devices/pci0000:00/0000:00:03.0/virtio2/net/eth0",
                "eth0"
            )
            .as_deref(),
            Some("pci0000:00/0000:00:03.0/virtio2")
        );
        assert_eq!(
            device_path_from_class_link(
                "../../devices/pci0000:00/0000:00:1f.6/net/ens192",
                "ens192"
            )
            .as_deref(),
            Some("pci0000:00/0000:00:1f.6")
        );
    }

    #[test]
    fn kinds_without_parent_skip_sysfs() {
        let veth = NetlinkHints {
            kind: Some("veth"),
            ..Default::default()
        };
        assert!(veth.certainly_virtual());
        assert_eq!(
            physical_device(&HostRoot::live(), b"no-such-interface", veth),
            None
        );
        let nic = NetlinkHints {
            device: Some("virtio2"),
            bus: Some("virtio"),
            ..Default::default()
        };
        assert!(!nic.certainly_virtual());
    }

    #[test]
    fn virtual_links_are_not_physical() {
        assert_eq!(
            device_path_from_class_link("../../devices/virtual/net/docker0", "docker0"),
            None
        );
        assert_eq!(device_path_from_class_link("garbage", "x"), None);
    }
}
