//! The sandbox (pause) image containerd is configured with, from `/etc/containerd/config.toml`:
//! `sandbox_image` of the `io.containerd.grpc.v1.cri` plugin (schema version 2; `cri` in version 1),
//! or `pinned_images.sandbox` of `io.containerd.cri.v1.images` (version 3, containerd 2.x).

use crate::facts::preflight::SandboxImage;
use crate::host_root::HostRoot;

use super::read_text;

pub const CONTAINERD_CONFIG: &str = "/etc/containerd/config.toml";
const MAX_CONFIG: u64 = 1024 * 1024;

pub fn gather_sandbox_image(root: &HostRoot) -> Option<SandboxImage> {
    if !root.exists(CONTAINERD_CONFIG) {
        return None;
    }
    let mut facts = SandboxImage {
        config_file: CONTAINERD_CONFIG.to_string(),
        schema_version: 1,
        setting: setting_for(1).to_string(),
        ..Default::default()
    };
    match read_text(root, CONTAINERD_CONFIG, MAX_CONFIG).and_then(|t| sandbox_image(&t)) {
        Ok((version, image)) => {
            facts.schema_version = version;
            facts.setting = setting_for(version).to_string();
            facts.image = image;
        }
        Err(e) => facts.error = Some(format!("{}: {e}", root.show(CONTAINERD_CONFIG))),
    }
    Some(facts)
}

/// The table and key holding the sandbox image in a configuration of schema `version`.
pub fn setting_for(version: i64) -> &'static str {
    match version {
        3 => "[plugins.\"io.containerd.cri.v1.images\".pinned_images] sandbox",
        2 => "[plugins.\"io.containerd.grpc.v1.cri\"] sandbox_image",
        _ => "[plugins.cri] sandbox_image",
    }
}

/// The schema version and the sandbox image a containerd configuration sets.
pub fn sandbox_image(text: &str) -> Result<(i64, Option<String>), String> {
    let doc: toml::Table =
        toml::from_str(text).map_err(|e| format!("not valid TOML: {}", e.message()))?;
    let version = doc.get("version").and_then(|v| v.as_integer()).unwrap_or(1);
    let plugins = doc.get("plugins").and_then(|p| p.as_table());
    let value = match version {
        3 => plugins
            .and_then(|p| p.get("io.containerd.cri.v1.images"))
            .and_then(|t| t.get("pinned_images"))
            .and_then(|t| t.get("sandbox")),
        2 => plugins
            .and_then(|p| p.get("io.containerd.grpc.v1.cri"))
            .and_then(|t| t.get("sandbox_image")),
        _ => plugins
            .and_then(|p| p.get("cri"))
            .and_then(|t| t.get("sandbox_image")),
    };
    let image = value
        .map(|v| {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("{} is not a string", setting_for(version)))
        })
        .transpose()?;
    Ok((version, image))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_schema_version() {
        let v2 = "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\"]\n  sandbox_image = \"registry.k8s.io/pause:3.8\"\n";
        assert_eq!(
            sandbox_image(v2).unwrap(),
            (2, Some("registry.k8s.io/pause:3.8".into()))
        );
        let v3 = "version = 3\n[plugins.'io.containerd.cri.v1.images'.pinned_images]\n  sandbox = 'registry.k8s.io/pause:3.10'\n";
        assert_eq!(
            sandbox_image(v3).unwrap(),
            (3, Some("registry.k8s.io/pause:3.10".into()))
        );
        assert_eq!(sandbox_image("version = 2\n").unwrap(), (2, None));
        assert!(sandbox_image(
            "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\"]\nsandbox_image = 3\n"
        )
        .is_err());
        assert!(sandbox_image("version = [")
            .unwrap_err()
            .starts_with("not valid TOML"));
    }
}
