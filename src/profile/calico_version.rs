//! Calico release versions (`v3.24.2`, `3.25`, `v3.28.0-rc1`): parsed once (when the profile,
//! `--calico-version` or a deployed manifest is read), compared by the Calico model to pick the
//! behaviour of that release (default exclusion list, point-to-point prefixes, failure log lines).
//! The type lives with the profile because the profile carries it; the model imports it from here.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::error::BadInput;

/// A Calico release, `major.minor.patch`. A missing patch is 0; a pre-release suffix is kept for display
/// only (`v3.28.0-rc1` behaves as 3.28.0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalicoVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
    pub suffix: Option<String>,
}

impl CalicoVersion {
    pub const fn new(major: u32, minor: u32, patch: u32) -> CalicoVersion {
        CalicoVersion {
            major,
            minor,
            patch,
            suffix: None,
        }
    }

    /// `(major, minor, patch)` for comparisons.
    pub fn triple(&self) -> (u32, u32, u32) {
        (self.major, self.minor, self.patch)
    }

    /// At least `major.minor.patch`.
    pub fn at_least(&self, major: u32, minor: u32, patch: u32) -> bool {
        self.triple() >= (major, minor, patch)
    }
}

impl fmt::Display for CalicoVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}.{}.{}", self.major, self.minor, self.patch)?;
        if let Some(s) = &self.suffix {
            write!(f, "-{s}")?;
        }
        Ok(())
    }
}

impl Serialize for CalicoVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl FromStr for CalicoVersion {
    type Err = BadInput;

    fn from_str(text: &str) -> Result<CalicoVersion, BadInput> {
        let bad = || {
            BadInput(format!(
                "invalid Calico version {text:?}: expected a release such as v3.24.2 or 3.25"
            ))
        };
        let trimmed = text.trim();
        let body = trimmed
            .strip_prefix('v')
            .or_else(|| trimmed.strip_prefix('V'))
            .unwrap_or(trimmed);
        let (numbers, suffix) = match body.split_once(['-', '+']) {
            Some((n, s)) if !s.is_empty() => (n, Some(s.to_string())),
            Some(_) => return Err(bad()),
            None => (body, None),
        };
        let parts: Vec<&str> = numbers.split('.').collect();
        if parts.len() < 2 || parts.len() > 3 {
            return Err(bad());
        }
        let number = |p: &str| -> Result<u32, BadInput> {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) || p.len() > 6 {
                return Err(bad());
            }
            p.parse().map_err(|_| bad())
        };
        let major = number(parts[0])?;
        if major != 3 {
            return Err(BadInput(format!(
                "unsupported Calico version {text:?}: nodecheck models Calico 3.x (calico-node's autodetection as of v3.0 to v3.32)"
            )));
        }
        Ok(CalicoVersion {
            major,
            minor: number(parts[1])?,
            patch: parts.get(2).map(|p| number(p)).transpose()?.unwrap_or(0),
            suffix,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_release_spellings() {
        let cases = [
            ("v3.24.2", (3, 24, 2)),
            ("3.25", (3, 25, 0)),
            ("V3.28.1", (3, 28, 1)),
            (" v3.32.0-rc1 ", (3, 32, 0)),
            ("3.30.3+build7", (3, 30, 3)),
        ];
        for (text, triple) in cases {
            let v: CalicoVersion = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(v.triple(), triple, "{text}");
        }
        assert_eq!(
            "v3.32.0-rc1".parse::<CalicoVersion>().unwrap().to_string(),
            "v3.32.0-rc1"
        );
    }

    #[test]
    fn rejects_what_is_not_a_release() {
        for text in [
            "", "latest", "3", "v3.x", "3.24.2.1", "2.6.12", "3.24-", "3..1", "-3.24",
        ] {
            assert!(text.parse::<CalicoVersion>().is_err(), "{text:?} accepted");
        }
    }

    #[test]
    fn compares_by_number() {
        let v: CalicoVersion = "3.24.10".parse().unwrap();
        assert!(v.at_least(3, 24, 6));
        assert!(!v.at_least(3, 25, 0));
    }
}
