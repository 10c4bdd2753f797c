//! "Did you mean …?": the closest known word to a misspelt key or value.

/// The candidate closest to `word`, when it is close enough to be a plausible typo.
pub fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(word, c), *c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn typos_find_their_key() {
        let keys = ["node_network", "other_nics", "pod_cidrs", "service_cidrs"];
        assert_eq!(closest("node_netwrok", &keys), Some("node_network"));
        assert_eq!(closest("pod_cidr", &keys), Some("pod_cidrs"));
        assert_eq!(closest("zzz", &keys), None);
    }
}
