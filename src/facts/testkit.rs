//! A compact builder of facts snapshots for unit tests (network, checks, the Calico model): interfaces in creation order
//! (which is the kernel's dump order), addresses as `ip/len` text, routes in `ip route` words.

use std::collections::BTreeMap;

use crate::facts::*;

/// A host under construction.
pub struct HostBuilder {
    facts: Facts,
}

/// A new host named `name` with only `lo` (127.0.0.1/8, ::1/128).
pub fn host(name: &str) -> HostBuilder {
    let facts = Facts {
        schema_version: SCHEMA_VERSION,
        nodecheck_version: "test".into(),
        collected_at: "2026-11-27T00:00:00Z".into(),
        host: Host {
            hostname: name.into(),
            machine_id: None,
            product_uuid: None,
            kernel_release: "6.8.0".into(),
            kernel_version: "#1 SMP".into(),
            architecture: "x86_64".into(),
            os: OsRelease::default(),
            cmdline: KernelCmdline::default(),
            gathered_as_root: true,
        },
        interfaces: Vec::new(),
        routes: Vec::new(),
        ipv6: Ipv6State {
            proc_present: true,
            ..Ipv6State::default()
        },
        sysctls: BTreeMap::new(),
        modules: Modules::default(),
        swap: Swap::default(),
        docker: Docker::default(),
        runtime_sockets: Vec::new(),
        listening_ports: Vec::new(),
        node_setup: None,
        preflight: None,
        kubelet: None,
        unavailable: BTreeMap::new(),
    };
    HostBuilder { facts }.link("lo", None, &["127.0.0.1/8", "::1/128"])
}

fn address(text: &str) -> Address {
    let (ip_text, rest) = text.split_once('/').expect("ip/len");
    let (len_text, peer) = match rest.split_once(" peer ") {
        Some((l, p)) => (l, Some(p.parse().expect("peer ip"))),
        None => (rest, None),
    };
    let ip: std::net::IpAddr = ip_text.parse().expect("ip");
    let scope = match ip {
        std::net::IpAddr::V4(v4) if v4.is_loopback() => "host",
        std::net::IpAddr::V6(v6) if v6.is_loopback() => "host",
        std::net::IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80 => "link",
        _ => "global",
    };
    Address {
        family: Family::of(&ip),
        address: ip,
        prefix_len: len_text.parse().expect("prefix length"),
        scope: scope.into(),
        flags: Vec::new(),
        peer,
    }
}

impl HostBuilder {
    /// Adds an interface (next ifindex) with these addresses in dump order.
    pub fn link(mut self, name: &str, kind: Option<&str>, addrs: &[&str]) -> HostBuilder {
        let index = self.facts.interfaces.len() as u32 + 1;
        self.facts.interfaces.push(Interface {
            index,
            name: name.into(),
            name_bytes: None,
            altnames: Vec::new(),
            kind: kind.map(Into::into),
            physical: None,
            mac: Some(compact_str::format_compact!("02:00:00:00:00:{index:02x}")),
            permanent_mac: None,
            admin_up: true,
            operstate: "up".into(),
            carrier: Some(true),
            mtu: 1500,
            master: None,
            ipv6_disabled: Some(false),
            addresses: addrs.iter().map(|a| address(a)).collect(),
            offload: None,
            flags: None,
        });
        self
    }
    /// A physical NIC.
    pub fn nic(self, name: &str, addrs: &[&str]) -> HostBuilder {
        let mut b = self.link(name, None, addrs);
        b.facts.interfaces.last_mut().unwrap().physical = Some(Box::new(PhysicalDevice {
            bus: Some("pci".into()),
            device_path: None,
            driver: Some("virtio_net".into()),
        }));
        b
    }
    /// Gives the last interface a name that is not UTF-8: its display form and the kernel's bytes.
    pub fn bytes_name(mut self, bytes: &[u8]) -> HostBuilder {
        let i = self.facts.interfaces.last_mut().unwrap();
        i.name = crate::facts::ifname::display(bytes).into();
        i.name_bytes = Some(bytes.into());
        self
    }
    /// Marks the last interface administratively down.
    pub fn down(mut self) -> HostBuilder {
        let i = self.facts.interfaces.last_mut().unwrap();
        i.admin_up = false;
        i.operstate = "down".into();
        self
    }
    /// Adds a main-table route: `dest` (`default` allowed), optional gateway, device, metric, src.
    pub fn route(
        mut self,
        dest: &str,
        via: Option<&str>,
        dev: &str,
        metric: Option<u32>,
        src: Option<&str>,
    ) -> HostBuilder {
        let v6 = dest.contains(':') || via.is_some_and(|g| g.contains(':'));
        let destination = match (dest, v6) {
            ("default", false) => "0.0.0.0/0".parse().unwrap(),
            ("default", true) => "::/0".parse().unwrap(),
            (d, _) => d.parse().expect("route destination"),
        };
        self.facts.routes.push(Route {
            family: if v6 { Family::Ipv6 } else { Family::Ipv4 },
            destination,
            gateway: via.map(|g| g.parse().unwrap()),
            device: Some(dev.into()),
            protocol: "static".into(),
            route_type: "unicast".into(),
            scope: if via.is_some() { "universe" } else { "link" }.into(),
            metric,
            preferred_source: src.map(|s| s.parse().unwrap()),
            nexthops: Vec::new(),
        });
        self
    }
    /// Adds a multipath default route over `(gateway, device)` next hops.
    pub fn multipath_default(mut self, hops: &[(&str, &str)], metric: Option<u32>) -> HostBuilder {
        let v6 = hops.iter().any(|(g, _)| g.contains(':'));
        self.facts.routes.push(Route {
            family: if v6 { Family::Ipv6 } else { Family::Ipv4 },
            destination: if v6 { "::/0" } else { "0.0.0.0/0" }.parse().unwrap(),
            gateway: None,
            device: None,
            protocol: "static".into(),
            route_type: "unicast".into(),
            scope: "universe".into(),
            metric,
            preferred_source: None,
            nexthops: hops
                .iter()
                .map(|(g, d)| NextHop {
                    gateway: Some(g.parse().unwrap()),
                    device: Some((*d).into()),
                    weight: 1,
                })
                .collect(),
        });
        self
    }
    pub fn build(self) -> Facts {
        self.facts
    }
}
