//! The Calico step `fix` cannot take itself: when a Calico autodetection check did not pass, the
//! `nodecheck calico` commands (kubectl patch, operator patch) for the cluster-wide change.

use crate::checks::CheckResult;
use crate::commands::inputs::calico::{calico_version, report as calico_report};
use crate::commands::inputs::Inputs;
use crate::fix::planners::{self, CalicoAdvice};

/// The `nodecheck calico` commands for the manual cluster step, when a Calico check did not pass.
pub fn calico_advice(inputs: &Inputs, results: &[CheckResult]) -> Option<CalicoAdvice> {
    let needed = planners::findings_to_fix(results)
        .any(|(_, f)| matches!(f, crate::checks::finding::Finding::CalicoMethod { .. }));
    if !needed {
        return None;
    }
    let version = calico_version(None, &inputs.profile).ok()?;
    let report = calico_report(inputs, version, &inputs.profile.calico.families, None);
    if !report.all_recommended() {
        return Some(CalicoAdvice::default());
    }
    Some(CalicoAdvice {
        kubectl: Some(crate::report::calico_formats::kubectl_command(&report)),
        operator_patch: crate::report::calico_formats::operator_patch(&report).ok(),
    })
}
