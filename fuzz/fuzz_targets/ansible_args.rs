//! The Ansible module's args file: its JSON text, then the module parameters in it.
#![no_main]
use nodecheck::ansible::{params, parse_args_text};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(arguments) = parse_args_text(text, "args") {
        let _ = params::is_module_arguments(&arguments);
        let _ = params::parse(&arguments);
    }
});
