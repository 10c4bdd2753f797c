//! A `--calico-config` document: a calico-node DaemonSet (YAML, multi-document, or kubectl JSON), an
//! operator Installation, Helm values, or a List of these, and the methods read from it.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = nodecheck::calico::deployed::parse(text, "fuzz.yaml");
});
