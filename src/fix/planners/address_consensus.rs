//! Every component pinned to one address (`Address-Consensus`, with `K3s-NodeIP`,
//! `Flannel-Interface` and `Kubelet-NodeIP`, whose fix alone would leave the CNIs that agreed with
//! kubelet's old address behind): one coherent set of changes that makes every model of the stack pick the
//! node NIC's node-network address, proven before anything is written.
//!
//! - On the host: kubelet's `--node-ip` (the `node_ip` planner's change, shared), and k3s/RKE2
//!   `node-ip` / `flannel-iface` in the configuration file that wins for that key (the last of
//!   `config.yaml` and `config.yaml.d/*.yaml` setting it), edited as text ([`super::yaml_edit`]).
//!   A key the unit's `ExecStart=` sets is held: the command line wins over every file.
//! - Cluster-wide (shown, never run): every other model's [`AddressModel::pins_in`] for the node
//!   network (flannel's `--iface`, Calico's `cidr=`, Antrea's `transportInterfaceCIDRs`, …);
//!   annotations as `kubectl annotate node` commands.
//! - The proof: the models are run again on the planned state — the planned file contents read
//!   back as flags, each cluster-wide pin put into its component's configuration
//!   ([`with_pin`]), and the Node object carrying the InternalIP the planned kubelet/k3s
//!   registers. Every component must pick the target address and none may exit; otherwise the
//!   host changes are held and the plan says why. A model whose pins the proof cannot apply (a
//!   component added later) makes the proof fail until [`with_pin`] learns them.

use std::net::IpAddr;
use std::path::PathBuf;

use super::{findings_to_fix, PlanInput};
use crate::addresses::consensus::disagreements;
use crate::addresses::stack::{self, Stack};
use crate::addresses::{Component, NodeView, Pick, Pin, SettingKind};
use crate::checks::addresses::{ADDRESS_CONSENSUS, FLANNEL_INTERFACE, K3S_NODE_IP};
use crate::checks::finding::Finding;
use crate::checks::kubelet::node_network_addresses;
use crate::checks::node_network;
use crate::cni_config::DeployedCni;
use crate::facts::Family;
use crate::fix::plan::{
    Change, ChangeKind, Held, ManualStep, Plan, SideEffect, TakesEffect, Target,
};
use crate::gather::k3s_config::HostK3sConfig;
use crate::peers::KubeNode;
use crate::profile::cni::{CniSettings, ComponentName};
use crate::profile::CalicoSettings;

use super::yaml_edit;

/// kubelet's own address check: pinning kubelet alone would leave the CNIs that agreed with its old
/// address behind, so it takes part in the one coherent set too.
const KUBELET_NODE_IP: &str = "Kubelet-NodeIP";

/// Where the walk names flanneld's arguments.
const FLANNEL_PLACE: &str = "the profile's cni.flannel.args";

/// Whether a finding is one this planner answers: the address stack's own checks, and kubelet's.
fn answers(finding: &Finding) -> bool {
    matches!(finding, Finding::AddressStack | Finding::NodeIp { .. })
}

/// Whether the state reader should read the k3s/RKE2 configuration: an address check did not pass.
pub fn reads_k3s_config(results: &[crate::checks::CheckResult]) -> bool {
    findings_to_fix(results).any(|(_, f)| answers(f))
}

/// The address checks this planner answers, those that did not pass, in the checks' order.
fn failing(input: &PlanInput) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for (r, _) in input.findings().filter(|(_, f)| answers(f)) {
        if !ids.contains(&r.id) {
            ids.push(r.id.clone());
        }
    }
    ids
}

/// The IDs a change for `component` fixes: its own check and the consensus, when they did not
/// pass; else every failing address check (the change is part of the one coherent set).
fn fixes_for(failing: &[String], component: Component) -> Vec<String> {
    let own = match component {
        Component::K3s | Component::Rke2 => Some(K3S_NODE_IP),
        Component::Flannel => Some(FLANNEL_INTERFACE),
        Component::Kubelet => Some(KUBELET_NODE_IP),
        _ => None,
    };
    let mut out: Vec<String> = failing
        .iter()
        .filter(|id| Some(id.as_str()) == own || id.as_str() == ADDRESS_CONSENSUS)
        .cloned()
        .collect();
    if out.is_empty() {
        out = failing.to_vec();
    }
    out
}

/// The host's k3s/RKE2 configuration files and unit flags put over the profile's `cni:` section,
/// as `nodecheck addresses` does on a live host.
fn with_host_config(cni: &CniSettings, configs: &[HostK3sConfig]) -> Result<CniSettings, String> {
    let mut out = cni.clone();
    if configs.is_empty() {
        return Ok(out);
    }
    let mut deployed = DeployedCni::default();
    for config in configs {
        let distro = distro_name(config);
        for (path, text) in &config.files {
            if text.trim().is_empty() {
                continue;
            }
            crate::cni_config::parse_into(text, path, distro, &mut deployed)
                .map_err(|e| format!("{path}: {e}"))?;
        }
        if let Some((declared_at, flags)) = &config.unit_args {
            deployed.add_unit_flags(distro, declared_at, flags.clone());
        }
    }
    deployed.apply_to(&mut out);
    Ok(out)
}

fn distro_name(config: &HostK3sConfig) -> ComponentName {
    if config.distro == "rke2" {
        ComponentName::Rke2
    } else {
        ComponentName::K3s
    }
}

/// `component`'s configuration with a cluster-wide pin set, for the proof. The one place a
/// model's pins join the proof: a component without an arm here cannot be proven.
fn with_pin(cni: &mut CniSettings, calico: &mut CalicoSettings, pin: &Pin) -> Result<(), String> {
    match (pin.component, &pin.kind, pin.name.as_str()) {
        (Component::Calico, SettingKind::Env, "IP_AUTODETECTION_METHOD") => {
            calico.ipv4_method = Some(pin.value.clone());
        }
        (Component::Flannel, SettingKind::Flag, flag) => {
            let flannel = cni.flannel.get_or_insert_with(Default::default);
            let name = flag.trim_start_matches('-');
            // `--iface` and `--iface-regex` win over `--iface-can-reach`: its pin replaces them.
            let replaced: &[&str] = if name == "iface-can-reach" {
                &["iface-can-reach", "iface", "iface-regex"]
            } else {
                &[name]
            };
            flannel.args.retain(|a| {
                let body = a.trim_start_matches('-');
                !replaced
                    .iter()
                    .any(|n| body == *n || body.starts_with(&format!("{n}=")))
            });
            flannel.args.push(format!("--{name}={}", pin.value));
        }
        (Component::Flannel, SettingKind::Annotation, name) => {
            let flannel = cni.flannel.get_or_insert_with(Default::default);
            flannel
                .annotations
                .insert(name.to_string(), pin.value.clone());
        }
        (Component::Flannel, SettingKind::ConfigKey, "canal_iface") => {
            let flannel = cni.flannel.get_or_insert_with(Default::default);
            flannel
                .env
                .insert("FLANNELD_IFACE".to_string(), pin.value.clone());
        }
        (Component::Antrea, SettingKind::ConfigKey, "transportInterfaceCIDRs") => {
            let antrea = cni.antrea.get_or_insert_with(Default::default);
            antrea.transport_interface = None;
            antrea.transport_interface_cidrs = pin
                .value
                .trim_matches(['[', ']'])
                .split(',')
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty())
                .collect();
        }
        (Component::Antrea, SettingKind::ConfigKey, "transportInterface") => {
            let antrea = cni.antrea.get_or_insert_with(Default::default);
            antrea.transport_interface = Some(pin.value.clone());
        }
        (Component::Cilium, SettingKind::HelmValue | SettingKind::ConfigMapKey, name) => {
            let cilium = cni.cilium.get_or_insert_with(Default::default);
            match name {
                "devices" => cilium.devices = vec![pin.value.clone()],
                "nodePort.directRoutingDevice" | "direct-routing-device" => {
                    cilium.direct_routing_device = Some(pin.value.clone())
                }
                other => {
                    return Err(format!(
                        "nodecheck cannot run cilium's model again with `{other}` set"
                    ))
                }
            }
        }
        // A later component's pins join here.
        _ => {
            return Err(format!(
                "nodecheck cannot run {}'s model again with `{}` set",
                pin.component.as_str(),
                pin.written()
            ))
        }
    }
    Ok(())
}

/// One k3s/RKE2 key to set in the file that wins for it.
struct KeyEdit {
    component: Component,
    key: &'static str,
    value: String,
}

/// The file that wins for `key`: the last configuration file setting it, else `config.yaml`.
fn winning_file(config: &HostK3sConfig, key: &str) -> Result<(String, Option<String>), String> {
    let mut winner = None;
    for (path, text) in &config.files {
        if yaml_edit::get_key(text, key)
            .map_err(|e| format!("{path}: {e}"))?
            .is_some()
        {
            winner = Some((path.clone(), Some(text.clone())));
        }
    }
    Ok(winner.unwrap_or_else(|| {
        let base = format!("/etc/rancher/{}/config.yaml", config.distro);
        let text = config
            .files
            .iter()
            .find(|(p, _)| *p == base)
            .map(|(_, t)| t.clone());
        (base, text)
    }))
}

/// Whether the unit's command line sets `key` (it wins over every file).
fn unit_sets(config: &HostK3sConfig, key: &str) -> Option<String> {
    let (declared_at, flags) = config.unit_args.as_ref()?;
    flags
        .iter()
        .any(|f| {
            let body = f.trim_start_matches('-');
            body == key || body.starts_with(&format!("{key}="))
        })
        .then(|| declared_at.clone())
}

/// A file the edits touch: its path, its content before, the keys set and the IDs fixed.
type TouchedFile = (String, Option<String>, Vec<String>, Vec<String>);

/// The file changes for `edits`, one per file, and the planned configuration files.
fn k3s_changes(
    config: &HostK3sConfig,
    edits: &[KeyEdit],
    failing: &[String],
) -> Result<(Vec<Change>, HostK3sConfig), String> {
    let mut planned = config.clone();
    let mut touched: Vec<TouchedFile> = Vec::new();
    for edit in edits {
        if let Some(at) = unit_sets(config, edit.key) {
            return Err(format!(
                "--{} is set on the command line in {at}, which wins over every configuration file: set it to {} there by hand",
                edit.key, edit.value
            ));
        }
        let (path, before) = winning_file(&planned, edit.key)?;
        let current = planned
            .files
            .iter()
            .find(|(p, _)| *p == path)
            .map(|(_, t)| t.clone())
            .or(before.clone());
        let after = yaml_edit::set_key(current.as_deref(), edit.key, &edit.value)
            .map_err(|e| format!("{path}: {e}"))?;
        match planned.files.iter_mut().find(|(p, _)| *p == path) {
            Some(slot) => slot.1 = after,
            None => planned.files.insert(0, (path.clone(), after)),
        }
        let original = config
            .files
            .iter()
            .find(|(p, _)| *p == path)
            .map(|(_, t)| t.clone());
        let summary = format!("{}: {}", edit.key, edit.value);
        let fixes = fixes_for(failing, edit.component);
        match touched.iter_mut().find(|t| t.0 == path) {
            Some(t) => {
                t.2.push(summary);
                for f in fixes {
                    if !t.3.contains(&f) {
                        t.3.push(f);
                    }
                }
            }
            None => touched.push((path, original, vec![summary], fixes)),
        }
    }
    let unit = if config.distro == "rke2" {
        "rke2-server"
    } else {
        "k3s"
    };
    let mut changes = Vec::new();
    for (path, before, summaries, fixes) in touched {
        let after = planned
            .files
            .iter()
            .find(|(p, _)| *p == path)
            .map(|(_, t)| t.clone())
            .unwrap_or_default();
        if before.as_deref() == Some(after.as_str()) {
            continue;
        }
        if !crate::fix::confine::is_target_file(std::path::Path::new(&path)) {
            return Err(format!(
                "{path} is outside the directories nodecheck fix edits"
            ));
        }
        changes.push(Change {
            fixes,
            kind: ChangeKind::K3sConfig,
            summary: format!("set {} in {path}", summaries.join(", ")),
            target: Target::File {
                path: PathBuf::from(&path),
                before,
                after,
                new_mode: 0o600,
            },
            takes_effect: TakesEffect::ServiceRestart(config.distro.to_string()),
            side_effects: vec![SideEffect::RestartService {
                unit: unit.to_string(),
            }],
            notes: Vec::new(),
        });
    }
    Ok((changes, planned))
}

/// The operator's step for one cluster-wide pin.
fn manual_step(pin: &Pin, node: &str, fixes: Vec<String>) -> ManualStep {
    let q = crate::escape::shell_quote;
    let commands = match pin.kind {
        SettingKind::Annotation => vec![format!(
            "kubectl annotate node {} --overwrite {}",
            q(node),
            q(&format!("{}={}", pin.name, pin.value))
        )],
        SettingKind::Env if pin.component == Component::Calico => vec![format!(
            "kubectl -n kube-system set env daemonset/calico-node {}",
            q(&format!("{}={}", pin.name, pin.value))
        )],
        _ => Vec::new(),
    };
    ManualStep {
        fixes,
        what: format!(
            "cluster-wide (once, not per node): {}: set `{}` in {}",
            pin.component.as_str(),
            pin.written(),
            pin.place
        ),
        commands,
    }
}

/// The planned state's picks, and whether they prove the plan: every component picks `target`
/// (per family it has one) and none exits.
fn prove(
    stack: &Stack,
    input: &PlanInput,
    kube: Option<&KubeNode>,
    target: &[IpAddr],
) -> Result<Vec<String>, Vec<String>> {
    let picks: Vec<Pick> = stack.picks(&NodeView {
        name: &input.facts.host.hostname,
        facts: input.facts,
        kube,
        is_this_node: true,
    });
    let mut shown = Vec::new();
    let mut wrong = Vec::new();
    for p in &picks {
        if let Some(f) = &p.fatal {
            wrong.push(format!("{} would exit: {f}", p.component.as_str()));
            continue;
        }
        for family in [Family::Ipv4, Family::Ipv6] {
            let want = target.iter().find(|a| Family::of(a) == family);
            if let Some(got) = p.node_address(family) {
                shown.push(format!(
                    "{} {got}{}",
                    p.component.as_str(),
                    p.interface
                        .as_ref()
                        .map(|i| format!(" ({i})"))
                        .unwrap_or_default()
                ));
                if want.is_some_and(|w| *w != got) {
                    wrong.push(format!("{} still picks {got}", p.component.as_str()));
                }
            }
        }
    }
    for d in disagreements(&picks) {
        wrong.push(format!(
            "the components still disagree on the IPv{} address",
            d.family.number()
        ));
    }
    if wrong.is_empty() {
        Ok(shown)
    } else {
        Err(wrong)
    }
}

pub fn plan(input: &PlanInput, plan: &mut Plan) {
    let failing = failing(input);
    if failing.is_empty() || !crate::checks::addresses::applies(&input.profile.cni) {
        return;
    }
    let hold = |plan: &mut Plan, kind: ChangeKind, reason: String| {
        plan.held.push(Held {
            fixes: failing.clone(),
            kind,
            reason,
            change: None,
        })
    };
    let net = node_network::resolve(input.facts, input.profile);
    let target = node_network_addresses(&net);
    let Some(nic) = net.nic.filter(|_| !target.is_empty()) else {
        hold(plan, ChangeKind::NodeIp, "the node NIC has no address in the node network to pin every component to (name it in the profile: node_network)".into());
        return;
    };
    let nic = nic.name.to_string();
    let cni = match with_host_config(&input.profile.cni, &input.host.k3s) {
        Ok(cni) => cni,
        Err(e) => return hold(plan, ChangeKind::K3sConfig, e),
    };
    let calico_version = input.profile.calico.release().value().clone();
    let current = stack::build(&cni, &input.profile.calico, &calico_version, FLANNEL_PLACE);
    let picks = current.picks(&NodeView {
        name: &input.facts.host.hostname,
        facts: input.facts,
        kube: None,
        is_this_node: true,
    });
    let k3s_family = cni.k3s_family();
    let joined: Vec<String> = target.iter().map(|a| a.to_string()).collect();
    let mut host_changes: Vec<Change> = Vec::new();
    let mut k3s_edits: Vec<KeyEdit> = Vec::new();
    let mut manual: Vec<ManualStep> = Vec::new();
    let mut planned_cni = cni.clone();
    let mut planned_calico = input.profile.calico.clone();
    let mut unproven: Vec<String> = Vec::new();
    for (model, pick) in current.models.iter().zip(&picks) {
        let component = model.component();
        match component {
            Component::Kubelet => {
                let fixes = fixes_for(&failing, component);
                if let Some(existing) = plan
                    .changes
                    .iter_mut()
                    .find(|c| c.kind == ChangeKind::NodeIp)
                {
                    for f in fixes {
                        if !existing.fixes.contains(&f) {
                            existing.fixes.push(f);
                        }
                    }
                    continue;
                }
                match super::node_ip::pin_change(input, &fixes, &target) {
                    Ok(Some(change)) => host_changes.push(change),
                    Ok(None) => {}
                    Err(reason) => unproven.push(reason),
                }
            }
            Component::K3s | Component::Rke2 => k3s_edits.push(KeyEdit {
                component,
                key: "node-ip",
                value: joined.join(","),
            }),
            Component::Flannel if k3s_family => k3s_edits.push(KeyEdit {
                component,
                key: "flannel-iface",
                value: nic.clone(),
            }),
            // kube-router and Antrea with no pin of their own follow the Node's InternalIP.
            _ => {
                let pins = model.pins_in(&net.cidrs, &nic, target[0]);
                let already = pick.node_address(Family::of(&target[0])) == Some(target[0])
                    && pick.fatal.is_none();
                for pin in pins {
                    if let Err(e) = with_pin(&mut planned_cni, &mut planned_calico, &pin) {
                        unproven.push(e);
                    }
                    if !already {
                        manual.push(manual_step(
                            &pin,
                            &input.facts.host.hostname,
                            fixes_for(&failing, component),
                        ));
                    }
                }
            }
        }
    }
    // The k3s/RKE2 files: edited, then read back into the planned configuration.
    if !k3s_edits.is_empty() {
        let distro = if cni.effective_components().contains(&ComponentName::Rke2) {
            "rke2"
        } else {
            "k3s"
        };
        let config = input
            .host
            .k3s
            .iter()
            .find(|c| c.distro == distro)
            .cloned()
            .unwrap_or(HostK3sConfig {
                distro: if distro == "rke2" { "rke2" } else { "k3s" },
                ..HostK3sConfig::default()
            });
        match k3s_changes(&config, &k3s_edits, &failing) {
            Ok((changes, planned_config)) => {
                host_changes.extend(changes);
                let others: Vec<HostK3sConfig> = input
                    .host
                    .k3s
                    .iter()
                    .filter(|c| c.distro != distro)
                    .cloned()
                    .chain(std::iter::once(planned_config))
                    .collect();
                match with_host_config(&input.profile.cni, &others) {
                    Ok(mut c) => {
                        c.flannel = planned_cni.flannel.clone();
                        c.antrea = planned_cni.antrea.clone();
                        c.kube_router = planned_cni.kube_router.clone();
                        planned_cni = c;
                    }
                    Err(e) => unproven.push(e),
                }
            }
            Err(e) => unproven.push(e),
        }
    }
    // The Node object the planned kubelet/k3s registers.
    let planned_stack = stack::build(
        &planned_cni,
        &planned_calico,
        &calico_version,
        FLANNEL_PLACE,
    );
    let registered: Vec<IpAddr> = if planned_stack.runs(Component::Kubelet) {
        target.clone()
    } else {
        planned_stack
            .picks(&NodeView {
                name: &input.facts.host.hostname,
                facts: input.facts,
                kube: None,
                is_this_node: true,
            })
            .into_iter()
            .find(|p| p.component.registers_internal_ip())
            .map(|p| p.node_ips)
            .unwrap_or_default()
    };
    let kube = (!registered.is_empty()).then(|| KubeNode {
        name: input.facts.host.hostname.to_string(),
        addresses: registered
            .iter()
            .map(|a| ("InternalIP".to_string(), a.to_string()))
            .collect(),
        ..KubeNode::default()
    });
    let proof = if unproven.is_empty() {
        prove(&planned_stack, input, kube.as_ref(), &target)
    } else {
        Err(unproven)
    };
    match proof {
        Ok(agreed) => {
            let line = format!(
                "proof: the address models run again on the planned state agree on {}: {}",
                joined.join(", "),
                agreed.join(", ")
            );
            for mut c in host_changes {
                c.notes.push(line.clone());
                plan.changes.push(c);
            }
            for c in plan
                .changes
                .iter_mut()
                .filter(|c| c.kind == ChangeKind::NodeIp)
            {
                if !c.notes.contains(&line) {
                    c.notes.push(line.clone());
                }
            }
            if let Some(first) = manual.first_mut() {
                first.what = format!("{} ({line})", first.what);
            }
            plan.manual.extend(manual);
        }
        Err(wrong) => {
            let reason = format!(
                "not proven: the address models run again on the planned state do not all pick {}: {}",
                joined.join(", "),
                wrong.join("; ")
            );
            // kubelet's change, planned for Kubelet-NodeIP, is part of the set: held with it.
            let (kubelet, rest): (Vec<Change>, Vec<Change>) = std::mem::take(&mut plan.changes)
                .into_iter()
                .partition(|c| c.kind == ChangeKind::NodeIp);
            plan.changes = rest;
            for c in kubelet.into_iter().chain(host_changes) {
                plan.held.push(Held {
                    fixes: c.fixes.clone(),
                    kind: c.kind,
                    reason: reason.clone(),
                    change: None,
                });
            }
            if plan.held.iter().all(|h| h.reason != reason) {
                hold(plan, ChangeKind::K3sConfig, reason);
            }
            plan.manual.extend(manual);
        }
    }
}

#[cfg(test)]
mod tests;
