//! The proof after `fix --apply`: on the live host the checks judged again on fresh facts (before →
//! after for every check the run touched); under `--root` the files planned again, which must leave
//! nothing to write.

use std::path::Path;

use super::read_state;
use crate::checks::{CheckResult, Phase};
use crate::cli::FixArgs;
use crate::commands::inputs::Inputs;
use crate::fix::planners::{self, CalicoAdvice, PlanInput};
use crate::fix::render;
use crate::fix::render_apply::Proof;

/// Proof after applying: on the live host the checks run again on fresh facts (before → after per
/// check the run touched); under `--root` the files are planned again, which must find nothing left.
pub fn proof(
    args: &FixArgs,
    root: &Path,
    live: bool,
    inputs: &Inputs,
    before: &[CheckResult],
    calico: Option<&CalicoAdvice>,
) -> Proof {
    let profile = &inputs.profile;
    let ids = {
        let mut ids: Vec<String> = Vec::new();
        for r in before {
            if !ids.contains(&r.id) {
                ids.push(r.id.clone());
            }
        }
        ids
    };
    if live && args.facts.is_none() {
        match crate::commands::facts_for_profile(
            None,
            &crate::host_root::HostRoot::live(),
            &args.kubelet,
            Some(profile),
        ) {
            Ok(facts) => {
                let ctx = inputs.context_of(&facts, Phase::PreJoin, None, None);
                let after = inputs.judge(&ctx, &args.skip);
                return Proof::Checks(render::proof_lines(&ids, before, &after));
            }
            Err(e) => return Proof::Unavailable(format!("cannot gather facts again: {e:#}")),
        }
    }
    let facts = match crate::commands::facts_from(
        args.facts.as_deref(),
        &crate::host_root::HostRoot::live(),
        &args.kubelet,
    ) {
        Ok(f) => f,
        Err(e) => return Proof::Unavailable(format!("{e:#}")),
    };
    let state = read_state(root, live, profile, before, &facts);
    let again = planners::plan(&PlanInput {
        results: before,
        facts: &facts,
        profile,
        peers: &inputs.peer_set.peers,
        host: &state,
        calico,
        force: args.force,
    });
    Proof::Replanned(
        again
            .changes
            .iter()
            .filter(|c| !c.target.is_live())
            .map(|c| c.target.subject())
            .collect(),
    )
}
