//! The policies of the nftables base chains on the IPv4 forward hook, read over netlink
//! (`NFT_MSG_GETCHAIN` dump on a `NETLINK_NETFILTER` socket). iptables-nft keeps the iptables
//! `filter FORWARD` chain there as `table ip filter`, so Docker's `FORWARD` policy `DROP` shows as a
//! base chain with policy drop. Written by hand: no maintained crate reads nftables without linking
//! libnftnl (which the static build cannot carry); the request is one dump and the reply parsing
//! reads four attributes.
//!
//! iptables-legacy keeps its rules in the kernel's x_tables, which only the `IPT_SO_GET_*` socket
//! options expose: the `legacy` module reads the `filter FORWARD` policy with them.

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
/// namespace, and the policy of iptables-legacy's `filter FORWARD` when `legacy_filter` says that
/// table exists (`/proc/net/ip_tables_names`). The legacy table is asked for only then: asking for
/// a table that does not exist makes the kernel load its module and create it.
pub fn gather_forward_policy(legacy_filter: bool) -> ForwardPolicy {
    let (nftables, nftables_error) = match dump_chains() {
        Ok(chains) => (chains, None),
        Err(e) => (Vec::new(), Some(e)),
    };
    let (iptables_legacy, iptables_legacy_error) = if legacy_filter {
        match legacy::forward_policy() {
            Ok(policy) => (Some(policy), None),
            Err(e) => (None, Some(e)),
        }
    } else {
        (None, None)
    };
    ForwardPolicy {
        nftables,
        nftables_error,
        iptables_legacy,
        iptables_legacy_error,
    }
}

mod legacy {
    //! The policy of iptables-legacy's `filter FORWARD`, read as iptables-legacy reads it: the
    //! table's layout (`IPT_SO_GET_INFO`), then its rules (`IPT_SO_GET_ENTRIES`); the chain's policy
    //! is the verdict of the rule at the hook's underflow offset.

    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

    const IPT_SO_GET_INFO: libc::c_int = 64;
    const IPT_SO_GET_ENTRIES: libc::c_int = 65;
    const TABLE_NAME_LEN: usize = 32;
    /// `struct ipt_getinfo`: name, valid_hooks, hook_entry[5], underflow[5], num_entries, size.
    const GETINFO_LEN: usize = TABLE_NAME_LEN + 4 + 20 + 20 + 4 + 4;
    /// `struct ipt_get_entries` before its entries: name, size, padded to the entries' 8.
    const GET_ENTRIES_HEADER: usize = 40;
    /// `offsetof(struct ipt_entry, target_offset)`.
    const TARGET_OFFSET_AT: usize = 88;
    /// `struct xt_entry_target`'s header (target_size, name[29], revision) before the verdict.
    const TARGET_HEADER: usize = 32;
    const NF_INET_FORWARD: usize = 2;
    /// A filter table larger than this is not read.
    const MAX_TABLE: usize = 64 * 1024 * 1024;

    fn u32_at(b: &[u8], at: usize) -> Option<u32> {
        Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
    }

    fn getsockopt(fd: &OwnedFd, option: libc::c_int, buffer: &mut [u8]) -> Result<(), String> {
        let mut len = buffer.len() as libc::socklen_t;
        // SAFETY: the buffer is valid and writable for `len` bytes, which the kernel is told.
        let rc = unsafe {
            libc::getsockopt(
                fd.as_raw_fd(),
                libc::SOL_IP,
                option,
                buffer.as_mut_ptr().cast(),
                &mut len,
            )
        };
        if rc < 0 {
            return Err(std::io::Error::last_os_error().to_string());
        }
        Ok(())
    }

    /// `drop` or `accept` (or the verdict's number).
    pub fn forward_policy() -> Result<String, String> {
        // SAFETY: socket(2) with constant arguments; the result is checked and owned at once.
        let fd = unsafe {
            libc::socket(
                libc::AF_INET,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::IPPROTO_RAW,
            )
        };
        if fd < 0 {
            return Err(format!(
                "iptables-legacy: {}",
                std::io::Error::last_os_error()
            ));
        }
        // SAFETY: fd is a fresh, valid descriptor nobody else owns.
        let socket = unsafe { OwnedFd::from_raw_fd(fd) };
        let mut info = [0u8; GETINFO_LEN];
        info[..6].copy_from_slice(b"filter");
        getsockopt(&socket, IPT_SO_GET_INFO, &mut info)
            .map_err(|e| format!("iptables-legacy filter table: {e}"))?;
        let underflow = u32_at(&info, TABLE_NAME_LEN + 4 + 20 + 4 * NF_INET_FORWARD)
            .ok_or("iptables-legacy: a short table description")? as usize;
        let size = u32_at(&info, GETINFO_LEN - 4)
            .ok_or("iptables-legacy: a short table description")? as usize;
        if size > MAX_TABLE {
            return Err(format!(
                "iptables-legacy: the filter table is {size} bytes, more than is read"
            ));
        }
        let mut entries = vec![0u8; GET_ENTRIES_HEADER + size];
        entries[..6].copy_from_slice(b"filter");
        entries[TABLE_NAME_LEN..TABLE_NAME_LEN + 4].copy_from_slice(&(size as u32).to_ne_bytes());
        getsockopt(&socket, IPT_SO_GET_ENTRIES, &mut entries)
            .map_err(|e| format!("iptables-legacy filter rules: {e}"))?;
        policy_at(&entries[GET_ENTRIES_HEADER..], underflow)
            .ok_or_else(|| "iptables-legacy: the FORWARD policy rule could not be read".to_string())
    }

    /// The verdict of the standard target of the rule at `offset` in a table's entries.
    pub fn policy_at(entries: &[u8], offset: usize) -> Option<String> {
        let target_offset = u16::from_ne_bytes(
            entries
                .get(offset + TARGET_OFFSET_AT..offset + TARGET_OFFSET_AT + 2)?
                .try_into()
                .ok()?,
        ) as usize;
        let verdict_at = offset + target_offset + TARGET_HEADER;
        let verdict = i32::from_ne_bytes(entries.get(verdict_at..verdict_at + 4)?.try_into().ok()?);
        // A standard target's verdict is -(NF_xxx) - 1: NF_DROP 0, NF_ACCEPT 1.
        Some(match verdict {
            -1 => "drop".to_string(),
            -2 => "accept".to_string(),
            other => other.to_string(),
        })
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_policy_is_the_standard_verdict_at_the_underflow() {
            // Two rules of 152 bytes each (ipt_entry 112 + a standard target 40); the second is
            // the underflow.
            let mut entries = vec![0u8; 304];
            for (rule, verdict) in [(0usize, -2i32), (152, -1)] {
                entries[rule + TARGET_OFFSET_AT..rule + TARGET_OFFSET_AT + 2]
                    .copy_from_slice(&112u16.to_ne_bytes());
                let at = rule + 112 + TARGET_HEADER;
                entries[at..at + 4].copy_from_slice(&verdict.to_ne_bytes());
            }
            assert_eq!(policy_at(&entries, 0).as_deref(), Some("accept"));
            assert_eq!(policy_at(&entries, 152).as_deref(), Some("drop"));
            assert_eq!(policy_at(&entries, 300), None);
        }
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
