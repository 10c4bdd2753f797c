//! Cilium's direct-routing device: `--direct-routing-device` (a name or `+` prefix), else the only
//! selected device, else the selected device holding the Kubernetes node IP, else none, which is
//! fatal when a feature needs one (from 1.15: `tables.DirectRoutingDevice.Get`, the user setting
//! only a filter over the selected devices). 1.14's `DeviceManager.Detect` differs: the user
//! setting is taken as given and added to the devices, and without one the node IP's device,
//! whatever its kind, joins the devices before the choice.

use std::net::IpAddr;

use super::filter::{DeviceFilter, FilterMatch};
use super::generation::Generation;
use super::selection::Selection;
use crate::facts::Facts;

/// The fatal error when no direct-routing device is found and one is needed.
pub const NO_DIRECT_ROUTING_DEVICE: &str =
    "unable to determine direct routing device. Use --direct-routing-device to specify it";

/// The outcome.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DirectRouting {
    pub device: Option<String>,
    /// What decided: `direct-routing-device`, `single-device`, `node-ip`, or `none`.
    pub step: &'static str,
    pub trace: Vec<String>,
    pub fatal: Option<String>,
    /// 1.14: a device the choice added to the devices (the node IP's or the user's).
    pub added: Option<String>,
}

/// What the choice reads besides the selection.
#[derive(Debug, Clone, Copy)]
pub struct DirectRoutingInputs<'a> {
    pub generation: Generation,
    pub setting: Option<&'a str>,
    pub node_ip: Option<IpAddr>,
    /// A feature that needs the device is on (`AreDevicesRequired`).
    pub needed: bool,
}

fn holds(facts: &Facts, name: &str, ip: IpAddr) -> bool {
    facts
        .interfaces
        .iter()
        .any(|i| i.name == name && i.addresses.iter().any(|a| a.address == ip))
}

fn v1_14(facts: &Facts, selection: &Selection, inputs: &DirectRoutingInputs) -> DirectRouting {
    let mut out = DirectRouting::default();
    if let Some(setting) = inputs.setting {
        let mut names: Vec<&str> = if setting.ends_with('+') {
            let prefix = setting.trim_end_matches('+');
            facts
                .interfaces
                .iter()
                .map(|i| i.name.as_str())
                .filter(|n| n.starts_with(prefix))
                .collect()
        } else {
            vec![setting]
        };
        names.sort_unstable();
        let Some(first) = names.first() else {
            out.step = "direct-routing-device";
            out.fatal = Some("device wildcard expansion failed to detect devices. Please verify --direct-routing-device option.".into());
            return out;
        };
        out.step = "direct-routing-device";
        out.device = Some(first.to_string());
        out.added = Some(first.to_string());
        out.trace.push(format!(
            "--direct-routing-device={setting}: {first}, added to the devices"
        ));
        return out;
    }
    if !inputs.needed {
        out.step = "none";
        out.trace
            .push("no feature needs the direct-routing device: not detected".into());
        return out;
    }
    let node_dev = inputs.node_ip.and_then(|ip| {
        facts
            .interfaces
            .iter()
            .find(|i| i.name != "cilium_host" && i.addresses.iter().any(|a| a.address == ip))
            .map(|i| i.name.to_string())
    });
    let Some(node_dev) = node_dev else {
        out.step = "node-ip";
        out.fatal = Some(match inputs.node_ip {
            Some(_) => "k8s is enabled, but still failed to find node IP: K8s node device not found".into(),
            None => "k8s is enabled, but still failed to find node IP: failed to find K8s node device as node IP is not known".into(),
        });
        return out;
    };
    let mut devices: Vec<&str> = selection.selected().map(|v| v.name.as_str()).collect();
    if !devices.contains(&node_dev.as_str()) {
        devices.push(&node_dev);
        out.added = Some(node_dev.clone());
        out.trace.push(format!(
            "the node IP's device {node_dev} is added to the devices"
        ));
    }
    if devices.len() == 1 {
        out.step = "single-device";
    } else {
        out.step = "node-ip";
    }
    out.trace.push(format!("direct-routing device {node_dev}"));
    out.device = Some(node_dev);
    out
}

fn later(facts: &Facts, selection: &Selection, inputs: &DirectRoutingInputs) -> DirectRouting {
    let mut out = DirectRouting::default();
    let selected: Vec<&str> = selection.selected().map(|v| v.name.as_str()).collect();
    if let Some(setting) = inputs.setting {
        let filter = DeviceFilter::new(&[setting.to_string()]);
        out.step = "direct-routing-device";
        match selected
            .iter()
            .find(|n| filter.check(n, false) == FilterMatch::Chosen)
        {
            Some(n) => {
                out.device = Some(n.to_string());
                out.trace
                    .push(format!("--direct-routing-device={setting} matches the selected device {n}"));
            }
            None => out.trace.push(format!(
                "--direct-routing-device={setting} matches no selected device (it filters the selected devices; it selects none)"
            )),
        }
    } else if selected.len() == 1 {
        out.step = "single-device";
        out.device = Some(selected[0].to_string());
        out.trace.push(format!(
            "the only selected device {} is the direct-routing device",
            selected[0]
        ));
    }
    if out.device.is_none() {
        if let Some(ip) = inputs.node_ip {
            if let Some(n) = selected.iter().find(|n| holds(facts, n, ip)) {
                out.step = "node-ip";
                out.device = Some(n.to_string());
                out.trace
                    .push(format!("the selected device {n} holds the node IP {ip}"));
            } else {
                out.trace
                    .push(format!("no selected device holds the node IP {ip}"));
            }
        } else {
            out.trace.push("the node IP is not known".into());
        }
    }
    if out.device.is_none() {
        if out.step.is_empty() {
            out.step = "none";
        }
        if inputs.needed {
            out.fatal = Some(NO_DIRECT_ROUTING_DEVICE.into());
        }
    }
    out
}

/// The direct-routing device on this node.
pub fn choose(facts: &Facts, selection: &Selection, inputs: &DirectRoutingInputs) -> DirectRouting {
    match inputs.generation {
        Generation::V1_14 => v1_14(facts, selection, inputs),
        _ => later(facts, selection, inputs),
    }
}
