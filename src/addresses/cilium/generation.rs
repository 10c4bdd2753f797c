//! Cilium's device-selection code by release generation: which code decides (1.14's route-driven
//! `DeviceManager`; from 1.15 the devices controller's `isSelectedDevice`), the excluded name
//! prefixes, and what each generation added (`--force-device-detection` in 1.16, `!` exclusions in
//! `--devices` and the filter ahead of the address and up checks in 1.19).

use crate::profile::cni::CiliumVersion;

/// One generation of Cilium's device selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Generation {
    /// 1.14: `DeviceManager.Detect` walks the global-unicast routes; `--devices` is taken as
    /// given (wildcards expanded); the Kubernetes node IP's device is always added when the
    /// direct-routing device is detected.
    V1_14,
    /// 1.15: the devices controller; reasons only as debug log lines; a `--devices` match selects
    /// before the prefix, veth, bridge and route checks but after the flag, master and L3 checks.
    V1_15,
    /// 1.16 to 1.18: `isSelectedDevice` with `NotSelectedReason`; `--force-device-detection`.
    V1_16,
    /// 1.19 and later: the `--devices` filter decides first, with `!` exclusions.
    V1_19,
}

impl Generation {
    pub fn of(version: CiliumVersion) -> Generation {
        match version.minor {
            ..=14 => Generation::V1_14,
            15 => Generation::V1_15,
            16..=18 => Generation::V1_16,
            _ => Generation::V1_19,
        }
    }

    /// How the documentation and the trace name it.
    pub fn label(self) -> &'static str {
        match self {
            Generation::V1_14 => "1.14",
            Generation::V1_15 => "1.15",
            Generation::V1_16 => "1.16-1.18",
            Generation::V1_19 => "1.19+",
        }
    }

    /// The name prefixes never auto-selected: 1.14's list in `devices.go`, later
    /// `defaults.ExcludedDevicePrefixes`.
    pub fn excluded_prefixes(self) -> &'static [&'static str] {
        &["cilium_", "lo", "lxc", "cni", "docker"]
    }

    /// `--force-device-detection` exists (1.16 and later).
    pub fn has_force_detection(self) -> bool {
        self >= Generation::V1_16
    }

    /// `--devices` entries starting with `!` exclude (1.19 and later).
    pub fn has_exclusions(self) -> bool {
        self >= Generation::V1_19
    }
}
