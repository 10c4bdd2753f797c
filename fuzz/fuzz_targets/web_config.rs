//! `serve --web-config-file`: the exporters' web configuration (tls_server_config, basic_auth_users).
//! Certificate paths point nowhere readable, so TLS settings end in a clean error, never a panic.
#![no_main]
use nodecheck::commands::serve::web_config;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = web_config::parse(text, "web.yml");
    let _ = web_config::build(
        text,
        "web.yml",
        std::path::Path::new("/nonexistent-fuzz-dir"),
    );
});
