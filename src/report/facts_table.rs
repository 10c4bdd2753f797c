//! The human form of a snapshot: one table per section. Every name that came from the host goes through
//! `escape::for_terminal_cell`, so an interface called `e\x1bq` cannot drive the operator's terminal.

use comfy_table::{presets, ContentArrangement, Table};

use crate::escape::for_terminal_cell;
use crate::facts::{Facts, Interface, ModuleState, Route};

/// All sections, each with a title line.
pub fn render(facts: &Facts) -> String {
    let sections = [
        ("Host", host_table(facts)),
        ("Interfaces (kernel order)", interfaces_table(facts)),
        ("Routes (main table)", routes_table(&facts.routes)),
        ("Kernel", kernel_table(facts)),
        ("Docker", docker_table(facts)),
        (
            "Runtime sockets and listening TCP ports",
            endpoints_table(facts),
        ),
    ];
    let mut out = String::new();
    for (title, table) in sections {
        out.push_str(&format!("{title}\n{table}\n\n"));
    }
    if !facts.unavailable.is_empty() {
        let mut table = new_table(&["fact", "why it is missing"]);
        for (path, reason) in &facts.unavailable {
            table.add_row(vec![for_terminal_cell(path), for_terminal_cell(reason)]);
        }
        out.push_str(&format!("Unavailable\n{table}\n"));
    }
    out
}

fn new_table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.to_vec());
    table
}

fn or_dash(value: Option<&str>) -> String {
    value
        .map(for_terminal_cell)
        .unwrap_or_else(|| "-".to_string())
}

fn host_table(facts: &Facts) -> Table {
    let host = &facts.host;
    let mut table = new_table(&["fact", "value"]);
    let os = host
        .os
        .pretty_name
        .as_deref()
        .or(host.os.id.as_deref())
        .map(for_terminal_cell);
    let flags = [
        ("net.ifnames", &host.cmdline.net_ifnames),
        ("biosdevname", &host.cmdline.biosdevname),
        ("ipv6.disable", &host.cmdline.ipv6_disable),
    ]
    .iter()
    .filter_map(|(k, v)| {
        v.as_deref()
            .map(|v| format!("{k}={}", for_terminal_cell(v)))
    })
    .collect::<Vec<_>>()
    .join(" ");
    let rows = [
        ("hostname", for_terminal_cell(&host.hostname)),
        ("os", os.unwrap_or_else(|| "-".into())),
        (
            "kernel",
            for_terminal_cell(&format!("{} {}", host.kernel_release, host.kernel_version)),
        ),
        ("architecture", for_terminal_cell(&host.architecture)),
        ("machine-id", or_dash(host.machine_id.as_deref())),
        ("product_uuid", or_dash(host.product_uuid.as_deref())),
        (
            "kernel command line",
            if flags.is_empty() { "-".into() } else { flags },
        ),
        ("gathered as root", host.gathered_as_root.to_string()),
        (
            "collected at",
            format!(
                "{} (nodecheck {}, schema {})",
                facts.collected_at, facts.nodecheck_version, facts.schema_version
            ),
        ),
    ];
    for (key, value) in rows {
        table.add_row(vec![key.to_string(), value]);
    }
    table
}

fn interface_kind(interface: &Interface) -> String {
    match (&interface.kind, &interface.physical) {
        (Some(kind), _) => for_terminal_cell(kind),
        (None, Some(device)) => format!(
            "physical ({})",
            [device.bus.as_deref(), device.driver.as_deref()]
                .iter()
                .flatten()
                .map(|s| for_terminal_cell(s))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        (None, None) if interface.name == "lo" => "loopback".into(),
        (None, None) => "-".into(),
    }
}

fn interfaces_table(facts: &Facts) -> Table {
    let mut table = new_table(&[
        "#",
        "name",
        "kind",
        "state",
        "mtu",
        "master",
        "mac",
        "ipv6",
        "addresses",
    ]);
    for interface in &facts.interfaces {
        let mut name = for_terminal_cell(&interface.name);
        if !interface.altnames.is_empty() {
            let alt: Vec<String> = interface
                .altnames
                .iter()
                .map(|a| for_terminal_cell(a))
                .collect();
            name.push_str(&format!("\n(alt: {})", alt.join(", ")));
        }
        let state = format!(
            "{}/{}{}",
            if interface.admin_up { "up" } else { "down" },
            for_terminal_cell(&interface.operstate),
            match interface.carrier {
                Some(false) => ", no carrier",
                _ => "",
            }
        );
        let ipv6 = match interface.ipv6_disabled {
            Some(true) => "disabled",
            Some(false) => "enabled",
            None => "off in kernel",
        };
        let addresses = interface
            .addresses
            .iter()
            .map(|a| {
                let flags = a
                    .flags
                    .iter()
                    .filter(|f| **f != "permanent")
                    .map(|f| f.as_str())
                    .collect::<Vec<_>>();
                let mut line = format!("{}/{} {}", a.address, a.prefix_len, a.scope);
                if !flags.is_empty() {
                    line.push_str(&format!(" [{}]", flags.join(",")));
                }
                if let Some(peer) = a.peer {
                    line.push_str(&format!(" peer {peer}"));
                }
                line
            })
            .collect::<Vec<_>>()
            .join("\n");
        table.add_row(vec![
            interface.index.to_string(),
            name,
            interface_kind(interface),
            state,
            interface.mtu.to_string(),
            or_dash(interface.master.as_deref()),
            or_dash(interface.mac.as_deref()),
            ipv6.to_string(),
            addresses,
        ]);
    }
    table
}

fn routes_table(routes: &[Route]) -> Table {
    let mut table = new_table(&[
        "destination",
        "via",
        "device",
        "protocol",
        "scope",
        "metric",
        "source",
    ]);
    for route in routes {
        let (via, device) = if route.nexthops.is_empty() {
            (
                route
                    .gateway
                    .map(|g| g.to_string())
                    .unwrap_or_else(|| "-".into()),
                or_dash(route.device.as_deref()),
            )
        } else {
            let hops = route.nexthops.iter().map(|h| {
                (
                    format!(
                        "{} (weight {})",
                        h.gateway
                            .map(|g| g.to_string())
                            .unwrap_or_else(|| "-".into()),
                        h.weight
                    ),
                    or_dash(h.device.as_deref()),
                )
            });
            let (vias, devices): (Vec<String>, Vec<String>) = hops.unzip();
            (vias.join("\n"), devices.join("\n"))
        };
        let mut destination = route.destination.to_string();
        if route.route_type != "unicast" {
            destination = format!("{} {destination}", for_terminal_cell(&route.route_type));
        }
        table.add_row(vec![
            destination,
            via,
            device,
            for_terminal_cell(&route.protocol),
            for_terminal_cell(&route.scope),
            route
                .metric
                .map(|m| m.to_string())
                .unwrap_or_else(|| "-".into()),
            route
                .preferred_source
                .map(|s| s.to_string())
                .unwrap_or_else(|| "-".into()),
        ]);
    }
    table
}

fn kernel_table(facts: &Facts) -> Table {
    let mut table = new_table(&["setting", "value"]);
    for (name, value) in &facts.sysctls {
        let value = value
            .as_deref()
            .map(for_terminal_cell)
            .unwrap_or_else(|| "(absent)".into());
        table.add_row(vec![for_terminal_cell(name), value]);
    }
    let ipv6 = &facts.ipv6;
    let ipv6_summary = if ipv6.disabled_on_cmdline {
        "off (ipv6.disable=1 on the kernel command line)".to_string()
    } else if !ipv6.proc_present {
        "off (no /proc/sys/net/ipv6)".to_string()
    } else {
        "available".to_string()
    };
    table.add_row(vec!["ipv6".to_string(), ipv6_summary]);
    for (name, state) in &facts.modules.state {
        let state = match state {
            ModuleState::Loaded => "loaded",
            ModuleState::Builtin => "built in",
            ModuleState::Available => "available, not loaded",
            ModuleState::Missing => "missing",
            ModuleState::Unknown => "unknown",
        };
        table.add_row(vec![format!("module {name}"), state.to_string()]);
    }
    let swap = &facts.swap;
    let devices = if swap.devices.is_empty() {
        String::new()
    } else {
        format!(
            " on {}",
            swap.devices
                .iter()
                .map(|d| for_terminal_cell(d))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    table.add_row(vec![
        "swap".to_string(),
        format!(
            "{} KiB used of {} KiB{devices}",
            swap.used_kib, swap.total_kib
        ),
    ]);
    table
}

fn docker_table(facts: &Facts) -> Table {
    let docker = &facts.docker;
    let mut table = new_table(&[
        "network",
        "driver",
        "subnets",
        "bridge",
        "compose project/network",
    ]);
    let api = format!(
        "API {}: {}{}",
        for_terminal_cell(&docker.api.socket),
        serde_json::to_value(docker.api.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        docker
            .api
            .detail
            .as_deref()
            .map(|d| format!(" ({})", for_terminal_cell(d)))
            .unwrap_or_default()
    );
    table.add_row(vec![
        api,
        String::new(),
        String::new(),
        String::new(),
        String::new(),
    ]);
    for network in &docker.networks {
        let compose = match (&network.compose_project, &network.compose_network) {
            (None, None) => "-".to_string(),
            (project, net) => format!(
                "{}/{}",
                or_dash(project.as_deref()),
                or_dash(net.as_deref())
            ),
        };
        table.add_row(vec![
            for_terminal_cell(&network.name),
            for_terminal_cell(&network.driver),
            network
                .subnets
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join("\n"),
            or_dash(network.bridge_device.as_deref()),
            compose,
        ]);
    }
    let bridges = docker
        .bridges
        .iter()
        .map(|b| for_terminal_cell(b))
        .collect::<Vec<_>>();
    table.add_row(vec![
        "bridges in the kernel".to_string(),
        String::new(),
        String::new(),
        if bridges.is_empty() {
            "-".into()
        } else {
            bridges.join("\n")
        },
        String::new(),
    ]);
    table
}

fn endpoints_table(facts: &Facts) -> Table {
    let mut table = new_table(&["endpoint", "state"]);
    for socket in &facts.runtime_sockets {
        table.add_row(vec![
            format!("{} {}", socket.runtime, for_terminal_cell(&socket.path)),
            if socket.present { "present" } else { "absent" }.to_string(),
        ]);
    }
    for port in &facts.listening_ports {
        let address = match port.address {
            std::net::IpAddr::V6(v6) => format!("[{v6}]"),
            v4 => v4.to_string(),
        };
        table.add_row(vec![
            format!("{} {address}:{}", port.protocol, port.port),
            "listening".to_string(),
        ]);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_are_escaped_in_tables() {
        let json = include_str!("../../tests/fixtures/facts/gather-hostile-names.json");
        let facts: Facts = serde_json::from_str(json).unwrap();
        let text = render(&facts);
        assert!(!text.contains('\x1b'), "raw escape byte in table output");
        assert!(text.contains("e\\x1bq"));
        assert!(text.contains("x$;y"));
        assert!(text.contains("néé"));
        assert!(text.contains("10.20.41.41/24 global"));
        assert!(text.contains("192.168.77.1 (weight 1)"));
    }
}
