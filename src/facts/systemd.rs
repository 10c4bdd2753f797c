//! A systemd service as systemd would start it: which unit file and drop-ins it loads, the
//! environment its `Environment=`/`EnvironmentFile=` settings give the process, and its `ExecStart=`
//! command line after variable expansion, every word traced to the file and line it came from.
//!
//! Gathered by `crate::gather::systemd`; judged by the kubelet node-address model (which reads
//! kubelet's flags from the command line) and by the service checks.

use serde::{Deserialize, Serialize};

/// One service unit as systemd would load it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceUnit {
    /// The unit name, e.g. `kubelet.service`.
    pub name: String,
    /// The unit file that won the unit search path (host path), `null` when only drop-ins exist.
    pub fragment: Option<String>,
    /// The unit file is a symbolic link to `/dev/null`: systemd refuses to start it.
    pub masked: bool,
    /// Drop-in files (host paths) in the order systemd applies them: by file name across all
    /// drop-in directories, a name in a higher-precedence directory hiding the same name below.
    pub drop_ins: Vec<String>,
    /// The environment the process gets from the unit, by name in first-definition order; files
    /// read through `EnvironmentFile=` override `Environment=`, later settings override earlier ones.
    pub environment: Vec<EnvVar>,
    /// Every `EnvironmentFile=` in effect, in order, with what reading it gave.
    pub environment_files: Vec<EnvironmentFileRead>,
    /// The effective `ExecStart=`, `null` when there is none or systemd would refuse the unit.
    pub exec_start: Option<ExecStart>,
    /// What systemd would ignore or refuse while loading the unit (with file and line), in order.
    #[serde(default)]
    pub notes: Vec<String>,
}

/// One environment variable and where its value was set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvVar {
    pub name: String,
    pub value: String,
    /// `FILE:LINE` of the assignment that won.
    pub source: String,
}

/// An `EnvironmentFile=` setting and the outcome of reading it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentFileRead {
    /// The file named (host path, without the `-` prefix).
    pub path: String,
    /// Declared with a `-` prefix: a missing file is not an error.
    pub optional: bool,
    /// `FILE:LINE` of the `EnvironmentFile=` line.
    pub declared_at: String,
    pub state: EnvironmentFileState,
    /// Why the file could not be read, when it could not.
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnvironmentFileState {
    Read,
    /// Missing and optional: systemd goes on without it.
    Missing,
    /// Missing and not optional, or unreadable: systemd refuses to start the service.
    Failed,
}

/// The command line systemd runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecStart {
    /// `FILE:LINE` of the `ExecStart=` that won.
    pub declared_at: String,
    /// The setting's value as written.
    pub command_line: String,
    /// The argument vector after `$VAR`/`${VAR}` expansion, the program first (without systemd's
    /// `-@:+!` prefixes).
    pub argv: Vec<ExecArg>,
}

/// One word of the expanded command line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecArg {
    pub value: String,
    /// Where the word came from: the `ExecStart=` line (`FILE:LINE`) or the variable it was expanded
    /// from and that variable's source (`$KUBELET_EXTRA_ARGS from /etc/default/kubelet:1`).
    pub origin: String,
}

impl ServiceUnit {
    /// The effective value of an environment variable.
    pub fn env(&self, name: &str) -> Option<&EnvVar> {
        self.environment.iter().find(|v| v.name == name)
    }
}
