//! nodecheck as an Ansible module, by Ansible's binary-module protocol: Ansible copies the executable to
//! the target, writes the task's arguments as a JSON object to a file, runs the executable with that
//! file's path as its only argument, and reads exactly one JSON object from stdout.
//!
//! `main` asks [`module_args_file`] before parsing the command line; when it answers, [`run`] does the
//! rest. Module mode always exits 0: Ansible reads `failed` from the JSON, not the exit code.
//! facts, check and calico are read-only, so check mode is honoured by running as usual and saying so;
//! `command: fix` changes the host only with `fix: apply` outside check mode, and reports `changed` and
//! Ansible's `diff` truthfully.

pub mod fix_result;
pub mod invoke;
pub mod params;
pub mod result;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::{Map, Value};

use params::ModuleCommand;

/// Ansible's args files are small; anything larger is not one.
const MAX_ARGS_FILE_BYTES: u64 = 1024 * 1024;

/// The args file, when this process was started as an Ansible module: exactly one argument, naming an
/// existing file that holds a JSON object of module arguments (see [`params::is_module_arguments`]),
/// or a file that starts like one (`{`, possibly after a byte-order mark) but is broken — truncated,
/// trailing garbage, too deep, too large — so that Ansible gets a JSON failure naming the problem
/// instead of the command line's usage error. Costs one `stat` on ordinary command lines. The same
/// call works by hand, to try the module: `echo '{"command": "facts"}' >args && nodecheck args`.
pub fn module_args_file(args: &[OsString]) -> Option<PathBuf> {
    let [_program, only] = args else {
        return None;
    };
    let path = PathBuf::from(only);
    // Flags (and `-`, stdin) are never an args file; a file named like a subcommand could be.
    if only.to_string_lossy().starts_with('-') || !path.is_file() {
        return None;
    }
    match read_args_file(&path) {
        Ok(arguments) => params::is_module_arguments(&arguments).then_some(path),
        Err(_) => starts_like_a_json_object(&path).then_some(path),
    }
}

/// Whether the file's first non-blank byte (after a UTF-8 byte-order mark) opens a JSON object.
fn starts_like_a_json_object(path: &Path) -> bool {
    use std::io::Read;
    let Ok(file) = crate::input::open_regular_file(path) else {
        return false;
    };
    let mut prefix = Vec::new();
    if file.take(4096).read_to_end(&mut prefix).is_err() {
        return false;
    }
    let text = prefix.strip_prefix(UTF8_BOM).unwrap_or(&prefix);
    text.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Runs one module call and prints its single JSON result. Returns exit code 0 unless stdout is gone.
pub fn run(args_file: &Path) -> ExitCode {
    let answer = read_args_file(args_file)
        .and_then(|arguments| params::parse(&arguments))
        .map_or_else(result::failure, |p| execute(&p));
    let mut line = serde_json::to_string(&Value::Object(answer)).unwrap_or_else(|e| {
        format!(r#"{{"failed": true, "msg": "cannot encode the result: {e}"}}"#)
    });
    line.push('\n');
    match crate::output::print_stdout(&line) {
        Ok(()) => crate::error::Exit::Ok.into(),
        Err(_) => crate::error::Exit::ToolFailed.into(),
    }
}

fn read_args_file(path: &Path) -> Result<Map<String, Value>, String> {
    let shown = path.display();
    let text = crate::input::read_input(path, MAX_ARGS_FILE_BYTES).map_err(|e| {
        format!("module arguments: {e} (Ansible writes them as one small JSON object)")
    })?;
    parse_args_text(&text, &shown.to_string())
}

/// The module arguments in an args file's text (`shown` names the file in messages): one JSON object.
pub fn parse_args_text(text: &str, shown: &str) -> Result<Map<String, Value>, String> {
    if text.as_bytes().starts_with(UTF8_BOM) {
        return Err(format!(
            "{shown}: module arguments start with a UTF-8 byte-order mark; Ansible writes plain JSON without one (was the file edited by hand?)"
        ));
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(arguments)) => Ok(arguments),
        Ok(_) => Err(format!("{shown}: module arguments must be a JSON object")),
        Err(e) if e.to_string().starts_with("recursion limit exceeded") => Err(format!(
            "{shown}: module arguments are nested more than 128 levels deep at line {} column {}; module parameters are flat",
            e.line(),
            e.column()
        )),
        Err(e) if e.to_string().starts_with("trailing characters") => Err(format!(
            "{shown}: module arguments have text after the JSON object, at line {} column {}",
            e.line(),
            e.column()
        )),
        Err(e) => Err(format!(
            "{shown}: module arguments are not valid JSON: {e}"
        )),
    }
}

/// `command: fix` answers with the plan (or the applied run), without a snapshot; every other command
/// gathers the facts first (they are returned under `ansible_facts`).
fn execute(p: &params::ModuleParams) -> Map<String, Value> {
    if p.command == ModuleCommand::Fix {
        return invoke::run_self(&invoke::command_args(p, "json"))
            .map(|fix| fix_result::fix_result(p, &fix))
            .unwrap_or_else(result::failure);
    }
    execute_with_facts(p)
}

fn execute_with_facts(p: &params::ModuleParams) -> Map<String, Value> {
    let run = |args: Vec<OsString>| invoke::run_self(&args);
    let facts = match run(invoke::facts_args()) {
        Ok(facts) => facts,
        Err(msg) => return result::failure(msg),
    };
    let outcome = match p.command {
        ModuleCommand::Facts => Ok(result::facts_result(p, &facts)),
        ModuleCommand::Check => run(invoke::command_args(p, "json"))
            .map(|check| result::check_result(p, &facts, &check)),
        ModuleCommand::Calico => run(invoke::command_args(p, "json")).and_then(|json| {
            run(invoke::command_args(p, "env"))
                .map(|env| result::calico_result(p, &facts, &json, &env))
        }),
        ModuleCommand::Fix => Err("command: fix is answered by fix_result".to_string()),
    };
    let mut answer = outcome.unwrap_or_else(result::failure);
    // Ansible keeps no facts from a failed task, but prints the whole result: the snapshot (megabytes
    // on a busy node) would only bury the failing checks.
    if answer.get("failed") == Some(&Value::Bool(true)) {
        answer.remove("ansible_facts");
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(args: &[&str]) -> Vec<OsString> {
        std::iter::once("nodecheck")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect()
    }

    #[test]
    fn only_a_single_args_file_is_a_module_call() {
        let dir =
            std::env::temp_dir().join(format!("nodecheck-ansible-detect-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let args = dir.join("args");
        std::fs::write(
            &args,
            r#"{"command": "facts", "_ansible_check_mode": false}"#,
        )
        .unwrap();
        let snapshot = dir.join("facts.json");
        std::fs::write(&snapshot, r#"{"schema_version": 1}"#).unwrap();
        let not_json = dir.join("profile.yaml");
        std::fs::write(&not_json, "cluster: prod\n").unwrap();

        let args_str = args.to_str().unwrap();
        assert_eq!(module_args_file(&argv(&[args_str])), Some(args.clone()));
        assert_eq!(module_args_file(&argv(&["check", args_str])), None);
        assert_eq!(module_args_file(&argv(&[snapshot.to_str().unwrap()])), None);
        assert_eq!(module_args_file(&argv(&[not_json.to_str().unwrap()])), None);
        assert_eq!(module_args_file(&argv(&["facts"])), None);
        assert_eq!(module_args_file(&argv(&[])), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
