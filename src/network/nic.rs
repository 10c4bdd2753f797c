//! The node's NICs as hardware: where a device sits on the PCI bus.

use crate::facts::Interface;

/// The PCI address of a device path (`pci0000:00/0000:00:15.0/0000:0b:00.0` gives `0000:0b:00.0`).
pub fn pci_address(iface: &Interface) -> Option<&str> {
    let path = iface.physical.as_ref()?.device_path.as_deref()?;
    path.split('/').rev().find(|c| looks_like_pci_address(c))
}

fn looks_like_pci_address(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 12 && b[4] == b':' && b[7] == b':' && b[10] == b'.'
}
