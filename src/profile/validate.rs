//! Profile validation: every value is checked while it is parsed (so the error carries its line:column
//! and key path), and the few rules that relate two fields are checked after parsing.
//!
//! The `de_*` functions are serde `deserialize_with` hooks used by the profile types; each one wraps a
//! plain `parse_*`/`check_*` function, or a [`super::parsed::Parsed`] value (regexes, the Calico
//! release, the kernel minimum) that keeps its parsed form so no check parses it again.

use std::collections::BTreeMap;
use std::fmt;

use ipnet::IpNet;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

use super::calico_version::CalicoVersion;
use super::parsed::{KernelRelease, KubernetesMinor, Parsed, Pattern};
use super::{Ipv6Expectation, Profile};

/// Address families Calico autodetects.
pub const KNOWN_FAMILIES: &[&str] = &["ipv4", "ipv6"];

/// Container runtimes a profile may accept.
pub const KNOWN_RUNTIMES: &[&str] = &["containerd", "cri-o", "docker", "cri-dockerd"];

/// A CIDR written as a network: `10.20.41.0/24` is accepted, `10.20.41.5/24` (host bits set) is not,
/// because a profile that says `10.20.41.5/24` almost always means something else than the network.
pub fn parse_network_cidr(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    let net: IpNet = text.parse().map_err(|_| {
        format!("`{text}` is not a CIDR (expected a network such as 10.20.41.0/24 or fd00:41::/64)")
    })?;
    if net.trunc() != net {
        return Err(format!(
            "`{text}` has host bits set; the network is `{}` (write that, or fix the prefix length)",
            net.trunc()
        ));
    }
    Ok(net)
}

/// The same rules the kernel applies to `/proc/sys` names, loosely: dotted words of `[a-z0-9_-]`.
fn check_sysctl_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.contains('.')
        && name.split('.').all(|w| {
            !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-".contains(c))
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a sysctl name (expected dotted words, e.g. net.ipv4.ip_forward)"
        ))
    }
}

fn check_module_name(name: &str) -> Result<(), String> {
    if !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-".contains(c))
    {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a kernel module name (letters, digits, `_`, `-`)"
        ))
    }
}

/// `host:port` or `[v6]:port`, port non-zero.
pub fn check_endpoint(text: &str) -> Result<(), String> {
    let bad = || {
        format!("`{text}` is not an endpoint (expected host:port, e.g. 10.20.41.10:6443 or [fd00::10]:6443)")
    };
    let (host, port) = text.rsplit_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().map_err(|_| bad())?;
    if port == 0 || host.is_empty() || (host.contains(':') && !host.starts_with('[')) {
        return Err(bad());
    }
    Ok(())
}

// ---- deserialize_with hooks -------------------------------------------------------------------
//
// Each element is checked as it is read, so an error points at the element itself (line:column and
// `key[index]`), not at the list that holds it.

/// A check applied to one value while it is deserialised.
trait Rule {
    type Raw: serde::de::DeserializeOwned;
    type Out;
    fn apply(raw: Self::Raw) -> Result<Self::Out, String>;
}

struct Checked<R: Rule>(R::Out);

impl<'de, R: Rule> Deserialize<'de> for Checked<R> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = R::Raw::deserialize(d)?;
        R::apply(raw).map(Checked).map_err(D::Error::custom)
    }
}

/// The most entries any profile list (or the `sysctls` map) may hold. Real profiles hold a handful;
/// the cap keeps a hostile or generated profile from costing time and memory that grows with its
/// size squared (the range-overlap rule compares lists pairwise).
pub const MAX_LIST_ENTRIES: usize = 1024;

fn too_many<E: serde::de::Error>() -> E {
    E::custom(format!(
        "more than {MAX_LIST_ENTRIES} entries; a profile list holds at most {MAX_LIST_ENTRIES}"
    ))
}

/// A list whose elements pass `R`, refused (at the first entry too many) beyond [`MAX_LIST_ENTRIES`].
fn de_list<'de, R: Rule, D: Deserializer<'de>>(d: D) -> Result<Vec<R::Out>, D::Error> {
    struct Bounded<R>(std::marker::PhantomData<R>);
    impl<'de, R: Rule> serde::de::Visitor<'de> for Bounded<R> {
        type Value = Vec<R::Out>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(Checked(item)) = seq.next_element::<Checked<R>>()? {
                if out.len() == MAX_LIST_ENTRIES {
                    return Err(too_many());
                }
                out.push(item);
            }
            Ok(out)
        }
    }
    d.deserialize_seq(Bounded::<R>(std::marker::PhantomData))
}

/// Elements with no rule of their own (checked by their own type, if at all).
struct Unchecked<T>(std::marker::PhantomData<T>);
impl<T: serde::de::DeserializeOwned> Rule for Unchecked<T> {
    type Raw = T;
    type Out = T;
    fn apply(raw: T) -> Result<T, String> {
        Ok(raw)
    }
}

/// A list of plain strings (the skip list, NIC name alternatives), bounded like every other list.
pub(super) fn de_strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    de_list::<Unchecked<String>, D>(d)
}

/// `other_nics`, bounded like every other list.
pub(super) fn de_nics<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Vec<super::NicExpectation>, D::Error> {
    de_list::<Unchecked<super::NicExpectation>, D>(d)
}

/// A boolean written as YAML 1.2 `true`/`false`: a quoted `"yes"`, `"no"` or `"true"` is a string, and
/// refused rather than guessed at (the loader also refuses YAML 1.1's unquoted `yes`/`no`/`on`/`off`).
pub(super) fn de_strict_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    struct StrictBool;
    impl serde::de::Visitor<'_> for StrictBool {
        type Value = bool;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("true or false")
        }
        fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<bool, E> {
            Ok(v)
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<bool, E> {
            Err(E::custom(format!(
                "`{v}` is a string, not a boolean; write true or false without quotes"
            )))
        }
    }
    d.deserialize_any(StrictBool)
}

fn de_option<'de, R: Rule, D: Deserializer<'de>>(d: D) -> Result<Option<R::Out>, D::Error> {
    Ok(Option::<Checked<R>>::deserialize(d)?.map(|c| c.0))
}

struct CidrRule;
impl Rule for CidrRule {
    type Raw = String;
    type Out = IpNet;
    fn apply(raw: String) -> Result<IpNet, String> {
        parse_network_cidr(&raw)
    }
}

/// A rule over text that keeps the text when `check` accepts it.
macro_rules! text_rule {
    ($name:ident, $check:expr) => {
        struct $name;
        impl Rule for $name {
            type Raw = String;
            type Out = String;
            fn apply(raw: String) -> Result<String, String> {
                let check: fn(&str) -> Result<(), String> = $check;
                check(&raw).map(|_| raw)
            }
        }
    };
}

text_rule!(FamilyRule, |raw| one_of(
    raw,
    KNOWN_FAMILIES,
    "address family"
));
text_rule!(RuntimeRule, |raw| one_of(
    raw,
    KNOWN_RUNTIMES,
    "container runtime"
));
text_rule!(ModuleRule, check_module_name);
text_rule!(EndpointRule, check_endpoint);

struct PortRule;
impl Rule for PortRule {
    type Raw = u16;
    type Out = u16;
    fn apply(raw: u16) -> Result<u16, String> {
        if raw == 0 {
            Err("port 0 is not a port (use 1-65535)".into())
        } else {
            Ok(raw)
        }
    }
}

struct MtuRule;
impl Rule for MtuRule {
    type Raw = u32;
    type Out = u32;
    fn apply(raw: u32) -> Result<u32, String> {
        if (68..=65535).contains(&raw) {
            Ok(raw)
        } else {
            Err(format!(
                "MTU {raw} is out of range (68-65535; Ethernet is usually 1500, jumbo frames 9000)"
            ))
        }
    }
}

/// Accepts `raw` when it is one of `known`; else lists them, with the closest as a suggestion.
fn one_of(raw: &str, known: &[&str], what: &str) -> Result<(), String> {
    if known.contains(&raw) {
        return Ok(());
    }
    let hint = super::suggest::closest(raw, known)
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default();
    Err(format!(
        "unknown {what} `{raw}` (known: {}){hint}",
        known.join(", ")
    ))
}

pub(super) fn de_cidrs<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<IpNet>, D::Error> {
    de_list::<CidrRule, D>(d)
}

pub(super) fn de_pattern<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Pattern>, D::Error> {
    de_option::<Unchecked<Pattern>, D>(d)
}

pub(super) fn de_patterns<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Pattern>, D::Error> {
    de_list::<Unchecked<Pattern>, D>(d)
}

pub(super) fn de_kernel_minimum<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Parsed<KernelRelease>>, D::Error> {
    de_option::<Unchecked<Parsed<KernelRelease>>, D>(d)
}

pub(super) fn de_kubernetes_version<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Parsed<KubernetesMinor>>, D::Error> {
    de_option::<Unchecked<Parsed<KubernetesMinor>>, D>(d)
}

pub(super) fn de_calico_version<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Parsed<CalicoVersion>>, D::Error> {
    de_option::<Unchecked<Parsed<CalicoVersion>>, D>(d)
}

pub(super) fn de_ports<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u16>, D::Error> {
    de_list::<PortRule, D>(d)
}

pub(super) fn de_port<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u16>, D::Error> {
    de_option::<PortRule, D>(d)
}

pub(super) fn de_mtu<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    de_option::<MtuRule, D>(d)
}

pub(super) fn de_families<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Vec<crate::facts::Family>, D::Error> {
    let families = de_list::<FamilyRule, D>(d)?;
    if families.is_empty() {
        return Err(D::Error::custom(
            "at least one address family is needed (ipv4, ipv6)",
        ));
    }
    for (i, family) in families.iter().enumerate() {
        if families[..i].contains(family) {
            return Err(D::Error::custom(format!(
                "address family `{family}` is listed twice (calico.families is ipv4, ipv6 or both, each once)"
            )));
        }
    }
    Ok(families
        .iter()
        .map(|f| match f.as_str() {
            "ipv6" => crate::facts::Family::Ipv6,
            _ => crate::facts::Family::Ipv4,
        })
        .collect())
}

pub(super) fn de_runtimes<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    de_list::<RuntimeRule, D>(d)
}

pub(super) fn de_sysctls<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    // Names are checked as keys, so an error points at the key itself.
    struct BoundedMap;
    impl<'de> serde::de::Visitor<'de> for BoundedMap {
        type Value = BTreeMap<String, String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a mapping of sysctl names to values")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some((SysctlName(name), ScalarText(value))) = map.next_entry()? {
                if out.len() == MAX_LIST_ENTRIES {
                    return Err(too_many());
                }
                out.insert(name, value);
            }
            Ok(out)
        }
    }
    d.deserialize_map(BoundedMap)
}

/// A sysctl name, checked when read.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct SysctlName(String);

impl<'de> Deserialize<'de> for SysctlName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        check_sysctl_name(&name).map_err(D::Error::custom)?;
        Ok(SysctlName(name))
    }
}

pub(super) fn de_modules<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    de_list::<ModuleRule, D>(d)
}

pub(super) fn de_endpoint<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    de_option::<EndpointRule, D>(d)
}

/// A sysctl value as the operator wrote it: `1`, `"1"` and `1 2 3` all become their text.
struct ScalarText(String);

impl<'de> Deserialize<'de> for ScalarText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = ScalarText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a sysctl value (a number or a string)")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<ScalarText, E> {
                Err(E::custom(format!(
                    "`{v}` is a boolean; sysctl values are numbers or strings (write 1 or 0)"
                )))
            }
        }
        d.deserialize_any(V)
    }
}

// ---- rules across fields ----------------------------------------------------------------------

/// A rule that relates two fields was broken: the message, and the key path it is about.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    pub path: String,
    pub message: String,
}

/// The first broken rule that relates fields to each other; checked after a successful parse. It stops
/// at the first: a profile with thousands of overlapping ranges costs one message, not one per pair.
pub fn first_cross_field_violation(profile: &Profile) -> Option<Violation> {
    let ranges: [(&str, &[IpNet]); 3] = [
        ("node_network.cidrs", &profile.node_network.cidrs),
        ("pod_cidrs", &profile.pod_cidrs),
        ("service_cidrs", &profile.service_cidrs),
    ];
    for (i, (name_a, list_a)) in ranges.iter().enumerate() {
        for (name_b, list_b) in &ranges[i + 1..] {
            for a in list_a.iter() {
                if let Some(b) = list_b
                    .iter()
                    .find(|b| a.contains(&b.network()) || b.contains(&a.network()))
                {
                    return Some(Violation {
                        path: name_b.to_string(),
                        message: format!(
                            "{name_a} `{a}` overlaps {name_b} `{b}`; node, pod and service ranges must be disjoint"
                        ),
                    });
                }
            }
        }
    }
    if profile.ipv6 == Ipv6Expectation::Disabled
        && profile
            .calico
            .families
            .contains(&crate::facts::Family::Ipv6)
    {
        return Some(Violation {
            path: "calico.families".into(),
            message: "calico.families has `ipv6` but `ipv6: disabled` says nodes have no IPv6"
                .into(),
        });
    }
    if let Some(nic) = &profile.node_network.nic {
        if nic.name.is_none() && nic.mac_pattern.is_none() && nic.pci_pattern.is_none() {
            return Some(Violation {
                path: "node_network.nic".into(),
                message: "node_network.nic needs a `name`, a `mac_pattern` or a `pci_pattern`"
                    .into(),
            });
        }
    }
    for (i, nic) in profile.other_nics.iter().enumerate() {
        if nic.name.is_none() && nic.mac_pattern.is_none() && nic.pci_pattern.is_none() {
            return Some(Violation {
                path: format!("other_nics[{i}]"),
                message: format!(
                    "other_nics[{i}] needs a `name`, a `mac_pattern` or a `pci_pattern`"
                ),
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_bits_are_refused_with_the_network_named() {
        assert_eq!(
            parse_network_cidr("10.20.41.0/24").unwrap().to_string(),
            "10.20.41.0/24"
        );
        let err = parse_network_cidr("10.20.41.5/24").unwrap_err();
        assert!(
            err.contains("host bits") && err.contains("10.20.41.0/24"),
            "{err}"
        );
        assert!(parse_network_cidr("10.0.0.0/33")
            .unwrap_err()
            .contains("not a CIDR"));
        assert!(parse_network_cidr("fd00:41::/64").is_ok());
    }

    #[test]
    fn versions_and_endpoints() {
        assert!(check_endpoint("10.20.41.10:6443").is_ok());
        assert!(check_endpoint("[fd00::10]:6443").is_ok());
        assert!(check_endpoint("fd00::10:6443").is_err());
        assert!(check_endpoint("api:0").is_err());
    }

    #[test]
    fn sysctl_and_module_names() {
        assert!(check_sysctl_name("net.ipv4.ip_forward").is_ok());
        assert!(check_sysctl_name("net.bridge.bridge-nf-call-iptables").is_ok());
        assert!(check_sysctl_name("ip_forward").is_err());
        assert!(check_sysctl_name("net..x").is_err());
        assert!(check_module_name("br_netfilter").is_ok());
        assert!(check_module_name("br netfilter").is_err());
    }
}
