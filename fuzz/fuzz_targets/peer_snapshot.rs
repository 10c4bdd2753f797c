//! A `nodecheck facts` snapshot given as a peer, with and without a known schema version.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = nodecheck::peers::snapshot::parse_snapshot(data, Some(1));
    let _ = nodecheck::peers::snapshot::parse_snapshot(data, None);
});
