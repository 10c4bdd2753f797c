//! Plain Ansible facts (what the `setup` module gathers on every `gather_facts`) mapped onto a
//! [`Facts`] snapshot, so that a fleet's existing fact cache can be compared without running nodecheck
//! on every host.
//!
//! Ansible tells the host's identity (nodename, machine-id, product_uuid), kernel, distribution, kernel
//! command line, swap totals, every interface (`ansible_<iface>`: its `device` is the real name, since
//! Ansible writes `br-3f2a` as `ansible_br_3f2a`) with its addresses (`ipv4`, `ipv4_secondaries`,
//! `ipv6`, with prefixes), MAC, MTU, type, driver (`module`), PCI id and `active` flag, and the default
//! routes (`ansible_default_ipv4/ipv6`). It does not tell the kernel's interface order, sysctls,
//! per-interface `disable_ipv6`, kernel modules, Docker's networks, runtime sockets or listening ports:
//! those are recorded in `unavailable` as [`NOT_IN_ANSIBLE_FACTS`] and never guessed, so checks say
//! "not known" and Calico predictions that depend on the interface order say they cannot tell.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use serde_json::{Map, Value};

use crate::facts::{
    Address, Docker, Facts, Family, Host, Interface, Ipv6State, KernelCmdline, Modules, OsRelease,
    PhysicalDevice, Route, Swap, INTERFACE_ORDER, NOT_IN_ANSIBLE_FACTS, SCHEMA_VERSION,
};

/// What plain Ansible facts never tell, by [`Facts`] path.
const UNKNOWN: &[&str] = &[
    INTERFACE_ORDER,
    "interfaces.ipv6_disabled",
    "interfaces.operstate",
    "interfaces.kind",
    "ipv6",
    "sysctls",
    "modules",
    "docker.networks",
    "runtime_sockets",
    "listening_ports",
    "kubelet",
    "host.os.pretty_name",
];

/// Replaces every `{"__ansible_unsafe": X}` by `X`, in place.
/// Ansible's JSON encoder writes strings it marks unsafe (all gathered facts, in ansible-core before
/// 2.19) that way.
pub fn unwrap_unsafe(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.len() == 1 {
                if let Some(inner) = map.get_mut("__ansible_unsafe") {
                    let mut inner = inner.take();
                    unwrap_unsafe(&mut inner);
                    *value = inner;
                    return;
                }
            }
            for v in map.values_mut() {
                unwrap_unsafe(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(unwrap_unsafe),
        _ => {}
    }
}

/// The setup facts of one host, keys with or without the `ansible_` prefix.
struct Setup<'a> {
    facts: &'a Map<String, Value>,
}

impl<'a> Setup<'a> {
    fn get(&self, name: &str) -> Option<&'a Value> {
        self.facts
            .get(&format!("ansible_{name}"))
            .or_else(|| self.facts.get(name))
    }

    /// A string fact; Ansible writes `"NA"` (and some distributions `"None"`) for what it could not read.
    fn text(&self, name: &str) -> Option<String> {
        text(self.get(name)?)
    }
}

fn text(value: &Value) -> Option<String> {
    let s = match value {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    (!s.is_empty() && s != "NA" && s != "None").then_some(s)
}

/// Whether a facts object looks like the `setup` module's: it has the host's name.
pub fn is_setup_facts(facts: &Map<String, Value>) -> bool {
    let setup = Setup { facts };
    ["nodename", "hostname", "fqdn"]
        .iter()
        .any(|k| setup.text(k).is_some())
}

/// Facts without the setup module's host name: some other module's facts. `keys`: the object's
/// top keys, as shown by [`top_keys`].
#[derive(Debug, thiserror::Error)]
#[error("Ansible facts without the setup module's host facts (no ansible_nodename, ansible_hostname or ansible_fqdn); its keys: {keys}")]
pub struct NoSetupFacts {
    pub keys: String,
}

/// Maps one host's setup facts. Fails when the object has no host name at all (it is some other
/// module's facts); the message names the keys it has.
pub fn map_setup_facts(facts: &Map<String, Value>) -> Result<Facts, NoSetupFacts> {
    let setup = Setup { facts };
    let Some(hostname) = setup
        .text("nodename")
        .or_else(|| setup.text("hostname"))
        .or_else(|| setup.text("fqdn"))
    else {
        return Err(NoSetupFacts {
            keys: top_keys(facts),
        });
    };
    let mut unavailable: BTreeMap<String, String> = UNKNOWN
        .iter()
        .map(|k| (k.to_string(), NOT_IN_ANSIBLE_FACTS.to_string()))
        .collect();
    let mut mark = |path: &str| {
        unavailable.insert(path.to_string(), NOT_IN_ANSIBLE_FACTS.to_string());
    };
    let interfaces = interfaces(&setup);
    let routes = default_routes(&setup, &interfaces);
    mark("routes");
    let product_uuid = setup.text("product_uuid");
    if product_uuid.is_none() {
        mark("host.product_uuid");
    }
    let machine_id = setup.text("machine_id");
    if machine_id.is_none() {
        mark("host.machine_id");
    }
    let cmdline = match setup.get("cmdline").and_then(Value::as_object) {
        Some(cmdline) => KernelCmdline {
            net_ifnames: cmdline.get("net.ifnames").and_then(flag).map(Into::into),
            biosdevname: cmdline.get("biosdevname").and_then(flag).map(Into::into),
            ipv6_disable: cmdline.get("ipv6.disable").and_then(flag).map(Into::into),
        },
        None => {
            mark("host.cmdline");
            KernelCmdline::default()
        }
    };
    let swap = match (setup.get("swaptotal_mb"), setup.get("swapfree_mb")) {
        (Some(total), free) => {
            let total = total.as_u64().unwrap_or(0) * 1024;
            let free = free.and_then(Value::as_u64).map_or(total, |f| f * 1024);
            mark("swap.devices");
            Swap {
                total_kib: total,
                used_kib: total.saturating_sub(free),
                devices: Vec::new(),
            }
        }
        (None, _) => {
            mark("swap");
            Swap::default()
        }
    };
    let any_ipv6 = interfaces
        .iter()
        .any(|i| i.addresses.iter().any(|a| a.family == Family::Ipv6))
        || setup
            .get("all_ipv6_addresses")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty());
    let docker_bridges = interfaces
        .iter()
        .map(|i| i.name.to_string())
        .filter(|name| crate::facts::is_docker_bridge(name))
        .collect();
    Ok(Facts {
        schema_version: SCHEMA_VERSION,
        nodecheck_version: String::new(),
        collected_at: setup
            .get("date_time")
            .and_then(|d| d.get("iso8601"))
            .and_then(text)
            .unwrap_or_default()
            .into(),
        host: Host {
            hostname: hostname.into(),
            machine_id: machine_id.map(Into::into),
            product_uuid: product_uuid.map(Into::into),
            kernel_release: setup.text("kernel").unwrap_or_default().into(),
            kernel_version: setup.text("kernel_version").unwrap_or_default().into(),
            architecture: setup
                .text("machine")
                .or_else(|| setup.text("architecture"))
                .unwrap_or_default()
                .into(),
            os: OsRelease {
                id: setup.text("distribution").map(|d| os_release_id(&d).into()),
                version_id: setup.text("distribution_version").map(Into::into),
                pretty_name: None,
            },
            cmdline,
            gathered_as_root: setup.text("user_id").as_deref() == Some("root"),
        },
        interfaces,
        routes,
        ipv6: Ipv6State {
            // Addresses prove IPv6 is on in the kernel; their absence proves nothing.
            proc_present: any_ipv6,
            ..Default::default()
        },
        sysctls: BTreeMap::new(),
        modules: Modules::default(),
        swap,
        docker: Docker {
            bridges: docker_bridges,
            ..Default::default()
        },
        runtime_sockets: Vec::new(),
        listening_ports: Vec::new(),
        node_setup: None,
        preflight: None,
        kubelet: None,
        unavailable,
    })
}

/// Up to ten top-level keys, quoted, for messages about documents that are not what was expected.
pub fn top_keys(map: &Map<String, Value>) -> String {
    const SHOWN: usize = 10;
    let mut keys: Vec<String> = map.keys().take(SHOWN).map(|k| format!("{k:?}")).collect();
    if map.len() > SHOWN {
        keys.push(format!("and {} more", map.len() - SHOWN));
    }
    if keys.is_empty() {
        "none (an empty object)".to_string()
    } else {
        keys.join(", ")
    }
}

/// A kernel command-line flag: `net.ifnames=0` is `"0"`; a bare flag (`ipv6.disable`) is `true`.
fn flag(value: &Value) -> Option<String> {
    match value {
        Value::Bool(true) => Some(String::new()),
        other => text(other),
    }
}

/// os-release's `ID` for Ansible's `distribution` name.
fn os_release_id(distribution: &str) -> String {
    match distribution {
        "RedHat" => "rhel",
        "Amazon" => "amzn",
        "OracleLinux" => "ol",
        "SLES" => "sles",
        "SLES_SAP" => "sles_sap",
        "openSUSE Leap" => "opensuse-leap",
        "openSUSE Tumbleweed" => "opensuse-tumbleweed",
        "Flatcar" => "flatcar",
        "Rocky" => "rocky",
        "AlmaLinux" => "almalinux",
        "Kali" => "kali",
        other => return other.to_ascii_lowercase().replace(' ', "-"),
    }
    .to_string()
}

/// Every `ansible_<iface>` object: the names in `ansible_interfaces`, matched by their `device` field
/// (the real name); without that list, every object that has `device` and `macaddress` or `mtu`.
fn interfaces(setup: &Setup) -> Vec<Interface> {
    let listed: Option<Vec<String>> = setup
        .get("interfaces")
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(text).collect());
    let mut by_device: BTreeMap<String, &Map<String, Value>> = BTreeMap::new();
    for value in setup.facts.values() {
        let Some(object) = value.as_object() else {
            continue;
        };
        let Some(device) = object.get("device").and_then(text) else {
            continue;
        };
        if object.contains_key("macaddress")
            || object.contains_key("mtu")
            || object.contains_key("active")
        {
            by_device.entry(device).or_insert(object);
        }
    }
    let names: Vec<String> = match listed {
        Some(names) => names,
        None => by_device.keys().cloned().collect(),
    };
    names
        .iter()
        .enumerate()
        .filter_map(|(i, name)| {
            let object = by_device.get(name)?;
            Some(interface(i as u32 + 1, name, object))
        })
        .collect()
}

fn interface(index: u32, name: &str, fact: &Map<String, Value>) -> Interface {
    let kind = match fact.get("type").and_then(text).as_deref() {
        Some("bridge") => Some("bridge".to_string()),
        Some("bonding") => Some("bond".to_string()),
        Some("tunnel") => Some("tun".to_string()),
        _ => None,
    };
    let driver = fact.get("module").and_then(text);
    let pciid = fact.get("pciid").and_then(text);
    let physical = (driver.is_some() || pciid.is_some()).then(|| PhysicalDevice {
        bus: pciid.as_deref().map(|id| {
            if looks_like_pci_address(id) {
                "pci".into()
            } else {
                id.split(':').next().unwrap_or(id).into()
            }
        }),
        device_path: pciid.map(Into::into),
        driver: driver.map(Into::into),
    });
    let active = fact.get("active").and_then(Value::as_bool);
    let mut addresses = Vec::new();
    if let Some(primary) = fact.get("ipv4").and_then(Value::as_object) {
        addresses.extend(ipv4_address(primary, false));
    }
    for secondary in fact
        .get("ipv4_secondaries")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
    {
        addresses.extend(ipv4_address(secondary, true));
    }
    for v6 in fact
        .get("ipv6")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
    {
        addresses.extend(ipv6_address(v6));
    }
    Interface {
        index,
        name: name.into(),
        name_bytes: None,
        altnames: Vec::new(),
        kind: kind.map(Into::into),
        physical: physical.map(Box::new),
        mac: fact.get("macaddress").and_then(text).map(Into::into),
        permanent_mac: fact.get("perm_macaddress").and_then(text).map(Into::into),
        // Ansible's `active` is "operstate is not `down`": an interface that is not down is
        // administratively up, and one that is down may be either, so only `down` is told.
        admin_up: true,
        operstate: if active == Some(false) {
            "down"
        } else {
            "unknown"
        }
        .into(),
        carrier: None,
        mtu: fact
            .get("mtu")
            .and_then(|m| m.as_u64().or_else(|| m.as_str()?.parse().ok()))
            .and_then(|m| u32::try_from(m).ok())
            .unwrap_or(0),
        master: None,
        ipv6_disabled: None,
        addresses,
        offload: None,
        flags: None,
    }
}

/// `0000:00:03.0`: a PCI domain:bus:device.function address.
fn looks_like_pci_address(id: &str) -> bool {
    let parts: Vec<&str> = id.split([':', '.']).collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn ipv4_address(fact: &Map<String, Value>, secondary: bool) -> Option<Address> {
    let address: Ipv4Addr = fact.get("address").and_then(text)?.parse().ok()?;
    let prefix_len = match prefix(fact) {
        Some(p) if p <= 32 => p,
        Some(_) => return None,
        None => match fact.get("netmask").and_then(text) {
            Some(mask) => ipnet::ipv4_mask_to_prefix(mask.parse().ok()?).ok()?,
            // A point-to-point address has neither: Ansible leaves both out.
            None => 32,
        },
    };
    Some(Address {
        family: Family::Ipv4,
        address: IpAddr::V4(address),
        prefix_len,
        scope: if address.is_loopback() {
            "host"
        } else if address.is_link_local() {
            "link"
        } else {
            "global"
        }
        .into(),
        flags: if secondary {
            vec!["secondary".into()]
        } else {
            Vec::new()
        },
        peer: None,
    })
}

/// `prefix`, a number or a string of digits.
fn prefix(fact: &Map<String, Value>) -> Option<u8> {
    let p = fact.get("prefix")?;
    p.as_u64()
        .or_else(|| p.as_str()?.trim().parse().ok())
        .and_then(|p| u8::try_from(p).ok())
}

fn ipv6_address(fact: &Map<String, Value>) -> Option<Address> {
    let address: std::net::Ipv6Addr = fact.get("address").and_then(text)?.parse().ok()?;
    let prefix_len = prefix(fact).filter(|p| *p <= 128)?;
    Some(Address {
        family: Family::Ipv6,
        address: IpAddr::V6(address),
        prefix_len,
        scope: fact
            .get("scope")
            .and_then(text)
            .map_or_else(|| "global".into(), Into::into),
        flags: Vec::new(),
        peer: None,
    })
}

/// `ansible_default_ipv4/ipv6` as default routes: the interface and gateway of `ip route get` towards
/// a public address, which is the route the kernel uses.
fn default_routes(setup: &Setup, interfaces: &[Interface]) -> Vec<Route> {
    let mut routes = Vec::new();
    for (family, key, destination) in [
        (Family::Ipv4, "default_ipv4", "0.0.0.0/0"),
        (Family::Ipv6, "default_ipv6", "::/0"),
    ] {
        let Some(fact) = setup.get(key).and_then(Value::as_object) else {
            continue;
        };
        let Some(device) = fact.get("interface").and_then(text) else {
            continue;
        };
        let gateway = fact
            .get("gateway")
            .and_then(text)
            .and_then(|g| g.parse::<IpAddr>().ok());
        let source = fact
            .get("address")
            .and_then(text)
            .and_then(|a| a.parse::<IpAddr>().ok());
        let device = interfaces
            .iter()
            .find(|i| i.name == device)
            .map_or(device, |i| i.name.to_string());
        routes.push(Route {
            family,
            destination: destination.parse().expect("a valid default destination"),
            gateway,
            device: Some(device.into()),
            protocol: "unknown".into(),
            route_type: "unicast".into(),
            scope: if gateway.is_some() { "global" } else { "link" }.into(),
            metric: None,
            preferred_source: source,
            nexthops: Vec::new(),
        });
    }
    routes
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unsafe_wrappers_are_unwrapped_at_any_depth() {
        let mut v = json!({
            "ansible_hostname": {"__ansible_unsafe": "w1"},
            "ansible_all_ipv4_addresses": [{"__ansible_unsafe": "10.0.0.1"}],
            "ansible_eth0": {"device": {"__ansible_unsafe": "eth0"}, "mtu": 1500},
        });
        unwrap_unsafe(&mut v);
        assert_eq!(
            v,
            json!({
                "ansible_hostname": "w1",
                "ansible_all_ipv4_addresses": ["10.0.0.1"],
                "ansible_eth0": {"device": "eth0", "mtu": 1500},
            })
        );
    }

    #[test]
    fn dashed_names_come_from_the_device_field() {
        let facts = json!({
            "ansible_nodename": "w1",
            "ansible_interfaces": ["lo", "br-3f2a1b0c9d8e", "eth0"],
            "ansible_br_3f2a1b0c9d8e": {"device": "br-3f2a1b0c9d8e", "type": "bridge", "active": false,
                "mtu": 1500, "macaddress": "02:42:aa:bb:cc:dd",
                "ipv4": {"address": "172.18.0.1", "netmask": "255.255.0.0", "network": "172.18.0.0"}},
            "ansible_eth0": {"device": "eth0", "type": "ether", "active": true, "mtu": 9000,
                "module": "virtio_net", "pciid": "virtio0", "macaddress": "52:54:00:12:34:56",
                "ipv4": {"address": "10.20.41.11", "prefix": "24"},
                "ipv4_secondaries": [{"address": "10.20.41.99", "netmask": "255.255.255.0"}],
                "ipv6": [{"address": "fe80::5054:ff:fe12:3456", "prefix": "64", "scope": "link"}]},
            "ansible_lo": {"device": "lo", "type": "loopback", "active": true, "mtu": 65536,
                "ipv4": {"address": "127.0.0.1", "netmask": "255.0.0.0"}},
        });
        let f = map_setup_facts(facts.as_object().unwrap()).unwrap();
        let names: Vec<&str> = f.interfaces.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["lo", "br-3f2a1b0c9d8e", "eth0"]);
        let bridge = f.interface("br-3f2a1b0c9d8e").unwrap();
        assert_eq!(bridge.kind.as_deref(), Some("bridge"));
        assert_eq!(bridge.addresses[0].prefix_len, 16);
        assert_eq!(f.docker.bridges, ["br-3f2a1b0c9d8e"]);
        let eth0 = f.interface("eth0").unwrap();
        assert_eq!(eth0.mtu, 9000);
        assert_eq!(
            eth0.physical.as_ref().unwrap().driver.as_deref(),
            Some("virtio_net")
        );
        let addrs: Vec<String> = eth0
            .addresses
            .iter()
            .map(|a| format!("{}/{} {:?}", a.address, a.prefix_len, a.flags))
            .collect();
        assert_eq!(
            addrs,
            [
                "10.20.41.11/24 []",
                "10.20.41.99/24 [\"secondary\"]",
                "fe80::5054:ff:fe12:3456/64 []"
            ]
        );
        assert!(!f.interface_order_known());
        assert_eq!(f.partial_source(), Some("from Ansible facts"));
    }

    #[test]
    fn other_modules_facts_are_not_host_facts() {
        let facts = json!({"discovered_interpreter_python": "/usr/bin/python3", "foo": 1});
        let e = map_setup_facts(facts.as_object().unwrap())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("\"discovered_interpreter_python\", \"foo\""),
            "{e}"
        );
    }

    #[test]
    fn distributions_map_to_os_release_ids() {
        assert_eq!(os_release_id("Ubuntu"), "ubuntu");
        assert_eq!(os_release_id("RedHat"), "rhel");
        assert_eq!(os_release_id("openSUSE Leap"), "opensuse-leap");
        assert_eq!(os_release_id("Rocky"), "rocky");
    }
}
