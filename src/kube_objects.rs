//! Kubernetes objects out of a parsed manifest stream: a `kind: …List` is unwrapped into its
//! `items`, a top-level array into its elements (recursively), and empty documents dropped, so the
//! readers of deployed configuration (`calico::deployed`, `cni_config`) see one object per entry
//! whether they were given `kubectl get -o yaml` output, a manifest or a Helm render; and the
//! documents of such a stream, JSON or YAML, with line and column on errors.

use serde_json::Value;

/// The documents of a manifest stream: one JSON object (`kubectl get -o json`) when the text is
/// one, else a YAML stream (which also covers flow-style documents separated by `---`). Errors
/// carry line and column; a text that starts like JSON and is neither gets JSON's error.
pub fn documents(text: &str) -> Result<Vec<Value>, String> {
    let json_error = if text.trim_start().starts_with('{') {
        match serde_json::from_str::<Value>(text) {
            Ok(value) => return Ok(vec![value]),
            Err(e) => Some(format!(
                "invalid JSON at line {} column {}: {e}",
                e.line(),
                e.column()
            )),
        }
    } else {
        None
    };
    serde_saphyr::from_multiple::<Value>(text).map_err(|e| {
        json_error.unwrap_or_else(|| {
            let at = e
                .location()
                .map(|l| format!(" at line {} column {}", l.line(), l.column()))
                .unwrap_or_default();
            let message = e.to_string();
            format!(
                "invalid YAML{at}: {}",
                message.lines().next().unwrap_or_default()
            )
        })
    })
}

/// An object's `kind`, `metadata.namespace` and `metadata.name`, each empty when absent.
pub fn identity(object: &Value) -> (&str, &str, &str) {
    let text = |pointer: &str| {
        object
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or("")
    };
    (
        text("/kind"),
        text("/metadata/namespace"),
        text("/metadata/name"),
    )
}

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
    fn json_objects_yaml_streams_and_their_errors() {
        assert_eq!(
            documents("{\"kind\": \"A\"}").unwrap(),
            [json!({"kind": "A"})]
        );
        let stream = documents("{kind: A}\n---\nkind: B\n").unwrap();
        assert_eq!(stream, [json!({"kind": "A"}), json!({"kind": "B"})]);
        let e = documents("kind: A\n  bad: [\n").unwrap_err();
        assert!(e.starts_with("invalid YAML at line "), "{e}");
        let e = documents("{\"kind\": [}").unwrap_err();
        assert!(e.starts_with("invalid JSON at line 1 column"), "{e}");
    }

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
