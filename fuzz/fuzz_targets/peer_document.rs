//! A peer document as `--peers` reads it: format detection, then the parser of the detected format;
//! and the loader's whole dispatch, text forms (ad-hoc output, YAML) included.
#![no_main]
use nodecheck::peers::detect::{detect_slice, Format};
use nodecheck::peers::{ansible, kubectl, snapshot};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = nodecheck::peers::load::parse_document_bytes(data);
    let Ok(format) = detect_slice(data) else {
        return;
    };
    let _ = match format {
        Format::Snapshot { schema_version } => snapshot::parse_snapshot(data, schema_version)
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Format::AnsibleResult => ansible::parse_ansible(data, ansible::Shape::ModuleResult)
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Format::AnsibleFactCache => ansible::parse_ansible(data, ansible::Shape::FactCache)
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Format::AnsiblePayloadCache => ansible::parse_payload_cache(data)
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Format::Kubernetes => kubectl::parse_slice(data)
            .map(|_| ())
            .map_err(|e| e.to_string()),
    };
});
