//! The running kernel's build configuration: `/proc/config.gz` (CONFIG_IKCONFIG_PROC), else
//! `/boot/config-<release>`, both under the host root. Only the options in
//! [`crate::facts::preflight::KERNEL_CONFIG_OPTIONS`] are recorded.

use std::io::Read;

use crate::facts::preflight::{KernelConfig, KERNEL_CONFIG_OPTIONS};
use crate::host_root::HostRoot;

use super::read_bytes;

/// A compressed `/proc/config.gz` is some 40 KiB, a configuration some 300 KiB.
const MAX_COMPRESSED: u64 = 4 * 1024 * 1024;
const MAX_CONFIG: u64 = 16 * 1024 * 1024;

pub fn gather_kernel_config(root: &HostRoot, release: &str) -> KernelConfig {
    let mut errors = Vec::new();
    match read_bytes(root, "/proc/config.gz", MAX_COMPRESSED).and_then(|gz| gunzip(&gz)) {
        Ok(text) => return parsed(root.show("/proc/config.gz"), &text),
        Err(e) => errors.push(format!("{}: {e}", root.show("/proc/config.gz"))),
    }
    let boot = format!("/boot/config-{release}");
    if release.contains('/') || release.is_empty() {
        errors.push(format!(
            "kernel release {release:?} cannot name a file in /boot"
        ));
    } else {
        match read_bytes(root, &boot, MAX_CONFIG) {
            Ok(bytes) => return parsed(root.show(&boot), &String::from_utf8_lossy(&bytes)),
            Err(e) => errors.push(format!("{}: {e}", root.show(&boot))),
        }
    }
    KernelConfig {
        source: None,
        options: Default::default(),
        error: Some(errors.join("; ")),
    }
}

fn gunzip(compressed: &[u8]) -> Result<String, String> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(compressed)
        .take(MAX_CONFIG + 1)
        .read_to_string(&mut text)
        .map_err(|e| format!("not a gzip-compressed configuration: {e}"))?;
    if text.len() as u64 > MAX_CONFIG {
        return Err(format!("larger than {MAX_CONFIG} bytes uncompressed"));
    }
    Ok(text)
}

fn parsed(source: String, text: &str) -> KernelConfig {
    KernelConfig {
        source: Some(source),
        options: KERNEL_CONFIG_OPTIONS
            .iter()
            .map(|name| (name.to_string(), option_value(text, name)))
            .collect(),
        error: None,
    }
}

/// `CONFIG_X=y` → `y`; `# CONFIG_X is not set` or absent → `None`.
pub fn option_value(text: &str, name: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let value = line.strip_prefix(name)?.strip_prefix('=')?;
        let value = value.trim().trim_matches('"');
        (!value.is_empty() && value != "n").then(|| value.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_values() {
        let text = "CONFIG_VXLAN=m\n# CONFIG_WIREGUARD is not set\nCONFIG_NET_IPIP=y\nCONFIG_NET_IPIP_X=y\n";
        assert_eq!(option_value(text, "CONFIG_VXLAN").as_deref(), Some("m"));
        assert_eq!(option_value(text, "CONFIG_WIREGUARD"), None);
        assert_eq!(option_value(text, "CONFIG_NET_IPIP").as_deref(), Some("y"));
        assert_eq!(option_value(text, "CONFIG_OVERLAY_FS"), None);
    }
}
