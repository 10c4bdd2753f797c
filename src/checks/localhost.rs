//! `localhost` resolves to loopback (`Host-Localhost`, as k0s `sysinfo` checks): kubelet, the
//! static control-plane pods' probes and many health checks dial `localhost`; an `/etc/hosts` line
//! giving it another address sends them off the node. Judged from `/etc/hosts` and the `hosts:`
//! line of `/etc/nsswitch.conf`.

use std::net::IpAddr;

use super::{Area, CheckResult, Context};

const ID: &str = "Host-Localhost";
const AREA: Area = Area::Host;

pub fn evaluate(ctx: &Context) -> Vec<CheckResult> {
    let Some(preflight) = &ctx.facts.preflight else {
        return Vec::new();
    };
    let facts = &preflight.localhost;
    let sources = if facts.nsswitch_hosts.is_empty() {
        vec!["files".to_string(), "dns".to_string()]
    } else {
        facts.nsswitch_hosts.clone()
    };
    let uses_files = sources.iter().any(|s| s == "files");
    let synthesised = sources.iter().any(|s| s == "myhostname" || s == "resolve");
    let not_loopback: Vec<&String> = facts
        .hosts_addresses
        .iter()
        .filter(|a| !a.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback()))
        .collect();
    let r = if uses_files && !not_loopback.is_empty() {
        CheckResult::fail(
            ID,
            AREA,
            format!(
                "/etc/hosts gives localhost the address(es) {} that are not loopback: health probes and kubelet's local connections leave the node",
                not_loopback.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(", ")
            ),
        )
        .fix("make /etc/hosts say `127.0.0.1 localhost` and `::1 localhost` and remove localhost from other lines")
    } else if uses_files && !facts.hosts_addresses.is_empty() {
        CheckResult::ok(
            ID,
            AREA,
            format!(
                "/etc/hosts gives localhost {}",
                facts.hosts_addresses.join(", ")
            ),
        )
    } else if synthesised {
        CheckResult::ok(
            ID,
            AREA,
            "localhost is answered with loopback by systemd's nss module (nsswitch `hosts:` lists myhostname or resolve)",
        )
    } else {
        CheckResult::warn(
            ID,
            AREA,
            format!(
                "nothing on the host answers localhost with loopback (nsswitch `hosts: {}`{}): the name goes to DNS",
                sources.join(" "),
                if uses_files { ", no localhost line in /etc/hosts" } else { "" }
            ),
        )
        .fix("add `127.0.0.1 localhost` and `::1 localhost` to /etc/hosts (and `files` to the hosts: line of /etc/nsswitch.conf)")
    };
    vec![r
        .with("hosts_addresses", facts.hosts_addresses.clone())
        .with("nsswitch_hosts", sources)
        .with("notes", facts.notes.clone())]
}

#[cfg(test)]
mod tests {
    use crate::checks::testing::{expect, pre_join_with_preflight};
    use crate::checks::Status;
    use crate::facts::preflight::{Localhost, Preflight};

    fn judged(hosts: &[&str], nsswitch: &[&str]) -> Vec<crate::checks::CheckResult> {
        let preflight = Preflight {
            localhost: Localhost {
                hosts_addresses: hosts.iter().map(|s| s.to_string()).collect(),
                nsswitch_hosts: nsswitch.iter().map(|s| s.to_string()).collect(),
                notes: vec![],
            },
            ..Default::default()
        };
        pre_join_with_preflight(
            crate::facts::testkit::host("n").build(),
            preflight,
            "cluster: t\n",
        )
    }

    #[test]
    fn localhost_verdicts() {
        expect(
            &judged(&["127.0.0.1", "::1"], &[]),
            "Host-Localhost",
            Status::Ok,
            &["127.0.0.1"],
        );
        expect(
            &judged(&["127.0.0.1", "10.0.0.5"], &["files", "dns"]),
            "Host-Localhost",
            Status::Fail,
            &["10.0.0.5"],
        );
        expect(
            &judged(&[], &["files", "dns"]),
            "Host-Localhost",
            Status::Warn,
            &["no localhost line"],
        );
        expect(
            &judged(&[], &["files", "myhostname", "dns"]),
            "Host-Localhost",
            Status::Ok,
            &["myhostname"],
        );
        // /etc/hosts is not consulted: its wrong line does not matter, but nothing answers either.
        expect(
            &judged(&["10.0.0.5"], &["dns"]),
            "Host-Localhost",
            Status::Warn,
            &["hosts: dns"],
        );
    }
}
