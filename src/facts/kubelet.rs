//! What decides the address kubelet registers as the node's InternalIP, as gathered: kubelet's
//! flags as systemd would start it (or as a kubeadm configuration would set them at join time), the
//! node name, and how that name resolves here (`/etc/nsswitch.conf`, `/etc/hosts`, DNS); also the
//! container runtime endpoint kubelet is configured with (flag or configuration file).
//!
//! The choice itself is made by the pure model in `crate::kubelet`.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::systemd::ServiceUnit;

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubeletFacts {
    /// `kubelet.service` as systemd would load it; `null` when no unit or drop-in exists.
    pub unit: Option<ServiceUnit>,
    /// The kubeadm configuration given with `--kubeadm-config`, whose flags replace the unit's
    /// `$KUBELET_KUBEADM_ARGS` (kubeadm rewrites that file at join time).
    pub kubeadm_config: Option<KubeadmNodeRegistration>,
    /// The flags that decide the node address, each the last occurrence on the effective command line.
    pub flags: KubeletFlags,
    /// The node name kubelet registers: `--hostname-override`, else the host name, lower-cased.
    pub node_name: String,
    /// How the node name resolves on this host; `null` when no lookup was needed (`--node-ip` set,
    /// the name is an IP, or a cloud provider decides).
    pub name_lookup: Option<NameLookup>,
    /// The kubelet configuration file named by `--config`; `null` without the flag (and in
    /// snapshots from before this field).
    #[serde(default)]
    pub config_file: Option<KubeletConfigFile>,
}

/// The settings nodecheck reads from kubelet's configuration file (a `KubeletConfiguration`, read
/// leniently: other fields are ignored).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KubeletConfigFile {
    /// The host path, as `--config` gives it.
    pub path: String,
    /// `containerRuntimeEndpoint`, as written.
    pub container_runtime_endpoint: Option<String>,
    /// `evictionHard`, signal to threshold as written (`nodefs.available: 10%`); `null` when the
    /// file sets none (kubelet then uses its defaults).
    pub eviction_hard: Option<std::collections::BTreeMap<String, String>>,
    /// `mergeDefaultEvictionSettings`: whether kubelet fills the signals `evictionHard` leaves out
    /// from its defaults (else they have no threshold).
    pub merge_default_eviction_settings: Option<bool>,
    /// Why the file could not be read or parsed; the fields above are then `null`.
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubeletFlags {
    pub node_ip: Option<FlagValue>,
    pub hostname_override: Option<FlagValue>,
    pub cloud_provider: Option<FlagValue>,
    /// The CRI socket kubelet talks to (a `unix://` URL, or a bare path kubelet still accepts).
    #[serde(default)]
    pub container_runtime_endpoint: Option<FlagValue>,
    /// The kubelet configuration file.
    #[serde(default)]
    pub config: Option<FlagValue>,
}

/// A flag's value and where it was set (`$KUBELET_EXTRA_ARGS from /etc/default/kubelet:1`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlagValue {
    pub value: String,
    pub source: String,
}

/// The part of a kubeadm `InitConfiguration`/`JoinConfiguration` that reaches kubelet's flags.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubeadmNodeRegistration {
    /// The file it was read from.
    pub file: String,
    /// `kubeadm.k8s.io/v1beta3` or `kubeadm.k8s.io/v1beta4`.
    pub api_version: String,
    /// `InitConfiguration` or `JoinConfiguration`.
    pub kind: String,
    /// `nodeRegistration.name`.
    pub name: Option<String>,
    /// `nodeRegistration.kubeletExtraArgs`, in the order kubeadm writes them (the map form sorted
    /// by name, the list form as given).
    pub kubelet_extra_args: Vec<(String, String)>,
}

/// The resolution of the node name as kubelet's resolver would do it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NameLookup {
    pub name: String,
    /// The `hosts:` sources of `/etc/nsswitch.conf` as written (criteria like `[NOTFOUND=return]`
    /// kept as words); `null` when the file or the line is missing (then: files, then DNS).
    pub nsswitch_hosts: Option<Vec<String>>,
    /// The `/etc/hosts` lines naming the node, in file order.
    pub hosts_file: Vec<HostsEntry>,
    /// Why `/etc/hosts` could not be read, when it could not.
    pub hosts_file_error: Option<String>,
    /// The DNS answer for the name (A and AAAA). Asked only when kubelet's resolver would reach
    /// DNS: nsswitch lets DNS answer, and DNS comes first or `/etc/hosts` has no line for the name.
    pub dns: DnsLookup,
}

/// The order Go's own resolver takes from the nsswitch `hosts:` sources (criteria like
/// `[NOTFOUND=return]` ignored): whether `/etc/hosts` and DNS may answer, and which is asked first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostsOrder {
    pub files: bool,
    pub dns: bool,
    pub dns_first: bool,
}

impl HostsOrder {
    /// The order for `sources` (`None`: no nsswitch `hosts:` line, so files, then DNS). A source Go
    /// does not know counts as DNS when no `dns` is listed.
    pub fn of(sources: Option<&[String]>) -> HostsOrder {
        let Some(words) = sources else {
            return HostsOrder {
                files: true,
                dns: true,
                dns_first: false,
            };
        };
        let words: Vec<&str> = words
            .iter()
            .map(String::as_str)
            .filter(|w| !w.starts_with('['))
            .collect();
        // A bare `hosts:` line: Go falls back to its default order, files then DNS.
        if words.is_empty() {
            return HostsOrder::of(None);
        }
        let files_at = words.iter().position(|w| *w == "files");
        let dns_at = words
            .iter()
            .position(|w| *w == "dns")
            .or_else(|| words.iter().position(|w| *w != "files"));
        HostsOrder {
            files: files_at.is_some(),
            dns: dns_at.is_some(),
            dns_first: match (files_at, dns_at) {
                (Some(f), Some(d)) => d < f,
                (None, Some(_)) => true,
                _ => false,
            },
        }
    }

    /// Whether the resolver asks DNS when `/etc/hosts` has `hosts_lines` lines for the name: DNS may
    /// answer, and comes first or `/etc/hosts` does not answer.
    pub fn consults_dns(self, hosts_lines: usize) -> bool {
        self.dns && (self.dns_first || !self.files || hosts_lines == 0)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostsEntry {
    /// 1-based line in `/etc/hosts`.
    pub line: usize,
    pub address: IpAddr,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsLookup {
    pub status: DnsLookupStatus,
    /// The server that answered (or the last one asked).
    pub server: Option<String>,
    /// The fully qualified name that gave the answer (search domains applied).
    pub query_name: Option<String>,
    /// Answer addresses, A records then AAAA records, each in answer order.
    pub addresses: Vec<IpAddr>,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DnsLookupStatus {
    /// A server answered with addresses.
    Answered,
    /// Servers answered: no such name (NXDOMAIN or no address records) under every search name.
    NoSuchName,
    /// No server answered within the bound.
    Timeout,
    /// `/etc/resolv.conf` names no server.
    NoServers,
    /// A server answered with an error code, or the reply was unusable.
    Error,
    /// DNS was not asked: `hosts: files` only, or `/etc/hosts` answers before DNS would be asked.
    NotAsked,
}
