//! The k3s/RKE2 file edits: the file that wins for a key, the command line that wins over every
//! file, and comments kept; the proof's pins put into each component's configuration.

use super::*;

fn config(files: &[(&str, &str)], unit: Option<&[&str]>) -> HostK3sConfig {
    HostK3sConfig {
        distro: "k3s",
        files: files
            .iter()
            .map(|(p, t)| (p.to_string(), t.to_string()))
            .collect(),
        unit_args: unit.map(|u| {
            (
                "/etc/systemd/system/k3s.service".to_string(),
                u.iter().map(|s| s.to_string()).collect(),
            )
        }),
        unreadable: Vec::new(),
    }
}

fn edits() -> Vec<KeyEdit> {
    vec![
        KeyEdit {
            component: Component::K3s,
            key: "node-ip",
            value: "10.20.41.41".into(),
        },
        KeyEdit {
            component: Component::Flannel,
            key: "flannel-iface",
            value: "ens192".into(),
        },
    ]
}

const BASE: &str = "/etc/rancher/k3s/config.yaml";
const DROP_IN: &str = "/etc/rancher/k3s/config.yaml.d/50-net.yaml";

#[test]
fn each_key_goes_to_the_file_that_wins_for_it() {
    let c = config(
        &[
            (
                BASE,
                "# agent\nnode-ip: 10.99.0.78 # old\nserver: https://10.20.41.10:6443\n",
            ),
            (DROP_IN, "# flannel over the VPN\nflannel-iface: ens224\n"),
        ],
        Some(&["--node-label=x"]),
    );
    let failing = vec![ADDRESS_CONSENSUS.to_string(), K3S_NODE_IP.to_string()];
    let (changes, planned) = k3s_changes(&c, &edits(), &failing).unwrap();
    assert_eq!(changes.len(), 2);
    let after = |i: usize| match &changes[i].target {
        Target::File { path, after, .. } => (path.display().to_string(), after.clone()),
        _ => unreachable!(),
    };
    assert_eq!(
        after(0),
        (
            BASE.to_string(),
            "# agent\nnode-ip: 10.20.41.41 # old\nserver: https://10.20.41.10:6443\n".to_string()
        )
    );
    assert_eq!(
        after(1),
        (
            DROP_IN.to_string(),
            "# flannel over the VPN\nflannel-iface: ens192\n".to_string()
        )
    );
    assert_eq!(changes[0].fixes, [ADDRESS_CONSENSUS, K3S_NODE_IP]);
    assert_eq!(changes[1].fixes, [ADDRESS_CONSENSUS]);
    // Planning again on the planned files changes nothing.
    let (again, _) = k3s_changes(&planned, &edits(), &failing).unwrap();
    assert!(again.is_empty());
}

#[test]
fn a_key_on_the_command_line_is_held_and_a_missing_file_created() {
    let c = config(&[], Some(&["--node-ip=10.99.0.78"]));
    let e = k3s_changes(&c, &edits(), &[ADDRESS_CONSENSUS.to_string()])
        .err()
        .unwrap();
    assert!(e.contains("--node-ip is set on the command line"), "{e}");
    let (changes, _) = k3s_changes(
        &config(&[], None),
        &edits(),
        &[ADDRESS_CONSENSUS.to_string()],
    )
    .unwrap();
    assert_eq!(changes.len(), 1);
    match &changes[0].target {
        Target::File { before, after, .. } => {
            assert_eq!(before, &None);
            assert_eq!(after, "node-ip: 10.20.41.41\nflannel-iface: ens192\n");
        }
        _ => unreachable!(),
    }
}

#[test]
fn pins_join_the_proof_by_component_and_an_unknown_one_is_named() {
    let mut cni = CniSettings::default();
    let mut calico = CalicoSettings::default();
    let pin = |component, kind, name: &str, value: &str| Pin {
        component,
        kind,
        name: name.into(),
        value: value.into(),
        place: String::new(),
    };
    with_pin(
        &mut cni,
        &mut calico,
        &pin(
            Component::Antrea,
            SettingKind::ConfigKey,
            "transportInterfaceCIDRs",
            "[10.20.41.0/24, fd00::/64]",
        ),
    )
    .unwrap();
    assert_eq!(
        cni.antrea.unwrap().transport_interface_cidrs,
        ["10.20.41.0/24", "fd00::/64"]
    );
    with_pin(
        &mut CniSettings::default(),
        &mut calico,
        &pin(
            Component::Calico,
            SettingKind::Env,
            "IP_AUTODETECTION_METHOD",
            "cidr=10.20.41.0/24",
        ),
    )
    .unwrap();
    assert_eq!(calico.ipv4_method.as_deref(), Some("cidr=10.20.41.0/24"));
    let e = with_pin(
        &mut CniSettings::default(),
        &mut calico,
        &pin(Component::Kubelet, SettingKind::Flag, "--made-up", "x"),
    )
    .unwrap_err();
    assert!(
        e.contains("cannot run kubelet's model again with `--made-up=x`"),
        "{e}"
    );
}
