//! How IPv6 stands on the host, most fundamental reason first: off on the kernel command line, not in
//! the kernel, disabled by sysctl (everywhere or on the node NIC), or on with some global addresses.

use super::addresses::is_global;
use crate::facts::{Facts, Family};

/// How IPv6 stands on this host, most fundamental reason first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ipv6Host {
    OffOnCmdline,
    NotInKernel,
    DisabledBySysctl,
    DisabledOnNodeNic(String),
    On { global_addresses: usize },
}

impl Ipv6Host {
    pub fn of(facts: &Facts, node_nic: Option<&str>) -> Ipv6Host {
        let s = &facts.ipv6;
        if s.disabled_on_cmdline {
            return Ipv6Host::OffOnCmdline;
        }
        if !s.proc_present {
            return Ipv6Host::NotInKernel;
        }
        if s.all_disable_ipv6 == Some(true) {
            return Ipv6Host::DisabledBySysctl;
        }
        if let Some(nic) = node_nic.and_then(|n| facts.interface(n)) {
            if nic.ipv6_disabled == Some(true) {
                return Ipv6Host::DisabledOnNodeNic(nic.name.to_string());
            }
        }
        let global_addresses = facts
            .interfaces
            .iter()
            .flat_map(|i| i.addresses.iter())
            .filter(|a| a.family == Family::Ipv6 && is_global(a))
            .count();
        Ipv6Host::On { global_addresses }
    }

    pub fn is_on(&self) -> bool {
        matches!(self, Ipv6Host::On { .. })
    }

    pub fn describe(&self) -> String {
        match self {
            Ipv6Host::OffOnCmdline => {
                "IPv6 is off in the kernel (ipv6.disable=1 on the kernel command line)".into()
            }
            Ipv6Host::NotInKernel => {
                "IPv6 is off in the kernel (/proc/sys/net/ipv6 does not exist)".into()
            }
            Ipv6Host::DisabledBySysctl => {
                "IPv6 is disabled by sysctl (net.ipv6.conf.all.disable_ipv6=1)".into()
            }
            Ipv6Host::DisabledOnNodeNic(n) => {
                format!("IPv6 is disabled on the node NIC {n} (net.ipv6.conf.{n}.disable_ipv6=1)")
            }
            Ipv6Host::On {
                global_addresses: 0,
            } => "IPv6 is on (link-local addresses only)".into(),
            Ipv6Host::On {
                global_addresses: n,
            } => format!(
                "IPv6 is on ({n} global address{})",
                if *n == 1 { "" } else { "es" }
            ),
        }
    }

    /// A stable short name for the state (`off-cmdline`, `on`, ...).
    pub fn key(&self) -> &'static str {
        match self {
            Ipv6Host::OffOnCmdline => "off-cmdline",
            Ipv6Host::NotInKernel => "not-in-kernel",
            Ipv6Host::DisabledBySysctl => "disabled-sysctl",
            Ipv6Host::DisabledOnNodeNic(_) => "disabled-on-node-nic",
            Ipv6Host::On { .. } => "on",
        }
    }
}
