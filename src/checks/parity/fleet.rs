//! Parity checks: values that must agree across the fleet (kernel, OS image, IPv6 state, the node
//! NIC's name and MTU, container runtime and kubelet versions).

use super::nodes::{group_by as grouping, NodeView};
use super::verdict::{combine, Parity};
use crate::checks::{CheckResult, Context};
use crate::network::nic::naming_scheme;
use crate::profile::KernelParity;

pub fn evaluate(ctx: &Context, nodes: &[NodeView]) -> Vec<CheckResult> {
    vec![
        kernel_release(ctx.profile.kernel.parity, nodes),
        os_image(nodes),
        ipv6(nodes),
        node_nic_name(ctx, nodes),
        node_nic_mtu(nodes),
        container_runtime(nodes),
        kubelet_version(nodes),
        kubelet_node_ip(nodes),
    ]
}

pub fn kernel_release(policy: KernelParity, nodes: &[NodeView]) -> CheckResult {
    const ID: &str = "Parity-KernelRelease";
    let policy_name = match policy {
        KernelParity::Exact => "exact",
        KernelParity::SameMinor => "same-minor",
        KernelParity::SameMajor => "same-major",
        KernelParity::Ignore => {
            return CheckResult::skip(
                ID,
                crate::checks::Area::Parity,
                "kernel parity is off in the profile (kernel.parity: ignore)",
            )
        }
    };
    let by_policy = grouping(nodes, |n| n.kernel_release().map(|r| kernel_key(r, policy)));
    let result = Parity {
        id: ID,
        what: "kernel release",
        soft: false,
        unknown_because: "no snapshot and no kernelVersion in the node list",
    }
    .judge(&by_policy, || {
        let majority = by_policy.majority().map(|g| g.value.clone());
        format!(
            "run the fleet's kernel{} on the nodes that differ (a different kernel changes NIC naming, \
             IPv6 and module defaults), or relax `kernel.parity` in the profile if the mix is intended",
            majority.map(|m| format!(" ({m})")).unwrap_or_default()
        )
    });
    let releases = grouping(nodes, |n| n.kernel_release().map(str::to_string));
    result
        .with("policy", policy_name)
        .with("releases", releases.evidence()["groups"].take())
}

/// The part of a kernel release the parity policy compares: `5.15.0-91-generic` → `5.15.x` for
/// same-minor, `5.x` for same-major. A release that does not start with numbers is compared whole.
pub fn kernel_key(release: &str, policy: KernelParity) -> String {
    let mut numbers = release
        .split(|c: char| !c.is_ascii_digit())
        .map(|part| part.parse::<u32>().ok());
    let starts_with_digit = release.starts_with(|c: char| c.is_ascii_digit());
    match (
        policy,
        starts_with_digit,
        numbers.next().flatten(),
        numbers.next().flatten(),
    ) {
        (KernelParity::SameMajor, true, Some(major), _) => format!("{major}.x"),
        (KernelParity::SameMinor, true, Some(major), Some(minor)) => format!("{major}.{minor}.x"),
        _ => release.to_string(),
    }
}

fn os_image(nodes: &[NodeView]) -> CheckResult {
    let by_image = grouping(nodes, |n| n.os_image().map(str::to_string));
    Parity {
        id: "Parity-OsImage",
        what: "OS image",
        soft: true,
        unknown_because: "no os-release in the snapshots and no osImage in the node list",
    }
    .judge(&by_image, || {
        "roll the same OS release out to every node, or finish the upgrade of the nodes that differ"
            .to_string()
    })
}

/// IPv6 as the node network sees it: off in the kernel, disabled on the node NIC, or on, with or
/// without a global address on the node NIC and an IPv6 default route. A per-interface
/// `disable_ipv6` setting exists only when the kernel has IPv6, so the NIC's setting is believed first.
///
/// Plain Ansible facts have no IPv6 state, but their addresses show it on: any IPv6 address on the node
/// NIC (a link-local one included) exists only where IPv6 is on there. Without one, off and merely
/// unaddressed look alike, so the state is not known.
pub fn ipv6_state(node: &NodeView) -> Option<String> {
    let facts = node.facts?;
    if facts.knows("ipv6") {
        match node.nic.and_then(|nic| nic.ipv6_disabled) {
            Some(true) => return Some("disabled on the node NIC".to_string()),
            None if facts.ipv6.kernel_off() => return Some("off in the kernel".to_string()),
            _ => {}
        }
    } else {
        let nic = node.nic?;
        if !nic
            .addresses
            .iter()
            .any(|a| a.family == crate::facts::Family::Ipv6)
        {
            return None;
        }
    }
    let global = node.nic.is_some_and(|nic| {
        nic.addresses
            .iter()
            .any(|a| a.family == crate::facts::Family::Ipv6 && a.scope == "global")
    });
    let default_route = facts
        .routes
        .iter()
        .any(|r| r.family == crate::facts::Family::Ipv6 && r.is_default());
    Some(format!(
        "on, {} global address, {} default route",
        if global { "a" } else { "no" },
        if default_route { "a" } else { "no" }
    ))
}

fn ipv6(nodes: &[NodeView]) -> CheckResult {
    let by_state = grouping(nodes, ipv6_state);
    Parity {
        id: "Parity-IPv6",
        what: "IPv6 state",
        soft: false,
        unknown_because: "only snapshots carry IPv6 facts; the node list does not",
    }
    .judge(&by_state, || {
        "make IPv6 the same on every node: the kernel command line (`ipv6.disable`), \
         `net.ipv6.conf.<node NIC>.disable_ipv6`, and the node network's IPv6 addressing and default route"
            .to_string()
    })
}

fn node_nic_name(ctx: &Context, nodes: &[NodeView]) -> CheckResult {
    let by_name = grouping(nodes, |n| {
        n.nic
            .map(|nic| format!("{} ({})", nic.name, naming_scheme(&nic.name).label()))
    });
    let this_nic = nodes.iter().find(|n| n.this).and_then(|n| n.nic);
    let majority_nic = by_name.majority().and_then(|g| {
        let member = g.members.first()?;
        nodes
            .iter()
            .find(|n| n.name == member.name && n.this == member.this)
            .and_then(|n| n.nic)
    });
    let cidrs = &ctx.profile.node_network.cidrs;
    Parity {
        id: "Parity-NodeNicName",
        what: "node NIC name",
        soft: false,
        unknown_because: "only snapshots carry interfaces; the node list does not",
    }
    .judge(&by_name, || {
        let rename = match (this_nic, majority_nic) {
            (Some(this), Some(majority)) if this.name != majority.name => format!(
                "rename {} to {} like the majority (a systemd .link file: [Match] MACAddress={} \
                 [Link] Name={}), or ",
                this.name,
                majority.name,
                this.mac.as_deref().unwrap_or("<its MAC>"),
                majority.name
            ),
            _ => "give the node NIC one name on every node, or ".to_string(),
        };
        let method = match cidrs.first() {
            Some(cidr) => format!("IP_AUTODETECTION_METHOD=cidr={cidr}"),
            None => "an IP_AUTODETECTION_METHOD such as cidr=<node network>".to_string(),
        };
        format!(
            "{rename}configure Calico by address rather than by name ({method}; `nodecheck calico` \
             checks it against every peer): `interface=<name>` selects nothing on a node whose NIC \
             is named otherwise"
        )
    })
}

fn node_nic_mtu(nodes: &[NodeView]) -> CheckResult {
    let by_mtu = grouping(nodes, |n| n.nic.map(|nic| nic.mtu.to_string()));
    Parity {
        id: "Parity-NodeNicMtu",
        what: "node NIC MTU",
        soft: false,
        unknown_because: "only snapshots carry interfaces; the node list does not",
    }
    .judge(&by_mtu, || {
        format!(
            "set the node NIC's MTU{} on the nodes that differ (netplan `mtu:`, NetworkManager \
             `802-3-ethernet.mtu`, or DHCP); Calico derives its tunnel MTU from it, and a mismatch \
             drops large packets between nodes",
            by_mtu
                .majority()
                .map(|g| format!(" to {}", g.value))
                .unwrap_or_default()
        )
    })
}

/// Kubelet's `containerRuntimeVersion` where a node list tells it, and the runtime sockets present
/// where a snapshot does: two comparisons, one result.
fn container_runtime(nodes: &[NodeView]) -> CheckResult {
    let by_version = grouping(nodes, |n| {
        n.kube.and_then(|k| k.container_runtime_version.clone())
    });
    let by_sockets = grouping(nodes, |n| {
        let facts = n.facts.filter(|f| f.knows("runtime_sockets"))?;
        let mut present: Vec<&str> = facts
            .runtime_sockets
            .iter()
            .filter(|s| s.present)
            .map(|s| s.runtime.as_str())
            .collect();
        present.sort_unstable();
        present.dedup();
        Some(if present.is_empty() {
            "none".to_string()
        } else {
            present.join("+")
        })
    });
    let fix = || {
        "run one container runtime, at one version, on every node (a node with extra runtimes, \
         e.g. Docker next to containerd, also has their bridges)"
            .to_string()
    };
    combine(
        "Parity-ContainerRuntime",
        vec![
            (
                "versions",
                Parity {
                    id: "Parity-ContainerRuntime",
                    what: "container runtime version",
                    soft: true,
                    unknown_because: "only the node list tells it",
                }
                .judge(&by_version, fix),
            ),
            (
                "sockets",
                Parity {
                    id: "Parity-ContainerRuntime",
                    what: "set of container runtime sockets",
                    soft: true,
                    unknown_because: "only snapshots tell it",
                }
                .judge(&by_sockets, fix),
            ),
        ],
    )
}

fn kubelet_version(nodes: &[NodeView]) -> CheckResult {
    let by_version = grouping(nodes, |n| n.kube.and_then(|k| k.kubelet_version.clone()));
    Parity {
        id: "Parity-KubeletVersion",
        what: "kubelet version",
        soft: true,
        unknown_because: "give a `kubectl get nodes -o json` list with --peers",
    }
    .judge(&by_version, || {
        "upgrade the kubelets that differ; keep every kubelet within the version skew policy \
         (no newer than the API server, at most three minor versions older)"
            .to_string()
    })
}

/// How each node's kubelet chooses its InternalIP (the `Kubelet-NodeIP` step): nodes that differ
/// (one pinned with `--node-ip`, another following `/etc/hosts` or the default route) drift apart
/// when their files or routes change.
fn kubelet_node_ip(nodes: &[NodeView]) -> CheckResult {
    let by_step = grouping(nodes, |n| {
        let prediction = n.kubelet_prediction()?;
        Some(prediction.step.as_str().to_string())
    });
    Parity {
        id: "Parity-KubeletNodeIP",
        what: "step that decides kubelet's node address",
        soft: true,
        unknown_because: "no snapshot with kubelet inputs (nodecheck facts of schema version 2)",
    }
    .judge(&by_step, || {
        "decide the node address the same way on every node: pin it with --node-ip          (KUBELET_EXTRA_ARGS, see Kubelet-NodeIP on each node) rather than relying on /etc/hosts,          DNS or the default route"
            .to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_keys_follow_the_policy() {
        let r = "5.15.0-91-generic";
        assert_eq!(kernel_key(r, KernelParity::Exact), r);
        assert_eq!(kernel_key(r, KernelParity::SameMinor), "5.15.x");
        assert_eq!(kernel_key(r, KernelParity::SameMajor), "5.x");
        assert_eq!(kernel_key("weird", KernelParity::SameMinor), "weird");
        assert_eq!(kernel_key("6.8", KernelParity::SameMinor), "6.8.x");
    }
}
