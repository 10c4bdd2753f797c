//! The one place that speaks rtnetlink: dumps links, addresses and main-table routes in the kernel's
//! order and converts them to nodecheck's own types, so raw netlink types never leave this file.
//!
//! `rtnetlink` changes its API on most minor releases; it is pinned in `Cargo.toml` and only the paths
//! it re-exports (`rtnetlink::packet_route`) are used, so two versions of the packet crate never meet.
//! Each dump runs on the gatherer's current-thread tokio runtime inside a timeout: a kernel that does not answer
//! becomes an error, never a hang.

use std::net::IpAddr;
use std::time::Duration;

use futures_util::TryStreamExt;
use rtnetlink::packet_route::address::{AddressAttribute, AddressMessage, AddressScope};
use rtnetlink::packet_route::link::{
    AfSpecInet6, AfSpecUnspec, LinkAttribute, LinkFlags, LinkInfo, LinkMessage, Prop, State,
};
use rtnetlink::packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use rtnetlink::packet_route::AddressFamily;

use crate::facts::{Address, Family};

/// How long one dump may take before it is abandoned.
const DUMP_TIMEOUT: Duration = Duration::from_secs(5);

/// A netlink dump failed or did not answer in time.
#[derive(Debug, thiserror::Error)]
pub enum NetlinkError {
    #[error("cannot open a netlink route socket: {0}")]
    Socket(#[source] std::io::Error),
    #[error("netlink {what} dump failed: {source}")]
    Dump {
        what: &'static str,
        #[source]
        source: rtnetlink::Error,
    },
    #[error("netlink {what} dump did not finish within {} s", DUMP_TIMEOUT.as_secs())]
    Timeout { what: &'static str },
}

/// One link from an RTM_GETLINK dump.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkRecord {
    pub index: u32,
    pub name: String,
    pub altnames: Vec<String>,
    /// `IFLA_INFO_KIND`; `None` for physical NICs and `lo`.
    pub kind: Option<String>,
    pub mac: Option<String>,
    pub permanent_mac: Option<String>,
    pub admin_up: bool,
    pub operstate: String,
    pub carrier: Option<bool>,
    pub mtu: u32,
    /// Index of the controller (bridge, bond) this link is enslaved to.
    pub controller_index: Option<u32>,
    /// `disable_ipv6` from the inet6 device configuration in `IFLA_AF_SPEC`; `None` when the kernel
    /// reports no inet6 configuration (IPv6 off in the kernel).
    pub ipv6_disabled: Option<bool>,
    /// `IFLA_PARENT_DEV_NAME` / `IFLA_PARENT_DEV_BUS_NAME` (kernel 5.13+): set for real devices.
    pub parent_device: Option<String>,
    pub parent_bus: Option<String>,
}

/// One address from an RTM_GETADDR dump, with the index of the link it is on.
#[derive(Debug, Clone, PartialEq)]
pub struct AddressRecord {
    pub link_index: u32,
    pub address: Address,
}

/// One next hop of a route, with an interface index rather than a name.
#[derive(Debug, Clone, PartialEq)]
pub struct NextHopRecord {
    pub gateway: Option<IpAddr>,
    pub link_index: Option<u32>,
    pub weight: u16,
}

/// One main-table route from an RTM_GETROUTE dump.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteRecord {
    pub family: Family,
    pub destination: ipnet::IpNet,
    pub gateway: Option<IpAddr>,
    pub link_index: Option<u32>,
    pub protocol: String,
    pub route_type: String,
    pub scope: String,
    pub metric: Option<u32>,
    pub preferred_source: Option<IpAddr>,
    pub nexthops: Vec<NextHopRecord>,
}

/// Everything one netlink session returns: links, addresses and main-table routes.
#[derive(Debug, Clone, Default)]
pub struct Dumps {
    pub links: Vec<LinkRecord>,
    pub addresses: Vec<AddressRecord>,
    pub routes: Vec<RouteRecord>,
}

/// Dumps links, addresses and routes over one netlink connection. Runs on the caller's (current-thread)
/// tokio runtime; the connection task is spawned on it and stopped afterwards.
pub async fn dump_all() -> Result<Dumps, NetlinkError> {
    let (connection, handle, _) = rtnetlink::new_connection().map_err(NetlinkError::Socket)?;
    // Without the connection task running, every request waits forever.
    let connection_task = tokio::spawn(connection);
    let result = async {
        Ok(Dumps {
            links: dump_links(&handle).await?,
            addresses: dump_addresses(&handle).await?,
            routes: dump_routes(&handle).await?,
        })
    }
    .await;
    connection_task.abort();
    result
}

async fn timed<T>(
    what: &'static str,
    fut: impl std::future::Future<Output = Result<T, rtnetlink::Error>>,
) -> Result<T, NetlinkError> {
    match tokio::time::timeout(DUMP_TIMEOUT, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(source)) => Err(NetlinkError::Dump { what, source }),
        Err(_) => Err(NetlinkError::Timeout { what }),
    }
}

/// RTM_GETLINK dump, in the kernel's order.
pub async fn dump_links(handle: &rtnetlink::Handle) -> Result<Vec<LinkRecord>, NetlinkError> {
    let messages: Vec<LinkMessage> =
        timed("link", handle.link().get().execute().try_collect()).await?;
    Ok(messages.iter().map(link_record).collect())
}

/// RTM_GETADDR dump (IPv4 and IPv6), in the kernel's order.
pub async fn dump_addresses(
    handle: &rtnetlink::Handle,
) -> Result<Vec<AddressRecord>, NetlinkError> {
    let messages: Vec<AddressMessage> =
        timed("address", handle.address().get().execute().try_collect()).await?;
    Ok(messages.iter().filter_map(address_record).collect())
}

/// RTM_GETROUTE dumps of the main table, IPv4 then IPv6, each in the kernel's order.
///
/// The connection does not enable strict checking, so the kernel ignores header filters and returns
/// every table: the main table is selected here. (With strict checking the request's protocol and
/// type would have to be unspecified, or nothing comes back.)
pub async fn dump_routes(handle: &rtnetlink::Handle) -> Result<Vec<RouteRecord>, NetlinkError> {
    let mut routes = Vec::new();
    for family in [AddressFamily::Inet, AddressFamily::Inet6] {
        let mut request = RouteMessage::default();
        request.header.address_family = family;
        request.header.table = RouteHeader::RT_TABLE_UNSPEC;
        request.header.protocol = RouteProtocol::Unspec;
        request.header.kind = RouteType::Unspec;
        request.header.scope = RouteScope::Universe;
        let messages: Vec<RouteMessage> =
            timed("route", handle.route().get(request).execute().try_collect()).await?;
        routes.extend(messages.iter().filter_map(route_record));
    }
    Ok(routes)
}

fn link_record(message: &LinkMessage) -> LinkRecord {
    let mut link = LinkRecord {
        index: message.header.index,
        name: String::new(),
        altnames: Vec::new(),
        kind: None,
        mac: None,
        permanent_mac: None,
        admin_up: message.header.flags.contains(LinkFlags::Up),
        operstate: "unknown".into(),
        carrier: None,
        mtu: 0,
        controller_index: None,
        ipv6_disabled: None,
        parent_device: None,
        parent_bus: None,
    };
    for attribute in &message.attributes {
        match attribute {
            LinkAttribute::IfName(name) => link.name = name.clone(),
            LinkAttribute::PropList(props) => {
                for prop in props {
                    if let Prop::AltIfName(alt) = prop {
                        link.altnames.push(alt.clone());
                    }
                }
            }
            LinkAttribute::LinkInfo(infos) => {
                for info in infos {
                    if let LinkInfo::Kind(kind) = info {
                        link.kind = Some(kind.to_string());
                    }
                }
            }
            LinkAttribute::Address(bytes) => link.mac = hardware_address(bytes),
            LinkAttribute::PermAddress(bytes) => link.permanent_mac = hardware_address(bytes),
            LinkAttribute::OperState(state) => link.operstate = operstate_name(state),
            LinkAttribute::Carrier(c) => link.carrier = Some(*c != 0),
            LinkAttribute::Mtu(mtu) => link.mtu = *mtu,
            LinkAttribute::Controller(index) => link.controller_index = Some(*index),
            LinkAttribute::ParentDevName(name) => link.parent_device = Some(name.clone()),
            LinkAttribute::ParentDevBusName(bus) => link.parent_bus = Some(bus.clone()),
            LinkAttribute::AfSpecUnspec(specs) => {
                for spec in specs {
                    if let AfSpecUnspec::Inet6(inet6) = spec {
                        for item in inet6 {
                            if let AfSpecInet6::DevConf(conf) = item {
                                link.ipv6_disabled = Some(conf.disable_ipv6 != 0);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    link
}

/// `aa:bb:cc:dd:ee:ff`; `None` for links without a hardware address (all zero or empty, as for `lo`
/// or tunnels, which report an IPv4 address here instead).
fn hardware_address(bytes: &[u8]) -> Option<String> {
    if bytes.is_empty() || bytes.iter().all(|b| *b == 0) {
        return None;
    }
    Some(
        bytes
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":"),
    )
}

fn operstate_name(state: &State) -> String {
    match state {
        State::Unknown => "unknown".into(),
        State::NotPresent => "notpresent".into(),
        State::Down => "down".into(),
        State::LowerLayerDown => "lowerlayerdown".into(),
        State::Testing => "testing".into(),
        State::Dormant => "dormant".into(),
        State::Up => "up".into(),
        State::Other(n) => n.to_string(),
        _ => "unknown".into(),
    }
}

fn address_record(message: &AddressMessage) -> Option<AddressRecord> {
    let mut local = None;
    let mut address = None;
    let mut flags = u32::from(message.header.flags.bits());
    for attribute in &message.attributes {
        match attribute {
            AddressAttribute::Local(ip) => local = Some(*ip),
            AddressAttribute::Address(ip) => address = Some(*ip),
            AddressAttribute::Flags(f) => flags = f.bits(),
            _ => {}
        }
    }
    // IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer on point-to-point links.
    let own = local.or(address)?;
    let peer = match (local, address) {
        (Some(l), Some(a)) if l != a => Some(a),
        _ => None,
    };
    let family = Family::of(&own);
    Some(AddressRecord {
        link_index: message.header.index,
        address: Address {
            family,
            address: own,
            prefix_len: message.header.prefix_len,
            scope: address_scope_name(&message.header.scope),
            flags: address_flag_names(flags, family),
            peer,
        },
    })
}

fn address_scope_name(scope: &AddressScope) -> String {
    match scope {
        AddressScope::Universe => "global".into(),
        AddressScope::Site => "site".into(),
        AddressScope::Link => "link".into(),
        AddressScope::Host => "host".into(),
        AddressScope::Nowhere => "nowhere".into(),
        AddressScope::Other(n) => n.to_string(),
        _ => "unknown".into(),
    }
}

/// Names of the IFA_F_* bits, as `ip address` prints them. `0x01` is `secondary` for IPv4 and
/// `temporary` (a privacy address) for IPv6.
pub fn address_flag_names(bits: u32, family: Family) -> Vec<String> {
    const NAMES: [(u32, &str); 12] = [
        (0x01, "secondary"),
        (0x02, "nodad"),
        (0x04, "optimistic"),
        (0x08, "dadfailed"),
        (0x10, "homeaddress"),
        (0x20, "deprecated"),
        (0x40, "tentative"),
        (0x80, "permanent"),
        (0x100, "mngtmpaddr"),
        (0x200, "noprefixroute"),
        (0x400, "autojoin"),
        (0x800, "stable-privacy"),
    ];
    NAMES
        .iter()
        .filter(|(bit, _)| bits & bit != 0)
        .map(|(bit, name)| {
            if *bit == 0x01 && family == Family::Ipv6 {
                "temporary".to_string()
            } else {
                (*name).to_string()
            }
        })
        .collect()
}

fn route_record(message: &RouteMessage) -> Option<RouteRecord> {
    let header = &message.header;
    let mut table = u32::from(header.table);
    let mut destination = None;
    let mut gateway = None;
    let mut link_index = None;
    let mut metric = None;
    let mut preferred_source = None;
    let mut nexthops = Vec::new();
    for attribute in &message.attributes {
        match attribute {
            RouteAttribute::Table(t) => table = *t,
            RouteAttribute::Destination(a) => destination = route_ip(a),
            RouteAttribute::Gateway(a) => gateway = route_ip(a),
            RouteAttribute::Oif(i) => link_index = Some(*i),
            RouteAttribute::Priority(p) => metric = Some(*p),
            RouteAttribute::PrefSource(a) => preferred_source = route_ip(a),
            RouteAttribute::MultiPath(hops) => {
                for hop in hops {
                    let gateway = hop.attributes.iter().find_map(|a| match a {
                        RouteAttribute::Gateway(g) => route_ip(g),
                        _ => None,
                    });
                    nexthops.push(NextHopRecord {
                        gateway,
                        link_index: (hop.interface_index != 0).then_some(hop.interface_index),
                        // rtnh_hops holds weight - 1.
                        weight: u16::from(hop.hops) + 1,
                    });
                }
            }
            _ => {}
        }
    }
    if table != u32::from(RouteHeader::RT_TABLE_MAIN) {
        return None;
    }
    let family = match header.address_family {
        AddressFamily::Inet => Family::Ipv4,
        AddressFamily::Inet6 => Family::Ipv6,
        _ => return None,
    };
    let unspecified: IpAddr = match family {
        Family::Ipv4 => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
        Family::Ipv6 => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
    };
    let destination = ipnet::IpNet::new(
        destination.unwrap_or(unspecified),
        header.destination_prefix_length,
    )
    .ok()?;
    Some(RouteRecord {
        family,
        destination,
        gateway,
        link_index,
        protocol: route_protocol_name(&header.protocol),
        route_type: route_type_name(&header.kind),
        scope: route_scope_name(&header.scope),
        metric,
        preferred_source,
        nexthops,
    })
}

fn route_ip(address: &RouteAddress) -> Option<IpAddr> {
    match address {
        RouteAddress::Inet(v4) => Some(IpAddr::V4(*v4)),
        RouteAddress::Inet6(v6) => Some(IpAddr::V6(*v6)),
        _ => None,
    }
}

fn route_protocol_name(protocol: &RouteProtocol) -> String {
    let name = match protocol {
        RouteProtocol::Unspec => "unspec",
        RouteProtocol::IcmpRedirect => "redirect",
        RouteProtocol::Kernel => "kernel",
        RouteProtocol::Boot => "boot",
        RouteProtocol::Static => "static",
        RouteProtocol::Gated => "gated",
        RouteProtocol::Ra => "ra",
        RouteProtocol::Mrt => "mrt",
        RouteProtocol::Zebra => "zebra",
        RouteProtocol::Bird => "bird",
        RouteProtocol::DnRouted => "dnrouted",
        RouteProtocol::Xorp => "xorp",
        RouteProtocol::Ntk => "ntk",
        RouteProtocol::Dhcp => "dhcp",
        RouteProtocol::Mrouted => "mrouted",
        RouteProtocol::KeepAlived => "keepalived",
        RouteProtocol::Babel => "babel",
        RouteProtocol::Bgp => "bgp",
        RouteProtocol::Isis => "isis",
        RouteProtocol::Ospf => "ospf",
        RouteProtocol::Rip => "rip",
        RouteProtocol::Eigrp => "eigrp",
        RouteProtocol::Other(n) => return n.to_string(),
        _ => "unknown",
    };
    name.to_string()
}

fn route_type_name(kind: &RouteType) -> String {
    let name = match kind {
        RouteType::Unspec => "unspec",
        RouteType::Unicast => "unicast",
        RouteType::Local => "local",
        RouteType::Broadcast => "broadcast",
        RouteType::Anycast => "anycast",
        RouteType::Multicast => "multicast",
        RouteType::BlackHole => "blackhole",
        RouteType::Unreachable => "unreachable",
        RouteType::Prohibit => "prohibit",
        RouteType::Throw => "throw",
        RouteType::Nat => "nat",
        RouteType::ExternalResolve => "xresolve",
        RouteType::Other(n) => return n.to_string(),
        _ => "unknown",
    };
    name.to_string()
}

fn route_scope_name(scope: &RouteScope) -> String {
    let name = match scope {
        RouteScope::Universe => "global",
        RouteScope::Site => "site",
        RouteScope::Link => "link",
        RouteScope::Host => "host",
        RouteScope::NoWhere => "nowhere",
        RouteScope::Other(n) => return n.to_string(),
        _ => "unknown",
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hardware_address_is_lower_hex_and_zero_is_none() {
        assert_eq!(
            hardware_address(&[0x02, 0xAB, 0, 0, 0, 1]).as_deref(),
            Some("02:ab:00:00:00:01")
        );
        assert_eq!(hardware_address(&[0; 6]), None);
        assert_eq!(hardware_address(&[]), None);
    }

    #[test]
    fn flag_0x01_is_secondary_for_ipv4_and_temporary_for_ipv6() {
        assert_eq!(
            address_flag_names(0x81, Family::Ipv4),
            vec!["secondary", "permanent"]
        );
        assert_eq!(
            address_flag_names(0x61, Family::Ipv6),
            vec!["temporary", "deprecated", "tentative"]
        );
        assert!(address_flag_names(0, Family::Ipv4).is_empty());
    }
}
