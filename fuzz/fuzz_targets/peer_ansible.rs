//! Ansible peer inputs: module results, jsonfile fact caches and the ansible-core 2.19 payload cache.
#![no_main]
use nodecheck::peers::ansible::{parse_ansible, parse_payload_cache, Shape};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = parse_ansible(data, Shape::ModuleResult);
    let _ = parse_ansible(data, Shape::FactCache);
    let _ = parse_payload_cache(data);
});
