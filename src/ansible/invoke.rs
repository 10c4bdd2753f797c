//! Runs nodecheck's own command line for the Ansible module: the module's parameters become the flags of
//! `nodecheck facts|check|calico --format json`, run by this same executable.
//!
//! Going through the command line rather than calling the library keeps one contract: the module's
//! verdict is, by construction, the verdict `nodecheck check` gives with the same flags (profile
//! resolution, peers, skip list, live probes, exit codes), and its JSON is the documented report format.

use std::ffi::OsString;
use std::process::Command;

use super::params::{value_name, FixMode, ModuleCommand, ModuleParams};

/// One finished run of the command line.
#[derive(Debug, Clone)]
pub struct CliRun {
    /// The command line, for messages (`nodecheck check --format json ...`).
    pub shown: String,
    /// Exit code; `None` when killed by a signal.
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl CliRun {
    /// What went wrong, for `msg`: the diagnostics the command printed, else its exit status.
    pub fn failure_text(&self) -> String {
        let diagnostics = self.stderr.trim();
        let status = match self.code {
            Some(code) => format!("exit code {code}"),
            None => "killed by a signal".to_string(),
        };
        if diagnostics.is_empty() {
            format!("`{}` failed ({status})", self.shown)
        } else {
            format!("`{}` failed ({status}): {diagnostics}", self.shown)
        }
    }
}

/// `facts --format json`: the snapshot returned under `ansible_facts`.
pub fn facts_args() -> Vec<OsString> {
    ["facts", "--format", "json"].map(OsString::from).to_vec()
}

/// The flags of the module's main command, as the command line spells them.
pub fn command_args(p: &ModuleParams, format: &str) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec![
        value_name(p.command).into(),
        "--format".into(),
        format.into(),
    ];
    if let Some(profile) = &p.profile {
        args.extend(["--profile".into(), profile.into()]);
    }
    for peer in &p.peers {
        args.extend(["--peers".into(), peer.into()]);
    }
    if let Some(version) = &p.calico_version {
        args.extend(["--calico-version".into(), version.into()]);
    }
    match p.command {
        ModuleCommand::Facts => {}
        ModuleCommand::Check => {
            if let Some(phase) = p.phase {
                args.extend(["--phase".into(), value_name(phase).into()]);
            }
            if !p.skip.is_empty() {
                args.extend(["--skip".into(), p.skip.join(",").into()]);
            }
            if p.strict {
                args.push("--strict".into());
            }
            if let Some(age) = &p.max_peer_age {
                args.extend(["--max-peer-age".into(), age.into()]);
            }
            if let Some(baseline) = &p.baseline {
                args.extend(["--baseline".into(), baseline.into()]);
            }
        }
        ModuleCommand::Calico => {
            if let Some(family) = p.family {
                args.extend(["--family".into(), value_name(family).into()]);
            }
        }
        ModuleCommand::Fix => {
            // The diff is always asked for: Ansible shows it only with --diff.
            args.push("--diff".into());
            if p.fix == FixMode::Apply && !p.check_mode {
                args.push("--apply".into());
            }
            if !p.only.is_empty() {
                args.extend(["--only".into(), p.only.join(",").into()]);
            }
            if p.restart_services {
                args.push("--restart-services".into());
            }
            if let Some(root) = &p.root {
                args.extend(["--root".into(), root.into()]);
            }
            if let Some(facts) = &p.facts {
                args.extend(["--facts".into(), facts.into()]);
            }
        }
    }
    args
}

/// Runs this executable with `args` and collects its output. Fails only when it cannot be started.
pub fn run_self(args: &[OsString]) -> Result<CliRun, String> {
    let exe = std::env::current_exe()
        .map_err(|e| format!("cannot find the nodecheck executable to run: {e}"))?;
    let shown = std::iter::once("nodecheck".to_string())
        .chain(
            args.iter()
                .map(|a| crate::escape::shell_quote(&a.to_string_lossy())),
        )
        .collect::<Vec<_>>()
        .join(" ");
    let out = Command::new(&exe)
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
    Ok(CliRun {
        shown,
        code: out.status.code(),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ansible::params::parse;
    use serde_json::json;

    fn args_of(v: serde_json::Value) -> Vec<String> {
        let p = parse(v.as_object().unwrap()).unwrap();
        command_args(&p, "json")
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect()
    }

    #[test]
    fn check_parameters_become_check_flags() {
        let args = args_of(json!({
            "command": "check", "profile": "/etc/p.yaml", "phase": "post-boot",
            "peers": ["/a", "/b"], "skip": ["Swap", "Port-*"], "strict": true,
            "baseline": "/var/lib/b.json", "calico_version": "3.27.0",
        }));
        assert_eq!(
            args,
            [
                "check",
                "--format",
                "json",
                "--profile",
                "/etc/p.yaml",
                "--peers",
                "/a",
                "--peers",
                "/b",
                "--calico-version",
                "3.27.0",
                "--phase",
                "post-boot",
                "--skip",
                "Swap,Port-*",
                "--strict",
                "--baseline",
                "/var/lib/b.json",
            ]
        );
    }

    #[test]
    fn calico_parameters_become_calico_flags() {
        let args = args_of(json!({"command": "calico", "family": "both", "peers": "/fleet"}));
        assert_eq!(
            args,
            ["calico", "--format", "json", "--peers", "/fleet", "--family", "both"]
        );
    }

    #[test]
    fn every_generated_command_line_parses() {
        use clap::Parser;
        for v in [
            json!({"command": "facts"}),
            json!({"command": "check", "phase": "post-join", "skip": "A,B", "strict": "yes", "max_peer_age": "2d"}),
            json!({"command": "calico", "family": "ipv6", "calico_version": "3.28.0"}),
            json!({"fix": "apply", "only": "Sysctl-*,Swap", "restart_services": true, "root": "/r", "facts": "/f"}),
            json!({"command": "fix", "_ansible_check_mode": true, "fix": "apply"}),
        ] {
            let mut argv = vec!["nodecheck".to_string()];
            argv.extend(args_of(v.clone()));
            crate::cli::Cli::try_parse_from(&argv)
                .unwrap_or_else(|e| panic!("{v}: {argv:?} does not parse: {e}"));
        }
    }
}
