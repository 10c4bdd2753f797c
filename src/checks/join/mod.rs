//! The counterparts of `kubeadm join`'s own preflight checks (`cmd/kubeadm/app/preflight`), each with
//! a stable ID and kubeadm's name beside it in docs/checks.md, so an `--ignore-preflight-errors`
//! list maps onto `--skip`: files of an earlier join (`files`), the kubelet service and the proxy
//! environment of kubelet and containerd (`services`), cgroups and cgroup drivers (`cgroups`),
//! binaries, CPUs, memory and the clock (`host`), and the API server's reachability (`api_server`).

pub mod api_server;
pub mod cgroups;
pub mod files;
pub mod host;
pub mod services;

use super::{CheckResult, Context, Phase};

/// The checks on the `node_setup` facts run only when the facts hold that section: a snapshot
/// written before it existed is judged on the rest, without a row per missing fact.
pub fn evaluate(ctx: &Context) -> Vec<CheckResult> {
    let mut results = Vec::new();
    results.extend(api_server::evaluate(ctx));
    let Some(setup) = &ctx.facts.node_setup else {
        return results;
    };
    results.extend(files::evaluate(ctx, setup));
    results.extend(services::evaluate(ctx, setup));
    results.extend(cgroups::evaluate(ctx, setup));
    if ctx.phase == Phase::PreJoin {
        results.extend(host::binaries(ctx, setup));
        results.extend(host::resources(ctx, setup));
    }
    results.extend(host::clock(setup));
    results
}

/// `(major, minor)` of the profile's Kubernetes version.
pub fn target_minor(ctx: &Context) -> Option<(u32, u32)> {
    ctx.profile.kubernetes_version.as_ref().map(|v| (v.0, v.1))
}
