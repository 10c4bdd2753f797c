//! flanneld's configuration as it resolves it at start: command-line flags (Go's `flag` package:
//! `-name value`, `--name=value`; `--iface` and `--iface-regex` repeat), then `FLANNELD_<NAME>`
//! environment for each flag not given, only when non-empty and as one value (coreos/pkg
//! `flagutil.SetFlagsFromEnv`: `FLANNELD_IFACE=eth1,eth2` is one interface name), then the Node
//! annotations that replace `--public-ip(v6)` (from v0.25.2: `public-ip`; from v0.25.3:
//! `node-public-ip`), and the IP stack from net-conf.json.

use std::collections::BTreeMap;

use crate::profile::cni::{FlannelBackend, FlannelVersion};

/// The annotation prefix flanneld uses unless `--kube-annotation-prefix` says otherwise.
pub const DEFAULT_ANNOTATION_PREFIX: &str = "flannel.alpha.coreos.com";

/// Flags that take no value (Go `flag.Bool`): `--ip-masq eth1` leaves `eth1` as an argument.
const BOOLEAN_FLAGS: &[&str] = &[
    "kube-subnet-mgr",
    "ip-masq",
    "help",
    "version",
    "iptables-forward-rules",
    "set-node-network-unavailable",
    "use-multi-cluster-cidr",
    "logtostderr",
    "alsologtostderr",
];

/// A value and where it came from (`flag --iface`, `env FLANNELD_IFACE`, `annotation …`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sourced {
    pub value: String,
    pub source: String,
}

/// Which address families flanneld runs (`ipmatch.GetIPFamily`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stack {
    Ipv4,
    Ipv6,
    Dual,
    /// Neither `EnableIPv4` nor `EnableIPv6`: flanneld refuses to start.
    None,
}

impl Stack {
    pub fn from_flags(ipv4: bool, ipv6: bool) -> Stack {
        match (ipv4, ipv6) {
            (true, false) => Stack::Ipv4,
            (false, true) => Stack::Ipv6,
            (true, true) => Stack::Dual,
            (false, false) => Stack::None,
        }
    }
    pub fn has_v4(self) -> bool {
        matches!(self, Stack::Ipv4 | Stack::Dual)
    }
    pub fn has_v6(self) -> bool {
        matches!(self, Stack::Ipv6 | Stack::Dual)
    }
}

/// What flanneld resolves before looking for its interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlannelSettings {
    pub version: FlannelVersion,
    pub ifaces: Vec<Sourced>,
    pub iface_regexes: Vec<Sourced>,
    pub iface_can_reach: Option<Sourced>,
    pub public_ip: Option<Sourced>,
    pub public_ipv6: Option<Sourced>,
    /// `public-ip-overwrite` / `public-ipv6-overwrite`: what flanneld publishes instead of its
    /// external address (peers use it); it does not change the interface.
    pub public_ip_overwrite: Option<Sourced>,
    pub public_ipv6_overwrite: Option<Sourced>,
    pub annotation_prefix: String,
    pub stack: Stack,
    pub backend: FlannelBackend,
    /// Flags nodecheck does not model, and other remarks, for the trace.
    pub notes: Vec<String>,
}

/// The inputs as written: argument words, environment, this node's annotations, net-conf.json.
#[derive(Debug, Clone, Default)]
pub struct FlannelInputs<'a> {
    pub args: &'a [String],
    pub env: Option<&'a BTreeMap<String, String>>,
    pub annotations: Option<&'a BTreeMap<String, String>>,
    pub enable_ipv4: Option<bool>,
    pub enable_ipv6: Option<bool>,
    pub backend: Option<FlannelBackend>,
    /// Where the arguments are written, for the sources (`profile cni.flannel.args`).
    pub args_place: &'a str,
}

/// `FLANNELD_` and the flag name upper-cased with `-` as `_`.
pub fn env_name(flag: &str) -> String {
    format!("FLANNELD_{}", flag.to_ascii_uppercase().replace('-', "_"))
}

/// The flags given on the command line, in order, as (name, value) pairs.
fn parse_args(args: &[String], notes: &mut Vec<String>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut words = args.iter();
    while let Some(word) = words.next() {
        let Some(body) = word
            .strip_prefix("--")
            .or_else(|| word.strip_prefix('-'))
            .filter(|b| !b.is_empty() && !b.starts_with('-'))
        else {
            // Go's flag package stops at the first non-flag argument.
            notes.push(format!(
                "argument {word:?} is not a flag: flanneld's flag parsing stops there"
            ));
            break;
        };
        let (name, value) = match body.split_once('=') {
            Some((n, v)) => (n.to_string(), v.to_string()),
            None if BOOLEAN_FLAGS.contains(&body) => (body.to_string(), "true".to_string()),
            None => match words.next() {
                Some(v) => (body.to_string(), v.clone()),
                None => {
                    notes.push(format!("flag --{body} has no value"));
                    break;
                }
            },
        };
        out.push((name, value));
    }
    out
}

impl FlannelSettings {
    /// Resolves flanneld's settings from its inputs, as flanneld `version` does.
    pub fn resolve(version: FlannelVersion, inputs: &FlannelInputs) -> FlannelSettings {
        let mut notes = Vec::new();
        let flags = parse_args(inputs.args, &mut notes);
        let place = inputs.args_place;
        let given: Vec<&str> = flags.iter().map(|(n, _)| n.as_str()).collect();
        let list = |name: &str| -> Vec<Sourced> {
            flags
                .iter()
                .filter(|(n, _)| n == name)
                .map(|(_, v)| Sourced {
                    value: v.clone(),
                    source: format!("--{name} in {place}"),
                })
                .collect()
        };
        // Environment fills a flag only when the command line did not set it and the value is
        // not empty; one variable is one value.
        let from_env = |name: &str| -> Option<Sourced> {
            if given.contains(&name) {
                return None;
            }
            let var = env_name(name);
            inputs
                .env
                .and_then(|env| env.get(&var))
                .filter(|v| !v.is_empty())
                .map(|v| Sourced {
                    value: v.clone(),
                    source: format!("environment {var}"),
                })
        };
        let single =
            |name: &str| -> Option<Sourced> { list(name).pop().or_else(|| from_env(name)) };
        let many = |name: &str| -> Vec<Sourced> {
            let l = list(name);
            if l.is_empty() {
                from_env(name).into_iter().collect()
            } else {
                l
            }
        };
        for (name, _) in &flags {
            if !MODELLED.contains(&name.as_str()) && !BOOLEAN_FLAGS.contains(&name.as_str()) {
                notes.push(format!(
                    "--{name} does not bear on the address (not modelled)"
                ));
            }
        }
        let annotation_prefix = single("kube-annotation-prefix")
            .map(|s| s.value)
            .unwrap_or_else(|| DEFAULT_ANNOTATION_PREFIX.to_string());
        let annotation = |key: &str| -> Option<Sourced> {
            let full = format!("{annotation_prefix}/{key}");
            inputs
                .annotations
                .and_then(|a| a.get(&full))
                .filter(|v| !v.is_empty())
                .map(|v| Sourced {
                    value: v.clone(),
                    source: format!("annotation {full}"),
                })
        };
        let mut public_ip = single("public-ip");
        let mut public_ipv6 = single("public-ipv6");
        // The stored public IP replaces the flags (flannel#1948 in v0.25.2 read `public-ip`,
        // which flanneld itself writes, so a restart reused it — flannel#1978; v0.25.3 reads
        // `node-public-ip`).
        let stored_key = if version >= FlannelVersion::new(0, 25, 3) {
            Some(("node-public-ip", "node-public-ipv6"))
        } else if version >= FlannelVersion::new(0, 25, 2) {
            Some(("public-ip", "public-ipv6"))
        } else {
            None
        };
        if let Some((v4, v6)) = stored_key {
            if let Some(a) = annotation(v4) {
                notes.push(format!("{} = {} replaces --public-ip", a.source, a.value));
                public_ip = Some(a);
            }
            if let Some(a) = annotation(v6) {
                notes.push(format!("{} = {} replaces --public-ipv6", a.source, a.value));
                public_ipv6 = Some(a);
            }
        }
        FlannelSettings {
            version,
            ifaces: many("iface"),
            iface_regexes: many("iface-regex"),
            iface_can_reach: single("iface-can-reach"),
            public_ip,
            public_ipv6,
            public_ip_overwrite: annotation("public-ip-overwrite"),
            public_ipv6_overwrite: annotation("public-ipv6-overwrite"),
            annotation_prefix,
            stack: Stack::from_flags(
                inputs.enable_ipv4.unwrap_or(true),
                inputs.enable_ipv6.unwrap_or(false),
            ),
            backend: inputs.backend.unwrap_or(FlannelBackend::Vxlan),
            notes,
        }
    }

    /// Whether any interface selector (`--iface`, `--iface-regex`, `--iface-can-reach`) is set.
    pub fn has_selector(&self) -> bool {
        !self.ifaces.is_empty() || !self.iface_regexes.is_empty() || self.iface_can_reach.is_some()
    }
}

/// Flags whose values the model reads.
const MODELLED: &[&str] = &[
    "iface",
    "iface-regex",
    "iface-can-reach",
    "public-ip",
    "public-ipv6",
    "kube-annotation-prefix",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn resolve(
        args: &[&str],
        env: &[(&str, &str)],
        ann: &[(&str, &str)],
        v: FlannelVersion,
    ) -> FlannelSettings {
        let args = words(args);
        let env = map(env);
        let ann = map(ann);
        FlannelSettings::resolve(
            v,
            &FlannelInputs {
                args: &args,
                env: Some(&env),
                annotations: Some(&ann),
                args_place: "args",
                ..FlannelInputs::default()
            },
        )
    }

    fn values(list: &[Sourced]) -> Vec<&str> {
        list.iter().map(|s| s.value.as_str()).collect()
    }

    #[test]
    fn flags_repeat_in_both_go_spellings() {
        let s = resolve(
            &[
                "--ip-masq",
                "-iface",
                "eth1",
                "--iface=10.0.0.5",
                "--iface-regex=^ens",
                "--kube-subnet-mgr",
            ],
            &[],
            &[],
            FlannelVersion::DEFAULT,
        );
        assert_eq!(values(&s.ifaces), ["eth1", "10.0.0.5"]);
        assert_eq!(values(&s.iface_regexes), ["^ens"]);
        assert!(s.has_selector());
    }

    /// Canal's `canal_iface: ""` sets `FLANNELD_IFACE=""`: unset. A comma list is one name.
    #[test]
    fn environment_fills_only_flags_not_given_and_only_when_not_empty() {
        let s = resolve(&[], &[("FLANNELD_IFACE", "")], &[], FlannelVersion::CANAL);
        assert!(s.ifaces.is_empty());
        assert!(!s.has_selector());
        let s = resolve(
            &[],
            &[("FLANNELD_IFACE", "eth1,eth2")],
            &[],
            FlannelVersion::CANAL,
        );
        assert_eq!(values(&s.ifaces), ["eth1,eth2"]);
        assert_eq!(s.ifaces[0].source, "environment FLANNELD_IFACE");
        let s = resolve(
            &["--iface=eth0"],
            &[("FLANNELD_IFACE", "eth1")],
            &[],
            FlannelVersion::CANAL,
        );
        assert_eq!(values(&s.ifaces), ["eth0"]);
    }

    /// v0.25.2 read `public-ip` (which flanneld writes itself); v0.25.3 `node-public-ip`.
    #[test]
    fn the_stored_public_ip_annotation_per_release() {
        let ann = [
            ("flannel.alpha.coreos.com/public-ip", "10.0.0.5"),
            ("flannel.alpha.coreos.com/node-public-ip", "10.0.0.9"),
        ];
        let at = |v| {
            resolve(&["--public-ip=1.2.3.4"], &[], &ann, v)
                .public_ip
                .unwrap()
                .value
        };
        assert_eq!(at(FlannelVersion::new(0, 25, 1)), "1.2.3.4");
        assert_eq!(at(FlannelVersion::new(0, 25, 2)), "10.0.0.5");
        assert_eq!(at(FlannelVersion::new(0, 25, 3)), "10.0.0.9");
        let s = resolve(
            &["--kube-annotation-prefix=example.org"],
            &[],
            &[("example.org/public-ip-overwrite", "203.0.113.7")],
            FlannelVersion::DEFAULT,
        );
        assert_eq!(s.public_ip_overwrite.unwrap().value, "203.0.113.7");
    }

    #[test]
    fn the_stack_comes_from_net_conf() {
        assert_eq!(Stack::from_flags(true, true), Stack::Dual);
        assert_eq!(Stack::from_flags(false, false), Stack::None);
        assert_eq!(env_name("iface-can-reach"), "FLANNELD_IFACE_CAN_REACH");
    }
}
