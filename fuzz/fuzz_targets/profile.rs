//! The cluster profile loader: YAML parsing, per-value validation, cross-field rules and error locations.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = nodecheck::profile::load::parse_profile(text, "fuzz.yaml");
    }
});
