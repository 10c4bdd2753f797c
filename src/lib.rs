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

/// jemalloc's options, read once when it starts (the `_RJEM_MALLOC_CONF` environment variable still
/// overrides them). `narenas:1`: one arena for every thread instead of four per CPU. nodecheck runs at
/// most a few short-lived worker threads, so the arena lock is barely contended, and the memory freed
/// by one thread is reused by the others instead of lying idle in its own arena: 10,000 peers peak
/// about 5 MiB lower at the same CPU time (docs/install.md).
#[cfg(target_env = "musl")]
#[export_name = "_rjem_malloc_conf"]
pub static JEMALLOC_OPTIONS: &[u8; 10] = b"narenas:1\0";

pub mod addresses;
pub mod ansible;
pub mod calico;
pub mod checks;
pub mod cli;
pub mod cni_config;
pub mod commands;
pub mod error;
pub mod escape;
pub mod facts;
pub mod fix;
pub mod gather;
pub mod host_root;
pub mod input;
pub mod kube_objects;
pub mod kubelet;
pub mod network;
pub mod output;
pub mod peers;
pub mod probes;
pub mod profile;
pub mod report;
pub mod timestamp;
