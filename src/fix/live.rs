//! Changes to the running system: /proc/sys writes, `modprobe`, `swapoff`/`swapon`, and the side
//! effects' commands. Used only without `--root`. Each returns an error with the command's own words.

use std::path::Path;
use std::process::Command;

use super::error::LiveError;
use crate::gather::kernel::{normalise_sysctl_value, sysctl_path};

const PROC_SYS: &str = "/proc/sys";

/// The live value of a sysctl, `None` when the key does not exist.
pub fn read_sysctl(key: &str) -> Option<String> {
    std::fs::read_to_string(sysctl_path(Path::new(PROC_SYS), key))
        .ok()
        .map(|v| normalise_sysctl_value(&v))
}

/// Writes a sysctl and reads it back.
pub fn write_sysctl(key: &str, value: &str) -> Result<(), LiveError> {
    let path = sysctl_path(Path::new(PROC_SYS), key);
    if let Err(source) = std::fs::write(&path, format!("{value}\n")) {
        return Err(LiveError::WriteSysctl { path, source });
    }
    match read_sysctl(key) {
        Some(v) if v == normalise_sysctl_value(value) => Ok(()),
        read => Err(LiveError::ReadBack {
            key: key.to_string(),
            value: value.to_string(),
            read,
        }),
    }
}

/// Whether a module is loaded (or built in) now.
pub fn module_loaded(name: &str) -> bool {
    Path::new("/sys/module").join(name).exists()
}

/// Runs a command; its stderr (or exit status) is the error.
pub fn run(words: &[String]) -> Result<(), LiveError> {
    let Some((program, args)) = words.split_first() else {
        return Ok(());
    };
    let command = words.join(" ");
    let out = match Command::new(program).args(args).output() {
        Ok(out) => out,
        Err(source) => return Err(LiveError::Start { command, source }),
    };
    if out.status.success() {
        Ok(())
    } else {
        Err(LiveError::Failed {
            command,
            status: out.status,
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        })
    }
}

fn words(w: &[&str]) -> Vec<String> {
    w.iter().map(|s| s.to_string()).collect()
}

pub fn modprobe(name: &str) -> Result<(), LiveError> {
    run(&words(&["modprobe", "--", name]))
}

pub fn unload_module(name: &str) -> Result<(), LiveError> {
    run(&words(&["modprobe", "-r", "--", name]))
}

pub fn swapoff(device: &str) -> Result<(), LiveError> {
    run(&words(&["swapoff", "--", device]))
}

pub fn swapon(device: &str) -> Result<(), LiveError> {
    run(&words(&["swapon", "--", device]))
}
