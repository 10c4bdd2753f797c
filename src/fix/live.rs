//! Changes to the running system: /proc/sys writes, `modprobe`, `swapoff`/`swapon`, and the side
//! effects' commands. Used only without `--root`. Each returns an error with the command's own words.

use std::path::Path;
use std::process::Command;

use crate::gather::kernel::{normalise_sysctl_value, sysctl_path};

const PROC_SYS: &str = "/proc/sys";

/// The live value of a sysctl, `None` when the key does not exist.
pub fn read_sysctl(key: &str) -> Option<String> {
    std::fs::read_to_string(sysctl_path(Path::new(PROC_SYS), key))
        .ok()
        .map(|v| normalise_sysctl_value(&v))
}

/// Writes a sysctl and reads it back.
pub fn write_sysctl(key: &str, value: &str) -> Result<(), String> {
    let path = sysctl_path(Path::new(PROC_SYS), key);
    std::fs::write(&path, format!("{value}\n"))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    match read_sysctl(key) {
        Some(v) if v == normalise_sysctl_value(value) => Ok(()),
        other => Err(format!(
            "{key} reads back as {} after writing {value}",
            other.as_deref().unwrap_or("(missing)")
        )),
    }
}

/// Whether a module is loaded (or built in) now.
pub fn module_loaded(name: &str) -> bool {
    Path::new("/sys/module").join(name).exists()
}

/// Runs a command; its stderr (or exit status) is the error.
pub fn run(words: &[String]) -> Result<(), String> {
    let Some((program, args)) = words.split_first() else {
        return Ok(());
    };
    let shown = words.join(" ");
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("`{shown}`: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        Err(format!(
            "`{shown}` failed ({}): {}",
            out.status,
            stderr.trim()
        ))
    }
}

fn words(w: &[&str]) -> Vec<String> {
    w.iter().map(|s| s.to_string()).collect()
}

pub fn modprobe(name: &str) -> Result<(), String> {
    run(&words(&["modprobe", "--", name]))
}

pub fn unload_module(name: &str) -> Result<(), String> {
    run(&words(&["modprobe", "-r", "--", name]))
}

pub fn swapoff(device: &str) -> Result<(), String> {
    run(&words(&["swapoff", "--", device]))
}

pub fn swapon(device: &str) -> Result<(), String> {
    run(&words(&["swapon", "--", device]))
}
