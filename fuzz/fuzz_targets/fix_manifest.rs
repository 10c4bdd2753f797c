//! A `fix` run record as `--rollback` and `--history` read it: `manifest.json` parsed
//! (`fix::manifest::parse`), then validated the way a rollback checks it before acting
//! (`Manifest::validate`: target paths, created directories, saved-content names, keys, services).
//! A manifest that passes must serialise and parse back to itself.
#![no_main]
use nodecheck::fix::manifest::{parse, render, Manifest};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(manifest) = parse(data) else {
        return;
    };
    if manifest.validate().is_err() {
        return;
    }
    let text = render(&manifest).expect("a parsed manifest serialises");
    let again: Manifest = parse(text.as_bytes()).expect("a serialised manifest parses");
    assert_eq!(again, manifest);
});
