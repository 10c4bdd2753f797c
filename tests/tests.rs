//! Integration tests: run the built binary against fixtures, network namespaces, Docker and friends.
//! One test binary; one module per area.

mod util;

mod address_reports;
mod addresses;
mod addresses_netns;
mod ansible;
mod ansible_facts;
mod ansible_fleet;
mod calico;
mod calico_config;
mod calico_fleet;
mod calico_peers;
mod check;
mod check_docker;
mod check_netns;
mod cilium_netns;
mod cilium_reports;
mod cli;
mod container;
mod cri_containerd;
mod dataplane_netns;
mod dns_dnsmasq;
mod drift_netns;
mod facts_docker;
mod facts_netns;
mod fix;
mod fix_consensus;
mod host_root;
mod join_checks;
mod kubelet_node_ip;
mod offload_netns;
mod packages;
mod peers;
mod peers_netns;
mod postboot_cli;
mod postboot_felix;
mod postboot_netns;
mod postboot_units;
mod postboot_util;
mod preflight_checks;
mod profile;
mod report;
mod report_golden;
mod robustness;
mod serve;
