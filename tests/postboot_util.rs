//! Helpers shared by the post-join, post-boot and drift tests: finding results in a JSON report, and
//! a namespace with a node NIC and a default route.

use serde_json::Value;

pub use crate::check::result;
use crate::util::Netns;

/// Asserts a result's status and that its message contains every fragment.
pub fn assert_result(report: &Value, id: &str, status: &str, fragments: &[&str]) {
    let r = result(report, id);
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
    ns.ip(&["route", "add", "default", "via", gateway, "dev", nic]);
    ns
}
