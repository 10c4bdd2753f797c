//! The node NIC: is the NIC the profile expects present and carrying the node network (and if not,
//! which NIC is, and why its name differs), does it hold a node address, is it up, is its MTU right,
//! does the default route leave through it; and the profile's other NICs (`Nic-<role>`).

use serde_json::json;

use super::finding::Finding;
use super::node_network::{
    self, describe_nic, has_expected_name, join, pattern_mismatches, NodeNetwork,
};
use super::{Area, CheckResult, Context};
use crate::escape::shell_quote_bytes;
use crate::facts::{Facts, Family, Interface, KernelCmdline};
use crate::network::addresses::{cidr_of, in_any, is_global};
use crate::network::nic::{naming_scheme, pci_address, NamingScheme};
use crate::network::routes::default_route_devices;
use crate::network::SubnetSource;
use crate::profile::NicExpectation;

const AREA: Area = Area::NodeNic;

pub fn evaluate(ctx: &Context) -> Vec<CheckResult> {
    let net = node_network::resolve(ctx.facts, ctx.profile);
    let mut out = vec![
        present(ctx, &net),
        address(ctx, &net),
        state(&net),
        mtu(ctx, &net),
        default_route(ctx.facts, &net),
    ];
    for (i, exp) in ctx.profile.other_nics.iter().enumerate() {
        out.push(other_nic(ctx.facts, exp, i));
    }
    out
}

fn present(ctx: &Context, net: &NodeNetwork) -> CheckResult {
    const ID: &str = "NodeNic-Present";
    let cidrs = net.cidrs_text();
    let carrier = net.carriers.first().map(|(i, _)| *i);
    let Some(exp) = &ctx.profile.node_network.nic else {
        return match carrier {
            Some(c) => CheckResult::ok(
                ID,
                AREA,
                format!(
                    "the profile expects no particular NIC; the node network {cidrs} is on {}",
                    describe_nic(c)
                ),
            )
            .with("interface", c.name.as_str()),
            None => CheckResult::skip(
                ID,
                AREA,
                "the profile expects no particular NIC and no interface carries the node network (see NodeNic-Address)",
            ),
        };
    };
    let wanted = expectation_label(exp);
    if let Some(found) = net.expected {
        let mismatches = pattern_mismatches(found, exp);
        if !mismatches.is_empty() {
            return CheckResult::fail(
                ID,
                AREA,
                format!("{} is present but {}", found.name, mismatches.join("; ")),
            )
            .with("interface", found.name.as_str())
            .with("mac", found.mac.as_deref())
            .with("pci", pci_address(found))
            .fix("check that this is the right NIC (a replaced card has a new MAC and PCI address), then update node_network.nic in the profile");
        }
        if net.carriers.iter().any(|(i, _)| i.name == found.name) {
            return CheckResult::ok(
                ID,
                AREA,
                format!("{} carries the node network {cidrs}", describe_nic(found)),
            )
            .with("interface", found.name.as_str());
        }
        let elsewhere = match carrier {
            Some(c) => format!("; the node network is on {} instead", describe_nic(c)),
            None => String::new(),
        };
        return CheckResult::fail(
            ID,
            AREA,
            format!(
                "{} is present but carries no address in the node network {cidrs}{elsewhere}",
                found.name
            ),
        )
        .with("interface", found.name.as_str())
        .with("carrier", carrier.map(|c| c.name.as_str()))
        .fix(format!(
            "move the node address to {} (its netplan/ifcfg/NetworkManager configuration), or correct node_network in the profile",
            found.name
        ));
    }
    // The expected NIC does not exist.
    let Some(c) = carrier else {
        let physical = physical_nics(ctx.facts);
        return CheckResult::fail(
            ID,
            AREA,
            format!(
                "no NIC named {wanted}, and no interface carries the node network {cidrs}; physical NICs here: {}",
                nic_list(&physical)
            ),
        )
        .with("expected", wanted.clone())
        .with("physical_nics", physical)
        .fix("connect this host to the node network and name its NIC as the profile expects; or fix node_network in the profile");
    };
    let why = naming_explanation(&ctx.facts.host.cmdline, exp, c);
    let altname_note = match exp.name.as_deref() {
        Some(n) if c.altnames.iter().any(|a| a == n) => format!(
            " ({} has {n} only as an altname: Calico and kubelet match the primary name)",
            c.name
        ),
        _ => String::new(),
    };
    let addresses = join(net.carriers[0].1.iter().map(|a| cidr_of(a)));
    let calico_note = match (&ctx.profile.calico.ipv4_method, &exp.name) {
        (Some(method), Some(name)) if method.trim() == format!("interface={name}") => format!(
            " Calico's IP_AUTODETECTION_METHOD={method} (from the profile) will find no such interface here."
        ),
        _ => String::new(),
    };
    let mut result = CheckResult::fail(
        ID,
        AREA,
        format!(
            "expected NIC {wanted} is missing; the node network {cidrs} is on {} with {addresses}{altname_note}. {why}{calico_note}",
            describe_nic(c)
        ),
    )
    .found(Finding::NicName {
        expected: wanted.clone(),
        interface: c.name.to_string(),
    })
    .with("mac", c.mac.as_deref())
    .with("driver", c.physical.as_ref().and_then(|p| p.driver.as_deref()))
    .with("pci", pci_address(c))
    .with("device_path", c.physical.as_ref().and_then(|p| p.device_path.as_deref()))
    .with("addresses", json!(net.carriers[0].1.iter().map(|a| cidr_of(a)).collect::<Vec<_>>()))
    .with("net_ifnames", ctx.facts.host.cmdline.net_ifnames.as_deref())
    .with("biosdevname", ctx.facts.host.cmdline.biosdevname.as_deref());
    result = result.fix(rename_remedy(exp, c, &net.cidrs));
    result
}

/// Every physical NIC, described (name, MAC, driver, PCI address).
fn physical_nics(facts: &Facts) -> Vec<String> {
    facts
        .interfaces
        .iter()
        .filter(|i| i.physical.is_some())
        .map(describe_nic)
        .collect()
}

/// NIC descriptions for a message: `; `-separated, or `none`.
fn nic_list(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join("; ")
    }
}

fn expectation_label(exp: &NicExpectation) -> String {
    let mut names: Vec<String> = exp.name.iter().cloned().collect();
    names.extend(exp.alternatives.iter().cloned());
    if names.is_empty() {
        let mut pats = Vec::new();
        if let Some(p) = &exp.mac_pattern {
            pats.push(format!("MAC ~ {p}"));
        }
        if let Some(p) = &exp.pci_pattern {
            pats.push(format!("PCI ~ {p}"));
        }
        return format!("matching {}", pats.join(" and "));
    }
    names.join(" or ")
}

/// How to make the names agree: pin the name with a systemd .link file, or accept the other name.
fn rename_remedy(exp: &NicExpectation, actual: &Interface, cidrs: &[ipnet::IpNet]) -> String {
    let cidr_method = cidrs
        .first()
        .map(|c| format!(" and set Calico's IP_AUTODETECTION_METHOD=cidr={c}, which works whatever the NIC is called"))
        .unwrap_or_default();
    let accept = format!(
        "or, if {} is acceptable on this cluster, add it to node_network.nic.alternatives{cidr_method}",
        actual.name
    );
    match (&exp.name, actual.permanent_mac.as_ref().or(actual.mac.as_ref())) {
        (Some(name), Some(mac)) => format!(
            "pin the name: create /etc/systemd/network/10-{name}.link with `[Match] MACAddress={mac}` and `[Link] Name={name}`, run `update-initramfs -u` (or `dracut -f`) and reboot (check with `ip -br link`); {accept}",
        ),
        _ => accept,
    }
}

fn naming_explanation(cmdline: &KernelCmdline, exp: &NicExpectation, actual: &Interface) -> String {
    let Some(expected) = exp.name.as_deref() else {
        return String::new();
    };
    let ifnames_off = cmdline.net_ifnames.as_deref() == Some("0");
    let biosdevname_on = cmdline.biosdevname.as_deref() == Some("1");
    use NamingScheme::{Biosdevname, Kernel, Predictable};
    let cmdline_text = format!(
        "net.ifnames={}, biosdevname={}",
        cmdline.net_ifnames.as_deref().unwrap_or("(unset)"),
        cmdline.biosdevname.as_deref().unwrap_or("(unset)")
    );
    match (naming_scheme(expected), naming_scheme(&actual.name)) {
        (Kernel(_), Predictable(_)) if ifnames_off => format!(
            "Names differ although the kernel command line has net.ifnames=0: a udev rule or systemd .link file named it {}.",
            actual.name
        ),
        (Kernel(_), Predictable(_)) => format!(
            "Names differ because this host uses systemd predictable names ({} is derived from the device's firmware/PCI position) while the profile expects a kernel-style name; nodes named {expected} boot with net.ifnames=0 or have a .link file (kernel command line here: {cmdline_text}).",
            actual.name
        ),
        (Kernel(_), Biosdevname) => format!(
            "Names differ because biosdevname named it {} (kernel command line: {cmdline_text}); nodes named {expected} boot with biosdevname=0 net.ifnames=0 or have a .link file.",
            actual.name
        ),
        (Predictable(_), Kernel(_)) => format!(
            "Names differ because this host uses kernel names ({}; kernel command line: {cmdline_text}) while the profile expects a predictable name: remove net.ifnames=0, or pin the name.",
            actual.name
        ),
        (Predictable(_), Predictable(_)) => format!(
            "Both are predictable names: the NIC sits in a different slot/bus position here ({}) than on the nodes where it is {expected}.",
            pci_address(actual).unwrap_or("unknown PCI address")
        ),
        (Kernel(_), Kernel(_)) => format!(
            "Both are kernel names: the kernel enumerated the NICs in a different order here (driver load order, or a different number of NICs){}.",
            if biosdevname_on { "; biosdevname=1 is set" } else { "" }
        ),
        _ => format!(
            "The name was given by a naming rule on this host (udev rule, systemd .link file, or NetworkManager); kernel command line: {cmdline_text}."
        ),
    }
}

fn address(ctx: &Context, net: &NodeNetwork) -> CheckResult {
    const ID: &str = "NodeNic-Address";
    let cidrs = net.cidrs_text();
    if net.source == SubnetSource::Unknown {
        let has_default = !default_route_devices(ctx.facts, Family::Ipv4).is_empty()
            || !default_route_devices(ctx.facts, Family::Ipv6).is_empty();
        let why = if has_default {
            "the default route's interface has no global address"
        } else {
            "there is no default route"
        };
        return CheckResult::fail(
            ID,
            AREA,
            format!("the profile names no node network and {why}, so neither nodecheck nor kubeadm can tell the node address"),
        )
        .fix("set node_network.cidrs in the profile, and give kubelet --node-ip (KUBELET_EXTRA_ARGS) or add a default route via the node NIC");
    }
    let origin = match &net.source {
        SubnetSource::DefaultRoute(devs) => {
            format!(" (derived from the default route via {})", devs.join(", "))
        }
        _ => String::new(),
    };
    if let Some(exp_nic) = net.expected {
        if !net.carriers.iter().any(|(i, _)| i.name == exp_nic.name) {
            let has: Vec<String> = exp_nic
                .addresses
                .iter()
                .filter(|a| is_global(a))
                .map(cidr_of)
                .collect();
            return CheckResult::fail(
                ID,
                AREA,
                format!(
                    "{} has no address in the node network {cidrs}{origin}; it has {}",
                    exp_nic.name,
                    if has.is_empty() {
                        "no global address".to_string()
                    } else {
                        has.join(", ")
                    }
                ),
            )
            .with("interface", exp_nic.name.as_str())
            .with("addresses", has)
            .fix(format!(
                "configure {} with this node's address in {cidrs}",
                exp_nic.name
            ));
        }
    }
    match net.carriers.as_slice() {
        [] => {
            let global: Vec<String> = ctx
                .facts
                .interfaces
                .iter()
                .flat_map(|i| {
                    i.addresses
                        .iter()
                        .filter(|a| is_global(a))
                        .map(move |a| format!("{} {}", i.name, cidr_of(a)))
                })
                .collect();
            CheckResult::fail(
                ID,
                AREA,
                format!(
                    "no interface has an address in the node network {cidrs}{origin}; addresses here: {}",
                    if global.is_empty() { "none".to_string() } else { global.join(", ") }
                ),
            )
            .with("addresses", global)
            .fix(format!("give the node NIC its address in {cidrs}, or correct node_network.cidrs in the profile"))
        }
        [(only, addrs)] => CheckResult::ok(
            ID,
            AREA,
            format!(
                "{} has {} in the node network {cidrs}{origin}",
                only.name,
                join(addrs.iter().map(|a| cidr_of(a)))
            ),
        )
        .with("interface", only.name.as_str())
        .with(
            "addresses",
            addrs.iter().map(|a| cidr_of(a)).collect::<Vec<_>>(),
        ),
        several => {
            let list: Vec<String> = several
                .iter()
                .map(|(i, a)| format!("{} {}", i.name, join(a.iter().map(|a| cidr_of(a)))))
                .collect();
            CheckResult::warn(
                ID,
                AREA,
                format!(
                    "the node network {cidrs} is on several interfaces: {}; kubelet and Calico may pick either",
                    list.join("; ")
                ),
            )
            .with("interfaces", several.iter().map(|(i, _)| i.name.as_str()).collect::<Vec<_>>())
            .fix("keep the node address on one NIC, or pin kubelet (--node-ip) and Calico (IP_AUTODETECTION_METHOD=interface=<nic>) to it")
        }
    }
}

fn state(net: &NodeNetwork) -> CheckResult {
    const ID: &str = "NodeNic-State";
    let Some(nic) = net.nic else {
        return CheckResult::skip(ID, AREA, "no node NIC found (see NodeNic-Present)");
    };
    let ev = |r: CheckResult| {
        r.with("interface", nic.name.as_str())
            .with("admin_up", nic.admin_up)
            .with("operstate", nic.operstate.as_str())
            .with("carrier", nic.carrier)
    };
    let quoted = shell_quote_bytes(nic.raw_name());
    if !nic.admin_up {
        return ev(CheckResult::fail(
            ID,
            AREA,
            format!("{} is administratively down", nic.name),
        ))
        .fix(format!(
            "`ip link set {quoted} up`, and make it persistent in the network configuration"
        ));
    }
    if nic.carrier == Some(false)
        || matches!(
            nic.operstate.as_str(),
            "down" | "lowerlayerdown" | "notpresent" | "dormant"
        )
    {
        return ev(CheckResult::fail(
            ID,
            AREA,
            format!(
                "{} is up but has no link (operstate {}, carrier {})",
                nic.name,
                nic.operstate,
                nic.carrier
                    .map(|c| if c { "on" } else { "off" })
                    .unwrap_or("unknown")
            ),
        ))
        .fix(format!(
            "check the cable / virtual switch port of {}; `ethtool {quoted}` shows the link",
            nic.name
        ));
    }
    ev(CheckResult::ok(
        ID,
        AREA,
        format!(
            "{} is up (operstate {}, carrier on)",
            nic.name, nic.operstate
        ),
    ))
}

fn mtu(ctx: &Context, net: &NodeNetwork) -> CheckResult {
    const ID: &str = "NodeNic-Mtu";
    let Some(nic) = net.nic else {
        return CheckResult::skip(ID, AREA, "no node NIC found (see NodeNic-Present)");
    };
    match ctx.profile.node_network.mtu {
        Some(want) if want != nic.mtu => CheckResult::fail(
            ID,
            AREA,
            format!("{} has MTU {}, the profile expects {want}", nic.name, nic.mtu),
        )
        .with("interface", nic.name.as_str())
        .with("mtu", nic.mtu)
        .with("expected", want)
        .fix(format!(
            "set MTU {want} on {} in its network configuration (`ip link set {} mtu {want}` for now); a mismatch breaks large packets between nodes and pods",
            nic.name,
            shell_quote_bytes(nic.raw_name())
        )),
        Some(want) => CheckResult::ok(ID, AREA, format!("{} has MTU {want} as expected", nic.name))
            .with("interface", nic.name.as_str())
            .with("mtu", nic.mtu),
        None => CheckResult::ok(
            ID,
            AREA,
            format!("{} has MTU {} (the profile expects none in particular)", nic.name, nic.mtu),
        )
        .with("interface", nic.name.as_str())
        .with("mtu", nic.mtu),
    }
}

fn default_route(facts: &Facts, net: &NodeNetwork) -> CheckResult {
    const ID: &str = "NodeNic-DefaultRoute";
    let Some(nic) = net.nic else {
        return CheckResult::skip(ID, AREA, "no node NIC found (see NodeNic-Present)");
    };
    let mut families: Vec<Family> = Vec::new();
    for c in &net.cidrs {
        let f = Family::of(&c.addr());
        if !families.contains(&f) {
            families.push(f);
        }
    }
    let mut problems = Vec::new();
    let mut fine = Vec::new();
    for f in &families {
        let devices = default_route_devices(facts, *f);
        let v = format!("IPv{}", f.number());
        if devices.is_empty() {
            problems.push(format!("no {v} default route"));
        } else if devices.contains(&nic.name.as_str()) {
            let multipath = if devices.len() > 1 {
                format!(
                    " (multipath with {})",
                    devices
                        .iter()
                        .filter(|d| **d != nic.name)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            } else {
                String::new()
            };
            fine.push(format!("{v} default route via {}{multipath}", nic.name));
        } else {
            problems.push(format!(
                "the {v} default route leaves via {}, not the node NIC {}",
                devices.join(", "),
                nic.name
            ));
        }
    }
    if problems.is_empty() {
        CheckResult::ok(ID, AREA, fine.join("; ")).with("interface", nic.name.as_str())
    } else {
        let prediction = crate::kubelet::predict_node_ip(facts);
        let consequence = match (prediction.step, prediction.primary()) {
            (crate::kubelet::Step::DefaultRoute, Some(ip)) => format!(
                "; kubelet registers the default route's address {ip} as the InternalIP (see Kubelet-NodeIP)"
            ),
            (crate::kubelet::Step::CloudProvider, _) => {
                "; kubelet's address comes from the cloud provider, not the default route".to_string()
            }
            (_, Some(ip)) => format!(
                "; kubelet does not follow the default route here: it registers {ip} ({}; see Kubelet-NodeIP)",
                prediction.reason
            ),
            (_, None) => "; kubelet will register no address (see Kubelet-NodeIP)".to_string(),
        };
        let pinned = super::kubelet::node_network_addresses(net);
        let pin = if pinned.is_empty() {
            "kubelet --node-ip=<node address> (KUBELET_EXTRA_ARGS)".to_string()
        } else {
            let pin = crate::kubelet::pin::node_ip_pin(facts, &pinned);
            format!("kubelet `{}` in {}", pin.line, pin.file)
        };
        CheckResult::warn(ID, AREA, problems.join("; ") + &consequence)
            .with("interface", nic.name.as_str())
            .fix(format!("route the default via {}, or pin the address: {pin} and kubeadm join --apiserver-advertise-address on control planes", nic.name))
    }
}

fn other_nic(facts: &Facts, exp: &NicExpectation, index: usize) -> CheckResult {
    let subject = exp
        .role
        .clone()
        .or_else(|| exp.name.clone())
        .unwrap_or_else(|| format!("{index}"));
    let id = format!("Nic-{subject}");
    let area = Area::NodeNic;
    let label = expectation_label(exp);
    let Some(found) = node_network::find_expected(facts, exp) else {
        return CheckResult::fail(
            id,
            area,
            format!(
                "{subject} NIC {label} is missing; physical NICs here: {}",
                nic_list(&physical_nics(facts))
            ),
        )
        .with("expected", label)
        .fix("connect and name the NIC as on the other nodes (systemd .link file), or update other_nics in the profile");
    };
    let mut problems = pattern_mismatches(found, exp);
    if !exp.cidrs.is_empty() {
        let inside = found
            .addresses
            .iter()
            .any(|a| is_global(a) && in_any(&a.address, &exp.cidrs));
        if !inside {
            problems.push(format!("has no address in {}", join(exp.cidrs.iter())));
        }
    }
    if !found.admin_up || found.carrier == Some(false) {
        problems.push(format!("is down (operstate {})", found.operstate));
    }
    let by_name = if has_expected_name(found, exp) {
        ""
    } else {
        " (matched by pattern)"
    };
    if problems.is_empty() {
        CheckResult::ok(
            id,
            area,
            format!(
                "{subject} NIC {}{by_name} is present and up",
                describe_nic(found)
            ),
        )
        .with("interface", found.name.as_str())
    } else {
        CheckResult::fail(
            id,
            area,
            format!("{subject} NIC {} {}", found.name, problems.join("; ")),
        )
        .with("interface", found.name.as_str())
        .fix(format!(
            "fix {}'s configuration to match other_nics in the profile",
            found.name
        ))
    }
}

#[cfg(test)]
mod tests {
    use crate::checks::testing::{expect, find, profile, run};
    use crate::checks::{Phase, Status};
    use crate::facts::testkit::host;
    use crate::facts::Facts;

    const ETH3_PROFILE: &str =
        "node_network:\n  cidrs: [10.20.41.0/24]\n  nic: {name: eth3}\n  mtu: 1500\n";

    fn judge(facts: &Facts, yaml: &str) -> Vec<crate::checks::CheckResult> {
        run(facts, &profile(yaml), Phase::PreJoin, &[], None, None)
    }

    fn worker(nic: &str) -> crate::facts::testkit::HostBuilder {
        host("worker-41").nic(nic, &["10.20.41.41/24"]).route(
            "default",
            Some("10.20.41.1"),
            nic,
            None,
            None,
        )
    }

    #[test]
    fn the_expected_nic_carrying_the_node_network_passes_every_part() {
        let r = judge(&worker("eth3").build(), ETH3_PROFILE);
        expect(
            &r,
            "NodeNic-Present",
            Status::Ok,
            &["eth3", "10.20.41.0/24"],
        );
        expect(
            &r,
            "NodeNic-Address",
            Status::Ok,
            &["eth3 has 10.20.41.41/24"],
        );
        expect(&r, "NodeNic-State", Status::Ok, &["eth3 is up"]);
        expect(&r, "NodeNic-Mtu", Status::Ok, &["MTU 1500 as expected"]);
        expect(
            &r,
            "NodeNic-DefaultRoute",
            Status::Ok,
            &["IPv4 default route via eth3"],
        );
    }

    /// The incident: the profile says eth3, this worker's NIC is ens192 and carries the node network;
    /// the finding names the NIC that does, and the Calico method that would find nothing.
    #[test]
    fn a_missing_expected_nic_names_the_nic_that_carries_the_node_network() {
        let yaml = format!("{ETH3_PROFILE}calico:\n  ipv4_method: interface=eth3\n");
        let r = judge(&worker("ens192").build(), &yaml);
        expect(
            &r,
            "NodeNic-Present",
            Status::Fail,
            &[
                "expected NIC eth3 is missing",
                "ens192",
                "10.20.41.41/24",
                "interface=eth3",
            ],
        );
        let present = find(&r, "NodeNic-Present");
        assert_eq!(present.evidence["interface"], "ens192");
        assert!(present
            .remediation
            .as_deref()
            .is_some_and(|f| f.contains("eth3")));
        // The node NIC is still found through the node network, so the other parts judge ens192.
        expect(&r, "NodeNic-State", Status::Ok, &["ens192 is up"]);
    }

    #[test]
    fn the_expected_nic_without_a_node_address_fails_and_names_where_the_network_is() {
        let facts = host("worker-41")
            .nic("eth3", &["192.168.7.5/24"])
            .nic("eth4", &["10.20.41.41/24"])
            .route("default", Some("10.20.41.1"), "eth4", None, None)
            .build();
        let r = judge(&facts, ETH3_PROFILE);
        expect(
            &r,
            "NodeNic-Present",
            Status::Fail,
            &["eth3 is present but carries no address", "on eth4"],
        );
        expect(
            &r,
            "NodeNic-Address",
            Status::Fail,
            &["eth3 has no address in the node network", "192.168.7.5/24"],
        );
    }

    #[test]
    fn a_down_nic_and_a_wrong_mtu_fail_with_quoted_commands() {
        let mut facts = worker("eth3").down().build();
        facts.interfaces[1].mtu = 9000;
        let r = judge(&facts, ETH3_PROFILE);
        expect(
            &r,
            "NodeNic-State",
            Status::Fail,
            &["administratively down"],
        );
        assert!(find(&r, "NodeNic-State")
            .remediation
            .as_deref()
            .is_some_and(|f| f.contains("ip link set eth3 up")));
        expect(
            &r,
            "NodeNic-Mtu",
            Status::Fail,
            &["MTU 9000", "expects 1500"],
        );
    }

    #[test]
    fn the_node_network_on_two_interfaces_is_a_warning() {
        let facts = worker("eth3").nic("eth4", &["10.20.41.42/24"]).build();
        let r = judge(&facts, ETH3_PROFILE);
        expect(
            &r,
            "NodeNic-Address",
            Status::Warn,
            &["several interfaces", "eth3", "eth4"],
        );
    }

    #[test]
    fn a_default_route_through_another_nic_warns_with_kubelets_pick() {
        let facts = host("worker-41")
            .nic("eth0", &["10.0.2.15/24"])
            .nic("eth3", &["10.20.41.41/24"])
            .route("default", Some("10.0.2.2"), "eth0", None, None)
            .build();
        let r = judge(&facts, ETH3_PROFILE);
        expect(
            &r,
            "NodeNic-DefaultRoute",
            Status::Warn,
            &["leaves via eth0, not the node NIC eth3", "10.0.2.15"],
        );
    }

    #[test]
    fn another_nic_of_the_profile_is_judged_by_role() {
        let yaml = format!(
            "{ETH3_PROFILE}other_nics:\n  - {{role: storage, name: eth4, cidrs: [10.30.0.0/16]}}\n"
        );
        let missing = judge(&worker("eth3").build(), &yaml);
        expect(
            &missing,
            "Nic-storage",
            Status::Fail,
            &["storage NIC eth4 is missing"],
        );
        let wrong = judge(
            &worker("eth3").nic("eth4", &["10.40.0.5/16"]).build(),
            &yaml,
        );
        expect(
            &wrong,
            "Nic-storage",
            Status::Fail,
            &["has no address in 10.30.0.0/16"],
        );
        let right = judge(
            &worker("eth3").nic("eth4", &["10.30.0.5/16"]).build(),
            &yaml,
        );
        expect(&right, "Nic-storage", Status::Ok, &["present and up"]);
    }
}
