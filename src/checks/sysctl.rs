//! Sysctls Kubernetes networking needs (`net.ipv4.ip_forward`, `net.bridge.bridge-nf-call-*`) plus the
//! profile's, with their dependencies: absent `net.bridge.*` keys mean br_netfilter is not loaded, absent
//! `net.ipv6.*` keys mean IPv6 is off in the kernel.

use super::finding::Finding;
use super::{Area, CheckResult, Context};
use crate::facts::ModuleState;

const AREA: Area = Area::Sysctl;

pub fn evaluate(ctx: &Context) -> Vec<CheckResult> {
    ctx.profile
        .required_sysctls()
        .into_iter()
        .map(|(key, want)| one(ctx, key, want))
        .collect()
}

/// Sysctl values compare as words: `4096 87380 6291456` equals `4096\t87380  6291456`.
fn normalise(v: &str) -> String {
    v.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn persist(key: &str, want: &str) -> String {
    format!("`sysctl -w {key}={want}` and persist it in /etc/sysctl.d/99-kubernetes.conf")
}

fn one(ctx: &Context, key: &str, want: &str) -> CheckResult {
    let id = format!("Sysctl-{key}");
    let ev = |r: CheckResult, have: Option<&str>| {
        r.found(Finding::Sysctl {
            key: key.to_string(),
            want: want.to_string(),
            have: have.map(str::to_string),
        })
    };
    match ctx.facts.sysctls.get(key) {
        None => ev(
            CheckResult::skip(&id, AREA, format!("{key} was not gathered in this snapshot")),
            None,
        ),
        Some(None) if key.starts_with("net.bridge.") => {
            let module = ctx.facts.modules.state.get("br_netfilter").copied();
            let state = match module {
                Some(ModuleState::Available) => " (the module is available but not loaded)",
                Some(ModuleState::Missing) => " (and the module is missing for this kernel)",
                _ => "",
            };
            ev(
                CheckResult::fail(
                    &id,
                    AREA,
                    format!("br_netfilter not loaded{state}: {key} does not exist until it is"),
                ),
                None,
            )
            .with("depends_on", "Module-br_netfilter")
            .fix(format!(
                "`modprobe br_netfilter` and add br_netfilter to /etc/modules-load.d/k8s.conf; then {}",
                persist(key, want)
            ))
        }
        Some(None) if key.starts_with("net.ipv6.") && ctx.facts.ipv6.kernel_off() => ev(
            CheckResult::fail(
                &id,
                AREA,
                format!(
                    "IPv6 is off in the kernel{}, so {key} does not exist",
                    if ctx.facts.ipv6.disabled_on_cmdline { " (ipv6.disable=1)" } else { "" }
                ),
            ),
            None,
        )
        .with("depends_on", "IPv6-State")
        .fix("enable IPv6 in the kernel (remove ipv6.disable=1 from the kernel command line) or drop this key from the profile"),
        Some(None) => ev(
            CheckResult::fail(&id, AREA, format!("{key} does not exist on this kernel")),
            None,
        )
        .fix("load the module that provides it, or remove it from the profile's sysctls"),
        Some(Some(have)) if normalise(have) == normalise(want) => ev(
            CheckResult::ok(&id, AREA, format!("{key} = {}", normalise(have))),
            Some(have),
        ),
        Some(Some(have)) => ev(
            CheckResult::fail(&id, AREA, format!("{key} is {}, expected {want}", normalise(have))),
            Some(have),
        )
        .fix(persist(key, want)),
    }
}
