//! Cilium's device selection per generation, each rejection with the reason Cilium gives:
//! `isSelectedDevice`'s `NotSelectedReason` from 1.16, the debug log line of 1.14's
//! `isViableDevice` and 1.15's `isSelectedDevice` before that. Pure: the links come from
//! [`super::device::devices`].

use super::device::{DeviceView, IFF_LOOPBACK, IFF_SLAVE, IFF_UP};
use super::filter::{DeviceFilter, FilterMatch};
use super::generation::Generation;

/// What Cilium decided for one link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub name: String,
    pub index: u32,
    pub selected: bool,
    /// Cilium's reason when not selected (`bridge-like device, use --devices to override`).
    pub reason: Option<String>,
}

/// The settings selection reads.
#[derive(Debug, Clone)]
pub struct SelectionConfig {
    pub generation: Generation,
    pub devices: DeviceFilter,
    pub force_device_detection: bool,
    /// The kernel runs BPF host routing for L3 devices (`bpf_skb_change_head` for `sched_cls`:
    /// Linux 5.8 and later).
    pub l3_supported: bool,
}

/// Every link's verdict in ifindex order, or 1.14's fatal wildcard expansion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub verdicts: Vec<Verdict>,
    pub fatal: Option<String>,
}

impl Selection {
    pub fn selected(&self) -> impl Iterator<Item = &Verdict> {
        self.verdicts.iter().filter(|v| v.selected)
    }
}

const BRIDGE_LIKE: &[&str] = &["bridge", "openvswitch"];
const EXCLUDED_FLAGS: u32 = IFF_SLAVE | IFF_LOOPBACK;

fn excluded_prefix(generation: Generation, name: &str) -> Option<&'static str> {
    generation
        .excluded_prefixes()
        .iter()
        .copied()
        .find(|p| name.starts_with(p))
}

/// 1.16 to 1.18 and (with the filter first) 1.19: `isSelectedDevice`.
fn modern(d: &DeviceView, cfg: &SelectionConfig) -> Result<(), String> {
    let filter = &cfg.devices;
    let filter_first = cfg.generation >= Generation::V1_19;
    let check_filter = || -> Option<Result<(), String>> {
        if !filter.non_empty() {
            return None;
        }
        match filter.check(d.name(), cfg.generation.has_exclusions()) {
            FilterMatch::Chosen => Some(Ok(())),
            FilterMatch::Excluded => Some(Err(format!(
                "excluded by user filter {}",
                filter.go_display()
            ))),
            FilterMatch::NoMatch if !cfg.force_device_detection => Some(Err(format!(
                "not matching user filter {}",
                filter.go_display()
            ))),
            FilterMatch::NoMatch => None,
        }
    };
    if filter_first {
        if let Some(r) = check_filter() {
            return r;
        }
    }
    if d.iface.addresses.is_empty() {
        return Err("device has no addresses".into());
    }
    if d.raw_flags & IFF_UP == 0 {
        return Err(format!(
            "missing required flag (mask=0x{IFF_UP:x}, flags=0x{:x})",
            d.raw_flags
        ));
    }
    if !filter_first {
        if let Some(r) = check_filter() {
            return r;
        }
    }
    if d.raw_flags & EXCLUDED_FLAGS != 0 {
        return Err(format!(
            "excluded flag set (mask=0x{EXCLUDED_FLAGS:x}, flags=0x{:x})",
            d.raw_flags
        ));
    }
    if d.master_index != 0 {
        return Err(format!("bridged or bonded to ifindex {}", d.master_index));
    }
    if !cfg.l3_supported && !d.has_mac {
        return Err("L3 device, kernel too old, >= 5.8 required".into());
    }
    if let Some(p) = excluded_prefix(cfg.generation, d.name()) {
        return Err(format!("excluded prefix \"{p}\""));
    }
    if d.is_kind(&["veth"]) && !filter.non_empty() && !d.has_default_route {
        return Err("veth without default route".into());
    }
    if d.is_kind(BRIDGE_LIKE) {
        return Err("bridge-like device, use --devices to override".into());
    }
    if d.global_route.is_none() {
        return Err("no global unicast routes".into());
    }
    Ok(())
}

/// 1.15: `isSelectedDevice` returning a bool, its reasons in debug log lines.
fn v1_15(d: &DeviceView, cfg: &SelectionConfig) -> Result<(), String> {
    let filter = &cfg.devices;
    if d.raw_flags & EXCLUDED_FLAGS != 0 {
        return Err(format!(
            "Not selecting device as it has an excluded flag set (mask=0x{EXCLUDED_FLAGS:x}, flags=0x{:x})",
            d.raw_flags
        ));
    }
    if d.raw_flags & IFF_UP == 0 {
        return Err(format!(
            "Not selecting device as it is missing required flag (mask=0x{IFF_UP:x}, flags=0x{:x})",
            d.raw_flags
        ));
    }
    if d.master_index != 0 {
        return Err(format!(
            "Not selecting enslaved device (master {})",
            d.master_index
        ));
    }
    if !cfg.l3_supported && !d.has_mac {
        return Err("Not selecting L3 device; >= 5.8 kernel is required.".into());
    }
    if filter.non_empty() {
        return match filter.check(d.name(), false) {
            FilterMatch::Chosen => Ok(()),
            _ => Err("Not selecting non-matching device".into()),
        };
    }
    if let Some(p) = excluded_prefix(cfg.generation, d.name()) {
        return Err(format!(
            "Not selecting device as it has excluded prefix '{p}'"
        ));
    }
    if d.is_kind(&["veth"]) && !d.has_default_route {
        return Err("Not selecting veth device as it has no default route".into());
    }
    if d.is_kind(BRIDGE_LIKE) {
        return Err("Not selecting bridge-like device".into());
    }
    if d.global_route.is_none() {
        return Err("Not selecting device as it has no global unicast routes".into());
    }
    Ok(())
}

/// 1.14: `isViableDevice` for the links of the main table's global-unicast and default routes.
fn v1_14(d: &DeviceView, cfg: &SelectionConfig) -> Result<(), String> {
    if !d.in_main_routes {
        return Err("no global unicast or default route (not considered)".into());
    }
    if let Some(p) = excluded_prefix(cfg.generation, d.name()) {
        return Err(format!("Skipping device as it has excluded prefix '{p}'"));
    }
    if d.raw_flags & EXCLUDED_FLAGS != 0 {
        return Err(format!(
            "Skipping device as it has excluded flag ({:x})",
            d.raw_flags
        ));
    }
    if !cfg.l3_supported && !d.has_mac {
        return Err("Ignoring L3 device; >= 5.8 kernel is required.".into());
    }
    if d.is_kind(&["veth"]) && !d.has_default_route {
        return Err("Ignoring veth device as it has no default route".into());
    }
    if d.is_kind(BRIDGE_LIKE) {
        return Err("Ignoring bridge-like device".into());
    }
    match d.master_kind {
        Some("bridge" | "openvswitch") => Err("Ignoring device attached to bridge".into()),
        Some("bond" | "team") => Err("Ignoring bonded device".into()),
        _ => Ok(()),
    }
}

/// 1.14 with `--devices`: the list as given, `+` entries expanded over every link.
fn v1_14_given(devices: &[DeviceView], filter: &DeviceFilter) -> Selection {
    let chosen = |name: &str| {
        filter.entries.iter().any(|e| {
            if e.ends_with('+') {
                name.starts_with(e.trim_end_matches('+'))
            } else {
                name == e
            }
        })
    };
    let verdicts: Vec<Verdict> = devices
        .iter()
        .map(|d| {
            let selected = chosen(d.name());
            Verdict {
                name: d.name().to_string(),
                index: d.iface.index,
                selected,
                reason: (!selected).then(|| format!("not in --devices {}", filter.go_display())),
            }
        })
        .collect();
    let fatal = (!verdicts.iter().any(|v| v.selected)
        && filter.entries.iter().all(|e| e.ends_with('+')))
    .then(|| {
        "device wildcard expansion failed to detect devices. Please verify --devices option."
            .to_string()
    });
    Selection { verdicts, fatal }
}

/// Every link's verdict.
pub fn select(devices: &[DeviceView], cfg: &SelectionConfig) -> Selection {
    if cfg.generation == Generation::V1_14 && cfg.devices.non_empty() {
        return v1_14_given(devices, &cfg.devices);
    }
    let verdicts = devices
        .iter()
        .map(|d| {
            let outcome = match cfg.generation {
                Generation::V1_14 => v1_14(d, cfg),
                Generation::V1_15 => v1_15(d, cfg),
                Generation::V1_16 | Generation::V1_19 => modern(d, cfg),
            };
            Verdict {
                name: d.name().to_string(),
                index: d.iface.index,
                selected: outcome.is_ok(),
                reason: outcome.err(),
            }
        })
        .collect();
    Selection {
        verdicts,
        fatal: None,
    }
}
