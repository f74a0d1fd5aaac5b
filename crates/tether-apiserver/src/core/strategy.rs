//! Per-resource rules of the write path (kube-apiserver's `RESTCreateStrategy` /
//! `RESTUpdateStrategy`): what a create initialises, what an update may change through the main
//! resource and through `/status`, and what makes an object invalid.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

use super::immutable;
use crate::object;
use crate::registry::{Origin, Resource};
use crate::status::{ApiError, Cause};
use crate::validation;

fn is(r: &Resource, group: &str, resource: &str) -> bool {
    r.group == group && r.resource == resource && r.origin.is_builtin()
}

/// Fields a create sets whatever the client sent.
pub fn prepare_for_create(r: &Resource, object: &mut Value) {
    let meta = object::meta_mut(object);
    for field in [
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "resourceVersion",
        "selfLink",
    ] {
        meta.remove(field);
    }
    meta.insert(
        "uid".into(),
        Value::String(uuid::Uuid::new_v4().to_string()),
    );
    meta.insert("creationTimestamp".into(), Value::String(object::now()));
    if r.tracks_generation {
        meta.insert("generation".into(), Value::from(1));
    } else {
        meta.remove("generation");
    }
    if is(r, "", "namespaces") {
        if object.pointer("/spec/finalizers").is_none() {
            object["spec"] = json!({"finalizers": ["kubernetes"]});
        }
        object["status"] = json!({"phase": "Active"});
        return;
    }
    if is(r, "", "pods") {
        object["status"] = json!({"phase": "Pending"});
        return;
    }
    if is(r, "", "secrets") {
        fold_string_data(object);
    }
    if is(r, "", "services") {
        normalize_cluster_ips(None, object);
    }
    if is(r, "batch", "jobs") {
        generate_job_selector(object);
    }
    // Status is written through /status only; nodes report theirs at registration.
    if let Some(map) = object
        .as_object_mut()
        .filter(|_| r.status_subresource && !is(r, "", "nodes"))
    {
        map.remove("status");
    }
    apply_schema_defaults(r, object);
}

/// The object an update proposes, cut down to what the addressed (sub)resource may change.
pub fn project(
    r: &Resource,
    subresource: Option<&str>,
    current: &Value,
    proposed: Value,
) -> Result<Value, ApiError> {
    match subresource {
        None => {
            let mut new = proposed;
            if r.status_subresource {
                copy_field(current, &mut new, "status");
            }
            if is(r, "", "namespaces") {
                let finalizers = current.pointer("/spec/finalizers").cloned();
                set_spec_finalizers(&mut new, finalizers);
            }
            Ok(new)
        }
        Some("status") if r.status_subresource => {
            let mut new = current.clone();
            copy_field(&proposed, &mut new, "status");
            if let Some(managed) = proposed.pointer("/metadata/managedFields") {
                object::set_meta(&mut new, "managedFields", managed.clone());
            }
            Ok(new)
        }
        // The scale handler proposes the object with only its replicas changed.
        Some("scale") if r.scale.is_some() => project(r, None, current, proposed),
        Some("finalize") if is(r, "", "namespaces") => {
            let mut new = current.clone();
            set_spec_finalizers(&mut new, proposed.pointer("/spec/finalizers").cloned());
            Ok(new)
        }
        Some(_) => Err(ApiError::no_such_resource()),
    }
}

fn copy_field(from: &Value, to: &mut Value, field: &str) {
    let Some(map) = to.as_object_mut() else {
        return;
    };
    match from.get(field) {
        Some(v) => {
            map.insert(field.to_owned(), v.clone());
        }
        None => {
            map.remove(field);
        }
    }
}

fn set_spec_finalizers(object: &mut Value, finalizers: Option<Value>) {
    let Some(map) = object.as_object_mut() else {
        return;
    };
    let spec = map.entry("spec").or_insert_with(|| json!({}));
    if let Some(spec) = spec.as_object_mut() {
        match finalizers {
            Some(f) if f.as_array().is_some_and(|a| !a.is_empty()) => {
                spec.insert("finalizers".into(), f);
            }
            _ => {
                spec.remove("finalizers");
            }
        }
    }
}

/// Metadata only the server sets, carried over from the current object.
pub fn keep_immutable_metadata(current: &Value, new: &mut Value) {
    for field in [
        "name",
        "namespace",
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "generation",
    ] {
        let value = object::meta(current)
            .and_then(|m| m.get(field))
            .cloned()
            .unwrap_or(Value::Null);
        object::set_meta(new, field, value);
    }
    object::meta_mut(new).remove("selfLink");
}

/// Type-specific fix-ups of an update after projection.
pub fn prepare_for_update(r: &Resource, current: &Value, new: &mut Value) {
    if is(r, "", "namespaces") && object::deletion_timestamp(current).is_some() {
        new["status"] = json!({"phase": "Terminating"});
    }
    if is(r, "", "secrets") {
        fold_string_data(new);
    }
    if is(r, "", "services") {
        keep_cluster_ips(current, new);
        normalize_cluster_ips(Some(current), new);
    }
    apply_schema_defaults(r, new);
}

/// An update that leaves a Service's cluster IPs out keeps them, as upstream's
/// `patchAllocatedValues` does (a PUT or apply of a manifest without `clusterIP` is no change).
fn keep_cluster_ips(current: &Value, new: &mut Value) {
    if immutable::is_external_name(current) || immutable::is_external_name(new) {
        return;
    }
    let Some(spec) = new.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    for field in ["clusterIP", "clusterIPs"] {
        let empty = spec.get(field).is_none_or(|v| {
            v.is_null() || v.as_str() == Some("") || v.as_array().is_some_and(Vec::is_empty)
        });
        if let Some(old) = current.pointer(&format!("/spec/{field}")).filter(|_| empty) {
            spec.insert(field.to_owned(), old.clone());
        }
    }
}

/// Upstream's `normalizeClusterIPs`: `clusterIPs` follows a `clusterIP` set alone (by a create
/// from an old client, or an update that changes only the singular field).
fn normalize_cluster_ips(current: Option<&Value>, new: &mut Value) {
    let ip = |o: &Value| {
        o.pointer("/spec/clusterIP")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let ips = |o: &Value| o.pointer("/spec/clusterIPs").cloned();
    let new_ip = ip(new);
    let plural_empty = ips(new)
        .as_ref()
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty);
    let follow = match current {
        None => !new_ip.is_empty() && plural_empty,
        Some(old) => !new_ip.is_empty() && ip(old) != new_ip && ips(old) == ips(new),
    };
    if follow && let Some(spec) = new.get_mut("spec").and_then(Value::as_object_mut) {
        spec.insert("clusterIPs".into(), json!([new_ip]));
    }
}

/// Upstream's `generateSelector`: unless `spec.manualSelector`, a Job's pods are labelled with its
/// uid and name, and its selector matches the uid, so two Jobs never select each other's pods.
fn generate_job_selector(job: &mut Value) {
    if job.pointer("/spec/manualSelector") == Some(&Value::Bool(true)) {
        return;
    }
    let uid = object::uid(job).to_owned();
    let name = object::name(job).to_owned();
    let Some(spec) = job.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    let template = spec.entry("template").or_insert_with(|| json!({}));
    if let Some(template) = template.as_object_mut() {
        let meta = template.entry("metadata").or_insert_with(|| json!({}));
        if let Some(meta) = meta.as_object_mut() {
            let labels = meta.entry("labels").or_insert_with(|| json!({}));
            if let Some(labels) = labels.as_object_mut() {
                for (key, value) in [
                    ("batch.kubernetes.io/controller-uid", &uid),
                    ("batch.kubernetes.io/job-name", &name),
                    ("controller-uid", &uid),
                    ("job-name", &name),
                ] {
                    labels
                        .entry(key)
                        .or_insert_with(|| Value::String(value.clone()));
                }
            }
        }
    }
    let selector = spec.entry("selector").or_insert_with(|| json!({}));
    if let Some(selector) = selector.as_object_mut() {
        let matches = selector.entry("matchLabels").or_insert_with(|| json!({}));
        if let Some(matches) = matches.as_object_mut() {
            matches
                .entry("batch.kubernetes.io/controller-uid")
                .or_insert(Value::String(uid));
        }
    }
}

/// Custom resources take their schema's defaults on every write, as upstream's decoder applies
/// them.
fn apply_schema_defaults(r: &Resource, object: &mut Value) {
    if let Origin::Custom { openapi, .. } = &r.origin {
        crate::crvalidation::apply_defaults(openapi, object);
    }
}

/// A Secret's `stringData` is write-only: its keys overwrite those of `data` (base64-encoded)
/// and it is never stored, as upstream's conversion of v1 Secrets does. Managed fields of an
/// apply still name `f:stringData`, as upstream's do.
fn fold_string_data(secret: &mut Value) {
    let Some(map) = secret.as_object_mut() else {
        return;
    };
    let Some(strings) = map.remove("stringData") else {
        return;
    };
    let Some(strings) = strings.as_object().filter(|s| !s.is_empty()) else {
        return;
    };
    let data = map.entry("data").or_insert_with(|| json!({}));
    if !data.is_object() {
        *data = json!({});
    }
    for (key, value) in strings {
        if let Some(text) = value.as_str() {
            data[key] = Value::String(BASE64.encode(text));
        }
    }
}

/// A namespace is gone only when its `spec.finalizers` (the namespace controller's) are done too.
pub fn spec_finalizers_done(r: &Resource, object: &Value) -> bool {
    !is(r, "", "namespaces")
        || object
            .pointer("/spec/finalizers")
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty)
}

/// Validation of a create (`old` is `None`) or update.
pub fn validate(r: &Resource, old: Option<&Value>, new: &Value) -> Vec<Cause> {
    let mut causes = validation::validate_metadata(r.name_rule, new, old.is_none());
    if old.is_some() {
        // The name was validated at create and cannot change.
        causes.retain(|c| c.field != "metadata.name");
    }
    if is(r, "apiextensions.k8s.io", "customresourcedefinitions") {
        causes.extend(crate::crd::validate(new));
    }
    if let Origin::Custom { openapi, .. } = &r.origin {
        causes.extend(crate::crvalidation::validate(openapi, old, new));
    }
    if let Some(old) = old {
        causes.extend(immutable::check(r, old, new));
    }
    causes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;

    #[test]
    fn jobs_get_a_generated_selector_unless_manual() {
        let jobs = Registry::with_builtins()
            .get("batch", "v1", "jobs")
            .unwrap();
        let mut job = json!({"kind": "Job", "metadata": {"name": "once"},
            "spec": {"template": {"metadata": {"labels": {"app": "x"}}, "spec": {}}}});
        prepare_for_create(&jobs, &mut job);
        let uid = object::uid(&job).to_owned();
        assert_eq!(
            job["spec"]["selector"],
            json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}})
        );
        assert_eq!(
            job["spec"]["template"]["metadata"]["labels"],
            json!({"app": "x", "batch.kubernetes.io/controller-uid": uid,
                "batch.kubernetes.io/job-name": "once", "controller-uid": uid, "job-name": "once"})
        );
        let mut manual = json!({"kind": "Job", "metadata": {"name": "m"},
            "spec": {"manualSelector": true, "selector": {"matchLabels": {"app": "m"}},
                "template": {"metadata": {"labels": {"app": "m"}}}}});
        let before = manual["spec"].clone();
        prepare_for_create(&jobs, &mut manual);
        assert_eq!(manual["spec"], before);
    }

    #[test]
    fn scale_writes_change_the_object_but_not_its_status() {
        let deployments = Registry::with_builtins()
            .get("apps", "v1", "deployments")
            .unwrap();
        let current =
            json!({"kind": "Deployment", "spec": {"replicas": 1}, "status": {"replicas": 1}});
        let proposed =
            json!({"kind": "Deployment", "spec": {"replicas": 3}, "status": {"replicas": 9}});
        let new = project(&deployments, Some("scale"), &current, proposed).unwrap();
        assert_eq!(
            new,
            json!({"kind": "Deployment", "spec": {"replicas": 3}, "status": {"replicas": 1}})
        );
        let configmaps = Registry::with_builtins()
            .get("", "v1", "configmaps")
            .unwrap();
        assert!(project(&configmaps, Some("scale"), &current, json!({})).is_err());
    }

    #[test]
    fn secret_string_data_is_folded_into_data() {
        let secrets = Registry::with_builtins().get("", "v1", "secrets").unwrap();
        let mut secret = json!({"kind": "Secret", "metadata": {"name": "creds"},
            "data": {"user": "b2xk", "password": "c2VjcmV0"}, "stringData": {"user": "admin"}});
        prepare_for_create(&secrets, &mut secret);
        assert_eq!(
            secret["data"],
            json!({"user": "YWRtaW4=", "password": "c2VjcmV0"})
        );
        assert!(secret.get("stringData").is_none());
        let current = secret.clone();
        let mut update =
            json!({"kind": "Secret", "metadata": {"name": "creds"}, "stringData": {"token": "t"}});
        prepare_for_update(&secrets, &current, &mut update);
        assert_eq!(
            update,
            json!({"kind": "Secret", "metadata": {"name": "creds"}, "data": {"token": "dA=="}})
        );
    }
}
