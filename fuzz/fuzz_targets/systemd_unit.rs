//! systemd unit files, drop-ins, Environment=/EnvironmentFile= and ExecStart command lines.
#![no_main]
use nodecheck::gather::systemd::{
    parse_environment_file, parse_environment_setting, parse_unit_text, split_command_line,
};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse_unit_text(text);
    let _ = parse_environment_file(text);
    let _ = parse_environment_setting(text);
    let _ = split_command_line(text);
});
