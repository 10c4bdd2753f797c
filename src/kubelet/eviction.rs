//! kubelet's hard-eviction thresholds for the disk signals, as kubelet settles them when it loads
//! its configuration file (`loadConfigFile` in kubernetes `cmd/kubelet/app/server.go`): no
//! `evictionHard` means kubelet's defaults; a given map is used as written, a signal it leaves out
//! having no threshold, unless `mergeDefaultEvictionSettings: true` fills the missing signals from
//! the defaults. A value is a percentage of capacity (`10%`; `0%` and `100%` mean no threshold) or
//! a quantity (`1Gi`, an inode count for `*.inodesFree`), as kubelet's `parseThresholdStatement`
//! reads it.

use std::collections::BTreeMap;

use crate::facts::kubelet::KubeletConfigFile;

/// kubelet's Linux defaults for the disk signals (`DefaultEvictionHard`).
pub const DEFAULT_DISK_EVICTION_HARD: &[(&str, &str)] = &[
    ("imagefs.available", "15%"),
    ("imagefs.inodesFree", "5%"),
    ("nodefs.available", "10%"),
    ("nodefs.inodesFree", "5%"),
];

/// One signal's threshold: the value as written, and what it means.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub written: String,
    pub value: ThresholdValue,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ThresholdValue {
    /// A percentage of capacity, 0–100.
    Percent(f64),
    /// Bytes (or inodes) available.
    Quantity(f64),
}

impl Threshold {
    /// The threshold as a percentage of `capacity`.
    pub fn percent_of(&self, capacity: u64) -> f64 {
        match self.value {
            ThresholdValue::Percent(p) => p,
            ThresholdValue::Quantity(_) if capacity == 0 => 0.0,
            ThresholdValue::Quantity(q) => q * 100.0 / capacity as f64,
        }
    }
}

/// The effective hard-eviction map and where it comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct EvictionHard {
    pub values: BTreeMap<String, String>,
    pub source: String,
}

/// The effective `evictionHard` map for kubelet's configuration file (`None`: no file).
pub fn effective(config: Option<&KubeletConfigFile>) -> EvictionHard {
    let defaults = || -> BTreeMap<String, String> {
        DEFAULT_DISK_EVICTION_HARD
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let Some(file) = config.filter(|f| f.error.is_none()) else {
        return EvictionHard {
            values: defaults(),
            source: "kubelet's defaults".into(),
        };
    };
    match &file.eviction_hard {
        None => EvictionHard {
            values: defaults(),
            source: format!("kubelet's defaults ({} sets no evictionHard)", file.path),
        },
        Some(given) if file.merge_default_eviction_settings == Some(true) => {
            let mut values = defaults();
            values.extend(given.iter().map(|(k, v)| (k.clone(), v.clone())));
            EvictionHard {
                values,
                source: format!(
                    "evictionHard in {} merged with kubelet's defaults (mergeDefaultEvictionSettings)",
                    file.path
                ),
            }
        }
        Some(given) => EvictionHard {
            values: given.clone(),
            source: format!(
                "evictionHard in {} (signals it leaves out have no threshold)",
                file.path
            ),
        },
    }
}

/// The threshold of `signal`: `Ok(None)` when there is none (left out, `0%` or `100%`), `Err` when
/// kubelet would refuse the value.
pub fn threshold(map: &EvictionHard, signal: &str) -> Result<Option<Threshold>, String> {
    let Some(written) = map.values.get(signal) else {
        return Ok(None);
    };
    let bad = || format!("evictionHard {signal}: {written:?} is not a percentage or a quantity");
    let value = if let Some(number) = written.strip_suffix('%') {
        if written == "0%" || written == "100%" {
            return Ok(None);
        }
        let p: f64 = number.parse().map_err(|_| bad())?;
        if !(0.0..=100.0).contains(&p) {
            return Err(bad());
        }
        ThresholdValue::Percent(p)
    } else {
        let q = parse_quantity(written).ok_or_else(bad)?;
        if q <= 0.0 {
            return Err(format!(
                "evictionHard {signal}: {written:?} must be positive"
            ));
        }
        ThresholdValue::Quantity(q)
    };
    Ok(Some(Threshold {
        written: written.clone(),
        value,
    }))
}

/// A Kubernetes quantity (`1Gi`, `500M`, `2e9`, `100`) as a number.
pub fn parse_quantity(text: &str) -> Option<f64> {
    const SUFFIXES: &[(&str, f64)] = &[
        ("Ki", 1024.0),
        ("Mi", 1048576.0),
        ("Gi", 1073741824.0),
        ("Ti", 1099511627776.0),
        ("Pi", 1125899906842624.0),
        ("Ei", 1152921504606846976.0),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("P", 1e15),
        ("E", 1e18),
        ("m", 1e-3),
    ];
    let text = text.trim();
    for (suffix, factor) in SUFFIXES {
        if let Some(number) = text.strip_suffix(suffix) {
            return plain_number(number).map(|n| n * factor);
        }
    }
    plain_number(text)
}

/// A signed decimal, optionally with a decimal exponent (`1.5`, `2e9`), as quantities allow.
fn plain_number(text: &str) -> Option<f64> {
    let ok = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '+' | '-' | 'e' | 'E'))
        && text.chars().next().is_some_and(|c| c != 'e' && c != 'E');
    ok.then(|| text.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(hard: Option<&[(&str, &str)]>, merge: Option<bool>) -> KubeletConfigFile {
        KubeletConfigFile {
            path: "/var/lib/kubelet/config.yaml".into(),
            eviction_hard: hard.map(|h| {
                h.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            }),
            merge_default_eviction_settings: merge,
            ..Default::default()
        }
    }

    #[test]
    fn a_partial_map_leaves_other_signals_unset_unless_merged() {
        let partial = [("memory.available", "200Mi"), ("nodefs.available", "1Gi")];
        let map = effective(Some(&file(Some(&partial), None)));
        assert_eq!(threshold(&map, "imagefs.available"), Ok(None));
        let nodefs = threshold(&map, "nodefs.available").unwrap().unwrap();
        assert_eq!(nodefs.value, ThresholdValue::Quantity(1073741824.0));
        assert_eq!(nodefs.percent_of(10 * 1073741824), 10.0);

        let merged = effective(Some(&file(Some(&partial), Some(true))));
        assert_eq!(
            threshold(&merged, "imagefs.available")
                .unwrap()
                .unwrap()
                .value,
            ThresholdValue::Percent(15.0)
        );
        assert_eq!(merged.values["nodefs.available"], "1Gi");
        assert!(merged.source.contains("mergeDefaultEvictionSettings"));

        for none in [None, Some(file(None, None))] {
            let map = effective(none.as_ref());
            assert_eq!(map.values["nodefs.available"], "10%", "{}", map.source);
        }
    }

    #[test]
    fn values_read_as_kubelet_reads_them() {
        let map = effective(Some(&file(
            Some(&[
                ("nodefs.available", "0%"),
                ("imagefs.available", "12.5%"),
                ("nodefs.inodesFree", "10k"),
                ("imagefs.inodesFree", "lots"),
            ]),
            None,
        )));
        assert_eq!(threshold(&map, "nodefs.available"), Ok(None));
        assert_eq!(
            threshold(&map, "imagefs.available").unwrap().unwrap().value,
            ThresholdValue::Percent(12.5)
        );
        assert_eq!(
            threshold(&map, "nodefs.inodesFree").unwrap().unwrap().value,
            ThresholdValue::Quantity(10000.0)
        );
        assert!(threshold(&map, "imagefs.inodesFree").is_err());
        assert_eq!(parse_quantity("2e9"), Some(2e9));
        assert_eq!(parse_quantity("500M"), Some(5e8));
        assert_eq!(parse_quantity("Gi"), None);
    }
}
