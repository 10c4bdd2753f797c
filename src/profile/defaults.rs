//! What every profile asks for without saying so: the sysctls and kernel modules Kubernetes networking
//! needs on any node. A profile may change a sysctl's value or add more of either; checks and `fix`
//! read the merged lists from [`Profile::required_sysctls`] and [`Profile::required_modules`].

use super::Profile;

/// Sysctls always checked, in this order; the profile may change a value or add keys.
pub const BUILT_IN_SYSCTLS: &[(&str, &str)] = &[
    ("net.ipv4.ip_forward", "1"),
    ("net.bridge.bridge-nf-call-iptables", "1"),
    ("net.bridge.bridge-nf-call-ip6tables", "1"),
];

/// Kernel modules always required.
pub const BUILT_IN_MODULES: &[&str] = &["br_netfilter", "overlay"];

impl Profile {
    /// Every sysctl a node must have, with its value: the built-in ones first, in their order (with
    /// the profile's value where it sets one), then the profile's others in key order.
    pub fn required_sysctls(&self) -> Vec<(&str, &str)> {
        let mut wanted: Vec<(&str, &str)> = BUILT_IN_SYSCTLS
            .iter()
            .map(|&(key, value)| (key, self.sysctls.get(key).map_or(value, String::as_str)))
            .collect();
        for (key, value) in &self.sysctls {
            if !BUILT_IN_SYSCTLS.iter().any(|(k, _)| k == key) {
                wanted.push((key, value));
            }
        }
        wanted
    }

    /// Every kernel module a node must have: the built-in ones, then the profile's others in its order.
    pub fn required_modules(&self) -> Vec<&str> {
        let mut names: Vec<&str> = BUILT_IN_MODULES.to_vec();
        for module in &self.modules {
            if !names.contains(&module.as_str()) {
                names.push(module);
            }
        }
        names
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn built_ins_come_first_and_the_profile_overrides_and_adds() {
        let profile = super::super::load::parse_profile(
            "sysctls:\n  net.core.somaxconn: 4096\n  net.ipv4.ip_forward: 0\nmodules: [overlay, vxlan]\n",
            "p.yaml",
        )
        .unwrap();
        assert_eq!(
            profile.required_sysctls(),
            [
                ("net.ipv4.ip_forward", "0"),
                ("net.bridge.bridge-nf-call-iptables", "1"),
                ("net.bridge.bridge-nf-call-ip6tables", "1"),
                ("net.core.somaxconn", "4096"),
            ]
        );
        assert_eq!(
            profile.required_modules(),
            ["br_netfilter", "overlay", "vxlan"]
        );
    }
}
