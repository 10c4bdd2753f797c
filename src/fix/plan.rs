//! The remediation plan's types: typed changes, each tied to the check IDs it fixes, with the file or
//! live setting it touches (before → after), when it takes effect, and its side effects. Planners
//! build a [`Plan`] purely; `apply` carries it out, `rollback` undoes it, `render` shows it.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// What `nodecheck fix` would do (or did) on this host.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Plan {
    /// Changes nodecheck makes itself, in the order `--apply` makes them.
    pub changes: Vec<Change>,
    /// Changes found but not made without `--force` (or not makeable at all), with the reason.
    pub held: Vec<Held>,
    /// Steps for the operator: cluster-wide settings, recreating compose networks, pending restarts.
    pub manual: Vec<ManualStep>,
}

impl Plan {
    /// Check IDs some change of the plan fixes.
    pub fn fixed_ids(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for id in self.changes.iter().flat_map(|c| c.fixes.iter()) {
            if !out.contains(id) {
                out.push(id.clone());
            }
        }
        out
    }
    /// The side effects of all changes, each once, in first-seen order.
    pub fn side_effects(&self) -> Vec<SideEffect> {
        let mut out: Vec<SideEffect> = Vec::new();
        for e in self.changes.iter().flat_map(|c| c.side_effects.iter()) {
            if !out.contains(e) {
                out.push(e.clone());
            }
        }
        out
    }
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

/// The change kinds `fix` knows (docs/fix.md has one section per kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    NicName,
    NodeIp,
    Sysctl,
    Module,
    Swap,
    DockerBridges,
    NetworkManager,
    UnitLimits,
    /// `node-ip` / `flannel-iface` in a k3s or RKE2 `config.yaml`.
    K3sConfig,
}

impl ChangeKind {
    pub fn title(self) -> &'static str {
        match self {
            ChangeKind::NicName => "NIC name",
            ChangeKind::NodeIp => "kubelet node IP",
            ChangeKind::Sysctl => "sysctl",
            ChangeKind::Module => "kernel module",
            ChangeKind::Swap => "swap",
            ChangeKind::DockerBridges => "Docker bridges",
            ChangeKind::NetworkManager => "NetworkManager",
            ChangeKind::UnitLimits => "unit limits",
            ChangeKind::K3sConfig => "k3s/RKE2 configuration",
        }
    }
}

/// One change: a file written, a symlink created, or a live setting changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// The check IDs this change fixes.
    pub fixes: Vec<String>,
    pub kind: ChangeKind,
    /// One line for the operator: what changes and why.
    pub summary: String,
    pub target: Target,
    pub takes_effect: TakesEffect,
    pub side_effects: Vec<SideEffect>,
    /// Warnings the operator should read before applying (e.g. a forced rename into `ethN`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// What a change touches. File paths are absolute paths on the host; `--root` is prefixed when applying.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Target {
    /// A whole file's new content; `before` is `null` when it does not exist yet.
    File {
        path: PathBuf,
        before: Option<String>,
        after: String,
        /// Mode of a new file (an existing file keeps its mode and owner).
        new_mode: u32,
    },
    /// A systemd unit masked: a symlink to /dev/null in /etc/systemd/system (what `systemctl mask` does).
    MaskUnit { path: PathBuf, unit: String },
    /// A kernel parameter in /proc/sys, now; `before` is `null` when the key does not exist yet.
    Sysctl {
        key: String,
        before: Option<String>,
        after: String,
    },
    /// `modprobe <name>` now.
    LoadModule { name: String },
    /// `swapoff <device>` now.
    SwapOff { device: String },
}

impl Target {
    /// What the change touches, for one line of output.
    pub fn subject(&self) -> String {
        match self {
            Target::File { path, .. } | Target::MaskUnit { path, .. } => path.display().to_string(),
            Target::Sysctl { key, .. } => format!("sysctl {key} (live)"),
            Target::LoadModule { name } => format!("module {name} (live)"),
            Target::SwapOff { device } => format!("swap {device} (live)"),
        }
    }
    /// True for changes to the running system (not made under `--root`).
    pub fn is_live(&self) -> bool {
        matches!(
            self,
            Target::Sysctl { .. } | Target::LoadModule { .. } | Target::SwapOff { .. }
        )
    }
}

/// When the change takes effect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TakesEffect {
    Now,
    NextBoot,
    /// When the named service restarts (or reloads).
    ServiceRestart(String),
}

impl TakesEffect {
    pub fn text(&self) -> String {
        match self {
            TakesEffect::Now => "now".to_string(),
            TakesEffect::NextBoot => "at the next boot".to_string(),
            TakesEffect::ServiceRestart(s) => format!("when {s} restarts"),
        }
    }
}

/// Something that has to happen after the changes for them to take effect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SideEffect {
    /// Rebuild the initramfs (so udev in early boot sees a new `.link` file); run on `--apply`.
    RebuildInitramfs { command: Vec<String> },
    /// A reboot is needed; never done by nodecheck.
    Reboot,
    /// Restart a service; run only with `--restart-services`.
    RestartService { unit: String },
    /// `systemctl reload <unit>`; run on `--apply`.
    ReloadService { unit: String },
    /// `systemctl daemon-reload` after masking units; run on `--apply`.
    DaemonReload,
}

impl SideEffect {
    pub fn text(&self) -> String {
        match self {
            SideEffect::RebuildInitramfs { command } => {
                format!("initramfs rebuild (`{}`)", command.join(" "))
            }
            SideEffect::Reboot => "reboot needed".to_string(),
            SideEffect::RestartService { unit } => {
                format!("{unit} restart (with --restart-services)")
            }
            SideEffect::ReloadService { unit } => format!("{unit} reload"),
            SideEffect::DaemonReload => "systemd daemon-reload".to_string(),
        }
    }
    /// The command that carries it out, when nodecheck runs one.
    pub fn command(&self) -> Option<Vec<String>> {
        let words = |w: &[&str]| Some(w.iter().map(|s| s.to_string()).collect());
        match self {
            SideEffect::RebuildInitramfs { command } => Some(command.clone()),
            SideEffect::Reboot => None,
            SideEffect::RestartService { unit } => words(&["systemctl", "restart", unit]),
            SideEffect::ReloadService { unit } => words(&["systemctl", "reload", unit]),
            SideEffect::DaemonReload => words(&["systemctl", "daemon-reload"]),
        }
    }
}

/// A change found but not made: it needs `--force`, or the host's state blocks it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Held {
    pub fixes: Vec<String>,
    pub kind: ChangeKind,
    pub reason: String,
    /// The change `--force` would make, when forcing is possible.
    pub change: Option<Change>,
}

/// A step nodecheck does not take itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ManualStep {
    pub fixes: Vec<String>,
    pub what: String,
    /// Commands (or patches) to run, shell-quoted.
    pub commands: Vec<String>,
}
