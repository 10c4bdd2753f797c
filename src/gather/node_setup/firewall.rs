//! Host firewalls, read without changing anything and without D-Bus: firewalld (its unit state, the
//! default zone's permanent configuration with services expanded) and ufw (`ufw.conf`, the default
//! input policy, the rule tuples of `user.rules`/`user6.rules`). Runtime-only changes
//! (`firewall-cmd` without `--permanent`) are not in files and are not seen.
//!
//! firewalld's XML is flat and machine-written; the few elements needed (`<zone target>`, `<port>`,
//! `<service>`, `<protocol>`) are read with a small attribute scanner rather than an XML crate.

use crate::facts::node_setup::{FirewalldState, UfwState};
use crate::host_root::HostRoot;

const MAX_FILE: u64 = 1 << 20;

pub fn gather_firewalld(root: &HostRoot) -> Option<FirewalldState> {
    let unit = super::super::systemd::read_service(root, "firewalld.service");
    let config = root
        .read_bounded("/etc/firewalld/firewalld.conf", MAX_FILE)
        .ok();
    if unit.is_none() && config.is_none() {
        return None;
    }
    let mut state = FirewalldState {
        active: super::unit_active(root, "firewalld.service") == Some(true),
        enabled: !super::services::enablement_links(root, "firewalld.service").is_empty(),
        default_zone: config
            .as_deref()
            .and_then(|c| key_value(c, "DefaultZone"))
            .unwrap_or_else(|| "public".into()),
        ..Default::default()
    };
    let zone_path = [
        format!("/etc/firewalld/zones/{}.xml", state.default_zone),
        format!("/usr/lib/firewalld/zones/{}.xml", state.default_zone),
    ]
    .into_iter()
    .find(|p| root.exists(p));
    let Some(zone_path) = zone_path else {
        state
            .notes
            .push(format!("zone {} has no zone file", state.default_zone));
        return Some(state);
    };
    let zone = match root.read_bounded(&zone_path, MAX_FILE) {
        Ok(z) => z,
        Err(e) => {
            state.notes.push(format!("{}: {e}", root.show(&zone_path)));
            return Some(state);
        }
    };
    state.zone_file = Some(zone_path);
    state.target = elements(&zone, "zone")
        .first()
        .and_then(|attrs| attr(attrs, "target"));
    state.open_ports = port_elements(&zone);
    state.open_protocols = elements(&zone, "protocol")
        .iter()
        .filter_map(|a| attr(a, "value"))
        .collect();
    for service in elements(&zone, "service")
        .iter()
        .filter_map(|a| attr(a, "name"))
    {
        let file = [
            format!("/etc/firewalld/services/{service}.xml"),
            format!("/usr/lib/firewalld/services/{service}.xml"),
        ]
        .into_iter()
        .find_map(|p| root.read_bounded(&p, MAX_FILE).ok());
        match file {
            Some(text) => {
                state.open_ports.extend(port_elements(&text));
                state.open_protocols.extend(
                    elements(&text, "protocol")
                        .iter()
                        .filter_map(|a| attr(a, "value")),
                );
            }
            None => state
                .notes
                .push(format!("service {service} has no service file")),
        }
    }
    Some(state)
}

pub fn gather_ufw(root: &HostRoot) -> Option<UfwState> {
    let conf = root.read_bounded("/etc/ufw/ufw.conf", MAX_FILE).ok()?;
    let mut state = UfwState {
        enabled: key_value(&conf, "ENABLED").is_some_and(|v| v.eq_ignore_ascii_case("yes")),
        default_input_policy: root
            .read_bounded("/etc/default/ufw", MAX_FILE)
            .ok()
            .and_then(|d| key_value(&d, "DEFAULT_INPUT_POLICY")),
        ..Default::default()
    };
    for file in ["/etc/ufw/user.rules", "/etc/ufw/user6.rules"] {
        if let Ok(text) = root.read_bounded(file, MAX_FILE) {
            let (ports, protocols) = ufw_allowed(&text);
            for p in ports {
                if !state.allowed_ports.contains(&p) {
                    state.allowed_ports.push(p);
                }
            }
            for p in protocols {
                if !state.allowed_protocols.contains(&p) {
                    state.allowed_protocols.push(p);
                }
            }
        }
    }
    Some(state)
}

/// `KEY=value` (optionally quoted) from a shell-style configuration file.
fn key_value(text: &str, key: &str) -> Option<String> {
    text.lines().rev().find_map(|line| {
        let value = line.trim().strip_prefix(key)?.strip_prefix('=')?;
        Some(value.trim().trim_matches(['"', '\'']).to_string())
    })
}

/// The attribute text of every `<name ...>` element.
fn elements<'a>(xml: &'a str, name: &str) -> Vec<&'a str> {
    let open = format!("<{name}");
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(at) = rest.find(&open) {
        let after = &rest[at + open.len()..];
        if after.starts_with(|c: char| c.is_whitespace() || c == '>' || c == '/') {
            let end = after.find('>').unwrap_or(after.len());
            out.push(&after[..end]);
        }
        rest = after;
    }
    out
}

/// One attribute's value (`name="value"` or `name='value'`).
fn attr(attrs: &str, name: &str) -> Option<String> {
    let mut rest = attrs;
    while let Some(at) = rest.find(name) {
        let before_ok = at == 0 || rest[..at].ends_with(char::is_whitespace);
        let after = rest[at + name.len()..].trim_start();
        if before_ok {
            if let Some(value) = after.strip_prefix('=') {
                let value = value.trim_start();
                let quote = value.chars().next()?;
                if quote == '"' || quote == '\'' {
                    let body = &value[1..];
                    return body.find(quote).map(|end| body[..end].to_string());
                }
            }
        }
        rest = &rest[at + name.len()..];
    }
    None
}

/// `<port port="179" protocol="tcp"/>` elements as `179/tcp` (`4000-4100/udp` for ranges).
fn port_elements(xml: &str) -> Vec<String> {
    elements(xml, "port")
        .iter()
        .filter_map(|a| Some(format!("{}/{}", attr(a, "port")?, attr(a, "protocol")?)))
        .collect()
}

/// Allowed inbound ports and protocols from ufw's `### tuple ### allow PROTO DPORT DST SPORT SRC in`
/// lines; protocol `any` counts for tcp and udp.
pub fn ufw_allowed(text: &str) -> (Vec<String>, Vec<String>) {
    let mut ports = Vec::new();
    let mut protocols = Vec::new();
    for line in text.lines() {
        let Some(tuple) = line.trim().strip_prefix("### tuple ###") else {
            continue;
        };
        let f: Vec<&str> = tuple.split_whitespace().collect();
        if f.len() < 7 || f[0] != "allow" || f.last() != Some(&"in") {
            continue;
        }
        let (proto, dport) = (f[1], f[2]);
        match (proto, dport) {
            ("any", "any") => protocols.push("any".to_string()),
            ("tcp" | "udp", "any") => protocols.push(proto.to_string()),
            ("tcp" | "udp", port) => ports.push(format!("{}/{proto}", port.replace(':', "-"))),
            ("any", port) => {
                ports.push(format!("{}/tcp", port.replace(':', "-")));
                ports.push(format!("{}/udp", port.replace(':', "-")));
            }
            (other, _) => protocols.push(other.to_string()),
        }
    }
    (ports, protocols)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn firewalld_elements_and_attributes() {
        let zone = r#"<?xml version="1.0" encoding="utf-8"?>
<zone target="DROP">
  <short>Public</short>
  <service name="ssh"/>
  <port port="179" protocol="tcp"/>
  <port protocol='udp' port='4789'/>
  <protocol value="ipip"/>
</zone>"#;
        assert_eq!(
            elements(zone, "zone")
                .first()
                .and_then(|a| attr(a, "target"))
                .as_deref(),
            Some("DROP")
        );
        assert_eq!(port_elements(zone), vec!["179/tcp", "4789/udp"]);
        assert_eq!(
            elements(zone, "protocol")
                .iter()
                .filter_map(|a| attr(a, "value"))
                .collect::<Vec<_>>(),
            vec!["ipip"]
        );
        // `<ports>` is not `<port>`.
        assert!(elements("<ports x=\"1\"/>", "port").is_empty());
    }

    #[test]
    fn ufw_tuples() {
        let rules = "### tuple ### allow tcp 179 0.0.0.0/0 any 0.0.0.0/0 in\n\
-A ufw-user-input -p tcp --dport 179 -j ACCEPT\n\
### tuple ### allow udp 4789 0.0.0.0/0 any 10.0.0.0/8 in\n\
### tuple ### allow any 10250 0.0.0.0/0 any 0.0.0.0/0 in\n\
### tuple ### deny tcp 5473 0.0.0.0/0 any 0.0.0.0/0 in\n\
### tuple ### allow ipip any 0.0.0.0/0 any 0.0.0.0/0 in\n";
        let (ports, protocols) = ufw_allowed(rules);
        assert_eq!(ports, vec!["179/tcp", "4789/udp", "10250/tcp", "10250/udp"]);
        assert_eq!(protocols, vec!["ipip"]);
        assert_eq!(
            key_value("ENABLED=yes\n", "ENABLED").as_deref(),
            Some("yes")
        );
        assert_eq!(
            key_value("DEFAULT_INPUT_POLICY=\"DROP\"\n", "DEFAULT_INPUT_POLICY").as_deref(),
            Some("DROP")
        );
    }
}
