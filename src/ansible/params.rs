//! The Ansible module's parameters: parsed and validated from the JSON args file, with the messages
//! Ansible users know ("Unsupported parameters for (nodecheck) module: ...").
//!
//! Ansible hands values over as the playbook typed them, or as strings after templating, so booleans
//! accept Ansible's spellings (`yes`, `true`, `1`, `on`, ...) and lists accept a comma-separated string.

use std::path::PathBuf;

use clap::ValueEnum;
use serde_json::{Map, Value};

use crate::checks::Phase;
use crate::cli::FamilyChoice;

/// Every parameter the module accepts, in the order the documentation lists them.
pub const PARAMETER_NAMES: [&str; 15] = [
    "command",
    "profile",
    "phase",
    "peers",
    "skip",
    "strict",
    "max_peer_age",
    "baseline",
    "calico_version",
    "family",
    "fix",
    "only",
    "restart_services",
    "root",
    "facts",
];

/// The commands a parameter means something to (`command` itself applies to all).
fn applies_to(parameter: &str) -> &'static [ModuleCommand] {
    use ModuleCommand::{Calico, Check, Facts, Fix};
    match parameter {
        "profile" | "peers" => &[Check, Calico, Fix],
        "calico_version" => &[Check, Calico],
        "phase" | "skip" | "strict" | "max_peer_age" | "baseline" => &[Check],
        "family" => &[Calico],
        "fix" | "only" | "restart_services" | "root" | "facts" => &[Fix],
        _ => &[Facts, Check, Calico, Fix],
    }
}

/// Keys Ansible adds to every module's arguments (`_ansible_check_mode`, `_ansible_version`, ...).
pub const ANSIBLE_INTERNAL_PREFIX: &str = "_ansible_";

/// What the module runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModuleCommand {
    /// Gather this host's facts.
    Facts,
    /// Judge the host against the profile, peers and baseline.
    Check,
    /// Predict Calico's autodetection and recommend a method.
    Calico,
    /// Plan (`fix: check`) or make (`fix: apply`) the changes that fix the failing checks.
    Fix,
}

/// `fix:` — what `command: fix` does outside check mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FixMode {
    /// Plan only (like `--check`): `changed` tells whether anything would change.
    Check,
    /// Make the changes (like `--apply`); in check mode it plans only.
    Apply,
}

/// The validated parameters of one module call.
#[derive(Debug, Clone, PartialEq)]
pub struct ModuleParams {
    pub command: ModuleCommand,
    pub profile: Option<PathBuf>,
    pub phase: Option<Phase>,
    pub peers: Vec<PathBuf>,
    pub skip: Vec<String>,
    pub strict: bool,
    /// `max_peer_age:` — `--max-peer-age`, as the command line spells it (`12h`, `2d`).
    pub max_peer_age: Option<String>,
    pub baseline: Option<PathBuf>,
    pub calico_version: Option<String>,
    pub family: Option<FamilyChoice>,
    pub fix: FixMode,
    pub only: Vec<String>,
    pub restart_services: bool,
    /// `root:` — write under this directory, no live changes (image builds, chroots, tests).
    pub root: Option<PathBuf>,
    /// `facts:` — plan from this saved snapshot (with `fix: apply` only together with `root`).
    pub facts: Option<PathBuf>,
    /// `_ansible_check_mode`: the play runs with `--check`.
    pub check_mode: bool,
    /// `_ansible_diff`: the play runs with `--diff`.
    pub diff_mode: bool,
    /// The caller's own parameters (Ansible's internal keys removed), echoed back as `invocation`.
    pub given: Map<String, Value>,
}

/// True when `args` looks like an Ansible module call: it carries Ansible's internal keys, or it is a
/// non-empty object made only of this module's parameters.
pub fn is_module_arguments(args: &Map<String, Value>) -> bool {
    args.keys().any(|k| k.starts_with(ANSIBLE_INTERNAL_PREFIX))
        || (!args.is_empty() && args.keys().all(|k| PARAMETER_NAMES.contains(&k.as_str())))
}

/// Parses and validates the module arguments. The error is the complete message for `msg`.
pub fn parse(args: &Map<String, Value>) -> Result<ModuleParams, String> {
    let unsupported: Vec<&str> = args
        .keys()
        .map(String::as_str)
        .filter(|k| !k.starts_with(ANSIBLE_INTERNAL_PREFIX) && !PARAMETER_NAMES.contains(k))
        .collect();
    if !unsupported.is_empty() {
        return Err(format!(
            "Unsupported parameters for (nodecheck) module: {}. Supported parameters include: {}.",
            unsupported.join(", "),
            PARAMETER_NAMES.join(", ")
        ));
    }
    let given: Map<String, Value> = args
        .iter()
        .filter(|(k, _)| !k.starts_with(ANSIBLE_INTERNAL_PREFIX))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let get = |name: &str| args.get(name).filter(|v| !v.is_null());

    // `fix: apply` alone means `command: fix`.
    let command = match (get("command"), get("fix")) {
        (Some(v), _) => one_of::<ModuleCommand>("command", v)?,
        (None, Some(_)) => ModuleCommand::Fix,
        (None, None) => ModuleCommand::Check,
    };
    let params = ModuleParams {
        command,
        profile: get("profile").map(|v| path("profile", v)).transpose()?,
        phase: get("phase").map(|v| one_of("phase", v)).transpose()?,
        peers: get("peers")
            .map(|v| list("peers", v))
            .transpose()?
            .unwrap_or_default()
            .into_iter()
            .map(PathBuf::from)
            .collect(),
        skip: get("skip")
            .map(|v| list("skip", v))
            .transpose()?
            .unwrap_or_default(),
        strict: get("strict")
            .map(|v| boolean("strict", v))
            .transpose()?
            .unwrap_or(false),
        max_peer_age: get("max_peer_age")
            .map(|v| {
                let text = string("max_peer_age", v)?;
                crate::cli::parse_age(&text).map_err(|e| format!("max_peer_age: {e}"))?;
                Ok::<_, String>(text.trim().to_string())
            })
            .transpose()?,
        baseline: get("baseline").map(|v| path("baseline", v)).transpose()?,
        calico_version: get("calico_version")
            .map(|v| string("calico_version", v))
            .transpose()?,
        family: get("family").map(|v| one_of("family", v)).transpose()?,
        fix: get("fix")
            .map(|v| one_of("fix", v))
            .transpose()?
            .unwrap_or(FixMode::Check),
        only: get("only")
            .map(|v| list("only", v))
            .transpose()?
            .unwrap_or_default(),
        restart_services: get("restart_services")
            .map(|v| boolean("restart_services", v))
            .transpose()?
            .unwrap_or(false),
        root: get("root").map(|v| path("root", v)).transpose()?,
        facts: get("facts").map(|v| path("facts", v)).transpose()?,
        check_mode: args
            .get("_ansible_check_mode")
            .map(|v| boolean("_ansible_check_mode", v))
            .transpose()?
            .unwrap_or(false),
        diff_mode: args
            .get("_ansible_diff")
            .map(|v| boolean("_ansible_diff", v))
            .transpose()?
            .unwrap_or(false),
        given,
    };
    refuse_parameters_the_command_ignores(&params)?;
    Ok(params)
}

/// A parameter that the chosen command would silently ignore is a mistake in the playbook: say so.
/// Unset values (null, false, an empty string or list) are not mistakes.
fn refuse_parameters_the_command_ignores(p: &ModuleParams) -> Result<(), String> {
    let is_set = |value: &Value| match value {
        Value::Null | Value::Bool(false) => false,
        Value::String(s) => !s.trim().is_empty(),
        Value::Array(items) => !items.is_empty(),
        _ => true,
    };
    let ignored: Vec<&str> = p
        .given
        .iter()
        .filter(|(name, value)| is_set(value) && !applies_to(name).contains(&p.command))
        .map(|(name, _)| name.as_str())
        .collect();
    if ignored.is_empty() {
        return Ok(());
    }
    let (noun, verb, them) = if ignored.len() == 1 {
        ("parameter", "does", "it")
    } else {
        ("parameters", "do", "them")
    };
    Err(format!(
        "{noun} {} {verb} not apply to command={}; remove {them} from the task or pick another command",
        ignored.join(", "),
        value_name(p.command)
    ))
}

/// The name clap (and so the command line) uses for a value-enum variant.
pub fn value_name<T: ValueEnum>(value: T) -> String {
    value
        .to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default()
}

fn one_of<T: ValueEnum>(name: &str, value: &Value) -> Result<T, String> {
    let text = string(name, value)?;
    T::from_str(text.trim(), true).map_err(|_| {
        let choices: Vec<String> = T::value_variants()
            .iter()
            .map(|v| value_name(v.clone()))
            .collect();
        format!(
            "value of {name} must be one of: {}, got: {text}",
            choices.join(", ")
        )
    })
}

fn string(name: &str, value: &Value) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(format!(
            "{name} must be a string, got {}",
            json_type_name(other)
        )),
    }
}

fn path(name: &str, value: &Value) -> Result<PathBuf, String> {
    let text = string(name, value)?;
    if text.trim().is_empty() {
        return Err(format!("{name} must be a path, got an empty string"));
    }
    Ok(PathBuf::from(text))
}

/// A list of strings, or one comma-separated string (Ansible's `type: list` conversion).
fn list(name: &str, value: &Value) -> Result<Vec<String>, String> {
    match value {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| string(&format!("{name}[{i}]"), item))
            .collect(),
        Value::String(s) => Ok(s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()),
        other => Err(format!(
            "{name} must be a list of strings, got {}",
            json_type_name(other)
        )),
    }
}

/// Ansible's boolean conversion: the spellings `ansible.module_utils.parsing.convert_bool` accepts.
fn boolean(name: &str, value: &Value) -> Result<bool, String> {
    let text = match value {
        Value::Bool(b) => return Ok(*b),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_ascii_lowercase(),
        other => {
            return Err(format!(
                "{name} must be a boolean, got {}",
                json_type_name(other)
            ))
        }
    };
    match text.as_str() {
        "y" | "yes" | "on" | "1" | "true" | "t" | "1.0" => Ok(true),
        "n" | "no" | "off" | "0" | "false" | "f" | "0.0" | "" => Ok(false),
        _ => Err(format!(
            "{name} must be a boolean (yes/no, true/false), got: {text}"
        )),
    }
}

fn json_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a dictionary",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn defaults_to_check_and_reads_check_mode() {
        let p = parse(&object(
            json!({"_ansible_check_mode": true, "_ansible_version": "2.19"}),
        ))
        .unwrap();
        assert_eq!(p.command, ModuleCommand::Check);
        assert!(p.check_mode);
        assert!(p.given.is_empty());
    }

    #[test]
    fn accepts_ansible_spellings_of_lists_and_booleans() {
        let p = parse(&object(json!({
            "command": "check",
            "peers": "/a, /b",
            "skip": ["Swap", "Port-10250"],
            "strict": "yes",
            "phase": "post-join",
        })))
        .unwrap();
        assert_eq!(p.peers, [PathBuf::from("/a"), PathBuf::from("/b")]);
        assert_eq!(p.skip, ["Swap", "Port-10250"]);
        assert!(p.strict);
        assert_eq!(p.phase, Some(Phase::PostJoin));
    }

    #[test]
    fn unknown_parameters_are_named() {
        let err = parse(&object(json!({"command": "check", "profil": "/x"}))).unwrap_err();
        assert!(
            err.contains("Unsupported parameters for (nodecheck) module: profil"),
            "{err}"
        );
        assert!(err.contains("profile"), "{err}");
    }

    #[test]
    fn bad_choice_lists_the_choices() {
        let err = parse(&object(json!({"phase": "after-join"}))).unwrap_err();
        assert_eq!(
            err,
            "value of phase must be one of: pre-join, post-join, post-boot, got: after-join"
        );
        let err = parse(&object(json!({"strict": "maybe"}))).unwrap_err();
        assert!(err.contains("strict must be a boolean"), "{err}");
        let err = parse(&object(json!({"peers": {"a": 1}}))).unwrap_err();
        assert!(
            err.contains("peers must be a list of strings, got a dictionary"),
            "{err}"
        );
    }

    #[test]
    fn parameters_the_command_ignores_are_refused() {
        let err = parse(&object(json!({"command": "facts", "phase": "pre-join"}))).unwrap_err();
        assert!(
            err.contains("parameter phase does not apply to command=facts"),
            "{err}"
        );
        let err = parse(&object(json!({"command": "calico", "strict": true}))).unwrap_err();
        assert!(
            err.contains("parameter strict does not apply to command=calico"),
            "{err}"
        );
        assert!(parse(&object(json!({"command": "calico", "family": "both"}))).is_ok());
        let err = parse(&object(
            json!({"command": "facts", "skip": ["A"], "profile": "/p"}),
        ))
        .unwrap_err();
        assert!(
            err.starts_with("parameters skip, profile do not apply to command=facts; remove them"),
            "{err}"
        );
        let unset = json!({"command": "facts", "strict": false, "peers": [], "phase": null});
        assert!(parse(&object(unset)).is_ok());
    }

    #[test]
    fn module_arguments_are_told_from_other_json() {
        assert!(is_module_arguments(&object(
            json!({"_ansible_check_mode": false})
        )));
        assert!(is_module_arguments(&object(json!({"command": "facts"}))));
        assert!(!is_module_arguments(&object(json!({}))));
        assert!(!is_module_arguments(&object(
            json!({"schema_version": 1, "host": {}})
        )));
    }
}
