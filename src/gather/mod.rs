//! Gathering: the only place that does I/O to learn about the host. Builds a [`Facts`] snapshot.

use crate::facts::Facts;

/// Gathers the live host's facts.
pub fn gather_facts() -> anyhow::Result<Facts> {
    anyhow::bail!("gathering is not implemented yet")
}
