//! Plain Ansible facts in every layout `--peers` accepts: jsonfile caches (up to 2.18, and 2.19's
//! `__payload__`), `setup --tree` files, ad-hoc `host | SUCCESS => {…}` text with several hosts, YAML
//! caches, with `__ansible_unsafe` wrappers at any depth. The input goes through the peers loader's
//! own dispatch (JSON detection, else ad-hoc text, else YAML), so detection and each layout's mapping
//! of the setup facts are exercised together.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = nodecheck::peers::load::parse_document_bytes(data);
});
