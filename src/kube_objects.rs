//! Kubernetes objects out of a parsed manifest stream: a `kind: …List` is unwrapped into its
//! `items`, a top-level array into its elements (recursively), and empty documents dropped, so the
//! readers of deployed configuration (`calico::deployed`, `cni_config`) see one object per entry
//! whether they were given `kubectl get -o yaml` output, a manifest or a Helm render.

use serde_json::Value;

/// Appends the objects `document` holds to `out`, in document order.
pub fn flatten_into(document: Value, out: &mut Vec<Value>) {
    match document {
        Value::Null => {}
        Value::Object(mut map)
            if map
                .get("kind")
                .and_then(Value::as_str)
                .is_some_and(|k| k.ends_with("List"))
                && map.get("items").is_some_and(Value::is_array) =>
        {
            if let Some(Value::Array(items)) = map.remove("items") {
                items.into_iter().for_each(|i| flatten_into(i, out));
            }
        }
        Value::Array(items) => items.into_iter().for_each(|i| flatten_into(i, out)),
        other => out.push(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_and_arrays_are_unwrapped_and_empty_documents_dropped() {
        let mut out = Vec::new();
        flatten_into(Value::Null, &mut out);
        flatten_into(
            json!({"kind": "List", "items": [{"kind": "A"}, {"kind": "ConfigMapList", "items": [{"kind": "B"}]}]}),
            &mut out,
        );
        flatten_into(json!([{"kind": "C"}, [{"kind": "D"}]]), &mut out);
        // A `List` kind whose items are not an array is an object like any other.
        flatten_into(json!({"kind": "PodList", "items": "x"}), &mut out);
        let kinds: Vec<&str> = out.iter().map(|o| o["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["A", "B", "C", "D", "PodList"]);
    }
}
