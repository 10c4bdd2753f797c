//! IPv6 on this host against the profile's expectation: required, disabled, or "as the peers have it"
//! (then only described here; fleet parity compares it).

use super::node_network;
use super::{Area, CheckResult, Context};
use crate::facts::Family;
use crate::network::ipv6::Ipv6Host;
use crate::profile::Ipv6Expectation;

const ID: &str = "IPv6-State";
const AREA: Area = Area::Ipv6;

pub fn evaluate(ctx: &Context) -> Vec<CheckResult> {
    let net = node_network::resolve(ctx.facts, ctx.profile);
    let state = Ipv6Host::of(ctx.facts, net.nic.map(|n| n.name.as_str()));
    let text = state.describe();
    let r = match ctx.profile.ipv6 {
        Ipv6Expectation::AsPeers => CheckResult::ok(
            ID,
            AREA,
            format!("{text}; the profile expects it as on the peers (compared by the parity checks)"),
        ),
        Ipv6Expectation::Required if state.is_on() => {
            let v6_node = net.cidrs.iter().any(|c| c.addr().is_ipv6());
            let has_v6 = net
                .carriers
                .iter()
                .any(|(_, a)| a.iter().any(|a| a.family == Family::Ipv6));
            if v6_node && !has_v6 {
                CheckResult::fail(ID, AREA, format!("{text}, but no interface has an address in the IPv6 node network"))
                    .fix("configure the node NIC's IPv6 address (as on the other nodes)")
            } else {
                CheckResult::ok(ID, AREA, format!("{text}, as the profile requires"))
            }
        }
        Ipv6Expectation::Required => CheckResult::fail(ID, AREA, format!("{text}, but the profile requires IPv6"))
            .fix(match state {
                Ipv6Host::OffOnCmdline => "remove ipv6.disable=1 from the kernel command line (GRUB_CMDLINE_LINUX in /etc/default/grub, then update-grub) and reboot".to_string(),
                Ipv6Host::NotInKernel => "boot a kernel with IPv6 (CONFIG_IPV6), as the other nodes".to_string(),
                Ipv6Host::DisabledBySysctl => "set net.ipv6.conf.all.disable_ipv6=0 (and .default) in /etc/sysctl.d and remove the setting that disabled it".to_string(),
                Ipv6Host::DisabledOnNodeNic(ref n) => format!("set net.ipv6.conf.{n}.disable_ipv6=0 and make it persistent"),
                Ipv6Host::On { .. } => String::new(),
            }),
        Ipv6Expectation::Disabled if state.is_on() => CheckResult::warn(
            ID,
            AREA,
            format!("{text}, but the profile says the cluster's nodes have IPv6 disabled"),
        )
        .fix("disable it as on the other nodes (net.ipv6.conf.all.disable_ipv6=1 in /etc/sysctl.d, or ipv6.disable=1 on the kernel command line)"),
        Ipv6Expectation::Disabled => CheckResult::ok(ID, AREA, format!("{text}, as the profile expects")),
    };
    vec![r.with("state", state.key()).with(
        "expected",
        serde_json::to_value(ctx.profile.ipv6).unwrap_or_default(),
    )]
}
