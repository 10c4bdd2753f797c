//! k3s's `--vpn-auth` (`pkg/vpn`): which provider it names, and the interface and addresses that
//! provider brings. Tailscale is the only provider k3s knows; its interface is always
//! `tailscale0` (a constant in k3s, never looked up), its addresses the first IPv4 and first IPv6
//! of `tailscale status --json`'s `TailscaleIPs` — the addresses `tailscale0` holds, which is what
//! this model reads. Every other provider name, an unknown key or a missing `joinKey` is k3s's
//! own fatal line. The join key itself is never kept.

use std::net::IpAddr;

use crate::facts::Facts;

/// The interface k3s assigns to the Tailscale provider.
pub const TAILSCALE_INTERFACE: &str = "tailscale0";

/// What `--vpn-auth` / `--vpn-auth-file` say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VpnAuth {
    /// A provider k3s accepts (only `tailscale`).
    Tailscale,
    /// `--vpn-auth-file`: the file holds the key and is not read; k3s accepts only Tailscale.
    FromFile,
    /// k3s's fatal line for this value.
    Refused(String),
}

/// Reads a `--vpn-auth` value as k3s's `getVPNAuthInfo` does: `,extraArgs=` and what follows go to
/// the provider's command; the rest is `key=value` pairs separated by commas.
pub fn parse_auth(value: &str) -> VpnAuth {
    let command = value.split(",extraArgs=").next().unwrap_or_default();
    let mut name = String::new();
    let mut has_join_key = false;
    for pair in command.split(',') {
        let mut parts = pair.split('=');
        let key = parts.next().unwrap_or_default();
        let Some(val) = parts.next() else {
            // Go indexes the missing value.
            return VpnAuth::Refused(
                "panic: runtime error: index out of range [1] with length 1".into(),
            );
        };
        match key {
            "name" => name = val.to_string(),
            "joinKey" => has_join_key = !val.is_empty(),
            "controlServerURL" => {}
            other => {
                return VpnAuth::Refused(format!(
                    "VPN Error. The passed VPN auth info includes an unknown parameter: {other}"
                ))
            }
        }
    }
    if name != "tailscale" {
        return VpnAuth::Refused(format!(
            "Requested VPN: {name} is not supported. We currently only support tailscale"
        ));
    }
    if !has_join_key {
        return VpnAuth::Refused("VPN Error. Tailscale requires a JoinKey".into());
    }
    VpnAuth::Tailscale
}

/// The VPN's addresses on this node, as k3s learns them: the first IPv4 and the first IPv6 Tailscale
/// assigned (the addresses on `tailscale0` other than its link-local ones). `None` when
/// `tailscale0` does not exist yet (k3s runs `tailscale up` itself when it starts).
pub fn tailscale_addresses(facts: &Facts) -> Option<(Option<IpAddr>, Option<IpAddr>)> {
    let iface = facts.interface(TAILSCALE_INTERFACE)?;
    let assigned = || {
        iface
            .addresses
            .iter()
            .map(|a| a.address)
            .filter(|a| match a {
                IpAddr::V4(v4) => !v4.is_link_local(),
                IpAddr::V6(v6) => !v6.is_unicast_link_local(),
            })
    };
    Some((
        assigned().find(IpAddr::is_ipv4),
        assigned().find(IpAddr::is_ipv6),
    ))
}

/// k3s's node IPs with the VPN: the VPN's addresses, the family of the node IP k3s had first
/// leading; k3s's fatal line when the VPN has no address of that family.
pub fn node_ips_with_vpn(
    node_ips: &[IpAddr],
    vpn_v4: Option<IpAddr>,
    vpn_v6: Option<IpAddr>,
) -> Result<Vec<IpAddr>, String> {
    let first_v4 = node_ips.first().is_some_and(IpAddr::is_ipv4);
    let first_v6 = node_ips.first().is_some_and(IpAddr::is_ipv6);
    match (vpn_v4, vpn_v6) {
        (Some(a), b) if first_v4 => Ok(std::iter::once(a).chain(b).collect()),
        (a, Some(b)) if first_v6 => Ok(std::iter::once(b).chain(a).collect()),
        _ => {
            let shown: Vec<String> = node_ips.iter().map(IpAddr::to_string).collect();
            let nil = |a: Option<IpAddr>| a.map_or("<nil>".to_string(), |a| a.to_string());
            Err(format!(
                "address family mismatch when assigning VPN addresses to node: node=[{}], VPN ipv4={} ipv6={}",
                shown.join(" "),
                nil(vpn_v4),
                nil(vpn_v6)
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tailscale_with_a_key_is_accepted_and_extra_args_are_the_providers() {
        assert_eq!(
            parse_auth("name=tailscale,joinKey=tskey-abc,extraArgs=--accept-routes --ssh"),
            VpnAuth::Tailscale
        );
        assert_eq!(
            parse_auth("name=tailscale,joinKey=k,controlServerURL=https://hs.example"),
            VpnAuth::Tailscale
        );
    }

    /// k3s's own lines for every refusal; the key never appears in them.
    #[test]
    fn refusals_are_k3s_lines() {
        assert_eq!(
            parse_auth("name=wireguard,joinKey=secret"),
            VpnAuth::Refused(
                "Requested VPN: wireguard is not supported. We currently only support tailscale"
                    .into()
            )
        );
        assert_eq!(
            parse_auth("name=tailscale"),
            VpnAuth::Refused("VPN Error. Tailscale requires a JoinKey".into())
        );
        assert_eq!(
            parse_auth("name=tailscale,joinKey=secret,port=41641"),
            VpnAuth::Refused(
                "VPN Error. The passed VPN auth info includes an unknown parameter: port".into()
            )
        );
        assert_eq!(
            parse_auth("name=tailscale,joinKey"),
            VpnAuth::Refused("panic: runtime error: index out of range [1] with length 1".into())
        );
        for refused in [
            parse_auth("name=tailscale,joinKey=secret,port=1"),
            parse_auth("name=x,joinKey=secret"),
        ] {
            let VpnAuth::Refused(line) = refused else {
                panic!("refused")
            };
            assert!(!line.contains("secret"));
        }
    }

    #[test]
    fn the_vpn_family_follows_the_first_node_ip() {
        let ip = |t: &str| t.parse::<IpAddr>().unwrap();
        let (v4, v6) = (ip("100.101.1.2"), ip("fd7a:115c:a1e0::12"));
        assert_eq!(
            node_ips_with_vpn(&[ip("10.0.2.15")], Some(v4), Some(v6)).unwrap(),
            [v4, v6]
        );
        assert_eq!(
            node_ips_with_vpn(&[ip("fd00::5")], Some(v4), Some(v6)).unwrap(),
            [v6, v4]
        );
        assert_eq!(
            node_ips_with_vpn(&[ip("10.0.2.15")], None, Some(v6)).unwrap_err(),
            "address family mismatch when assigning VPN addresses to node: node=[10.0.2.15], VPN ipv4=<nil> ipv6=fd7a:115c:a1e0::12"
        );
    }
}
