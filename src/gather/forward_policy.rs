//! The policies of the nftables base chains on the IPv4 forward hook, read over netlink
//! (`NFT_MSG_GETCHAIN` dump on a `NETLINK_NETFILTER` socket). iptables-nft keeps the iptables
//! `filter FORWARD` chain there as `table ip filter`, so Docker's `FORWARD` policy `DROP` shows as a
//! base chain with policy drop. Written by hand: no maintained crate reads nftables without linking
//! libnftnl (which the static build cannot carry); the request is one dump and the reply parsing
//! reads four attributes.
//!
//! iptables-legacy keeps its rules in the kernel's x_tables, which only the `IPT_SO_GET_*` socket
//! options expose; they are not read here (the facts say so).

use super::netlink_dump;
use crate::facts::preflight::{ForwardPolicy, NftForwardChain};

const NETLINK_NETFILTER: i32 = 12;
const NFNL_SUBSYS_NFTABLES: u16 = 10;
const NFT_MSG_NEWCHAIN: u16 = 3;
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
/// `struct nfgenmsg`: family, version, resource id.
const NFGENMSG_LEN: usize = 4;
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
    let mut request =
        netlink_dump::request_header((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETCHAIN, NFGENMSG_LEN);
    request.extend_from_slice(&[0; NFGENMSG_LEN]); // nfgenmsg: AF_UNSPEC, version 0, res_id 0
    let mut chains = Vec::new();
    netlink_dump::dump(NETLINK_NETFILTER, &request, MAX_REPLY, |kind, payload| {
        if kind == (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWCHAIN {
            chains.extend(parse_chain(payload));
        }
    })
    .map_err(|e| format!("nftables over netlink: {e}"))?;
    Ok(chains)
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
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

/// A `NFT_MSG_NEWCHAIN` payload (nfgenmsg, then attributes) when it is a forward-hook base chain
/// of the `ip` or `inet` family.
fn parse_chain(payload: &[u8]) -> Option<NftForwardChain> {
    let family = *payload.first()?;
    if family != NFPROTO_IPV4 && family != NFPROTO_INET {
        return None;
    }
    let (mut table, mut name, mut hook, mut priority, mut policy) = (None, None, None, 0i32, None);
    for (kind, payload) in attributes(payload.get(NFGENMSG_LEN..)?) {
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
