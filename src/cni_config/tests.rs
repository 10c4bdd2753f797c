//! Reading deployed manifests and k3s configuration files.

use super::*;

const KUBE_FLANNEL: &str = r#"
apiVersion: v1
kind: Namespace
metadata:
  name: kube-flannel
---
kind: ConfigMap
apiVersion: v1
metadata:
  name: kube-flannel-cfg
  namespace: kube-flannel
data:
  net-conf.json: |
    {
      "Network": "10.244.0.0/16",
      "EnableIPv6": true,
      "Backend": { "Type": "vxlan" }
    }
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: kube-flannel-ds
  namespace: kube-flannel
spec:
  template:
    spec:
      containers:
      - name: kube-flannel
        image: ghcr.io/flannel-io/flannel:v0.26.1
        command: ["/opt/bin/flanneld"]
        args: ["--ip-masq", "--kube-subnet-mgr", "--iface-regex=^ens"]
        env:
        - name: POD_NAME
          valueFrom: {fieldRef: {fieldPath: metadata.name}}
        - name: FLANNELD_PUBLIC_IP
          value: ""
"#;

fn parse(text: &str, distro: ComponentName) -> Result<DeployedCni, String> {
    let mut d = DeployedCni::default();
    parse_into(text, "input.yaml", distro, &mut d).map(|()| d)
}

#[test]
fn kube_flannel_yml_gives_args_env_version_and_net_conf() {
    let d = parse(KUBE_FLANNEL, ComponentName::K3s).unwrap();
    let f = d.flannel.as_ref().unwrap();
    assert_eq!(
        f.args,
        ["--ip-masq", "--kube-subnet-mgr", "--iface-regex=^ens"]
    );
    assert_eq!(f.version.unwrap().to_string(), "v0.26.1");
    assert_eq!(f.enable_ipv6, Some(true));
    assert_eq!(f.backend, Some(FlannelBackend::Vxlan));
    assert_eq!(
        f.env.get("FLANNELD_PUBLIC_IP").map(String::as_str),
        Some("")
    );
    assert_eq!(d.flannel_flavor, Some(ComponentName::Flannel));
    assert_eq!(d.ignored, ["input.yaml: Namespace kube-flannel"]);
    let mut cni = CniSettings::default();
    d.apply_to(&mut cni);
    assert_eq!(
        cni.effective_components(),
        [ComponentName::Kubelet, ComponentName::Flannel]
    );
}

#[test]
fn canal_iface_comes_from_the_config_map() {
    let canal = r#"
kind: ConfigMap
apiVersion: v1
metadata: {name: canal-config, namespace: kube-system}
data:
  canal_iface: "eth1"
  net-conf.json: '{"Network": "10.244.0.0/16", "Backend": {"Type": "vxlan"}}'
---
kind: DaemonSet
apiVersion: apps/v1
metadata: {name: canal, namespace: kube-system}
spec:
  template:
    spec:
      containers:
      - name: calico-node
        image: docker.io/calico/node:v3.29.1
      - name: kube-flannel
        image: docker.io/flannel/flannel:v0.24.4
        command: ["/opt/bin/flanneld", "--ip-masq", "--kube-subnet-mgr"]
        env:
        - name: FLANNELD_IFACE
          valueFrom:
            configMapKeyRef: {name: canal-config, key: canal_iface}
"#;
    let d = parse(canal, ComponentName::K3s).unwrap();
    let f = d.flannel.as_ref().unwrap();
    assert_eq!(
        f.env.get("FLANNELD_IFACE").map(String::as_str),
        Some("eth1")
    );
    assert_eq!(f.args, ["--ip-masq", "--kube-subnet-mgr"]);
    assert_eq!(d.flannel_flavor, Some(ComponentName::Canal));
    let mut cni = CniSettings::default();
    d.apply_to(&mut cni);
    assert_eq!(
        cni.effective_components(),
        [ComponentName::Kubelet, ComponentName::Canal]
    );
}

#[test]
fn a_k3s_config_file_becomes_flags() {
    let d = parse("node-ip: 192.168.56.11\nflannel-iface: eth1\nnode-label: [a=b, c=d]\nflannel-external-ip: true\n", ComponentName::K3s).unwrap();
    assert_eq!(
        d.k3s.unwrap().args,
        [
            "--node-ip=192.168.56.11",
            "--flannel-iface=eth1",
            "--node-label=a=b",
            "--node-label=c=d",
            "--flannel-external-ip=true"
        ]
    );
    let d = parse("node-ip: 10.0.0.5\n", ComponentName::Rke2).unwrap();
    assert!(d.rke2.is_some() && d.k3s.is_none());
    let e = parse("node-ip: {a: 1}\n", ComponentName::K3s).unwrap_err();
    assert!(e.contains("key \"node-ip\": expected a value"), "{e}");
}

#[test]
fn bad_input_says_where_and_what() {
    let e = parse("kind: DaemonSet\n  bad: [\n", ComponentName::K3s).unwrap_err();
    assert!(e.starts_with("invalid YAML at line "), "{e}");
    let e = parse("kind: Service\nmetadata: {name: web}\n---\nkind: Deployment\nmetadata: {name: api, namespace: prod}\n", ComponentName::K3s).unwrap_err();
    assert_eq!(e, "no flanneld, cilium-agent, kube-router or antrea-agent DaemonSet, kube-flannel-cfg, canal-config, cilium-config or antrea-config ConfigMap, Cilium Helm values, or k3s/RKE2 configuration in it; found: Service web, Deployment prod/api");
    let bad_tag = KUBE_FLANNEL.replace("flannel:v0.26.1", "flannel:latest");
    assert!(parse(&bad_tag, ComponentName::K3s)
        .unwrap_err()
        .contains("the flanneld image tag"));
    let bad_conf = KUBE_FLANNEL.replace("\"vxlan\"", "\"carrier-pigeon\"");
    assert!(parse(&bad_conf, ComponentName::K3s)
        .unwrap_err()
        .contains("carrier-pigeon"));
}

const CILIUM_MANIFEST: &str = r#"
apiVersion: v1
kind: ConfigMap
metadata:
  name: cilium-config
  namespace: kube-system
data:
  devices: "eth1 ens+"
  direct-routing-device: "eth1"
  force-device-detection: "false"
  kube-proxy-replacement: "true"
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: cilium
  namespace: kube-system
spec:
  template:
    spec:
      containers:
      - name: cilium-agent
        image: quay.io/cilium/cilium:v1.16.5@sha256:758ca0793f5995bb938a2fa219dcce63dc0b3fa7fc4ce5cc851125281fb7361d
"#;

#[test]
fn cilium_config_map_and_agent_image() {
    let d = parse(CILIUM_MANIFEST, ComponentName::K3s).unwrap();
    let c = d.cilium.clone().unwrap();
    assert_eq!(c.version, Some("1.16.5".parse().unwrap()));
    assert_eq!(c.devices, ["eth1", "ens+"]);
    assert_eq!(c.direct_routing_device.as_deref(), Some("eth1"));
    assert_eq!(c.force_device_detection, Some(false));
    assert_eq!(c.needs_direct_routing_device, Some(true));
    let mut cni = CniSettings::default();
    d.apply_to(&mut cni);
    assert_eq!(
        cni.effective_components(),
        [ComponentName::Kubelet, ComponentName::Cilium]
    );
}

/// cilium#33527: a Helm `devices` string with a comma stays one entry, as the agent reads it.
#[test]
fn cilium_helm_values() {
    let values = "kubeProxyReplacement: false\ndevices: \"external,internal\"\nnodePort:\n  directRoutingDevice: internal\nimage:\n  tag: v1.15.6\n";
    let c = parse(values, ComponentName::K3s).unwrap().cilium.unwrap();
    assert_eq!(c.devices, ["external,internal"]);
    assert_eq!(c.direct_routing_device.as_deref(), Some("internal"));
    assert_eq!(c.version, Some("1.15.6".parse().unwrap()));
    assert_eq!(c.needs_direct_routing_device, Some(false));
    let c = parse(
        "devices: [eth0, eth1]\nforceDeviceDetection: true\n",
        ComponentName::K3s,
    )
    .unwrap()
    .cilium
    .unwrap();
    assert_eq!(c.devices, ["eth0", "eth1"]);
    assert_eq!(c.force_device_detection, Some(true));
}

#[test]
fn cilium_bad_values_are_named() {
    let e = parse(
        "kind: ConfigMap\nmetadata: {name: cilium-config}\ndata: {force-device-detection: maybe}\n",
        ComponentName::K3s,
    )
    .unwrap_err();
    assert!(
        e.contains("ConfigMap cilium-config: force-device-detection: expected true or false"),
        "{e}"
    );
    let e = parse("devices: {a: 1}\n", ComponentName::K3s).unwrap_err();
    assert!(
        e.contains("Cilium Helm values: devices: expected a list"),
        "{e}"
    );
    let e = parse(
        "image: {tag: v2.0.0}\nkubeProxyReplacement: true\n",
        ComponentName::K3s,
    )
    .unwrap_err();
    assert!(
        e.contains("image.tag: `v2.0.0` is not a Cilium release"),
        "{e}"
    );
}

/// Antrea's manifest: the antrea-config ConfigMap's antrea-agent.conf and the agent's image tag.
const ANTREA: &str = r#"
apiVersion: v1
kind: ConfigMap
metadata:
  name: antrea-config
  namespace: kube-system
data:
  antrea-agent.conf: |
    # Name of the interface antrea-agent will create and use for host <--> pod communication.
    hostGateway: "antrea-gw0"
    trafficEncapMode: "encap"
    transportInterface: ""
    transportInterfaceCIDRs:
      - 192.168.56.0/24
  antrea-controller.conf: |
    nodeIPAM: {}
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: antrea-agent
  namespace: kube-system
spec:
  template:
    spec:
      containers:
      - name: antrea-agent
        image: antrea/antrea-agent-ubuntu:v2.2.0
        command: ["antrea-agent"]
        args: ["--config", "/etc/antrea/antrea-agent.conf"]
"#;

const KUBE_ROUTER: &str = r#"
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: kube-router
  namespace: kube-system
spec:
  template:
    spec:
      containers:
      - name: kube-router
        image: docker.io/cloudnativelabs/kube-router:v2.1.3
        args: ["--run-router=true", "--run-firewall=true", "--enable-ipv6=true"]
"#;

#[test]
fn antrea_config_and_kube_router_daemonset() {
    let mut d = DeployedCni::default();
    parse_into(ANTREA, "antrea.yml", ComponentName::K3s, &mut d).unwrap();
    let antrea = d.antrea.clone().unwrap();
    assert_eq!(antrea.transport_interface, None, "an empty value is unset");
    assert_eq!(antrea.transport_interface_cidrs, ["192.168.56.0/24"]);
    assert_eq!(antrea.host_gateway.as_deref(), Some("antrea-gw0"));
    assert_eq!(antrea.version.unwrap().to_string(), "v2.2.0");
    parse_into(KUBE_ROUTER, "kube-router.yml", ComponentName::K3s, &mut d).unwrap();
    let kr = d.kube_router.clone().unwrap();
    assert_eq!(kr.args[2], "--enable-ipv6=true");
    assert_eq!(kr.version.unwrap().to_string(), "v2.1.3");
    let mut cni = CniSettings::default();
    d.apply_to(&mut cni);
    assert_eq!(
        cni.effective_components(),
        [
            ComponentName::Kubelet,
            ComponentName::KubeRouter,
            ComponentName::Antrea
        ]
    );
    let bad = ANTREA.replace("      - 192.168.56.0/24", "      bad: [");
    let e = parse_into(
        &bad,
        "antrea.yml",
        ComponentName::K3s,
        &mut DeployedCni::default(),
    )
    .unwrap_err();
    assert!(
        e.contains("ConfigMap antrea-config: antrea-agent.conf: invalid YAML at line"),
        "{e}"
    );
}
