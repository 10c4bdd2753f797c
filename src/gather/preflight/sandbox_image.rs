//! The sandbox (pause) image the runtime is configured with. containerd's, from
//! `/etc/containerd/config.toml`: `sandbox_image` of the `io.containerd.grpc.v1.cri` plugin (schema
//! version 2; `cri` in version 1), or `pinned_images.sandbox` of `io.containerd.cri.v1.images`
//! (version 3, containerd 2.x). Without it, CRI-O's: `pause_image` of the `[crio.image]` table in
//! `/etc/crio/crio.conf`, then in the files of `/etc/crio/crio.conf.d` in name order (a later file
//! overrides an earlier one, as CRI-O reads them).

use crate::facts::preflight::SandboxImage;
use crate::host_root::HostRoot;

use super::read_text;

pub const CONTAINERD_CONFIG: &str = "/etc/containerd/config.toml";
pub const CRIO_CONFIG: &str = "/etc/crio/crio.conf";
pub const CRIO_DROP_INS: &str = "/etc/crio/crio.conf.d";
pub const CRIO_SETTING: &str = "[crio.image] pause_image";
const MAX_CONFIG: u64 = 1024 * 1024;
/// At most this many CRI-O drop-in files are read.
const MAX_DROP_INS: usize = 64;

pub fn gather_sandbox_image(root: &HostRoot) -> Option<SandboxImage> {
    if !root.exists(CONTAINERD_CONFIG) {
        return gather_crio(root);
    }
    let mut facts = SandboxImage {
        runtime: "containerd".to_string(),
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

/// CRI-O's `pause_image`: `None` when none of its configuration files exists.
fn gather_crio(root: &HostRoot) -> Option<SandboxImage> {
    let mut files = Vec::new();
    if root.exists(CRIO_CONFIG) {
        files.push(CRIO_CONFIG.to_string());
    }
    if let Ok(entries) = root.path(CRIO_DROP_INS).and_then(std::fs::read_dir) {
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        files.extend(
            names
                .into_iter()
                .take(MAX_DROP_INS)
                .map(|n| format!("{CRIO_DROP_INS}/{n}")),
        );
    }
    let last = files.last()?.clone();
    let mut facts = SandboxImage {
        runtime: "cri-o".to_string(),
        config_file: last,
        schema_version: 0,
        setting: CRIO_SETTING.to_string(),
        ..Default::default()
    };
    for file in &files {
        match read_text(root, file, MAX_CONFIG).and_then(|t| crio_pause_image(&t)) {
            Ok(Some(image)) => {
                facts.image = Some(image);
                facts.config_file = file.clone();
            }
            Ok(None) => {}
            Err(e) => {
                facts.error = Some(format!("{}: {e}", root.show(file)));
                facts.config_file = file.clone();
                break;
            }
        }
    }
    Some(facts)
}

/// The `pause_image` a CRI-O configuration file sets, if it sets one.
pub fn crio_pause_image(text: &str) -> Result<Option<String>, String> {
    let doc: toml::Table =
        toml::from_str(text).map_err(|e| format!("not valid TOML: {}", e.message()))?;
    doc.get("crio")
        .and_then(|c| c.get("image"))
        .and_then(|i| i.get("pause_image"))
        .map(|v| {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("{CRIO_SETTING} is not a string"))
        })
        .transpose()
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

    #[test]
    fn crio_pause_image_from_its_table() {
        let text = "[crio.image]\npause_image = \"registry.k8s.io/pause:3.10\"\n";
        assert_eq!(
            crio_pause_image(text).unwrap().as_deref(),
            Some("registry.k8s.io/pause:3.10")
        );
        assert_eq!(crio_pause_image("[crio.runtime]\n").unwrap(), None);
        assert!(crio_pause_image("[crio.image]\npause_image = 1\n").is_err());
    }
}
