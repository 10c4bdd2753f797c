//! Parsing an `IP_AUTODETECTION_METHOD` / `IP6_AUTODETECTION_METHOD` value exactly as calico-node's
//! `AutoDetectCIDR` dispatches it: exact `first-found` or empty, then the prefixes `interface=`, `cidr=`,
//! `can-reach=`, `skip-interface=`, `kubernetes-internal-ip` (a prefix test), and anything else
//! terminates calico-node. Lists are split with the Go regex `\s*,\s*`, keeping every trap of that split.

use serde::Serialize;

use crate::profile::calico_version::CalicoVersion;

/// One autodetection method, as calico-node understands the env value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Method {
    /// Unset, empty, or exactly `first-found`.
    FirstFound,
    /// `interface=R1,R2`: the split entries, verbatim (leading spaces kept, empty entries kept).
    Interface { regexes: Vec<String> },
    /// `skip-interface=R1,R2`: added to the version's default exclusion list.
    SkipInterface { regexes: Vec<String> },
    /// `cidr=C1,C2`: the split entries, parsed when evaluated (a bad entry fails detection).
    Cidr { entries: Vec<String> },
    /// `can-reach=DEST`: an IP literal or DNS name; not split on commas.
    CanReach { destination: String },
    /// `kubernetes-internal-ip` (any value starting with it), Calico v3.22 and later.
    KubernetesInternalIp,
    /// Anything else: calico-node logs `Invalid IP autodetection method: <value>` and terminates.
    Invalid { value: String },
}

const FIRST_FOUND: &str = "first-found";
const INTERFACE: &str = "interface=";
const CIDR: &str = "cidr=";
const CAN_REACH: &str = "can-reach=";
const SKIP_INTERFACE: &str = "skip-interface=";
const K8S_INTERNAL_IP: &str = "kubernetes-internal-ip";

/// The release that added `kubernetes-internal-ip` (projectcalico/node PR #1242).
pub const K8S_INTERNAL_IP_SINCE: CalicoVersion = CalicoVersion::new(3, 22, 0);

/// Parses an env value the way `AutoDetectCIDR` of that Calico release does. Nothing is trimmed and the
/// match is case-sensitive: `First-Found` and ` first-found` are invalid.
pub fn parse_method(value: &str, version: &CalicoVersion) -> Method {
    if value.is_empty() || value == FIRST_FOUND {
        Method::FirstFound
    } else if let Some(rest) = value.strip_prefix(INTERFACE) {
        Method::Interface {
            regexes: split_list(rest),
        }
    } else if let Some(rest) = value.strip_prefix(CIDR) {
        Method::Cidr {
            entries: split_list(rest),
        }
    } else if let Some(rest) = value.strip_prefix(CAN_REACH) {
        Method::CanReach {
            destination: rest.to_string(),
        }
    } else if let Some(rest) = value.strip_prefix(SKIP_INTERFACE) {
        Method::SkipInterface {
            regexes: split_list(rest),
        }
    } else if value.starts_with(K8S_INTERNAL_IP)
        && version.triple() >= K8S_INTERNAL_IP_SINCE.triple()
    {
        Method::KubernetesInternalIp
    } else {
        Method::Invalid {
            value: value.to_string(),
        }
    }
}

/// Go's `regexp.MustCompile(`\s*,\s*`).Split(s, -1)`: every comma separates, the blanks around a comma
/// go with it, blanks at the ends stay, an empty input gives one empty entry, a trailing comma gives an
/// empty last entry. Go's `\s` is ASCII: tab, newline, form feed, carriage return, space.
pub fn split_list(s: &str) -> Vec<String> {
    let is_go_space = |b: u8| matches!(b, b'\t' | b'\n' | b'\x0c' | b'\r' | b' ');
    let bytes = s.as_bytes();
    let mut entries = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b',' {
            let mut end = i;
            while end > start && is_go_space(bytes[end - 1]) {
                end -= 1;
            }
            entries.push(s[start..end].to_string());
            let mut next = i + 1;
            while next < bytes.len() && is_go_space(bytes[next]) {
                next += 1;
            }
            start = next;
            i = next;
        } else {
            i += 1;
        }
    }
    entries.push(s[start..].to_string());
    entries
}

impl Method {
    /// Short name of the method kind, for tables.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Method::FirstFound => "first-found",
            Method::Interface { .. } => "interface",
            Method::SkipInterface { .. } => "skip-interface",
            Method::Cidr { .. } => "cidr",
            Method::CanReach { .. } => "can-reach",
            Method::KubernetesInternalIp => "kubernetes-internal-ip",
            Method::Invalid { .. } => "invalid",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> CalicoVersion {
        s.parse().unwrap()
    }

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn dispatch_like_autodetect_cidr() {
        let cur = v("3.28.0");
        let cases: Vec<(&str, Method)> = vec![
            ("", Method::FirstFound),
            ("first-found", Method::FirstFound),
            (
                "First-Found",
                Method::Invalid {
                    value: "First-Found".into(),
                },
            ),
            (
                " first-found",
                Method::Invalid {
                    value: " first-found".into(),
                },
            ),
            (
                "first-found ",
                Method::Invalid {
                    value: "first-found ".into(),
                },
            ),
            (
                "eth3",
                Method::Invalid {
                    value: "eth3".into(),
                },
            ),
            (
                "interface=eth3",
                Method::Interface {
                    regexes: strings(&["eth3"]),
                },
            ),
            (
                "interface=",
                Method::Interface {
                    regexes: strings(&[""]),
                },
            ),
            (
                "interface=eth0,",
                Method::Interface {
                    regexes: strings(&["eth0", ""]),
                },
            ),
            (
                "interface=eth{1,2}",
                Method::Interface {
                    regexes: strings(&["eth{1", "2}"]),
                },
            ),
            (
                "interface= eth0",
                Method::Interface {
                    regexes: strings(&[" eth0"]),
                },
            ),
            (
                "interface=eth0 , ens.*",
                Method::Interface {
                    regexes: strings(&["eth0", "ens.*"]),
                },
            ),
            (
                "Interface=eth0",
                Method::Invalid {
                    value: "Interface=eth0".into(),
                },
            ),
            (
                "skip-interface=br-.*",
                Method::SkipInterface {
                    regexes: strings(&["br-.*"]),
                },
            ),
            (
                "skip-interface=",
                Method::SkipInterface {
                    regexes: strings(&[""]),
                },
            ),
            (
                "cidr=10.0.0.0/24, 10.1.0.0/24",
                Method::Cidr {
                    entries: strings(&["10.0.0.0/24", "10.1.0.0/24"]),
                },
            ),
            (
                "can-reach=8.8.8.8",
                Method::CanReach {
                    destination: "8.8.8.8".into(),
                },
            ),
            (
                "can-reach=a,b",
                Method::CanReach {
                    destination: "a,b".into(),
                },
            ),
            ("kubernetes-internal-ip", Method::KubernetesInternalIp),
            ("kubernetes-internal-ipXYZ", Method::KubernetesInternalIp),
            (
                "kubernetes-internal",
                Method::Invalid {
                    value: "kubernetes-internal".into(),
                },
            ),
        ];
        for (value, expected) in cases {
            assert_eq!(parse_method(value, &cur), expected, "{value:?}");
        }
    }

    #[test]
    fn kubernetes_internal_ip_is_unknown_before_3_22() {
        assert_eq!(
            parse_method("kubernetes-internal-ip", &v("3.21.4")),
            Method::Invalid {
                value: "kubernetes-internal-ip".into()
            }
        );
        assert_eq!(
            parse_method("kubernetes-internal-ip", &v("3.22.0")),
            Method::KubernetesInternalIp
        );
    }

    #[test]
    fn split_matches_go_regexp_split() {
        let cases: [(&str, &[&str]); 9] = [
            ("", &[""]),
            (",", &["", ""]),
            ("a", &["a"]),
            ("a,", &["a", ""]),
            (" a , b ", &[" a", "b "]),
            ("a\t,\nb", &["a", "b"]),
            ("a,,b", &["a", "", "b"]),
            ("a , ,b", &["a", "", "b"]),
            ("é,ü", &["é", "ü"]),
        ];
        for (input, expected) in cases {
            assert_eq!(split_list(input), strings(expected), "{input:?}");
        }
    }
}
