//! Listening TCP ports from `/proc/net/tcp` and `/proc/net/tcp6` (sockets in state `0A`, LISTEN), so
//! checks can tell whether kubelet's 10250 or the API server's 6443 is already taken.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::facts::ListeningPort;

const TCP_LISTEN: &str = "0A";

/// Reads both tables; an unreadable one adds a reason to `unavailable` and contributes nothing.
pub fn gather_listening_ports(
    unavailable: &mut std::collections::BTreeMap<String, String>,
) -> Vec<ListeningPort> {
    let mut ports = Vec::new();
    let mut seen = HashSet::new();
    for (protocol, path) in [("tcp", "/proc/net/tcp"), ("tcp6", "/proc/net/tcp6")] {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                for port in parse_proc_net_tcp(&text, protocol) {
                    // SO_REUSEPORT listeners appear once per socket; one entry per endpoint.
                    if seen.insert((port.protocol.clone(), port.address, port.port)) {
                        ports.push(port);
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && protocol == "tcp6" => {}
            Err(e) => {
                unavailable.insert(
                    format!("listening_ports.{protocol}"),
                    format!("{path}: {e}"),
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
    fn malformed_lines_are_skipped() {
        assert!(parse_proc_net_tcp("header\n0: zz:zz 0 0A\n\n", "tcp").is_empty());
    }
}
