//! Host identity: hostname, kernel (uname), os-release, architecture, the kernel command-line flags that
//! change NIC naming or IPv6, machine-id and the DMI product UUID (root-only).

use std::collections::BTreeMap;
use std::path::Path;

use crate::facts::{Host, KernelCmdline, OsRelease};
use crate::host_root::HostRoot;

const PRODUCT_UUID: &str = "/sys/class/dmi/id/product_uuid";
const OS_RELEASE_PATHS: [&str; 2] = ["/etc/os-release", "/usr/lib/os-release"];

/// Gathers the host section. Facts that cannot be read are `None`, and the reason is added to
/// `unavailable` under their dotted path.
///
/// Hostname and kernel release come from `/proc/sys/kernel` under the host root (the same values
/// `uname` gives on the live host, and the scratch tree's under `--host-root`); `uname` and
/// `gethostname` are the fallback when those files are missing.
pub fn gather_host(
    root: &HostRoot,
    cmdline: &str,
    unavailable: &mut BTreeMap<String, String>,
) -> Host {
    let uts = nix::sys::utsname::uname();
    let (mut kernel_release, mut kernel_version, architecture) = match &uts {
        Ok(u) => (
            u.release().to_string_lossy().into_owned(),
            u.version().to_string_lossy().into_owned(),
            u.machine().to_string_lossy().into_owned(),
        ),
        Err(e) => {
            unavailable.insert("host.kernel_release".into(), format!("uname failed: {e}"));
            (
                String::new(),
                String::new(),
                std::env::consts::ARCH.to_string(),
            )
        }
    };
    if let Ok(release) = read_trimmed(root, "/proc/sys/kernel/osrelease") {
        kernel_release = release;
        unavailable.remove("host.kernel_release");
    }
    if let Ok(version) = read_trimmed(root, "/proc/sys/kernel/version") {
        kernel_version = version;
    }
    let hostname = match read_trimmed(root, "/proc/sys/kernel/hostname") {
        Ok(h) if !h.is_empty() => h,
        _ => match nix::unistd::gethostname() {
            Ok(h) => h.to_string_lossy().into_owned(),
            Err(e) => {
                unavailable.insert("host.hostname".into(), format!("gethostname failed: {e}"));
                String::new()
            }
        },
    };
    let os = OS_RELEASE_PATHS
        .iter()
        .find_map(|p| root.read_to_string(p).ok())
        .map(|text| parse_os_release(&text))
        .unwrap_or_else(|| {
            unavailable.insert(
                "host.os".into(),
                "neither /etc/os-release nor /usr/lib/os-release is readable".into(),
            );
            OsRelease::default()
        });
    let machine_id = read_trimmed(root, "/etc/machine-id")
        .map_err(|e| {
            unavailable.insert(
                "host.machine_id".into(),
                format!("{}: {e}", root.show("/etc/machine-id")),
            );
        })
        .ok()
        .filter(|id| !id.is_empty());
    let gathered_as_root = nix::unistd::geteuid().is_root();
    let product_uuid = match read_trimmed(root, PRODUCT_UUID) {
        Ok(uuid) if !uuid.is_empty() => Some(uuid.to_ascii_lowercase()),
        Ok(_) => {
            unavailable.insert(
                "host.product_uuid".into(),
                format!("{} is empty", root.show(PRODUCT_UUID)),
            );
            None
        }
        Err(e) => {
            let reason = if e.kind() == std::io::ErrorKind::PermissionDenied {
                format!(
                    "{} is readable by root only; run nodecheck as root",
                    root.show(PRODUCT_UUID)
                )
            } else {
                format!("{}: {e}", root.show(PRODUCT_UUID))
            };
            unavailable.insert("host.product_uuid".into(), reason);
            None
        }
    };
    Host {
        hostname: hostname.into(),
        machine_id: machine_id.map(Into::into),
        product_uuid: product_uuid.map(Into::into),
        kernel_release: kernel_release.into(),
        kernel_version: kernel_version.into(),
        architecture: architecture.into(),
        os,
        cmdline: parse_cmdline_flags(cmdline),
        gathered_as_root,
    }
}

fn read_trimmed(root: &HostRoot, path: impl AsRef<Path>) -> std::io::Result<String> {
    Ok(root.read_to_string(path)?.trim().to_string())
}

/// Parses os-release (`KEY=value`, values optionally quoted with `"` or `'`, `\` escapes in double
/// quotes) and keeps ID, VERSION_ID and PRETTY_NAME.
pub fn parse_os_release(text: &str) -> OsRelease {
    let mut os = OsRelease::default();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        let Some((key, raw)) = line.split_once('=') else {
            continue;
        };
        let value = unquote(raw.trim());
        match key.trim() {
            "ID" => os.id = Some(value.into()),
            "VERSION_ID" => os.version_id = Some(value.into()),
            "PRETTY_NAME" => os.pretty_name = Some(value.into()),
            _ => {}
        }
    }
    os
}

fn unquote(raw: &str) -> String {
    let bytes = raw.as_bytes();
    if bytes.len() >= 2 && bytes[0] == b'\'' && bytes[bytes.len() - 1] == b'\'' {
        return raw[1..raw.len() - 1].to_string();
    }
    if bytes.len() >= 2 && bytes[0] == b'"' && bytes[bytes.len() - 1] == b'"' {
        let mut out = String::new();
        let mut chars = raw[1..raw.len() - 1].chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            } else {
                out.push(c);
            }
        }
        return out;
    }
    raw.to_string()
}

/// Picks `net.ifnames`, `biosdevname` and `ipv6.disable` from `/proc/cmdline`. The last occurrence
/// wins, as in the kernel; a flag without `=` is recorded as an empty string.
pub fn parse_cmdline_flags(cmdline: &str) -> KernelCmdline {
    let mut flags = KernelCmdline::default();
    for word in cmdline.split_whitespace() {
        let (key, value) = word.split_once('=').unwrap_or((word, ""));
        let value = Some(value.to_string());
        match key {
            "net.ifnames" => flags.net_ifnames = value.map(Into::into),
            "biosdevname" => flags.biosdevname = value.map(Into::into),
            "ipv6.disable" => flags.ipv6_disable = value.map(Into::into),
            _ => {}
        }
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_quotes_and_comments() {
        let os = parse_os_release(
            "# comment\nNAME=\"Ubuntu\"\nID=ubuntu\nVERSION_ID=\"22.04\"\nPRETTY_NAME=\"Ubuntu 22.04.4 LTS \\\"Jammy\\\"\"\nID_LIKE=debian\n",
        );
        assert_eq!(os.id.as_deref(), Some("ubuntu"));
        assert_eq!(os.version_id.as_deref(), Some("22.04"));
        assert_eq!(
            os.pretty_name.as_deref(),
            Some("Ubuntu 22.04.4 LTS \"Jammy\"")
        );
        let single = parse_os_release("ID='rocky'\n");
        assert_eq!(single.id.as_deref(), Some("rocky"));
        assert_eq!(single.version_id, None);
    }

    #[test]
    fn cmdline_flags_last_wins_and_absent_is_none() {
        let flags = parse_cmdline_flags(
            "BOOT_IMAGE=/vmlinuz root=UUID=x ro net.ifnames=1 net.ifnames=0 biosdevname=0 quiet\n",
        );
        assert_eq!(flags.net_ifnames.as_deref(), Some("0"));
        assert_eq!(flags.biosdevname.as_deref(), Some("0"));
        assert_eq!(flags.ipv6_disable, None);
        assert_eq!(
            parse_cmdline_flags("ipv6.disable=1")
                .ipv6_disable
                .as_deref(),
            Some("1")
        );
    }
}
