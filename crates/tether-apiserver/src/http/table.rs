//! Server-side printing (`as=Table`): kube-apiserver's column sets for the built-in kinds
//! (see [`printers`]), the `additionalPrinterColumns` of custom resources, and Name and Age for
//! everything else.

mod printers;

use serde_json::{Value, json};

use super::respond::partial_metadata;
use crate::jsonpath::{self, JsonPath};
use crate::registry::{Origin, Resource};

struct Column {
    name: String,
    type_: String,
    format: String,
    description: String,
    priority: i64,
    /// How to compute the cell.
    source: Source,
}

enum Source {
    Name,
    Age,
    /// The column's JSONPath; `None` if it does not parse, which leaves its cells empty.
    Path(Option<JsonPath>),
    /// The cell at this index of the built-in printer's row.
    Printed(usize),
}

/// A built-in's columns and row function, or its generic or CRD columns.
fn columns(r: &Resource) -> (Vec<Column>, Option<printers::Row>) {
    if r.origin.is_builtin()
        && let Some(p) = printers::for_resource(&r.group, &r.resource)
    {
        let cols = p
            .columns
            .iter()
            .enumerate()
            .map(|(i, d)| Column {
                name: d.name.into(),
                type_: d.type_.into(),
                format: d.format.into(),
                description: d.description.into(),
                priority: d.priority,
                source: Source::Printed(i),
            })
            .collect();
        return (cols, Some(p.row));
    }
    (generic_columns(r), None)
}

fn generic_columns(r: &Resource) -> Vec<Column> {
    let name = Column {
        name: "Name".into(),
        type_: "string".into(),
        format: "name".into(),
        description: printers::NAME_DOC.into(),
        priority: 0,
        source: Source::Name,
    };
    let age = Column {
        name: "Age".into(),
        type_: "date".into(),
        format: String::new(),
        description: printers::AGE_DOC.into(),
        priority: 0,
        source: Source::Age,
    };
    match &r.origin {
        Origin::Custom {
            printer_columns, ..
        } if !printer_columns.is_empty() => {
            let mut cols = vec![name];
            let mut has_age = false;
            for c in printer_columns {
                if c.json_path == ".metadata.creationTimestamp" {
                    has_age = true;
                }
                cols.push(Column {
                    name: c.name.clone(),
                    type_: c.type_.clone(),
                    format: c.format.clone(),
                    description: c.description.clone(),
                    priority: c.priority,
                    source: Source::Path(JsonPath::parse(&c.json_path).ok()),
                });
            }
            if !has_age {
                // Upstream adds Age when the CRD's columns do not show the creation time.
                cols.push(age);
            }
            cols
        }
        _ => vec![name, age],
    }
}

/// kube's `duration.HumanDuration`: how `kubectl get` shows ages.
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
    if seconds < 120 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{dy}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

fn age(object: &Value) -> Value {
    let created = object
        .pointer("/metadata/creationTimestamp")
        .and_then(Value::as_str);
    match created.and_then(|c| c.parse::<jiff::Timestamp>().ok()) {
        Some(t) => {
            let seconds = jiff::Timestamp::now().as_second() - t.as_second();
            Value::String(human_duration(seconds))
        }
        None => Value::String("<unknown>".into()),
    }
}

/// A printer column's cell as kube-apiserver's CRD table convertor computes it: the path's
/// first match (nothing on a parse or evaluation error), printed for `string` columns and
/// otherwise kept only if it has the column's type.
fn path_cell(path: Option<&JsonPath>, type_: &str, object: &Value) -> Value {
    let Some(value) = path.and_then(|p| p.first(object)) else {
        return Value::Null;
    };
    match (type_, value) {
        ("string", v) => Value::String(jsonpath::print(v)),
        ("integer", Value::Number(n)) => n
            .as_i64()
            .map(Value::from)
            // Go converts a float64 to int64 by truncation.
            .or_else(|| n.as_f64().map(|f| Value::from(f as i64)))
            .unwrap_or(Value::Null),
        ("number", Value::Number(n)) => n.as_f64().map_or(Value::Null, Value::from),
        ("boolean", Value::Bool(b)) => Value::Bool(*b),
        ("date", Value::String(s)) => match s.parse::<jiff::Timestamp>() {
            Ok(t) => Value::String(human_duration(
                jiff::Timestamp::now().as_second() - t.as_second(),
            )),
            Err(_) => Value::String("<invalid>".into()),
        },
        _ => Value::Null,
    }
}

fn cell(column: &Column, object: &Value, printed: &[Value]) -> Value {
    match &column.source {
        Source::Printed(i) => printed.get(*i).cloned().unwrap_or(Value::Null),
        Source::Name => object
            .pointer("/metadata/name")
            .cloned()
            .unwrap_or(Value::String(String::new())),
        Source::Age => age(object),
        Source::Path(path) => path_cell(path.as_ref(), &column.type_, object),
    }
}

/// A `meta.k8s.io` Table of `objects`, rows carrying `PartialObjectMetadata`.
pub fn table(
    r: &Resource,
    objects: &[&Value],
    metadata: Option<Value>,
    v1beta1: bool,
    headers: bool,
) -> Value {
    let (cols, row) = columns(r);
    let definitions: Vec<Value> = cols
        .iter()
        .map(|c| {
            json!({"name": c.name, "type": c.type_, "format": c.format, "description": c.description, "priority": c.priority})
        })
        .collect();
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| {
            let printed = row.map(|row| row(o)).unwrap_or_default();
            let cells: Vec<Value> = cols.iter().map(|c| cell(c, o, &printed)).collect();
            json!({"cells": cells, "object": partial_metadata(o)})
        })
        .collect();
    let mut t = json!({
        "kind": "Table",
        "apiVersion": if v1beta1 { "meta.k8s.io/v1beta1" } else { "meta.k8s.io/v1" },
        "metadata": metadata.unwrap_or_else(|| json!({})),
        "columnDefinitions": if headers { Value::Array(definitions) } else { Value::Null },
        "rows": rows,
    });
    if !headers {
        t["columnDefinitions"] = Value::Null;
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;

    /// The built-in resources kubectl users list most get upstream's columns, not Name and Age;
    /// a printer keyed by a wrong group or plural would leave them with the generic ones.
    #[test]
    fn builtins_get_their_printers() {
        let registry = Registry::with_builtins();
        let mut printed = Vec::new();
        for g in registry.groups() {
            for v in &g.versions {
                for r in registry.resources_in(&g.group, v) {
                    let (cols, row) = columns(&r);
                    if row.is_some() {
                        assert_ne!(
                            cols.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
                            ["Name", "Age"],
                            "{}/{}",
                            g.group,
                            r.resource
                        );
                        printed.push(format!("{}/{}", g.group, r.resource));
                    }
                }
            }
        }
        for wanted in [
            "/pods",
            "apps/deployments",
            "apps/replicasets",
            "apps/statefulsets",
            "apps/daemonsets",
            "apps/controllerrevisions",
            "batch/jobs",
            "batch/cronjobs",
            "/services",
            "/endpoints",
            "/configmaps",
            "/secrets",
            "/serviceaccounts",
            "/namespaces",
            "/nodes",
            "/events",
            "events.k8s.io/events",
            "/persistentvolumes",
            "/persistentvolumeclaims",
            "/podtemplates",
            "/replicationcontrollers",
            "networking.k8s.io/ingresses",
            "networking.k8s.io/ingressclasses",
            "networking.k8s.io/networkpolicies",
            "storage.k8s.io/storageclasses",
            "coordination.k8s.io/leases",
            "rbac.authorization.k8s.io/roles",
            "rbac.authorization.k8s.io/clusterroles",
            "rbac.authorization.k8s.io/rolebindings",
            "rbac.authorization.k8s.io/clusterrolebindings",
            "apiextensions.k8s.io/customresourcedefinitions",
            "autoscaling/horizontalpodautoscalers",
            "policy/poddisruptionbudgets",
            "scheduling.k8s.io/priorityclasses",
            "node.k8s.io/runtimeclasses",
            "admissionregistration.k8s.io/validatingwebhookconfigurations",
            "admissionregistration.k8s.io/mutatingwebhookconfigurations",
        ] {
            assert!(
                printed.iter().any(|p| p == wanted),
                "{wanted} is not printed"
            );
        }
    }

    #[test]
    fn tables_carry_printer_columns_and_cells() {
        let registry = Registry::with_builtins();
        let deployments = registry
            .get("apps", "v1", "deployments")
            .expect("deployments are built in");
        let d = json!({
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                "template": {"spec": {"containers": [{"name": "main", "image": "nginx"}]}}},
            "status": {"readyReplicas": 1, "updatedReplicas": 3, "availableReplicas": 1},
        });
        let t = table(&deployments, &[&d], None, false, true);
        let defs: Vec<(&str, i64)> = t["columnDefinitions"]
            .as_array()
            .expect("definitions")
            .iter()
            .map(|c| {
                (
                    c["name"].as_str().expect("name"),
                    c["priority"].as_i64().expect("priority"),
                )
            })
            .collect();
        assert_eq!(
            defs,
            [
                ("Name", 0),
                ("Ready", 0),
                ("Up-to-date", 0),
                ("Available", 0),
                ("Age", 0),
                ("Containers", 1),
                ("Images", 1),
                ("Selector", 1),
            ]
        );
        assert_eq!(
            t["rows"][0]["cells"],
            json!(["web", "1/3", 3, 1, "<unknown>", "main", "nginx", "app=web"])
        );
        assert_eq!(t["rows"][0]["object"]["metadata"]["name"], "web");
    }

    #[test]
    fn ages_like_kubectl() {
        for (s, want) in [
            (5, "5s"),
            (119, "119s"),
            (150, "2m30s"),
            (600, "10m"),
            (3 * 3600 + 60, "3h1m"),
            (30 * 3600, "30h"),
            (3 * 86400, "3d"),
            (100 * 86400, "100d"),
        ] {
            assert_eq!(human_duration(s), want, "{s}");
        }
    }

    #[test]
    fn cells_follow_the_column_type() {
        let three_days_ago = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(72);
        let o = json!({
            "spec": {"replicas": 3, "ratio": 2.5, "suspend": true, "labels": {"b": "2", "a": "1"}},
            "status": {"conditions": [
                {"type": "Reconciling", "status": "True"},
                {"type": "Ready", "status": "False", "message": "build failed",
                 "lastTransitionTime": three_days_ago.to_string()},
            ]},
        });
        let cell =
            |path: &str, type_: &str| path_cell(JsonPath::parse(path).ok().as_ref(), type_, &o);
        let ready = r#".status.conditions[?(@.type=="Ready")]"#;
        assert_eq!(cell(&format!("{ready}.status"), "string"), json!("False"));
        assert_eq!(
            cell(&format!("{ready}.message"), "string"),
            json!("build failed")
        );
        // Only the first match is shown, as upstream's table convertor does.
        assert_eq!(
            cell(".status.conditions[*].type", "string"),
            json!("Reconciling")
        );
        assert_eq!(cell(".spec.replicas", "string"), json!("3"));
        assert_eq!(
            cell(".spec.labels", "string"),
            json!(r#"{"a":"1","b":"2"}"#)
        );
        assert_eq!(cell(".spec.replicas", "integer"), json!(3));
        assert_eq!(cell(".spec.ratio", "integer"), json!(2));
        assert_eq!(cell(".spec.replicas", "number"), json!(3.0));
        assert_eq!(cell(".spec.suspend", "boolean"), json!(true));
        assert_eq!(cell(".spec.suspend", "integer"), Value::Null);
        assert_eq!(cell(".spec.replicas", "boolean"), Value::Null);
        assert_eq!(
            cell(".status.conditions[?(@.type==\"Ready\")].message", "date"),
            json!("<invalid>")
        );
        assert_eq!(
            cell(&format!("{ready}.lastTransitionTime"), "date"),
            json!("3d")
        );
        assert_eq!(cell(".spec.missing", "string"), Value::Null);
        assert_eq!(cell(".status.conditions[7].type", "string"), Value::Null);
        assert_eq!(cell(".status..type", "string"), Value::Null);
    }
}
