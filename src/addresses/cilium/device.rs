//! One link as Cilium's device table holds it, built from a snapshot: its raw `IFF_*` flags, its
//! master's index and kind, whether it has a hardware address, and the routes Cilium attributes to
//! it. Cilium reads every routing table; a snapshot holds the main table, so the local table's
//! routes are derived: the kernel adds one per address of an up link (`local <addr>`), so a link
//! with a global-unicast address has a global-unicast route. A multipath route names no single
//! link (netlink reports it with link index 0), so Cilium attributes it to none of its next hops.

use crate::addresses::go_is_global_unicast;
use crate::facts::{Facts, Interface};

pub const IFF_UP: u32 = 0x1;
pub const IFF_LOOPBACK: u32 = 0x8;
pub const IFF_SLAVE: u32 = 0x800;

/// A link with what Cilium's selection reads of it.
#[derive(Debug, Clone)]
pub struct DeviceView<'f> {
    pub iface: &'f Interface,
    /// `RawFlags`; rebuilt from `admin_up`, the name and the master when the snapshot predates the
    /// `flags` fact (`flags_rebuilt` then).
    pub raw_flags: u32,
    pub flags_rebuilt: bool,
    /// The master's ifindex (`MasterIndex`), 0 for none.
    pub master_index: u32,
    pub master_kind: Option<&'f str>,
    pub has_mac: bool,
    /// The link kind (`Type()`): `veth`, `bridge`, `openvswitch`, `bond`, `vlan`, ...; physical
    /// NICs carry none (netlink's `device`).
    pub kind: Option<&'f str>,
    /// The first route Cilium attributes to the link with a global-unicast destination, described.
    pub global_route: Option<String>,
    /// A main-table default route through this link alone.
    pub has_default_route: bool,
    /// A main-table route through this link alone that is a default route or has a
    /// global-unicast destination (1.14 considers only these links).
    pub in_main_routes: bool,
}

impl<'f> DeviceView<'f> {
    pub fn name(&self) -> &'f str {
        self.iface.name.as_str()
    }

    /// Whether the link's kind is one of `kinds`.
    pub fn is_kind(&self, kinds: &[&str]) -> bool {
        self.kind.is_some_and(|k| kinds.contains(&k))
    }
}

fn rebuilt_flags(iface: &Interface, master_kind: Option<&str>) -> u32 {
    let mut flags = 0;
    if iface.admin_up {
        flags |= IFF_UP;
    }
    if iface.name == "lo" && iface.kind.is_none() {
        flags |= IFF_LOOPBACK;
    }
    if master_kind == Some("bond") {
        flags |= IFF_SLAVE;
    }
    flags
}

/// Every link of the snapshot in ifindex order (the order Cilium's device table lists them).
pub fn devices(facts: &Facts) -> Vec<DeviceView<'_>> {
    let mut out: Vec<DeviceView> = facts
        .interfaces
        .iter()
        .map(|iface| {
            let master = iface
                .master
                .as_deref()
                .and_then(|m| facts.interfaces.iter().find(|i| i.name == m));
            let master_kind = master.and_then(|m| m.kind.as_deref());
            let own_routes = facts
                .routes
                .iter()
                .filter(|r| r.nexthops.is_empty() && r.device.as_deref() == Some(&iface.name));
            let mut global_route = None;
            let mut has_default_route = false;
            let mut in_main_routes = false;
            for r in own_routes {
                let global = go_is_global_unicast(&r.destination.addr());
                if r.is_default() {
                    has_default_route = true;
                }
                in_main_routes |= global || r.is_default();
                if global_route.is_none() && global {
                    global_route = Some(format!("route {} dev {}", r.destination, iface.name));
                }
            }
            if global_route.is_none() {
                global_route = iface
                    .addresses
                    .iter()
                    .find(|a| go_is_global_unicast(&a.address))
                    .map(|a| format!("local-table route {} dev {}", a.address, iface.name));
            }
            DeviceView {
                iface,
                raw_flags: iface
                    .flags
                    .unwrap_or_else(|| rebuilt_flags(iface, master_kind)),
                flags_rebuilt: iface.flags.is_none(),
                master_index: master.map_or(0, |m| m.index),
                master_kind,
                has_mac: iface.mac.is_some(),
                kind: iface.kind.as_deref(),
                global_route,
                has_default_route,
                in_main_routes,
            }
        })
        .collect();
    out.sort_by_key(|d| d.iface.index);
    out
}
