//! `ExecStart=` expansion against `Environment=` assignments: the input is a unit's `[Service]` text;
//! its assignments become the environment and its last `ExecStart=` is expanded, within the caps.
#![no_main]
use nodecheck::facts::systemd::EnvVar;
use nodecheck::gather::systemd::{
    expand_exec_argv, parse_environment_setting, parse_unit_text, split_command_line,
    MAX_EXPANDED_COMMAND_BYTES, MAX_EXPANDED_WORD_BYTES,
};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut env: Vec<EnvVar> = Vec::new();
    let mut exec = None;
    for setting in parse_unit_text(text) {
        match setting.key.as_str() {
            "Environment" => {
                let (assignments, _) = parse_environment_setting(&setting.value);
                env.extend(assignments.into_iter().map(|(name, value)| EnvVar {
                    name,
                    value,
                    source: format!("fuzz:{}", setting.line),
                    withheld: false,
                }));
            }
            "ExecStart" => exec = Some(setting.value),
            _ => {}
        }
    }
    let Some(Ok(words)) = exec.map(|line| split_command_line(&line)) else {
        return;
    };
    let expansion = expand_exec_argv(&words, &env, "fuzz:1");
    let total: usize = expansion.argv.iter().map(|a| a.value.len() + 1).sum();
    assert!(total <= MAX_EXPANDED_COMMAND_BYTES);
    assert!(expansion
        .argv
        .iter()
        .all(|a| a.value.len() <= MAX_EXPANDED_WORD_BYTES));
});
