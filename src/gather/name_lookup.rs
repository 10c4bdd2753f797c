//! Resolving the node name the way kubelet's Go resolver sees it, recording every source: the
//! `hosts:` line of `/etc/nsswitch.conf`, the `/etc/hosts` lines that name the node (with their line
//! numbers), and the DNS answer (A and AAAA, search domains and `ndots` applied as Go applies them,
//! the servers of `/etc/resolv.conf` or Go's defaults `127.0.0.1` and `::1`).
//!
//! DNS is asked only when Go's resolver would reach it: nsswitch lets DNS answer, and DNS comes
//! first or `/etc/hosts` has no line for the name (a matching line ends Go's lookup, loopback or
//! not). The whole DNS exchange is bounded by [`LOOKUP_BOUND`], and a silent server is a fact
//! ("timeout"), never a hang; a server the kernel already knows is unreachable (no route, ICMP
//! unreachable on the connected socket) fails at once.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use super::dns_wire;
use crate::facts::kubelet::{DnsLookup, DnsLookupStatus, HostsEntry, HostsOrder, NameLookup};
use crate::host_root::HostRoot;

/// The longest the DNS part of a lookup may take.
pub const LOOKUP_BOUND: Duration = Duration::from_secs(2);

const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// `/etc/hosts` is read in a stream, as Go's resolver reads all of it: ad-blocking lists make it tens
/// of MiB. Only the lines naming the node are kept, so memory stays one line; beyond this size the
/// file is not read and the facts say so.
const MAX_HOSTS_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// The lines of the host's `/etc/hosts` that name `name`, read in a stream.
fn read_hosts_file(root: &HostRoot, name: &str) -> Result<Vec<HostsEntry>, String> {
    use std::io::{BufRead, Read};
    let file = root
        .open_regular("/etc/hosts")
        .map_err(|e| format!("/etc/hosts: {e}"))?;
    let mut reader = std::io::BufReader::new(file.take(MAX_HOSTS_FILE_BYTES + 1));
    let mut entries = Vec::new();
    let mut line = Vec::new();
    let (mut number, mut total) = (0usize, 0u64);
    loop {
        line.clear();
        let read = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| format!("/etc/hosts: {e}"))?;
        if read == 0 {
            return Ok(entries);
        }
        total += read as u64;
        if total > MAX_HOSTS_FILE_BYTES {
            return Err(format!(
                "/etc/hosts: larger than {} MiB, not read: whether it names the node is unknown",
                MAX_HOSTS_FILE_BYTES / (1024 * 1024)
            ));
        }
        number += 1;
        let text = String::from_utf8_lossy(&line);
        entries.extend(hosts_entries(&text, name).into_iter().map(|mut e| {
            e.line = number;
            e
        }));
    }
}

/// The `hosts:` sources of an nsswitch.conf text (the last `hosts:` line wins, as Go reads it).
pub fn nsswitch_hosts(text: &str) -> Option<Vec<String>> {
    text.lines()
        .rev()
        .map(|l| l.split('#').next().unwrap_or(""))
        .find_map(|l| {
            let (db, sources) = l.split_once(':')?;
            (db.trim() == "hosts").then(|| sources.split_whitespace().map(str::to_string).collect())
        })
}

/// The `/etc/hosts` lines naming `name` (case-insensitive, a trailing dot ignored), in file order.
/// Lines whose address does not parse are skipped, as Go skips them; a zone (`fe80::1%eth0`) is
/// dropped from the address.
pub fn hosts_entries(text: &str, name: &str) -> Vec<HostsEntry> {
    let wanted = name.trim_end_matches('.').to_ascii_lowercase();
    let mut entries = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("");
        let mut fields = line.split_whitespace();
        let Some(address) = fields.next() else {
            continue;
        };
        let address = address.split('%').next().unwrap_or(address);
        let Ok(address) = address.parse::<IpAddr>() else {
            continue;
        };
        if fields.any(|n| n.trim_end_matches('.').eq_ignore_ascii_case(&wanted)) {
            entries.push(HostsEntry {
                line: index + 1,
                address,
            });
        }
    }
    entries
}

/// What Go's resolver takes from `/etc/resolv.conf`.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvConf {
    pub servers: Vec<SocketAddr>,
    pub search: Vec<String>,
    pub ndots: usize,
}

/// Parses resolv.conf as Go does: at most three `nameserver`s (none: `127.0.0.1` and `::1`), the
/// last `search`/`domain` line (none: the domain part of the host name), `options ndots:N`.
pub fn parse_resolv_conf(text: Option<&str>, hostname: &str) -> ResolvConf {
    let mut servers = Vec::new();
    let mut search: Option<Vec<String>> = None;
    let mut ndots = 1usize;
    for line in text.unwrap_or("").lines() {
        let line = line.split(['#', ';']).next().unwrap_or("");
        let mut words = line.split_whitespace();
        match words.next() {
            Some("nameserver") => {
                if let Some(ip) = words.next().and_then(|w| w.parse::<IpAddr>().ok()) {
                    if servers.len() < 3 {
                        servers.push(SocketAddr::new(ip, 53));
                    }
                }
            }
            Some("search") => search = Some(words.map(|w| w.to_string()).collect()),
            Some("domain") => search = words.next().map(|w| vec![w.to_string()]),
            Some("options") => {
                for option in words {
                    if let Some(n) = option.strip_prefix("ndots:").and_then(|n| n.parse().ok()) {
                        ndots = usize::min(n, 15);
                    }
                }
            }
            _ => {}
        }
    }
    if servers.is_empty() {
        servers = vec![
            SocketAddr::from(([127, 0, 0, 1], 53)),
            SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, 53)),
        ];
    }
    let search = search.unwrap_or_else(|| {
        hostname
            .split_once('.')
            .map(|(_, domain)| vec![domain.to_string()])
            .unwrap_or_default()
    });
    ResolvConf {
        servers,
        search: search
            .into_iter()
            .map(|s| s.trim_end_matches('.').to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        ndots,
    }
}

/// The names Go's resolver tries, in order: a name with at least `ndots` dots is tried as it is
/// first, else last, the search domains in between.
pub fn candidate_names(name: &str, conf: &ResolvConf) -> Vec<String> {
    if let Some(absolute) = name.strip_suffix('.') {
        return vec![absolute.to_string()];
    }
    let searched = conf.search.iter().map(|d| format!("{name}.{d}"));
    if name.matches('.').count() >= conf.ndots {
        std::iter::once(name.to_string()).chain(searched).collect()
    } else {
        searched.chain(std::iter::once(name.to_string())).collect()
    }
}

/// Resolves `name` under `root` (nsswitch.conf, hosts, resolv.conf) and over DNS from this
/// process's network namespace.
pub fn lookup(root: &HostRoot, name: &str, hostname: &str) -> NameLookup {
    let nsswitch_hosts = root
        .read_bounded("/etc/nsswitch.conf", MAX_CONFIG_BYTES)
        .ok()
        .and_then(|t| nsswitch_hosts(&t));
    let (hosts_file, hosts_file_error) = match read_hosts_file(root, name) {
        Ok(entries) => (entries, None),
        Err(e) => (Vec::new(), Some(e)),
    };
    let order = HostsOrder::of(nsswitch_hosts.as_deref());
    let dns = if order.consults_dns(hosts_file.len()) {
        let resolv = root.read_bounded("/etc/resolv.conf", MAX_CONFIG_BYTES).ok();
        let conf = parse_resolv_conf(resolv.as_deref(), hostname);
        resolve_over_dns(name, &conf, LOOKUP_BOUND)
    } else {
        let detail = if order.dns {
            format!(
                "/etc/hosts line {} answers before DNS would be asked",
                hosts_file.first().map_or(0, |e| e.line)
            )
        } else {
            "nsswitch.conf lists only `files` for hosts".into()
        };
        DnsLookup {
            status: DnsLookupStatus::NotAsked,
            server: None,
            query_name: None,
            addresses: Vec::new(),
            detail: Some(detail),
        }
    };
    NameLookup {
        name: name.to_string(),
        nsswitch_hosts,
        hosts_file,
        hosts_file_error,
        dns,
    }
}

/// Asks each candidate name (A and AAAA together) of each server in turn until one answers with
/// addresses, all within `bound`.
pub fn resolve_over_dns(name: &str, conf: &ResolvConf, bound: Duration) -> DnsLookup {
    let deadline = Instant::now() + bound;
    let mut saw_timeout = false;
    let mut last_error: Option<(String, String)> = None;
    let mut last_server = None;
    let names = candidate_names(name, conf);
    let per_try = bound / (names.len().max(1) as u32 * conf.servers.len().max(1) as u32);
    for candidate in &names {
        for server in &conf.servers {
            let now = Instant::now();
            if now >= deadline {
                return timed_out(server, candidate, bound);
            }
            let wait = per_try.max(Duration::from_millis(300)).min(deadline - now);
            last_server = Some(server.to_string());
            match exchange(*server, candidate, wait) {
                Exchange::Addresses(addresses) => {
                    return DnsLookup {
                        status: DnsLookupStatus::Answered,
                        server: Some(server.to_string()),
                        query_name: Some(candidate.clone()),
                        addresses,
                        detail: None,
                    }
                }
                // This server says the name does not exist: the next candidate name, not the next
                // server (Go asks the next server only when one fails).
                Exchange::NoSuchName => break,
                Exchange::Timeout => saw_timeout = true,
                Exchange::Failed(reason) => last_error = Some((server.to_string(), reason)),
            }
        }
    }
    if let Some((server, reason)) = last_error.filter(|_| !saw_timeout) {
        return DnsLookup {
            status: DnsLookupStatus::Error,
            server: Some(server),
            query_name: None,
            addresses: Vec::new(),
            detail: Some(reason),
        };
    }
    if saw_timeout {
        return DnsLookup {
            status: DnsLookupStatus::Timeout,
            server: last_server,
            query_name: None,
            addresses: Vec::new(),
            detail: Some(format!(
                "no DNS server answered for {} within {} ms",
                names.join(", "),
                bound.as_millis()
            )),
        };
    }
    DnsLookup {
        status: DnsLookupStatus::NoSuchName,
        server: last_server,
        query_name: None,
        addresses: Vec::new(),
        detail: Some(format!("no address records for {}", names.join(", "))),
    }
}

fn timed_out(server: &SocketAddr, name: &str, bound: Duration) -> DnsLookup {
    DnsLookup {
        status: DnsLookupStatus::Timeout,
        server: Some(server.to_string()),
        query_name: None,
        addresses: Vec::new(),
        detail: Some(format!(
            "DNS did not answer for {name} within {} ms",
            bound.as_millis()
        )),
    }
}

enum Exchange {
    Addresses(Vec<IpAddr>),
    NoSuchName,
    Timeout,
    Failed(String),
}

/// One A + AAAA exchange with one server.
fn exchange(server: SocketAddr, name: &str, wait: Duration) -> Exchange {
    let socket = match dns_wire::connect_udp(server) {
        Ok(s) => s,
        Err(e) => return Exchange::Failed(format!("{server}: {e}")),
    };
    let id_a = dns_wire::random_id();
    let id_aaaa = id_a.wrapping_add(1);
    for (id, qtype) in [(id_a, dns_wire::TYPE_A), (id_aaaa, dns_wire::TYPE_AAAA)] {
        let query = match dns_wire::encode_query(id, name, qtype) {
            Ok(q) => q,
            Err(e) => return Exchange::Failed(e.to_string()),
        };
        if let Err(e) = socket.send(&query) {
            return Exchange::Failed(format!("{server}: {e}"));
        }
    }
    let deadline = Instant::now() + wait;
    let (mut v4, mut v6): (Option<dns_wire::Reply>, Option<dns_wire::Reply>) = (None, None);
    let mut buf = [0u8; 4096];
    while v4.is_none() || v6.is_none() {
        let Some(left) = deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
        else {
            break;
        };
        if socket.set_read_timeout(Some(left)).is_err() {
            break;
        }
        match socket.recv(&mut buf) {
            Ok(n) => match dns_wire::decode_reply(&buf[..n]) {
                Ok(reply) if reply.is_response && reply.id == id_a => v4 = Some(reply),
                Ok(reply) if reply.is_response && reply.id == id_aaaa => v6 = Some(reply),
                Ok(_) => continue,
                Err(e) => return Exchange::Failed(format!("{server}: unusable reply: {e}")),
            },
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::Interrupted
                ) =>
            {
                continue
            }
            Err(e) => return Exchange::Failed(format!("{server}: {e}")),
        }
    }
    let replies: Vec<&dns_wire::Reply> = [v4.as_ref(), v6.as_ref()].into_iter().flatten().collect();
    if replies.is_empty() {
        return Exchange::Timeout;
    }
    let addresses: Vec<IpAddr> = replies
        .iter()
        .filter(|r| r.rcode == 0)
        .flat_map(|r| dns_wire::addresses(r))
        .collect();
    if !addresses.is_empty() {
        return Exchange::Addresses(addresses);
    }
    if let Some(bad) = replies.iter().find(|r| r.rcode != 0 && r.rcode != 3) {
        return Exchange::Failed(format!(
            "{server} answered {}",
            dns_wire::rcode_name(bad.rcode)
        ));
    }
    if v4.is_none() || v6.is_none() {
        return Exchange::Timeout;
    }
    Exchange::NoSuchName
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_hosts_line_follows_gos_fallback_files_then_dns() {
        let sources = nsswitch_hosts("hosts:\n").unwrap();
        assert!(sources.is_empty());
        let order = HostsOrder::of(Some(&sources));
        assert_eq!(order, HostsOrder::of(None));
        assert!(order.files && order.dns && !order.dns_first);
    }

    #[test]
    fn a_large_hosts_file_is_read_whole_in_a_stream() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("etc")).unwrap();
        // 2 MiB of blocklist lines (over the 1 MiB cap of the other files), the node's line last.
        let mut text = "0.0.0.0 ads.example\n".repeat(2 * 1024 * 1024 / 20);
        text.push_str("10.20.41.41 worker-41\n");
        std::fs::write(dir.path().join("etc/hosts"), &text).unwrap();
        let root = HostRoot::at(dir.path()).unwrap();
        let entries = read_hosts_file(&root, "worker-41").unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].line, text.lines().count());
        assert_eq!(entries[0].address.to_string(), "10.20.41.41");
    }

    #[test]
    fn hosts_lines_match_case_insensitively_and_keep_file_order() {
        let text = "127.0.0.1 localhost\n127.0.1.1 Worker-41.example.com worker-41 # debian\n\
                    not-an-ip worker-41\nfe80::1%eth0 worker-41\n10.20.41.41 worker-41.\n";
        let entries = hosts_entries(text, "worker-41");
        let got: Vec<(usize, String)> = entries
            .iter()
            .map(|e| (e.line, e.address.to_string()))
            .collect();
        assert_eq!(
            got,
            [
                (2, "127.0.1.1".to_string()),
                (4, "fe80::1".to_string()),
                (5, "10.20.41.41".to_string())
            ]
        );
    }

    #[test]
    fn nsswitch_hosts_line_and_when_dns_is_asked() {
        let text = "passwd: files\nhosts: files dns # x\nhosts:    files mdns4_minimal [NOTFOUND=return]\n";
        let sources = nsswitch_hosts(text).unwrap();
        assert_eq!(sources, ["files", "mdns4_minimal", "[NOTFOUND=return]"]);
        let words = |t: &str| t.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        // An unknown source with no `dns` listed is treated as DNS by Go's own resolver.
        let order = HostsOrder::of(Some(&sources));
        assert!(order.dns && !order.dns_first);
        assert!(order.consults_dns(0));
        // A matching /etc/hosts line ends the lookup before DNS...
        assert!(!order.consults_dns(1));
        assert!(!HostsOrder::of(None).consults_dns(2));
        assert!(HostsOrder::of(None).consults_dns(0));
        // ...unless DNS comes first or files is not a source at all.
        assert!(HostsOrder::of(Some(&words("dns files"))).consults_dns(1));
        assert!(HostsOrder::of(Some(&words("dns"))).consults_dns(1));
        let files_only = HostsOrder::of(Some(&words("files")));
        assert!(!files_only.dns && !files_only.consults_dns(0));
        assert_eq!(nsswitch_hosts("passwd: files\n"), None);
    }

    #[test]
    fn search_names_follow_ndots() {
        let conf = parse_resolv_conf(
            Some("nameserver 10.0.0.2\nsearch a.example b.example\noptions ndots:2 rotate\n"),
            "worker-41",
        );
        assert_eq!(conf.servers, [SocketAddr::from(([10, 0, 0, 2], 53))]);
        assert_eq!(
            candidate_names("worker-41", &conf),
            ["worker-41.a.example", "worker-41.b.example", "worker-41"]
        );
        assert_eq!(
            candidate_names("w.x.y", &conf),
            ["w.x.y", "w.x.y.a.example", "w.x.y.b.example"]
        );
        let defaults = parse_resolv_conf(None, "worker-41.lab.example");
        assert_eq!(defaults.servers.len(), 2);
        assert_eq!(defaults.search, ["lab.example"]);
    }
}
