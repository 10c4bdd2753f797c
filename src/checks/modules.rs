//! Kernel modules Kubernetes networking needs (br_netfilter, overlay) plus the profile's list.

use super::finding::Finding;
use super::{Area, CheckResult, Context};
use crate::facts::ModuleState;

const AREA: Area = Area::Modules;

pub fn evaluate(ctx: &Context) -> Vec<CheckResult> {
    ctx.profile
        .required_modules()
        .into_iter()
        .map(|m| one(ctx, m))
        .collect()
}

fn one(ctx: &Context, module: &str) -> CheckResult {
    let id = format!("Module-{module}");
    let release = &ctx.facts.host.kernel_release;
    let load = format!("`modprobe {module}` and add {module} to /etc/modules-load.d/k8s.conf");
    let state = ctx.facts.modules.state.get(module).copied();
    let r = match state {
        Some(ModuleState::Loaded) => CheckResult::ok(&id, AREA, format!("{module} is loaded")),
        Some(ModuleState::Builtin) => CheckResult::ok(&id, AREA, format!("{module} is built into kernel {release}")),
        Some(ModuleState::Available) => CheckResult::fail(&id, AREA, format!("{module} is available but not loaded"))
            .fix(load),
        Some(ModuleState::Missing) => CheckResult::fail(
            &id,
            AREA,
            format!("{module} is neither loaded, built in, nor installed for kernel {release}"),
        )
        .fix(format!("install the kernel's extra modules package (e.g. linux-modules-extra-{release}), then {load}")),
        Some(ModuleState::Unknown) => CheckResult::warn(
            &id,
            AREA,
            format!(
                "cannot tell whether {module} is available: no /lib/modules ({})",
                if ctx.facts.modules.sources.is_empty() { "no module sources readable".to_string() } else { ctx.facts.modules.sources.join("; ") }
            ),
        )
        .fix(format!("run nodecheck on the host itself (not in a container without /lib/modules), or check `lsmod | grep {module}`")),
        None => CheckResult::skip(&id, AREA, format!("{module} was not gathered in this snapshot")),
    };
    r.found(Finding::Module {
        name: module.to_string(),
        state,
    })
}
