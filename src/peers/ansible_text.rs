//! Ansible facts that are not one JSON document: the text `ansible HOSTS -m setup` prints (one
//! `host | SUCCESS => {…}` block per host, pretty or with `-o` on one line, several hosts in one file)
//! and YAML fact caches (`fact_caching = yaml`). Both become JSON values and go the way of every other
//! Ansible document ([`super::ansible::facts_from_value`]).

use serde_json::Value;

use super::ansible::{facts_from_value, AnsibleFactsError, Shape};
use crate::facts::Facts;

/// Why Ansible's text output or a YAML fact cache gives no facts; every one is bad input.
#[derive(Debug, thiserror::Error)]
pub enum AnsibleTextError {
    /// A host block of ad-hoc output whose `{…}` is not JSON (`line`: the block's first line).
    #[error("ad-hoc output, host {host:?} (line {line}): invalid JSON: {source}")]
    AdHocJson {
        host: String,
        line: usize,
        source: serde_json::Error,
    },
    /// Ansible itself reported the host as failed or unreachable, with its message.
    #[error("Ansible reported {status} for this host: {message}")]
    HostReported { status: String, message: String },
    #[error(transparent)]
    Facts(#[from] AnsibleFactsError),
    /// `at`: ` at line L column C` when the parser knows it; `first`: the first line of its words.
    #[error("invalid YAML{at}: {first}")]
    Yaml { at: String, first: String },
}

/// One host's block in ad-hoc output.
#[derive(Debug)]
pub struct AdHocHost {
    pub host: String,
    pub facts: Result<Facts, AnsibleTextError>,
}

/// The statuses ad-hoc output gives a host.
const STATUSES: &[&str] = &["SUCCESS", "CHANGED", "FAILED!", "UNREACHABLE!"];

/// The host blocks of ad-hoc output, or `None` when the text has no `host | STATUS => {` line.
/// Lines outside the blocks (warnings, "Using ... as config file") are skipped.
pub fn parse_ad_hoc(text: &str) -> Option<Result<Vec<AdHocHost>, AnsibleTextError>> {
    let mut hosts = Vec::new();
    let mut at = 0;
    let mut line_number = 0usize;
    while at < text.len() {
        let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
        let line = &text[at..line_end];
        line_number += 1;
        let Some((host, status, brace)) = header(line) else {
            at = line_end + 1;
            continue;
        };
        let start = at + brace;
        let mut values = serde_json::Deserializer::from_str(&text[start..]).into_iter::<Value>();
        let value = match values.next() {
            Some(Ok(value)) => value,
            Some(Err(source)) => {
                return Some(Err(AnsibleTextError::AdHocJson {
                    host: host.to_string(),
                    line: line_number,
                    source,
                }))
            }
            None => break,
        };
        let end = start + values.byte_offset();
        line_number += text[at..end].matches('\n').count();
        let facts = match status {
            "SUCCESS" | "CHANGED" => {
                facts_from_value(value, Shape::ModuleResult).map_err(AnsibleTextError::from)
            }
            _ => Err(AnsibleTextError::HostReported {
                status: status.trim_end_matches('!').to_string(),
                message: value
                    .get("msg")
                    .and_then(Value::as_str)
                    .unwrap_or("no message")
                    .to_string(),
            }),
        };
        hosts.push(AdHocHost {
            host: host.to_string(),
            facts,
        });
        at = text[end..].find('\n').map_or(text.len(), |i| end + i + 1);
    }
    (!hosts.is_empty()).then_some(Ok(hosts))
}

/// `host | SUCCESS => {` → the host, the status and where `{` is in the line.
fn header(line: &str) -> Option<(&str, &str, usize)> {
    let (host, rest) = line.split_once(" | ")?;
    if host.is_empty() || host.contains(char::is_whitespace) {
        return None;
    }
    let (status, after) = rest.split_once(" => ")?;
    if !STATUSES.contains(&status) || !after.trim_start().starts_with('{') {
        return None;
    }
    let brace = line.len() - after.trim_start().len();
    Some((host, status, brace))
}

/// A YAML document as a JSON value, with line:column on errors.
pub fn parse_yaml(text: &str) -> Result<Value, AnsibleTextError> {
    serde_saphyr::from_str::<Value>(text).map_err(|e| {
        let at = e
            .location()
            .map(|l| format!(" at line {} column {}", l.line(), l.column()))
            .unwrap_or_default();
        let first = e.to_string();
        let first = first.lines().next().unwrap_or_default().to_string();
        AnsibleTextError::Yaml { at, first }
    })
}

/// Whether text that is not JSON may be YAML worth parsing: it does not start like JSON.
pub fn looks_like_yaml(text: &str) -> bool {
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'));
    first.is_some_and(|l| l == "---" || (l.contains(':') && !l.starts_with(['{', '['])))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST_A: &str = r#"{"ansible_facts": {"ansible_nodename": "a", "ansible_kernel": "6.1.0"}, "changed": false}"#;

    #[test]
    fn several_hosts_with_noise_between_them() {
        let text = format!(
            "[WARNING]: Platform linux on host a is using the discovered Python\n\
             a | SUCCESS => {{\n    \"ansible_facts\": {{\"ansible_nodename\": \"a\"}},\n    \"changed\": false\n}}\n\
             b | SUCCESS => {HOST_A}\n\
             c | UNREACHABLE! => {{\n    \"changed\": false,\n    \"msg\": \"ssh: connect to host c port 22: No route to host\",\n    \"unreachable\": true\n}}\n"
        );
        let hosts = parse_ad_hoc(&text).unwrap().unwrap();
        let names: Vec<&str> = hosts.iter().map(|h| h.host.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(hosts[0].facts.as_ref().unwrap().host.hostname, "a");
        assert_eq!(
            hosts[1].facts.as_ref().unwrap().host.kernel_release,
            "6.1.0"
        );
        let e = hosts[2].facts.as_ref().unwrap_err().to_string();
        assert!(
            e.contains("UNREACHABLE") && e.contains("No route to host"),
            "{e}"
        );
    }

    #[test]
    fn text_without_host_blocks_is_not_ad_hoc_output() {
        assert!(parse_ad_hoc("hello | world\n").is_none());
        assert!(parse_ad_hoc("a | SUCCESS => not json\n").is_none());
    }

    #[test]
    fn broken_json_in_a_block_is_reported_with_its_line() {
        let e = parse_ad_hoc("x\na | SUCCESS => {\n  \"ansible_facts\": [\n}\n")
            .unwrap()
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("ad-hoc output, host \"a\" (line 2): invalid JSON"),
            "{e}"
        );
    }

    #[test]
    fn yaml_errors_carry_line_and_column() {
        let e = parse_yaml("ansible_nodename: a\n  bad: [\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("invalid YAML at line"), "{e}");
        assert!(looks_like_yaml("---\nansible_nodename: a\n"));
        assert!(!looks_like_yaml("{\"a\": 1"));
    }
}
