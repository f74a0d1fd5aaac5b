//! CustomResourceDefinitions: validation, the resources an established CRD serves, and the
//! status the CRD controller writes.

use std::sync::Arc;

use serde_json::{Value, json};
use tether_schema::ObjectSchema;

use crate::object;
use crate::registry::{Origin, PrinterColumn, Resource, ScaleSpec};
use crate::status::Cause;
use crate::validation::{self, NameRule};

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// Field errors of a CRD, with apiextensions' messages for the common mistakes.
pub fn validate(crd: &Value) -> Vec<Cause> {
    let mut causes = vec![];
    let required = |field: &str| Cause::new("FieldValueRequired", field, "Required value");
    let group = str_at(crd, "/spec/group");
    let plural = str_at(crd, "/spec/names/plural");
    let kind = str_at(crd, "/spec/names/kind");
    if group.is_empty() {
        causes.push(required("spec.group"));
    } else if !group.contains('.') {
        causes.push(Cause::new(
            "FieldValueInvalid",
            "spec.group",
            format!(
                "Invalid value: {}: should be a domain with at least one dot",
                validation::quote(group)
            ),
        ));
    } else if let Some(err) = validation::dns1123_subdomain_errors(group).first() {
        causes.push(Cause::new(
            "FieldValueInvalid",
            "spec.group",
            format!("Invalid value: {}: {err}", validation::quote(group)),
        ));
    }
    if plural.is_empty() {
        causes.push(required("spec.names.plural"));
    } else if let Some(err) = validation::dns1123_label_errors(plural).first() {
        causes.push(Cause::new(
            "FieldValueInvalid",
            "spec.names.plural",
            format!("Invalid value: {}: {err}", validation::quote(plural)),
        ));
    }
    if kind.is_empty() {
        causes.push(required("spec.names.kind"));
    }
    let name = object::name(crd);
    if !plural.is_empty() && !group.is_empty() && name != format!("{plural}.{group}") {
        causes.push(Cause::new(
            "FieldValueInvalid",
            "metadata.name",
            format!(
                "Invalid value: {}: must be spec.names.plural+\".\"+spec.group",
                validation::quote(name)
            ),
        ));
    }
    match str_at(crd, "/spec/scope") {
        "Namespaced" | "Cluster" => {}
        "" => causes.push(required("spec.scope")),
        other => causes.push(Cause::new(
            "FieldValueNotSupported",
            "spec.scope",
            format!(
                "Unsupported value: {}: supported values: \"Cluster\", \"Namespaced\"",
                validation::quote(other)
            ),
        )),
    }
    let versions = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if versions.is_empty() {
        causes.push(Cause::new(
            "FieldValueInvalid",
            "spec.versions",
            "Invalid value: null: must have exactly one version marked as storage version",
        ));
    }
    let storage = versions
        .iter()
        .filter(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
        .count();
    if !versions.is_empty() && storage != 1 {
        causes.push(Cause::new(
            "FieldValueInvalid",
            "spec.versions",
            format!(
                "Invalid value: {}: must have exactly one version marked as storage version",
                Value::Array(versions.clone())
            ),
        ));
    }
    let mut seen = vec![];
    for (i, v) in versions.iter().enumerate() {
        let vname = str_at(v, "/name");
        if vname.is_empty() {
            causes.push(required(&format!("spec.versions[{i}].name")));
        } else if seen.contains(&vname) {
            causes.push(Cause::new(
                "FieldValueDuplicate",
                format!("spec.versions[{i}].name"),
                format!("Duplicate value: {}", validation::quote(vname)),
            ));
        } else if let Some(err) = validation::dns1123_label_errors(vname).first() {
            causes.push(Cause::new(
                "FieldValueInvalid",
                format!("spec.versions[{i}].name"),
                format!("Invalid value: {}: {err}", validation::quote(vname)),
            ));
        }
        seen.push(vname);
        if let Err(err) =
            tether_schema::openapi_v3_schema(v.pointer("/schema/openAPIV3Schema"), vname)
        {
            causes.push(Cause::new(
                "FieldValueInvalid",
                format!("spec.versions[{i}].schema.openAPIV3Schema"),
                format!("Invalid value: {err}"),
            ));
        }
        if v.pointer("/schema/openAPIV3Schema").is_none() {
            causes.push(Cause::new(
                "FieldValueRequired",
                format!("spec.versions[{i}].schema.openAPIV3Schema"),
                "Required value: schemas are required",
            ));
        }
    }
    causes
}

/// The names a CRD claims, with upstream's defaults (`singular` = lower-case kind,
/// `listKind` = kind + "List").
pub fn accepted_names(crd: &Value) -> Value {
    let mut names = crd
        .pointer("/spec/names")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let kind = str_at(crd, "/spec/names/kind").to_owned();
    if str_at(crd, "/spec/names/singular").is_empty() {
        names["singular"] = Value::String(kind.to_lowercase());
    }
    if str_at(crd, "/spec/names/listKind").is_empty() {
        names["listKind"] = Value::String(format!("{kind}List"));
    }
    names
}

/// The resources an established CRD serves: one per served version.
pub fn resources(crd: &Value) -> Vec<Resource> {
    let group = str_at(crd, "/spec/group").to_owned();
    let names = accepted_names(crd);
    let namespaced = str_at(crd, "/spec/scope") != "Cluster";
    let versions = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let storage_version = versions
        .iter()
        .find(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
        .map(|v| str_at(v, "/name").to_owned())
        .unwrap_or_default();
    let strings = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    versions
        .iter()
        .filter(|v| v.get("served").and_then(Value::as_bool) == Some(true))
        .map(|v| Resource {
            group: group.clone(),
            version: str_at(v, "/name").to_owned(),
            resource: str_at(&names, "/plural").to_owned(),
            singular: str_at(&names, "/singular").to_owned(),
            kind: str_at(&names, "/kind").to_owned(),
            list_kind: str_at(&names, "/listKind").to_owned(),
            namespaced,
            verbs: [
                "create",
                "delete",
                "deletecollection",
                "get",
                "list",
                "patch",
                "update",
                "watch",
            ]
            .map(str::to_owned)
            .to_vec(),
            short_names: strings(names.get("shortNames")),
            categories: strings(names.get("categories")),
            status_subresource: v.pointer("/subresources/status").is_some(),
            scale: v.pointer("/subresources/scale").map(|s| ScaleSpec {
                spec_replicas_path: str_at(s, "/specReplicasPath").to_owned(),
                status_replicas_path: str_at(s, "/statusReplicasPath").to_owned(),
                label_selector_path: s
                    .get("labelSelectorPath")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            }),
            storage_version: storage_version.clone(),
            name_rule: NameRule::Subdomain,
            tracks_generation: true,
            field_selectors: vec![],
            origin: {
                let openapi = v
                    .pointer("/schema/openAPIV3Schema")
                    .cloned()
                    .unwrap_or(Value::Null);
                Origin::Custom {
                    crd: object::name(crd).to_owned(),
                    printer_columns: printer_columns(v),
                    schema: Arc::new(compile_schema(v)),
                    declares_defaults: crate::crvalidation::declares_defaults(&openapi),
                    openapi: Arc::new(openapi),
                }
            },
        })
        .collect()
}

/// The version's schema for typing objects. One that does not convert (validation reports why
/// on the CRD) types objects as deduced, so they are still stored and served.
fn compile_schema(version: &Value) -> ObjectSchema {
    let name = str_at(version, "/name");
    tether_schema::openapi_v3_schema(version.pointer("/schema/openAPIV3Schema"), name)
        .or_else(|_| tether_schema::openapi_v3_schema(None, name))
        .unwrap_or_else(|_| {
            let schema = tether_schema::Schema::deduced();
            let root = schema.deduced_type();
            ObjectSchema { schema, root }
        })
}

fn printer_columns(version: &Value) -> Vec<PrinterColumn> {
    version
        .get("additionalPrinterColumns")
        .and_then(Value::as_array)
        .map(|cols| {
            cols.iter()
                .map(|c| PrinterColumn {
                    name: str_at(c, "/name").to_owned(),
                    type_: str_at(c, "/type").to_owned(),
                    format: str_at(c, "/format").to_owned(),
                    description: str_at(c, "/description").to_owned(),
                    priority: c.get("priority").and_then(Value::as_i64).unwrap_or(0),
                    json_path: str_at(c, "/jsonPath").to_owned(),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn condition(type_: &str, status: &str, reason: &str, message: &str) -> Value {
    json!({
        "type": type_,
        "status": status,
        "lastTransitionTime": object::now(),
        "reason": reason,
        "message": message,
    })
}

/// Sets or replaces a condition, keeping `lastTransitionTime` when the status did not change.
pub fn set_condition(object: &mut Value, new: Value) {
    let status = object
        .as_object_mut()
        .map(|o| o.entry("status").or_insert_with(|| json!({})));
    let Some(status) = status.and_then(Value::as_object_mut) else {
        return;
    };
    let conditions = status.entry("conditions").or_insert_with(|| json!([]));
    let Some(list) = conditions.as_array_mut() else {
        return;
    };
    match list.iter_mut().find(|c| c.get("type") == new.get("type")) {
        Some(existing) => {
            let mut new = new;
            let unchanged = existing.get("status") == new.get("status");
            if let Some(t) = existing.get("lastTransitionTime").filter(|_| unchanged) {
                new["lastTransitionTime"] = t.clone();
            }
            *existing = new;
        }
        None => list.push(new),
    }
}

/// The status of an established CRD.
pub fn establish(crd: &mut Value) {
    set_condition(
        crd,
        condition("NamesAccepted", "True", "NoConflicts", "no conflicts found"),
    );
    set_condition(
        crd,
        condition(
            "Established",
            "True",
            "InitialNamesAccepted",
            "the initial names have been accepted",
        ),
    );
    crd["status"]["acceptedNames"] = accepted_names(crd);
    let storage = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .and_then(|vs| {
            vs.iter()
                .find(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
        })
        .map(|v| str_at(v, "/name").to_owned());
    if let Some(storage) = storage {
        let stored = crd["status"]
            .get("storedVersions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut stored: Vec<Value> = stored;
        if !stored.iter().any(|s| s.as_str() == Some(&storage)) {
            stored.push(Value::String(storage));
        }
        crd["status"]["storedVersions"] = Value::Array(stored);
    }
}

/// A CRD whose names clash with another's.
pub fn reject_names(crd: &mut Value, message: &str) {
    set_condition(
        crd,
        condition("NamesAccepted", "False", "NameConflict", message),
    );
    set_condition(
        crd,
        condition(
            "Established",
            "False",
            "NotAccepted",
            "not all names are accepted",
        ),
    );
}

/// The `Terminating` condition a CRD gets when its deletion starts.
pub fn mark_terminating(crd: &mut Value) {
    set_condition(
        crd,
        condition(
            "Terminating",
            "True",
            "InstanceDeletionPending",
            "CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon",
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn widget_crd() -> Value {
        json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"},
            "spec": {
                "group": "example.com",
                "scope": "Namespaced",
                "names": {"plural": "widgets", "kind": "Widget", "shortNames": ["wd"]},
                "versions": [
                    {"name": "v1", "served": true, "storage": true,
                     "schema": {"openAPIV3Schema": {"type": "object"}},
                     "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas"}},
                     "additionalPrinterColumns": [{"name": "Size", "type": "integer", "jsonPath": ".spec.size"}]},
                    {"name": "v1beta1", "served": true, "storage": false,
                     "schema": {"openAPIV3Schema": {"type": "object"}}}
                ]
            }
        })
    }

    #[test]
    fn valid_crd_serves_every_served_version() {
        let crd = widget_crd();
        assert!(validate(&crd).is_empty(), "{:?}", validate(&crd));
        let served = resources(&crd);
        assert_eq!(served.len(), 2);
        assert_eq!(served[0].list_kind, "WidgetList");
        assert_eq!(served[0].singular, "widget");
        assert!(served[0].status_subresource && served[0].scale.is_some());
        assert_eq!(served[1].storage_version, "v1");
        assert!(
            matches!(&served[0].origin, Origin::Custom { printer_columns, .. } if printer_columns.len() == 1)
        );
    }

    #[test]
    fn invalid_crds_name_the_field() {
        let mut crd = widget_crd();
        crd["metadata"]["name"] = json!("wrong.example.com");
        crd["spec"]["versions"][1]["storage"] = json!(true);
        let fields: Vec<String> = validate(&crd).into_iter().map(|c| c.field).collect();
        assert_eq!(fields, ["metadata.name", "spec.versions"]);
    }

    #[test]
    fn establishing_sets_conditions_and_stored_versions() {
        let mut crd = widget_crd();
        establish(&mut crd);
        assert_eq!(crd["status"]["conditions"][1]["type"], "Established");
        assert_eq!(crd["status"]["storedVersions"], json!(["v1"]));
        assert_eq!(crd["status"]["acceptedNames"]["listKind"], "WidgetList");
    }
}
