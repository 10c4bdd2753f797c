//! Drift since the join: this node now against the baseline recorded right after `kubeadm join`
//! (`nodecheck baseline record`). Pure: two snapshots (and the profile) in, one result per ID out.
//!
//! The node NIC is found in the baseline as the node checks find it (`node_network::resolve`) and
//! followed into the current snapshot by its permanent MAC (else its MAC, same link kind), so a
//! rename (`eth3` → `ens192`) is told apart from a replaced or missing NIC.

use crate::checks::{list_or_none, node_network};
use crate::checks::{Area, CheckResult, Context};
use crate::facts::{Facts, Interface};
use crate::network::addresses::{cidr_of as cidr, stable_global_addresses};
use crate::network::owners::{describe_interface, interface_owner};
use crate::profile::{Ipv6Expectation, Profile};
use compact_str::CompactString;

const RECORD_HINT: &str = "record one right after a successful join with `nodecheck baseline record` (it writes /var/lib/nodecheck/baseline.json)";

/// Every drift check; a single `Drift-Baseline` skip when there is no baseline.
pub fn evaluate(ctx: &Context) -> Vec<CheckResult> {
    let Some(base) = ctx.baseline else {
        return vec![CheckResult::skip(
            "Drift-Baseline",
            Area::Drift,
            format!("no baseline to compare with: {RECORD_HINT}"),
        )
        .fix(RECORD_HINT)];
    };
    let now = ctx.facts;
    let base_nic = node_network::resolve(base, ctx.profile).nic;
    let fate = base_nic.map(|n| follow_nic(n, now));
    vec![
        baseline_identity(base, now),
        nic_name(now, base_nic, fate.as_ref()),
        node_address(now, base_nic, fate.as_ref()),
        bridges(base, now, ctx.profile),
        kernel(base, now),
        ipv6(base, now, ctx.profile, base_nic, fate.as_ref()),
        mtu(base, now, base_nic, fate.as_ref()),
    ]
}

/// What became of the baseline's node NIC.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NicFate<'a> {
    /// Same name, same hardware.
    Same(&'a Interface),
    /// The same hardware (MAC) under another name.
    Renamed(&'a Interface),
    /// The name exists, with another MAC, and the old MAC is nowhere.
    Replaced(&'a Interface),
    /// Neither the name nor the MAC exists.
    Missing,
}

impl<'a> NicFate<'a> {
    pub fn current(&self) -> Option<&'a Interface> {
        match *self {
            NicFate::Same(i) | NicFate::Renamed(i) | NicFate::Replaced(i) => Some(i),
            NicFate::Missing => None,
        }
    }
}

/// Follows the baseline NIC by permanent MAC, else by MAC among interfaces of the same link kind
/// (a VLAN or bridge on top of the NIC copies its MAC; they are not the NIC).
pub fn follow_nic<'a>(base: &Interface, now: &'a Facts) -> NicFate<'a> {
    let by_permanent = base.permanent_mac.as_ref().and_then(|pm| {
        now.interfaces
            .iter()
            .find(|i| i.permanent_mac.as_ref() == Some(pm))
    });
    let by_mac = by_permanent.or_else(|| {
        let mac = base.mac.as_ref().filter(|m| !is_zero_mac(m))?;
        let same_mac = |i: &&Interface| i.mac.as_ref() == Some(mac) && i.kind == base.kind;
        now.interfaces
            .iter()
            .filter(same_mac)
            .find(|i| i.name == base.name)
            .or_else(|| now.interfaces.iter().find(same_mac))
    });
    let by_name = now.interface(&base.name);
    match (by_mac, by_name) {
        (Some(i), _) if i.name == base.name => NicFate::Same(i),
        (Some(i), _) => NicFate::Renamed(i),
        (None, Some(i)) if base.mac.is_none() || base.mac == i.mac => NicFate::Same(i),
        (None, Some(i)) => NicFate::Replaced(i),
        (None, None) => NicFate::Missing,
    }
}

fn is_zero_mac(mac: &str) -> bool {
    mac.bytes().all(|b| b == b'0' || b == b':')
}

fn mac_of(i: &Interface) -> String {
    i.permanent_mac
        .as_deref()
        .or(i.mac.as_deref())
        .unwrap_or("no MAC")
        .to_string()
}

fn nic_evidence(i: &Interface) -> serde_json::Value {
    serde_json::json!({"name": i.name, "mac": i.mac, "permanent_mac": i.permanent_mac, "mtu": i.mtu})
}

const NO_NODE_NIC: &str = "the baseline has no default route and no address in the profile's node network, so its node NIC is unknown";

fn baseline_identity(base: &Facts, now: &Facts) -> CheckResult {
    let id = "Drift-Baseline";
    let when = &base.collected_at;
    let r = if base.host.hostname != now.host.hostname
        || (base.host.machine_id.is_some() && base.host.machine_id != now.host.machine_id)
    {
        CheckResult::warn(
            id,
            Area::Drift,
            format!(
                "the baseline (recorded {when}) is from host {} (machine-id {}), this is {} (machine-id {}): drift below compares two different machines",
                base.host.hostname,
                base.host.machine_id.as_deref().unwrap_or("unknown"),
                now.host.hostname,
                now.host.machine_id.as_deref().unwrap_or("unknown"),
            ),
        )
        .fix("record this node's own baseline with `nodecheck baseline record`")
    } else {
        CheckResult::ok(
            id,
            Area::Drift,
            format!("comparing with the baseline recorded {when}"),
        )
    };
    r.with("recorded_at", base.collected_at.as_str())
        .with("baseline_host", base.host.hostname.as_str())
        .with("host", now.host.hostname.as_str())
}

fn nic_name(now: &Facts, base_nic: Option<&Interface>, fate: Option<&NicFate>) -> CheckResult {
    let id = "Drift-NodeNicName";
    let (Some(b), Some(fate)) = (base_nic, fate) else {
        return CheckResult::skip(id, Area::Drift, NO_NODE_NIC);
    };
    let name = &b.name;
    let mac = mac_of(b);
    let pin_fix = format!(
        "anything pinned to the name {name} (Calico IP_AUTODETECTION_METHOD=interface=..., netplan, firewall rules) no longer matches: restore the name with a systemd .link file matching MACAddress={mac}, or update the profile and the Calico method (`nodecheck calico` recommends one that does not depend on names)"
    );
    let r = match fate {
        NicFate::Same(i) => CheckResult::ok(
            id,
            Area::Drift,
            format!("node NIC {name} (MAC {mac}) still has its name"),
        )
        .with("after", nic_evidence(i)),
        NicFate::Renamed(i) => {
            let mut msg = format!(
                "node NIC renamed: {name} → {} (MAC {mac})",
                i.name
            );
            if let Some(other) = now.interface(&b.name) {
                msg.push_str(&format!(
                    "; the name {name} now belongs to another interface (MAC {})",
                    mac_of(other)
                ));
            }
            CheckResult::fail(id, Area::Drift, msg)
                .with("after", nic_evidence(i))
                .fix(pin_fix)
        }
        NicFate::Replaced(i) => CheckResult::warn(
            id,
            Area::Drift,
            format!(
                "node NIC {name} has MAC {} now (was {mac}, which no interface has any more): the NIC was replaced or its MAC changed",
                mac_of(i)
            ),
        )
        .with("after", nic_evidence(i))
        .fix("if the NIC was replaced, record a new baseline (`nodecheck baseline record`); otherwise find out what changed its MAC"),
        NicFate::Missing => CheckResult::fail(
            id,
            Area::Drift,
            format!("node NIC {name} (MAC {mac}) is gone: no interface has that name or MAC"),
        )
        .with("after", serde_json::Value::Null)
        .fix(format!("check the NIC and its driver (`ip link`, `dmesg`); {pin_fix}")),
    };
    r.with("before", nic_evidence(b))
}

fn node_address(now: &Facts, base_nic: Option<&Interface>, fate: Option<&NicFate>) -> CheckResult {
    let id = "Drift-NodeAddress";
    let (Some(b), Some(fate)) = (base_nic, fate) else {
        return CheckResult::skip(id, Area::Drift, NO_NODE_NIC);
    };
    let before: Vec<_> = stable_global_addresses(b).collect();
    let current = fate.current();
    let after: Vec<_> = current
        .map(|i| stable_global_addresses(i).collect())
        .unwrap_or_default();
    let mut lost = Vec::new();
    for a in &before {
        if after
            .iter()
            .any(|x| x.address == a.address && x.prefix_len == a.prefix_len)
        {
            continue;
        }
        if let Some(x) = after.iter().find(|x| x.address == a.address) {
            lost.push(format!("{} is now /{}", cidr(a), x.prefix_len));
        } else if let Some(holder) = crate::network::addresses::owner_of(now, a.address) {
            lost.push(format!(
                "{} moved to {}",
                cidr(a),
                describe_interface(now, &holder.name)
            ));
        } else {
            lost.push(format!("{} is on no interface", cidr(a)));
        }
    }
    let added: Vec<String> = after
        .iter()
        .filter(|x| !before.iter().any(|a| a.address == x.address))
        .map(|x| format!("added {}", cidr(x)))
        .collect();
    let before_list: Vec<String> = before.iter().map(|a| cidr(a)).collect();
    let after_list: Vec<String> = after.iter().map(|a| cidr(a)).collect();
    let where_now = current
        .map(|i| i.name.to_string())
        .unwrap_or_else(|| "the missing node NIC".into());
    let summary = format!(
        "node addresses on {where_now}: {} → {}",
        list_or_none(&before_list),
        list_or_none(&after_list)
    );
    let r = if !lost.is_empty() {
        let mut details = lost;
        details.extend(added);
        CheckResult::fail(id, Area::Drift, format!("{summary} ({})", details.join("; ")))
            .fix("the node's address changed since the join: Kubernetes (InternalIP), Calico (projectcalico.org/IPv4Address) and peers still use the old one; restore the address (DHCP reservation or static config), or drain, reset and re-join the node")
    } else if !added.is_empty() {
        CheckResult::warn(id, Area::Drift, format!("{summary} ({})", added.join("; ")))
            .fix("a new address on the node NIC can change what Calico autodetects (cidr= picks /32 VIPs too); check Calico-NodeAddress")
    } else {
        CheckResult::ok(
            id,
            Area::Drift,
            format!(
                "node addresses on {where_now} as at the join: {}",
                list_or_none(&after_list)
            ),
        )
    };
    r.with("before", before_list).with("after", after_list)
}

fn bridges(base: &Facts, now: &Facts, profile: &Profile) -> CheckResult {
    let id = "Drift-Bridges";
    let allowed = &profile.bridges.allowed;
    let is_bridge = |i: &&Interface| i.kind.as_deref() == Some("bridge");
    let appeared: Vec<&Interface> = now
        .interfaces
        .iter()
        .filter(is_bridge)
        .filter(|i| base.interface(&i.name).is_none())
        .filter(|i| !allowed.iter().any(|re| re.is_match(&i.name)))
        .collect();
    let gone: Vec<String> = base
        .interfaces
        .iter()
        .filter(is_bridge)
        .filter(|i| now.interface(&i.name).is_none())
        .map(|i| i.name.to_string())
        .collect();
    let described: Vec<String> = appeared
        .iter()
        .map(|i| {
            let addrs: Vec<String> = stable_global_addresses(i).map(cidr).collect();
            let owner = interface_owner(now, &i.name)
                .map(|o| format!(" ({o})"))
                .unwrap_or_default();
            format!(
                "{}{}{owner}",
                i.name,
                if addrs.is_empty() {
                    String::new()
                } else {
                    format!(" {}", addrs.join(" "))
                }
            )
        })
        .collect();
    let evidence: Vec<serde_json::Value> = appeared
        .iter()
        .map(|i| {
            serde_json::json!({
                "name": i.name,
                "addresses": stable_global_addresses(i).map(cidr).collect::<Vec<_>>(),
                "owner": interface_owner(now, &i.name),
            })
        })
        .collect();
    let r = if appeared.is_empty() {
        CheckResult::ok(id, Area::Drift, "no bridge appeared since the join")
    } else {
        let docker_made = appeared.iter().any(|i| {
            crate::facts::is_docker_bridge(&i.name)
                || now
                    .docker
                    .networks
                    .iter()
                    .any(|n| n.bridge_device.as_deref() == Some(i.name.as_str()))
        });
        let msg = format!(
            "{} bridge{} appeared since the join: {}",
            appeared.len(),
            if appeared.len() == 1 { "" } else { "s" },
            described.join(", ")
        );
        let fix = "a bridge with an address can mislead Calico's autodetection (first-found before v3.25 takes br-*; a renamed compose bridge always); pin IP_AUTODETECTION_METHOD to a value `nodecheck calico` recommends, or move docker/compose workloads off this node";
        if docker_made && profile.bridges.docker_bridges_fail {
            CheckResult::fail(id, Area::Drift, msg).fix(fix)
        } else {
            CheckResult::warn(id, Area::Drift, msg).fix(fix)
        }
    };
    r.with("appeared", evidence).with("gone", gone)
}

fn kernel(base: &Facts, now: &Facts) -> CheckResult {
    let id = "Drift-Kernel";
    let (b, n) = (&base.host, &now.host);
    let mut cmdline_changes = Vec::new();
    for (flag, before, after) in [
        (
            "net.ifnames",
            &b.cmdline.net_ifnames,
            &n.cmdline.net_ifnames,
        ),
        (
            "biosdevname",
            &b.cmdline.biosdevname,
            &n.cmdline.biosdevname,
        ),
        (
            "ipv6.disable",
            &b.cmdline.ipv6_disable,
            &n.cmdline.ipv6_disable,
        ),
    ] {
        if before != after {
            let show = |v: &Option<CompactString>| {
                v.as_deref()
                    .map(|s| format!("{flag}={}", s))
                    .unwrap_or_else(|| "absent".to_string())
            };
            cmdline_changes.push(format!(
                "kernel command line {flag}: {} → {}",
                show(before),
                show(after)
            ));
        }
    }
    let release_changed = b.kernel_release != n.kernel_release;
    let release = format!("kernel {} → {}", b.kernel_release, n.kernel_release);
    let r = if !cmdline_changes.is_empty() {
        let mut parts = cmdline_changes;
        if release_changed {
            parts.insert(0, release);
        }
        CheckResult::fail(id, Area::Drift, parts.join("; "))
            .fix("these kernel command-line flags change NIC names and IPv6: restore them in the boot loader (GRUB_CMDLINE_LINUX) or update the profile and re-record the baseline")
    } else if release_changed {
        CheckResult::warn(id, Area::Drift, format!("{release} since the join"))
            .fix("if the upgrade was intended, compare with the other nodes (`nodecheck check --peers ...`) and re-record the baseline")
    } else {
        CheckResult::ok(
            id,
            Area::Drift,
            format!("kernel {} as at the join", n.kernel_release),
        )
    };
    r.with("before", b.kernel_release.as_str())
        .with("after", n.kernel_release.as_str())
}

fn ipv6(
    base: &Facts,
    now: &Facts,
    profile: &Profile,
    base_nic: Option<&Interface>,
    fate: Option<&NicFate>,
) -> CheckResult {
    let id = "Drift-IPv6";
    let state = |f: &Facts| {
        if f.ipv6.kernel_off() {
            "off in the kernel".to_string()
        } else {
            format!(
                "all.disable_ipv6={} default.disable_ipv6={}",
                bool_or_unknown(f.ipv6.all_disable_ipv6),
                bool_or_unknown(f.ipv6.default_disable_ipv6)
            )
        }
    };
    let mut changes = Vec::new();
    let (before, after) = (state(base), state(now));
    if before != after {
        changes.push(format!("{before} → {after}"));
    }
    if let (Some(b), Some(n)) = (base_nic, fate.and_then(|f| f.current())) {
        if b.ipv6_disabled != n.ipv6_disabled {
            changes.push(format!(
                "disable_ipv6 on the node NIC {}: {} → {}",
                n.name,
                bool_or_unknown(b.ipv6_disabled),
                bool_or_unknown(n.ipv6_disabled)
            ));
        }
    }
    let needs_ipv6 = profile.ipv6 == Ipv6Expectation::Required
        || profile
            .calico
            .families
            .contains(&crate::facts::Family::Ipv6);
    let r = if changes.is_empty() {
        CheckResult::ok(id, Area::Drift, format!("IPv6 as at the join: {after}"))
    } else {
        let msg = format!("IPv6 state changed since the join: {}", changes.join("; "));
        let fix = "find what changed it (sysctl.d files, the kernel command line, network configuration) and restore the state the node joined with; the other nodes must match";
        if needs_ipv6 {
            CheckResult::fail(id, Area::Drift, msg).fix(fix)
        } else {
            CheckResult::warn(id, Area::Drift, msg).fix(fix)
        }
    };
    r.with("before", before).with("after", after)
}

fn bool_or_unknown(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "1",
        Some(false) => "0",
        None => "absent",
    }
}

fn mtu(
    base: &Facts,
    now: &Facts,
    base_nic: Option<&Interface>,
    fate: Option<&NicFate>,
) -> CheckResult {
    let id = "Drift-Mtu";
    let (Some(b), Some(fate)) = (base_nic, fate) else {
        return CheckResult::skip(id, Area::Drift, NO_NODE_NIC);
    };
    let Some(n) = fate.current() else {
        return CheckResult::skip(
            id,
            Area::Drift,
            format!(
                "node NIC {} is gone (see Drift-NodeNicName); MTU at the join was {}",
                b.name, b.mtu
            ),
        )
        .with("before", b.mtu);
    };
    let other_physical: Vec<String> = now
        .interfaces
        .iter()
        .filter(|i| i.physical.is_some() && i.name != n.name)
        .filter_map(|i| {
            let was = base.interface(&i.name)?;
            (was.mtu != i.mtu).then(|| format!("{} {} → {}", i.name, was.mtu, i.mtu))
        })
        .collect();
    let name = &n.name;
    let r = if b.mtu != n.mtu {
        CheckResult::fail(
            id,
            Area::Drift,
            format!("node NIC {name} MTU {} → {} since the join", b.mtu, n.mtu),
        )
        .fix(format!(
            "every node and Calico's tunnel MTU were sized for {}: restore it (`ip link set {} mtu {}` and the persistent network config)",
            b.mtu,
            crate::escape::shell_quote_bytes(n.raw_name()),
            b.mtu
        ))
    } else if !other_physical.is_empty() {
        CheckResult::warn(
            id,
            Area::Drift,
            format!(
                "node NIC {name} MTU {} as at the join; other NICs changed: {}",
                n.mtu,
                other_physical.join(", ")
            ),
        )
    } else {
        CheckResult::ok(
            id,
            Area::Drift,
            format!("node NIC {name} MTU {} as at the join", n.mtu),
        )
    };
    r.with("before", b.mtu)
        .with("after", n.mtu)
        .with("other_nics", other_physical)
}

#[cfg(test)]
mod tests {
    use crate::checks::testing::{
        after_reboot, baseline, expect, find, hostile_rename, profile, run,
    };
    use crate::checks::{CheckResult, Phase, Status};
    use crate::facts::Facts;

    /// Post-boot results of `now` against `base` with the built-in defaults of a profile.
    fn post_boot(now: &Facts, base: &Facts) -> Vec<CheckResult> {
        run(now, &profile("{}"), Phase::PostBoot, &[], Some(base), None)
    }

    #[test]
    fn the_incident_reboot_shows_every_drift() {
        let (base, now, p) = (baseline(), after_reboot(), profile("{}"));
        let r = run(&now, &p, Phase::PostBoot, &[], Some(&base), None);
        expect(&r, "Drift-Baseline", Status::Ok, &["2026-11-20T09:12:00Z"]);
        expect(
            &r,
            "Drift-NodeNicName",
            Status::Fail,
            &["eth3 → ens192", "00:50:56:8a:41:0b"],
        );
        expect(
            &r,
            "Drift-NodeAddress",
            Status::Ok,
            &["ens192 as at the join: 10.20.41.11/24"],
        );
        expect(
            &r,
            "Drift-Bridges",
            Status::Warn,
            &[
                "2 bridges appeared",
                "br-3f2a1b4c5d6e 172.18.0.1/16 (compose project middleware)",
                "docker0 172.17.0.1/16 (docker's default bridge)",
            ],
        );
        expect(
            &r,
            "Drift-Kernel",
            Status::Warn,
            &["5.15.0-88-generic → 5.15.0-91-generic"],
        );
        expect(&r, "Drift-IPv6", Status::Ok, &[]);
        expect(&r, "Drift-Mtu", Status::Fail, &["ens192 MTU 1500 → 1450"]);
    }

    #[test]
    fn no_drift_against_itself() {
        let (base, p) = (baseline(), profile("{}"));
        let r = run(&base, &p, Phase::PostBoot, &[], Some(&base), None);
        for id in [
            "Drift-NodeNicName",
            "Drift-NodeAddress",
            "Drift-Bridges",
            "Drift-Kernel",
            "Drift-IPv6",
            "Drift-Mtu",
        ] {
            expect(&r, id, Status::Ok, &[]);
        }
    }

    #[test]
    fn missing_baseline_is_a_skip_that_says_how_to_record() {
        let p = profile("{}");
        let r = run(&after_reboot(), &p, Phase::PostBoot, &[], None, None);
        expect(
            &r,
            "Drift-Baseline",
            Status::Skip,
            &["nodecheck baseline record"],
        );
        let r = run(&after_reboot(), &p, Phase::PostJoin, &[], None, None);
        assert!(r.iter().all(|c| !c.id.starts_with("Drift-")));
    }

    #[test]
    fn lost_address_missing_nic_and_reused_name() {
        let (base, p) = (baseline(), profile("{}"));
        // The NIC is gone; its address now sits on a bridge.
        let mut now = base.clone();
        let nic = now.interfaces.remove(1);
        now.interfaces[2].addresses.push(nic.addresses[0].clone());
        let r = run(&now, &p, Phase::PostBoot, &[], Some(&base), None);
        expect(&r, "Drift-NodeNicName", Status::Fail, &["eth3", "is gone"]);
        expect(
            &r,
            "Drift-NodeAddress",
            Status::Fail,
            &["10.20.41.11/24 moved to tunl0"],
        );
        expect(&r, "Drift-Mtu", Status::Skip, &["gone"]);

        // Same name, another MAC: replaced hardware. And a changed address.
        let mut now = base.clone();
        now.interfaces[1].mac = Some("00:50:56:8a:99:99".into());
        now.interfaces[1].permanent_mac = Some("00:50:56:8a:99:99".into());
        now.interfaces[1].addresses[0].address = "10.20.41.57".parse().unwrap();
        let r = run(&now, &p, Phase::PostBoot, &[], Some(&base), None);
        expect(
            &r,
            "Drift-NodeNicName",
            Status::Warn,
            &["00:50:56:8a:99:99"],
        );
        expect(
            &r,
            "Drift-NodeAddress",
            Status::Fail,
            &["10.20.41.11/24 → 10.20.41.57/24", "is on no interface"],
        );
    }

    #[test]
    fn renamed_nic_whose_name_was_taken_and_cmdline_change() {
        let (base, p) = (baseline(), profile("{}"));
        let mut now = base.clone();
        // eth3 and eth4 swapped names (net.ifnames changed on the command line).
        now.interfaces[1].name = "eth4".into();
        now.interfaces[2].name = "eth3".into();
        now.host.cmdline.net_ifnames = Some("0".into());
        let r = run(&now, &p, Phase::PostBoot, &[], Some(&base), None);
        expect(
            &r,
            "Drift-NodeNicName",
            Status::Fail,
            &[
                "eth3 → eth4",
                "the name eth3 now belongs to another interface (MAC 00:50:56:8a:41:0c)",
            ],
        );
        expect(
            &r,
            "Drift-Kernel",
            Status::Fail,
            &["net.ifnames: absent → net.ifnames=0"],
        );
    }

    #[test]
    fn hostile_names_are_escaped_on_the_terminal_and_quoted_in_commands() {
        let (base, now) = hostile_rename();
        let results = post_boot(&now, &base);
        // Results keep the real name; the renderers escape it.
        expect(
            &results,
            "Drift-NodeNicName",
            Status::Fail,
            &["eth3 → e\x1bq$;x"],
        );
        let mtu = find(&results, "Drift-Mtu");
        assert!(mtu
            .remediation
            .as_deref()
            .unwrap()
            .contains("ip link set $'e\\x1bq$;x' mtu 1500"));
        // How the renderers escape the same results: `commands::results` tests.
    }

    #[test]
    fn ipv6_change_fails_when_the_cluster_needs_it() {
        let base = baseline();
        let mut now = base.clone();
        now.ipv6.all_disable_ipv6 = Some(true);
        let r = post_boot(&now, &base);
        expect(
            &r,
            "Drift-IPv6",
            Status::Warn,
            &["all.disable_ipv6=0 default.disable_ipv6=0 → all.disable_ipv6=1"],
        );
        let p = profile("ipv6: required\n");
        let r = run(&now, &p, Phase::PostBoot, &[], Some(&base), None);
        expect(&r, "Drift-IPv6", Status::Fail, &[]);
    }

    #[test]
    fn node_nic_from_profile_cidrs_and_allowed_bridges() {
        let base = baseline();
        let now = after_reboot();
        // The node network is the storage network here: eth4 is followed, and it did not change.
        let p = profile(
            "node_network:\n  cidrs: [10.30.41.0/24]\nbridges:\n  allowed: ['docker0', 'br-.*']\n",
        );
        let r = run(&now, &p, Phase::PostBoot, &[], Some(&base), None);
        expect(&r, "Drift-NodeNicName", Status::Ok, &["eth4"]);
        expect(&r, "Drift-Bridges", Status::Ok, &[]);
        expect(&r, "Drift-Mtu", Status::Ok, &["eth4 MTU 1500"]);
    }
}
