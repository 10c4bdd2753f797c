//! Reverse-path filtering and ARP settings against the node's CNI, Calico (`RpFilter-Node`,
//! `Arp-Node`). The kernel applies the larger of `conf/all` and `conf/<interface>` for `rp_filter`
//! (0 off, 1 strict, 2 loose) and for `arp_ignore`; new interfaces (tunl0, vxlan.calico, cali*)
//! start from `conf/default`. systemd's `50-default.conf` sets loose mode on most distributions;
//! RHEL-family hosts often keep strict.
//!
//! What Calico needs, from its source:
//! - felix's start-up check (projectcalico/felix#1322, carried into calico's
//!   `felix/dataplane/linux/int_dataplane.go`): `net.ipv4.conf.all.rp_filter` above 1 is fatal
//!   ("Kernel's RPF check is set to 'loose'") unless `IgnoreLooseRPF` is set, because felix relies
//!   on the kernel's strict check on each workload interface and the global loose value overrides
//!   it. calico-node crash-loops on such hosts (labring/sealos#559 on Ubuntu 20.04; Fedora CoreOS,
//!   coreos/fedora-coreos-tracker#219). The check and its fatal line are in felix up to v3.11.3
//!   and gone from v3.12.0 (felix's `dataplane/linux/int_dataplane.go` at those tags).
//! - From Calico 3.12 felix enforces the workload source check in its own iptables rules
//!   (`-m rpfilter` in the raw table; `iptables/match_builder.go` from v3.12.0), later with
//!   per-workload exceptions (projectcalico/calico#5742, `WorkloadSourceSpoofing`) and in BPF for
//!   its eBPF data plane (projectcalico/calico#5923), so loose mode on `all` no longer stops felix.
//! - Strict mode on the node NIC of a multi-homed node drops replies that come back through
//!   another interface (asymmetric routing), a failure no CNI repairs.
//! - Proxy ARP on cali* (how pods reach their 169.254.1.1 gateway) is not subject to `arp_ignore`,
//!   which only governs replies for the host's own addresses; `arp_ignore=8` refuses those
//!   altogether, so neighbours can no longer reach the node.

use super::finding::Finding;
use super::{Area, CheckResult, Context, Status};
use crate::facts::preflight::Preflight;
use crate::facts::Family;

const AREA: Area = Area::Sysctl;

fn value(preflight: &Preflight, interface: &str, key: &str) -> Option<u8> {
    preflight
        .sysctls
        .get(&format!("net.ipv4.conf.{interface}.{key}"))?
        .as_deref()?
        .parse()
        .ok()
}

fn mode(v: u8) -> &'static str {
    match v {
        0 => "off",
        1 => "strict",
        _ => "loose",
    }
}

pub fn evaluate(ctx: &Context) -> Vec<CheckResult> {
    let Some(preflight) = &ctx.facts.preflight else {
        return Vec::new();
    };
    let subnets = crate::network::node_subnets(ctx.facts, &ctx.profile.node_network.cidrs);
    let nic = crate::network::node_nic(ctx.facts, &subnets).map(|i| i.name.to_string());
    vec![
        rp_filter(ctx, preflight, nic.as_deref()),
        arp(preflight, nic.as_deref()),
    ]
}

/// Interfaces other than loopback that hold a global IPv4 address and are not a CNI's or
/// Docker's, and whether the IPv4 default route has several next hops.
fn multi_homed(ctx: &Context) -> bool {
    let own = ctx
        .facts
        .interfaces
        .iter()
        .filter(|i| i.name != "lo" && !crate::facts::is_docker_bridge(&i.name))
        .filter(|i| {
            ![
                "cali",
                "tunl",
                "vxlan",
                "wireguard",
                "veth",
                "cni",
                "flannel",
            ]
            .iter()
            .any(|p| i.name.starts_with(p))
        })
        .filter(|i| {
            i.addresses
                .iter()
                .any(|a| a.family == Family::Ipv4 && crate::network::addresses::is_global(a))
        })
        .count();
    own > 1 || crate::network::routes::default_route_devices(ctx.facts, Family::Ipv4).len() > 1
}

fn rp_filter(ctx: &Context, preflight: &Preflight, nic: Option<&str>) -> CheckResult {
    const ID: &str = "RpFilter-Node";
    let all = value(preflight, "all", "rp_filter");
    let default = value(preflight, "default", "rp_filter");
    let on_nic = nic.and_then(|n| value(preflight, n, "rp_filter"));
    let effective = all.max(on_nic);
    let release = ctx.profile.calico.release();
    let felix_checks_all = !release.at_least(3, 12, 0);
    let evidence = |r: CheckResult| {
        r.with("all", all)
            .with("default", default)
            .with("nic", nic.map(str::to_string))
            .with("nic_value", on_nic)
            .with("effective", effective)
            .with("calico_version", release.text().to_string())
    };
    let Some(all_value) = all else {
        return evidence(CheckResult::skip(
            ID,
            AREA,
            "net.ipv4.conf.all.rp_filter could not be read",
        ));
    };
    let shown = format!(
        "rp_filter all={} ({}), default={}, {}={}",
        all_value,
        mode(all_value),
        default.map_or("?".into(), |v| v.to_string()),
        nic.unwrap_or("node NIC unknown"),
        on_nic.map_or("?".into(), |v| v.to_string())
    );
    // The remedy's values: `all` and, when given, the node NIC's.
    let loose_all = if felix_checks_all { 1 } else { 2 };
    let (status, message, fix, want) = if all_value >= 2 && felix_checks_all {
        (
            Status::Fail,
            format!("{shown}: felix of Calico {release} exits at start when net.ipv4.conf.all.rp_filter is loose (2) unless IgnoreLooseRPF is set, so calico-node crash-loops"),
            Some("`sysctl -w net.ipv4.conf.all.rp_filter=1` and persist it in /etc/sysctl.d/99-kubernetes.conf (a later file than systemd's 50-default.conf)".to_string()),
            (Some(1), None),
        )
    } else if effective == Some(1) && multi_homed(ctx) {
        (
            Status::Warn,
            format!("{shown}: strict reverse-path filtering on a node with several addressed interfaces or default routes drops replies that return through another interface (asymmetric routing)"),
            Some(format!(
                "use loose mode on the node NIC: `sysctl -w net.ipv4.conf.all.rp_filter={loose_all} net.ipv4.conf.{nic}.rp_filter=2` and persist it in /etc/sysctl.d/99-kubernetes.conf",
                nic = nic.unwrap_or("<nic>")
            )),
            (Some(loose_all), nic.map(|_| 2)),
        )
    } else {
        let note = if all_value >= 2 {
            format!(" (Calico {release} checks workload sources in its own rules, so loose mode is fine)")
        } else {
            String::new()
        };
        (Status::Ok, format!("{shown}{note}"), None, (None, None))
    };
    let r = evidence(CheckResult::new(ID, AREA, status, message)).found(Finding::RpFilter {
        all,
        nic: nic.map(str::to_string),
        nic_value: on_nic,
        want_all: want.0,
        want_nic: want.1,
    });
    match fix {
        Some(f) => r.fix(f),
        None => r,
    }
}

fn arp(preflight: &Preflight, nic: Option<&str>) -> CheckResult {
    const ID: &str = "Arp-Node";
    let ignore_all = value(preflight, "all", "arp_ignore");
    let ignore_nic = nic.and_then(|n| value(preflight, n, "arp_ignore"));
    let filter_all = value(preflight, "all", "arp_filter");
    let filter_nic = nic.and_then(|n| value(preflight, n, "arp_filter"));
    let ignore = ignore_all.max(ignore_nic);
    let r = match ignore {
        None => CheckResult::skip(ID, AREA, "net.ipv4.conf.all.arp_ignore could not be read"),
        Some(v) if v >= 8 => CheckResult::fail(
            ID,
            AREA,
            format!("arp_ignore is {v} on {}: the node answers no ARP request for its own addresses, so neighbours cannot reach it", nic.unwrap_or("all")),
        )
        .fix(format!(
            "`sysctl -w net.ipv4.conf.all.arp_ignore=0 net.ipv4.conf.{}.arp_ignore=0` and persist it in /etc/sysctl.d/99-kubernetes.conf",
            nic.unwrap_or("<nic>")
        )),
        Some(v) => CheckResult::ok(
            ID,
            AREA,
            format!(
                "arp_ignore={v}, arp_filter={} on {}: Calico's proxy ARP on cali* interfaces does not depend on them",
                filter_all.max(filter_nic).map_or("?".into(), |f| f.to_string()),
                nic.unwrap_or("all")
            ),
        ),
    };
    r.with("arp_ignore_all", ignore_all)
        .with("arp_ignore_nic", ignore_nic)
        .with("arp_filter_all", filter_all)
        .with("arp_filter_nic", filter_nic)
        .found(Finding::ArpIgnore {
            all: ignore_all,
            nic: nic.map(str::to_string),
            nic_value: ignore_nic,
            want: ignore.filter(|v| *v >= 8).map(|_| 0),
        })
}

#[cfg(test)]
mod tests {
    use crate::checks::testing::{expect, profile, run};
    use crate::checks::{Phase, Status};
    use crate::facts::preflight::Preflight;

    fn facts(values: &[(&str, &str)], second_nic: bool) -> crate::facts::Facts {
        let mut b = crate::facts::testkit::host("n")
            .nic("eth0", &["10.0.0.5/24"])
            .route("default", Some("10.0.0.1"), "eth0", None, None);
        if second_nic {
            b = b.nic("eth1", &["192.168.7.5/24"]);
        }
        let mut facts = b.build();
        facts.preflight = Some(Box::new(Preflight {
            sysctls: values
                .iter()
                .map(|(k, v)| (format!("net.ipv4.conf.{k}"), Some(v.to_string())))
                .collect(),
            ..Default::default()
        }));
        facts
    }

    #[test]
    fn loose_all_fails_only_for_calico_that_checks_it() {
        let f = facts(
            &[
                ("all.rp_filter", "2"),
                ("default.rp_filter", "2"),
                ("eth0.rp_filter", "2"),
                ("all.arp_ignore", "0"),
            ],
            false,
        );
        let old = run(
            &f,
            &profile("cluster: t\ncalico:\n  version: \"3.11.3\"\n"),
            Phase::PreJoin,
            &[],
            None,
            None,
        );
        expect(
            &old,
            "RpFilter-Node",
            Status::Fail,
            &["IgnoreLooseRPF", "eth0=2"],
        );
        let new = run(
            &f,
            &profile("cluster: t\ncalico:\n  version: \"3.28.0\"\n"),
            Phase::PreJoin,
            &[],
            None,
            None,
        );
        expect(&new, "RpFilter-Node", Status::Ok, &["loose mode is fine"]);
        expect(&new, "Arp-Node", Status::Ok, &["arp_ignore=0"]);
    }

    #[test]
    fn strict_on_a_multi_homed_node_warns() {
        let strict = [
            ("all.rp_filter", "1"),
            ("eth0.rp_filter", "0"),
            ("all.arp_ignore", "8"),
        ];
        let r = run(
            &facts(&strict, true),
            &profile("cluster: t\n"),
            Phase::PreJoin,
            &[],
            None,
            None,
        );
        expect(&r, "RpFilter-Node", Status::Warn, &["asymmetric", "strict"]);
        expect(&r, "Arp-Node", Status::Fail, &["arp_ignore is 8"]);
        let r = run(
            &facts(&strict, false),
            &profile("cluster: t\n"),
            Phase::PreJoin,
            &[],
            None,
            None,
        );
        expect(&r, "RpFilter-Node", Status::Ok, &[]);
    }
}
