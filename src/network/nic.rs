//! The node's NICs as hardware: where a device sits on the PCI bus, and which naming scheme gave an
//! interface its name.

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

/// How an interface name was made, for explaining why two hosts name one NIC differently.
///
/// The rules follow udev's `net_id` builtin (systemd.net-naming-scheme(7)) and biosdevname: a
/// predictable name is a two-letter type prefix (`en` Ethernet, `wl` WLAN, `ww` WWAN, `ib`
/// InfiniBand, `sl` serial line IP) and one of net_id's kinds: `o` on-board index, `s` hotplug slot,
/// `x` MAC address, `p`/`P` PCI position (with USB `u` ports after it), `v` VIO slot, `a` ACPI
/// platform device, `b` BCMA core, `c` CCW bus ID, `d` devicetree alias, `i` netdevsim, `X` Xen VIF.
/// The kernel's own names are `eth<N>`, `wlan<N>` and `ib<N>`; biosdevname's are `em<port>` and
/// `p<slot>p<port>` (either with a `_<virtual function>` suffix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamingScheme {
    /// The kernel's enumeration order (predictable names off, or renamed by a rule); the prefix.
    Kernel(&'static str),
    /// systemd/udev predictable names; the type prefix.
    Predictable(&'static str),
    /// biosdevname.
    Biosdevname,
    Other,
}

impl NamingScheme {
    /// How reports name it: `eth* kernel naming`, `en* predictable naming`, `biosdevname naming`,
    /// `other naming`.
    pub fn label(self) -> String {
        match self {
            NamingScheme::Kernel(prefix) => format!("{prefix}* kernel naming"),
            NamingScheme::Predictable(prefix) => format!("{prefix}* predictable naming"),
            NamingScheme::Biosdevname => "biosdevname naming".to_string(),
            NamingScheme::Other => "other naming".to_string(),
        }
    }
}

/// The naming scheme an interface name follows (see [`NamingScheme`]). A VLAN or alias suffix
/// (`eth0.100`) keeps its parent's scheme.
pub fn naming_scheme(name: &str) -> NamingScheme {
    let digits_after = |prefix: &str| {
        name.strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
    };
    if let Some(prefix) = ["eth", "wlan", "ib"].into_iter().find(|p| digits_after(p)) {
        return NamingScheme::Kernel(prefix);
    }
    const PREDICTABLE_TYPES: [&str; 5] = ["en", "wl", "ww", "ib", "sl"];
    const NET_ID_KINDS: &[char] = &['o', 's', 'x', 'p', 'P', 'v', 'a', 'b', 'c', 'd', 'i', 'X'];
    if let Some(prefix) = PREDICTABLE_TYPES.into_iter().find(|p| {
        name.strip_prefix(p)
            .is_some_and(|rest| rest.len() > 1 && rest.starts_with(NET_ID_KINDS))
    }) {
        return NamingScheme::Predictable(prefix);
    }
    let biosdevname_port = |port: &str| port.starts_with(|c: char| c.is_ascii_digit());
    let biosdevname = name.strip_prefix("em").is_some_and(biosdevname_port)
        || name
            .strip_prefix('p')
            .and_then(|rest| rest.split_once('p'))
            .is_some_and(|(slot, port)| {
                !slot.is_empty()
                    && slot.bytes().all(|b| b.is_ascii_digit())
                    && biosdevname_port(port)
            });
    if biosdevname {
        NamingScheme::Biosdevname
    } else {
        NamingScheme::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn naming_schemes_follow_net_id_and_biosdevname() {
        for (name, prefix) in [
            ("eth3", "eth"),
            ("eth0.100", "eth"),
            ("wlan0", "wlan"),
            ("ib0", "ib"),
        ] {
            assert_eq!(naming_scheme(name), NamingScheme::Kernel(prefix), "{name}");
        }
        for (name, prefix) in [
            ("ens192", "en"),
            ("enp11s0", "en"),
            ("enp0s20f0u1", "en"),
            ("eno1", "en"),
            ("enx0a1b2c3d4e5f", "en"),
            ("enP1p3s0", "en"),
            ("enX0", "en"),
            ("enc0001", "en"),
            ("wlp2s0", "wl"),
            ("wwp0s20u4i6", "ww"),
            ("ibp5s0", "ib"),
        ] {
            assert_eq!(
                naming_scheme(name),
                NamingScheme::Predictable(prefix),
                "{name}"
            );
        }
        for name in ["em1", "em1_1", "p1p1", "p3p4_1"] {
            assert_eq!(naming_scheme(name), NamingScheme::Biosdevname, "{name}");
        }
        for name in [
            "bond0", "br0", "eth", "ethx", "en", "eno", "lan0", "enu1", "docker0", "pp1",
        ] {
            assert_eq!(naming_scheme(name), NamingScheme::Other, "{name}");
        }
        assert_eq!(naming_scheme("eth3").label(), "eth* kernel naming");
        assert_eq!(naming_scheme("ens192").label(), "en* predictable naming");
    }
}
