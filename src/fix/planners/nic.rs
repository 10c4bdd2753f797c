//! The NIC name (`NodeNic-Present`): a systemd `.link` file that matches the NIC carrying the node
//! network by its permanent MAC (else its MAC and driver) and gives it the profile's name. udev applies
//! it when the device appears, which on most hosts is inside the initramfs: the initramfs is rebuilt
//! (`update-initramfs -u` or `dracut -f`) and the host rebooted. A name in the kernel's own `ethN`
//! namespace races with the kernel's names (systemd.link(5) says so), so that change needs `--force`.

use std::path::{Path, PathBuf};

use super::{created_by, PlanInput};
use crate::checks::finding::Finding;
use crate::fix::plan::{Change, ChangeKind, Held, Plan, SideEffect, TakesEffect, Target};
use crate::fix::state::{FileState, LINK_DIR};

/// `/etc/systemd/network/10-<name>.link`: sorts before the distribution's 99-default.link.
pub fn link_file_path(name: &str) -> PathBuf {
    Path::new(LINK_DIR).join(format!("10-{name}.link"))
}

/// A name the kernel accepts (`dev_valid_name`: 1 to 15 bytes, no `/`, `:` or whitespace, not `.`
/// or `..`), and without control bytes, so it can go into a `.link` file as it is.
fn valid_ifname(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 15
        && name != "."
        && name != ".."
        && !name
            .bytes()
            .any(|b| b == b'/' || b == b':' || b.is_ascii_whitespace() || b < 0x20 || b == 0x7f)
}

/// A hardware address as systemd.link(5) takes it: hexadecimal octets separated by `:` (6 for
/// Ethernet, 20 for InfiniBand, or anything from 1 to 32).
fn valid_mac(mac: &str) -> bool {
    let octets: Vec<&str> = mac.split(':').collect();
    (1..=32).contains(&octets.len())
        && octets
            .iter()
            .all(|o| o.len() == 2 && o.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A kernel driver name: letters, digits, `_`, `-` and `.`.
fn valid_driver(driver: &str) -> bool {
    !driver.is_empty()
        && driver.len() <= 64
        && driver
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// A `.link` file that sorts before `ours` and matches `mac` (by `MACAddress=` or
/// `PermanentMACAddress=`, any of its listed addresses): udev would use it instead.
fn earlier_link_for(input: &PlanInput, ours: &Path, mac: &str) -> Option<PathBuf> {
    let our_name = ours.file_name()?;
    input
        .host
        .link_files
        .iter()
        .filter(|(p, _)| p.file_name().is_some_and(|n| n < our_name))
        .find(|(_, text)| {
            text.lines().any(|l| {
                l.trim()
                    .split_once('=')
                    .filter(|(k, _)| matches!(k.trim(), "MACAddress" | "PermanentMACAddress"))
                    .is_some_and(|(_, v)| v.split_whitespace().any(|m| m.eq_ignore_ascii_case(mac)))
            })
        })
        .map(|(p, _)| p.clone())
}

/// `eth0`, `eth12`: names the kernel itself hands out.
pub fn in_kernel_namespace(name: &str) -> bool {
    name.strip_prefix("eth")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

pub fn plan(input: &PlanInput, plan: &mut Plan) {
    // Only the "expected NIC missing, the node network is on another NIC" finding is a naming problem.
    let Some((r, actual)) = input.findings().find_map(|(r, f)| match f {
        Finding::NicName { interface, .. } => Some((r, interface.as_str())),
        _ => None,
    }) else {
        return;
    };
    let Some(wanted) = input
        .profile
        .node_network
        .nic
        .as_ref()
        .and_then(|n| n.name.clone())
    else {
        return;
    };
    let fixes = vec![r.id.clone()];
    let hold = |plan: &mut Plan, reason: String, change: Option<Change>| {
        plan.held.push(Held {
            fixes: fixes.clone(),
            kind: ChangeKind::NicName,
            reason,
            change,
        })
    };
    if !valid_ifname(&wanted) {
        return hold(
            plan,
            format!(
                "the profile's NIC name {:?} is not a valid interface name",
                wanted
            ),
            None,
        );
    }
    if !valid_ifname(actual) {
        return hold(
            plan,
            format!("the facts' interface name {actual:?} is not a valid interface name: no .link file is written for it"),
            None,
        );
    }
    let Some(nic) = input.facts.interface(actual) else {
        return;
    };
    let bad_mac = [&nic.permanent_mac, &nic.mac]
        .into_iter()
        .flatten()
        .find(|m| !valid_mac(m));
    if let Some(mac) = bad_mac {
        return hold(
            plan,
            format!("{actual}'s MAC address {mac:?} in the facts is not a hardware address: no .link file is written for it"),
            None,
        );
    }
    let (match_line, by) = match (&nic.permanent_mac, &nic.mac) {
        (Some(p), _) => (format!("PermanentMACAddress={p}"), "permanent MAC"),
        (None, Some(m)) => (format!("MACAddress={m}"), "MAC"),
        (None, None) => {
            return hold(
                plan,
                format!("{actual} has no MAC address to match it by"),
                None,
            )
        }
    };
    // A MAC is shared by VLANs and bond ports built on the NIC; the driver keeps the match on the NIC.
    let driver = nic
        .physical
        .as_ref()
        .and_then(|p| p.driver.clone())
        .filter(|d| valid_driver(d));
    let driver_line = match (by, &driver) {
        ("MAC", Some(d)) => format!("Driver={d}\n"),
        _ => String::new(),
    };
    let path = link_file_path(&wanted);
    let mac = match_line.split('=').nth(1).unwrap_or("");
    if let Some(earlier) = earlier_link_for(input, &path, mac) {
        return hold(
            plan,
            format!(
                "{} matches the same MAC {mac} and sorts before {}: udev applies only the first matching .link file, so the new one would not take effect; remove or rename {} first",
                earlier.display(),
                path.display(),
                earlier.display()
            ),
            None,
        );
    }
    let before = match input.host.file(&path.to_string_lossy()) {
        FileState::Unusable(why) => {
            return hold(plan, format!("cannot edit {}: {why}", path.display()), None)
        }
        state => state.text().map(str::to_string),
    };
    let after = format!(
        "{}# {actual} carries the node network; the cluster profile names this NIC {wanted}.\n[Match]\n{match_line}\n{driver_line}\n[Link]\nName={wanted}\n",
        created_by(&fixes)
    );
    if before.as_deref() == Some(after.as_str()) {
        plan.manual.push(crate::fix::plan::ManualStep {
            fixes: fixes.clone(),
            what: format!(
                "{} already renames {actual} to {wanted}: reboot for it to take effect",
                path.display()
            ),
            commands: vec!["systemctl reboot".to_string()],
        });
        return;
    }
    let mut side_effects = Vec::new();
    let mut notes = Vec::new();
    match &input.host.initramfs_command {
        Some(command) => side_effects.push(SideEffect::RebuildInitramfs {
            command: command.clone(),
        }),
        None => notes.push(
            "neither update-initramfs nor dracut was found: if this host's initramfs names NICs, rebuild it by hand"
                .to_string(),
        ),
    }
    side_effects.push(SideEffect::Reboot);
    let mut change = Change {
        fixes: fixes.clone(),
        kind: ChangeKind::NicName,
        summary: format!(
            "name the NIC with {by} {} {wanted} (it is {actual} now)",
            match_line.split('=').nth(1).unwrap_or("")
        ),
        target: Target::File {
            path,
            before,
            after,
            new_mode: 0o644,
        },
        takes_effect: TakesEffect::NextBoot,
        side_effects,
        notes,
    };
    if in_kernel_namespace(&wanted) {
        let alternatives = input
            .profile
            .node_network
            .nic
            .as_ref()
            .map(|n| n.alternatives.clone())
            .unwrap_or_default();
        let race = format!(
            "{wanted} is in the kernel's own ethN namespace: udev's rename races with the kernel naming another NIC {wanted} at boot (systemd.link(5)), so the result can differ from boot to boot"
        );
        let offer = if alternatives.is_empty() {
            format!("prefer a name outside ethN in the profile, or accept {actual} in node_network.nic.alternatives")
        } else {
            format!(
                "the profile also accepts {}: prefer one of those, or accept {actual} in node_network.nic.alternatives",
                alternatives.join(", ")
            )
        };
        if !input.force {
            return hold(
                plan,
                format!("{race}; {offer}; `--force` writes the .link file anyway"),
                Some(change),
            );
        }
        change.notes.push(format!("forced: {race}"));
    }
    plan.changes.push(change);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_names_and_valid_names() {
        assert!(in_kernel_namespace("eth0"));
        assert!(in_kernel_namespace("eth12"));
        assert!(!in_kernel_namespace("eth"));
        assert!(!in_kernel_namespace("ethx0"));
        assert!(!in_kernel_namespace("ens192"));
        assert!(valid_ifname("ens192"));
        assert!(!valid_ifname("../../etc"));
        assert!(!valid_ifname("a-name-longer-than-15"));
        assert!(!valid_ifname("ens\n[Link]"));
        assert!(!valid_ifname("x\u{7f}"));
        assert!(valid_mac("00:50:56:8a:41:41"));
        assert!(valid_mac("00:50:56:8A:41:41"));
        assert!(!valid_mac("00:50:56:8a:41:41\nName=evil"));
        assert!(!valid_mac("0:50:56:8a:41:41"));
        assert!(!valid_mac(""));
        assert!(valid_driver("vmxnet3"));
        assert!(!valid_driver("e1000\n[Link]"));
    }
}
