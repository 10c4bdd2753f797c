//! A systemd service as systemd would start it: which unit file and drop-ins it loads, the
//! environment its `Environment=`/`EnvironmentFile=` settings give the process, and its `ExecStart=`
//! command line after variable expansion, every word traced to the file and line it came from.
//!
//! The word syntax of `ExecStart=`/`Environment=` values ([`split_command_line`]) lives here because
//! both the reader and the judges of these facts need it. Gathered by `crate::gather::systemd`; judged by the kubelet node-address model (which reads
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
    /// The value, URL credentials masked; empty when [`EnvVar::withheld`].
    pub value: String,
    /// `FILE:LINE` of the assignment that won.
    pub source: String,
    /// The variable is set but its value is not recorded: nodecheck reads only kubelet's and
    /// kubeadm's argument variables, the proxy variables and the variables `ExecStart=` expands, and
    /// anything else in a unit's environment (tokens, cloud keys) stays on the host.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub withheld: bool,
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

/// Splits a setting value into words as systemd does for `ExecStart=` and `Environment=`: words
/// separated by whitespace, `"…"` and `'…'` quoting (adjacent pieces join into one word), and C
/// escapes (`\n`, `\t`, `\\`, `\"`, `\xNN`, …) inside and outside quotes.
pub fn split_command_line(value: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut chars = value.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            return Ok(words);
        }
        let mut word = String::new();
        let mut quote: Option<char> = None;
        while let Some(&c) = chars.peek() {
            match (quote, c) {
                (None, c) if c.is_whitespace() => break,
                (None, '"' | '\'') => {
                    quote = Some(c);
                    chars.next();
                }
                (Some(q), c) if c == q => {
                    quote = None;
                    chars.next();
                }
                (_, '\\') => {
                    chars.next();
                    word.push(unescape(&mut chars)?);
                }
                (_, c) => {
                    word.push(c);
                    chars.next();
                }
            }
        }
        if let Some(q) = quote {
            return Err(format!("unbalanced {q} quote"));
        }
        words.push(word);
    }
}

/// One C escape after a backslash.
fn unescape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<char, String> {
    let c = chars
        .next()
        .ok_or_else(|| "a backslash ends the value".to_string())?;
    Ok(match c {
        'n' => '\n',
        't' => '\t',
        'r' => '\r',
        'a' => '\u{7}',
        'b' => '\u{8}',
        'f' => '\u{c}',
        'v' => '\u{b}',
        's' => ' ',
        'x' => {
            let hex: String = [chars.next(), chars.next()].into_iter().flatten().collect();
            u8::from_str_radix(&hex, 16)
                .map(char::from)
                .map_err(|_| format!("bad escape \\x{hex}"))?
        }
        other => other,
    })
}
