//! Machine formats of `nodecheck calico`: an env file line, a shell-quoted `kubectl set env` command, an
//! operator `Installation` merge patch (YAML), and JSON. Every emitted value round-trips: a hostile
//! interface name stays one shell word and one YAML scalar.

use serde::Serialize;

use crate::calico::analysis::{CalicoReport, FamilyAnalysis};
use crate::calico::method::{parse_method, Method};
use crate::escape::shell_quote;
use crate::facts::Family;
use crate::profile::calico_version::CalicoVersion;

/// The recommended `(env var, value)` of every family that has one.
pub fn recommended_settings(report: &CalicoReport) -> Vec<(&'static str, String)> {
    report
        .families
        .iter()
        .filter_map(|f| {
            f.recommendation
                .chosen
                .as_ref()
                .map(|c| (crate::calico::analysis::env_var(f.family), c.method.clone()))
        })
        .collect()
}

/// `IP_AUTODETECTION_METHOD=...` lines, quoted so a shell or an env file reads the value back unchanged.
pub fn env_lines(report: &CalicoReport) -> String {
    recommended_settings(report)
        .into_iter()
        .map(|(name, value)| format!("{name}={}\n", shell_quote(&value)))
        .collect()
}

/// The `kubectl set env` command for a manifest-installed calico-node DaemonSet.
pub fn kubectl_command(report: &CalicoReport) -> String {
    let mut words: Vec<String> = [
        "kubectl",
        "-n",
        "kube-system",
        "set",
        "env",
        "daemonset/calico-node",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for (name, value) in recommended_settings(report) {
        words.push(shell_quote(&format!("{name}={value}")));
    }
    words.join(" ") + "\n"
}

/// `spec.calicoNetwork.nodeAddressAutodetectionV4/V6` of the operator's `Installation`. Every field is
/// written, the unused ones as `null`, so a merge patch also removes the method set before (the CRD
/// allows only one).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeAddressAutodetection {
    pub first_found: Option<bool>,
    pub kubernetes: Option<String>,
    pub interface: Option<String>,
    pub skip_interface: Option<String>,
    pub can_reach: Option<String>,
    pub cidrs: Option<Vec<String>>,
}

impl NodeAddressAutodetection {
    /// The operator fields that render to this env value (`getAutodetectionMethod` copies them verbatim).
    pub fn from_method(value: &str, version: &CalicoVersion) -> Option<NodeAddressAutodetection> {
        let mut out = NodeAddressAutodetection {
            first_found: None,
            kubernetes: None,
            interface: None,
            skip_interface: None,
            can_reach: None,
            cidrs: None,
        };
        match parse_method(value, version) {
            Method::FirstFound => out.first_found = Some(true),
            Method::KubernetesInternalIp => out.kubernetes = Some("NodeInternalIP".into()),
            Method::Interface { .. } => {
                out.interface = Some(value["interface=".len()..].to_string())
            }
            Method::SkipInterface { .. } => {
                out.skip_interface = Some(value["skip-interface=".len()..].to_string())
            }
            Method::CanReach { destination } => out.can_reach = Some(destination),
            Method::Cidr { entries } => out.cidrs = Some(entries),
            Method::Invalid { .. } => return None,
        }
        Some(out)
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CalicoNetworkPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    node_address_autodetection_v4: Option<NodeAddressAutodetection>,
    #[serde(skip_serializing_if = "Option::is_none")]
    node_address_autodetection_v6: Option<NodeAddressAutodetection>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SpecPatch {
    calico_network: CalicoNetworkPatch,
}

#[derive(Serialize)]
struct Metadata {
    name: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InstallationPatch {
    api_version: &'static str,
    kind: &'static str,
    metadata: Metadata,
    spec: SpecPatch,
}

/// The operator `Installation` merge patch, YAML.
pub fn operator_patch(report: &CalicoReport) -> anyhow::Result<String> {
    let mut v4 = None;
    let mut v6 = None;
    for f in &report.families {
        if let Some(c) = &f.recommendation.chosen {
            let fields = NodeAddressAutodetection::from_method(&c.method, &report.calico_version)
                .ok_or_else(|| {
                anyhow::anyhow!("{} cannot be expressed in the Installation API", c.method)
            })?;
            match f.family {
                Family::Ipv4 => v4 = Some(fields),
                Family::Ipv6 => v6 = Some(fields),
            }
        }
    }
    let patch = InstallationPatch {
        api_version: "operator.tigera.io/v1",
        kind: "Installation",
        metadata: Metadata { name: "default" },
        spec: SpecPatch {
            calico_network: CalicoNetworkPatch {
                node_address_autodetection_v4: v4,
                node_address_autodetection_v6: v6,
            },
        },
    };
    let yaml = serde_saphyr::to_string(&patch)?;
    Ok(format!(
        "# Apply with: kubectl patch installation default --type merge --patch-file <this file>\n\
         # (null fields remove a method set earlier: the Installation allows only one)\n{yaml}"
    ))
}

/// The JSON document.
pub fn json(report: &CalicoReport) -> String {
    serde_json::to_string_pretty(report).expect("calico report serialises") + "\n"
}

/// Why there is no recommendation, one line per family that has none (for stderr).
pub fn no_recommendation_reasons(report: &CalicoReport) -> Vec<String> {
    let mut lines = Vec::new();
    for f in report
        .families
        .iter()
        .filter(|f| f.recommendation.chosen.is_none())
    {
        lines.push(format!(
            "no {} value selects the node-network address on every node:",
            f.env_var
        ));
        lines.extend(rejection_lines(f));
    }
    lines
}

/// `- method: reason` for each rejected candidate, escaped for a terminal.
pub fn rejection_lines(f: &FamilyAnalysis) -> Vec<String> {
    f.recommendation
        .rejected
        .iter()
        .map(|r| {
            let line = if r.reason.starts_with(&format!("`{}`", r.method)) {
                r.reason.clone()
            } else {
                format!("`{}`: {}", r.method, r.reason)
            };
            format!("  - {}", crate::escape::for_terminal(&line))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calico::analysis::{analyse_family, FamilySettings};
    use crate::calico::nodes::build_fleet;
    use crate::calico::predict::Model;
    use crate::facts::testkit::host;

    /// A report whose recommendation is replaced by `method`, as if a hostile name had been chosen.
    fn report_with(method: &str) -> CalicoReport {
        let facts = host("w")
            .nic("ens192", &["10.20.41.41/24"])
            .route("default", Some("10.20.41.1"), "ens192", None, None)
            .build();
        let version: CalicoVersion = "3.28.0".parse().unwrap();
        let fleet = build_fleet(&facts, None, &[], &[]);
        let model = Model::new(&version, &[]);
        let settings = FamilySettings {
            current_method: None,
            can_reach: None,
            profile_cidrs: &[],
            extra_methods: &[],
            only_recommendation: false,
            deployed: None,
        };
        let mut f = analyse_family(&model, &fleet, Family::Ipv4, &settings);
        f.recommendation.chosen.as_mut().unwrap().method = method.to_string();
        CalicoReport {
            host: "w".into(),
            calico_version: version,
            calico_version_source: "test".into(),
            live: false,
            families: vec![f],
            peers_without_facts: vec![],
            peer_problems: vec![],
        }
    }

    const HOSTILE: [&str; 5] = [
        "interface=^(eth3|ens192)$",
        "interface=^(e'$;\"x|ens\\$1)$",
        "interface=^(a`id`b|c$(id)d)$",
        "interface=^(\u{1b}[31m|né0)$",
        "interface=^(#x|-y| z)$",
    ];

    #[test]
    fn kubectl_line_stays_one_word_per_setting() {
        for method in HOSTILE {
            let line = kubectl_command(&report_with(method));
            let rest = line.trim_end().strip_prefix("kubectl ").unwrap();
            let out = std::process::Command::new("bash")
                .arg("-c")
                .arg(format!("printf '%s\\0' {rest}"))
                .output()
                .unwrap();
            let words: Vec<String> = String::from_utf8(out.stdout)
                .unwrap()
                .split('\0')
                .filter(|w| !w.is_empty())
                .map(String::from)
                .collect();
            assert_eq!(words.len(), 6, "{line}");
            assert_eq!(
                words[5],
                format!("IP_AUTODETECTION_METHOD={method}"),
                "{line}"
            );
        }
    }

    #[test]
    fn env_line_reads_back_in_a_shell() {
        for method in HOSTILE {
            let line = env_lines(&report_with(method));
            let out = std::process::Command::new("bash")
                .arg("-c")
                .arg(format!("{line}printf '%s' \"$IP_AUTODETECTION_METHOD\""))
                .output()
                .unwrap();
            assert_eq!(String::from_utf8(out.stdout).unwrap(), method, "{line}");
        }
    }

    #[test]
    fn operator_yaml_parses_back_to_the_same_fields() {
        for method in HOSTILE {
            let yaml = operator_patch(&report_with(method)).unwrap();
            let value: serde_json::Value =
                serde_saphyr::from_str(&yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
            let v4 = &value["spec"]["calicoNetwork"]["nodeAddressAutodetectionV4"];
            assert_eq!(
                v4["interface"],
                method.strip_prefix("interface=").unwrap(),
                "{yaml}"
            );
            assert!(
                v4["firstFound"].is_null() && v4["cidrs"].is_null(),
                "{yaml}"
            );
        }
        let yaml = operator_patch(&report_with("cidr=10.20.41.0/24,10.20.42.0/24")).unwrap();
        let value: serde_json::Value = serde_saphyr::from_str(&yaml).unwrap();
        assert_eq!(
            value["spec"]["calicoNetwork"]["nodeAddressAutodetectionV4"]["cidrs"],
            serde_json::json!(["10.20.41.0/24", "10.20.42.0/24"])
        );
        let yaml = operator_patch(&report_with("kubernetes-internal-ip")).unwrap();
        assert!(yaml.contains("kubernetes: NodeInternalIP"), "{yaml}");
    }
}
