//! Cilium's `DeviceFilter`: `--devices` and `--direct-routing-device` entries as exact names or
//! iptables-style `+` prefixes (`eth+`), and from 1.19 `!` entries that exclude. Also how Cilium
//! shows the list in its reasons (Go's `%v` of a string slice: `[eth0 eth1]`) and which entries
//! can never match a Linux interface name (a comma list given as one entry, cilium#33527).

/// What the filter says of one device name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterMatch {
    /// An entry matches: the device is chosen.
    Chosen,
    /// A `!` entry matches (1.19 and later): the device is left out.
    Excluded,
    /// No entry matches.
    NoMatch,
}

/// The `--devices` (or `--direct-routing-device`) entries, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceFilter {
    pub entries: Vec<String>,
}

fn entry_matches(entry: &str, name: &str) -> bool {
    match entry.strip_suffix('+') {
        // Go's `strings.TrimRight(entry, "+")` drops every trailing `+`.
        Some(_) => name.starts_with(entry.trim_end_matches('+')),
        None => name == entry,
    }
}

impl DeviceFilter {
    pub fn new(entries: &[String]) -> DeviceFilter {
        DeviceFilter {
            entries: entries.to_vec(),
        }
    }

    /// `NonEmpty`: the user gave `--devices`.
    pub fn non_empty(&self) -> bool {
        !self.entries.is_empty()
    }

    /// The first entry that matches `name`, in order; `!` entries exclude only when `exclusions`.
    pub fn check(&self, name: &str, exclusions: bool) -> FilterMatch {
        for entry in &self.entries {
            match entry.strip_prefix('!') {
                Some(rest) if exclusions => {
                    if entry_matches(rest, name) {
                        return FilterMatch::Excluded;
                    }
                }
                _ => {
                    if entry_matches(entry, name) {
                        return FilterMatch::Chosen;
                    }
                }
            }
        }
        FilterMatch::NoMatch
    }

    /// Go's `%v` of the list: `[eth0 eth1]`.
    pub fn go_display(&self) -> String {
        format!("[{}]", self.entries.join(" "))
    }

    /// Entries holding a comma or white space: Cilium splits a ConfigMap string on white space
    /// only, so `eth0,eth1` stays one name that no interface has (cilium#33527).
    pub fn unmatchable_entries(&self) -> Vec<&str> {
        self.entries
            .iter()
            .filter(|e| e.contains(',') || e.chars().any(char::is_whitespace))
            .map(String::as_str)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(entries: &[&str]) -> DeviceFilter {
        DeviceFilter::new(&entries.iter().map(|e| e.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn names_and_prefixes() {
        let f = filter(&["eth0", "ens+"]);
        assert_eq!(f.check("eth0", false), FilterMatch::Chosen);
        assert_eq!(f.check("eth01", false), FilterMatch::NoMatch);
        assert_eq!(f.check("ens192", false), FilterMatch::Chosen);
        assert_eq!(f.check("ens", false), FilterMatch::Chosen);
        assert_eq!(f.go_display(), "[eth0 ens+]");
    }

    /// PR 40152's example: `!eth1,eth+` chooses eth0, excludes eth1, leaves ens4 to detection.
    #[test]
    fn exclusions_from_1_19_only() {
        let f = filter(&["!eth1", "eth+"]);
        assert_eq!(f.check("eth0", true), FilterMatch::Chosen);
        assert_eq!(f.check("eth1", true), FilterMatch::Excluded);
        assert_eq!(f.check("ens4", true), FilterMatch::NoMatch);
        // Before 1.19 `!eth1` is a name no interface has.
        assert_eq!(f.check("eth1", false), FilterMatch::Chosen);
        assert_eq!(
            filter(&["!eth1"]).check("eth1", false),
            FilterMatch::NoMatch
        );
    }

    #[test]
    fn a_comma_list_is_one_entry() {
        let f = filter(&["eth0,eth1"]);
        assert_eq!(f.check("eth0", true), FilterMatch::NoMatch);
        assert_eq!(f.unmatchable_entries(), ["eth0,eth1"]);
    }
}
