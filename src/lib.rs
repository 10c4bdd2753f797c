//! nodecheck: checks a Linux host against its Kubernetes cluster profile and its peers, before
//! `kubeadm join`, after the join and on every boot, and predicts Calico's address autodetection.
//!
//! Layout follows the data flow: `gather` (all I/O) builds [`facts::Facts`]; `profile` and `peers`
//! load the other inputs; `checks` and `calico` judge purely; `report` renders; `commands` wires a
//! subcommand to these pieces; `cli` is the argument surface.

/// The static musl build allocates with jemalloc: musl's own malloc maps and unmaps small groups of
/// pages on every burst of allocation, which doubled the CPU time of fleet runs and of live checks on
/// busy hosts (docs/install.md has the measurements). Declared in the library so that the binary and
/// the bench programs built for musl use the same allocator.
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

pub mod ansible;
pub mod calico;
pub mod checks;
pub mod cli;
pub mod commands;
pub mod error;
pub mod escape;
pub mod facts;
pub mod fix;
pub mod gather;
pub mod host_root;
pub mod input;
pub mod kubelet;
pub mod network;
pub mod output;
pub mod peers;
pub mod probes;
pub mod profile;
pub mod report;
