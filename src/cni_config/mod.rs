//! The CNI configuration a cluster really runs (`--cni-config PATH|-`, repeatable): flanneld's
//! DaemonSet args and environment and its `net-conf.json` from kube-flannel.yml, Canal's
//! `canal_iface` and pinned flanneld from canal.yaml, and k3s/RKE2 `config.yaml` files (their keys
//! are the server/agent flags), Cilium's `cilium-config` ConfigMap, agent DaemonSet and Helm
//! values (`cilium`), kube-router's DaemonSet args, and Antrea's `antrea-agent.conf` (the
//! `antrea-config` ConfigMap: `transportInterface`, `transportInterfaceCIDRs`, `hostGateway`) with
//! the antrea-agent image's release. The result overrides the profile's `cni:` section, field by
//! field.
//!
//! Reading is bounded (`crate::input`); a document that is not YAML or JSON is bad input with its
//! line:column; documents that say nothing about addresses are named, and an input in which
//! nothing is recognised is bad input naming what it holds.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::error::BadInput;
mod cilium;

use crate::profile::cni::{
    AntreaProfile, CiliumProfile, CniSettings, ComponentName, FlannelBackend, FlannelProfile,
    K3sProfile, KubeRouterProfile,
};

/// Largest input read (kube-flannel.yml is ~5 KiB, canal.yaml ~200 KiB with its CRDs).
const MAX_BYTES: u64 = 8 * 1024 * 1024;

/// What the inputs say.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeployedCni {
    /// What was recognised, and where (`kube-flannel.yml: DaemonSet kube-flannel/kube-flannel-ds`).
    pub sources: Vec<String>,
    /// Documents that say nothing about node addresses (`kube-flannel.yml: ClusterRole flannel`).
    pub ignored: Vec<String>,
    pub flannel: Option<FlannelProfile>,
    /// `flannel` (kube-flannel) or `canal`.
    pub flannel_flavor: Option<ComponentName>,
    pub k3s: Option<K3sProfile>,
    pub rke2: Option<K3sProfile>,
    pub cilium: Option<CiliumProfile>,
    pub kube_router: Option<KubeRouterProfile>,
    pub antrea: Option<AntreaProfile>,
}

/// Reads every `--cni-config` input.
pub fn load(paths: &[std::path::PathBuf]) -> Result<Option<DeployedCni>, BadInput> {
    if paths.is_empty() {
        return Ok(None);
    }
    let mut deployed = DeployedCni::default();
    for path in paths {
        let label = if path.as_os_str() == "-" {
            "stdin".to_string()
        } else {
            path.display().to_string()
        };
        let text = crate::input::read_input(path, MAX_BYTES)
            .map_err(|e| BadInput(format!("--cni-config {}", e.0)))?;
        parse_into(&text, &label, distro_of(path), &mut deployed)
            .map_err(|e| BadInput(format!("--cni-config {label}: {e}")))?;
    }
    Ok(Some(deployed))
}

/// RKE2 when the path says so (`/etc/rancher/rke2/config.yaml`), else k3s.
fn distro_of(path: &Path) -> ComponentName {
    if path.to_string_lossy().contains("rke2") {
        ComponentName::Rke2
    } else {
        ComponentName::K3s
    }
}

fn describe(object: &Value) -> String {
    let (kind, namespace, name) = crate::kube_objects::identity(object);
    match (kind, namespace, name) {
        ("", _, _) => "a document without `kind`".to_string(),
        (k, "", "") => k.to_string(),
        (k, "", n) => format!("{k} {n}"),
        (k, ns, n) => format!("{k} {ns}/{n}"),
    }
}

/// `ghcr.io/flannel-io/flannel:v0.26.1` → `v0.26.1`.
fn image_tag(image: &str) -> Option<&str> {
    let last = image.split('@').next()?.rsplit('/').next()?;
    last.split_once(':')
        .map(|(_, t)| t)
        .filter(|t| !t.is_empty())
}

/// The flanneld container of a pod template: the one whose command or args run flanneld.
fn flanneld_container(daemonset: &Value) -> Option<&Value> {
    let runs_flanneld = |c: &&Value| {
        ["command", "args"].iter().any(|k| {
            c.get(k).and_then(Value::as_array).is_some_and(|words| {
                words
                    .iter()
                    .filter_map(Value::as_str)
                    .any(|w| w.ends_with("flanneld"))
            })
        }) || c.get("name").and_then(Value::as_str) == Some("kube-flannel")
    };
    daemonset
        .pointer("/spec/template/spec/containers")?
        .as_array()?
        .iter()
        .find(runs_flanneld)
}

/// The container of a pod template whose image or command is `component` (`kube-router`,
/// `antrea-agent`).
fn container_named<'a>(daemonset: &'a Value, component: &str) -> Option<&'a Value> {
    daemonset
        .pointer("/spec/template/spec/containers")?
        .as_array()?
        .iter()
        .find(|c| {
            c.get("name").and_then(Value::as_str) == Some(component)
                || c.get("command")
                    .and_then(Value::as_array)
                    .and_then(|w| w.first())
                    .and_then(Value::as_str)
                    .is_some_and(|w| w.rsplit('/').next() == Some(component))
        })
}

/// The string words of a container's `args`.
fn container_args(container: &Value) -> Vec<String> {
    container
        .get("args")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

/// The release of a container's image tag, when it is one.
fn image_release(container: &Value) -> Option<crate::profile::cni::Release> {
    container
        .get("image")
        .and_then(Value::as_str)
        .and_then(image_tag)
        .and_then(|t| t.parse().ok())
}

/// `antrea-agent.conf`'s transport settings.
fn apply_antrea_conf(text: &str, antrea: &mut AntreaProfile) -> Result<(), String> {
    let conf: Value = match crate::kube_objects::documents(text)
        .map_err(|e| format!("antrea-agent.conf: {e}"))?
        .into_iter()
        .next()
    {
        Some(Value::Null) | None => return Ok(()),
        Some(v) => v,
    };
    let string = |key: &str| -> Result<Option<String>, String> {
        match conf.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone()).filter(|s| !s.is_empty())),
            Some(_) => Err(format!("antrea-agent.conf: {key} is not a string")),
        }
    };
    antrea.transport_interface = string("transportInterface")?;
    antrea.host_gateway = string("hostGateway")?;
    antrea.transport_interface_cidrs = match conf.get("transportInterfaceCIDRs") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str().map(String::from).ok_or_else(|| {
                    "antrea-agent.conf: transportInterfaceCIDRs holds a non-string".to_string()
                })
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("antrea-agent.conf: transportInterfaceCIDRs is not a list".into()),
    };
    Ok(())
}

/// net-conf.json's address-related fields.
fn apply_net_conf(text: &str, flannel: &mut FlannelProfile) -> Result<(), String> {
    let conf: Value = serde_json::from_str(text).map_err(|e| {
        format!(
            "net-conf.json is not JSON (line {} column {} of the value): {e}",
            e.line(),
            e.column()
        )
    })?;
    if let Some(v) = conf.get("EnableIPv4").and_then(Value::as_bool) {
        flannel.enable_ipv4 = Some(v);
    }
    if let Some(v) = conf.get("EnableIPv6").and_then(Value::as_bool) {
        flannel.enable_ipv6 = Some(v);
    }
    if let Some(t) = conf.pointer("/Backend/Type").and_then(Value::as_str) {
        flannel.backend =
            Some(FlannelBackend::parse(t).ok_or_else(|| {
                format!("net-conf.json Backend.Type {t:?} is not a flannel backend")
            })?);
    }
    Ok(())
}

/// A k3s/RKE2 config.yaml: every key is a flag; lists repeat it.
fn k3s_args(map: &serde_json::Map<String, Value>) -> Result<Vec<String>, String> {
    let mut args = Vec::new();
    for (key, value) in map {
        let values: Vec<&Value> = match value {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        for v in values {
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => n.to_string(),
                Value::Null => continue,
                _ => return Err(format!("key {key:?}: expected a value or a list of values")),
            };
            args.push(format!("--{key}={text}"));
        }
    }
    Ok(args)
}

/// Keys that make a plain mapping a k3s/RKE2 configuration file.
const K3S_KEYS: &[&str] = &[
    "node-ip",
    "node-external-ip",
    "flannel-iface",
    "flannel-backend",
    "flannel-external-ip",
    "server",
    "token",
    "cni",
    "cluster-init",
    "node-name",
    "write-kubeconfig-mode",
    "tls-san",
    "disable",
    "vpn-auth",
];

/// Parses one input's documents into `into`.
pub fn parse_into(
    text: &str,
    label: &str,
    distro: ComponentName,
    into: &mut DeployedCni,
) -> Result<(), String> {
    let mut objects = Vec::new();
    for d in crate::kube_objects::documents(text)? {
        crate::kube_objects::flatten_into(d, &mut objects);
    }
    if objects.is_empty() {
        return Err("no document in it (an empty file?)".into());
    }
    let mut recognised = 0;
    let mut daemonset_env: Vec<(String, Value)> = Vec::new();
    let mut config_maps: BTreeMap<String, serde_json::Map<String, Value>> = BTreeMap::new();
    for object in &objects {
        let (kind, _, name) = crate::kube_objects::identity(object);
        if kind == "ConfigMap" {
            if let Some(data) = object.get("data").and_then(Value::as_object) {
                config_maps.insert(name.to_string(), data.clone());
            }
        }
        match kind {
            "DaemonSet" if cilium::agent_image(object).is_some() => {
                recognised += 1;
                let image = cilium::agent_image(object).expect("checked");
                let c = into.cilium.get_or_insert_with(CiliumProfile::default);
                if let Some(tag) = image_tag(image) {
                    c.version = Some(
                        cilium::version(tag)
                            .map_err(|e| format!("the cilium-agent image tag: {e}"))?,
                    );
                }
                into.sources.push(format!("{label}: {}", describe(object)));
            }
            "ConfigMap" if name == "cilium-config" => {
                recognised += 1;
                let data = object
                    .get("data")
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                cilium::from_config_map(
                    &data,
                    into.cilium.get_or_insert_with(CiliumProfile::default),
                )
                .map_err(|e| format!("ConfigMap cilium-config: {e}"))?;
                into.sources.push(format!("{label}: {}", describe(object)));
            }
            "" if object.as_object().is_some_and(cilium::is_helm_values) => {
                recognised += 1;
                cilium::from_helm_values(
                    object.as_object().expect("checked"),
                    into.cilium.get_or_insert_with(CiliumProfile::default),
                )
                .map_err(|e| format!("Cilium Helm values: {e}"))?;
                into.sources.push(format!("{label}: Cilium Helm values"));
            }
            "DaemonSet" if container_named(object, "kube-router").is_some() => {
                let container = container_named(object, "kube-router").expect("checked");
                recognised += 1;
                let kr = into
                    .kube_router
                    .get_or_insert_with(KubeRouterProfile::default);
                kr.args = container_args(container);
                kr.version = image_release(container).or(kr.version);
                into.sources.push(format!("{label}: {}", describe(object)));
            }
            "DaemonSet" if container_named(object, "antrea-agent").is_some() => {
                let container = container_named(object, "antrea-agent").expect("checked");
                recognised += 1;
                let antrea = into.antrea.get_or_insert_with(AntreaProfile::default);
                antrea.version = image_release(container).or(antrea.version);
                into.sources.push(format!("{label}: {}", describe(object)));
            }
            "ConfigMap"
                if object
                    .pointer("/data/antrea-agent.conf")
                    .is_some_and(Value::is_string) =>
            {
                recognised += 1;
                let text = object
                    .pointer("/data/antrea-agent.conf")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let antrea = into.antrea.get_or_insert_with(AntreaProfile::default);
                apply_antrea_conf(text, antrea).map_err(|e| format!("ConfigMap {name}: {e}"))?;
                into.sources.push(format!("{label}: {}", describe(object)));
            }
            "DaemonSet" => {
                let Some(container) = flanneld_container(object) else {
                    into.ignored.push(format!("{label}: {}", describe(object)));
                    continue;
                };
                recognised += 1;
                let canal = name.contains("canal")
                    || object
                        .pointer("/spec/template/spec/containers")
                        .and_then(Value::as_array)
                        .is_some_and(|cs| {
                            cs.iter().any(|c| {
                                c.get("name").and_then(Value::as_str) == Some("calico-node")
                            })
                        });
                let flannel = into.flannel.get_or_insert_with(FlannelProfile::default);
                flannel.args = container_args(container);
                // `command: [/opt/bin/flanneld, --ip-masq, …]` carries flags too.
                if let Some(cmd) = container.get("command").and_then(Value::as_array) {
                    let words: Vec<String> = cmd
                        .iter()
                        .filter_map(Value::as_str)
                        .skip(1)
                        .map(String::from)
                        .collect();
                    flannel.args.splice(0..0, words);
                }
                if let Some(tag) = container
                    .get("image")
                    .and_then(Value::as_str)
                    .and_then(image_tag)
                {
                    match tag.parse() {
                        Ok(v) => flannel.version = Some(v),
                        Err(e) => return Err(format!("the flanneld image tag: {e}")),
                    }
                }
                for e in container
                    .get("env")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(n) = e.get("name").and_then(Value::as_str) {
                        daemonset_env.push((n.to_string(), e.clone()));
                    }
                }
                into.flannel_flavor = Some(if canal {
                    ComponentName::Canal
                } else {
                    ComponentName::Flannel
                });
                into.sources.push(format!("{label}: {}", describe(object)));
            }
            "ConfigMap" if name == "kube-flannel-cfg" || name == "canal-config" => {
                recognised += 1;
                into.sources.push(format!("{label}: {}", describe(object)));
            }
            "" if object
                .as_object()
                .is_some_and(|m| m.keys().any(|k| K3S_KEYS.contains(&k.as_str()))) =>
            {
                recognised += 1;
                let args = k3s_args(object.as_object().expect("checked"))?;
                let slot = if distro == ComponentName::Rke2 {
                    &mut into.rke2
                } else {
                    &mut into.k3s
                };
                slot.get_or_insert_with(K3sProfile::default)
                    .args
                    .extend(args);
                into.sources.push(format!(
                    "{label}: {} configuration file",
                    if distro == ComponentName::Rke2 {
                        "RKE2"
                    } else {
                        "k3s"
                    }
                ));
            }
            _ => into.ignored.push(format!("{label}: {}", describe(object))),
        }
    }
    // net-conf.json and canal_iface, read from the ConfigMaps of this input.
    for (cm, data) in &config_maps {
        if cm != "kube-flannel-cfg" && cm != "canal-config" {
            continue;
        }
        let flannel = into.flannel.get_or_insert_with(FlannelProfile::default);
        if let Some(net_conf) = data.get("net-conf.json").and_then(Value::as_str) {
            apply_net_conf(net_conf, flannel).map_err(|e| format!("ConfigMap {cm}: {e}"))?;
        }
        if cm == "canal-config" {
            into.flannel_flavor.get_or_insert(ComponentName::Canal);
        }
    }
    // Environment: literal values, and values from this input's ConfigMaps (canal_iface).
    if !daemonset_env.is_empty() {
        let flannel = into.flannel.get_or_insert_with(FlannelProfile::default);
        for (name, entry) in daemonset_env {
            if let Some(v) = entry.get("value").and_then(Value::as_str) {
                flannel.env.insert(name, v.to_string());
            } else if let Some(r) = entry.pointer("/valueFrom/configMapKeyRef") {
                let cm = r.get("name").and_then(Value::as_str).unwrap_or("");
                let key = r.get("key").and_then(Value::as_str).unwrap_or("");
                if let Some(v) = config_maps
                    .get(cm)
                    .and_then(|d| d.get(key))
                    .and_then(Value::as_str)
                {
                    flannel.env.insert(name, v.to_string());
                }
            }
        }
    }
    if recognised == 0 {
        let mut seen: Vec<String> = objects.iter().take(8).map(describe).collect();
        if objects.len() > 8 {
            seen.push(format!("and {} more", objects.len() - 8));
        }
        return Err(format!(
            "no flanneld, cilium-agent, kube-router or antrea-agent DaemonSet, kube-flannel-cfg, canal-config, cilium-config or antrea-config ConfigMap, Cilium Helm values, or k3s/RKE2 configuration in it; found: {}",
            seen.join(", ")
        ));
    }
    Ok(())
}

impl DeployedCni {
    /// Adds the flags of a k3s/RKE2 unit's `ExecStart=` (they come after the config files: k3s
    /// lets the command line override its configuration).
    pub fn add_unit_flags(&mut self, distro: ComponentName, declared_at: &str, flags: Vec<String>) {
        let slot = if distro == ComponentName::Rke2 {
            &mut self.rke2
        } else {
            &mut self.k3s
        };
        slot.get_or_insert_with(K3sProfile::default)
            .args
            .extend(flags);
        self.sources.push(format!("{declared_at}: ExecStart="));
    }

    /// The profile's `cni:` section with what is deployed put over it.
    pub fn apply_to(&self, cni: &mut CniSettings) {
        if let Some(deployed) = &self.flannel {
            let mut merged = cni.flannel.clone().unwrap_or_default();
            if deployed.version.is_some() {
                merged.version = deployed.version;
            }
            if !deployed.args.is_empty() || self.flannel_flavor.is_some() {
                merged.args = deployed.args.clone();
                merged.env = deployed.env.clone();
            }
            merged.enable_ipv4 = deployed.enable_ipv4.or(merged.enable_ipv4);
            merged.enable_ipv6 = deployed.enable_ipv6.or(merged.enable_ipv6);
            merged.backend = deployed.backend.or(merged.backend);
            cni.flannel = Some(merged);
            if cni.components.is_empty() && self.flannel_flavor == Some(ComponentName::Canal) {
                cni.components = vec![ComponentName::Kubelet, ComponentName::Canal];
            }
        }
        if let Some(deployed) = &self.cilium {
            let merged = cni.cilium.get_or_insert_with(CiliumProfile::default);
            merged.version = deployed.version.or(merged.version);
            if !deployed.devices.is_empty() {
                merged.devices = deployed.devices.clone();
            }
            if deployed.direct_routing_device.is_some() {
                merged.direct_routing_device = deployed.direct_routing_device.clone();
            }
            merged.force_device_detection = deployed
                .force_device_detection
                .or(merged.force_device_detection);
            merged.needs_direct_routing_device = deployed
                .needs_direct_routing_device
                .or(merged.needs_direct_routing_device);
        }
        if let Some(deployed) = &self.kube_router {
            let merged = cni
                .kube_router
                .get_or_insert_with(KubeRouterProfile::default);
            merged.version = deployed.version.or(merged.version);
            merged.args = deployed.args.clone();
        }
        if let Some(deployed) = &self.antrea {
            let merged = cni.antrea.get_or_insert_with(AntreaProfile::default);
            merged.version = deployed.version.or(merged.version);
            if deployed != &AntreaProfile::default() {
                merged.transport_interface = deployed.transport_interface.clone();
                merged.transport_interface_cidrs = deployed.transport_interface_cidrs.clone();
                merged.host_gateway = deployed.host_gateway.clone();
            }
        }
        for (deployed, slot) in [(&self.k3s, &mut cni.k3s), (&self.rke2, &mut cni.rke2)] {
            if let Some(d) = deployed {
                let merged = slot.get_or_insert_with(K3sProfile::default);
                merged.args.extend(d.args.iter().cloned());
            }
        }
    }
}

#[cfg(test)]
mod tests;
