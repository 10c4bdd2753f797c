//! `kubectl get nodes -o json` lists and single Node objects, from memory and streamed.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let in_memory = nodecheck::peers::kubectl::parse_slice(data).map(|d| d.nodes.len());
    let streamed = nodecheck::peers::kubectl::parse_reader(data).map(|d| d.nodes.len());
    // Both ways of reading must agree on what they accept.
    assert_eq!(in_memory.is_ok(), streamed.is_ok());
});
