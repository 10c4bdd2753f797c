//! `NetworkManager-Calico`: a running NetworkManager that is not told to leave Calico's devices alone
//! (`cali*` veths, `tunl0`, `vxlan.calico`, `wireguard.cali`) takes them over and removes their routes,
//! which breaks pod traffic on that node some time after the join.

use crate::checks::finding::Finding;
use crate::checks::{Area, CheckResult, Context};
use crate::profile::Encapsulation;

pub const ID: &str = "NetworkManager-Calico";
const AREA: Area = Area::DataPlane;

/// Calico's device names to test the specs against (a sample veth name stands for `cali*`).
fn calico_devices(
    encapsulation: Option<Encapsulation>,
    ipv6: bool,
) -> Vec<(&'static str, &'static str)> {
    let mut names = vec![("cali1a2b3c4d5e6", "cali*")];
    let all = encapsulation.is_none();
    if all
        || matches!(
            encapsulation,
            Some(Encapsulation::Ipip | Encapsulation::IpipCrossSubnet)
        )
    {
        names.push(("tunl0", "tunl0"));
    }
    if all || encapsulation.is_some_and(Encapsulation::is_vxlan) {
        names.push(("vxlan.calico", "vxlan.calico"));
        if ipv6 {
            names.push(("vxlan-v6.calico", "vxlan-v6.calico"));
        }
    }
    if all || encapsulation == Some(Encapsulation::Wireguard) {
        names.push(("wireguard.cali", "wireguard.cali"));
        if ipv6 {
            names.push(("wg-v6.cali", "wg-v6.cali"));
        }
    }
    names
}

pub fn evaluate(ctx: &Context) -> Vec<CheckResult> {
    let Some(setup) = &ctx.facts.node_setup else {
        return Vec::new();
    };
    let nm = &setup.network_manager;
    let ipv6 = ctx
        .profile
        .calico
        .families
        .contains(&crate::facts::Family::Ipv6);
    let devices = calico_devices(ctx.profile.calico.encapsulation, ipv6);
    let unmanaged: Vec<&str> = devices
        .iter()
        .filter(|(name, _)| nm.leaves_unmanaged(name))
        .map(|(_, shown)| *shown)
        .collect();
    let managed: Vec<&str> = devices
        .iter()
        .filter(|(_, shown)| !unmanaged.contains(shown))
        .map(|(_, shown)| *shown)
        .collect();
    let r = if !nm.running {
        CheckResult::ok(ID, AREA, "NetworkManager is not running")
    } else if managed.is_empty() {
        CheckResult::ok(
            ID,
            AREA,
            format!(
                "NetworkManager runs and leaves Calico's devices alone ({})",
                unmanaged.join(", ")
            ),
        )
    } else {
        CheckResult::fail(
            ID,
            AREA,
            format!(
                "NetworkManager runs and would manage Calico's {}: it removes their routes and addresses behind Calico (unmanaged-devices: {})",
                managed.join(", "),
                if nm.unmanaged_devices.is_empty() { "none".to_string() } else { nm.unmanaged_devices.join(";") }
            ),
        )
        .fix("add /etc/NetworkManager/conf.d/calico.conf with `[keyfile]` `unmanaged-devices=interface-name:cali*;interface-name:tunl*;interface-name:vxlan.calico;interface-name:vxlan-v6.calico;interface-name:wireguard.cali;interface-name:wg-v6.cali` and `systemctl reload NetworkManager` (`nodecheck fix` plans it)")
    };
    vec![r
        .found(Finding::NetworkManagerCalico {
            running: nm.running,
        })
        .with("unmanaged_devices", nm.unmanaged_devices.clone())
        .with("config_files", nm.config_files.clone())
        .with("calico_devices_managed", managed)]
}
