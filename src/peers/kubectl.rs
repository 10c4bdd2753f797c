//! Parsing `kubectl get nodes -o json` (a `List` or `NodeList`) and single `Node` objects.
//!
//! Node lists of large clusters are big (tens of KiB a node with `managedFields`), so nothing here
//! builds a JSON tree: items are deserialised one at a time into a lean struct that keeps only the
//! fields nodecheck uses (`metadata.name`, four Calico annotations, `status.nodeInfo`,
//! `status.addresses`) and turned into a [`KubeNode`] at once. The same code reads a document in
//! memory or streams one from a reader.

use std::fmt;

use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::KubeNode;

/// The nodes a Kubernetes document holds.
#[derive(Debug, Default)]
pub struct NodeDocument {
    /// Each node with its position (`items[3]`; empty for a single `Node` object).
    pub nodes: Vec<(String, KubeNode)>,
    /// Items that are nodes but unusable (no name), by position.
    pub item_problems: Vec<String>,
}

/// Why a document is not a Kubernetes node list or Node; every one is bad input.
#[derive(Debug, thiserror::Error)]
pub enum KubeDocumentError {
    #[error("invalid JSON in a Kubernetes document: {0}")]
    Json(serde_json::Error),
    #[error("not a valid Kubernetes node list: {0}")]
    NotANodeList(serde_json::Error),
    #[error("a Node without metadata.name")]
    NodeWithoutName,
    #[error("a Kubernetes {kind} without nodes (it holds {}): give `kubectl get nodes -o json` output", holds.join(", "))]
    NoNodes { kind: String, holds: Vec<String> },
    #[error("a list without `kind` whose items are not all Node-shaped (metadata.name and status.nodeInfo or status.addresses): give `kubectl get nodes -o json` output")]
    KindlessList,
    #[error("a Kubernetes-looking object without `kind` that is not Node-shaped (metadata.name and status.nodeInfo or status.addresses): give `kubectl get nodes -o json` output")]
    KindlessObject,
    #[error("a Kubernetes {0}, not a node list: give `kubectl get nodes -o json` output")]
    OtherKind(String),
}

impl crate::error::ExitStatus for KubeDocumentError {
    fn exit(&self) -> crate::error::Exit {
        crate::error::Exit::BadInput
    }
}

/// Parses a Kubernetes document held in memory.
pub fn parse_slice(bytes: &[u8]) -> Result<NodeDocument, KubeDocumentError> {
    parse(serde_json::Deserializer::from_slice(bytes))
}

/// Parses a Kubernetes document from a reader, item by item (for lists too large to hold).
pub fn parse_reader(reader: impl std::io::Read) -> Result<NodeDocument, KubeDocumentError> {
    parse(serde_json::Deserializer::from_reader(reader))
}

fn parse<'de, R: serde_json::de::Read<'de>>(
    mut de: serde_json::Deserializer<R>,
) -> Result<NodeDocument, KubeDocumentError> {
    let object = Object::deserialize(&mut de)
        .and_then(|o| de.end().map(|()| o))
        .map_err(|e| {
            if e.is_syntax() || e.is_eof() {
                KubeDocumentError::Json(e)
            } else {
                KubeDocumentError::NotANodeList(e)
            }
        })?;
    object.into_nodes()
}

#[derive(Deserialize)]
struct Object {
    kind: Option<String>,
    #[serde(default)]
    metadata: Option<Metadata>,
    #[serde(default)]
    status: Option<Status>,
    #[serde(default)]
    items: Option<Items>,
}

impl Object {
    /// `metadata.name` and `status.nodeInfo` or `status.addresses`: what a Node has, and no list has.
    fn is_node_shaped(&self) -> bool {
        self.items.is_none()
            && self
                .metadata
                .as_ref()
                .is_some_and(|m| m.name.as_deref().is_some_and(|n| !n.is_empty()))
            && self
                .status
                .as_ref()
                .is_some_and(|s| s.node_info.is_some() || s.addresses.is_some())
    }

    fn into_nodes(self) -> Result<NodeDocument, KubeDocumentError> {
        let kind = self.kind.as_deref().unwrap_or("");
        match kind {
            "Node" => {
                let item = Item {
                    kind: self.kind.clone(),
                    metadata: self.metadata,
                    status: self.status,
                };
                let mut doc = NodeDocument::default();
                match item.into_node() {
                    Ok(node) => doc.nodes.push((String::new(), node)),
                    Err(e) => return Err(e),
                }
                Ok(doc)
            }
            "List" | "NodeList" => {
                let items = self.items.unwrap_or_default();
                if items.doc.nodes.is_empty()
                    && items.doc.item_problems.is_empty()
                    && !items.other_kinds.is_empty()
                {
                    return Err(KubeDocumentError::NoNodes {
                        kind: kind.to_string(),
                        holds: items.other_kinds,
                    });
                }
                Ok(items.doc)
            }
            // Some tools save `kubectl get node NAME -o json` without `kind` (and `apiVersion`): a
            // Node-shaped object — a name and node status — is a Node.
            "" if self.is_node_shaped() => Object {
                kind: Some("Node".into()),
                ..self
            }
            .into_nodes(),
            // Lists some tools write without `kind`: a client-go-marshalled NodeList (`{"metadata":
            // {"resourceVersion": …}, "items": [...]}`), KubeSphere's API list (`{"items": [...],
            // "totalItems": 2}`). A list whose items are all Node-shaped is a node list.
            "" if self.items.is_some() => {
                let items = self.items.unwrap_or_default();
                let node_shaped = |n: &KubeNode| {
                    n.kernel_version.is_some()
                        || n.os_image.is_some()
                        || n.kubelet_version.is_some()
                        || n.machine_id.is_some()
                        || n.system_uuid.is_some()
                        || !n.addresses.is_empty()
                };
                if items.doc.nodes.is_empty()
                    || !items.doc.nodes.iter().all(|(_, n)| node_shaped(n))
                {
                    return Err(KubeDocumentError::KindlessList);
                }
                Ok(items.doc)
            }
            "" => Err(KubeDocumentError::KindlessObject),
            other => Err(KubeDocumentError::OtherKind(other.to_string())),
        }
    }
}

/// One list item; items of other kinds deserialise into this too and are dropped.
#[derive(Deserialize)]
struct Item {
    kind: Option<String>,
    #[serde(default)]
    metadata: Option<Metadata>,
    #[serde(default)]
    status: Option<Status>,
}

impl Item {
    /// A list item without `kind` is a node: the API server leaves it out of `NodeList` items.
    fn is_node(&self) -> bool {
        matches!(self.kind.as_deref(), None | Some("Node"))
    }

    fn into_node(self) -> Result<KubeNode, KubeDocumentError> {
        let metadata = self.metadata.unwrap_or_default();
        let name = metadata
            .name
            .filter(|n| !n.is_empty())
            .ok_or(KubeDocumentError::NodeWithoutName)?;
        let status = self.status.unwrap_or_default();
        let info = status.node_info.unwrap_or_default();
        let calico = metadata.annotations.unwrap_or_default();
        Ok(KubeNode {
            name,
            kernel_version: info.kernel_version,
            os_image: info.os_image,
            container_runtime_version: info.container_runtime_version,
            kubelet_version: info.kubelet_version,
            addresses: status
                .addresses
                .unwrap_or_default()
                .into_iter()
                .map(|a| (a.kind, a.address))
                .collect(),
            calico_ipv4_address: calico.ipv4_address,
            calico_ipv6_address: calico.ipv6_address,
            machine_id: info.machine_id.filter(|s| !s.is_empty()),
            system_uuid: info.system_uuid.filter(|s| !s.is_empty()),
            calico_ipip_tunnel_address: calico.ipip_tunnel_address,
            calico_vxlan_tunnel_address: calico.vxlan_tunnel_address,
        })
    }
}

#[derive(Deserialize, Default)]
struct Metadata {
    name: Option<String>,
    #[serde(default)]
    annotations: Option<CalicoAnnotations>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Status {
    #[serde(default)]
    node_info: Option<NodeInfo>,
    #[serde(default)]
    addresses: Option<Vec<NodeAddress>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct NodeInfo {
    kernel_version: Option<String>,
    os_image: Option<String>,
    container_runtime_version: Option<String>,
    kubelet_version: Option<String>,
    #[serde(rename = "machineID")]
    machine_id: Option<String>,
    #[serde(rename = "systemUUID")]
    system_uuid: Option<String>,
}

#[derive(Deserialize)]
struct NodeAddress {
    #[serde(rename = "type")]
    kind: String,
    address: String,
}

/// The Calico annotations of a node; every other annotation is skipped unread.
#[derive(Default)]
struct CalicoAnnotations {
    ipv4_address: Option<String>,
    ipv6_address: Option<String>,
    ipip_tunnel_address: Option<String>,
    vxlan_tunnel_address: Option<String>,
}

impl<'de> Deserialize<'de> for CalicoAnnotations {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AnnotationsVisitor;
        impl<'de> Visitor<'de> for AnnotationsVisitor {
            type Value = CalicoAnnotations;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an annotations map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut calico = CalicoAnnotations::default();
                while let Some(key) = map.next_key::<AnnotationKey>()? {
                    let slot = match key {
                        AnnotationKey::Ipv4Address => &mut calico.ipv4_address,
                        AnnotationKey::Ipv6Address => &mut calico.ipv6_address,
                        AnnotationKey::IpipTunnel => &mut calico.ipip_tunnel_address,
                        AnnotationKey::VxlanTunnel => &mut calico.vxlan_tunnel_address,
                        AnnotationKey::Other => {
                            map.next_value::<IgnoredAny>()?;
                            continue;
                        }
                    };
                    *slot = map.next_value::<Option<String>>()?;
                }
                Ok(calico)
            }
        }
        deserializer.deserialize_map(AnnotationsVisitor)
    }
}

enum AnnotationKey {
    Ipv4Address,
    Ipv6Address,
    IpipTunnel,
    VxlanTunnel,
    Other,
}

impl<'de> Deserialize<'de> for AnnotationKey {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = AnnotationKey;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an annotation name")
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<AnnotationKey, E> {
                Ok(match key {
                    "projectcalico.org/IPv4Address" => AnnotationKey::Ipv4Address,
                    "projectcalico.org/IPv6Address" => AnnotationKey::Ipv6Address,
                    "projectcalico.org/IPv4IPIPTunnelAddr" => AnnotationKey::IpipTunnel,
                    "projectcalico.org/IPv4VXLANTunnelAddr" => AnnotationKey::VxlanTunnel,
                    _ => AnnotationKey::Other,
                })
            }
        }
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

/// List items, turned into nodes one by one as they are read.
#[derive(Default)]
struct Items {
    doc: NodeDocument,
    /// Kinds of the non-node items skipped (first few, for the message).
    other_kinds: Vec<String>,
}

impl<'de> Deserialize<'de> for Items {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ItemsVisitor;
        impl<'de> Visitor<'de> for ItemsVisitor {
            type Value = Items;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of Kubernetes objects")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Items, A::Error> {
                let mut items = Items::default();
                let mut index = 0usize;
                while let Some(item) = seq.next_element::<Item>()? {
                    let position = format!("items[{index}]");
                    index += 1;
                    if !item.is_node() {
                        let kind = item.kind.unwrap_or_default();
                        if items.other_kinds.len() < 5 && !items.other_kinds.contains(&kind) {
                            items.other_kinds.push(kind);
                        }
                        continue;
                    }
                    match item.into_node() {
                        Ok(node) => items.doc.nodes.push((position, node)),
                        Err(e) => items.doc.item_problems.push(format!("{position}: {e}")),
                    }
                }
                Ok(items)
            }
        }
        deserializer.deserialize_seq(ItemsVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_list_keeps_only_what_nodecheck_uses() {
        let doc = parse_slice(
            br#"{"apiVersion": "v1", "items": [
              {"kind": "Node", "metadata": {"name": "w1", "labels": {"a": "b"},
                "annotations": {"node.alpha.kubernetes.io/ttl": "0",
                                "projectcalico.org/IPv4Address": "10.20.41.11/24"}},
               "spec": {"podCIDR": "10.244.1.0/24"},
               "status": {"addresses": [{"type": "InternalIP", "address": "10.20.41.11"}],
                          "nodeInfo": {"kernelVersion": "5.15.0-91-generic", "machineID": "",
                                       "bootID": "x"}}},
              {"kind": "Node", "metadata": {}}
            ], "kind": "List", "metadata": {"resourceVersion": ""}}"#,
        )
        .unwrap();
        assert_eq!(doc.nodes.len(), 1);
        let (position, node) = &doc.nodes[0];
        assert_eq!(position, "items[0]");
        assert_eq!(node.name, "w1");
        assert_eq!(node.calico_ipv4_address.as_deref(), Some("10.20.41.11/24"));
        assert_eq!(node.kernel_version.as_deref(), Some("5.15.0-91-generic"));
        assert_eq!(node.machine_id, None);
        assert_eq!(
            node.addresses,
            vec![("InternalIP".to_string(), "10.20.41.11".to_string())]
        );
        assert_eq!(
            doc.item_problems,
            ["items[1]: a Node without metadata.name"]
        );
    }

    #[test]
    fn other_kubernetes_objects_are_refused_by_kind() {
        let e = parse_slice(br#"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("a Kubernetes Pod, not a node list"), "{e}");
        let e = parse_slice(br#"{"kind": "List", "items": [{"kind": "Pod"}]}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("without nodes (it holds Pod)"), "{e}");
    }

    #[test]
    fn a_single_node_object_is_one_node() {
        let doc = parse_slice(br#"{"kind": "Node", "metadata": {"name": "w9"}}"#).unwrap();
        assert_eq!(doc.nodes[0].1.name, "w9");
        assert_eq!(doc.nodes[0].0, "");
    }

    #[test]
    fn a_list_of_nodes_without_kind_is_a_node_list() {
        let node = r#"{"metadata": {"name": "w1"}, "status": {"nodeInfo": {"kernelVersion": "6.1.0"},
                       "addresses": [{"type": "InternalIP", "address": "10.0.0.1"}]}}"#;
        // client-go's marshalled NodeList, and KubeSphere's API list.
        for text in [
            format!(r#"{{"metadata": {{"resourceVersion": "42"}}, "items": [{node}]}}"#),
            format!(r#"{{"items": [{node}], "totalItems": 1}}"#),
        ] {
            let doc = parse_slice(text.as_bytes()).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(doc.nodes.len(), 1, "{text}");
            assert_eq!(doc.nodes[0].1.name, "w1");
        }
        // Kind-less items that are not nodes are not taken for nodes.
        let e = parse_slice(
            br#"{"items": [{"metadata": {"name": "p"}, "spec": {}}], "totalItems": 1}"#,
        )
        .unwrap_err();
        assert!(matches!(e, KubeDocumentError::KindlessList), "{e}");
        let e = e.to_string();
        assert!(
            e.starts_with("a list without `kind` whose items are not all Node-shaped"),
            "{e}"
        );
        assert!(parse_slice(br#"{"items": []}"#).is_err());
    }

    #[test]
    fn a_node_saved_without_kind_is_a_node() {
        let doc = parse_slice(
            br#"{"metadata": {"name": "w7"}, "spec": {},
                 "status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.7"}],
                            "nodeInfo": {"kernelVersion": "6.1.0"}}}"#,
        )
        .unwrap();
        assert_eq!(doc.nodes[0].1.name, "w7");
        assert_eq!(doc.nodes[0].1.kernel_version.as_deref(), Some("6.1.0"));
        let e = parse_slice(br#"{"metadata": {"name": "p"}, "status": {"phase": "Running"}}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("not Node-shaped"), "{e}");
    }
}
