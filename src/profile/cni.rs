//! The profile's `cni:` section: which address-choosing components the cluster runs besides kubelet
//! and Calico (flanneld, Canal's flanneld, k3s, RKE2), their versions and the settings each one reads
//! (flanneld's argument words, `FLANNELD_*` environment and node annotations; k3s/RKE2 server or agent
//! flags; Cilium's device settings; kube-router's args; antrea-agent's transport interface
//! settings). The version types live here because the profile carries them; the address models in
//! `crate::addresses` import them from here.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A component that picks a node address, as the profile names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ComponentName {
    Kubelet,
    Calico,
    Flannel,
    Canal,
    K3s,
    Rke2,
    #[serde(rename = "kube-router")]
    KubeRouter,
    Antrea,
    Cilium,
}

/// The `cni:` section.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CniSettings {
    /// The components the cluster runs. Empty: kubelet and Calico; with a `flannel` section kubelet
    /// and flanneld; with a `k3s` section k3s (and its embedded flannel); with `rke2` RKE2 and Canal.
    #[serde(default)]
    pub components: Vec<ComponentName>,
    #[serde(default)]
    pub flannel: Option<FlannelProfile>,
    #[serde(default)]
    pub k3s: Option<K3sProfile>,
    #[serde(default)]
    pub rke2: Option<K3sProfile>,
    #[serde(default)]
    pub cilium: Option<CiliumProfile>,
    #[serde(default)]
    pub kube_router: Option<KubeRouterProfile>,
    #[serde(default)]
    pub antrea: Option<AntreaProfile>,
}

/// What the cluster's kube-router reads: its release and its argument words (only
/// `--enable-ipv4`/`--enable-ipv6` bear on the node address; the address itself is the Node's).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubeRouterProfile {
    /// The release (`v2.5.0`); null: the newest modelled.
    #[serde(default)]
    pub version: Option<Release>,
    /// kube-router's argument words, as in its DaemonSet's `args`.
    #[serde(default)]
    pub args: Vec<String>,
}

/// What the cluster's antrea-agent reads from `antrea-agent.conf` (the `antrea-config` ConfigMap).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AntreaProfile {
    /// The release (`v2.2.0`); informational (the selection has not changed since 1.x).
    #[serde(default)]
    pub version: Option<Release>,
    /// `transportInterface`: the interface tunnels and routes use, by name (wins over the CIDRs).
    #[serde(default)]
    pub transport_interface: Option<String>,
    /// `transportInterfaceCIDRs`: the interface holding an address in one of these (at most one
    /// per family).
    #[serde(default)]
    pub transport_interface_cidrs: Vec<String>,
    /// `hostGateway`: the gateway interface Antrea creates, never taken as the Node IP's device
    /// (null: `antrea-gw0`).
    #[serde(default)]
    pub host_gateway: Option<String>,
}

/// What the cluster's cilium-agent reads for its devices (Helm values `devices`,
/// `nodePort.directRoutingDevice`, `forceDeviceDetection`; the `cilium-config` ConfigMap keys
/// `devices`, `direct-routing-device`, `force-device-detection`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CiliumProfile {
    /// The release (`1.16.5`, `v1.19.0`); default: see [`CiliumVersion::DEFAULT`].
    #[serde(default)]
    pub version: Option<CiliumVersion>,
    /// `--devices`: names or `+` prefixes (`eth+`), from 1.19 also `!` exclusions; empty: detect.
    #[serde(default)]
    pub devices: Vec<String>,
    /// `--direct-routing-device`: a name or `+` prefix.
    #[serde(default)]
    pub direct_routing_device: Option<String>,
    /// `--force-device-detection` (1.16 and later): detect devices even with `devices` given.
    #[serde(default)]
    pub force_device_detection: Option<bool>,
    /// Whether a feature that needs the direct-routing device is on (kube-proxy replacement,
    /// BPF masquerading, the host firewall, ...): the agent then exits when it finds none.
    /// Default true.
    #[serde(default)]
    pub needs_direct_routing_device: Option<bool>,
}

/// A Cilium release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CiliumVersion {
    pub minor: u32,
    pub patch: u32,
}

impl CiliumVersion {
    pub const fn new(minor: u32, patch: u32) -> CiliumVersion {
        CiliumVersion { minor, patch }
    }
    /// The release modelled when none is given.
    pub const DEFAULT: CiliumVersion = CiliumVersion::new(18, 4);
    /// The oldest release modelled.
    pub const OLDEST: CiliumVersion = CiliumVersion::new(14, 0);
}

impl fmt::Display for CiliumVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "1.{}.{}", self.minor, self.patch)
    }
}

impl FromStr for CiliumVersion {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not a Cilium release (expected e.g. 1.16.5 or v1.19.0)");
        let core = s.trim().split(['-', '@']).next().unwrap_or_default();
        let (major, minor, patch) = parse_release(core).ok_or_else(bad)?;
        if major != 1 {
            return Err(bad());
        }
        let v = CiliumVersion::new(minor, patch);
        if v < CiliumVersion::OLDEST {
            return Err(format!(
                "Cilium {v} is older than the oldest release modelled ({})",
                CiliumVersion::OLDEST
            ));
        }
        Ok(v)
    }
}

impl Serialize for CiliumVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CiliumVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(D::Error::custom)
    }
}

/// What the cluster's flanneld reads.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlannelProfile {
    /// flanneld's release (`0.26.1`, `v0.24.4`); default: see [`FlannelVersion::DEFAULT`].
    #[serde(default)]
    pub version: Option<FlannelVersion>,
    /// flanneld's argument words, as in the DaemonSet's `args` (`--iface=eth1`, `--ip-masq`).
    #[serde(default)]
    pub args: Vec<String>,
    /// The container's environment (`FLANNELD_IFACE: eth1`).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Annotations on this node's Node object (`flannel.alpha.coreos.com/node-public-ip: …`).
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// net-conf.json `EnableIPv4` (default true).
    #[serde(default)]
    pub enable_ipv4: Option<bool>,
    /// net-conf.json `EnableIPv6` (default false).
    #[serde(default)]
    pub enable_ipv6: Option<bool>,
    /// net-conf.json `Backend.Type` (default `vxlan`).
    #[serde(default)]
    pub backend: Option<FlannelBackend>,
}

/// net-conf.json `Backend.Type` values whose MTU nodecheck derives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FlannelBackend {
    Vxlan,
    HostGw,
    Wireguard,
    Ipip,
    Udp,
}

impl FlannelBackend {
    pub fn parse(text: &str) -> Option<FlannelBackend> {
        Some(match text {
            "vxlan" => FlannelBackend::Vxlan,
            "host-gw" => FlannelBackend::HostGw,
            "wireguard" => FlannelBackend::Wireguard,
            "ipip" => FlannelBackend::Ipip,
            "udp" => FlannelBackend::Udp,
            _ => return None,
        })
    }
}

/// k3s or RKE2: the release and the server/agent flags.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct K3sProfile {
    /// The release (`1.33.7+k3s1`, `v1.28.2+rke2r1`); default: a current release.
    #[serde(default)]
    pub version: Option<K3sVersion>,
    /// Server or agent flags (`--node-ip=10.0.0.5`, `--flannel-iface=eth1`).
    #[serde(default)]
    pub args: Vec<String>,
}

impl CniSettings {
    /// The components the cluster runs: `components` when given, else as the sections present
    /// say (see [`CniSettings::components`]). k3s and RKE2 replace kubelet: they always pass
    /// `--node-ip` to the kubelet they embed.
    pub fn effective_components(&self) -> Vec<ComponentName> {
        if !self.components.is_empty() {
            return self.components.clone();
        }
        let mut out = Vec::new();
        if self.k3s.is_some() {
            out.push(ComponentName::K3s);
        } else if self.rke2.is_some() {
            out.push(ComponentName::Rke2);
        } else {
            out.push(ComponentName::Kubelet);
        }
        if self.rke2.is_some() && self.k3s.is_none() {
            out.push(ComponentName::Canal);
        } else if self.flannel.is_some() && self.k3s.is_none() {
            out.push(ComponentName::Flannel);
        }
        if self.cilium.is_some() {
            out.push(ComponentName::Cilium);
        }
        if self.kube_router.is_some() {
            out.push(ComponentName::KubeRouter);
        }
        if self.antrea.is_some() {
            out.push(ComponentName::Antrea);
        }
        let own_cni = self.cilium.is_some() || self.kube_router.is_some() || self.antrea.is_some();
        if self.k3s.is_none() && self.rke2.is_none() && self.flannel.is_none() && !own_cni {
            out.push(ComponentName::Calico);
        }
        out
    }

    /// Whether the cluster's nodes are k3s or RKE2 nodes (their kubelet gets `--node-ip` always).
    pub fn k3s_family(&self) -> bool {
        self.effective_components()
            .iter()
            .any(|c| matches!(c, ComponentName::K3s | ComponentName::Rke2))
    }
}

/// A dotted release `major.minor.patch`, written with or without `v`.
fn parse_release(text: &str) -> Option<(u32, u32, u32)> {
    let t = text.trim();
    let t = t.strip_prefix('v').unwrap_or(t);
    let mut parts = t.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    let patch = match parts.next() {
        Some(p) => p.parse().ok()?,
        None => 0,
    };
    if parts.next().is_some() {
        return None;
    }
    Some((major, minor, patch))
}

/// A flanneld release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FlannelVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl FlannelVersion {
    pub const fn new(major: u32, minor: u32, patch: u32) -> FlannelVersion {
        FlannelVersion {
            major,
            minor,
            patch,
        }
    }
    /// The upstream release modelled when none is given.
    pub const DEFAULT: FlannelVersion = FlannelVersion::new(0, 27, 4);
    /// The flanneld Canal's manifest pins (projectcalico/calico `manifests/canal.yaml`).
    pub const CANAL: FlannelVersion = FlannelVersion::new(0, 24, 4);
    /// The oldest release modelled.
    pub const OLDEST: FlannelVersion = FlannelVersion::new(0, 22, 0);
    /// The newest release whose behaviour is known.
    pub const NEWEST_KNOWN: FlannelVersion = FlannelVersion::new(0, 28, 99);
}

impl fmt::Display for FlannelVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl FromStr for FlannelVersion {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (major, minor, patch) = parse_release(s).ok_or_else(|| {
            format!("`{s}` is not a flannel release (expected e.g. 0.26.1 or v0.24.4)")
        })?;
        let v = FlannelVersion::new(major, minor, patch);
        if v < FlannelVersion::OLDEST {
            return Err(format!(
                "flannel {v} is older than the oldest release modelled ({})",
                FlannelVersion::OLDEST
            ));
        }
        Ok(v)
    }
}

impl Serialize for FlannelVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for FlannelVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(D::Error::custom)
    }
}

/// A plain `major.minor.patch` release, written with or without `v` (kube-router, Antrea).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Release {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl Release {
    pub const fn new(major: u32, minor: u32, patch: u32) -> Release {
        Release {
            major,
            minor,
            patch,
        }
    }
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl FromStr for Release {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (major, minor, patch) = parse_release(s)
            .ok_or_else(|| format!("`{s}` is not a release (expected e.g. v2.5.0 or 2.2.1)"))?;
        Ok(Release::new(major, minor, patch))
    }
}

impl Serialize for Release {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Release {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(D::Error::custom)
    }
}

/// A k3s or RKE2 release: `1.33.7+k3s1`, `v1.28.2+rke2r1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct K3sVersion {
    pub minor: u32,
    pub patch: u32,
    /// The text as written.
    pub text: String,
}

impl K3sVersion {
    /// The release modelled when none is given.
    pub fn default_release() -> K3sVersion {
        "v1.33.7+k3s1".parse().expect("a valid release")
    }

    /// Whether `--flannel-iface` without a usable address fails with its own message (k3s#8346,
    /// fixed in v1.28.2, v1.27.6 and v1.26.9) rather than the empty `--node-ip`.
    pub fn has_flannel_iface_error_fix(&self) -> bool {
        match self.minor {
            0..=25 => false,
            26 => self.patch >= 9,
            27 => self.patch >= 6,
            28 => self.patch >= 2,
            _ => true,
        }
    }

    /// The flannel release this k3s vendors (its address helpers decide the address order).
    pub fn vendored_flannel(&self) -> FlannelVersion {
        match self.minor {
            33.. => FlannelVersion::new(0, 28, 0),
            30..=32 => FlannelVersion::new(0, 25, 7),
            _ => FlannelVersion::new(0, 24, 4),
        }
    }
}

impl fmt::Display for K3sVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for K3sVersion {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "`{s}` is not a k3s or RKE2 release (expected e.g. 1.33.7+k3s1 or v1.28.2+rke2r1)"
            )
        };
        let core = s.trim().split('+').next().unwrap_or_default();
        let (major, minor, patch) = parse_release(core).ok_or_else(bad)?;
        if major != 1 {
            return Err(bad());
        }
        Ok(K3sVersion {
            minor,
            patch,
            text: s.trim().to_string(),
        })
    }
}

impl Serialize for K3sVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for K3sVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_parse_with_and_without_v() {
        assert_eq!(
            "v0.24.4".parse::<FlannelVersion>().unwrap(),
            FlannelVersion::CANAL
        );
        assert_eq!(
            "0.28".parse::<FlannelVersion>().unwrap(),
            FlannelVersion::new(0, 28, 0)
        );
        assert!("0.21.5"
            .parse::<FlannelVersion>()
            .unwrap_err()
            .contains("oldest"));
        assert!("latest".parse::<FlannelVersion>().is_err());
        let k3s: K3sVersion = "1.33.7+k3s1".parse().unwrap();
        assert_eq!((k3s.minor, k3s.patch), (33, 7));
        assert_eq!(k3s.vendored_flannel(), FlannelVersion::new(0, 28, 0));
        assert!("2.1.0+k3s1".parse::<K3sVersion>().is_err());
        assert_eq!(
            "v1.16.5".parse::<CiliumVersion>().unwrap(),
            CiliumVersion::new(16, 5)
        );
        assert_eq!(
            "1.19.0-pre.1".parse::<CiliumVersion>().unwrap(),
            CiliumVersion::new(19, 0)
        );
        assert!("1.13.4"
            .parse::<CiliumVersion>()
            .unwrap_err()
            .contains("oldest"));
        assert!("stable".parse::<CiliumVersion>().is_err());
    }

    /// k3s#8346 reached v1.28.2, v1.27.6 and v1.26.9.
    #[test]
    fn the_flannel_iface_fix_boundary() {
        let fixed = |v: &str| {
            v.parse::<K3sVersion>()
                .unwrap()
                .has_flannel_iface_error_fix()
        };
        assert!(!fixed("v1.28.1+k3s1"));
        assert!(fixed("v1.28.2+k3s1"));
        assert!(!fixed("v1.27.5+k3s1"));
        assert!(fixed("v1.27.6+k3s1"));
        assert!(!fixed("v1.26.8+k3s1"));
        assert!(fixed("v1.26.9+k3s1"));
        assert!(!fixed("v1.25.16+k3s1"));
        assert!(fixed("v1.30.0+rke2r1"));
    }

    #[test]
    fn components_follow_the_sections_present() {
        let mut cni = CniSettings::default();
        assert_eq!(
            cni.effective_components(),
            [ComponentName::Kubelet, ComponentName::Calico]
        );
        cni.flannel = Some(FlannelProfile::default());
        assert_eq!(
            cni.effective_components(),
            [ComponentName::Kubelet, ComponentName::Flannel]
        );
        cni.flannel = None;
        cni.cilium = Some(CiliumProfile::default());
        assert_eq!(
            cni.effective_components(),
            [ComponentName::Kubelet, ComponentName::Cilium]
        );
        cni.cilium = None;
        cni.flannel = Some(FlannelProfile::default());
        cni.k3s = Some(K3sProfile::default());
        assert_eq!(cni.effective_components(), [ComponentName::K3s]);
        assert!(cni.k3s_family());
        let antrea = CniSettings {
            antrea: Some(AntreaProfile::default()),
            ..CniSettings::default()
        };
        assert_eq!(
            antrea.effective_components(),
            [ComponentName::Kubelet, ComponentName::Antrea]
        );
        let kube_router = CniSettings {
            kube_router: Some(KubeRouterProfile::default()),
            ..CniSettings::default()
        };
        assert_eq!(
            kube_router.effective_components(),
            [ComponentName::Kubelet, ComponentName::KubeRouter]
        );
        let named: CniSettings =
            serde_json::from_value(serde_json::json!({"components": ["kubelet", "kube-router"]}))
                .unwrap();
        assert_eq!(named.components[1], ComponentName::KubeRouter);
    }
}
