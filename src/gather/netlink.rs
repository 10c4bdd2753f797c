//! The one place that speaks rtnetlink: dumps links, addresses and main-table routes in the kernel's
//! order and converts them to nodecheck's own types, so raw netlink types never leave this file.
//!
//! `rtnetlink` changes its API on most minor releases; it is pinned in `Cargo.toml` and only the paths
//! it re-exports (`rtnetlink::packet_route`) are used, so two versions of the packet crate never meet.
//! Each dump runs on the gatherer's current-thread tokio runtime inside a timeout: a kernel that does
//! not answer becomes an error, never a hang.
//!
//! The dumps read the socket one datagram at a time and turn each message into a record before the
//! next datagram is read. (rtnetlink's `Handle` queues every decoded message of a dump before the
//! caller sees the first: about 13 KiB per interface, 65 MiB on a node with 5,000 interfaces.)

use std::net::IpAddr;
use std::time::Duration;

use rtnetlink::packet_core::{
    NetlinkMessage, NetlinkPayload, NlasIterator, ParseableParametrized, NLMSG_DONE, NLMSG_ERROR,
    NLMSG_NOOP, NLMSG_OVERRUN, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST,
};
use rtnetlink::packet_route::address::{AddressAttribute, AddressMessage, AddressScope};
use rtnetlink::packet_route::link::{
    AfSpecInet6, AfSpecUnspec, LinkAttribute, LinkExtentMask, LinkFlags, LinkHeader, LinkInfo,
    LinkMessage, Prop, State,
};
use rtnetlink::packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use rtnetlink::packet_route::{AddressFamily, RouteNetlinkMessage};
use rtnetlink::sys::protocols::NETLINK_ROUTE;
use rtnetlink::sys::{AsyncSocket, AsyncSocketExt, SocketAddr, TokioSocket};

use crate::facts::{ifname, Address, Family, Interface, Label, NextHop, Route};

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
        source: std::io::Error,
    },
    #[error("netlink {what} dump sent a message nodecheck cannot decode: {detail}")]
    Decode { what: &'static str, detail: String },
    #[error("netlink {what} dump did not finish within {} s", DUMP_TIMEOUT.as_secs())]
    Timeout { what: &'static str },
}

/// One link from an RTM_GETLINK dump: the interface as far as the link message describes it (no
/// addresses, master or physical device yet), and the indexes and names those are resolved from.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkRecord {
    pub interface: Interface,
    /// Index of the controller (bridge, bond) this link is enslaved to.
    pub controller_index: Option<u32>,
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

/// One main-table route from an RTM_GETROUTE dump: the route with its device names still unset,
/// and the interface indexes they are resolved from.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteRecord {
    pub route: Route,
    /// `RTA_OIF` of a single-path route.
    pub link_index: Option<u32>,
    /// Interface index of each of `route.nexthops`, in the same order.
    pub nexthop_link_indexes: Vec<Option<u32>>,
}

/// Everything one netlink session returns: links, addresses and main-table routes.
#[derive(Debug, Clone, Default)]
pub struct Dumps {
    pub links: Vec<LinkRecord>,
    pub addresses: Vec<AddressRecord>,
    pub routes: Vec<RouteRecord>,
    /// Facts left out or altered, by dotted path, with the reason (for `Facts::unavailable`).
    pub notes: Vec<(String, String)>,
}

/// A NETLINK_ROUTE socket connected to the kernel, with one reusable receive buffer.
pub struct RouteSocket {
    socket: TokioSocket,
    buffer: Vec<u8>,
    sequence: u32,
}

const NLMSG_HEADER_LEN: usize = 16;
/// `struct ifinfomsg`, before a link message's attributes.
const IFINFOMSG_LEN: usize = 16;
/// `struct ifaddrmsg`, before an address message's attributes.
const IFADDRMSG_LEN: usize = 8;
const IFLA_IFNAME: u16 = 3;
const IFLA_QDISC: u16 = 6;
const IFLA_IFALIAS: u16 = 20;
const IFLA_PHYS_PORT_NAME: u16 = 38;
const IFLA_PROP_LIST: u16 = 52;
const IFLA_ALT_IFNAME: u16 = 53;
const IFLA_PARENT_DEV_NAME: u16 = 56;
const IFLA_PARENT_DEV_BUS_NAME: u16 = 57;
const IFA_LABEL: u16 = 3;
const NLA_TYPE_MASK: u16 = 0x3fff;

/// A message of a dump, or the raw bytes of one the packet crate could not decode.
type Decoded = Result<RouteNetlinkMessage, Undecodable>;

/// Decodes one answer of an address or route dump whole with the packet crate.
fn decode_message(raw: &[u8]) -> Decoded {
    match NetlinkMessage::<RouteNetlinkMessage>::deserialize(raw) {
        Ok(NetlinkMessage {
            payload: NetlinkPayload::InnerMessage(inner),
            ..
        }) => Ok(inner),
        Ok(_) => Err(Undecodable {
            raw: raw.to_vec(),
            error: "not a route message".into(),
        }),
        Err(error) => Err(Undecodable {
            raw: raw.to_vec(),
            error: error.to_string(),
        }),
    }
}

/// A message the packet crate refused (e.g. an interface name that is not UTF-8: the kernel allows
/// any bytes but `/`, `:` and white space).
pub struct Undecodable {
    raw: Vec<u8>,
    error: String,
}

/// How often a dump the kernel reports as interrupted is tried.
const DUMP_ATTEMPTS: u32 = 3;

/// Larger than any datagram the kernel builds for a dump (it caps them at 32 KiB, or one message).
const RECEIVE_BUFFER_BYTES: usize = 256 * 1024;

impl RouteSocket {
    /// Opens the socket. Strict checking (Linux 4.20+) makes the kernel apply a route dump's table
    /// filter itself instead of filling a message for every local-table route (several per
    /// interface); older kernels refuse the option and get the filter applied here instead.
    pub fn open() -> Result<RouteSocket, NetlinkError> {
        let mut socket = TokioSocket::new(NETLINK_ROUTE).map_err(NetlinkError::Socket)?;
        let raw = socket.socket_mut();
        raw.bind_auto().map_err(NetlinkError::Socket)?;
        raw.connect(&SocketAddr::new(0, 0))
            .map_err(NetlinkError::Socket)?;
        let _ = raw.set_netlink_get_strict_chk(true);
        Ok(RouteSocket {
            socket,
            buffer: Vec::with_capacity(RECEIVE_BUFFER_BYTES),
            sequence: 0,
        })
    }

    /// Dumps with `request` and returns `convert`ed answers in order. A dump the kernel marks as
    /// interrupted (NLM_F_DUMP_INTR: the set changed meanwhile, e.g. IPv6 DAD finishing) is retried,
    /// up to [`DUMP_ATTEMPTS`] in all; the last attempt is kept whatever its state.
    async fn dump_records<M, T>(
        &mut self,
        what: &'static str,
        request: impl Fn() -> RouteNetlinkMessage,
        decode: impl Fn(&[u8]) -> Result<M, Undecodable>,
        mut convert: impl FnMut(Result<M, Undecodable>) -> Option<T>,
    ) -> Result<Vec<T>, NetlinkError> {
        let mut attempt = 1;
        loop {
            let mut records = Vec::new();
            let interrupted = self
                .dump(what, request(), |raw| records.extend(convert(decode(raw))))
                .await?;
            if !interrupted || attempt == DUMP_ATTEMPTS {
                return Ok(records);
            }
            attempt += 1;
        }
    }

    /// Sends one dump request and hands each answer's bytes (its netlink header included) to
    /// `each`, datagram by datagram, within [`DUMP_TIMEOUT`]; the end of the dump and errors are
    /// handled here. Returns whether the kernel flagged the dump as interrupted.
    async fn dump(
        &mut self,
        what: &'static str,
        request: RouteNetlinkMessage,
        mut each: impl FnMut(&[u8]),
    ) -> Result<bool, NetlinkError> {
        let io = |source| NetlinkError::Dump { what, source };
        self.sequence += 1;
        let sequence = self.sequence;
        let mut message = NetlinkMessage::from(request);
        message.header.flags = NLM_F_REQUEST | NLM_F_DUMP;
        message.header.sequence_number = sequence;
        message.finalize();
        let mut bytes = vec![0; message.buffer_len()];
        message.serialize(&mut bytes);
        let exchange = async {
            let mut interrupted = false;
            self.socket.send(&bytes).await.map_err(io)?;
            loop {
                self.buffer.clear();
                self.socket.recv(&mut self.buffer).await.map_err(io)?;
                let mut datagram = self.buffer.as_slice();
                while !datagram.is_empty() {
                    let malformed = || NetlinkError::Decode {
                        what,
                        detail: "a message is shorter than its header says".into(),
                    };
                    let header = datagram.get(..NLMSG_HEADER_LEN).ok_or_else(malformed)?;
                    let length = u32::from_ne_bytes(header[0..4].try_into().unwrap()) as usize;
                    let kind = u16::from_ne_bytes(header[4..6].try_into().unwrap());
                    let flags = u16::from_ne_bytes(header[6..8].try_into().unwrap());
                    let message_sequence = u32::from_ne_bytes(header[8..12].try_into().unwrap());
                    if length < NLMSG_HEADER_LEN || length > datagram.len() {
                        return Err(malformed());
                    }
                    let raw = &datagram[..length];
                    datagram = datagram.get((length + 3) & !3..).unwrap_or_default();
                    if message_sequence != sequence {
                        continue;
                    }
                    interrupted |= flags & NLM_F_DUMP_INTR != 0;
                    match kind {
                        NLMSG_DONE => return Ok(interrupted),
                        NLMSG_ERROR => {
                            let answer = NetlinkMessage::<RouteNetlinkMessage>::deserialize(raw)
                                .map_err(|e| NetlinkError::Decode {
                                    what,
                                    detail: e.to_string(),
                                })?;
                            if let NetlinkPayload::Error(e) = answer.payload {
                                if e.code.is_some() {
                                    return Err(io(e.to_io()));
                                }
                            }
                        }
                        NLMSG_NOOP | NLMSG_OVERRUN => {}
                        _ => each(raw),
                    }
                }
            }
        };
        match tokio::time::timeout(DUMP_TIMEOUT, exchange).await {
            Ok(result) => result,
            Err(_) => Err(NetlinkError::Timeout { what }),
        }
    }
}

/// Dumps links, addresses and routes over one netlink socket, on the caller's (current-thread)
/// tokio runtime.
pub async fn dump_all() -> Result<Dumps, NetlinkError> {
    let mut socket = RouteSocket::open()?;
    let mut notes = Vec::new();
    Ok(Dumps {
        links: dump_links(&mut socket, &mut notes).await?,
        addresses: dump_addresses(&mut socket, &mut notes).await?,
        routes: dump_routes(&mut socket, &mut notes).await?,
        notes,
    })
}

/// RTM_GETLINK dump, in the kernel's order.
///
/// A link whose name is not valid UTF-8 (the packet crate refuses such a message whole) is decoded
/// from a copy with its strings in display form, and keeps the kernel's bytes in `name_bytes`; a
/// link message that cannot be decoded even then is left out, noted.
pub async fn dump_links(
    socket: &mut RouteSocket,
    notes: &mut Vec<(String, String)>,
) -> Result<Vec<LinkRecord>, NetlinkError> {
    // RTEXT_FILTER_SKIP_STATS: no per-link and per-inet6 counters, about half of every message, none
    // of it used (kernels without the flag ignore it and send them anyway).
    let request = || {
        let mut message = LinkMessage::default();
        message
            .attributes
            .push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
        RouteNetlinkMessage::GetLink(message)
    };
    socket
        .dump_records("link", request, decode_link, |answer| match answer {
            Ok(record) => record,
            Err(undecodable) => {
                let link = link_with_undecodable_strings(&undecodable.raw);
                if link.is_none() {
                    let index = link_message_index(&undecodable.raw);
                    notes.push((
                        format!("interfaces[{index}]"),
                        format!("the link message for ifindex {index} could not be decoded ({}); the interface is left out", undecodable.error),
                    ));
                }
                link
            }
        })
        .await
}

const RTM_NEWLINK: u16 = 16;
const IFLA_ADDRESS: u16 = 1;
const IFLA_MTU: u16 = 4;
const IFLA_MASTER: u16 = 10;
const IFLA_OPERSTATE: u16 = 16;
const IFLA_LINKINFO: u16 = 18;
const IFLA_AF_SPEC: u16 = 26;
const IFLA_CARRIER: u16 = 33;
const IFLA_PERM_ADDRESS: u16 = 54;

/// The link attributes [`link_record`] reads; the others (statistics, queues, XDP, VF and per-family
/// configuration of families other than the one read...) are not decoded at all.
const LINK_ATTRIBUTES_READ: [u16; 12] = [
    IFLA_IFNAME,
    IFLA_ADDRESS,
    IFLA_PERM_ADDRESS,
    IFLA_MTU,
    IFLA_MASTER,
    IFLA_OPERSTATE,
    IFLA_CARRIER,
    IFLA_LINKINFO,
    IFLA_AF_SPEC,
    IFLA_PROP_LIST,
    IFLA_PARENT_DEV_NAME,
    IFLA_PARENT_DEV_BUS_NAME,
];

/// Decodes one answer of the link dump: `None` for a message that is not RTM_NEWLINK.
///
/// Only the attributes in [`LINK_ATTRIBUTES_READ`] are decoded, one
/// at a time, each with the packet crate, straight into the record. Decoding the whole message
/// collects every attribute into one vector first (about 40 of them, each as large as the largest
/// variant, the inline 64-bit statistics), which grows through several kilobyte-sized allocations
/// per link: on a node with a thousand links that allocation traffic cost more than the dump.
fn decode_link(raw: &[u8]) -> Result<Option<LinkRecord>, Undecodable> {
    let undecodable = |error: String| Undecodable {
        raw: raw.to_vec(),
        error,
    };
    if raw.len() < NLMSG_HEADER_LEN || u16::from_ne_bytes([raw[4], raw[5]]) != RTM_NEWLINK {
        return Ok(None);
    }
    let payload = &raw[NLMSG_HEADER_LEN..];
    let header = LinkHeader::parse(payload).map_err(|e| undecodable(e.to_string()))?;
    let mut link = empty_link_record(&header);
    for nla in NlasIterator::new(payload.get(IFINFOMSG_LEN..).unwrap_or_default()) {
        let nla = nla.map_err(|e| undecodable(e.to_string()))?;
        let kind = nla.kind() & NLA_TYPE_MASK;
        if !LINK_ATTRIBUTES_READ.contains(&kind) {
            continue;
        }
        let attribute = LinkAttribute::parse_with_param(&nla, header.interface_family)
            .map_err(|e| undecodable(e.to_string()))?;
        read_link_attribute(&mut link, &attribute);
    }
    Ok(Some(link))
}

/// A link message the packet crate refused, decoded after [`escape_strings`], with the name's
/// bytes kept when they are not UTF-8.
pub fn link_with_undecodable_strings(raw: &[u8]) -> Option<LinkRecord> {
    let escaped = escape_strings(raw, &LINK_STRINGS)?;
    let message = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&escaped).ok()?;
    let NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(link)) = message.payload else {
        return None;
    };
    let mut record = link_record(&link);
    let name = attribute_payload(raw, IFINFOMSG_LEN, IFLA_IFNAME)
        .map(|payload| payload.split(|b| *b == 0).next().unwrap_or_default());
    if let Some(name) = name.filter(|n| std::str::from_utf8(n).is_err()) {
        record.interface.name_bytes = Some(name.into());
    }
    Some(record)
}

/// RTM_GETADDR dump (IPv4 and IPv6), in the kernel's order.
pub async fn dump_addresses(
    socket: &mut RouteSocket,
    notes: &mut Vec<(String, String)>,
) -> Result<Vec<AddressRecord>, NetlinkError> {
    let request = || RouteNetlinkMessage::GetAddress(AddressMessage::default());
    socket
        .dump_records("address", request, decode_message, |answer| match answer {
            Ok(RouteNetlinkMessage::NewAddress(message)) => address_record(&message),
            Ok(_) => None,
            Err(undecodable) => {
                let address = address_with_undecodable_strings(&undecodable.raw);
                if address.is_none() {
                    notes.push(undecodable_note("addresses", &undecodable));
                }
                address
            }
        })
        .await
}

/// An address message the packet crate refused: IPv4 addresses carry their interface's name as a
/// label (IFA_LABEL), which is not UTF-8 when the name is not. The label is not used; the address is.
pub fn address_with_undecodable_strings(raw: &[u8]) -> Option<AddressRecord> {
    let escaped = escape_strings(raw, &ADDRESS_STRINGS)?;
    let message = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&escaped).ok()?;
    match message.payload {
        NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewAddress(address)) => {
            address_record(&address)
        }
        _ => None,
    }
}

/// RTM_GETROUTE dumps of the main table, IPv4 then IPv6, each in the kernel's order.
///
/// With strict checking the kernel honours the header's table; without it (old kernels) it ignores
/// header filters and returns every table, so the main table is also selected here. The request's
/// protocol and type must be unspecified: with strict checking they are filters too, and
/// rtnetlink's builder defaults (static, unicast) would return almost nothing.
///
/// Only answers of the requested family are kept: a kernel without IPv6 answers an AF_INET6 route
/// dump with every family's routes.
pub async fn dump_routes(
    socket: &mut RouteSocket,
    notes: &mut Vec<(String, String)>,
) -> Result<Vec<RouteRecord>, NetlinkError> {
    let mut routes = Vec::new();
    for family in [AddressFamily::Inet, AddressFamily::Inet6] {
        let request = || {
            let mut message = RouteMessage::default();
            message.header.address_family = family;
            message.header.table = RouteHeader::RT_TABLE_MAIN;
            message.header.protocol = RouteProtocol::Unspec;
            message.header.kind = RouteType::Unspec;
            message.header.scope = RouteScope::Universe;
            RouteNetlinkMessage::GetRoute(message)
        };
        let family_routes = socket
            .dump_records("route", request, decode_message, |answer| match answer {
                Ok(RouteNetlinkMessage::NewRoute(message))
                    if message.header.address_family == family =>
                {
                    route_record(&message)
                }
                Ok(_) => None,
                Err(undecodable) => {
                    notes.push(undecodable_note("routes", &undecodable));
                    None
                }
            })
            .await?;
        routes.extend(family_routes);
    }
    Ok(routes)
}

fn undecodable_note(path: &str, undecodable: &Undecodable) -> (String, String) {
    (
        path.to_string(),
        format!(
            "a netlink message could not be decoded and was left out: {}",
            undecodable.error
        ),
    )
}

/// The ifindex of a raw RTM_NEWLINK message (0 when too short to tell).
fn link_message_index(raw: &[u8]) -> i32 {
    raw.get(NLMSG_HEADER_LEN + 4..NLMSG_HEADER_LEN + 8)
        .map(|b| i32::from_ne_bytes(b.try_into().unwrap()))
        .unwrap_or(0)
}

/// The string attributes of one message type that the packet crate decodes as UTF-8 (and refuses the
/// whole message when one is not), where [`escape_strings`] looks for them.
pub struct StringAttributes {
    /// Length of the fixed header after the netlink header (`ifinfomsg`, `ifaddrmsg`).
    pub header_len: usize,
    /// Top-level attribute types holding a NUL-terminated string.
    pub strings: &'static [u16],
    /// Nested attribute types, with the string attribute types inside them.
    pub nested: &'static [(u16, &'static [u16])],
}

/// RTM_NEWLINK: the name, qdisc, alias, physical port name, parent device and bus names, and the
/// alternative names inside IFLA_PROP_LIST.
pub const LINK_STRINGS: StringAttributes = StringAttributes {
    header_len: IFINFOMSG_LEN,
    strings: &[
        IFLA_IFNAME,
        IFLA_QDISC,
        IFLA_IFALIAS,
        IFLA_PHYS_PORT_NAME,
        IFLA_PARENT_DEV_NAME,
        IFLA_PARENT_DEV_BUS_NAME,
    ],
    nested: &[(IFLA_PROP_LIST, &[IFLA_ALT_IFNAME])],
};

/// RTM_NEWADDR: the label (the interface's name, or `name:alias`).
pub const ADDRESS_STRINGS: StringAttributes = StringAttributes {
    header_len: IFADDRMSG_LEN,
    strings: &[IFA_LABEL],
    nested: &[],
};

/// Rewrites a raw message so that every string attribute `layout` names is valid UTF-8 (its
/// [`ifname::display`] form, `\xNN` for each invalid byte), fixing attribute and message lengths.
/// `None` when the message is malformed.
pub fn escape_strings(raw: &[u8], layout: &StringAttributes) -> Option<Vec<u8>> {
    let attributes_start = NLMSG_HEADER_LEN + layout.header_len;
    let mut out = raw.get(..attributes_start)?.to_vec();
    escape_attributes(
        raw.get(attributes_start..)?,
        layout.strings,
        layout.nested,
        &mut out,
    )?;
    let total = u32::try_from(out.len()).ok()?;
    out[0..4].copy_from_slice(&total.to_ne_bytes());
    Some(out)
}

fn escape_attributes(
    mut rest: &[u8],
    strings: &[u16],
    nested: &[(u16, &'static [u16])],
    out: &mut Vec<u8>,
) -> Option<()> {
    while rest.len() >= 4 {
        let length = usize::from(u16::from_ne_bytes([rest[0], rest[1]]));
        let kind = u16::from_ne_bytes([rest[2], rest[3]]);
        if length < 4 || length > rest.len() {
            return None;
        }
        let payload = &rest[4..length];
        let start = out.len();
        out.extend_from_slice(&[0; 4]);
        let bare = kind & NLA_TYPE_MASK;
        if strings.contains(&bare) {
            let text = payload.split(|b| *b == 0).next().unwrap_or_default();
            out.extend_from_slice(ifname::display(text).as_bytes());
            out.push(0);
        } else if let Some((_, inner)) = nested.iter().find(|(n, _)| *n == bare) {
            escape_attributes(payload, inner, &[], out)?;
        } else {
            out.extend_from_slice(payload);
        }
        let written = u16::try_from(out.len() - start).ok()?;
        out[start..start + 2].copy_from_slice(&written.to_ne_bytes());
        out[start + 2..start + 4].copy_from_slice(&kind.to_ne_bytes());
        out.resize((out.len() + 3) & !3, 0);
        rest = rest.get((length + 3) & !3..).unwrap_or_default();
    }
    Some(())
}

/// The payload of the first top-level attribute of type `kind` in a raw message.
fn attribute_payload(raw: &[u8], header_len: usize, kind: u16) -> Option<&[u8]> {
    let mut rest = raw.get(NLMSG_HEADER_LEN + header_len..)?;
    while rest.len() >= 4 {
        let length = usize::from(u16::from_ne_bytes([rest[0], rest[1]]));
        if length < 4 || length > rest.len() {
            return None;
        }
        if u16::from_ne_bytes([rest[2], rest[3]]) & NLA_TYPE_MASK == kind {
            return Some(&rest[4..length]);
        }
        rest = rest.get((length + 3) & !3..).unwrap_or_default();
    }
    None
}

fn link_record(message: &LinkMessage) -> LinkRecord {
    let mut link = empty_link_record(&message.header);
    for attribute in &message.attributes {
        read_link_attribute(&mut link, attribute);
    }
    link
}

/// A link as far as its header tells.
fn empty_link_record(header: &LinkHeader) -> LinkRecord {
    LinkRecord {
        interface: Interface {
            index: header.index,
            name: compact_str::CompactString::default(),
            name_bytes: None,
            altnames: Vec::new(),
            kind: None,
            physical: None,
            mac: None,
            permanent_mac: None,
            admin_up: header.flags.contains(LinkFlags::Up),
            operstate: "unknown".into(),
            carrier: None,
            mtu: 0,
            master: None,
            ipv6_disabled: None,
            addresses: Vec::new(),
            offload: None,
            flags: Some(header.flags.bits()),
        },
        controller_index: None,
        parent_device: None,
        parent_bus: None,
    }
}

/// Records what one link attribute says about the link.
fn read_link_attribute(link: &mut LinkRecord, attribute: &LinkAttribute) {
    let interface = &mut link.interface;
    match attribute {
        LinkAttribute::IfName(name) => interface.name = name.as_str().into(),
        LinkAttribute::PropList(props) => {
            for prop in props {
                if let Prop::AltIfName(alt) = prop {
                    interface.altnames.push(alt.as_str().into());
                }
            }
        }
        LinkAttribute::LinkInfo(infos) => {
            for info in infos {
                if let LinkInfo::Kind(kind) = info {
                    interface.kind = Some(kind.to_string().into());
                }
            }
        }
        LinkAttribute::Address(bytes) => interface.mac = hardware_address(bytes).map(Into::into),
        LinkAttribute::PermAddress(bytes) => {
            interface.permanent_mac = hardware_address(bytes).map(Into::into)
        }
        LinkAttribute::OperState(state) => interface.operstate = operstate_name(state),
        LinkAttribute::Carrier(c) => interface.carrier = Some(*c != 0),
        LinkAttribute::Mtu(mtu) => interface.mtu = *mtu,
        LinkAttribute::Controller(index) => link.controller_index = Some(*index),
        LinkAttribute::ParentDevName(name) => link.parent_device = Some(name.clone()),
        LinkAttribute::ParentDevBusName(bus) => link.parent_bus = Some(bus.clone()),
        LinkAttribute::AfSpecUnspec(specs) => {
            for spec in specs {
                if let AfSpecUnspec::Inet6(inet6) = spec {
                    for item in inet6 {
                        if let AfSpecInet6::DevConf(conf) = item {
                            interface.ipv6_disabled = Some(conf.disable_ipv6 != 0);
                        }
                    }
                }
            }
        }
        _ => {}
    }
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

fn operstate_name(state: &State) -> Label {
    match state {
        State::Unknown => "unknown".into(),
        State::NotPresent => "notpresent".into(),
        State::Down => "down".into(),
        State::LowerLayerDown => "lowerlayerdown".into(),
        State::Testing => "testing".into(),
        State::Dormant => "dormant".into(),
        State::Up => "up".into(),
        State::Other(n) => n.to_string().into(),
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

fn address_scope_name(scope: &AddressScope) -> Label {
    match scope {
        AddressScope::Universe => "global".into(),
        AddressScope::Site => "site".into(),
        AddressScope::Link => "link".into(),
        AddressScope::Host => "host".into(),
        AddressScope::Nowhere => "nowhere".into(),
        AddressScope::Other(n) => n.to_string().into(),
        _ => "unknown".into(),
    }
}

/// Names of the IFA_F_* bits, as `ip address` prints them. `0x01` is `secondary` for IPv4 and
/// `temporary` (a privacy address) for IPv6.
pub fn address_flag_names(bits: u32, family: Family) -> Vec<Label> {
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
                Label::new("temporary")
            } else {
                Label::new(name)
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
    let mut nexthop_link_indexes = Vec::new();
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
                    nexthops.push(NextHop {
                        gateway,
                        device: None,
                        // rtnh_hops holds weight - 1.
                        weight: u16::from(hop.hops) + 1,
                    });
                    nexthop_link_indexes
                        .push((hop.interface_index != 0).then_some(hop.interface_index));
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
        route: Route {
            family,
            destination,
            gateway,
            device: None,
            protocol: route_protocol_name(&header.protocol),
            route_type: route_type_name(&header.kind),
            scope: route_scope_name(&header.scope),
            metric,
            preferred_source,
            nexthops,
        },
        link_index,
        nexthop_link_indexes,
    })
}

fn route_ip(address: &RouteAddress) -> Option<IpAddr> {
    match address {
        RouteAddress::Inet(v4) => Some(IpAddr::V4(*v4)),
        RouteAddress::Inet6(v6) => Some(IpAddr::V6(*v6)),
        _ => None,
    }
}

fn route_protocol_name(protocol: &RouteProtocol) -> Label {
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
        RouteProtocol::Other(n) => return n.to_string().into(),
        _ => "unknown",
    };
    Label::new(name)
}

fn route_type_name(kind: &RouteType) -> Label {
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
        RouteType::Other(n) => return n.to_string().into(),
        _ => "unknown",
    };
    Label::new(name)
}

fn route_scope_name(scope: &RouteScope) -> Label {
    let name = match scope {
        RouteScope::Universe => "global",
        RouteScope::Site => "site",
        RouteScope::Link => "link",
        RouteScope::Host => "host",
        RouteScope::NoWhere => "nowhere",
        RouteScope::Other(n) => return n.to_string().into(),
        _ => "unknown",
    };
    Label::new(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Serialises `message` and replaces the second byte of each `marker` occurrence with 0xff, as
    /// the kernel would send a name or label that is not UTF-8.
    fn with_invalid_byte(message: RouteNetlinkMessage, marker: &[u8]) -> Vec<u8> {
        let mut netlink = NetlinkMessage::from(message);
        netlink.finalize();
        let mut raw = vec![0; netlink.buffer_len()];
        netlink.serialize(&mut raw);
        let mut from = 0;
        while let Some(at) = raw[from..].windows(marker.len()).position(|w| w == marker) {
            raw[from + at + 1] = 0xff;
            from += at + marker.len();
        }
        assert!(NetlinkMessage::<RouteNetlinkMessage>::deserialize(&raw).is_err());
        raw
    }

    #[test]
    fn link_message_with_non_utf8_strings_keeps_the_name_bytes() {
        let mut message = LinkMessage::default();
        message.header.index = 7;
        message.attributes.push(LinkAttribute::IfName("abc".into()));
        message.attributes.push(LinkAttribute::Mtu(1400));
        message
            .attributes
            .push(LinkAttribute::IfAlias("abd".into()));
        message
            .attributes
            .push(LinkAttribute::PropList(vec![Prop::AltIfName(
                "abe-long".into(),
            )]));
        let raw = with_invalid_byte(RouteNetlinkMessage::NewLink(message), b"ab");

        let record = link_with_undecodable_strings(&raw).unwrap();
        assert_eq!(record.interface.name, "a\\xffc");
        assert_eq!(record.interface.name_bytes.as_deref(), Some(&b"a\xffc"[..]));
        assert_eq!(record.interface.altnames, ["a\\xffe-long"]);
        assert_eq!(record.interface.mtu, 1400);
        assert_eq!(link_message_index(&raw), 7);
    }

    #[test]
    fn address_message_with_a_non_utf8_label_keeps_the_address() {
        let mut message = AddressMessage::default();
        message.header.family = AddressFamily::Inet;
        message.header.index = 9;
        message.header.prefix_len = 24;
        let ip: IpAddr = "10.9.9.1".parse().unwrap();
        message.attributes.push(AddressAttribute::Local(ip));
        message.attributes.push(AddressAttribute::Address(ip));
        message
            .attributes
            .push(AddressAttribute::Label("nx".into()));
        let raw = with_invalid_byte(RouteNetlinkMessage::NewAddress(message), b"nx");

        let record = address_with_undecodable_strings(&raw).unwrap();
        assert_eq!(record.link_index, 9);
        assert_eq!(record.address.address, ip);
        assert_eq!(record.address.prefix_len, 24);
    }

    #[test]
    fn malformed_messages_are_refused_not_misread() {
        assert!(escape_strings(&[0; 10], &LINK_STRINGS).is_none());
        let mut raw = vec![0u8; NLMSG_HEADER_LEN + IFINFOMSG_LEN];
        raw.extend_from_slice(&[200, 0, 3, 0, b'x', 0, 0, 0]); // attribute longer than the message
        assert!(escape_strings(&raw, &LINK_STRINGS).is_none());
        assert!(link_with_undecodable_strings(&raw).is_none());
    }

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
