//! k3s's and RKE2's node address, and k3s's embedded flannel, as address models.
//!
//! Node IP (`pkg/util/net.go` `GetHostnameAndIPs`, `pkg/cli/agent`): `--node-ip` (repeatable,
//! comma lists), else, with `--flannel-iface`, that interface's single global IPv4 (more than one,
//! none, a down or a missing interface is fatal: before k3s#8346 as an empty `--node-ip`, after it
//! with its own message; k3s's main logs these as `Error: …`), else apimachinery's `ChooseHostInterface` (the default route as
//! `/proc/net/route` shows it). The embedded kubelet always gets `--node-ip`, so kubelet's own
//! name lookup never applies on these nodes.
//!
//! With `--vpn-auth` (`vpn`) the VPN's addresses replace the node IPs, the family of the first
//! node IP leading, and its interface becomes flannel's.
//!
//! Embedded flannel (`pkg/agent/flannel/flannel.go`, k3s's own lookup, not flanneld's):
//! `--flannel-iface` (which must exist), else the VPN interface, else the default-route interface
//! (the IPv6 one when the cluster CIDRs are IPv6 only); the first address of each family the
//! cluster CIDRs use, in the order of the flannel release k3s vendors; `--node-ip` is ignored
//! (k3s#12056); `--flannel-external-ip` publishes `--node-external-ip` as `public-ip-overwrite`
//! (and its IPv6 one as `public-ipv6-overwrite`); `--flannel-ipv6-masq` only masquerades, it
//! picks nothing. Failures are the lines current k3s releases log (`flannel exited: failed to
//! find the interface: …`), with the vendored flannel's wording inside.
//!
//! RKE2's `--cni` (`rke2_cni`) decides which CNI's model the stack runs beside RKE2's node IP.

pub mod rke2_cni;
pub mod vpn;

use std::net::IpAddr;

use super::flannel::{
    backend_mtu, default_gateway_interface, eligible::eligible, worded, NO_SUCH_INTERFACE,
};
use super::{go_is_global_unicast, AddressModel, Component, NodeView, Pick, Pin, SettingKind};
use crate::facts::Family;
use crate::profile::cni::{FlannelBackend, K3sVersion};
use vpn::{VpnAuth, TAILSCALE_INTERFACE};

/// Flags of k3s/RKE2 that take a value (urfave/cli: `--name value` or `--name=value`).
const VALUED: &[&str] = &[
    "node-ip",
    "node-external-ip",
    "flannel-iface",
    "flannel-backend",
    "vpn-auth",
    "vpn-auth-file",
    "cni",
    "node-name",
    "server",
    "token",
    "token-file",
    "data-dir",
    "cluster-cidr",
    "service-cidr",
    "disable",
    "kubelet-arg",
    "flannel-conf",
    "write-kubeconfig-mode",
    "tls-san",
    "node-label",
    "node-taint",
    "config",
];

/// The k3s/RKE2 flags that bear on addresses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct K3sFlags {
    /// `--node-ip` values, comma lists split.
    pub node_ip: Vec<String>,
    pub node_external_ip: Vec<String>,
    pub flannel_iface: Option<String>,
    pub flannel_backend: Option<String>,
    pub flannel_external_ip: bool,
    /// `--vpn-auth` (read, the key dropped) or `--vpn-auth-file`.
    pub vpn: Option<VpnAuth>,
    /// `--cni` (RKE2) values as given (repeated flags, comma lists unsplit): see `rke2_cni`.
    pub cni: Vec<String>,
    /// `--cluster-cidr` (a server's; comma lists split): the families k3s's flannel needs.
    pub cluster_cidr: Vec<String>,
}

impl K3sFlags {
    /// Reads the flags from argument words (and `key: value` config entries turned into
    /// `--key=value` by the reader of config.yaml).
    pub fn parse(args: &[String]) -> K3sFlags {
        let mut flags = K3sFlags::default();
        let mut words = args.iter();
        while let Some(word) = words.next() {
            let Some(body) = word.strip_prefix("--").or_else(|| word.strip_prefix('-')) else {
                continue;
            };
            let (name, value) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None if VALUED.contains(&body) => (body, words.next().cloned()),
                None => (body, None),
            };
            let list = |v: &Option<String>| -> Vec<String> {
                v.iter()
                    .flat_map(|v| v.split(','))
                    .map(|p| p.trim().to_string())
                    .filter(|p| !p.is_empty())
                    .collect()
            };
            match name {
                "node-ip" | "i" => flags.node_ip.extend(list(&value)),
                "node-external-ip" => flags.node_external_ip.extend(list(&value)),
                "flannel-iface" => flags.flannel_iface = value,
                "flannel-backend" => flags.flannel_backend = value,
                "flannel-external-ip" => {
                    flags.flannel_external_ip = value.as_deref().is_none_or(|v| v != "false")
                }
                "vpn-auth" => {
                    flags.vpn = value
                        .as_deref()
                        .filter(|v| !v.is_empty())
                        .map(vpn::parse_auth)
                }
                "vpn-auth-file" => {
                    flags.vpn = value
                        .as_deref()
                        .filter(|v| !v.is_empty())
                        .map(|_| VpnAuth::FromFile)
                }
                "cni" => flags.cni.extend(value),
                "cluster-cidr" => flags.cluster_cidr.extend(list(&value)),
                _ => {}
            }
        }
        flags
    }

    /// Whether k3s runs its embedded flannel (`--flannel-backend=none` turns it off).
    pub fn runs_flannel(&self) -> bool {
        self.flannel_backend.as_deref() != Some("none")
    }

    /// The families of the cluster CIDRs (k3s's `findNetMode`; `10.42.0.0/16` when none is given):
    /// (IPv4, IPv6).
    pub fn cluster_families(&self) -> (bool, bool) {
        if self.cluster_cidr.is_empty() {
            return (true, false);
        }
        let v6 = |c: &String| c.contains(':');
        (
            self.cluster_cidr.iter().any(|c| !v6(c)),
            self.cluster_cidr.iter().any(v6),
        )
    }
}

/// Where the distribution's configuration file lives.
pub fn config_file(distro: Component) -> &'static str {
    match distro {
        Component::Rke2 => "/etc/rancher/rke2/config.yaml",
        _ => "/etc/rancher/k3s/config.yaml",
    }
}

/// k3s's or RKE2's node IP.
#[derive(Debug, Clone)]
pub struct K3sNodeIpModel {
    pub distro: Component,
    pub version: K3sVersion,
    pub flags: K3sFlags,
}

impl K3sNodeIpModel {
    fn flannel_iface_ip(&self, node: &NodeView, name: &str) -> Result<Vec<IpAddr>, String> {
        let iface = node
            .facts
            .interface(name)
            .ok_or_else(|| "route ip+net: no such network interface".to_string())?;
        if !iface.admin_up {
            return Err(format!("the interface {name} is not up"));
        }
        let v4: Vec<IpAddr> = iface
            .addresses
            .iter()
            .map(|a| a.address)
            .filter(|a| a.is_ipv4() && go_is_global_unicast(a))
            .collect();
        let v6: Vec<IpAddr> = iface
            .addresses
            .iter()
            .map(|a| a.address)
            .filter(|a| a.is_ipv6() && go_is_global_unicast(a))
            .collect();
        if v4.len() > 1 {
            let shown: Vec<String> = v4.iter().map(|a| a.to_string()).collect();
            return Err(format!(
                "multiple global unicast addresses defined for {name}, please set ip from one of [{}]",
                shown.join(" ")
            ));
        }
        match (v4.first(), v6.first()) {
            (Some(a), None) => Ok(vec![*a]),
            (Some(a), Some(b)) => Ok(vec![*a, *b]),
            (None, Some(b)) => Ok(vec![*b]),
            (None, None) => Err(format!("can't find ip for interface {name}")),
        }
    }
}

impl AddressModel for K3sNodeIpModel {
    fn component(&self) -> Component {
        self.distro
    }

    fn pick(&self, node: &NodeView) -> Pick {
        let mut pick = Pick::new(self.distro, Some(self.version.to_string()));
        if self.distro == Component::Rke2 {
            // The server refuses to start on a bad --cni before it picks any address.
            if let Err(line) = rke2_cni::select(&self.flags.cni, &self.version) {
                return pick.fatal("cni", line);
            }
        }
        let ips: Vec<IpAddr> = if !self.flags.node_ip.is_empty() {
            pick.step = "node-ip".into();
            let mut out = Vec::new();
            for part in &self.flags.node_ip {
                match part.parse::<IpAddr>() {
                    Ok(ip) => out.push(ip),
                    Err(_) => {
                        return pick.fatal(
                            "node-ip",
                            format!("Error: invalid node-ip: invalid ip format '{part}'"),
                        )
                    }
                }
            }
            pick.trace
                .push(format!("--node-ip {}", self.flags.node_ip.join(",")));
            out
        } else if let Some(name) = &self.flags.flannel_iface {
            pick.step = "flannel-iface".into();
            match self.flannel_iface_ip(node, name) {
                Ok(ips) => {
                    let shown: Vec<String> = ips.iter().map(|a| a.to_string()).collect();
                    pick.trace
                        .push(format!("Found ip {} from iface {name}", shown.join(",")));
                    ips
                }
                Err(e) if self.version.has_flannel_iface_error_fix() => {
                    return pick.fatal(
                        "flannel-iface",
                        format!(
                            "Error: interface {name} does not have a correct global unicast ip: {e}"
                        ),
                    )
                }
                Err(e) => {
                    pick.trace.push(format!(
                        "unable to get global unicast ip from interface name: {e} (a warning; {} before k3s#8346 goes on with an empty --node-ip)",
                        self.version
                    ));
                    return pick.fatal(
                        "flannel-iface",
                        "Error: invalid node-ip: invalid ip format ''".into(),
                    );
                }
            }
        } else {
            pick.step = "default-route".into();
            match crate::kubelet::node_ip::choose_host_interface(node.facts) {
                Ok((ip, reason, trace)) => {
                    pick.trace.extend(trace);
                    if pick.trace.last() != Some(&reason) {
                        pick.trace.push(reason);
                    }
                    vec![ip]
                }
                Err(e) => return pick.fatal("default-route", e),
            }
        };
        let ips = match &self.flags.vpn {
            None => ips,
            // The command's action returns it; k3s's main logs it as `Error: …` and exits.
            Some(VpnAuth::Refused(line)) => return pick.fatal("vpn", format!("Error: {line}")),
            Some(_) => match vpn::tailscale_addresses(node.facts) {
                None => {
                    pick.step = "vpn".into();
                    pick.uncertain = Some(format!(
                        "{TAILSCALE_INTERFACE} does not exist yet: {} runs `tailscale up` when it starts, and the addresses Tailscale assigns then become the node IPs",
                        self.distro.as_str()
                    ));
                    pick.interface = Some(TAILSCALE_INTERFACE.into());
                    return pick;
                }
                Some((v4, v6)) => match vpn::node_ips_with_vpn(&ips, v4, v6) {
                    Ok(vpn_ips) => {
                        pick.step = "vpn".into();
                        let shown: Vec<String> = vpn_ips.iter().map(IpAddr::to_string).collect();
                        pick.trace.push(format!(
                            "Node-ip changed to [{}] due to VPN",
                            shown.join(" ")
                        ));
                        if !self.flags.node_ip.is_empty() {
                            pick.trace
                                .push("VPN provider overrides configured node-ip parameter".into());
                        }
                        vpn_ips
                    }
                    Err(line) => return pick.fatal("vpn", line),
                },
            },
        };
        // The embedded kubelet validates the address as kubelet does.
        for ip in &ips {
            if let Some(why) = crate::kubelet::node_ip::rejection(node.facts, ip) {
                return pick.fatal_here(
                    format!("failed to validate nodeIP: node IP: \"{ip}\" is {why} (the embedded kubelet refuses it)"),
                );
            }
        }
        pick.address = ips.iter().copied().find(IpAddr::is_ipv4);
        pick.address_v6 = ips.iter().copied().find(IpAddr::is_ipv6);
        pick.interface = ips.first().and_then(|ip| {
            crate::network::addresses::owner_of(node.facts, *ip).map(|i| i.name.to_string())
        });
        pick.node_ips = ips;
        pick
    }

    fn pins(&self, _interface: &str, address: IpAddr) -> Vec<Pin> {
        vec![Pin {
            component: self.distro,
            kind: SettingKind::ConfigKey,
            name: "node-ip".into(),
            value: address.to_string(),
            place: format!(
                "{} on this node (or --node-ip in the {} unit's ExecStart), then restart {}",
                config_file(self.distro),
                self.distro.as_str(),
                self.distro.as_str()
            ),
        }]
    }
}

/// k3s's embedded flannel.
#[derive(Debug, Clone)]
pub struct K3sFlannelModel {
    pub distro: Component,
    pub version: K3sVersion,
    pub flags: K3sFlags,
}

impl AddressModel for K3sFlannelModel {
    fn component(&self) -> Component {
        Component::Flannel
    }

    fn pick(&self, node: &NodeView) -> Pick {
        let flannel = self.version.vendored_flannel();
        let mut pick = Pick::new(
            Component::Flannel,
            Some(format!(
                "{flannel} (embedded in {} {})",
                self.distro.as_str(),
                self.version
            )),
        );
        let facts = node.facts;
        // flannel() wraps what LookupExtInterface returns; the goroutine logs it and k3s exits.
        let exited =
            |inner: String| format!("flannel exited: failed to find the interface: {inner}");
        let (v4_wanted, v6_wanted) = self.flags.cluster_families();
        let backend = self
            .flags
            .flannel_backend
            .as_deref()
            .and_then(FlannelBackend::parse)
            .unwrap_or(FlannelBackend::Vxlan);
        let mut chosen = None;
        let mut tailscale_backend = false;
        if let Some(name) = &self.flags.flannel_iface {
            pick.step = "flannel-iface".into();
            match facts.interface(name) {
                Some(i) => chosen = Some(i),
                None => {
                    return pick.fatal(
                        "flannel-iface",
                        format!("unable to find interface {name}: {NO_SUCH_INTERFACE}"),
                    )
                }
            }
        }
        match &self.flags.vpn {
            None => {}
            Some(VpnAuth::Refused(line)) => return pick.fatal("vpn", format!("Error: {line}")),
            Some(_) => {
                pick.step = "vpn".into();
                let Some(i) = facts.interface(TAILSCALE_INTERFACE) else {
                    pick.uncertain = Some(format!(
                        "{TAILSCALE_INTERFACE} does not exist yet: {} runs `tailscale up` when it starts; flannel then uses it with the tailscale backend",
                        self.distro.as_str()
                    ));
                    pick.interface = Some(TAILSCALE_INTERFACE.into());
                    return pick;
                };
                pick.trace.push(format!(
                    "--vpn-auth: the VPN's interface {TAILSCALE_INTERFACE} replaces {}, and the flannel backend becomes tailscale",
                    chosen.map_or("the default-route interface".to_string(), |c| c.name.to_string())
                ));
                chosen = Some(i);
                tailscale_backend = true;
            }
        }
        let iface = match chosen {
            Some(i) => i,
            None => {
                pick.step = "default-route".into();
                pick.trace.push(
                    "No interface defined for flannel in the config. Fetching the default gateway interface"
                        .into(),
                );
                let family = if v4_wanted {
                    Family::Ipv4
                } else {
                    Family::Ipv6
                };
                match default_gateway_interface(facts, family, flannel) {
                    Ok(i) => i,
                    Err(e) => {
                        return pick.fatal(
                            "default-route",
                            exited(format!("failed to get default interface: {e}")),
                        )
                    }
                }
            }
        };
        if !self.flags.node_ip.is_empty() {
            pick.trace.push(format!(
                "--node-ip {} does not choose flannel's interface (k3s#12056): only --flannel-iface does",
                self.flags.node_ip.join(",")
            ));
        }
        let mut first = |family: Family| -> Result<IpAddr, String> {
            let e = eligible(iface, family, flannel);
            if pick.uncertain.is_none() {
                pick.uncertain = e.uncertain;
            }
            e.addresses.first().copied().ok_or_else(|| {
                let n = family.number();
                exited(format!(
                    "failed to find IPv{n} address for interface {}: {}",
                    iface.name,
                    worded(
                        flannel,
                        &format!("No IPv{n} address found for given interface")
                    )
                ))
            })
        };
        // IPv4 is looked up first, so its failure is the one logged when both would fail.
        let found = [(v4_wanted, Family::Ipv4), (v6_wanted, Family::Ipv6)]
            .map(|(wanted, family)| wanted.then(|| first(family)).transpose());
        let [v4, v6] = match found {
            [Err(line), _] | [_, Err(line)] => return pick.fatal_here(line),
            [Ok(v4), Ok(v6)] => [v4, v6],
        };
        if iface.mtu == 0 {
            return pick.fatal_here(exited(format!(
                "failed to determine MTU for {} interface",
                iface.name
            )));
        }
        for (family, addr) in [(4, v4), (6, v6)] {
            if let Some(addr) = addr {
                pick.trace.push(format!(
                    "The interface {} with ipv{family} address {addr} will be used by flannel",
                    iface.name
                ));
            }
        }
        pick.interface = Some(iface.name.to_string());
        pick.address = v4;
        pick.address_v6 = v6;
        pick.public_address = v4;
        pick.public_address_v6 = v6;
        if self.flags.flannel_external_ip {
            let external = |v6: bool| {
                self.flags
                    .node_external_ip
                    .iter()
                    .find_map(|t| t.parse::<IpAddr>().ok().filter(|a| a.is_ipv6() == v6))
            };
            let (ext4, ext6) = (
                external(false).filter(|_| v4_wanted),
                external(true).filter(|_| v6_wanted),
            );
            if ext4.is_none() && ext6.is_none() {
                pick.trace.push(
                    "Server has flannel-external-ip flag set but this node does not set node-external-ip. Flannel will use internal address when connecting to this node."
                        .into(),
                );
            }
            for (slot, ext) in [
                (&mut pick.public_address, ext4),
                (&mut pick.public_address_v6, ext6),
            ] {
                if let Some(ext) = ext {
                    *slot = Some(ext);
                }
            }
            for ext in ext4.into_iter().chain(ext6) {
                pick.trace.push(format!(
                    "--flannel-external-ip: {} publishes --node-external-ip {ext} as the public-ip overwrite; the tunnel still leaves through {}",
                    self.distro.as_str(),
                    iface.name
                ));
            }
        }
        // The tailscale backend sets up no tunnel device of its own.
        pick.mtu = if tailscale_backend {
            None
        } else {
            backend_mtu(backend, iface.mtu)
        };
        pick
    }

    fn pins(&self, interface: &str, _address: IpAddr) -> Vec<Pin> {
        vec![Pin {
            component: Component::Flannel,
            kind: SettingKind::ConfigKey,
            name: "flannel-iface".into(),
            value: interface.into(),
            place: format!(
                "{} on this node (or --flannel-iface in the {} unit's ExecStart), then restart {}",
                config_file(self.distro),
                self.distro.as_str(),
                self.distro.as_str()
            ),
        }]
    }
}

#[cfg(test)]
mod tests;
