//! Reading a kubeadm configuration file (`--kubeadm-config FILE`) for the part that reaches kubelet's
//! flags at join time: `nodeRegistration.name` and `nodeRegistration.kubeletExtraArgs` of an
//! `InitConfiguration` or `JoinConfiguration`, API versions `kubeadm.k8s.io/v1beta3` (extra args
//! as a map) and `v1beta4` (a list of `{name, value}`). Other documents in the file
//! (`ClusterConfiguration`, `KubeletConfiguration`, ...) are skipped; other fields are ignored.

use std::path::Path;

use serde::Deserialize;

use crate::error::BadInput;
use crate::facts::kubelet::KubeadmNodeRegistration;

const MAX_KUBEADM_CONFIG_BYTES: u64 = 1024 * 1024;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    api_version: Option<String>,
    kind: Option<String>,
    node_registration: Option<NodeRegistration>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct NodeRegistration {
    name: Option<String>,
    kubelet_extra_args: Option<serde_json::Value>,
}

/// Reads and validates the file.
pub fn read_kubeadm_config(path: &Path) -> Result<KubeadmNodeRegistration, BadInput> {
    let text = crate::input::read_input(path, MAX_KUBEADM_CONFIG_BYTES)?;
    parse_kubeadm_config(&text, &path.display().to_string())
}

/// Parses the text of a kubeadm configuration file named `file`.
pub fn parse_kubeadm_config(text: &str, file: &str) -> Result<KubeadmNodeRegistration, BadInput> {
    let shown = crate::escape::for_terminal(file);
    let documents: Vec<Option<Document>> = parse_documents(text, &shown)?;
    let mut found = None;
    for document in documents.into_iter().flatten() {
        let kind = document.kind.clone().unwrap_or_default();
        if kind != "InitConfiguration" && kind != "JoinConfiguration" {
            continue;
        }
        if found.is_some() {
            return Err(BadInput(format!(
                "--kubeadm-config {shown}: more than one InitConfiguration/JoinConfiguration document"
            )));
        }
        let api_version = document.api_version.clone().unwrap_or_default();
        let list_form = match api_version.as_str() {
            "kubeadm.k8s.io/v1beta3" => false,
            "kubeadm.k8s.io/v1beta4" => true,
            other => {
                return Err(BadInput(format!(
                    "--kubeadm-config {shown}: {kind} apiVersion {:?} is not supported (kubeadm.k8s.io/v1beta3 or kubeadm.k8s.io/v1beta4)",
                    crate::escape::for_terminal(other)
                )))
            }
        };
        let registration = document.node_registration;
        let name = registration.as_ref().and_then(|r| r.name.clone());
        let extra = registration.and_then(|r| r.kubelet_extra_args);
        let kubelet_extra_args = match extra {
            None | Some(serde_json::Value::Null) => Vec::new(),
            Some(value) => extra_args(value, list_form).map_err(|why| {
                BadInput(format!(
                    "--kubeadm-config {shown}: {kind} nodeRegistration.kubeletExtraArgs: {why}"
                ))
            })?,
        };
        found = Some(KubeadmNodeRegistration {
            file: file.to_string(),
            api_version,
            kind,
            name,
            kubelet_extra_args,
        });
    }
    found.ok_or_else(|| {
        BadInput(format!(
            "--kubeadm-config {shown}: no InitConfiguration or JoinConfiguration document (kubeadm.k8s.io/v1beta3 or v1beta4)"
        ))
    })
}

/// The documents of the file. A key given twice is an error in the InitConfiguration or
/// JoinConfiguration nodecheck reads (which value kubeadm keeps is not for a check to guess); in
/// another document (a ClusterConfiguration, a KubeletConfiguration) kubeadm accepts it with a
/// warning, and so does nodecheck, reading the documents it needs.
fn parse_documents(text: &str, shown: &str) -> Result<Vec<Option<Document>>, BadInput> {
    let strict = serde_saphyr::from_multiple::<Option<Document>>(text);
    let duplicate = match strict {
        Ok(documents) => return Ok(documents),
        Err(e) => match e.without_snippet() {
            serde_saphyr::Error::DuplicateMappingKey { key, location } => {
                (key.clone(), location.line(), location.column())
            }
            _ => return Err(BadInput(format!("--kubeadm-config {shown}: {e}"))),
        },
    };
    let lenient = serde_saphyr::options! {
        duplicate_keys: serde_saphyr::options::DuplicateKeyPolicy::LastWins,
    };
    let documents: Vec<Option<Document>> = serde_saphyr::from_multiple_with_options(text, lenient)
        .map_err(|e| BadInput(format!("--kubeadm-config {shown}: {}", e.without_snippet())))?;
    let (key, line, column) = duplicate;
    let key = key.map_or_else(|| "a key".to_string(), |k| format!("the key {:?}", k));
    // The document holding the line: documents are separated by `---` lines.
    let index = text
        .lines()
        .take(
            usize::try_from(line)
                .unwrap_or(usize::MAX)
                .saturating_sub(1),
        )
        .filter(|l| l.starts_with("---"))
        .count()
        .saturating_sub(usize::from(text.starts_with("---")));
    let kind = documents
        .get(index)
        .and_then(|d| d.as_ref())
        .and_then(|d| d.kind.clone())
        .unwrap_or_default();
    if kind == "InitConfiguration" || kind == "JoinConfiguration" {
        return Err(BadInput(format!(
            "--kubeadm-config {shown}:{line}:{column}: {key} appears twice in the {kind} document; give it once"
        )));
    }
    let what = if kind.is_empty() {
        "a document".to_string()
    } else {
        format!("the {kind} document")
    };
    eprintln!(
        "nodecheck: warning: --kubeadm-config {shown}:{line}:{column}: {key} appears twice in {what}, which nodecheck does not read; kubeadm accepts this with a warning"
    );
    Ok(documents)
}

fn scalar(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// v1beta3: a map of flag name to value (kubeadm writes them sorted by name); v1beta4: a list of
/// `{name, value}` in the given order.
fn extra_args(value: serde_json::Value, list_form: bool) -> Result<Vec<(String, String)>, String> {
    match (value, list_form) {
        (serde_json::Value::Object(map), false) => {
            let mut args: Vec<(String, String)> = map
                .iter()
                .map(|(k, v)| {
                    scalar(v)
                        .map(|v| (k.clone(), v))
                        .ok_or_else(|| format!("the value of {k:?} is not a string"))
                })
                .collect::<Result<_, _>>()?;
            args.sort();
            Ok(args)
        }
        (serde_json::Value::Array(items), true) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let name = item.get("name").and_then(scalar);
                let value = item.get("value").and_then(scalar).unwrap_or_default();
                name.map(|n| (n, value))
                    .ok_or_else(|| format!("item {} has no `name`", i + 1))
            })
            .collect(),
        (serde_json::Value::Array(_), false) => Err(
            "a list, but kubeadm.k8s.io/v1beta3 takes a map (`node-ip: 10.0.0.1`); the list form is v1beta4".into(),
        ),
        (serde_json::Value::Object(_), true) => Err(
            "a map, but kubeadm.k8s.io/v1beta4 takes a list (`- name: node-ip` / `value: 10.0.0.1`)".into(),
        ),
        _ => Err("neither a map nor a list".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_duplicate_key_refuses_only_the_documents_read() {
        let join = "apiVersion: kubeadm.k8s.io/v1beta3\nkind: JoinConfiguration\nnodeRegistration:\n  name: w1\n";
        let other = "---\napiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\nnetworking:\n  podSubnet: 10.0.0.0/16\n  podSubnet: 10.1.0.0/16\n";
        let parsed = parse_kubeadm_config(&format!("{join}{other}"), "k.yaml").unwrap();
        assert_eq!(parsed.name.as_deref(), Some("w1"));
        let twice = "apiVersion: kubeadm.k8s.io/v1beta3\nkind: JoinConfiguration\nnodeRegistration:\n  name: w1\n  name: w2\n";
        let e = parse_kubeadm_config(twice, "k.yaml").unwrap_err().0;
        assert!(e.starts_with("--kubeadm-config k.yaml:5:"), "{e}");
        assert!(
            e.contains("\"name\" appears twice in the JoinConfiguration"),
            "{e}"
        );
        assert!(!e.contains("DuplicateKeyPolicy"), "{e}");
    }

    #[test]
    fn v1beta3_map_form_is_sorted_and_other_documents_are_skipped() {
        let text = "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\n---\n\
apiVersion: kubeadm.k8s.io/v1beta3\nkind: JoinConfiguration\nnodeRegistration:\n  name: worker-41\n  kubeletExtraArgs:\n    node-ip: 10.20.41.41\n    max-pods: 110\n";
        let reg = parse_kubeadm_config(text, "join.yaml").unwrap();
        assert_eq!(reg.kind, "JoinConfiguration");
        assert_eq!(reg.name.as_deref(), Some("worker-41"));
        assert_eq!(
            reg.kubelet_extra_args,
            [
                ("max-pods".to_string(), "110".to_string()),
                ("node-ip".to_string(), "10.20.41.41".to_string())
            ]
        );
    }

    #[test]
    fn v1beta4_list_form_keeps_order() {
        let text = "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nnodeRegistration:\n  kubeletExtraArgs:\n  - name: node-ip\n    value: 10.0.0.1,fd00::1\n  - name: cloud-provider\n    value: external\n";
        let reg = parse_kubeadm_config(text, "init.yaml").unwrap();
        assert_eq!(reg.name, None);
        assert_eq!(reg.kubelet_extra_args[0].1, "10.0.0.1,fd00::1");
        assert_eq!(reg.kubelet_extra_args[1].0, "cloud-provider");
    }

    #[test]
    fn wrong_forms_and_versions_are_bad_input() {
        let list_in_v1beta3 = "apiVersion: kubeadm.k8s.io/v1beta3\nkind: JoinConfiguration\nnodeRegistration:\n  kubeletExtraArgs:\n  - name: node-ip\n    value: 1.2.3.4\n";
        let e = parse_kubeadm_config(list_in_v1beta3, "f").unwrap_err();
        assert!(e.0.contains("the list form is v1beta4"), "{e}");
        let old = "apiVersion: kubeadm.k8s.io/v1beta2\nkind: JoinConfiguration\n";
        assert!(parse_kubeadm_config(old, "f")
            .unwrap_err()
            .0
            .contains("not supported"));
        let none = "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\n";
        assert!(parse_kubeadm_config(none, "f")
            .unwrap_err()
            .0
            .contains("no InitConfiguration"));
        let broken = "apiVersion: [\n";
        assert!(parse_kubeadm_config(broken, "f")
            .unwrap_err()
            .0
            .contains("line"));
    }
}
