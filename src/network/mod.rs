//! The node's network, defined once over a facts snapshot: which addresses count, the default routes
//! (multipath included), the node subnets and NIC they imply, which interface owns an address, the
//! kernel's source-address choice, and how IPv6 stands on the host.
//!
//! Checks, peer parity, the Calico model and `profile init` all ask these questions; they ask them
//! here, so they cannot disagree. Pure functions of [`crate::facts::Facts`], nothing else.

pub mod addresses;
pub mod ipv6;
pub mod nic;
pub mod routes;
