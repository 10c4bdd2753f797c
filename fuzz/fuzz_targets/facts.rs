//! A saved facts snapshot (`--facts`, `--baseline`): version probe and strict deserialisation.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = nodecheck::facts::load::parse_facts(text);
    }
});
