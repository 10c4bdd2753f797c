//! Listening TCP ports, so checks can tell whether kubelet's 10250 or the API server's 6443 is
//! already taken.
//!
//! The kernel is asked over `NETLINK_SOCK_DIAG` for listening sockets only (what `ss -tln` does): it
//! then walks just the listening hash. Reading `/proc/net/tcp{,6}` walks the whole established hash
//! (262,144 buckets on a 2-CPU VM: about 3 ms per file, more than the rest of gathering together);
//! it is the fallback when sock_diag is unavailable (no `inet_diag` in the kernel), parsed for
//! sockets in state `0A` (LISTEN).

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::facts::ListeningPort;

const TCP_LISTEN: &str = "0A";

/// Listening TCP sockets, IPv4 then IPv6, one entry per endpoint.
pub fn gather_listening_ports(
    root: &crate::host_root::HostRoot,
    unavailable: &mut std::collections::BTreeMap<String, String>,
) -> Vec<ListeningPort> {
    let mut sockets = Vec::new();
    let mut diag_failed = None;
    for (family, protocol) in [(libc::AF_INET, "tcp"), (libc::AF_INET6, "tcp6")] {
        match sock_diag::dump_tcp_listeners(family as u8) {
            Ok(found) => sockets.extend(found.into_iter().map(|(address, port)| ListeningPort {
                protocol: protocol.to_string(),
                address,
                port,
            })),
            Err(e) => {
                diag_failed = Some(e);
                break;
            }
        }
    }
    if diag_failed.is_some() {
        sockets = read_proc_net_tcp(root, unavailable);
    }
    dedupe(sockets)
}

/// SO_REUSEPORT listeners appear once per socket; one entry per endpoint, first one kept.
fn dedupe(sockets: Vec<ListeningPort>) -> Vec<ListeningPort> {
    let mut seen = HashSet::new();
    sockets
        .into_iter()
        .filter(|p| seen.insert((p.protocol.clone(), p.address, p.port)))
        .collect()
}

/// The fallback: both `/proc` tables; an unreadable one adds a reason to `unavailable`.
fn read_proc_net_tcp(
    root: &crate::host_root::HostRoot,
    unavailable: &mut std::collections::BTreeMap<String, String>,
) -> Vec<ListeningPort> {
    let mut ports = Vec::new();
    for (protocol, path) in [("tcp", "/proc/net/tcp"), ("tcp6", "/proc/net/tcp6")] {
        match root.read_to_string(path) {
            Ok(text) => ports.extend(parse_proc_net_tcp(&text, protocol)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && protocol == "tcp6" => {}
            Err(e) => {
                unavailable.insert(
                    format!("listening_ports.{protocol}"),
                    format!("{}: {e}", root.show(path)),
                );
            }
        }
    }
    ports
}

/// Listening sockets of one `/proc/net/tcp{,6}` table, in file order.
pub fn parse_proc_net_tcp(text: &str, protocol: &str) -> Vec<ListeningPort> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let local = fields.nth(1)?;
            let state = fields.nth(1)?;
            if state != TCP_LISTEN {
                return None;
            }
            let (address, port) = parse_endpoint(local)?;
            Some(ListeningPort {
                protocol: protocol.to_string(),
                address,
                port,
            })
        })
        .collect()
}

/// `0100007F:1F90` → 127.0.0.1:8080. The address is the kernel's in-memory bytes printed as 32-bit
/// words in host order (little-endian on x86 and arm64), so each word's bytes are reversed.
fn parse_endpoint(field: &str) -> Option<(IpAddr, u16)> {
    let (address_hex, port_hex) = field.split_once(':')?;
    let port = u16::from_str_radix(port_hex, 16).ok()?;
    let mut bytes = Vec::with_capacity(16);
    for word in address_hex.as_bytes().chunks(8) {
        let word = u32::from_str_radix(std::str::from_utf8(word).ok()?, 16).ok()?;
        bytes.extend_from_slice(&word.to_ne_bytes());
    }
    let address = match bytes.len() {
        4 => IpAddr::V4(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3])),
        16 => IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(bytes).ok()?)),
        _ => return None,
    };
    Some((address, port))
}

mod sock_diag {
    //! A minimal `NETLINK_SOCK_DIAG` client: one `SOCK_DIAG_BY_FAMILY` dump of TCP sockets in the
    //! LISTEN state (`gather::netlink_dump` carries it, under a receive timeout).

    use std::io;
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    use crate::gather::netlink_dump;

    const SOCK_DIAG_BY_FAMILY: u16 = 20;
    const TCP_LISTEN_STATE: u32 = 10;
    /// `struct inet_diag_req_v2`.
    const REQUEST_LEN: usize = 56;
    /// `struct inet_diag_msg` up to and including the socket id.
    const MESSAGE_MIN_LEN: usize = 52;
    /// A listening table larger than this is not read (about 500,000 sockets).
    const MAX_REPLY: usize = 64 * 1024 * 1024;

    /// `(address, port)` of every listening TCP socket of one family (`AF_INET` or `AF_INET6`).
    pub fn dump_tcp_listeners(family: u8) -> io::Result<Vec<(IpAddr, u16)>> {
        let mut found = Vec::new();
        netlink_dump::dump(
            libc::NETLINK_SOCK_DIAG,
            &request(family),
            MAX_REPLY,
            |kind, payload| found.extend(listener(kind, payload)),
        )?;
        Ok(found)
    }

    /// `nlmsghdr` + `inet_diag_req_v2` asking for TCP sockets of `family` in LISTEN.
    pub fn request(family: u8) -> Vec<u8> {
        let mut out = netlink_dump::request_header(SOCK_DIAG_BY_FAMILY, REQUEST_LEN);
        out.push(family);
        out.push(libc::IPPROTO_TCP as u8);
        out.push(0); // no extensions
        out.push(0);
        out.extend_from_slice(&(1u32 << TCP_LISTEN_STATE).to_ne_bytes());
        out.resize(netlink_dump::HEADER_LEN + REQUEST_LEN, 0); // wildcard socket id
        out
    }

    /// The endpoint of one reply message, when it is an `inet_diag_msg`.
    pub fn listener(kind: u16, payload: &[u8]) -> Option<(IpAddr, u16)> {
        (kind == SOCK_DIAG_BY_FAMILY && payload.len() >= MESSAGE_MIN_LEN)
            .then(|| endpoint(payload))
            .flatten()
    }

    /// Source address and port of an `inet_diag_msg` (port and address in network byte order).
    fn endpoint(message: &[u8]) -> Option<(IpAddr, u16)> {
        let family = message[0];
        let port = u16::from_be_bytes([message[4], message[5]]);
        let source = &message[8..24];
        let address = if family == libc::AF_INET as u8 {
            IpAddr::V4(Ipv4Addr::new(source[0], source[1], source[2], source[3]))
        } else if family == libc::AF_INET6 as u8 {
            IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(source).ok()?))
        } else {
            return None;
        };
        Some((address, port))
    }
}

#[cfg(all(test, target_endian = "little"))]
mod tests {
    use super::*;

    #[test]
    fn listening_ipv4_sockets_only() {
        let text = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
           0: 00000000:280A 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1613 1\n\
           1: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1614 1\n\
           2: 0100007F:1F90 0200007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 1615 1\n";
        let ports = parse_proc_net_tcp(text, "tcp");
        assert_eq!(ports.len(), 2);
        assert_eq!(ports[0].address, "0.0.0.0".parse::<IpAddr>().unwrap());
        assert_eq!(ports[0].port, 10250);
        assert_eq!(ports[1].address, "127.0.0.1".parse::<IpAddr>().unwrap());
        assert_eq!(ports[1].port, 8080);
    }

    #[test]
    fn listening_ipv6_sockets() {
        let text = "  sl  local_address                         remote_address                        st\n\
           0: 00000000000000000000000001000000:1920 00000000000000000000000000000000:0000 0A 0\n\
           1: B80D0120000000000000000001000000:0016 00000000000000000000000000000000:0000 0A 0\n";
        let ports = parse_proc_net_tcp(text, "tcp6");
        assert_eq!(ports[0].address, "::1".parse::<IpAddr>().unwrap());
        assert_eq!(ports[0].port, 6432);
        assert_eq!(ports[1].address, "2001:db8::1".parse::<IpAddr>().unwrap());
        assert_eq!(ports[1].port, 22);
    }

    #[test]
    fn sock_diag_request_and_reply() {
        let request = sock_diag::request(libc::AF_INET as u8);
        assert_eq!(request.len(), 72);
        assert_eq!(&request[0..4], &72u32.to_ne_bytes());
        assert_eq!(request[16], libc::AF_INET as u8);
        assert_eq!(request[17], 6);
        assert_eq!(&request[20..24], &(1u32 << 10).to_ne_bytes());

        // One inet_diag_msg for 127.0.0.1:10250, then NLMSG_DONE.
        let mut reply = Vec::new();
        reply.extend_from_slice(&(16u32 + 72).to_ne_bytes());
        reply.extend_from_slice(&20u16.to_ne_bytes());
        reply.extend_from_slice(&[0; 10]);
        let mut message = vec![0u8; 72];
        message[0] = libc::AF_INET as u8;
        message[1] = 10;
        message[4..6].copy_from_slice(&10250u16.to_be_bytes());
        message[8..12].copy_from_slice(&[127, 0, 0, 1]);
        reply.extend_from_slice(&message);
        reply.extend_from_slice(&20u32.to_ne_bytes());
        reply.extend_from_slice(&3u16.to_ne_bytes());
        reply.extend_from_slice(&[0; 14]);
        let mut found = Vec::new();
        let done = crate::gather::netlink_dump::walk_messages(&reply, &mut |kind, payload| {
            found.extend(sock_diag::listener(kind, payload))
        });
        assert!(done.unwrap());
        assert_eq!(found, vec![("127.0.0.1".parse().unwrap(), 10250)]);
    }

    #[test]
    fn live_listeners_agree_with_proc() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let Ok(found) = sock_diag::dump_tcp_listeners(libc::AF_INET as u8) else {
            return; // no inet_diag in this kernel: the /proc fallback is used
        };
        assert!(found.contains(&("127.0.0.1".parse().unwrap(), port)));
        let proc = std::fs::read_to_string("/proc/net/tcp").unwrap();
        assert!(parse_proc_net_tcp(&proc, "tcp")
            .iter()
            .any(|p| p.port == port));
    }

    #[test]
    fn malformed_lines_are_skipped() {
        assert!(parse_proc_net_tcp("header\n0: zz:zz 0 0A\n\n", "tcp").is_empty());
    }
}
