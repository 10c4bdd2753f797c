//! The HTTP response parser shared by the felix-health probe and the Docker API (what a hostile server can
//! send), and the Docker network list behind the latter.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = nodecheck::gather::http::parse_response(data);
    let _ = nodecheck::gather::http::is_complete(data);
    if let Ok((_, body)) = nodecheck::gather::docker::parse_http_response(data) {
        let _ = nodecheck::gather::docker::parse_networks(&body);
    }
    let _ = nodecheck::gather::docker::parse_networks(data);
});
