//! Helpers shared by the post-join, post-boot and drift tests: finding results in a JSON report, and
//! a namespace with a node NIC and a default route.

use crate::util::result_by_id;
use serde_json::Value;

use crate::util::Netns;

/// Asserts a result's status and that its message contains every fragment.
pub fn assert_result(report: &Value, id: &str, status: &str, fragments: &[&str]) {
    let r = result_by_id(report, id);
    assert_eq!(r["status"], status, "{id}: {}", r["message"]);
    let message = r["message"].as_str().unwrap();
    for f in fragments {
        assert!(message.contains(f), "{id}: {message:?} lacks {f:?}");
    }
}

/// A namespace whose node NIC `nic` (a veth, up) holds `cidr` and carries the default route.
pub fn node_namespace(tag: &str, nic: &str, cidr: &str, gateway: &str) -> Netns {
    let ns = Netns::new(tag);
    ns.add_nic(nic, &format!("{nic}-peer"), cidr);
    ns.default_route(gateway, nic);
    ns
}
