//! The Calico configuration a cluster really runs (`--calico-config`): the address autodetection of
//! the deployed calico-node, read from a calico-node DaemonSet (`calico.yaml`, multi-document, or
//! `kubectl get ds calico-node -n kube-system -o yaml|json`), an operator `Installation` (`kubectl get
//! installation default -o yaml`, a custom-resources.yaml), tigera-operator Helm values
//! (`installation.calicoNetwork`), or a `kubectl get … -o json` List holding any of them.
//!
//! From a DaemonSet: the calico-node container's `IP`, `IP_AUTODETECTION_METHOD`, `IP6`,
//! `IP6_AUTODETECTION_METHOD` and its image tag (the Calico version). From an Installation: its
//! `calicoNetwork.nodeAddressAutodetectionV4/V6`, turned into the environment value exactly as
//! tigera/operator renders the calico-node DaemonSet (see [`operator_method`]), including the
//! operator's defaults when a field is absent.

use serde_json::Value;

use crate::error::BadInput;
use crate::facts::Family;

/// What the deployed calico-node does for one address family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detection {
    /// Autodetection with this `IP(6)_AUTODETECTION_METHOD` value (`None`: the variable is not set,
    /// which calico-node treats as first-found).
    Autodetect(Option<String>),
    /// No autodetection: `IP=none`, a fixed address, IPv6 not enabled; the text says which.
    Off(String),
    /// The value comes from `valueFrom` (a ConfigMap, a field): not knowable from the manifest.
    NotKnowable(String),
}

/// The deployed configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployedCalico {
    /// Where it came from: `calico.yaml: DaemonSet kube-system/calico-node`.
    pub source: String,
    /// The Calico version: calico-node's image tag (an Installation names none).
    pub version: Option<String>,
    pub ipv4: Detection,
    pub ipv6: Detection,
}

impl DeployedCalico {
    pub fn detection(&self, family: Family) -> &Detection {
        match family {
            Family::Ipv4 => &self.ipv4,
            Family::Ipv6 => &self.ipv6,
        }
    }
}

/// The largest `--calico-config` read: a whole release manifest with its CRDs (Calico's `calico.yaml`,
/// the operator's `tigera-operator.yaml`) is a few MiB.
pub const MAX_CALICO_CONFIG_BYTES: u64 = 32 * 1024 * 1024;

/// Reads `--calico-config PATH|-` (a regular file or stdin, at most [`MAX_CALICO_CONFIG_BYTES`]).
pub fn load(path: &std::path::Path) -> Result<DeployedCalico, BadInput> {
    let label = if path.as_os_str() == "-" {
        "stdin".to_string()
    } else {
        path.display().to_string()
    };
    let text = crate::input::read_input(path, MAX_CALICO_CONFIG_BYTES)
        .map_err(|e| BadInput(format!("--calico-config {}", e.0)))?;
    parse(&text, &label).map_err(|e| BadInput(format!("--calico-config {label}: {e}")))
}

/// Parses the documents of one input and finds calico-node's configuration in them.
pub fn parse(text: &str, label: &str) -> Result<DeployedCalico, String> {
    let documents = crate::kube_objects::documents(text)?;
    // Syntax first (above), then the types of the fields read.
    super::deployed_schema::check_types(text)?;
    let mut objects = Vec::new();
    for document in documents {
        crate::kube_objects::flatten_into(document, &mut objects);
    }
    let mut seen = Vec::new();
    // The operator reads the Installation named `default` and ignores any other.
    let ignored_installations: Vec<String> = objects
        .iter()
        .filter(|o| o.get("kind").and_then(Value::as_str) == Some("Installation"))
        .filter_map(|o| o.pointer("/metadata/name").and_then(Value::as_str))
        .filter(|name| *name != "default")
        .map(str::to_string)
        .collect();
    for object in &objects {
        let (kind, namespace, name) = crate::kube_objects::identity(object);
        if kind == "DaemonSet" {
            if let Some(container) = calico_node_container(object) {
                let place = if namespace.is_empty() {
                    name.to_string()
                } else {
                    format!("{namespace}/{name}")
                };
                return Ok(from_container(
                    container,
                    format!("{label}: DaemonSet {place}"),
                ));
            }
        }
        if kind == "Installation" && name == "default" {
            let spec = object.get("spec").unwrap_or(&Value::Null);
            let ignored = if ignored_installations.is_empty() {
                String::new()
            } else {
                format!(
                    " (Installation {} ignored: the operator reads only the one named default)",
                    ignored_installations.join(", ")
                )
            };
            return Ok(from_installation(
                spec,
                format!("{label}: Installation {name}{ignored}"),
            ));
        }
        if kind.is_empty() {
            if let Some(installation) = object.get("installation") {
                return Ok(from_installation(
                    installation,
                    format!("{label}: tigera-operator Helm values (installation)"),
                ));
            }
        }
        seen.push(if kind.is_empty() {
            format!("an object with keys {}", keys(object))
        } else if name.is_empty() {
            kind.to_string()
        } else {
            format!("{kind} {name}")
        });
    }
    if !ignored_installations.is_empty() {
        return Err(format!(
            "Installation {} is not named default: tigera/operator reads only the Installation named default and ignores any other, so it configures nothing",
            ignored_installations.join(", ")
        ));
    }
    Err(if seen.is_empty() {
        "no document in it (an empty file?)".to_string()
    } else {
        format!(
            "no calico-node DaemonSet, operator Installation or tigera-operator Helm values \
             (`installation:`) in it; found: {}",
            summarise(&seen)
        )
    })
}

fn keys(object: &Value) -> String {
    object
        .as_object()
        .map(|m| {
            m.keys()
                .take(6)
                .map(|k| format!("{k:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_else(|| "none".to_string())
}

fn summarise(seen: &[String]) -> String {
    const SHOWN: usize = 8;
    let mut out: Vec<String> = seen.iter().take(SHOWN).cloned().collect();
    if seen.len() > SHOWN {
        out.push(format!("and {} more", seen.len() - SHOWN));
    }
    out.join(", ")
}

/// The container named `calico-node` of a DaemonSet's pod template.
fn calico_node_container(daemonset: &Value) -> Option<&Value> {
    daemonset
        .pointer("/spec/template/spec/containers")?
        .as_array()?
        .iter()
        .find(|c| c.get("name").and_then(Value::as_str) == Some("calico-node"))
}

/// One environment variable of a container: its value, `Err` for `valueFrom`.
fn env<'a>(container: &'a Value, name: &str) -> Option<Result<&'a str, String>> {
    let entry = container
        .get("env")?
        .as_array()?
        .iter()
        .rev()
        .find(|e| e.get("name").and_then(Value::as_str) == Some(name))?;
    if let Some(from) = entry.get("valueFrom") {
        let what = from
            .as_object()
            .and_then(|m| m.keys().next().cloned())
            .unwrap_or_else(|| "valueFrom".to_string());
        return Some(Err(format!(
            "{name} comes from {what} (valueFrom), which the manifest does not hold"
        )));
    }
    Some(Ok(entry.get("value").and_then(Value::as_str).unwrap_or("")))
}

fn from_container(container: &Value, source: String) -> DeployedCalico {
    let version = container
        .get("image")
        .and_then(Value::as_str)
        .and_then(image_tag);
    let family = |ip: &str, method: &str, default_on: bool| -> Detection {
        let ip_value = match env(container, ip) {
            Some(Err(why)) => return Detection::NotKnowable(why),
            Some(Ok(v)) => v.trim().to_string(),
            None => String::new(),
        };
        let autodetect = match ip_value.to_ascii_lowercase().as_str() {
            "autodetect" => true,
            "" => default_on,
            "none" => return Detection::Off(format!("{ip}=none")),
            _ => return Detection::Off(format!("{ip}={ip_value} (a fixed address)")),
        };
        if !autodetect {
            return Detection::Off(format!("{ip} is not set (no IPv6 autodetection)"));
        }
        match env(container, method) {
            Some(Err(why)) => Detection::NotKnowable(why),
            Some(Ok(v)) if !v.trim().is_empty() => Detection::Autodetect(Some(v.to_string())),
            _ => Detection::Autodetect(None),
        }
    };
    DeployedCalico {
        source,
        version,
        // calico-node autodetects IPv4 when IP is empty, IPv6 only when IP6=autodetect.
        ipv4: family("IP", "IP_AUTODETECTION_METHOD", true),
        ipv6: family("IP6", "IP6_AUTODETECTION_METHOD", false),
    }
}

/// `docker.io/calico/node:v3.28.0` → `v3.28.0`; a digest-only reference has no tag.
fn image_tag(image: &str) -> Option<String> {
    let without_digest = image.split('@').next()?;
    let last = without_digest.rsplit('/').next()?;
    let (_, tag) = last.split_once(':')?;
    (!tag.is_empty()).then(|| tag.to_string())
}

/// The environment value tigera/operator renders for one `NodeAddressAutodetection`: the first set
/// field in the operator's order — `interface`, `skipInterface`, `canReach`, `firstFound: true`,
/// `cidrs` (joined with commas), `kubernetes: NodeInternalIP` — or `None` (autodetection off, `IP=none`).
pub fn operator_method(autodetection: &Value) -> Option<String> {
    let text = |key: &str| {
        autodetection
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    if let Some(i) = text("interface") {
        return Some(format!("interface={i}"));
    }
    if let Some(s) = text("skipInterface") {
        return Some(format!("skip-interface={s}"));
    }
    if let Some(c) = text("canReach") {
        return Some(format!("can-reach={c}"));
    }
    if autodetection.get("firstFound").and_then(Value::as_bool) == Some(true) {
        return Some("first-found".to_string());
    }
    if let Some(cidrs) = autodetection.get("cidrs").and_then(Value::as_array) {
        let cidrs: Vec<&str> = cidrs.iter().filter_map(Value::as_str).collect();
        if !cidrs.is_empty() {
            return Some(format!("cidr={}", cidrs.join(",")));
        }
    }
    if text("kubernetes") == Some("NodeInternalIP") {
        return Some("kubernetes-internal-ip".to_string());
    }
    None
}

/// An Installation's spec (or Helm's `installation:` values, which are that spec).
fn from_installation(spec: &Value, source: String) -> DeployedCalico {
    let network = spec.get("calicoNetwork").unwrap_or(&Value::Null);
    let pools: Vec<&str> = network
        .get("ipPools")
        .and_then(Value::as_array)
        .map(|p| {
            p.iter()
                .filter_map(|p| p.get("cidr").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    let provider = spec
        .get("kubernetesProvider")
        .and_then(Value::as_str)
        .unwrap_or("");
    let family = |key: &str, family: Family| -> Detection {
        match network.get(key) {
            Some(Value::Null) | None => {}
            Some(ad) => {
                return match operator_method(ad) {
                    Some(m) => Detection::Autodetect(Some(m)),
                    None => Detection::Off(format!(
                        "calicoNetwork.{key} sets no method: the operator renders {}=none",
                        if family == Family::Ipv4 { "IP" } else { "IP6" }
                    )),
                }
            }
        }
        // The operator's defaults for an absent field.
        let has_pool = |v6: bool| pools.iter().any(|c| c.contains(':') == v6);
        match family {
            Family::Ipv4 if !pools.is_empty() && !has_pool(false) => Detection::Off(
                "no IPv4 pool in calicoNetwork.ipPools and no nodeAddressAutodetectionV4".into(),
            ),
            Family::Ipv4 => Detection::Autodetect(Some(
                match provider {
                    "DockerEnterprise" => "skip-interface=^br-.*",
                    "EKS" => "can-reach=8.8.8.8",
                    _ => "first-found",
                }
                .to_string(),
            )),
            Family::Ipv6 if has_pool(true) => Detection::Autodetect(Some("first-found".into())),
            Family::Ipv6 => Detection::Off(
                "no IPv6 pool and no nodeAddressAutodetectionV6: the operator renders IP6=none"
                    .into(),
            ),
        }
    };
    DeployedCalico {
        source,
        // The operator picks calico-node's image from its own release; the Installation names none.
        version: None,
        ipv4: family("nodeAddressAutodetectionV4", Family::Ipv4),
        ipv6: family("nodeAddressAutodetectionV6", Family::Ipv6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operator_translation_table() {
        let cases = [
            (json!({"firstFound": true}), Some("first-found")),
            (json!({"firstFound": false}), None),
            (
                json!({"kubernetes": "NodeInternalIP"}),
                Some("kubernetes-internal-ip"),
            ),
            (json!({"interface": "eth.*"}), Some("interface=eth.*")),
            (
                json!({"skipInterface": "^br-.*"}),
                Some("skip-interface=^br-.*"),
            ),
            (
                json!({"canReach": "10.20.41.1"}),
                Some("can-reach=10.20.41.1"),
            ),
            (
                json!({"cidrs": ["10.20.41.0/24", "10.20.42.0/24"]}),
                Some("cidr=10.20.41.0/24,10.20.42.0/24"),
            ),
            (json!({"cidrs": []}), None),
            (json!({}), None),
            // The operator's order decides when several are set.
            (
                json!({"firstFound": true, "interface": "ens.*"}),
                Some("interface=ens.*"),
            ),
            (
                json!({"cidrs": ["10.0.0.0/8"], "canReach": "1.1.1.1"}),
                Some("can-reach=1.1.1.1"),
            ),
            (
                json!({"firstFound": true, "cidrs": ["10.0.0.0/8"]}),
                Some("first-found"),
            ),
            (
                json!({"kubernetes": "NodeInternalIP", "cidrs": ["10.0.0.0/8"]}),
                Some("cidr=10.0.0.0/8"),
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(operator_method(&input).as_deref(), expected, "{input}");
        }
    }

    #[test]
    fn image_tags_are_versions() {
        assert_eq!(
            image_tag("docker.io/calico/node:v3.28.0").as_deref(),
            Some("v3.28.0")
        );
        assert_eq!(
            image_tag("registry:5000/calico/node:v3.26.1").as_deref(),
            Some("v3.26.1")
        );
        assert_eq!(image_tag("registry:5000/calico/node"), None);
        assert_eq!(
            image_tag("quay.io/calico/node:v3.27.2@sha256:abcd").as_deref(),
            Some("v3.27.2")
        );
    }

    #[test]
    fn installation_defaults_follow_the_operator() {
        let d = parse(
            "apiVersion: operator.tigera.io/v1\nkind: Installation\nmetadata:\n  name: default\nspec:\n  calicoNetwork:\n    ipPools:\n    - cidr: 192.168.0.0/16\n    - cidr: fd00:10:244::/56\n",
            "cr.yaml",
        )
        .unwrap();
        assert_eq!(d.ipv4, Detection::Autodetect(Some("first-found".into())));
        assert_eq!(d.ipv6, Detection::Autodetect(Some("first-found".into())));
        let d = parse(
            "kind: Installation\nmetadata: {name: default}\nspec: {kubernetesProvider: EKS}\n",
            "cr.yaml",
        )
        .unwrap();
        assert_eq!(
            d.ipv4,
            Detection::Autodetect(Some("can-reach=8.8.8.8".into()))
        );
        assert!(matches!(d.ipv6, Detection::Off(_)));
    }

    #[test]
    fn daemonset_env_and_value_from() {
        let d = parse(
            r#"{"kind": "DaemonSet", "metadata": {"name": "calico-node", "namespace": "kube-system"},
                "spec": {"template": {"spec": {"containers": [{"name": "calico-node",
                "image": "docker.io/calico/node:v3.24.5",
                "env": [{"name": "IP", "value": "autodetect"},
                        {"name": "IP_AUTODETECTION_METHOD", "valueFrom": {"configMapKeyRef": {"name": "x", "key": "y"}}},
                        {"name": "IP6", "value": "autodetect"},
                        {"name": "IP6_AUTODETECTION_METHOD", "value": "interface=eth0"}]}]}}}}"#,
            "ds.json",
        )
        .unwrap();
        assert_eq!(d.source, "ds.json: DaemonSet kube-system/calico-node");
        assert_eq!(d.version.as_deref(), Some("v3.24.5"));
        assert!(matches!(&d.ipv4, Detection::NotKnowable(w) if w.contains("configMapKeyRef")));
        assert_eq!(d.ipv6, Detection::Autodetect(Some("interface=eth0".into())));
    }

    #[test]
    fn nothing_recognisable_says_what_was_found() {
        let e = parse(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: calico-config}\n---\n---\nkind: DaemonSet\nmetadata: {name: kube-proxy}\nspec: {template: {spec: {containers: [{name: kube-proxy}]}}}\n",
            "calico.yaml",
        )
        .unwrap_err();
        assert!(
            e.ends_with("found: ConfigMap calico-config, DaemonSet kube-proxy"),
            "{e}"
        );
    }
}
