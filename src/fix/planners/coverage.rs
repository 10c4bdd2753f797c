//! The contract between the checks and the planners, held: on hosts that fail every fixable check,
//! every finding a check attaches is owned by exactly one planner and comes from a check ID that
//! planner lists; every planner, and every ID it lists, is met by some finding; the evidence carries
//! each finding's values; and docs/fix.md's planner table names every planner with its IDs, each
//! one a check ID docs/checks.md documents.

use std::collections::BTreeSet;

use super::{findings_to_fix, PLANNERS};
use crate::checks::id_contract::{covers, ids_in_docs};
use crate::checks::testing::{profile, run};
use crate::checks::{CheckResult, Phase};
use crate::facts::preflight::{OpenFiles, Preflight, UnitOpenFiles};
use crate::facts::Facts;

fn fixture(name: &str) -> Facts {
    let path = format!("{}/tests/fixtures/fix/{name}", env!("CARGO_MANIFEST_DIR"));
    crate::facts::load::parse_facts(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The fix tests' profile, with an older Calico when `calico` is given.
fn fix_profile(calico: Option<&str>) -> crate::profile::Profile {
    let path = format!(
        "{}/tests/fixtures/fix/profile.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    let text = match calico {
        Some(v) => text.replace("version: \"3.28.0\"", &format!("version: \"{v}\"")),
        None => text,
    };
    profile(&text)
}

/// The fix tests' profile with a `cni:` section.
fn with_cni(cni: &str) -> crate::profile::Profile {
    let path = format!(
        "{}/tests/fixtures/fix/profile.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    profile(&format!("{}{cni}", std::fs::read_to_string(path).unwrap()))
}

/// Low inotify and open-file limits, loose reverse-path filtering on `all`, `arp_ignore` 8, and units limited to
/// 4096 descriptors by a drop-in.
fn low_limits() -> Preflight {
    let sysctls = [
        ("fs.inotify.max_user_instances", "128"),
        ("fs.inotify.max_user_watches", "8192"),
        ("fs.file-max", "32768"),
        ("fs.nr_open", "1048576"),
        ("net.ipv4.conf.all.rp_filter", "2"),
        ("net.ipv4.conf.default.rp_filter", "2"),
        ("net.ipv4.conf.ens192.rp_filter", "2"),
        ("net.ipv4.conf.all.arp_ignore", "8"),
    ];
    let unit = |name: &str| UnitOpenFiles {
        unit: name.to_string(),
        installed: true,
        limit_nofile: Some("4096".to_string()),
        source: Some(format!("/etc/systemd/system/{name}.d/10-site.conf:2")),
    };
    Preflight {
        sysctls: sysctls
            .iter()
            .map(|(k, v)| (k.to_string(), Some(v.to_string())))
            .collect(),
        open_files: OpenFiles {
            units: vec![unit("kubelet.service"), unit("containerd.service")],
            ..Default::default()
        },
        ..Default::default()
    }
}

/// The pre-join results of hosts that between them fail every check `fix` can remedy.
fn failing_hosts() -> Vec<CheckResult> {
    let mut with_limits = fixture("worker-79.json");
    with_limits.preflight = Some(Box::new(low_limits()));
    [
        (fixture("worker-78.json"), fix_profile(None)),
        (fixture("worker-79.json"), fix_profile(None)),
        (with_limits, fix_profile(Some("3.11.3"))),
        // k3s and its embedded flannel both off the node network.
        (fixture("worker-78.json"), with_cni("cni:\n  k3s: {}\n")),
        // kubelet, flanneld pinned to the node NIC, and Antrea: they disagree.
        (
            fixture("worker-78.json"),
            with_cni("cni:\n  components: [kubelet, flannel, antrea]\n  flannel:\n    args: [\"--iface=ens192\"]\n  antrea: {}\n"),
        ),
    ]
    .iter()
    .flat_map(|(facts, profile)| run(facts, profile, Phase::PreJoin, &[], None, None))
    .collect()
}

#[test]
fn every_fixable_check_has_a_planner_and_every_planner_a_check() {
    let results = failing_hosts();
    let mut planners_met = BTreeSet::new();
    let mut ids_met = BTreeSet::new();
    for (r, finding) in findings_to_fix(&results) {
        let owners: Vec<&str> = PLANNERS
            .iter()
            .filter(|p| (p.owns)(finding))
            .map(|p| p.name)
            .collect();
        let [owner] = owners[..] else {
            panic!(
                "{}: {finding:?} is owned by {owners:?}, not by one planner",
                r.id
            );
        };
        let planner = PLANNERS.iter().find(|p| p.name == owner).unwrap();
        let pattern = planner
            .ids
            .iter()
            .find(|pattern| covers(pattern, &r.id))
            .unwrap_or_else(|| panic!("{} is not among the IDs planner {owner} lists", r.id));
        planners_met.insert(owner);
        ids_met.insert(*pattern);
        for (key, value) in finding.evidence() {
            assert_eq!(
                r.evidence.get(key),
                Some(&value),
                "{}: evidence {key}",
                r.id
            );
        }
    }
    for planner in PLANNERS {
        assert!(
            planners_met.contains(planner.name),
            "planner {} owns no finding of the failing hosts",
            planner.name
        );
        for id in planner.ids {
            assert!(
                ids_met.contains(id),
                "planner {} lists {id}, which no failing check met",
                planner.name
            );
        }
    }
}

#[test]
fn docs_name_every_planner_with_its_ids() {
    let text =
        std::fs::read_to_string(format!("{}/docs/fix.md", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let rows: Vec<(String, Vec<String>)> = text
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.strip_prefix('|')?.split('|').map(str::trim).collect();
            let file = cells
                .first()?
                .strip_prefix("`src/fix/planners/")?
                .strip_suffix(".rs`")?;
            let ids = cells
                .get(1)?
                .split(',')
                .map(|id| id.trim().trim_matches('`').replace("<subject>", "*"))
                .collect();
            Some((file.to_string(), ids))
        })
        .collect();
    let documented = ids_in_docs();
    for planner in PLANNERS {
        let Some((_, ids)) = rows.iter().find(|(file, _)| file == planner.name) else {
            panic!(
                "docs/fix.md's planner table lacks src/fix/planners/{}.rs",
                planner.name
            );
        };
        let listed: Vec<&str> = planner.ids.to_vec();
        assert_eq!(
            ids, &listed,
            "docs/fix.md's IDs for planner {}",
            planner.name
        );
        for id in planner.ids {
            assert!(
                documented.iter().any(|d| covers(d, id) || covers(id, d)),
                "planner {} lists {id}, which docs/checks.md does not document",
                planner.name
            );
        }
    }
    for (file, _) in &rows {
        assert!(
            PLANNERS.iter().any(|p| p.name == file),
            "docs/fix.md names a planner src/fix/planners/{file}.rs that does not exist"
        );
    }
}
