//! Cilium's device settings as deployed: the `cilium-config` ConfigMap (`devices`,
//! `direct-routing-device`, `force-device-detection`, and the features that need the
//! direct-routing device), the agent DaemonSet's image tag (the release), and Helm values files
//! (`devices`, `directRoutingDevice` or `nodePort.directRoutingDevice`, `forceDeviceDetection`,
//! `image.tag`). A `devices` string is split on white space, as the agent splits the ConfigMap
//! value; a comma list therefore stays one entry, which `Cilium-Devices` reports (cilium#33527).

use serde_json::{Map, Value};

use crate::profile::cni::{CiliumProfile, CiliumVersion};

/// Top-level keys that make a plain mapping Cilium's Helm values.
const HELM_KEYS: &[&str] = &[
    "kubeProxyReplacement",
    "devices",
    "forceDeviceDetection",
    "directRoutingDevice",
    "nodePort",
    "routingMode",
    "tunnelProtocol",
    "k8sServiceHost",
    "hubble",
    "l2announcements",
];

/// Whether a mapping without `kind` is a Cilium Helm values file.
pub fn is_helm_values(map: &Map<String, Value>) -> bool {
    map.keys().any(|k| HELM_KEYS.contains(&k.as_str()))
}

fn devices_from(value: &Value, key: &str) -> Result<Vec<String>, String> {
    match value {
        Value::Null => Ok(Vec::new()),
        Value::String(s) => Ok(s.split_whitespace().map(String::from).collect()),
        Value::Array(items) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(String::from)
                    .ok_or_else(|| format!("{key}: expected interface names, found {i}"))
            })
            .collect(),
        other => Err(format!(
            "{key}: expected a list or a space-separated string of interface names, found {other}"
        )),
    }
}

fn boolean(value: &Value, key: &str) -> Result<bool, String> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s == "true" => Ok(true),
        Value::String(s) if s == "false" => Ok(false),
        other => Err(format!("{key}: expected true or false, found {other}")),
    }
}

fn text(value: &Value, key: &str) -> Result<Option<String>, String> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if s.is_empty() => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        other => Err(format!("{key}: expected an interface name, found {other}")),
    }
}

/// `kube-proxy-replacement` (`true`, `strict`; older `partial`/`probe`) and the other features
/// that make the agent require a direct-routing device.
fn feature_on(value: &Value) -> bool {
    match value {
        Value::Bool(b) => *b,
        Value::String(s) => matches!(s.as_str(), "true" | "strict" | "partial" | "probe"),
        _ => false,
    }
}

fn needs_device(features: &[Option<&Value>]) -> Option<bool> {
    let known: Vec<&Value> = features.iter().flatten().copied().collect();
    (!known.is_empty()).then(|| known.iter().any(|v| feature_on(v)))
}

/// The `cilium-config` ConfigMap's data.
pub fn from_config_map(data: &Map<String, Value>, into: &mut CiliumProfile) -> Result<(), String> {
    if let Some(v) = data.get("devices") {
        into.devices = devices_from(v, "devices")?;
    }
    if let Some(v) = data.get("direct-routing-device") {
        into.direct_routing_device = text(v, "direct-routing-device")?;
    }
    if let Some(v) = data.get("force-device-detection") {
        into.force_device_detection = Some(boolean(v, "force-device-detection")?);
    }
    if let Some(needs) = needs_device(&[
        data.get("kube-proxy-replacement"),
        data.get("enable-bpf-masquerade"),
        data.get("enable-host-firewall"),
        data.get("enable-l2-announcements"),
    ]) {
        into.needs_direct_routing_device = Some(needs);
    }
    Ok(())
}

/// A Helm values file.
pub fn from_helm_values(
    values: &Map<String, Value>,
    into: &mut CiliumProfile,
) -> Result<(), String> {
    let at = |a: &str, b: &str| values.get(a).and_then(|v| v.get(b));
    if let Some(v) = values.get("devices") {
        into.devices = devices_from(v, "devices")?;
    }
    let drd = values
        .get("directRoutingDevice")
        .map(|v| ("directRoutingDevice", v))
        .or_else(|| {
            values
                .get("nodePort")
                .and_then(|n| n.get("directRoutingDevice"))
                .map(|v| ("nodePort.directRoutingDevice", v))
        });
    if let Some((key, v)) = drd {
        into.direct_routing_device = text(v, key)?;
    }
    if let Some(v) = values.get("forceDeviceDetection") {
        into.force_device_detection = Some(boolean(v, "forceDeviceDetection")?);
    }
    if let Some(tag) = at("image", "tag").and_then(Value::as_str) {
        into.version = Some(version(tag).map_err(|e| format!("image.tag: {e}"))?);
    }
    if let Some(needs) = needs_device(&[
        values.get("kubeProxyReplacement"),
        at("bpf", "masquerade"),
        at("hostFirewall", "enabled"),
        at("l2announcements", "enabled"),
    ]) {
        into.needs_direct_routing_device = Some(needs);
    }
    Ok(())
}

/// The release of an image tag (`v1.16.5`, `v1.17.0@sha256:…`).
pub fn version(tag: &str) -> Result<CiliumVersion, String> {
    tag.parse()
}

/// The cilium-agent container of a DaemonSet, when it is Cilium's.
pub fn agent_image(daemonset: &Value) -> Option<&str> {
    daemonset
        .pointer("/spec/template/spec/containers")?
        .as_array()?
        .iter()
        .find(|c| c.get("name").and_then(Value::as_str) == Some("cilium-agent"))?
        .get("image")?
        .as_str()
}
