//! The Go-regexp (RE2 syntax) to Rust translation behind Calico's interface= and skip-interface=.
#![no_main]
use nodecheck::calico::go_regexp::{compile, matches, GoNamedGroups};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(pattern) = std::str::from_utf8(data) else {
        return;
    };
    for named in [GoNamedGroups::POnly, GoNamedGroups::AngleToo] {
        if let Ok(re) = compile(pattern, named) {
            let _ = matches(&re, "eth0");
            let _ = matches(&re, pattern);
        }
    }
});
