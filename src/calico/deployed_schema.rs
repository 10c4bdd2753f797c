//! The types of the fields `--calico-config` reads, as the API server and tigera/operator type them,
//! so that a manifest they would refuse is refused here too (bad input, with the line and column)
//! instead of yielding a confident prediction: an `env` given as a string, an env `value` given as a
//! number (`value: 5`; Kubernetes wants `"5"`), `nodeAddressAutodetectionV4: [1, 2]`, Helm values with
//! `installation: enabled`. Only these fields are typed; everything else in a document is ignored, as
//! before. Unquoted numbers and booleans are not strings here, as in Kubernetes' YAML.

use serde::de::IgnoredAny;
use serde::Deserialize;

/// One document of the stream (or one item of a `List`): the fields of a DaemonSet, an Installation,
/// Helm values and a List that nodecheck reads, in one shape (no two of them share a field).
#[derive(Deserialize)]
#[allow(dead_code)]
struct Document {
    kind: Option<String>,
    metadata: Option<Metadata>,
    spec: Option<Spec>,
    items: Option<Vec<Document>>,
    installation: Option<HelmInstallation>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Metadata {
    name: Option<String>,
    namespace: Option<String>,
}

/// A DaemonSet's `spec` (`template`) or an Installation's (`calicoNetwork`, `kubernetesProvider`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct Spec {
    template: Option<PodTemplate>,
    calico_network: Option<CalicoNetwork>,
    kubernetes_provider: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct PodTemplate {
    spec: Option<PodSpec>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct PodSpec {
    containers: Option<Vec<Container>>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Container {
    name: Option<String>,
    image: Option<String>,
    env: Option<Vec<EnvVar>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct EnvVar {
    name: String,
    value: Option<String>,
    value_from: Option<IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct CalicoNetwork {
    ip_pools: Option<Vec<IpPool>>,
    node_address_autodetection_v4: Option<NodeAddressAutodetection>,
    node_address_autodetection_v6: Option<NodeAddressAutodetection>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct IpPool {
    cidr: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct NodeAddressAutodetection {
    first_found: Option<bool>,
    kubernetes: Option<String>,
    interface: Option<String>,
    skip_interface: Option<String>,
    can_reach: Option<String>,
    cidrs: Option<Vec<String>>,
}

/// tigera-operator's Helm values: `installation:` is the Installation spec plus `enabled`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct HelmInstallation {
    enabled: Option<bool>,
    kubernetes_provider: Option<String>,
    calico_network: Option<CalicoNetwork>,
}

/// Checks the types of every document of a YAML stream (JSON is YAML too): the first wrong one is
/// `line L column C: what`.
pub fn check_types(text: &str) -> Result<(), String> {
    let options = serde_saphyr::options! {
        no_schema: true,
        strict_booleans: true,
    };
    serde_saphyr::from_multiple_with_options::<Option<Document>>(text, options)
        .map(|_| ())
        .map_err(|e| {
            let bare = e.without_snippet();
            let message = bare.to_string();
            let message = message
                .split_once(" at line ")
                .map_or(message.as_str(), |(head, _)| head)
                .to_string();
            match bare.location() {
                Some(l) => format!("line {} column {}: {message}", l.line(), l.column()),
                None => message,
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_types_are_refused_with_their_place() {
        for (text, line) in [
            (
                "kind: DaemonSet\nspec:\n  template:\n    spec:\n      containers:\n      - name: calico-node\n        env: IP_AUTODETECTION_METHOD=first-found\n",
                7,
            ),
            (
                "kind: DaemonSet\nspec:\n  template:\n    spec:\n      containers:\n      - name: calico-node\n        env:\n        - name: IP\n          value: 5\n",
                9,
            ),
            (
                "kind: Installation\nmetadata: {name: default}\nspec:\n  calicoNetwork:\n    nodeAddressAutodetectionV4: [1, 2]\n",
                5,
            ),
            ("installation: enabled\n", 1),
        ] {
            let e = check_types(text).unwrap_err();
            assert!(e.starts_with(&format!("line {line} column ")), "{text}: {e}");
        }
        assert!(check_types(
            "kind: DaemonSet\nspec:\n  template:\n    spec:\n      containers:\n      - name: calico-node\n        env:\n        - name: IP\n          value: \"5\"\n---\nkind: ConfigMap\ndata: {veth_mtu: 1440}\n"
        )
        .is_ok());
    }
}
