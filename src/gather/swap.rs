//! Swap in use, from `/proc/swaps` (active devices and files) and `/proc/meminfo` (totals): kubelet
//! refuses to start with swap on unless configured for it.

use crate::facts::Swap;

/// Reads both files; a missing file leaves its part empty and adds a reason to `unavailable`.
pub fn gather_swap(
    root: &crate::host_root::HostRoot,
    unavailable: &mut std::collections::BTreeMap<String, String>,
) -> Swap {
    let swaps = root.read_to_string("/proc/swaps").unwrap_or_else(|e| {
        unavailable.insert(
            "swap.devices".into(),
            format!("{}: {e}", root.show("/proc/swaps")),
        );
        String::new()
    });
    let meminfo = root.read_to_string("/proc/meminfo").unwrap_or_else(|e| {
        unavailable.insert(
            "swap.total_kib".into(),
            format!("{}: {e}", root.show("/proc/meminfo")),
        );
        String::new()
    });
    let (total_kib, free_kib) = parse_meminfo_swap(&meminfo);
    Swap {
        total_kib,
        used_kib: total_kib.saturating_sub(free_kib),
        devices: parse_proc_swaps(&swaps),
    }
}

/// Device or file names from `/proc/swaps` (header skipped; `\040`-style octal escapes decoded).
pub fn parse_proc_swaps(text: &str) -> Vec<String> {
    text.lines()
        .skip(1)
        .filter_map(|line| line.split_whitespace().next())
        .map(decode_octal_escapes)
        .collect()
}

/// `SwapTotal` and `SwapFree` in KiB from `/proc/meminfo` (0 when absent).
pub fn parse_meminfo_swap(text: &str) -> (u64, u64) {
    let mut total = 0;
    let mut free = 0;
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let key = words.next();
        let value = words
            .next()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        match key {
            Some("SwapTotal:") => total = value,
            Some("SwapFree:") => free = value,
            _ => {}
        }
    }
    (total, free)
}

/// The kernel writes spaces, tabs, newlines and backslashes in paths as `\ooo`.
fn decode_octal_escapes(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match (bytes[i], octal) {
            (b'\\', Some(d)) => {
                out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_swaps_devices_and_escapes() {
        let text = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n\
                    /dev/dm-1                               partition\t2097148\t\t0\t\t-2\n\
                    /swap\\040file                          file\t\t1048572\t\t512\t\t-3\n";
        assert_eq!(parse_proc_swaps(text), vec!["/dev/dm-1", "/swap file"]);
        assert!(parse_proc_swaps("Filename Type Size Used Priority\n").is_empty());
    }

    #[test]
    fn meminfo_swap_totals() {
        let text = "MemTotal:        8000000 kB\nSwapTotal:       2097148 kB\nSwapFree:        2000000 kB\n";
        assert_eq!(parse_meminfo_swap(text), (2_097_148, 2_000_000));
        assert_eq!(parse_meminfo_swap(""), (0, 0));
    }
}
