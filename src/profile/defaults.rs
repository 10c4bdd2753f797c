//! What every profile asks for without saying so: the sysctls and kernel modules Kubernetes networking
//! needs on any node. A profile may change a sysctl's value or add more of either.

/// Sysctls always checked, in this order; the profile may change a value or add keys.
pub const BUILT_IN_SYSCTLS: &[(&str, &str)] = &[
    ("net.ipv4.ip_forward", "1"),
    ("net.bridge.bridge-nf-call-iptables", "1"),
    ("net.bridge.bridge-nf-call-ip6tables", "1"),
];

/// Kernel modules always required.
pub const BUILT_IN_MODULES: &[&str] = &["br_netfilter", "overlay"];
