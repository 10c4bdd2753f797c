//! `Kubelet-Service` (kubeadm's `Service-Kubelet` and `KubeletVersion`): the unit is installed, not
//! masked, enabled through a `wants` link, and kubelet's version is within the skew of the cluster's.
//! `Proxy-Env` (kubeadm's `HTTPProxy`/`HTTPProxyCIDR` look at kubeadm's own environment): kubelet and
//! containerd get `HTTP(S)_PROXY` from their units without `NO_PROXY` covering the node, pod and
//! service networks, so image pulls and API calls to in-cluster addresses go to the proxy.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::checks::{Area, CheckResult, Context};
use crate::facts::node_setup::{NodeSetup, ServiceState};

const AREA: Area = Area::Join;

pub fn evaluate(ctx: &Context, setup: &NodeSetup) -> Vec<CheckResult> {
    vec![kubelet_service(ctx, setup), proxy_env(ctx, setup)]
}

/// The oldest kubelet minor a control plane of minor `cp` supports (3 behind since 1.28, 2 before).
fn oldest_supported_kubelet(cp_minor: u32) -> u32 {
    let behind = if cp_minor >= 28 { 3 } else { 2 };
    cp_minor.saturating_sub(behind)
}

fn kubelet_service(ctx: &Context, setup: &NodeSetup) -> CheckResult {
    const ID: &str = "Kubelet-Service";
    let kubelet = &setup.kubelet;
    let Some(unit) = &kubelet.unit else {
        return CheckResult::fail(ID, AREA, "kubelet.service is not installed (no unit file in the systemd unit search path): kubeadm join needs kubelet")
            .fix("install the kubelet and kubeadm packages (pkgs.k8s.io), which ship kubelet.service and its kubeadm drop-in")
            .with("version", kubelet.version.clone());
    };
    let version_minor = kubelet
        .version
        .as_deref()
        .and_then(crate::profile::parsed::kubernetes_minor);
    let target = super::target_minor(ctx);
    let version_text = kubelet.version.clone().unwrap_or_else(|| "unknown".into());
    let r = if unit.masked {
        CheckResult::fail(
            ID,
            AREA,
            "kubelet.service is masked (linked to /dev/null): systemd will not start it",
        )
        .fix("`systemctl unmask kubelet.service && systemctl enable kubelet.service`")
    } else if let (Some((vmaj, vmin)), Some((tmaj, tmin))) = (version_minor, target) {
        if (vmaj, vmin) > (tmaj, tmin) {
            CheckResult::fail(
                ID,
                AREA,
                format!("kubelet {version_text} is newer than the cluster's Kubernetes {}: an unsupported skew kubeadm refuses (KubeletVersion)", ctx.profile.kubernetes_version.as_ref().map_or("", |v| v.text())),
            )
            .fix(format!("install kubelet {tmaj}.{tmin}.x (and hold the package)"))
        } else if vmaj != tmaj || vmin < oldest_supported_kubelet(tmin) {
            CheckResult::fail(
                ID,
                AREA,
                format!("kubelet {version_text} is older than the skew policy allows for Kubernetes {tmaj}.{tmin} (oldest supported: {tmaj}.{})", oldest_supported_kubelet(tmin)),
            )
            .fix(format!("install kubelet {tmaj}.{tmin}.x"))
        } else {
            enabled_or_warn(ID, kubelet, &version_text)
        }
    } else {
        enabled_or_warn(ID, kubelet, &version_text)
    };
    r.with("unit", unit.fragment.clone())
        .with("drop_ins", unit.drop_ins.clone())
        .with("enabled_by", kubelet.enabled_by.clone())
        .with("active", kubelet.active)
        .with("version", kubelet.version.clone())
        .with("version_source", kubelet.version_source.clone())
}

fn enabled_or_warn(id: &str, kubelet: &ServiceState, version: &str) -> CheckResult {
    if kubelet.enabled_by.is_empty() {
        CheckResult::warn(
            id,
            AREA,
            format!("kubelet.service (kubelet {version}) is installed but not enabled: no wants link starts it at boot"),
        )
        .fix("`systemctl enable kubelet.service`")
    } else {
        CheckResult::ok(
            id,
            AREA,
            format!(
                "kubelet.service is installed and enabled ({}), kubelet {version}",
                &kubelet.enabled_by.join(", ")
            ),
        )
    }
}

/// What a `NO_PROXY` list exempts, as Go's `httpproxy` reads it: `*`, IPs, CIDRs and host names or
/// domain suffixes.
#[derive(Debug, Default)]
pub struct NoProxy {
    all: bool,
    networks: Vec<IpNet>,
    addresses: Vec<IpAddr>,
}

impl NoProxy {
    pub fn parse(value: &str) -> NoProxy {
        let mut out = NoProxy::default();
        for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            if entry == "*" {
                out.all = true;
            } else if let Ok(net) = entry.parse::<IpNet>() {
                out.networks.push(net);
            } else if let Ok(ip) = entry.trim_matches(['[', ']']).parse::<IpAddr>() {
                out.addresses.push(ip);
            }
        }
        out
    }

    /// A whole network is exempt only when one CIDR entry contains it.
    pub fn covers_network(&self, net: &IpNet) -> bool {
        self.all || self.networks.iter().any(|n| n.contains(net))
    }

    pub fn covers_address(&self, ip: IpAddr) -> bool {
        self.all || self.addresses.contains(&ip) || self.networks.iter().any(|n| n.contains(&ip))
    }
}

fn proxy_env(ctx: &Context, setup: &NodeSetup) -> CheckResult {
    const ID: &str = "Proxy-Env";
    let node = crate::checks::node_network::resolve(ctx.facts, ctx.profile);
    let mut networks: Vec<(String, IpNet)> = node
        .cidrs
        .iter()
        .map(|c| ("node network".to_string(), *c))
        .collect();
    networks.extend(
        ctx.profile
            .pod_cidrs
            .iter()
            .map(|c| ("pod network".to_string(), *c)),
    );
    networks.extend(
        ctx.profile
            .service_cidrs
            .iter()
            .map(|c| ("service network".to_string(), *c)),
    );
    let mut problems = Vec::new();
    let mut proxied = Vec::new();
    let mut evidence = serde_json::Map::new();
    for (name, state) in [
        ("kubelet", &setup.kubelet),
        ("containerd", &setup.containerd),
    ] {
        let Some(unit) = &state.unit else { continue };
        let get = |key: &str| {
            unit.env(key)
                .or_else(|| unit.env(&key.to_ascii_lowercase()))
        };
        let proxy = get("HTTPS_PROXY").or_else(|| get("HTTP_PROXY"));
        let Some(proxy) = proxy else { continue };
        let no_proxy = get("NO_PROXY");
        let list = NoProxy::parse(no_proxy.map(|v| v.value.as_str()).unwrap_or(""));
        let uncovered: Vec<String> = networks
            .iter()
            .filter(|(_, net)| !list.covers_network(net))
            .map(|(what, net)| format!("{what} {net}"))
            .collect();
        // Facts from older versions or other tools may still carry a proxy password.
        let proxy_url = crate::facts::redact::url_credentials(&proxy.value);
        proxied.push(format!(
            "{name} ({}={proxy_url} from {})",
            proxy.name, proxy.source
        ));
        evidence.insert(
            name.to_string(),
            serde_json::json!({
                "proxy": proxy_url, "proxy_source": proxy.source,
                "no_proxy": no_proxy.map(|v| v.value.clone()),
                "no_proxy_source": no_proxy.map(|v| v.source.clone()),
                "uncovered": uncovered,
            }),
        );
        if no_proxy.is_none() {
            problems.push(format!("{name} has no NO_PROXY at all"));
        } else if !uncovered.is_empty() {
            problems.push(format!("{name}'s NO_PROXY misses {}", uncovered.join(", ")));
        }
    }
    let mut r = if proxied.is_empty() {
        CheckResult::ok(
            ID,
            AREA,
            "kubelet and containerd get no HTTP(S)_PROXY from their units",
        )
    } else if !problems.is_empty() {
        CheckResult::fail(
            ID,
            AREA,
            format!(
                "a proxy is set for {} and {}: node, pod and service traffic would go through the proxy",
                proxied.join(", "),
                problems.join("; ")
            ),
        )
        .fix("add the node, pod and service CIDRs (and the API server's name) to NO_PROXY in the same drop-in or environment file, then `systemctl daemon-reload` and restart kubelet and containerd")
    } else if networks.is_empty() {
        CheckResult::warn(
            ID,
            AREA,
            format!(
                "a proxy is set for {}; the node, pod and service networks are unknown (no profile pod_cidrs/service_cidrs, no default route), so NO_PROXY could not be judged",
                proxied.join(", ")
            ),
        )
        .fix("name pod_cidrs and service_cidrs in the profile")
    } else {
        CheckResult::ok(
            ID,
            AREA,
            format!(
                "a proxy is set for {} and NO_PROXY covers the node, pod and service networks",
                proxied.join(", ")
            ),
        )
    };
    r.evidence.extend(evidence);
    r.with(
        "networks",
        networks
            .iter()
            .map(|(w, n)| format!("{w} {n}"))
            .collect::<Vec<_>>(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_proxy_coverage() {
        let list = NoProxy::parse("localhost,127.0.0.1, 10.0.0.0/8 ,.svc,.cluster.local,[fd00::1]");
        assert!(list.covers_network(&"10.244.0.0/16".parse().unwrap()));
        assert!(!list.covers_network(&"192.168.10.0/24".parse().unwrap()));
        assert!(list.covers_address("fd00::1".parse().unwrap()));
        assert!(NoProxy::parse("*").covers_network(&"0.0.0.0/0".parse().unwrap()));
        assert!(!NoProxy::parse("").covers_network(&"10.0.0.0/8".parse().unwrap()));
    }

    #[test]
    fn skew_policy() {
        assert_eq!(oldest_supported_kubelet(30), 27);
        assert_eq!(oldest_supported_kubelet(27), 25);
    }
}
