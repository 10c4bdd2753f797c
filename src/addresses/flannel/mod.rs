//! flanneld's choice of its external interface and public address, as flanneld's `main.go` and
//! `pkg/ipmatch` (`LookupExtIface`) make it, per release (v0.22 through v0.28.x; Canal pins its
//! own): every `--iface` in order (a name, exact; or an IP, the first interface in kernel order
//! holding it), then every `--iface-regex` (Go RE2, unanchored: the interfaces' eligible
//! addresses as text first, then their names; no up check, no exclusion list), then
//! `--iface-can-reach` (the route's device and source); a selector that matches nothing is fatal,
//! with no fallback. Without a selector a known public IP must be local, else the first
//! main-table default route in dump order decides, and one without a single device (multipath,
//! blackhole) is fatal. The address order per release is `eligible`'s; the settings are resolved
//! by `settings`.

pub mod eligible;
pub mod settings;

use std::net::IpAddr;

use eligible::{eligible, go_list};
use settings::{FlannelSettings, Stack};

use super::{AddressModel, Component, NodeView, Pick, Pin, SettingKind};
use crate::calico::go_regexp::{self, GoNamedGroups, GoRegex, GoRegexError};
use crate::facts::{Facts, Family, Interface};
use crate::profile::cni::{FlannelBackend, FlannelVersion};

/// Which deployment runs this flanneld: where its settings live differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// kube-flannel.yml's DaemonSet.
    Upstream,
    /// Canal's flanneld (calico's canal.yaml; RKE2's default).
    Canal,
}

/// The flanneld model: its resolved settings, per node its pick.
#[derive(Debug, Clone)]
pub struct FlannelModel {
    pub settings: FlannelSettings,
    /// Settings read from node annotations apply to this node only; peers get these.
    pub peer_settings: FlannelSettings,
    pub flavor: Flavor,
}

/// What `LookupExtIface` returns.
struct External<'f> {
    iface: &'f Interface,
    v4: Option<IpAddr>,
    v6: Option<IpAddr>,
    ext_v4: Option<IpAddr>,
    ext_v6: Option<IpAddr>,
}

/// Go's `net.ParseIP`, with IPv4-mapped IPv6 text read as IPv4 (Go's `To4` does).
fn go_parse_ip(text: &str) -> Option<IpAddr> {
    match text.parse::<IpAddr>().ok()? {
        IpAddr::V6(v6) => Some(
            v6.to_ipv4_mapped()
                .map(IpAddr::V4)
                .unwrap_or(IpAddr::V6(v6)),
        ),
        v4 => Some(v4),
    }
}

/// The error text of Go's `net.InterfaceByName`/`InterfaceByIndex` for a missing interface.
pub const NO_SUCH_INTERFACE: &str = "route ip+net: no such network interface";

/// The first line Go prints when flanneld dereferences a nil interface (and dies at once, whatever
/// selectors remain).
pub const NIL_DEREFERENCE: &str =
    "panic: runtime error: invalid memory address or nil pointer dereference";

/// flanneld's wording of an error of its `pkg/ip` and `pkg/ipmatch` helpers: v0.28.0 lower-cased the
/// first letter of every one of them (`Unable to find default route` became `unable to find …`).
pub fn worded(version: FlannelVersion, text: &str) -> String {
    if version < FlannelVersion::new(0, 28, 0) {
        return text.to_string();
    }
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The first interface, in kernel order, holding `ip` (any flags, any scope).
fn interface_holding(facts: &Facts, ip: IpAddr) -> Option<&Interface> {
    facts
        .interfaces
        .iter()
        .find(|i| i.addresses.iter().any(|a| a.address == ip))
}

/// flanneld's `GetDefaultGatewayInterface` / `GetDefaultV6GatewayInterface`: the first main-table
/// default route of the family in dump order (the lowest metric first), which must name a device.
/// The wording is `version`'s.
pub fn default_gateway_interface(
    facts: &Facts,
    family: Family,
    version: FlannelVersion,
) -> Result<&Interface, String> {
    let v6 = if family == Family::Ipv6 { " v6" } else { "" };
    let route = facts
        .routes
        .iter()
        .find(|r| r.family == family && r.is_default())
        .ok_or_else(|| worded(version, &format!("Unable to find default{v6} route")))?;
    let unicast = matches!(route.route_type.as_str(), "unicast" | "");
    let device = route.device.as_deref().filter(|_| unicast).ok_or_else(|| {
        worded(
            version,
            &format!("Found default{v6} route but could not determine interface"),
        )
    })?;
    facts
        .interface(device)
        .ok_or_else(|| NO_SUCH_INTERFACE.to_string())
}

fn named_groups(version: FlannelVersion) -> GoNamedGroups {
    // v0.25 and later are built with Go 1.22 or newer, which accepts `(?<name>…)`.
    if version >= FlannelVersion::new(0, 25, 0) {
        GoNamedGroups::AngleToo
    } else {
        GoNamedGroups::POnly
    }
}

struct Walk {
    trace: Vec<String>,
    uncertain: Option<String>,
}

impl Walk {
    fn addresses(
        &mut self,
        iface: &Interface,
        family: Family,
        version: FlannelVersion,
    ) -> Vec<IpAddr> {
        let e = eligible(iface, family, version);
        if self.uncertain.is_none() {
            self.uncertain = e.uncertain;
        }
        e.addresses
    }
}

impl FlannelModel {
    pub fn new(settings: FlannelSettings, peer_settings: FlannelSettings, flavor: Flavor) -> Self {
        FlannelModel {
            settings,
            peer_settings,
            flavor,
        }
    }

    fn lookup<'f>(
        &self,
        s: &FlannelSettings,
        facts: &'f Facts,
        walk: &mut Walk,
        selector: Selector<'_>,
    ) -> Result<External<'f>, String> {
        let version = s.version;
        let stack = s.stack;
        if stack == Stack::None {
            return Err("none matched ip stack".into());
        }
        let mut iface: Option<&Interface> = None;
        let mut v4: Option<IpAddr> = None;
        let mut v6: Option<IpAddr> = None;
        match selector {
            Selector::Iface(name) => {
                if let Some(ip) = go_parse_ip(name) {
                    let found = |ip: IpAddr, v6_lookup: bool| -> Result<&'f Interface, String> {
                        let ok = Family::of(&ip)
                            == if v6_lookup {
                                Family::Ipv6
                            } else {
                                Family::Ipv4
                            };
                        ok.then(|| interface_holding(facts, ip))
                            .flatten()
                            .ok_or_else(|| {
                                if v6_lookup {
                                    worded(version, "No interface with given IPv6 found")
                                } else {
                                    worded(version, "No interface with given IP found")
                                }
                            })
                    };
                    match stack {
                        Stack::Ipv4 => {
                            iface =
                                Some(found(ip, false).map_err(|e| {
                                    format!("error looking up interface {name}: {e}")
                                })?);
                            v4 = Some(ip);
                        }
                        Stack::Ipv6 => {
                            iface = Some(found(ip, true).map_err(|e| {
                                format!("error looking up v6 interface {name}: {e}")
                            })?);
                            v6 = Some(ip);
                        }
                        Stack::Dual | Stack::None => {
                            if ip.is_ipv4() {
                                iface = Some(found(ip, false).map_err(|e| {
                                    format!("error looking up interface {name}: {e}")
                                })?);
                                v4 = Some(ip);
                            }
                            if let Some(p6) = s.public_ipv6.as_ref() {
                                if let Some(ip6) = go_parse_ip(&p6.value) {
                                    let v6_iface = found(ip6, true).map_err(|e| {
                                        format!("error looking up v6 interface {}: {e}", p6.value)
                                    })?;
                                    if !ip.is_ipv4() {
                                        iface = Some(v6_iface);
                                        v4 = None;
                                    } else if let Some(i4) = iface {
                                        if i4.name != v6_iface.name {
                                            return Err(format!(
                                                "v6 interface {} must be the same with v4 interface {}",
                                                v6_iface.name, i4.name
                                            ));
                                        }
                                    }
                                    v6 = Some(ip6);
                                }
                            }
                            if iface.is_none() {
                                // A v6 IP without --public-ipv6: Go goes on with no interface and
                                // reads its index for the IPv6 addresses.
                                walk.trace.push(format!(
                                    "--iface {name} is an IPv6 address in a dual-stack setup without --public-ipv6: flanneld looks up no interface, then reads the addresses of none"
                                ));
                                return Err(NIL_DEREFERENCE.to_string());
                            }
                        }
                    }
                    walk.trace.push(format!(
                        "Searching for interface using {ip}: {} holds it",
                        iface.map(|i| i.name.as_str()).unwrap_or("?")
                    ));
                } else {
                    let i = facts.interface(name).ok_or_else(|| {
                        format!("error looking up interface {name}: {NO_SUCH_INTERFACE}")
                    })?;
                    walk.trace.push(format!(
                        "interface {name} exists (up or not: flanneld does not look)"
                    ));
                    iface = Some(i);
                }
            }
            Selector::Regex(pattern) => {
                let re =
                    go_regexp::compile(pattern, named_groups(version)).map_err(|e| match e {
                        GoRegexError::Go(text) | GoRegexError::Untranslatable(text) => {
                            format!("could not compile the IP address regex '{pattern}': {text}")
                        }
                    })?;
                let matched = |re: &GoRegex, list: &[IpAddr]| -> Option<IpAddr> {
                    list.iter()
                        .copied()
                        .find(|ip| go_regexp::matches(re, &ip.to_string()))
                };
                for candidate in &facts.interfaces {
                    match stack {
                        Stack::Ipv4 | Stack::Ipv6 => {
                            let family = if stack == Stack::Ipv4 {
                                Family::Ipv4
                            } else {
                                Family::Ipv6
                            };
                            let list = walk.addresses(candidate, family, version);
                            if let Some(ip) = matched(&re, &list) {
                                walk.trace.push(format!(
                                    "{pattern} matches the address {ip} of {}",
                                    candidate.name
                                ));
                                if family == Family::Ipv4 {
                                    v4 = Some(ip);
                                } else {
                                    v6 = Some(ip);
                                }
                                iface = Some(candidate);
                                break;
                            }
                        }
                        Stack::Dual | Stack::None => {
                            let list4 = walk.addresses(candidate, Family::Ipv4, version);
                            let list6 = walk.addresses(candidate, Family::Ipv6, version);
                            if list4.is_empty() || list6.is_empty() {
                                continue;
                            }
                            let Some(ip4) = matched(&re, &list4) else {
                                continue;
                            };
                            // Kept even when the IPv6 side does not match (flanneld's own quirk).
                            v4 = Some(ip4);
                            if let Some(ip6) = matched(&re, &list6) {
                                walk.trace.push(format!(
                                    "{pattern} matches {ip4} and {ip6} of {}",
                                    candidate.name
                                ));
                                v6 = Some(ip6);
                                iface = Some(candidate);
                                break;
                            }
                            walk.trace.push(format!(
                                "{pattern} matches {ip4} of {} but none of its IPv6 addresses: flanneld keeps {ip4} and goes on",
                                candidate.name
                            ));
                        }
                    }
                }
                if iface.is_none() {
                    iface = facts
                        .interfaces
                        .iter()
                        .find(|i| go_regexp::matches(&re, &i.go_name()));
                    if let Some(i) = iface {
                        walk.trace.push(format!(
                            "{pattern} matches no address; it matches the name {}",
                            i.name
                        ));
                    }
                }
                if iface.is_none() {
                    let family = if stack == Stack::Ipv6 {
                        Family::Ipv6
                    } else {
                        Family::Ipv4
                    };
                    let available: Vec<String> = facts
                        .interfaces
                        .iter()
                        .map(|i| {
                            format!(
                                "{}:{}",
                                i.name,
                                go_list(&eligible(i, family, version).addresses)
                            )
                        })
                        .collect();
                    return Err(format!(
                        "{} {pattern} to any of the available network interfaces ({})",
                        worded(version, "Could not match pattern"),
                        available.join(", ")
                    ));
                }
            }
            Selector::CanReach(target) => {
                // Not an IP: Go's nil IP goes to the kernel as an empty RTA_DST, which the
                // route policy rejects with ERANGE.
                let dest = go_parse_ip(target).ok_or_else(|| {
                    "failed to get ifcanreach based interface: couldn't lookup route to <nil>: numerical result out of range".to_string()
                })?;
                let choice = crate::network::routes::source_for(facts, dest).map_err(|f| {
                    format!("failed to get ifcanreach based interface: couldn't lookup route to {dest}: {}", f.0)
                })?;
                let device = match crate::network::addresses::owner_of(facts, dest) {
                    Some(_) => facts.interfaces.iter().find(|i| i.name == "lo"),
                    None => crate::network::routes::route_device(facts, dest)
                        .and_then(|d| facts.interface(d)),
                };
                let i = device.ok_or_else(|| {
                    format!("failed to get ifcanreach based interface: couldn't lookup interface: {NO_SUCH_INTERFACE}")
                })?;
                walk.trace.push(format!(
                    "the route to {dest} leaves through {} with source {} ({})",
                    i.name, choice.source, choice.how
                ));
                iface = Some(i);
                match choice.source {
                    IpAddr::V4(_) => v4 = Some(choice.source),
                    IpAddr::V6(_) => v6 = Some(choice.source),
                }
            }
            Selector::DefaultRoute => {
                let map = |family: Family, e: String| {
                    if family == Family::Ipv6 {
                        format!("failed to get default v6 interface: {e}")
                    } else {
                        format!("failed to get default interface: {e}")
                    }
                };
                let i = match stack {
                    Stack::Ipv6 => default_gateway_interface(facts, Family::Ipv6, version)
                        .map_err(|e| map(Family::Ipv6, e))?,
                    _ => default_gateway_interface(facts, Family::Ipv4, version)
                        .map_err(|e| map(Family::Ipv4, e))?,
                };
                if stack == Stack::Dual {
                    let i6 = default_gateway_interface(facts, Family::Ipv6, version)
                        .map_err(|e| map(Family::Ipv6, e))?;
                    if i6.name != i.name {
                        return Err(format!(
                            "v6 default route interface {} must be the same with v4 default route interface {}",
                            i6.name, i.name
                        ));
                    }
                }
                walk.trace.push(format!(
                    "the first default route in the kernel's dump order leaves through {}{}",
                    i.name,
                    if i.admin_up {
                        ""
                    } else {
                        " (down: flanneld does not check)"
                    }
                ));
                iface = Some(i);
            }
        }
        let iface = iface.expect("every branch sets the interface or returns");
        let per_family = version >= FlannelVersion::new(0, 27, 4);
        let first = |walk: &mut Walk, family: Family| -> Result<IpAddr, String> {
            walk.addresses(iface, family, version)
                .first()
                .copied()
                .ok_or_else(|| {
                    format!(
                        "failed to find IPv{} address for interface {}",
                        family.number(),
                        iface.name
                    )
                })
        };
        match stack {
            Stack::Ipv4 if v4.is_none() => v4 = Some(first(walk, Family::Ipv4)?),
            Stack::Ipv6 if v6.is_none() => v6 = Some(first(walk, Family::Ipv6)?),
            Stack::Dual if per_family => {
                if v4.is_none() {
                    v4 = Some(first(walk, Family::Ipv4)?);
                }
                if v6.is_none() {
                    v6 = Some(first(walk, Family::Ipv6)?);
                }
            }
            Stack::Dual if v4.is_none() && v6.is_none() => {
                v4 = Some(first(walk, Family::Ipv4)?);
                v6 = Some(first(walk, Family::Ipv6)?);
            }
            Stack::Dual if v4.is_none() || v6.is_none() => {
                walk.trace.push(format!(
                    "flanneld {version} completes the dual-stack addresses only when both are unknown (per family from v0.27.4): one family stays empty"
                ));
            }
            _ => {}
        }
        if iface.mtu == 0 {
            return Err(format!(
                "failed to determine MTU for {} interface",
                v4.map(|a| a.to_string()).unwrap_or_else(|| "<nil>".into())
            ));
        }
        let parse_public =
            |p: &Option<settings::Sourced>, what: &str| -> Result<Option<IpAddr>, String> {
                match p {
                    None => Ok(None),
                    Some(s) => go_parse_ip(&s.value)
                        .map(Some)
                        .ok_or_else(|| format!("invalid public {what}address: {}", s.value)),
                }
            };
        let ext_v4 =
            parse_public(&s.public_ip, "IP ")?.or(if stack != Stack::Ipv6 { v4 } else { None });
        let ext_v6 =
            parse_public(&s.public_ipv6, "IPv6 ")?.or(if stack != Stack::Ipv4 { v6 } else { None });
        Ok(External {
            iface,
            v4,
            v6,
            ext_v4,
            ext_v6,
        })
    }

    /// The `--iface-regex` selectors, then `--iface-can-reach`, when no `--iface` matched.
    fn later_selectors<'f>(
        &self,
        s: &FlannelSettings,
        facts: &'f Facts,
        walk: &mut Walk,
        mut found: Option<(External<'f>, &'static str)>,
    ) -> Result<(External<'f>, &'static str), String> {
        if found.is_none() {
            for r in &s.iface_regexes {
                match self.lookup(s, facts, walk, Selector::Regex(&r.value)) {
                    Ok(e) => {
                        walk.trace
                            .push(format!("--iface-regex {} ({}) decides", r.value, r.source));
                        found = Some((e, "iface-regex"));
                        break;
                    }
                    Err(e) => walk.trace.push(format!(
                        "Could not find valid interface matching {}: {e}",
                        r.value
                    )),
                }
            }
        }
        if found.is_none() {
            if let Some(c) = &s.iface_can_reach {
                match self.lookup(s, facts, walk, Selector::CanReach(&c.value)) {
                    Ok(e) => found = Some((e, "iface-can-reach")),
                    Err(e) => walk.trace.push(format!(
                        "Could not find valid interface matching ifaceCanReach: {}: {e}",
                        c.value
                    )),
                }
            }
        }
        found.ok_or_else(|| {
            "Failed to find interface to use that matches the interfaces and/or regexes provided"
                .to_string()
        })
    }

    fn version_text(&self, s: &FlannelSettings) -> String {
        s.version.to_string()
    }
}

#[derive(Clone, Copy)]
enum Selector<'a> {
    Iface(&'a str),
    Regex(&'a str),
    CanReach(&'a str),
    DefaultRoute,
}

/// The tunnel device's MTU for the backend over an interface of `mtu`.
pub fn backend_mtu(backend: FlannelBackend, mtu: u32) -> Option<u32> {
    match backend {
        // VXLAN's overhead is 50 bytes; flanneld subtracts 50 for IPv6 too.
        FlannelBackend::Vxlan => mtu.checked_sub(50),
        FlannelBackend::HostGw => Some(mtu),
        FlannelBackend::Ipip => mtu.checked_sub(20),
        FlannelBackend::Wireguard | FlannelBackend::Udp => None,
    }
}

/// Fills `pick` from flanneld's answer: interface, addresses, external addresses (or the
/// `public-ip-overwrite` peers are told), and the tunnel MTU.
fn fill(pick: &mut Pick, s: &FlannelSettings, ext: &External) {
    pick.interface = Some(ext.iface.name.to_string());
    pick.address = ext.v4;
    pick.address_v6 = ext.v6;
    pick.public_address = ext.ext_v4;
    pick.public_address_v6 = ext.ext_v6;
    for (over, slot, family) in [
        (&s.public_ip_overwrite, &mut pick.public_address, 4),
        (&s.public_ipv6_overwrite, &mut pick.public_address_v6, 6),
    ] {
        if let Some(o) = over {
            match go_parse_ip(&o.value) {
                Some(ip) => {
                    pick.trace.push(format!(
                        "{} = {ip}: flanneld publishes it as this node's IPv{family} public address (the interface stays {})",
                        o.source, ext.iface.name
                    ));
                    *slot = Some(ip);
                }
                None => pick.trace.push(format!(
                    "{} = {:?} is not an IP address: flanneld ignores it",
                    o.source, o.value
                )),
            }
        }
    }
    pick.mtu = backend_mtu(s.backend, ext.iface.mtu);
}

impl AddressModel for FlannelModel {
    fn component(&self) -> Component {
        Component::Flannel
    }

    fn pick(&self, node: &NodeView) -> Pick {
        let s = if node.is_this_node {
            &self.settings
        } else {
            &self.peer_settings
        };
        let mut pick = Pick::new(Component::Flannel, Some(self.version_text(s)));
        pick.trace.extend(s.notes.iter().cloned());
        let mut walk = Walk {
            trace: Vec::new(),
            uncertain: None,
        };
        let facts = node.facts;
        // main.go reads the stack from net-conf.json before it looks for any interface.
        if s.stack == Stack::None {
            return pick.fatal("ip-stack", "none defined stack".into());
        }
        let result: Result<(External, &str), String> = if !s.has_selector() {
            let (selector, step) = match (&s.public_ip, &s.public_ipv6) {
                (Some(p), _) => (Selector::Iface(&p.value), "public-ip"),
                (None, Some(p)) => (Selector::Iface(&p.value), "public-ip"),
                (None, None) => (Selector::DefaultRoute, "default-route"),
            };
            if let Selector::Iface(ip) = selector {
                walk.trace.push(format!(
                    "no --iface, --iface-regex or --iface-can-reach: the public IP {ip} must be an address of this node"
                ));
            }
            self.lookup(s, facts, &mut walk, selector)
                .map(|e| (e, step))
                .map_err(|e| {
                    if e == NIL_DEREFERENCE {
                        e
                    } else {
                        format!("Failed to find any valid interface to use: {e}")
                    }
                })
        } else {
            let mut found = None;
            let mut crashed = None;
            for i in &s.ifaces {
                match self.lookup(s, facts, &mut walk, Selector::Iface(&i.value)) {
                    Ok(e) => {
                        walk.trace
                            .push(format!("--iface {} ({}) decides", i.value, i.source));
                        found = Some((e, "iface"));
                        break;
                    }
                    Err(e) if e == NIL_DEREFERENCE => {
                        crashed = Some(e);
                        break;
                    }
                    Err(e) => walk.trace.push(format!(
                        "Could not find valid interface matching {}: {e}",
                        i.value
                    )),
                }
            }
            if let Some(line) = crashed {
                Err(line)
            } else {
                self.later_selectors(s, facts, &mut walk, found)
            }
        };
        pick.trace.append(&mut walk.trace);
        pick.uncertain = walk.uncertain;
        match result {
            Ok((ext, step)) => {
                pick.step = step.to_string();
                fill(&mut pick, s, &ext);
                pick.trace.push(format!(
                    "Using interface with name {} and address {}",
                    ext.iface.name,
                    ext.v4
                        .or(ext.v6)
                        .map(|a| a.to_string())
                        .unwrap_or_else(|| "<nil>".into())
                ));
                pick
            }
            Err(line) => {
                let step = if s.has_selector() {
                    "selectors"
                } else if s.public_ip.is_some() || s.public_ipv6.is_some() {
                    "public-ip"
                } else {
                    "default-route"
                };
                pick.fatal(step, line)
            }
        }
    }

    /// Upstream flanneld on a node network of one IPv4 subnet: `--iface-can-reach` an address of
    /// that subnet, so every node takes the NIC its connected route leaves through, whatever the
    /// NIC is called (the incident's `--iface=eth3` broke on a node whose NIC had another name).
    /// Elsewhere (Canal, several subnets, IPv6): [`AddressModel::pins`].
    fn pins_in(&self, node_network: &[ipnet::IpNet], interface: &str, address: IpAddr) -> Vec<Pin> {
        match (self.flavor, node_network, address) {
            (Flavor::Upstream, [ipnet::IpNet::V4(net)], IpAddr::V4(own))
                if net.prefix_len() <= 30 && net.contains(&own) =>
            {
                let first = u32::from(net.network()) + 1;
                let reach = if first == u32::from(own) {
                    first + 1
                } else {
                    first
                };
                vec![Pin {
                    component: Component::Flannel,
                    kind: SettingKind::Flag,
                    name: "--iface-can-reach".into(),
                    value: std::net::Ipv4Addr::from(reach).to_string(),
                    place: format!("the kube-flannel DaemonSet's container args (kube-flannel.yml; `kubectl -n kube-flannel edit daemonset kube-flannel-ds`), removing any --iface and --iface-regex, which win over it: the route to that address of {net} leaves through the node NIC on every node, whatever it is called"),
                }]
            }
            _ => self.pins(interface, address),
        }
    }

    fn pins(&self, interface: &str, address: IpAddr) -> Vec<Pin> {
        let _ = address;
        match self.flavor {
            Flavor::Upstream => vec![Pin {
                component: Component::Flannel,
                kind: SettingKind::Flag,
                name: "--iface".into(),
                value: interface.into(),
                place: "the kube-flannel DaemonSet's container args (kube-flannel.yml; `kubectl -n kube-flannel edit daemonset kube-flannel-ds`)".into(),
            }],
            Flavor::Canal => vec![Pin {
                component: Component::Flannel,
                kind: SettingKind::ConfigKey,
                name: "canal_iface".into(),
                value: interface.into(),
                place: "the canal-config ConfigMap (canal.yaml), which sets FLANNELD_IFACE; then restart the canal pods".into(),
            }],
        }
    }
}

#[cfg(test)]
mod tests;
