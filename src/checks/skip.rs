//! The skip list (`--skip` and the profile's `skip:`) and `fix --only`: which check IDs an entry names
//! (exact, case-insensitive, or a `prefix*`), applied after evaluation so that a skipped check is still
//! listed, as skipped. Every command that judges checks applies it the same way.

use std::collections::HashSet;

use super::{CheckResult, Status};

/// The skip list, normalised once: exact IDs in a set, `prefix*` entries apart. Matching a result is
/// one lookup plus one comparison per prefix entry, so a skip list of any length costs time linear in
/// its length (a quadratic scan made 100,000 entries take seconds). `fix --only` matches the same way.
pub struct SkipList {
    exact: HashSet<String>,
    prefixes: Vec<String>,
}

impl SkipList {
    pub fn new(skips: &[String]) -> SkipList {
        let mut list = SkipList {
            exact: Default::default(),
            prefixes: Vec::new(),
        };
        let mut seen_prefixes = HashSet::new();
        for s in skips {
            let s = s.trim().to_ascii_lowercase();
            match s.strip_suffix('*') {
                Some(prefix) if seen_prefixes.insert(prefix.to_string()) => {
                    list.prefixes.push(prefix.to_string());
                }
                Some(_) => {}
                None if !s.is_empty() => {
                    list.exact.insert(s);
                }
                None => {}
            }
        }
        list
    }

    pub fn matches(&self, id: &str) -> bool {
        let id = id.to_ascii_lowercase();
        self.exact.contains(&id) || self.prefixes.iter().any(|p| id.starts_with(p.as_str()))
    }
}

/// Marks every result whose ID is in the skip list (exact, case-insensitive, or a `prefix*`) as skipped.
pub fn apply_skips(results: &mut [CheckResult], skips: &[String]) {
    let list = SkipList::new(skips);
    for r in results.iter_mut() {
        if r.status != Status::Skip && list.matches(&r.id) {
            *r = r.skipped_by_list();
        }
    }
}

/// Skip-list entries that match none of the results: usually a typo, or a check of another phase.
/// Each entry is named once, in the order given.
pub fn unmatched_skips(results: &[CheckResult], skips: &[String]) -> Vec<String> {
    let ids: HashSet<String> = results.iter().map(|r| r.id.to_ascii_lowercase()).collect();
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for s in skips {
        let s = s.trim();
        let key = s.to_ascii_lowercase();
        if s.is_empty() || !seen.insert(key.clone()) {
            continue;
        }
        let matched = match key.strip_suffix('*') {
            Some(prefix) => ids.iter().any(|id| id.starts_with(prefix)),
            None => ids.contains(&key),
        };
        if !matched {
            out.push(s.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(id: &str) -> CheckResult {
        CheckResult::new(id, crate::checks::Area::Host, Status::Fail, "broken")
    }

    #[test]
    fn skip_entries_match_exactly_case_insensitively_or_by_prefix() {
        let mut results = vec![
            result("Swap-Off"),
            result("Sysctl-net.ipv4.ip_forward"),
            result("Mtu"),
        ];
        let skips = vec![
            "swap-off".to_string(),
            "Sysctl-*".into(),
            "Nope".into(),
            "nope".into(),
        ];
        apply_skips(&mut results, &skips);
        let statuses: Vec<Status> = results.iter().map(|r| r.status).collect();
        assert_eq!(statuses, [Status::Skip, Status::Skip, Status::Fail]);
        assert_eq!(unmatched_skips(&results, &skips), ["Nope"]);
    }

    #[test]
    fn a_huge_skip_list_costs_linear_time() {
        let mut results: Vec<CheckResult> =
            (0..60).map(|i| result(&format!("Check-{i}"))).collect();
        let skips: Vec<String> = (0..100_000).map(|i| format!("Unknown-{i}")).collect();
        let started = std::time::Instant::now();
        apply_skips(&mut results, &skips);
        let unmatched = unmatched_skips(&results, &skips);
        assert_eq!(unmatched.len(), 100_000);
        // The quadratic scan took 16 s in a release build (minutes in a test build); the linear one
        // takes milliseconds optimised and a few seconds in a test build on a busy machine.
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{:?}",
            started.elapsed()
        );
    }
}
