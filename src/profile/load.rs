//! Loading a profile: from a file, /etc/nodecheck/profile.yaml, or the built-in default.

use std::path::{Path, PathBuf};

use super::Profile;
use crate::error::BadInput;

/// The operator's profile location, used when `--profile` is not given.
pub const SYSTEM_PROFILE: &str = "/etc/nodecheck/profile.yaml";

/// The built-in kubeadm + Calico default profile.
pub const DEFAULT_PROFILE_YAML: &str = include_str!("../../profiles/default.yaml");

/// Picks the profile: `--profile`, else the system profile when present, else the built-in default.
pub fn resolve_profile(explicit: Option<&Path>) -> Result<(Profile, String), BadInput> {
    if let Some(path) = explicit {
        return Ok((load_profile_file(path)?, path.display().to_string()));
    }
    let system = PathBuf::from(SYSTEM_PROFILE);
    if system.exists() {
        return Ok((load_profile_file(&system)?, SYSTEM_PROFILE.to_string()));
    }
    Ok((
        parse_profile(DEFAULT_PROFILE_YAML, "built-in default")?,
        "built-in default".to_string(),
    ))
}

pub fn load_profile_file(path: &Path) -> Result<Profile, BadInput> {
    let text = crate::input::read_input(path, 4 * 1024 * 1024)?;
    parse_profile(&text, &path.display().to_string())
}

pub fn parse_profile(text: &str, origin: &str) -> Result<Profile, BadInput> {
    serde_saphyr::from_str(text).map_err(|e| BadInput(format!("{origin}: {e}")))
}
