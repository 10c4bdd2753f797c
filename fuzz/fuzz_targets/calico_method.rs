//! IP_AUTODETECTION_METHOD values as calico-node versions parse them.
#![no_main]
use nodecheck::calico::method::{parse_method, split_list};
use nodecheck::profile::calico_version::CalicoVersion;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(value) = std::str::from_utf8(data) else {
        return;
    };
    let _ = split_list(value);
    for version in ["3.20.0", "3.24.1", "3.28.0"] {
        let version: CalicoVersion = version.parse().expect("a valid version");
        let _ = parse_method(value, &version);
    }
    let _ = value.parse::<CalicoVersion>();
});
