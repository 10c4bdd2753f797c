//! The profile's JSON Schema (draft 2020-12), for editors (`nodecheck profile schema`). Written by hand
//! next to the types; a test walks a full profile and the schema both ways so neither can drift.

use serde_json::{json, Value};

fn string_or_null(description: &str) -> Value {
    json!({"type": ["string", "null"], "description": description})
}

fn cidr_list(description: &str) -> Value {
    json!({
        "type": "array",
        "description": description,
        "items": {"type": "string", "description": "A network in CIDR form, host bits zero (10.20.41.0/24, fd00:41::/64)."}
    })
}

fn regex_list(description: &str) -> Value {
    json!({"type": "array", "description": description, "items": {"type": "string", "format": "regex"}})
}

fn nic_expectation(description: &str) -> Value {
    json!({
        "type": "object",
        "description": description,
        "additionalProperties": false,
        "properties": {
            "name": string_or_null("Expected interface name, e.g. eth3."),
            "alternatives": {"type": "array", "items": {"type": "string"}, "description": "Other accepted names."},
            "mac_pattern": {"type": ["string", "null"], "format": "regex", "description": "Anchored regex over the MAC (lower case, colon-separated)."},
            "pci_pattern": {"type": ["string", "null"], "format": "regex", "description": "Anchored regex over the PCI address (0000:0b:00.0) or the sysfs device path."},
            "role": string_or_null("What the NIC is for (node, storage, management); names the Nic-<role> check."),
            "cidrs": cidr_list("Subnets the NIC must carry an address in (other_nics).")
        }
    })
}

fn string_map(description: &str) -> Value {
    json!({"type": "object", "description": description, "additionalProperties": {"type": "string"}})
}

fn k3s_schema(what: &str) -> Value {
    json!({
        "oneOf": [{"type": "null"}, {
            "type": "object",
            "additionalProperties": false,
            "description": what,
            "properties": {
                "version": {"type": ["string", "null"], "pattern": "^v?1\\.[0-9]+(\\.[0-9]+)?", "description": "The release (1.33.7+k3s1, v1.28.2+rke2r1)."},
                "args": {"type": "array", "items": {"type": "string"}, "description": "Server or agent flags (--node-ip=..., --flannel-iface=...)."}
            }
        }]
    })
}

/// The `cni:` section: the address-choosing components besides kubelet and Calico.
fn cni_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "description": "Which components pick node addresses, and what each reads (docs/addresses.md).",
        "properties": {
            "components": {"type": "array", "uniqueItems": true, "items": {"enum": ["kubelet", "calico", "flannel", "canal", "k3s", "rke2", "cilium", "kube-router", "antrea"]}},
            "flannel": {"oneOf": [{"type": "null"}, {
                "type": "object",
                "additionalProperties": false,
                "description": "flanneld (kube-flannel, or Canal's).",
                "properties": {
                    "version": {"type": ["string", "null"], "pattern": "^v?0\\.[0-9]+(\\.[0-9]+)?$", "description": "flanneld release (0.22.0 and later)."},
                    "args": {"type": "array", "items": {"type": "string"}, "description": "flanneld's argument words."},
                    "env": string_map("The flanneld container's environment (FLANNELD_*)."),
                    "annotations": string_map("Annotations of this node's Node object."),
                    "enable_ipv4": {"type": ["boolean", "null"], "description": "net-conf.json EnableIPv4 (default true)."},
                    "enable_ipv6": {"type": ["boolean", "null"], "description": "net-conf.json EnableIPv6 (default false)."},
                    "backend": {"enum": ["vxlan", "host-gw", "wireguard", "ipip", "udp", null], "description": "net-conf.json Backend.Type (default vxlan)."}
                }
            }]},
            "k3s": k3s_schema("k3s server or agent."),
            "rke2": k3s_schema("RKE2 server or agent."),
            "cilium": {"oneOf": [{"type": "null"}, {
                "type": "object",
                "additionalProperties": false,
                "description": "cilium-agent's device settings.",
                "properties": {
                    "version": {"type": ["string", "null"], "pattern": "^v?1\\.[0-9]+(\\.[0-9]+)?([-@].*)?$", "description": "Cilium release (1.14.0 and later)."},
                    "devices": {"type": "array", "items": {"type": "string"}, "description": "--devices: names, `+` prefixes, from 1.19 `!` exclusions."},
                    "direct_routing_device": string_or_null("--direct-routing-device."),
                    "force_device_detection": {"type": ["boolean", "null"], "description": "--force-device-detection (1.16 and later)."},
                    "needs_direct_routing_device": {"type": ["boolean", "null"], "description": "A feature that needs the direct-routing device is on (default true)."}
                }
            }]},
            "kube_router": {"oneOf": [{"type": "null"}, {
                "type": "object",
                "additionalProperties": false,
                "description": "kube-router (docs/addresses.md, kube-router).",
                "properties": {
                    "version": {"type": ["string", "null"], "pattern": "^v?[0-9]+\\.[0-9]+(\\.[0-9]+)?$", "description": "kube-router release (default v2.6.1)."},
                    "args": {"type": "array", "items": {"type": "string"}, "description": "kube-router's argument words."}
                }
            }]},
            "antrea": {"oneOf": [{"type": "null"}, {
                "type": "object",
                "additionalProperties": false,
                "description": "antrea-agent's antrea-agent.conf (docs/addresses.md, Antrea).",
                "properties": {
                    "version": {"type": ["string", "null"], "pattern": "^v?[0-9]+\\.[0-9]+(\\.[0-9]+)?$", "description": "antrea-agent release."},
                    "transport_interface": {"type": ["string", "null"], "description": "transportInterface."},
                    "transport_interface_cidrs": {"type": "array", "items": {"type": "string"}, "description": "transportInterfaceCIDRs (at most one per family)."},
                    "host_gateway": {"type": ["string", "null"], "description": "hostGateway (default antrea-gw0)."}
                }
            }]}
        }
    })
}

/// The JSON Schema of a profile.
pub fn profile_schema() -> Value {
    let port = json!({"type": "integer", "minimum": 1, "maximum": 65535});
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://nodecheck.invalid/schema/profile.json",
        "title": "nodecheck cluster profile",
        "description": "What every node of one Kubernetes cluster is expected to look like. See docs/profile.md.",
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "cluster": string_or_null("Cluster name, shown in reports."),
            "node_network": {
                "type": "object",
                "additionalProperties": false,
                "description": "The node network: the addresses Kubernetes and Calico must use.",
                "properties": {
                    "cidrs": cidr_list("Node subnets (IPv4 and/or IPv6). Empty: the subnet of the default route's interface."),
                    "nic": {"oneOf": [{"type": "null"}, nic_expectation("The NIC expected to carry the node network.")]},
                    "mtu": {"type": ["integer", "null"], "minimum": 68, "maximum": 65535, "description": "Expected MTU of the node NIC."}
                }
            },
            "other_nics": {"type": "array", "description": "Other NICs every node has.", "items": nic_expectation("One expected NIC.")},
            "bridges": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "allowed": regex_list("Bridge names (anchored regexes) expected here and not reported."),
                    "docker_bridges_fail": {"type": "boolean", "description": "docker0 and compose bridges fail instead of warn."}
                }
            },
            "pod_cidrs": cidr_list("The cluster's pod CIDRs."),
            "service_cidrs": cidr_list("The cluster's service CIDRs."),
            "calico": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "version": {"type": ["string", "null"], "pattern": "^v?[0-9]+(\\.[0-9]+){0,2}", "description": "Calico version the cluster runs."},
                    "ipv4_method": string_or_null("IP_AUTODETECTION_METHOD of the calico-node DaemonSet (null: first-found)."),
                    "ipv6_method": string_or_null("IP6_AUTODETECTION_METHOD, when IPv6 autodetection is on."),
                    "families": {"type": "array", "minItems": 1, "maxItems": 2, "uniqueItems": true, "items": {"enum": ["ipv4", "ipv6"]}},
                    "can_reach": string_or_null("An off-node address usable for can-reach=."),
                    "encapsulation": {"enum": ["none", "ipip", "ipip-cross-subnet", "vxlan", "vxlan-cross-subnet", "wireguard", null], "description": "IP pool encapsulation (default ipip, as in calico.yaml)."},
                    "veth_mtu": {"type": ["integer", "null"], "minimum": 68, "maximum": 65535, "description": "Calico's configured veth MTU (null: auto-detected)."}
                }
            },
            "api_server": {"type": ["string", "null"], "description": "API server endpoint, host:port or [v6]:port."},
            "kubernetes_version": {"type": ["string", "null"], "pattern": "^v?[0-9]+\\.[0-9]+", "description": "The cluster's Kubernetes version (1.30 or v1.30.2)."},
            "cgroup_driver": {"enum": ["systemd", "cgroupfs", null], "description": "cgroupDriver of the cluster's KubeletConfiguration (kubeadm's default: systemd)."},
            "resources": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "min_cpus": {"type": ["integer", "null"], "minimum": 1},
                    "min_memory_mib": {"type": ["integer", "null"], "minimum": 1}
                }
            },
            "kernel": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "minimum": {"type": ["string", "null"], "pattern": "^v?[0-9]+\\.[0-9]+(\\.[0-9]+)?", "description": "Minimum kernel release (5.15 or 5.15.0)."},
                    "allowed": regex_list("Anchored regexes one of which the release must match."),
                    "parity": {"enum": ["exact", "same-minor", "same-major", "ignore"], "description": "How close peers' kernels must be."}
                }
            },
            "ipv6": {"enum": ["required", "disabled", "as-peers"], "description": "IPv6 expectation."},
            "sysctls": {
                "type": "object",
                "description": "Sysctls that must have these values (in addition to the built-in ones).",
                "propertyNames": {"pattern": "^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)+$"},
                "additionalProperties": {"type": ["string", "integer"]}
            },
            "modules": {"type": "array", "items": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"}, "description": "Kernel modules that must be loaded or built in (besides br_netfilter, overlay)."},
            "ports_free": {"type": "array", "items": port, "description": "TCP ports that must be free before the join (besides 10250)."},
            "swap": {"enum": ["off", "allowed"]},
            "runtimes": {"type": "array", "items": {"enum": ["containerd", "cri-o", "docker", "cri-dockerd"]}, "description": "Accepted container runtimes; empty accepts any."},
            "post_join": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "felix_health_port": {"type": ["integer", "null"], "minimum": 1, "maximum": 65535},
                    "cluster_dns": {"type": ["string", "null"], "description": "Cluster DNS server address."},
                    "cluster_domain": string_or_null("Cluster domain (cluster.local).")
                }
            },
            "cni": cni_schema(),
            "skip": {"type": "array", "items": {"type": "string"}, "description": "Check IDs to skip (Prefix* allowed); merged with --skip."}
        }
    })
}
