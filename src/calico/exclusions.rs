//! first-found's default interface exclusion list (`DEFAULT_INTERFACES_TO_EXCLUDE`) as each Calico
//! release ships it. The list decides whether a docker/compose `br-…` bridge, `podman0` or a
//! `nodelocaldns` device can win, and whether the unanchored `lo` also drops `wlo1`.

use crate::profile::calico_version::CalicoVersion;

/// Unanchored list up to v3.22.x, v3.23.3 and v3.24.2 (and the older projectcalico/node code). These
/// match as substrings: `lo` drops `wlo1`, `veth.*` drops `ibmveth0`.
const UNANCHORED: [&str; 12] = [
    "docker.*",
    "cbr.*",
    "dummy.*",
    "virbr.*",
    "lxcbr.*",
    "veth.*",
    "lo",
    "cali.*",
    "tunl.*",
    "flannel.*",
    "kube-ipvs.*",
    "cni.*",
];

/// The same twelve anchored with `^` (v3.23.4, v3.24.3; PR #6760).
const ANCHORED: [&str; 12] = [
    "^docker.*",
    "^cbr.*",
    "^dummy.*",
    "^virbr.*",
    "^lxcbr.*",
    "^veth.*",
    "^lo",
    "^cali.*",
    "^tunl.*",
    "^flannel.*",
    "^kube-ipvs.*",
    "^cni.*",
];

/// Added in v3.23.5, v3.24.4 (PRs #6902, #6929).
const OVERLAY_DEVICES: [&str; 4] = [
    "^vxlan\\.calico.*",
    "^vxlan-v6\\.calico.*",
    "^wireguard\\.cali.*",
    "^wg-v6\\.cali.*",
];

/// Added in v3.24.6 (PR #6942, backport #7108).
const NODELOCALDNS: &str = "^nodelocaldns.*";

/// v3.25.0 and later (through v3.32.1), in the source's order: adds `^podman.*` and `^br-.*`.
const CURRENT: [&str; 19] = [
    "^docker.*",
    "^cbr.*",
    "^dummy.*",
    "^podman.*",
    "^virbr.*",
    "^lxcbr.*",
    "^veth.*",
    "^lo",
    "^br-.*",
    "^cali.*",
    "^tunl.*",
    "^flannel.*",
    "^kube-ipvs.*",
    "^cni.*",
    "^vxlan\\.calico.*",
    "^vxlan-v6\\.calico.*",
    "^wireguard\\.cali.*",
    "^wg-v6\\.cali.*",
    "^nodelocaldns.*",
];

/// The default exclusion list of one Calico release.
pub fn default_exclusions(version: &CalicoVersion) -> Vec<&'static str> {
    let (major, minor, patch) = version.triple();
    if major > 3 || minor >= 25 {
        return CURRENT.to_vec();
    }
    let anchored = match minor {
        23 => patch >= 4,
        24 => patch >= 3,
        _ => false,
    };
    if !anchored {
        return UNANCHORED.to_vec();
    }
    let mut list = ANCHORED.to_vec();
    let overlay = (minor == 23 && patch >= 5) || (minor == 24 && patch >= 4);
    if overlay {
        list.extend(OVERLAY_DEVICES);
    }
    if minor == 24 && patch >= 6 {
        list.push(NODELOCALDNS);
    }
    list
}

/// Releases whose lists differ from each other, oldest first: first-found's answer is version-dependent
/// when these disagree.
pub fn list_changing_releases() -> Vec<CalicoVersion> {
    [(3, 24, 2), (3, 24, 3), (3, 24, 4), (3, 24, 6), (3, 25, 0)]
        .into_iter()
        .map(|(a, b, c)| CalicoVersion::new(a, b, c))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(v: &str) -> Vec<&'static str> {
        default_exclusions(&v.parse().unwrap())
    }

    #[test]
    fn list_per_release() {
        let cases: [(&str, usize, bool, bool, bool); 14] = [
            // version, length, anchored, has ^br-, has nodelocaldns
            ("3.20.0", 12, false, false, false),
            ("3.22.5", 12, false, false, false),
            ("3.23.3", 12, false, false, false),
            ("3.23.4", 12, true, false, false),
            ("3.23.5", 16, true, false, false),
            ("3.24.0", 12, false, false, false),
            ("3.24.2", 12, false, false, false),
            ("3.24.3", 12, true, false, false),
            ("3.24.4", 16, true, false, false),
            ("3.24.5", 16, true, false, false),
            ("3.24.6", 17, true, false, true),
            ("3.25.0", 19, true, true, true),
            ("3.28.0", 19, true, true, true),
            ("3.32.1", 19, true, true, true),
        ];
        for (v, len, anchored, br, nodelocal) in cases {
            let l = list(v);
            assert_eq!(l.len(), len, "{v}: {l:?}");
            assert_eq!(l.iter().all(|r| r.starts_with('^')), anchored, "{v}");
            assert_eq!(l.contains(&"^br-.*"), br, "{v}");
            assert_eq!(l.contains(&"^podman.*"), br, "{v}: podman arrives with br-");
            assert_eq!(l.contains(&NODELOCALDNS), nodelocal, "{v}");
        }
    }
}
