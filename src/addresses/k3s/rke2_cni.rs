//! RKE2's `--cni` selection (`cni:` in config.yaml, repeatable, comma lists; `RKE2_CNI`), checked
//! as the RKE2 server command checks it (`pkg/cli/cmds/server.go` `validateCNI`): no value means
//! `canal`; one value, which may not be `multus`; two values only with `multus` first; each one
//! of `none` or the charts the release ships (`flannel` from v1.26.14, v1.27.11, v1.28.7 and
//! v1.29.2). A bad selection is RKE2's own fatal line, worded per release (v1.27.16, v1.28.12,
//! v1.29.7 and v1.30.3 reworded every one).

use crate::profile::cni::K3sVersion;

/// The primary CNI RKE2 deploys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rke2Cni {
    Canal,
    Calico,
    Cilium,
    Flannel,
    None,
}

impl Rke2Cni {
    fn from_value(value: &str) -> Option<Rke2Cni> {
        Some(match value {
            "canal" => Rke2Cni::Canal,
            "calico" => Rke2Cni::Calico,
            "cilium" => Rke2Cni::Cilium,
            "flannel" => Rke2Cni::Flannel,
            "none" => Rke2Cni::None,
            _ => return None,
        })
    }
}

/// What `--cni` selects: the primary CNI and whether Multus runs in front of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rke2CniChoice {
    pub cni: Rke2Cni,
    pub multus: bool,
}

/// Whether `version` words the `--cni` errors as `disableExceptSelected` does.
fn reworded(version: &K3sVersion) -> bool {
    match version.minor {
        0..=26 => false,
        27 => version.patch >= 16,
        28 => version.patch >= 12,
        29 => version.patch >= 7,
        30 => version.patch >= 3,
        _ => true,
    }
}

/// Whether `version` ships the rke2-flannel chart.
fn ships_flannel(version: &K3sVersion) -> bool {
    match version.minor {
        0..=25 => false,
        26 => version.patch >= 14,
        27 => version.patch >= 11,
        28 => version.patch >= 7,
        29 => version.patch >= 2,
        _ => true,
    }
}

/// The selection `values` (the `--cni` flag's values as given, before comma splitting) make on
/// `version`, or RKE2's fatal line.
pub fn select(values: &[String], version: &K3sVersion) -> Result<Rke2CniChoice, String> {
    let mut split: Vec<&str> = values.iter().flat_map(|v| v.split(',')).collect();
    let new = reworded(version);
    let (one_multus, multus_not_first, too_many) = if new {
        (
            "Failed to validate --cni flag: multus must be used alongside another primary cni selection",
            "Failed to validate --cni flag: may only provide multiple values if multus is the first value",
            "Failed to validate --cni flag: must specify 1 or 2 values",
        )
    } else {
        (
            "invalid value provided for --cni flag: multus must be used alongside another primary cni selection",
            "invalid values provided for --cni flag: may only provide multiple values if multus is the first value",
            "invalid values provided for --cni flag: may not provide more than two values",
        )
    };
    let multus = match split.len() {
        0 => {
            split.push("canal");
            false
        }
        1 if split[0] == "multus" => return Err(one_multus.into()),
        1 => false,
        2 if split[0] == "multus" => {
            split.remove(0);
            true
        }
        2 => return Err(multus_not_first.into()),
        _ => return Err(too_many.into()),
    };
    let mut valid = vec!["calico", "canal", "cilium"];
    if ships_flannel(version) {
        valid.push("flannel");
    }
    let value = split[0];
    let known = value == "none" || valid.contains(&value);
    match Rke2Cni::from_value(value).filter(|_| known) {
        Some(cni) => Ok(Rke2CniChoice { cni, multus }),
        None if new => Err(format!(
            "Invalid value {value} for --cni flag: must be one of {}",
            valid.join(",")
        )),
        None => Err("invalid value provided for --cni flag".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(values: &[&str], version: &str) -> Result<Rke2CniChoice, String> {
        let values: Vec<String> = values.iter().map(|s| s.to_string()).collect();
        select(&values, &version.parse().unwrap())
    }

    const NEW: &str = "v1.33.7+rke2r1";

    #[test]
    fn no_value_is_canal() {
        assert_eq!(
            pick(&[], NEW),
            Ok(Rke2CniChoice {
                cni: Rke2Cni::Canal,
                multus: false
            })
        );
    }

    #[test]
    fn multus_first_then_the_primary_in_a_comma_list_or_repeated() {
        let expected = Ok(Rke2CniChoice {
            cni: Rke2Cni::Cilium,
            multus: true,
        });
        assert_eq!(pick(&["multus,cilium"], NEW), expected);
        assert_eq!(pick(&["multus", "cilium"], NEW), expected);
        assert_eq!(pick(&["none"], NEW).unwrap().cni, Rke2Cni::None);
        assert_eq!(pick(&["flannel"], NEW).unwrap().cni, Rke2Cni::Flannel);
        assert_eq!(pick(&["calico"], NEW).unwrap().cni, Rke2Cni::Calico);
    }

    /// RKE2's own lines, per wording.
    #[test]
    fn bad_selections_are_rke2s_fatal_lines() {
        assert_eq!(
            pick(&["multus"], NEW).unwrap_err(),
            "Failed to validate --cni flag: multus must be used alongside another primary cni selection"
        );
        assert_eq!(
            pick(&["canal,multus"], NEW).unwrap_err(),
            "Failed to validate --cni flag: may only provide multiple values if multus is the first value"
        );
        assert_eq!(
            pick(&["multus", "canal", "calico"], NEW).unwrap_err(),
            "Failed to validate --cni flag: must specify 1 or 2 values"
        );
        assert_eq!(
            pick(&["weave"], NEW).unwrap_err(),
            "Invalid value weave for --cni flag: must be one of calico,canal,cilium,flannel"
        );
        assert_eq!(
            pick(&["multus"], "v1.30.2+rke2r1").unwrap_err(),
            "invalid value provided for --cni flag: multus must be used alongside another primary cni selection"
        );
        assert_eq!(
            pick(&["a,b,c"], "v1.29.6+rke2r1").unwrap_err(),
            "invalid values provided for --cni flag: may not provide more than two values"
        );
        assert_eq!(
            pick(&["weave"], "v1.28.11+rke2r1").unwrap_err(),
            "invalid value provided for --cni flag"
        );
    }

    /// The rke2-flannel chart arrived in v1.26.14, v1.27.11, v1.28.7 and v1.29.2.
    #[test]
    fn flannel_is_a_value_from_its_chart_on() {
        assert!(pick(&["flannel"], "v1.29.1+rke2r1").is_err());
        assert!(pick(&["flannel"], "v1.29.2+rke2r1").is_ok());
        assert!(pick(&["flannel"], "v1.26.13+rke2r1").is_err());
        assert!(pick(&["flannel"], "v1.26.14+rke2r1").is_ok());
        assert_eq!(
            pick(&["flannel"], "v1.27.16+rke2r1").map(|c| c.cni),
            Ok(Rke2Cni::Flannel)
        );
        assert_eq!(
            pick(&["flannel"], "v1.27.10+rke2r1").unwrap_err(),
            "invalid value provided for --cni flag"
        );
    }
}
