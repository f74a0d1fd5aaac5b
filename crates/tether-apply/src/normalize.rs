//! Normalization of manifests before they are applied, and the drift comparison of a dry-run
//! result with the live object (Flux's `normalize.Unstructured` and `hasDrifted`).

use base64::Engine;
use serde_json::{Map, Value};

/// Fixes manifests the way kustomize-controller does before applying, so a dry-run of an
/// unchanged manifest compares equal to the live object:
/// - container and Service ports without a protocol get `TCP` (the API server's default, which
///   structured-merge-diff would otherwise see as a change: kubernetes-sigs/structured-merge-diff#130);
/// - a Secret's `stringData` moves into `data`, base64-encoded (kubernetes/kubernetes#108008);
/// - `status` is dropped (except on CRDs, whose status kstatus reads) and so is
///   `metadata.creationTimestamp`.
pub fn normalize_manifest(object: &mut Value) {
    let api_version = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let kind = object
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let pod_spec = match (api_version.as_str(), kind.as_str()) {
        ("v1", "Pod") => Some("/spec"),
        ("apps/v1", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet")
        | ("batch/v1", "Job") => Some("/spec/template/spec"),
        ("batch/v1", "CronJob") => Some("/spec/jobTemplate/spec/template/spec"),
        _ => None,
    };
    if let Some(containers) = pod_spec
        .and_then(|p| object.pointer_mut(p))
        .and_then(|spec| spec.get_mut("containers"))
        .and_then(Value::as_array_mut)
    {
        for container in containers {
            default_port_protocols(container.get_mut("ports"));
        }
    }
    if api_version == "v1" && kind == "Service" {
        default_port_protocols(object.pointer_mut("/spec/ports"));
    }
    if api_version == "v1" && kind == "Secret" {
        move_string_data(object);
    }
    let is_crd =
        kind == "CustomResourceDefinition" && api_version.starts_with("apiextensions.k8s.io/");
    if let Some(map) = object.as_object_mut() {
        if !is_crd {
            map.remove("status");
        }
        if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("creationTimestamp");
        }
    }
}

fn default_port_protocols(ports: Option<&mut Value>) {
    let Some(ports) = ports.and_then(Value::as_array_mut) else {
        return;
    };
    for port in ports.iter_mut().filter_map(Value::as_object_mut) {
        let missing = port
            .get("protocol")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty);
        if missing {
            port.insert("protocol".into(), Value::String("TCP".into()));
        }
    }
}

fn move_string_data(secret: &mut Value) {
    let Some(map) = secret.as_object_mut() else {
        return;
    };
    let Some(Value::Object(string_data)) = map.remove("stringData") else {
        return;
    };
    let data = map
        .entry("data")
        .or_insert_with(|| Value::Object(Map::new()));
    if !data.is_object() {
        *data = Value::Object(Map::new());
    }
    if let Some(data) = data.as_object_mut() {
        for (key, value) in string_data {
            let text = value.as_str().unwrap_or_default();
            let encoded = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
            data.insert(key, Value::String(encoded));
        }
    }
}

/// Whether the dry-run result differs from the live object in what the user declares: labels,
/// annotations, and everything outside `metadata` and `status` (Flux's `hasDrifted`). Missing
/// and empty label or annotation maps are the same. The `ignored` annotations (the audit stamp,
/// [`crate::Stamp`]) do not count, whether they differ or are present on one side only.
pub fn has_drifted(live: &Value, dry_run: &Value, ignored: &[&str]) -> bool {
    let meta_map = |o: &Value, field: &str| {
        o.pointer(&format!("/metadata/{field}"))
            .and_then(Value::as_object)
            .map(|m| {
                let mut m = m.clone();
                if field == "annotations" {
                    m.retain(|k, _| !ignored.contains(&k.as_str()));
                }
                m
            })
            .filter(|m| !m.is_empty())
    };
    if meta_map(live, "labels") != meta_map(dry_run, "labels")
        || meta_map(live, "annotations") != meta_map(dry_run, "annotations")
    {
        return true;
    }
    body(live) != body(dry_run)
}

/// The object without `metadata` and `status`.
fn body(object: &Value) -> Map<String, Value> {
    object
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| *k != "metadata" && *k != "status")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ports_get_tcp_and_status_goes() {
        let mut d = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "creationTimestamp": null},
            "spec": {"template": {"spec": {"containers": [
                {"name": "a", "ports": [{"containerPort": 80}, {"containerPort": 53, "protocol": "UDP"}]}
            ]}}},
            "status": {"replicas": 1}
        });
        normalize_manifest(&mut d);
        assert_eq!(
            d.pointer("/spec/template/spec/containers/0/ports/0/protocol"),
            Some(&json!("TCP"))
        );
        assert_eq!(
            d.pointer("/spec/template/spec/containers/0/ports/1/protocol"),
            Some(&json!("UDP"))
        );
        assert!(d.get("status").is_none());
        assert!(d.pointer("/metadata/creationTimestamp").is_none());

        let mut s = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
                           "spec": {"ports": [{"port": 80}]}});
        normalize_manifest(&mut s);
        assert_eq!(s.pointer("/spec/ports/0/protocol"), Some(&json!("TCP")));
    }

    #[test]
    fn crds_keep_their_status() {
        let mut crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                             "metadata": {"name": "x"}, "status": {"conditions": []}});
        normalize_manifest(&mut crd);
        assert!(crd.get("status").is_some());
    }

    #[test]
    fn secret_string_data_moves_into_data() {
        let mut s = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                           "data": {"a": "YQ=="}, "stringData": {"b": "hello"}});
        normalize_manifest(&mut s);
        assert_eq!(
            s,
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                             "data": {"a": "YQ==", "b": "aGVsbG8="}})
        );
    }

    #[test]
    fn drift_ignores_server_fields_but_not_declared_ones() {
        let live = json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "resourceVersion": "5", "managedFields": [], "labels": {}},
            "data": {"k": "v"}
        });
        let same = json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "resourceVersion": "6", "generation": 3},
            "data": {"k": "v"}, "status": {"x": 1}
        });
        assert!(!has_drifted(&live, &same, &[]));
        let mut changed = same.clone();
        changed["data"]["k"] = json!("w");
        assert!(has_drifted(&live, &changed, &[]));
        let mut labelled = same.clone();
        labelled["metadata"]["labels"] = json!({"a": "b"});
        assert!(has_drifted(&live, &labelled, &[]));
    }

    #[test]
    fn ignored_annotations_never_count_as_drift() {
        const STAMP: &str = "tether.dev/last-changed-revision";
        let live = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "annotations": {STAMP: "main@sha1:1", "a": "b"}},
            "data": {"k": "v"}});
        let mut newer = live.clone();
        newer["metadata"]["annotations"][STAMP] = json!("main@sha1:2");
        assert!(!has_drifted(&live, &newer, &[STAMP]));
        assert!(has_drifted(&live, &newer, &[]));
        // An object written before stamps existed is not rewritten just to get one.
        let mut unstamped = live.clone();
        unstamped["metadata"]["annotations"] = json!({"a": "b"});
        assert!(!has_drifted(&unstamped, &newer, &[STAMP]));
        let mut only_stamp = live.clone();
        only_stamp["metadata"]["annotations"] = json!({STAMP: "main@sha1:1"});
        let mut none = live.clone();
        none["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("annotations");
        assert!(!has_drifted(&none, &only_stamp, &[STAMP]));
        // Other annotations and the body still count.
        let mut changed = newer.clone();
        changed["metadata"]["annotations"]["a"] = json!("c");
        assert!(has_drifted(&live, &changed, &[STAMP]));
        let mut data = newer.clone();
        data["data"]["k"] = json!("w");
        assert!(has_drifted(&live, &data, &[STAMP]));
    }
}
