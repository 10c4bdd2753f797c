//! The kernel's build configuration against what the node's pods, Services, Calico's policy and the
//! profile's encapsulation need (`KernelConfig-<feature>`, as k0s `sysinfo` checks): an option that
//! is neither built in (`y`) nor a module (`m`) cannot be loaded later, so the feature cannot work on
//! this kernel at all. Read from `/proc/config.gz` or `/boot/config-<release>`.
//!
//! Sources: Calico's "Kernel dependencies" in its system requirements
//! (docs.tigera.io/calico/latest/getting-started/kubernetes/requirements) lists ip_set, xt_set,
//! xt_mark, xt_conntrack, xt_multiport, xt_addrtype, xt_rpfilter, ipip, vxlan and wireguard;
//! kube-proxy's iptables rules use the statistic, comment, mark, addrtype and MASQUERADE
//! extensions; containerd's default snapshotter is overlayfs.

use super::{Area, CheckResult, Context, Status};
use crate::facts::preflight::KernelConfig;
use crate::profile::Encapsulation;

const AREA: Area = Area::Kernel;

/// A feature, the options it needs, and who needs it.
pub struct Feature {
    pub id: &'static str,
    pub needed_by: &'static str,
    pub options: &'static [&'static str],
}

pub const PODS: Feature = Feature {
    id: "KernelConfig-Pods",
    needed_by:
        "pods (veth pairs, containerd's overlayfs snapshotter, bridge netfilter, conntrack and NAT)",
    options: &[
        "CONFIG_VETH",
        "CONFIG_OVERLAY_FS",
        "CONFIG_BRIDGE_NETFILTER",
        "CONFIG_NF_CONNTRACK",
        "CONFIG_NF_NAT",
    ],
};

pub const SERVICES: Feature = Feature {
    id: "KernelConfig-Services",
    needed_by: "kube-proxy's iptables rules for Services",
    options: &[
        "CONFIG_NETFILTER_XT_MATCH_STATISTIC",
        "CONFIG_NETFILTER_XT_MATCH_COMMENT",
        "CONFIG_NETFILTER_XT_TARGET_MASQUERADE",
        "CONFIG_NETFILTER_XT_MATCH_ADDRTYPE",
        "CONFIG_NETFILTER_XT_MATCH_MARK",
    ],
};

pub const CALICO_POLICY: Feature = Feature {
    id: "KernelConfig-CalicoPolicy",
    needed_by: "Calico's network policy and anti-spoofing rules (ipsets and the netfilter matches felix uses)",
    options: &[
        "CONFIG_IP_SET",
        "CONFIG_IP_SET_HASH_IP",
        "CONFIG_IP_SET_HASH_NET",
        "CONFIG_NETFILTER_XT_SET",
        "CONFIG_NETFILTER_XT_MATCH_MARK",
        "CONFIG_NETFILTER_XT_MATCH_CONNTRACK",
        "CONFIG_NETFILTER_XT_MATCH_MULTIPORT",
        "CONFIG_NETFILTER_XT_MATCH_ADDRTYPE",
        "CONFIG_IP_NF_MATCH_RPFILTER",
    ],
};

pub const IPIP: Feature = Feature {
    id: "KernelConfig-Ipip",
    needed_by: "Calico's IP-in-IP encapsulation (tunl0)",
    options: &["CONFIG_NET_IPIP"],
};

pub const VXLAN: Feature = Feature {
    id: "KernelConfig-Vxlan",
    needed_by: "Calico's VXLAN encapsulation (vxlan.calico)",
    options: &["CONFIG_VXLAN"],
};

pub const WIREGUARD: Feature = Feature {
    id: "KernelConfig-Wireguard",
    needed_by: "Calico's WireGuard encryption (wireguard.cali)",
    options: &["CONFIG_WIREGUARD"],
};

/// The features the profile needs: always pods, Services and Calico's policy; the encapsulation's
/// own (IP-in-IP when the profile names none, as calico.yaml's pools).
pub fn needed(encapsulation: Option<Encapsulation>) -> Vec<&'static Feature> {
    let mut features = vec![&PODS, &SERVICES, &CALICO_POLICY];
    match encapsulation.unwrap_or(Encapsulation::Ipip) {
        Encapsulation::Ipip | Encapsulation::IpipCrossSubnet => features.push(&IPIP),
        Encapsulation::Vxlan | Encapsulation::VxlanCrossSubnet => features.push(&VXLAN),
        Encapsulation::Wireguard => features.push(&WIREGUARD),
        Encapsulation::None => {}
    }
    features
}

pub fn evaluate(ctx: &Context) -> Vec<CheckResult> {
    let features = needed(ctx.profile.calico.encapsulation);
    let Some(preflight) = &ctx.facts.preflight else {
        return Vec::new();
    };
    features
        .iter()
        .map(|f| judge(f, &preflight.kernel_config))
        .collect()
}

fn judge(feature: &Feature, config: &KernelConfig) -> CheckResult {
    let Some(source) = &config.source else {
        return CheckResult::skip(
            feature.id,
            AREA,
            format!(
                "no kernel configuration to read ({})",
                config.error.as_deref().unwrap_or("none found")
            ),
        );
    };
    let missing: Vec<&str> = feature
        .options
        .iter()
        .copied()
        .filter(|o| config.options.get(*o).cloned().flatten().is_none())
        .collect();
    let status = if missing.is_empty() {
        Status::Ok
    } else {
        Status::Fail
    };
    let message = if missing.is_empty() {
        format!("{source} has every option {} needs", feature.needed_by)
    } else {
        format!(
            "{source} lacks {} (neither built in nor a module), which {} need",
            missing.join(", "),
            feature.needed_by
        )
    };
    let r = CheckResult::new(feature.id, AREA, status, message)
        .with("source", source.clone())
        .with("needed_by", feature.needed_by)
        .with("missing", missing.clone())
        .with(
            "options",
            serde_json::Value::Object(
                feature
                    .options
                    .iter()
                    .map(|o| {
                        (
                            o.to_string(),
                            config.options.get(*o).cloned().flatten().into(),
                        )
                    })
                    .collect(),
            ),
        );
    if missing.is_empty() {
        r
    } else {
        r.fix(format!(
            "boot a kernel built with {} (=y or =m): the distribution's standard kernel has them",
            missing.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{expect, find, pre_join_with_preflight};
    use crate::facts::preflight::{Preflight, KERNEL_CONFIG_OPTIONS};

    #[test]
    fn every_option_judged_is_gathered() {
        for f in [&PODS, &SERVICES, &CALICO_POLICY, &IPIP, &VXLAN, &WIREGUARD] {
            for o in f.options {
                assert!(KERNEL_CONFIG_OPTIONS.contains(o), "{o}");
            }
        }
    }

    #[test]
    fn encapsulation_decides_the_options() {
        let facts = crate::facts::testkit::host("n").build();
        let mut options: std::collections::BTreeMap<String, Option<String>> = KERNEL_CONFIG_OPTIONS
            .iter()
            .map(|o| (o.to_string(), Some("m".to_string())))
            .collect();
        options.insert("CONFIG_VXLAN".into(), None);
        let preflight = Preflight {
            kernel_config: KernelConfig {
                source: Some("/boot/config-6.1.0".into()),
                options,
                error: None,
            },
            ..Default::default()
        };
        let vxlan = pre_join_with_preflight(
            facts.clone(),
            preflight.clone(),
            "cluster: t\ncalico:\n  encapsulation: vxlan\n",
        );
        expect(
            &vxlan,
            "KernelConfig-Vxlan",
            Status::Fail,
            &["CONFIG_VXLAN", "VXLAN encapsulation"],
        );
        expect(&vxlan, "KernelConfig-Pods", Status::Ok, &[]);
        assert!(!vxlan.iter().any(|r| r.id == "KernelConfig-Ipip"));
        let ipip = pre_join_with_preflight(
            facts,
            preflight,
            "cluster: t
",
        );
        expect(&ipip, "KernelConfig-Ipip", Status::Ok, &[]);
        assert!(!ipip.iter().any(|r| r.id == "KernelConfig-Vxlan"));
        assert_eq!(find(&ipip, "KernelConfig-CalicoPolicy").status, Status::Ok);
    }
}
