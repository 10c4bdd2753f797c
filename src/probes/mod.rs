//! Live probes for the post-join and post-boot phases (felix health, cluster DNS, ...): bounded-time I/O
//! whose answers become values that checks judge.

/// Answers of the live probes, gathered only for post-join and post-boot.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LiveProbes {}
