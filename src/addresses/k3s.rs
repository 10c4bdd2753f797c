//! k3s's and RKE2's node address, and k3s's embedded flannel, as address models.
//!
//! Node IP (`pkg/util/net.go` `GetHostnameAndIPs`, `pkg/cli/agent`): `--node-ip` (repeatable,
//! comma lists), else, with `--flannel-iface`, that interface's single global IPv4 (more than one,
//! none, a down or a missing interface is fatal: before k3s#8346 as an empty `--node-ip`, after it
//! with its own message), else apimachinery's `ChooseHostInterface` (the default route as
//! `/proc/net/route` shows it). The embedded kubelet always gets `--node-ip`, so kubelet's own
//! name lookup never applies on these nodes.
//!
//! Embedded flannel (`pkg/agent/flannel/flannel.go`, k3s's own lookup, not flanneld's):
//! `--flannel-iface`, else the VPN interface (`--vpn-auth`), else the default-route interface; the
//! first address in the order of the flannel release k3s vendors; `--node-ip` is ignored
//! (k3s#12056); `--flannel-external-ip` publishes `--node-external-ip` as `public-ip-overwrite`.

use std::net::IpAddr;

use super::flannel::{backend_mtu, default_gateway_interface, eligible::eligible};
use super::{go_is_global_unicast, AddressModel, Component, NodeView, Pick, Pin, SettingKind};
use crate::facts::Family;
use crate::profile::cni::{FlannelBackend, K3sVersion};

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
    pub vpn_auth: bool,
    /// `--cni` (RKE2): `canal` (the default), `calico`, `cilium`, `none`, …
    pub cni: Option<String>,
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
                "vpn-auth" | "vpn-auth-file" => flags.vpn_auth = true,
                "cni" => flags.cni = value,
                _ => {}
            }
        }
        flags
    }

    /// Whether k3s runs its embedded flannel (`--flannel-backend=none` turns it off).
    pub fn runs_flannel(&self) -> bool {
        self.flannel_backend.as_deref() != Some("none")
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
        let ips: Vec<IpAddr> = if !self.flags.node_ip.is_empty() {
            pick.step = "node-ip".into();
            let mut out = Vec::new();
            for part in &self.flags.node_ip {
                match part.parse::<IpAddr>() {
                    Ok(ip) => out.push(ip),
                    Err(_) => {
                        return pick.fatal(
                            "node-ip",
                            format!("invalid node-ip: invalid ip format '{part}'"),
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
                        format!("interface {name} does not have a correct global unicast ip: {e}"),
                    )
                }
                Err(e) => {
                    pick.trace.push(format!(
                        "unable to get global unicast ip from interface name: {e} (a warning; {} before k3s#8346 goes on with an empty --node-ip)",
                        self.version
                    ));
                    return pick.fatal(
                        "flannel-iface",
                        "invalid node-ip: invalid ip format ''".into(),
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
        let iface = if let Some(name) = &self.flags.flannel_iface {
            pick.step = "flannel-iface".into();
            match facts.interface(name) {
                Some(i) => i,
                None => {
                    return pick.fatal(
                        "flannel-iface",
                        format!("--flannel-iface {name}: route ip+net: no such network interface"),
                    )
                }
            }
        } else if self.flags.vpn_auth {
            pick.step = "vpn".into();
            match facts.interface("tailscale0") {
                Some(i) => i,
                None => {
                    return pick.fatal(
                        "vpn",
                        "--vpn-auth is set but the VPN interface tailscale0 does not exist".into(),
                    )
                }
            }
        } else {
            pick.step = "default-route".into();
            pick.trace
                .push("Determining IP address of default interface".into());
            match default_gateway_interface(facts, Family::Ipv4) {
                Ok(i) => i,
                Err(e) => {
                    return pick.fatal(
                        "default-route",
                        format!("failed to get default interface: {e}"),
                    )
                }
            }
        };
        if !self.flags.node_ip.is_empty() {
            pick.trace.push(format!(
                "--node-ip {} does not choose flannel's interface (k3s#12056): only --flannel-iface does",
                self.flags.node_ip.join(",")
            ));
        }
        let e = eligible(iface, Family::Ipv4, flannel);
        pick.uncertain = e.uncertain;
        let Some(addr) = e.addresses.first().copied() else {
            return pick.fatal_here(format!(
                "failed to find IPv4 address for interface {}",
                iface.name
            ));
        };
        pick.trace.push(format!(
            "Using interface with name {} and address {addr}",
            iface.name
        ));
        pick.interface = Some(iface.name.to_string());
        pick.address = Some(addr);
        pick.public_address = Some(addr);
        if self.flags.flannel_external_ip {
            match self
                .flags
                .node_external_ip
                .iter()
                .find_map(|t| t.parse::<IpAddr>().ok().filter(IpAddr::is_ipv4))
            {
                Some(ext) => {
                    pick.trace.push(format!(
                        "--flannel-external-ip: {} publishes --node-external-ip {ext} as public-ip-overwrite; the tunnel still leaves through {}",
                        self.distro.as_str(),
                        iface.name
                    ));
                    pick.public_address = Some(ext);
                }
                None => pick.trace.push(
                    "--flannel-external-ip without an IPv4 --node-external-ip changes nothing"
                        .into(),
                ),
            }
        }
        pick.mtu = backend_mtu(
            self.flags
                .flannel_backend
                .as_deref()
                .and_then(FlannelBackend::parse)
                .unwrap_or(FlannelBackend::Vxlan),
            iface.mtu,
        );
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
