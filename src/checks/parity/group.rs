//! Grouping nodes by a value, so a fleet of thousands reads as a few lines per check.
//!
//! A [`Grouping`] holds the nodes that share each value, largest group first. Its one-line form names
//! at most [`NAMES_SHOWN`] nodes per group ("5.15: 4,998 nodes; 6.8: worker-41, worker-77"); its
//! evidence form has every group in full.

use std::collections::HashMap;

use serde_json::{Map, Value};

/// How many node names a message lists per group before "and N more".
pub const NAMES_SHOWN: usize = 10;

/// One node in a group.
#[derive(Debug, Clone, PartialEq)]
pub struct Member<'a> {
    pub name: &'a str,
    /// This node (the one being checked), not a peer.
    pub this: bool,
    /// Shown after the name, e.g. the offending address.
    pub detail: Option<String>,
}

impl<'a> Member<'a> {
    pub fn new(name: &'a str, this: bool) -> Member<'a> {
        Member {
            name,
            this,
            detail: None,
        }
    }

    /// `worker-41`, `worker-41 (this node)`, `worker-41 (this node, 172.18.0.1/16)`.
    pub fn label(&self) -> String {
        match (self.this, &self.detail) {
            (false, None) => self.name.to_string(),
            (true, None) => format!("{} (this node)", self.name),
            (false, Some(d)) => format!("{} ({d})", self.name),
            (true, Some(d)) => format!("{} (this node, {d})", self.name),
        }
    }
}

/// The nodes sharing one value.
#[derive(Debug, Clone, PartialEq)]
pub struct Group<'a> {
    pub value: String,
    pub members: Vec<Member<'a>>,
}

impl Group<'_> {
    /// `{"value", "count", "nodes": [...]}`
    pub fn evidence(&self) -> Value {
        let mut group = Map::new();
        group.insert("value".into(), Value::from(self.value.as_str()));
        group.insert("count".into(), Value::from(self.members.len()));
        group.insert("nodes".into(), labels(&self.members));
        Value::Object(group)
    }

    pub fn has_this_node(&self) -> bool {
        self.members.iter().any(|m| m.this)
    }

    /// `value: a, b, c` or, for a large group, `value: 4,998 nodes`.
    fn line(&self, summarise_large: bool) -> String {
        if summarise_large && self.members.len() > NAMES_SHOWN {
            let this = if self.has_this_node() {
                ", this node among them"
            } else {
                ""
            };
            format!(
                "{}: {} nodes{this}",
                self.value,
                thousands(self.members.len())
            )
        } else {
            format!("{}: {}", self.value, names(&self.members))
        }
    }
}

/// Nodes grouped by a value, largest group first (ties: the value seen first).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Grouping<'a> {
    pub groups: Vec<Group<'a>>,
    /// Nodes whose value is not known.
    pub unknown: Vec<Member<'a>>,
}

impl<'a> Grouping<'a> {
    /// Groups nodes by value; `None` is "not known".
    pub fn of(items: impl IntoIterator<Item = (Member<'a>, Option<String>)>) -> Grouping<'a> {
        let mut grouping = Grouping::default();
        let mut index: HashMap<String, usize> = HashMap::new();
        for (member, value) in items {
            let Some(value) = value else {
                grouping.unknown.push(member);
                continue;
            };
            match index.get(&value) {
                Some(&i) => grouping.groups[i].members.push(member),
                None => {
                    index.insert(value.clone(), grouping.groups.len());
                    grouping.groups.push(Group {
                        value,
                        members: vec![member],
                    });
                }
            }
        }
        // Stable: equal sizes keep first-seen order (this node is always seen first).
        grouping
            .groups
            .sort_by_key(|g| std::cmp::Reverse(g.members.len()));
        grouping
    }

    /// Nodes whose value is known.
    pub fn known(&self) -> usize {
        self.groups.iter().map(|g| g.members.len()).sum()
    }

    /// The group holding more than half of the known nodes, if one does.
    pub fn majority(&self) -> Option<&Group<'a>> {
        self.groups
            .first()
            .filter(|g| g.members.len() * 2 > self.known())
    }

    /// The group this node is in, when its value is known.
    pub fn this_group(&self) -> Option<&Group<'a>> {
        self.groups.iter().find(|g| g.has_this_node())
    }

    /// Groups of two or more nodes: duplicates, for uniqueness checks.
    pub fn shared(&self) -> impl Iterator<Item = &Group<'a>> {
        self.groups.iter().filter(|g| g.members.len() > 1)
    }

    /// Every group on one line, the largest one summarised by its count when it is large.
    pub fn line(&self) -> String {
        self.groups
            .iter()
            .enumerate()
            .map(|(i, g)| g.line(i == 0))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// `; not known for: a, b` when some nodes' value is unknown.
    pub fn unknown_note(&self) -> String {
        if self.unknown.is_empty() {
            String::new()
        } else {
            format!("; not known for {}", names(&self.unknown))
        }
    }

    /// The full groups as JSON: `[{"value", "count", "nodes": [...]}]`, and the unknown ones.
    pub fn evidence(&self) -> Value {
        // Built in place, not with `json!`, which would copy every list it is given.
        let mut evidence = Map::new();
        evidence.insert(
            "groups".into(),
            Value::Array(self.groups.iter().map(Group::evidence).collect()),
        );
        evidence.insert("unknown".into(), labels(&self.unknown));
        Value::Object(evidence)
    }
}

/// Every member's label as a JSON array, built in place: a group of thousands is not first collected
/// as strings and then copied into JSON.
pub fn labels(members: &[Member]) -> Value {
    Value::Array(members.iter().map(|m| Value::String(m.label())).collect())
}

/// `a, b, c` for up to [`NAMES_SHOWN`] names, then `and N more`.
pub fn names(members: &[Member]) -> String {
    let shown: Vec<String> = members
        .iter()
        .take(NAMES_SHOWN)
        .map(Member::label)
        .collect();
    let mut text = shown.join(", ");
    if members.len() > NAMES_SHOWN {
        text.push_str(&format!(
            " and {} more",
            thousands(members.len() - NAMES_SHOWN)
        ));
    }
    text
}

/// `4998` → `4,998`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_fleet_reads_as_counts_and_a_few_names() {
        let names: Vec<String> = (0..5000).map(|i| format!("worker-{i}")).collect();
        let grouping = Grouping::of(names.iter().enumerate().map(|(i, n)| {
            let value = if i == 41 || i == 77 { "6.8" } else { "5.15" };
            (Member::new(n, i == 0), Some(value.to_string()))
        }));
        assert_eq!(
            grouping.line(),
            "5.15: 4,998 nodes, this node among them; 6.8: worker-41, worker-77"
        );
        assert_eq!(grouping.majority().unwrap().value, "5.15");
        assert_eq!(grouping.evidence()["groups"][1]["nodes"][0], "worker-41");
    }

    #[test]
    fn minority_groups_are_cut_after_ten_names() {
        let names: Vec<String> = (0..30).map(|i| format!("n{i}")).collect();
        let grouping = Grouping::of(names.iter().enumerate().map(|(i, n)| {
            let value = if i < 18 { "a" } else { "b" };
            (Member::new(n, false), Some(value.to_string()))
        }));
        assert!(
            grouping
                .line()
                .ends_with("b: n18, n19, n20, n21, n22, n23, n24, n25, n26, n27 and 2 more"),
            "{}",
            grouping.line()
        );
    }

    #[test]
    fn a_tie_has_no_majority() {
        let grouping = Grouping::of([
            (Member::new("a", true), Some("x".to_string())),
            (Member::new("b", false), Some("y".to_string())),
            (Member::new("c", false), None),
        ]);
        assert_eq!(grouping.majority(), None);
        assert_eq!(grouping.this_group().unwrap().value, "x");
        assert_eq!(grouping.unknown_note(), "; not known for c");
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(7), "7");
        assert_eq!(thousands(4998), "4,998");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
