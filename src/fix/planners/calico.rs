//! Calico's autodetection method (`Calico-AutodetectionIPv4/IPv6`) is a cluster-wide setting of the
//! calico-node DaemonSet or the operator's Installation, not a host file: the plan lists it as a manual
//! cluster step with the commands `nodecheck calico` prints, and never runs kubectl.

use super::PlanInput;
use crate::checks::finding::Finding;
use crate::fix::plan::{ManualStep, Plan};

pub fn plan(input: &PlanInput, plan: &mut Plan) {
    let failing: Vec<&crate::checks::CheckResult> = input
        .findings()
        .filter(|(_, f)| matches!(f, Finding::CalicoMethod { .. }))
        .map(|(r, _)| r)
        .collect();
    if failing.is_empty() {
        return;
    }
    let mut commands = Vec::new();
    if let Some(advice) = input.calico {
        if let Some(k) = &advice.kubectl {
            commands.push(format!("# manifest install:\n{}", k.trim_end()));
        }
        if let Some(p) = &advice.operator_patch {
            commands.push(format!("# operator install:\n{}", p.trim_end()));
        }
    }
    for r in failing {
        plan.manual.push(ManualStep {
            fixes: vec![r.id.clone()],
            what: format!(
                "cluster-wide (once, not per node): {}",
                r.remediation.as_deref().unwrap_or(&r.message)
            ),
            commands: std::mem::take(&mut commands),
        });
    }
}
