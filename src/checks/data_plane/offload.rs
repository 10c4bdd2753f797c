//! `Nic-ChecksumOffload`: VXLAN-encapsulated pod traffic leaving through a NIC whose driver is known
//! to compute UDP-tunnel checksums wrongly (or to have the hypervisor drop what it segments) while
//! its TX checksum / UDP-tunnel offloads are on. Ping and BGP still work; TCP and UDP between pods on
//! different nodes, Service traffic and cluster DNS stall or time out.
//!
//! - vmxnet3 (VMware): driver version 4 (Linux 5.8; RHEL 8.3's 4.18.0-240 backports it) turns on
//!   `tx-udp_tnl-segmentation` / `tx-udp_tnl-csum-segmentation`, and ESXi 6.7 and 7.0 before Update 3
//!   drop or mis-checksum VXLAN to port 4789 (Calico's 4789 is the one port it treats as VXLAN); later
//!   kernels and hosts still show bad outer UDP checksums with `tx-checksum-ip-generic` on (Calico
//!   issues 4727, 7040, 9433). The workaround is turning those features off on the NIC.
//! - On `vxlan.calico` itself, kernels before 5.7 corrupt the checksum of packets NATed with
//!   `MASQUERADE --random-fully` when checksum offload is on (Calico issue 3145); Calico turns it off
//!   on such kernels, and on all kernels in later releases. After the join, a `vxlan.calico` with
//!   `tx-checksum-ip-generic` on is flagged whatever the driver.
//!
//! IP-in-IP, WireGuard and no encapsulation send no VXLAN: the check passes saying so.

use crate::checks::node_network;
use crate::checks::{Area, CheckResult, Context};
use crate::escape::shell_quote_bytes;
use crate::facts::{Facts, Interface, Offload};

pub const ID: &str = "Nic-ChecksumOffload";
const AREA: Area = Area::DataPlane;

/// Drivers known to break VXLAN with their TX checksum / UDP-tunnel offloads on, with why.
const KNOWN_DRIVERS: &[(&str, &str)] = &[(
    "vmxnet3",
    "vmxnet3's TX checksum and UDP-tunnel offloads make VMware hosts drop or mis-checksum VXLAN (ESXi 6.7 and 7.0 before Update 3 drop port 4789 outright)",
)];

fn known_driver(iface: &Interface) -> Option<(&str, &'static str)> {
    let driver = iface.physical.as_ref()?.driver.as_deref()?;
    KNOWN_DRIVERS
        .iter()
        .find(|(d, _)| *d == driver)
        .map(|(_, why)| (driver, *why))
}

/// The node NIC and, for a bond or bridge, the links enslaved to it (transitively): where the
/// driver's offloads are.
fn nic_and_members<'f>(facts: &'f Facts, nic: &'f Interface) -> Vec<&'f Interface> {
    let mut found = vec![nic];
    let mut next = 0;
    while next < found.len() {
        let controller = found[next].name.as_str();
        for member in &facts.interfaces {
            if member.master.as_deref() == Some(controller)
                && !found.iter().any(|f| f.index == member.index)
            {
                found.push(member);
            }
        }
        next += 1;
    }
    found
}

/// Why a link's features are not in the snapshot.
fn unknown_reason(facts: &Facts, iface: &Interface) -> String {
    facts
        .unavailable
        .get(&format!("interfaces[{}].offload", iface.index))
        .cloned()
        .unwrap_or_else(|| {
            "not recorded (a snapshot from an older nodecheck, or from Ansible facts)".to_string()
        })
}

/// The recorded features that are on, by name.
fn on(offload: &Offload) -> Vec<&'static str> {
    Offload::NAMES
        .into_iter()
        .filter(|n| offload.get(n).is_some_and(|s| s.is_on()))
        .collect()
}

/// `ethtool -K <link> <feature> off ...` for the features that are on and may be changed.
fn ethtool_off(link: &Interface, offload: &Offload) -> Option<String> {
    let changeable: Vec<String> = on(offload)
        .into_iter()
        .filter(|n| offload.get(n).is_some_and(|s| s.changeable()))
        .map(|n| format!("{n} off"))
        .collect();
    (!changeable.is_empty()).then(|| {
        format!(
            "ethtool -K {} {}",
            shell_quote_bytes(link.raw_name()),
            changeable.join(" ")
        )
    })
}

pub fn evaluate(ctx: &Context) -> Vec<CheckResult> {
    let (encapsulation, source) = super::encapsulation(ctx);
    let encap = format!("{} ({source})", encapsulation.as_str());
    if !encapsulation.is_vxlan() {
        return vec![CheckResult::ok(
            ID,
            AREA,
            format!("Calico encapsulation {encap} sends no VXLAN: UDP-tunnel checksum offload faults do not apply"),
        )
        .with("encapsulation", encapsulation.as_str())];
    }
    let facts = ctx.facts;
    let mut parts = Vec::new();
    match node_network::resolve(facts, ctx.profile).nic {
        None => parts.push((
            "node_nic",
            CheckResult::skip(ID, AREA, "no node NIC found: its offloads cannot be judged"),
        )),
        Some(nic) => parts.push(("node_nic", judge_nic(facts, nic, &encap))),
    }
    parts.extend(
        facts
            .interfaces
            .iter()
            .filter(|i| crate::facts::is_calico_vxlan_device(&i.name))
            .filter_map(|i| judge_calico_vxlan(facts, i).map(|r| ("calico_vxlan", r))),
    );
    let judged = parts
        .iter()
        .any(|(_, r)| r.status != crate::checks::Status::Skip);
    if !judged {
        return parts.into_iter().map(|(_, r)| r).take(1).collect();
    }
    CheckResult::combine(ID, AREA, parts)
        .map(|r| r.with("encapsulation", encapsulation.as_str()))
        .into_iter()
        .collect()
}

fn judge_nic(facts: &Facts, nic: &Interface, encap: &str) -> CheckResult {
    let links = nic_and_members(facts, nic);
    let shown_nic = &nic.name;
    let known: Vec<(&Interface, &str, &str)> = links
        .iter()
        .filter_map(|l| known_driver(l).map(|(d, why)| (*l, d, why)))
        .collect();
    if known.is_empty() {
        let drivers: Vec<String> = links
            .iter()
            .map(|l| {
                let driver = l.physical.as_ref().and_then(|p| p.driver.as_deref());
                format!("{} {}", l.name, driver.unwrap_or("(no device driver)"))
            })
            .collect();
        return CheckResult::ok(
            ID,
            AREA,
            format!(
                "VXLAN ({encap}) leaves through {}: no driver known for broken UDP-tunnel checksum offload",
                drivers.join(", ")
            ),
        )
        .with("node_nic", nic.name.as_str());
    }
    let mut flagged = Vec::new();
    let mut unknown = Vec::new();
    let mut clean = Vec::new();
    for (link, driver, why) in &known {
        match &link.offload {
            None => unknown.push(format!(
                "{} ({driver}): offload features unknown: {}",
                link.name,
                unknown_reason(facts, link)
            )),
            Some(offload) if !on(offload).is_empty() => {
                flagged.push((*link, *driver, *why, offload))
            }
            Some(_) => clean.push(format!("{} ({driver})", &link.name)),
        }
    }
    let evidence = |r: CheckResult| {
        r.with("node_nic", nic.name.as_str()).with(
            "links",
            known
                .iter()
                .map(|(l, d, _)| {
                    serde_json::json!({
                        "name": l.name,
                        "driver": d,
                        "offload": l.offload.as_ref().map(|o| serde_json::to_value(o).unwrap_or_default()),
                    })
                })
                .collect::<Vec<_>>(),
        )
    };
    if !flagged.is_empty() {
        let what: Vec<String> = flagged
            .iter()
            .map(|(l, d, _, o)| format!("{} ({d}) has {} on", l.name, on(o).join(", ")))
            .collect();
        let commands: Vec<String> = flagged
            .iter()
            .filter_map(|(l, _, _, o)| ethtool_off(l, o))
            .collect();
        let names: Vec<String> = flagged
            .iter()
            .map(|(l, ..)| shell_quote_bytes(l.raw_name()))
            .collect();
        let fix = if commands.is_empty() {
            "the driver does not let these features change: move the node to a NIC type without the fault (e.g. e1000e on VMware), or use IP-in-IP encapsulation".to_string()
        } else {
            format!(
                "turn them off now: `{}`; keep it across reboots with NetworkManager (`nmcli connection modify <connection of {}> ethtool.feature-tx-checksum-ip-generic off ethtool.feature-tx-udp_tnl-segmentation off ethtool.feature-tx-udp_tnl-csum-segmentation off`), or with systemd-networkd/udev (`TransmitChecksumOffload=false` in the [Link] section of the .link file matching the NIC — only the first matching .link file applies — plus a udev rule running the ethtool command for the UDP-tunnel features, which .link files cannot set); or use IP-in-IP encapsulation",
                commands.join("; "),
                names.join(", ")
            )
        };
        return evidence(
            CheckResult::warn(
                ID,
                AREA,
                format!(
                    "VXLAN ({encap}) leaves through {shown_nic}, and {}: {}; pod-to-pod TCP/UDP across nodes, Services and cluster DNS then stall while ping works",
                    what.join("; "),
                    flagged[0].2
                ),
            )
            .fix(fix),
        );
    }
    if !unknown.is_empty() {
        return evidence(CheckResult::skip(
            ID,
            AREA,
            format!(
                "VXLAN ({encap}) leaves through {shown_nic}: {}",
                unknown.join("; ")
            ),
        ));
    }
    evidence(CheckResult::ok(
        ID,
        AREA,
        format!(
            "VXLAN ({encap}) leaves through {shown_nic}: {} has its TX checksum and UDP-tunnel offloads off",
            clean.join(", ")
        ),
    ))
}

/// `vxlan.calico` (after the join) with TX checksum offload on: Calico issue 3145.
fn judge_calico_vxlan(facts: &Facts, device: &Interface) -> Option<CheckResult> {
    let shown = &device.name;
    let kernel = &facts.host.kernel_release;
    let Some(offload) = &device.offload else {
        return Some(CheckResult::skip(
            ID,
            AREA,
            format!(
                "{shown}: offload features unknown: {}",
                unknown_reason(facts, device)
            ),
        ));
    };
    let state = offload.tx_checksum_ip_generic?;
    let r = if state.is_on() {
        let mut r = CheckResult::warn(
            ID,
            AREA,
            format!("{shown} has tx-checksum-ip-generic on (kernel {kernel}): with NAT (`MASQUERADE --random-fully`) the kernel sends VXLAN with bad UDP checksums, and connections through Services stall"),
        );
        if state.changeable() {
            let command = format!(
                "ethtool -K {} tx-checksum-ip-generic off",
                shell_quote_bytes(device.raw_name())
            );
            r = r.fix(format!("`{command}`; to keep it, set `featureDetectOverride: \"ChecksumOffloadBroken=true\"` in the default FelixConfiguration (Felix then turns it off whenever it creates the device)"));
        }
        r
    } else {
        CheckResult::ok(ID, AREA, format!("{shown} has tx-checksum-ip-generic off"))
    };
    Some(
        r.with("device", device.name.as_str())
            .with("kernel_release", facts.host.kernel_release.as_str()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{expect, find, profile, run};
    use crate::checks::{Phase, Status};
    use crate::facts::testkit::host;
    use crate::facts::FeatureState;
    use crate::facts::FeatureState::{Off, OffFixed, On};

    const VXLAN: &str = "cluster: t\ncalico:\n  encapsulation: vxlan\n";

    /// ens192 (10.0.0.5/24, default route) with this driver and these features.
    fn node(driver: &str, offload: Option<Offload>) -> Facts {
        let mut facts = host("worker-1")
            .nic("ens192", &["10.0.0.5/24"])
            .route("default", Some("10.0.0.1"), "ens192", None, None)
            .build();
        let nic = &mut facts.interfaces[1];
        nic.physical.as_mut().unwrap().driver = Some(driver.into());
        nic.offload = offload;
        facts
    }

    /// vmxnet3 v4 as RHEL 8.3 sets it up: generic checksum and both UDP-tunnel offloads on.
    fn vmxnet3_v4() -> Offload {
        features(&[
            ("tx-checksum-ipv4", OffFixed),
            ("tx-checksum-ip-generic", On),
            ("tx-checksum-ipv6", OffFixed),
            ("tx-udp_tnl-segmentation", On),
            ("tx-udp_tnl-csum-segmentation", On),
        ])
    }

    fn features(states: &[(&str, FeatureState)]) -> Offload {
        let mut o = Offload::default();
        for (n, s) in states {
            o.set(n, *s);
        }
        o
    }

    fn judge(facts: &Facts, yaml: &str) -> CheckResult {
        find(
            &run(facts, &profile(yaml), Phase::PreJoin, &[], None, None),
            ID,
        )
        .clone()
    }

    #[test]
    fn vmxnet3_with_offloads_on_under_vxlan_warns_with_the_ethtool_command() {
        let facts = node("vmxnet3", Some(vmxnet3_v4()));
        let r = judge(&facts, VXLAN);
        assert_eq!(r.status, Status::Warn, "{}", r.message);
        assert!(r.message.contains("ens192 (vmxnet3) has tx-checksum-ip-generic, tx-udp_tnl-segmentation, tx-udp_tnl-csum-segmentation on"), "{}", r.message);
        let fix = r.remediation.unwrap();
        assert!(fix.contains("`ethtool -K ens192 tx-checksum-ip-generic off tx-udp_tnl-segmentation off tx-udp_tnl-csum-segmentation off`"), "{fix}");
        assert!(
            fix.contains("ethtool.feature-tx-checksum-ip-generic off"),
            "{fix}"
        );
        assert!(fix.contains("TransmitChecksumOffload=false"), "{fix}");
        assert_eq!(
            r.evidence["node_nic"]["links"][0]["offload"]["tx-udp_tnl-segmentation"],
            "on"
        );
    }

    #[test]
    fn cross_subnet_vxlan_is_vxlan_too() {
        let facts = node("vmxnet3", Some(vmxnet3_v4()));
        let r = judge(
            &facts,
            "cluster: t\ncalico:\n  encapsulation: vxlan-cross-subnet\n",
        );
        assert_eq!(r.status, Status::Warn, "{}", r.message);
    }

    #[test]
    fn the_fix_names_only_what_is_on_and_may_change_and_quotes_the_name() {
        let mut facts = node(
            "vmxnet3",
            Some(features(&[
                ("tx-checksum-ip-generic", On),
                ("tx-udp_tnl-segmentation", FeatureState::OnFixed),
                ("tx-udp_tnl-csum-segmentation", Off),
            ])),
        );
        facts.interfaces[1].name = "ens 192".into();
        facts.routes[0].device = Some("ens 192".into());
        let r = judge(&facts, VXLAN);
        assert_eq!(r.status, Status::Warn, "{}", r.message);
        let fix = r.remediation.unwrap();
        assert!(
            fix.contains("`ethtool -K 'ens 192' tx-checksum-ip-generic off`"),
            "{fix}"
        );

        // A name that is not UTF-8: the command carries the kernel's bytes.
        facts.interfaces[1].name = "ens\\xff".into();
        facts.interfaces[1].name_bytes = Some(b"ens\xff".to_vec().into_boxed_slice());
        facts.routes[0].device = Some("ens\\xff".into());
        let fix = judge(&facts, VXLAN).remediation.unwrap();
        assert!(
            fix.contains(r"`ethtool -K $'ens\xff' tx-checksum-ip-generic off`"),
            "{fix}"
        );
    }

    #[test]
    fn vmxnet3_with_the_offloads_off_passes() {
        let off = features(&[
            ("tx-checksum-ipv4", OffFixed),
            ("tx-checksum-ip-generic", Off),
            ("tx-checksum-ipv6", OffFixed),
            ("tx-udp_tnl-segmentation", Off),
            ("tx-udp_tnl-csum-segmentation", Off),
        ]);
        expect(
            &run(
                &node("vmxnet3", Some(off)),
                &profile(VXLAN),
                Phase::PreJoin,
                &[],
                None,
                None,
            ),
            ID,
            Status::Ok,
            &["ens192 (vmxnet3) has its TX checksum and UDP-tunnel offloads off"],
        );
    }

    #[test]
    fn other_drivers_pass_whatever_their_features() {
        let r = judge(&node("virtio_net", Some(vmxnet3_v4())), VXLAN);
        assert_eq!(r.status, Status::Ok, "{}", r.message);
        assert!(r.message.contains("ens192 virtio_net"), "{}", r.message);
    }

    #[test]
    fn ipip_and_no_encapsulation_send_no_vxlan() {
        for (yaml, shown) in [
            ("cluster: t\ncalico:\n  encapsulation: ipip\n", "ipip"),
            ("cluster: t\ncalico:\n  encapsulation: none\n", "none"),
            ("cluster: t\n", "ipip (calico.yaml's default"),
            (
                "cluster: t\ncalico:\n  encapsulation: wireguard\n",
                "wireguard",
            ),
        ] {
            let r = judge(&node("vmxnet3", Some(vmxnet3_v4())), yaml);
            assert_eq!(r.status, Status::Ok, "{yaml}: {}", r.message);
            assert!(r.message.contains(shown), "{}", r.message);
            assert!(r.message.contains("sends no VXLAN"), "{}", r.message);
        }
    }

    /// A snapshot from before the features were recorded, or one where the kernel could not say.
    #[test]
    fn unknown_features_skip_with_the_reason() {
        let r = judge(&node("vmxnet3", None), VXLAN);
        assert_eq!(r.status, Status::Skip, "{}", r.message);
        assert!(
            r.message
                .contains("not recorded (a snapshot from an older nodecheck"),
            "{}",
            r.message
        );

        let mut facts = node("vmxnet3", None);
        facts.unavailable.insert(
            "interfaces[2].offload".into(),
            "the kernel has no ethtool netlink family (Linux 5.6+ with CONFIG_ETHTOOL_NETLINK)"
                .into(),
        );
        let r = judge(&facts, VXLAN);
        assert_eq!(r.status, Status::Skip, "{}", r.message);
        assert!(
            r.message.contains("no ethtool netlink family"),
            "{}",
            r.message
        );
    }

    #[test]
    fn a_bond_is_judged_by_its_members() {
        let mut facts = host("worker-1")
            .link("bond0", Some("bond"), &["10.0.0.5/24"])
            .nic("ens192", &[])
            .nic("ens224", &[])
            .route("default", Some("10.0.0.1"), "bond0", None, None)
            .build();
        for i in 2..4 {
            facts.interfaces[i].master = Some("bond0".into());
            facts.interfaces[i].physical.as_mut().unwrap().driver = Some("vmxnet3".into());
        }
        facts.interfaces[2].offload = Some(vmxnet3_v4());
        facts.interfaces[3].offload = Some(features(&[("tx-checksum-ip-generic", Off)]));
        let r = judge(&facts, VXLAN);
        assert_eq!(r.status, Status::Warn, "{}", r.message);
        assert!(r.message.contains("leaves through bond0"), "{}", r.message);
        assert!(r.message.contains("ens192 (vmxnet3) has"), "{}", r.message);
        assert!(!r.message.contains("ens224 (vmxnet3) has"), "{}", r.message);
    }

    #[test]
    fn without_a_node_nic_it_skips() {
        let facts = host("worker-1").link("lo", None, &["127.0.0.1/8"]).build();
        let r = judge(&facts, VXLAN);
        assert_eq!(r.status, Status::Skip, "{}", r.message);
    }

    /// After the join: vxlan.calico with checksum offload on (Calico issue 3145), whatever the NIC.
    #[test]
    fn calico_vxlan_device_with_checksum_offload_on_warns() {
        let mut facts = node("virtio_net", None);
        facts.host.kernel_release = "5.4.0-42-generic".into();
        facts = {
            let mut b = facts;
            let mut vx = b.interfaces[1].clone();
            vx.index = 7;
            vx.name = "vxlan.calico".into();
            vx.kind = Some("vxlan".into());
            vx.physical = None;
            vx.addresses.clear();
            vx.offload = Some(features(&[("tx-checksum-ip-generic", On)]));
            b.interfaces.push(vx);
            b
        };
        let r = judge(&facts, VXLAN);
        assert_eq!(r.status, Status::Warn, "{}", r.message);
        assert!(
            r.message
                .contains("vxlan.calico has tx-checksum-ip-generic on (kernel 5.4.0-42-generic)"),
            "{}",
            r.message
        );
        let fix = r.remediation.unwrap();
        assert!(
            fix.contains("`ethtool -K vxlan.calico tx-checksum-ip-generic off`"),
            "{fix}"
        );
        assert!(fix.contains("ChecksumOffloadBroken=true"), "{fix}");

        facts.interfaces[2].offload = Some(features(&[("tx-checksum-ip-generic", Off)]));
        let r = judge(&facts, VXLAN);
        assert_eq!(r.status, Status::Ok, "{}", r.message);
    }

    /// Snapshots written before `offload` existed load, and what they lack reads as unknown.
    #[test]
    fn snapshots_without_offload_load() {
        let facts = crate::checks::testing::baseline();
        assert!(facts.interfaces.iter().all(|i| i.offload.is_none()));
        let json = serde_json::to_string(&node("vmxnet3", Some(vmxnet3_v4()))).unwrap();
        assert!(
            json.contains(
                r#""offload":{"tx-checksum-ip-generic":"on","tx-checksum-ipv4":"off [fixed]""#
            ),
            "{json}"
        );
        let back = crate::facts::load::parse_facts(&json).unwrap();
        assert_eq!(back.interfaces[1].offload, Some(vmxnet3_v4()));
    }
}
