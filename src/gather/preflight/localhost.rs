//! What the host's files say `localhost` is: the addresses `/etc/hosts` gives it and the `hosts:`
//! sources of `/etc/nsswitch.conf` (which decide whether `/etc/hosts` is asked first, and whether
//! systemd's `myhostname`/`resolve` modules, which answer `localhost` with loopback, are in use).

use crate::facts::preflight::Localhost;
use crate::host_root::HostRoot;

use super::read_text;

const MAX_HOSTS_FILE: u64 = 1024 * 1024;
const MAX_ADDRESSES: usize = 64;

pub fn gather_localhost(root: &HostRoot) -> Localhost {
    let mut facts = Localhost::default();
    match read_text(root, "/etc/hosts", MAX_HOSTS_FILE) {
        Ok(text) => facts.hosts_addresses = localhost_addresses(&text),
        Err(e) => facts
            .notes
            .push(format!("{}: {e}", root.show("/etc/hosts"))),
    }
    match read_text(root, "/etc/nsswitch.conf", MAX_HOSTS_FILE) {
        Ok(text) => facts.nsswitch_hosts = nsswitch_hosts(&text),
        Err(e) if root.exists("/etc/nsswitch.conf") => facts
            .notes
            .push(format!("{}: {e}", root.show("/etc/nsswitch.conf"))),
        Err(_) => {}
    }
    facts
}

/// The first field of each `/etc/hosts` line that names `localhost` (case-insensitive, as glibc
/// compares names), in file order.
pub fn localhost_addresses(hosts: &str) -> Vec<String> {
    hosts
        .lines()
        .filter_map(|line| {
            let line = line.split('#').next().unwrap_or("");
            let mut fields = line.split_whitespace();
            let address = fields.next()?;
            fields
                .any(|name| name.eq_ignore_ascii_case("localhost"))
                .then(|| address.to_string())
        })
        .take(MAX_ADDRESSES)
        .collect()
}

/// The sources of the last `hosts:` line, without `[NOTFOUND=return]`-style actions.
pub fn nsswitch_hosts(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let line = line.split('#').next().unwrap_or("").trim();
            line.strip_prefix("hosts:")
        })
        .next_back()
        .map(|sources| {
            sources
                .split_whitespace()
                .filter(|s| !s.starts_with('['))
                .take(16)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_localhost_lines() {
        let hosts = "127.0.0.1 localhost\n# 10.0.0.1 localhost\n::1 ip6-localhost ip6-loopback LOCALHOST\n10.1.1.1 node1 # localhost\n";
        assert_eq!(localhost_addresses(hosts), vec!["127.0.0.1", "::1"]);
        assert_eq!(
            nsswitch_hosts("passwd: files\nhosts: files [NOTFOUND=return] myhostname dns\n"),
            vec!["files", "myhostname", "dns"]
        );
        assert!(nsswitch_hosts("passwd: files\n").is_empty());
    }
}
