//! The DNS wire format (RFC 1035), just what nodecheck's two DNS clients need (kubelet's node-name
//! lookup in `name_lookup`, the cluster-DNS probe in `probes::dns`): encode one query, decode a
//! reply's header and answer records, as pure functions over bytes; and the two pieces of socket
//! setup both clients share, a random query ID and a UDP socket connected to the server. Each client
//! keeps its own deadline and retry rule.

use std::hash::{BuildHasher, Hasher};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};

/// Record type A.
pub const TYPE_A: u16 = 1;
/// Record type AAAA.
pub const TYPE_AAAA: u16 = 28;
const CLASS_IN: u16 = 1;
const HEADER_LEN: usize = 12;
/// More compression pointers than this in one name means a loop.
const MAX_POINTER_JUMPS: usize = 32;

/// Why a name cannot be put in a query, or a reply cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("invalid query name {0:?}: {1}")]
    BadName(String, &'static str),
    #[error("reply cut short at byte {0}")]
    Truncated(usize),
    #[error("reply has a compression loop")]
    PointerLoop,
    #[error("reply has a bad label at byte {0}")]
    BadLabel(usize),
}

/// A reply's header and its answer section.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub id: u16,
    /// The QR bit: this is a response.
    pub is_response: bool,
    /// The TC bit: the answer did not fit in the UDP datagram.
    pub truncated: bool,
    pub rcode: u8,
    pub answers: Vec<Record>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub name: String,
    pub rtype: u16,
    pub class: u16,
    pub ttl: u32,
    pub data: Vec<u8>,
}

/// Encodes a recursive query for `name` (`kubernetes.default.svc.cluster.local`, a trailing dot is
/// allowed) of type `qtype`, class IN.
pub fn encode_query(id: u16, name: &str, qtype: u16) -> Result<Vec<u8>, WireError> {
    let bad = |why| WireError::BadName(name.to_string(), why);
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    if trimmed.is_empty() {
        return Err(bad("empty"));
    }
    let mut msg = Vec::with_capacity(HEADER_LEN + trimmed.len() + 6);
    msg.extend_from_slice(&id.to_be_bytes());
    msg.extend_from_slice(&0x0100u16.to_be_bytes()); // RD: recursion desired
    msg.extend_from_slice(&1u16.to_be_bytes()); // QDCOUNT
    msg.extend_from_slice(&[0; 6]); // ANCOUNT, NSCOUNT, ARCOUNT
    for label in trimmed.split('.') {
        if label.is_empty() {
            return Err(bad("empty label"));
        }
        if label.len() > 63 {
            return Err(bad("label longer than 63 bytes"));
        }
        msg.push(label.len() as u8);
        msg.extend_from_slice(label.as_bytes());
    }
    msg.push(0);
    if msg.len() - HEADER_LEN > 255 {
        return Err(bad("longer than 255 bytes"));
    }
    msg.extend_from_slice(&qtype.to_be_bytes());
    msg.extend_from_slice(&CLASS_IN.to_be_bytes());
    Ok(msg)
}

/// Decodes a reply: header, skips the question section, reads the answer section.
pub fn decode_reply(msg: &[u8]) -> Result<Reply, WireError> {
    let header = msg
        .get(..HEADER_LEN)
        .ok_or(WireError::Truncated(msg.len()))?;
    let word = |i: usize| u16::from_be_bytes([header[i], header[i + 1]]);
    let flags = word(2);
    let (qdcount, ancount) = (word(4), word(6));
    let mut pos = HEADER_LEN;
    for _ in 0..qdcount {
        let (_, after) = read_name(msg, pos)?;
        pos = after + 4; // QTYPE, QCLASS
        if pos > msg.len() {
            return Err(WireError::Truncated(msg.len()));
        }
    }
    let mut answers = Vec::with_capacity(ancount.into());
    for _ in 0..ancount {
        let (name, after) = read_name(msg, pos)?;
        let fixed = msg
            .get(after..after + 10)
            .ok_or(WireError::Truncated(msg.len()))?;
        let rtype = u16::from_be_bytes([fixed[0], fixed[1]]);
        let class = u16::from_be_bytes([fixed[2], fixed[3]]);
        let ttl = u32::from_be_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]);
        let rdlength = usize::from(u16::from_be_bytes([fixed[8], fixed[9]]));
        let start = after + 10;
        let data = msg
            .get(start..start + rdlength)
            .ok_or(WireError::Truncated(msg.len()))?
            .to_vec();
        pos = start + rdlength;
        answers.push(Record {
            name,
            rtype,
            class,
            ttl,
            data,
        });
    }
    Ok(Reply {
        id: word(0),
        is_response: flags & 0x8000 != 0,
        truncated: flags & 0x0200 != 0,
        rcode: (flags & 0x000f) as u8,
        answers,
    })
}

/// Reads a (possibly compressed) name at `pos`; returns it and the position after it.
fn read_name(msg: &[u8], mut pos: usize) -> Result<(String, usize), WireError> {
    let mut labels: Vec<String> = Vec::new();
    let mut after = None;
    let mut jumps = 0;
    loop {
        let len = *msg.get(pos).ok_or(WireError::Truncated(msg.len()))?;
        match len & 0xc0 {
            0x00 if len == 0 => {
                let end = after.unwrap_or(pos + 1);
                return Ok((labels.join("."), end));
            }
            0x00 => {
                let label = msg
                    .get(pos + 1..pos + 1 + usize::from(len))
                    .ok_or(WireError::Truncated(msg.len()))?;
                labels.push(String::from_utf8_lossy(label).into_owned());
                pos += 1 + usize::from(len);
            }
            0xc0 => {
                let low = *msg.get(pos + 1).ok_or(WireError::Truncated(msg.len()))?;
                after.get_or_insert(pos + 2);
                jumps += 1;
                if jumps > MAX_POINTER_JUMPS {
                    return Err(WireError::PointerLoop);
                }
                pos = (usize::from(len & 0x3f) << 8) | usize::from(low);
            }
            _ => return Err(WireError::BadLabel(pos)),
        }
    }
}

/// The RFC 1035/2136 name of a response code.
pub fn rcode_name(rcode: u8) -> String {
    match rcode {
        0 => "NOERROR".into(),
        1 => "FORMERR".into(),
        2 => "SERVFAIL".into(),
        3 => "NXDOMAIN".into(),
        4 => "NOTIMP".into(),
        5 => "REFUSED".into(),
        n => format!("RCODE{n}"),
    }
}

/// The IPv4/IPv6 addresses among the answer records (any owner name: CNAME chains included).
pub fn addresses(reply: &Reply) -> Vec<std::net::IpAddr> {
    reply
        .answers
        .iter()
        .filter(|r| r.class == CLASS_IN)
        .filter_map(|r| match (r.rtype, r.data.len()) {
            (TYPE_A, 4) => Some(std::net::IpAddr::from(
                <[u8; 4]>::try_from(r.data.as_slice()).ok()?,
            )),
            (TYPE_AAAA, 16) => Some(std::net::IpAddr::from(
                <[u8; 16]>::try_from(r.data.as_slice()).ok()?,
            )),
            _ => None,
        })
        .collect()
}

/// A query ID that an off-path sender cannot guess, from the standard library's random hash keys.
pub fn random_id() -> u16 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    h.finish() as u16
}

/// A UDP socket of `server`'s family connected to it: only its datagrams are read, and an ICMP
/// "port unreachable" comes back as an error on the socket.
pub fn connect_udp(server: SocketAddr) -> std::io::Result<UdpSocket> {
    let local: SocketAddr = if server.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(local)?;
    socket.connect(server)?;
    Ok(socket)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_a_query() {
        let q = encode_query(0xbeef, "kubernetes.default.svc.cluster.local.", TYPE_A).unwrap();
        assert_eq!(&q[..12], &[0xbe, 0xef, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&q[12..24], b"\x0akubernetes\x07");
        assert_eq!(&q[q.len() - 5..], &[0, 0, 1, 0, 1]);
    }

    #[test]
    fn rejects_bad_names() {
        assert!(encode_query(1, "", TYPE_A).is_err());
        assert!(encode_query(1, "a..b", TYPE_A).is_err());
        assert!(encode_query(1, &"x".repeat(64), TYPE_A).is_err());
    }

    /// A reply built by hand: the question echoed, a CNAME then an A record using compression.
    fn sample_reply(rcode: u8) -> Vec<u8> {
        let mut m = encode_query(7, "kubernetes.default.svc.cluster.local", TYPE_A).unwrap();
        m[2] = 0x81; // QR, RD
        m[3] = 0x80 | rcode; // RA
        m[7] = 2; // ANCOUNT
        m.extend_from_slice(&[0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 30, 0, 4]); // CNAME -> "x" + pointer
        m.extend_from_slice(&[1, b'x', 0xc0, 12]);
        let cname_at = m.len() - 4;
        m.extend_from_slice(&[0xc0, cname_at as u8, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4]);
        m.extend_from_slice(&[10, 96, 0, 1]);
        m
    }

    #[test]
    fn decodes_answers_through_compression() {
        let r = decode_reply(&sample_reply(0)).unwrap();
        assert_eq!(r.id, 7);
        assert!(r.is_response);
        assert_eq!(r.rcode, 0);
        assert_eq!(r.answers.len(), 2);
        assert_eq!(r.answers[1].name, "x.kubernetes.default.svc.cluster.local");
        assert_eq!(
            addresses(&r),
            vec!["10.96.0.1".parse::<std::net::IpAddr>().unwrap()]
        );
    }

    #[test]
    fn reads_rcode_and_survives_garbage() {
        let mut m = sample_reply(3);
        m.truncate(m.len() - 3);
        assert_eq!(decode_reply(&m), Err(WireError::Truncated(m.len())));
        assert_eq!(rcode_name(3), "NXDOMAIN");
        let looped = [0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12];
        assert_eq!(decode_reply(&looped), Err(WireError::PointerLoop));
        assert!(decode_reply(&[1, 2, 3]).is_err());
    }
}
