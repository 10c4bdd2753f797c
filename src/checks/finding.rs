//! Findings: what a check that `nodecheck fix` can remedy found, in typed values. A fixable check
//! attaches one to its result ([`CheckResult::found`]); the planners in `fix/planners/` read it
//! instead of the check's ID or its JSON evidence. The evidence keys that carry a finding's values
//! are written from the finding itself ([`Finding::evidence`]), so the two cannot disagree.
//!
//! A finding is attached whatever the status; planners read it only from checks that failed or
//! warned. A check that `fix` cannot remedy attaches none.

use std::net::IpAddr;

use serde_json::Value;

use super::CheckResult;
use crate::facts::{Family, ModuleState};

/// One sysctl setting a finding asks for: `key` should be `want`; `have` is its value now (`None`
/// when the key does not exist on this kernel).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SysctlSetting {
    pub key: String,
    pub want: String,
    pub have: Option<String>,
}

/// What a fixable check found.
#[derive(Debug, Clone, PartialEq)]
pub enum Finding {
    /// `Sysctl-*`: `key` should be `want`; `have` is `None` when the key does not exist.
    Sysctl {
        key: String,
        want: String,
        have: Option<String>,
    },
    /// `Inotify-*`: `key` should be at least `minimum`.
    SysctlMinimum {
        key: String,
        minimum: u64,
        have: Option<String>,
    },
    /// `RpFilter-Node`: `net.ipv4.conf.all.rp_filter` is `all` and the node NIC's is `nic_value`;
    /// the kernel applies the larger. The remedy sets `all` to `want_all` and, when given, the NIC's
    /// to `want_nic`.
    RpFilter {
        all: Option<u8>,
        nic: Option<String>,
        nic_value: Option<u8>,
        want_all: Option<u8>,
        want_nic: Option<u8>,
    },
    /// `Arp-Node`: `net.ipv4.conf.all.arp_ignore` is `all` and the node NIC's `nic_value` (the
    /// kernel applies the larger); the remedy sets both to `want` when given.
    ArpIgnore {
        all: Option<u8>,
        nic: Option<String>,
        nic_value: Option<u8>,
        want: Option<u8>,
    },
    /// `OpenFiles-System`: `fs.file-max` and `fs.nr_open`, each wanted at `want` when below `minimum`.
    SystemOpenFiles {
        file_max: Option<u64>,
        nr_open: Option<u64>,
        minimum: u64,
        want: u64,
    },
    /// `OpenFiles-<service>`: the unit gets `LimitNOFILE=limit_nofile` from `source` (`FILE:LINE`, or
    /// a description of systemd's default); it should get `want`.
    UnitOpenFiles {
        unit: String,
        limit_nofile: String,
        source: String,
        want: u64,
    },
    /// `Module-*`: the module and its state (`None` when not gathered).
    Module {
        name: String,
        state: Option<ModuleState>,
    },
    /// `NodeNic-Present`: the NIC the profile names (`expected`, as the profile describes it) is
    /// missing and the node network is on `interface`.
    NicName { expected: String, interface: String },
    /// `Kubelet-NodeIP`: kubelet would register a wrong (or no) InternalIP; `addresses` are the node
    /// NIC's node-network addresses to pin (one per family, empty when it has none).
    NodeIp { addresses: Vec<IpAddr> },
    /// `Address-Consensus`, `K3s-NodeIP`, `Flannel-Interface`: a component of the address stack
    /// would not take the node network's address (or they disagree). The values are the models'
    /// own: the consensus planner runs them again, on the host and on the planned state.
    AddressStack,
    /// `Swap`: swap is on, on these devices.
    Swap { devices: Vec<String> },
    /// `BridgeOverlap-<bridge>` of one of Docker's bridges: its subnets clash with the cluster's.
    DockerBridge { interface: String },
    /// `NetworkManager-Calico`: NetworkManager would manage Calico's devices.
    NetworkManagerCalico { running: bool },
    /// `Calico-AutodetectionIPv4/IPv6`: calico-node's method for this family picks a wrong address.
    CalicoMethod { family: Family, method: String },
}

impl Finding {
    /// The evidence entries that carry this finding's values, under the keys the check's JSON has
    /// always used.
    pub fn evidence(&self) -> Vec<(&'static str, Value)> {
        fn opt<T: Into<Value>>(v: Option<T>) -> Value {
            v.map_or(Value::Null, Into::into)
        }
        match self {
            Finding::Sysctl { key, want, have } => vec![
                ("key", key.as_str().into()),
                ("expected", want.as_str().into()),
                ("value", opt(have.clone())),
            ],
            Finding::SysctlMinimum { key, minimum, have } => vec![
                ("key", key.as_str().into()),
                ("value", opt(have.clone())),
                ("minimum", (*minimum).into()),
            ],
            Finding::RpFilter {
                all,
                nic,
                nic_value,
                ..
            } => vec![
                ("all", opt(*all)),
                ("nic", opt(nic.clone())),
                ("nic_value", opt(*nic_value)),
            ],
            Finding::ArpIgnore {
                all,
                nic,
                nic_value,
                ..
            } => vec![
                ("arp_ignore_all", opt(*all)),
                ("arp_ignore_nic", opt(*nic_value)),
                ("nic", opt(nic.clone())),
            ],
            Finding::SystemOpenFiles {
                file_max, nr_open, ..
            } => vec![("file_max", opt(*file_max)), ("nr_open", opt(*nr_open))],
            Finding::UnitOpenFiles {
                unit,
                limit_nofile,
                source,
                ..
            } => vec![
                ("unit", unit.as_str().into()),
                ("limit_nofile", limit_nofile.as_str().into()),
                ("source", source.as_str().into()),
            ],
            Finding::Module { name, state } => vec![
                ("module", name.as_str().into()),
                (
                    "state",
                    state.map_or(Value::Null, |s| serde_json::to_value(s).unwrap_or_default()),
                ),
            ],
            Finding::NicName {
                expected,
                interface,
            } => vec![
                ("expected", expected.as_str().into()),
                ("interface", interface.as_str().into()),
            ],
            Finding::NodeIp { .. } | Finding::AddressStack => Vec::new(),
            Finding::Swap { devices } => vec![("devices", devices.clone().into())],
            Finding::DockerBridge { interface } => vec![("interface", interface.as_str().into())],
            Finding::NetworkManagerCalico { running } => vec![("running", (*running).into())],
            Finding::CalicoMethod { method, .. } => vec![("method", method.as_str().into())],
        }
    }

    /// The sysctl settings this finding asks for (empty for findings that are not about sysctls).
    pub fn sysctl_settings(&self) -> Vec<SysctlSetting> {
        let setting = |key: &str, want: String, have: Option<String>| SysctlSetting {
            key: key.to_string(),
            want,
            have,
        };
        match self {
            Finding::Sysctl { key, want, have } => vec![setting(key, want.clone(), have.clone())],
            Finding::SysctlMinimum { key, minimum, have } => {
                vec![setting(key, minimum.to_string(), have.clone())]
            }
            Finding::RpFilter {
                all,
                nic,
                nic_value,
                want_all,
                want_nic,
            } => {
                let mut out = Vec::new();
                if let Some(want) = want_all {
                    out.push(setting(
                        "net.ipv4.conf.all.rp_filter",
                        want.to_string(),
                        all.map(|v| v.to_string()),
                    ));
                }
                if let (Some(nic), Some(want)) = (nic, want_nic) {
                    out.push(setting(
                        &format!("net.ipv4.conf.{nic}.rp_filter"),
                        want.to_string(),
                        nic_value.map(|v| v.to_string()),
                    ));
                }
                out
            }
            Finding::ArpIgnore {
                all,
                nic,
                nic_value,
                want: Some(want),
            } => {
                let mut out = vec![setting(
                    "net.ipv4.conf.all.arp_ignore",
                    want.to_string(),
                    all.map(|v| v.to_string()),
                )];
                if let Some(nic) = nic {
                    out.push(setting(
                        &format!("net.ipv4.conf.{nic}.arp_ignore"),
                        want.to_string(),
                        nic_value.map(|v| v.to_string()),
                    ));
                }
                out
            }
            Finding::SystemOpenFiles {
                file_max,
                nr_open,
                minimum,
                want,
            } => [("fs.file-max", file_max), ("fs.nr_open", nr_open)]
                .into_iter()
                .filter(|(_, have)| have.is_some_and(|v| v < *minimum))
                .map(|(key, have)| setting(key, want.to_string(), have.map(|v| v.to_string())))
                .collect(),
            _ => Vec::new(),
        }
    }
}

impl CheckResult {
    /// Attaches what the check found, for `fix`, and writes the evidence entries that carry its
    /// values (a key the check already wrote is replaced in place, so the JSON keeps its order).
    pub fn found(mut self, finding: Finding) -> Self {
        for (key, value) in finding.evidence() {
            self.evidence.insert(key.to_string(), value);
        }
        self.finding = Some(finding);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Area;

    #[test]
    fn found_replaces_evidence_in_place_and_keeps_the_order() {
        let r = CheckResult::fail("Sysctl-x", Area::Sysctl, "m")
            .with("key", "stale")
            .with("other", 1)
            .found(Finding::Sysctl {
                key: "x".into(),
                want: "1".into(),
                have: Some("0".into()),
            });
        let keys: Vec<&str> = r.evidence.keys().map(String::as_str).collect();
        assert_eq!(keys, ["key", "other", "expected", "value"]);
        assert_eq!(r.evidence["key"], "x");
    }

    #[test]
    fn rp_filter_asks_for_all_and_the_nic() {
        let f = Finding::RpFilter {
            all: Some(1),
            nic: Some("eth0".into()),
            nic_value: Some(1),
            want_all: Some(1),
            want_nic: Some(2),
        };
        let keys: Vec<(String, String)> = f
            .sysctl_settings()
            .into_iter()
            .map(|s| (s.key, s.want))
            .collect();
        assert_eq!(
            keys,
            [
                ("net.ipv4.conf.all.rp_filter".into(), "1".into()),
                ("net.ipv4.conf.eth0.rp_filter".into(), "2".into())
            ]
        );
        let low = Finding::SystemOpenFiles {
            file_max: Some(9_000_000),
            nr_open: Some(1024),
            minimum: 65536,
            want: 1048576,
        };
        assert_eq!(low.sysctl_settings().len(), 1);
        assert_eq!(low.sysctl_settings()[0].key, "fs.nr_open");
    }
}
