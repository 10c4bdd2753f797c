//! The policies of the nftables base chains on the IPv4 forward hook, read over netlink
//! (`NFT_MSG_GETCHAIN` dump on a `NETLINK_NETFILTER` socket). iptables-nft keeps the iptables
//! `filter FORWARD` chain there as `table ip filter`, so Docker's `FORWARD` policy `DROP` shows as a
//! base chain with policy drop. Written by hand: no maintained crate reads nftables without linking
//! libnftnl (which the static build cannot carry); the request is one dump and the reply parsing
//! reads four attributes.
//!
//! iptables-legacy keeps its rules in the kernel's x_tables, which only the `IPT_SO_GET_*` socket
//! options expose; they are not read here (the facts say so).

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

use crate::facts::preflight::{ForwardPolicy, NftForwardChain};

const NETLINK_NETFILTER: i32 = 12;
const NFNL_SUBSYS_NFTABLES: u16 = 10;
const NFT_MSG_GETCHAIN: u16 = 4;
const NFTA_CHAIN_TABLE: u16 = 1;
const NFTA_CHAIN_NAME: u16 = 3;
const NFTA_CHAIN_HOOK: u16 = 4;
const NFTA_CHAIN_POLICY: u16 = 5;
const NFTA_HOOK_HOOKNUM: u16 = 1;
const NFTA_HOOK_PRIORITY: u16 = 2;
const NF_INET_FORWARD: u32 = 2;
const NFPROTO_INET: u8 = 1;
const NFPROTO_IPV4: u8 = 2;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
/// At most this many reply bytes are read: a host with more chains than fit is not judged.
const MAX_REPLY: usize = 8 * 1024 * 1024;

/// Reads the forward-hook base chains of the `ip` and `inet` families in the caller's network
/// namespace.
pub fn gather_forward_policy() -> ForwardPolicy {
    match dump_chains() {
        Ok(chains) => ForwardPolicy {
            nftables: chains,
            nftables_error: None,
        },
        Err(e) => ForwardPolicy {
            nftables: Vec::new(),
            nftables_error: Some(e),
        },
    }
}

fn dump_chains() -> Result<Vec<NftForwardChain>, String> {
    // SAFETY: socket(2) with constant arguments; the descriptor is owned at once.
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            NETLINK_NETFILTER,
        )
    };
    if fd < 0 {
        return Err(format!(
            "netfilter netlink socket: {}",
            std::io::Error::last_os_error()
        ));
    }
    // SAFETY: fd is a fresh descriptor nobody else owns.
    let socket = unsafe { OwnedFd::from_raw_fd(fd) };
    let timeout = libc::timeval {
        tv_sec: Duration::from_secs(2).as_secs() as libc::time_t,
        tv_usec: 0,
    };
    // SAFETY: setsockopt with a valid timeval of the right size.
    unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&timeout as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        );
    }
    let mut request = Vec::with_capacity(20);
    let kind = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETCHAIN;
    let flags = (libc::NLM_F_REQUEST | libc::NLM_F_DUMP) as u16;
    request.extend_from_slice(&20u32.to_ne_bytes());
    request.extend_from_slice(&kind.to_ne_bytes());
    request.extend_from_slice(&flags.to_ne_bytes());
    request.extend_from_slice(&1u32.to_ne_bytes()); // sequence
    request.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel's
    request.extend_from_slice(&[0, 0, 0, 0]); // nfgenmsg: AF_UNSPEC, version 0, res_id 0
                                              // SAFETY: sending a buffer we own to a socket we own.
    let sent = unsafe {
        libc::send(
            socket.as_raw_fd(),
            request.as_ptr().cast(),
            request.len(),
            0,
        )
    };
    if sent < 0 {
        return Err(format!(
            "netfilter netlink request: {}",
            std::io::Error::last_os_error()
        ));
    }
    let mut chains = Vec::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut total = 0usize;
    loop {
        // SAFETY: receiving into a buffer we own, of its length.
        let n = unsafe {
            libc::recv(
                socket.as_raw_fd(),
                buffer.as_mut_ptr().cast(),
                buffer.len(),
                0,
            )
        };
        if n < 0 {
            return Err(format!(
                "netfilter netlink reply: {}",
                std::io::Error::last_os_error()
            ));
        }
        total += n as usize;
        if n == 0 || total > MAX_REPLY {
            return Err("netfilter netlink reply ended early or was too large".to_string());
        }
        if parse_messages(&buffer[..n as usize], &mut chains)? {
            return Ok(chains);
        }
    }
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Parses one datagram of netlink messages into `chains`; `Ok(true)` at the end of the dump.
pub fn parse_messages(datagram: &[u8], chains: &mut Vec<NftForwardChain>) -> Result<bool, String> {
    let mut at = 0;
    while at + 16 <= datagram.len() {
        let len = u32_at(datagram, at).unwrap_or(0) as usize;
        let kind = u16_at(datagram, at + 4).unwrap_or(0);
        if len < 16 || at + len > datagram.len() {
            return Err("malformed netlink message".to_string());
        }
        let message = &datagram[at..at + len];
        match kind {
            NLMSG_DONE => return Ok(true),
            NLMSG_ERROR => {
                let code = u32_at(message, 16).map(|c| c as i32).unwrap_or(0);
                if code != 0 {
                    return Err(format!(
                        "nftables: {}",
                        std::io::Error::from_raw_os_error(-code)
                    ));
                }
            }
            _ if kind == (NFNL_SUBSYS_NFTABLES << 8) | 3 => {
                // NFT_MSG_NEWCHAIN: nfgenmsg (family, version, res_id) then attributes.
                if let Some(chain) = parse_chain(message) {
                    chains.push(chain);
                }
            }
            _ => {}
        }
        at += (len + 3) & !3;
    }
    Ok(false)
}

/// Attributes of a netlink attribute block: (type without flags, payload).
fn attributes(mut b: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    while b.len() >= 4 {
        let len = u16_at(b, 0).unwrap_or(0) as usize;
        let kind = u16_at(b, 2).unwrap_or(0) & 0x3fff;
        if len < 4 || len > b.len() {
            break;
        }
        out.push((kind, &b[4..len]));
        b = &b[((len + 3) & !3).min(b.len())..];
    }
    out
}

fn text(payload: &[u8]) -> String {
    String::from_utf8_lossy(payload.split(|b| *b == 0).next().unwrap_or(&[])).into_owned()
}

fn be_u32(payload: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(payload.get(..4)?.try_into().ok()?))
}

fn parse_chain(message: &[u8]) -> Option<NftForwardChain> {
    let family = *message.get(16)?;
    if family != NFPROTO_IPV4 && family != NFPROTO_INET {
        return None;
    }
    let (mut table, mut name, mut hook, mut priority, mut policy) = (None, None, None, 0i32, None);
    for (kind, payload) in attributes(message.get(20..)?) {
        match kind {
            NFTA_CHAIN_TABLE => table = Some(text(payload)),
            NFTA_CHAIN_NAME => name = Some(text(payload)),
            NFTA_CHAIN_POLICY => policy = be_u32(payload),
            NFTA_CHAIN_HOOK => {
                for (k, p) in attributes(payload) {
                    match k {
                        NFTA_HOOK_HOOKNUM => hook = be_u32(p),
                        NFTA_HOOK_PRIORITY => priority = be_u32(p).unwrap_or(0) as i32,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    if hook != Some(NF_INET_FORWARD) {
        return None;
    }
    Some(NftForwardChain {
        family: if family == NFPROTO_INET { "inet" } else { "ip" }.to_string(),
        table: table?,
        chain: name?,
        policy: match policy? {
            0 => "drop".to_string(),
            1 => "accept".to_string(),
            other => other.to_string(),
        },
        priority,
    })
}
