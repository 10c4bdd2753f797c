//! The DNS reply decoder of the cluster-DNS probe and the node-name lookup (what a hostile DNS server can send).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(reply) = nodecheck::gather::dns_wire::decode_reply(data) {
        let _ = nodecheck::gather::dns_wire::addresses(&reply);
        let _ = nodecheck::gather::dns_wire::rcode_name(reply.rcode);
    }
});
