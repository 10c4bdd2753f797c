//! Profile values that are read once and used as typed values: the Calico release, the Kubernetes
//! version, the kernel minimum and every regex (MAC, PCI, bridge and kernel patterns). Each keeps the text the operator
//! wrote, for messages and for writing the profile back, beside the parsed form the checks use.
//!
//! Parsing happens while the profile is deserialised, so a bad value is refused at load with its
//! line:column and key path (see `load`), and no check ever parses or compiles a profile value again.

use std::fmt;
use std::ops::Deref;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::calico_version::CalicoVersion;

/// Compiles an interface/MAC/PCI/kernel pattern the way checks use it (anchored at both ends).
pub fn compile_anchored(pattern: &str) -> Result<regex::Regex, String> {
    regex::Regex::new(&format!("^(?:{pattern})$")).map_err(|e| {
        format!(
            "`{pattern}` is not a valid regular expression: {}",
            one_line(&e)
        )
    })
}

fn one_line(e: &impl fmt::Display) -> String {
    e.to_string()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A kernel release reduced to the numbers that order it: `5.15.0-91-generic` is 5.15.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct KernelRelease {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl KernelRelease {
    /// Parses the leading `major.minor[.patch]` of a release string; the rest (`-91-generic`) is ignored.
    pub fn parse(release: &str) -> Option<KernelRelease> {
        let numeric: String = release
            .trim()
            .trim_start_matches('v')
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let mut parts = numeric.split('.').filter(|p| !p.is_empty());
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        let patch = parts.next().map(|p| p.parse().ok()).unwrap_or(Some(0))?;
        Some(KernelRelease {
            major,
            minor,
            patch,
        })
    }
}

impl fmt::Display for KernelRelease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// `(major, minor)` of a Kubernetes version (`1.30`, `v1.30.2`, `1.31.0-rc.1`).
pub fn kubernetes_minor(raw: &str) -> Option<(u32, u32)> {
    let text = raw.trim().strip_prefix('v').unwrap_or(raw.trim());
    let mut parts = text.split(['.', '-', '+']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// A Kubernetes release reduced to what decides kubeadm's binaries and the kubelet skew:
/// `(major, minor)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct KubernetesMinor(pub u32, pub u32);

/// A value that a profile spells as text.
pub trait FromProfileText: Sized {
    /// The parsed value, or the message the operator sees (after `file:line:column:`).
    fn from_profile_text(text: &str) -> Result<Self, String>;
}

/// A profile regex: anchored at both ends (`^(?:…)$`), compiled once at load.
impl FromProfileText for regex::Regex {
    fn from_profile_text(text: &str) -> Result<Self, String> {
        compile_anchored(text)
    }
}

impl FromProfileText for CalicoVersion {
    fn from_profile_text(text: &str) -> Result<Self, String> {
        text.parse().map_err(|_| {
            format!("`{text}` is not a Calico version (expected e.g. 3.24.1 or v3.28.0)")
        })
    }
}

impl FromProfileText for KubernetesMinor {
    fn from_profile_text(text: &str) -> Result<Self, String> {
        kubernetes_minor(text)
            .map(|(major, minor)| KubernetesMinor(major, minor))
            .ok_or_else(|| {
                format!("`{text}` is not a Kubernetes version (expected 1.30 or v1.30.2)")
            })
    }
}

impl FromProfileText for KernelRelease {
    fn from_profile_text(text: &str) -> Result<Self, String> {
        KernelRelease::parse(text).ok_or_else(|| {
            format!("`{text}` is not a kernel release (expected major.minor[.patch], e.g. 5.15 or 5.15.0)")
        })
    }
}

/// A profile value as written, with its parsed form. Dereferences to the parsed form; displays,
/// serialises and compares as the text.
#[derive(Clone)]
pub struct Parsed<T> {
    text: String,
    value: T,
}

/// A profile regex (`mac_pattern`, `pci_pattern`, `bridges.allowed`, `kernel.allowed`).
pub type Pattern = Parsed<regex::Regex>;

impl<T: FromProfileText> Parsed<T> {
    /// Parses `text` as the profile loader does (flags and tests build values this way).
    pub fn new(text: impl Into<String>) -> Result<Parsed<T>, String> {
        let text = text.into();
        let value = T::from_profile_text(&text)?;
        Ok(Parsed { text, value })
    }
}

impl<T> Parsed<T> {
    /// A value whose text and parsed form are known to agree (built-in defaults).
    pub(super) fn known(text: &str, value: T) -> Parsed<T> {
        Parsed {
            text: text.to_string(),
            value,
        }
    }

    /// The text as the operator wrote it.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The parsed form.
    pub fn value(&self) -> &T {
        &self.value
    }
}

impl<T> Deref for Parsed<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> fmt::Display for Parsed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl<T> fmt::Debug for Parsed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.text, f)
    }
}

impl<T> PartialEq for Parsed<T> {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl<T> Serialize for Parsed<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de, T: FromProfileText> Deserialize<'de> for Parsed<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Parsed::new(text).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_are_anchored_and_keep_their_text() {
        let p = Pattern::new("br-[0-9a-f]{12}").unwrap();
        assert!(p.is_match("br-3f2a1b4c5d6e"));
        assert!(!p.is_match("xbr-3f2a1b4c5d6e"));
        assert_eq!(p.to_string(), "br-[0-9a-f]{12}");
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            serde_json::json!("br-[0-9a-f]{12}")
        );
        assert!(Pattern::new("eth(")
            .unwrap_err()
            .contains("not a valid regular expression"));
    }

    #[test]
    fn kernel_releases_parse_their_numbers() {
        let r = KernelRelease::parse("5.15.0-91-generic").unwrap();
        assert_eq!((r.major, r.minor, r.patch), (5, 15, 0));
        assert_eq!(
            KernelRelease::parse("6.1").unwrap(),
            KernelRelease {
                major: 6,
                minor: 1,
                patch: 0
            }
        );
        assert!(KernelRelease::parse("5.15.0") > KernelRelease::parse("5.4.200"));
        assert_eq!(KernelRelease::parse("five"), None);
        assert_eq!(KernelRelease::parse("5"), None);
    }

    #[test]
    fn versions_keep_the_spelling_and_parse_once() {
        let v: Parsed<CalicoVersion> = Parsed::new("3.24.1").unwrap();
        assert_eq!(v.text(), "3.24.1");
        assert_eq!(v.triple(), (3, 24, 1));
        assert!(Parsed::<CalicoVersion>::new("latest")
            .unwrap_err()
            .contains("not a Calico version"));
        let k: Parsed<KernelRelease> = Parsed::new("5.15").unwrap();
        assert_eq!((k.major, k.minor, k.patch), (5, 15, 0));
        assert!(Parsed::<KernelRelease>::new("five").is_err());
    }

    #[test]
    fn the_default_calico_release_is_its_text_parsed() {
        let default = super::super::CalicoSettings::default().release();
        let parsed: Parsed<CalicoVersion> =
            Parsed::new(super::super::DEFAULT_CALICO_VERSION).unwrap();
        assert_eq!(default, parsed);
        assert_eq!(default.value(), parsed.value());
    }
}
