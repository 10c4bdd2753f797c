//! The host itself: a hostname Kubernetes accepts as a node name, and whether the facts were gathered
//! with the privileges the other checks need.

use super::{Area, CheckResult, Context};

const AREA: Area = Area::Host;

pub fn evaluate(ctx: &Context) -> Vec<CheckResult> {
    vec![hostname(ctx), root(ctx)]
}

/// Why `name` is not an RFC 1123 DNS subdomain (lower case, labels of [a-z0-9-] up to 63, total 253).
pub fn rfc1123_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("it is empty".into());
    }
    if name.len() > 253 {
        return Some(format!(
            "it is {} characters long (at most 253)",
            name.len()
        ));
    }
    if name.chars().any(|c| c.is_ascii_uppercase()) {
        return Some(format!(
            "it has upper-case letters (the node would register as `{}`)",
            name.to_ascii_lowercase()
        ));
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Some("it has an empty label (`..` or a leading/trailing dot)".into());
        }
        if label.len() > 63 {
            return Some(format!(
                "label `{label}` is {} characters long (at most 63)",
                label.len()
            ));
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
        {
            return Some(format!(
                "label `{label}` contains {c:?} (only a-z, 0-9 and `-`)"
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Some(format!("label `{label}` starts or ends with `-`"));
        }
    }
    None
}

fn hostname(ctx: &Context) -> CheckResult {
    const ID: &str = "Hostname-Valid";
    let name = &ctx.facts.host.hostname;
    match rfc1123_problem(name) {
        None => CheckResult::ok(ID, AREA, format!("hostname {name} is a valid node name")),
        Some(problem) => CheckResult::fail(
            ID,
            AREA,
            format!("hostname `{name}` is not a valid Kubernetes node name: {problem}"),
        )
        .fix(format!(
            "`hostnamectl set-hostname {}` with a lower-case RFC 1123 name (a-z, 0-9, `-`, dots between labels)",
            crate::escape::shell_quote(&suggest(name))
        )),
    }
    .with("hostname", name.as_str())
}

fn suggest(name: &str) -> String {
    let lowered: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let trimmed = lowered.trim_matches(|c| c == '-' || c == '.');
    if trimmed.is_empty() {
        "node-1".to_string()
    } else {
        trimmed.chars().take(63).collect()
    }
}

fn root(ctx: &Context) -> CheckResult {
    const ID: &str = "Host-Root";
    let facts = ctx.facts;
    if facts.host.gathered_as_root {
        return CheckResult::ok(ID, AREA, "facts were gathered as root");
    }
    let missing: Vec<String> = facts
        .unavailable
        .iter()
        .map(|(k, v)| format!("{k} ({v})"))
        .collect();
    CheckResult::warn(
        ID,
        AREA,
        format!(
            "facts were gathered without root: {}; checks that need them say `skip (needs root)`",
            if missing.is_empty() {
                "nothing reported unavailable".to_string()
            } else {
                missing.join("; ")
            }
        ),
    )
    .with(
        "unavailable",
        facts.unavailable.keys().cloned().collect::<Vec<_>>(),
    )
    .fix("run `sudo nodecheck check` (or gather with `sudo nodecheck facts`)")
}

#[cfg(test)]
mod tests {
    use super::rfc1123_problem;

    #[test]
    fn node_names() {
        assert_eq!(rfc1123_problem("worker-41"), None);
        assert_eq!(rfc1123_problem("worker-41.dc1.example.com"), None);
        assert!(rfc1123_problem("Worker-41").unwrap().contains("worker-41"));
        assert!(rfc1123_problem("worker_41").is_some());
        assert!(rfc1123_problem("-w").is_some());
        assert!(rfc1123_problem(&"a".repeat(64)).is_some());
        assert!(rfc1123_problem(&vec!["a".repeat(60); 5].join("."))
            .unwrap()
            .contains("253"));
        assert!(rfc1123_problem("a..b").is_some());
    }
}
