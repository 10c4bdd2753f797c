//! Swap against the profile's policy (kubelet refuses to start with swap on unless told otherwise).

use super::finding::Finding;
use super::{Area, CheckResult, Context};
use crate::profile::SwapPolicy;

const ID: &str = "Swap";
const AREA: Area = Area::Swap;

pub fn evaluate(ctx: &Context) -> Vec<CheckResult> {
    let swap = &ctx.facts.swap;
    let on = swap.total_kib > 0 || !swap.devices.is_empty();
    let r = match (ctx.profile.swap, on) {
        (_, false) => CheckResult::ok(ID, AREA, "swap is off"),
        (SwapPolicy::Allowed, true) => CheckResult::ok(
            ID,
            AREA,
            format!("swap is on ({} KiB on {}), which the profile allows", swap.total_kib, swap.devices.join(", ")),
        ),
        (SwapPolicy::Off, true) => CheckResult::fail(
            ID,
            AREA,
            format!(
                "swap is on: {} KiB on {} ({} KiB used); kubelet refuses to start with swap unless failSwapOn is false",
                swap.total_kib,
                if swap.devices.is_empty() { "(unknown devices)".to_string() } else { swap.devices.join(", ") },
                swap.used_kib
            ),
        )
        .fix("`swapoff -a` and remove the swap entries from /etc/fstab (and `systemctl mask` any swap units), or set swap: allowed with kubelet's NodeSwap configured"),
    };
    vec![r
        .with("total_kib", swap.total_kib)
        .with("used_kib", swap.used_kib)
        .found(Finding::Swap {
            devices: swap.devices.clone(),
        })]
}
