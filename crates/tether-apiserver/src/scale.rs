//! The `scale` subresource (`autoscaling/v1` Scale) of workloads and of custom resources that
//! declare one: reads replicas and the selector from the object, writes `spec.replicas` back
//! through the object's own update path.

use std::sync::Arc;

use axum::extract::Request;
use axum::response::Response;
use http::StatusCode;
use serde_json::{Map, Value, json};

use crate::core::{Core, PatchBody, WriteOptions, present};
use crate::http::negotiate::{Negotiated, PatchType};
use crate::http::request::{Query, Verb};
use crate::registry::{Resource, ScaleSpec};
use crate::status::ApiError;
use crate::{http as api_http, object};

fn path_get<'a>(object: &'a Value, path: &str) -> Option<&'a Value> {
    crate::jsonpath::first(object, path)
}

/// A label selector object (`matchLabels`, `matchExpressions`) as the string form Scale uses.
fn selector_string(selector: &Value) -> String {
    let mut parts = vec![];
    if let Some(labels) = selector.get("matchLabels").and_then(Value::as_object) {
        for (k, v) in labels {
            parts.push(format!("{k}={}", v.as_str().unwrap_or_default()));
        }
    }
    if let Some(exprs) = selector.get("matchExpressions").and_then(Value::as_array) {
        for e in exprs {
            let key = e.get("key").and_then(Value::as_str).unwrap_or_default();
            let values: Vec<&str> = e
                .get("values")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            match e
                .get("operator")
                .and_then(Value::as_str)
                .unwrap_or_default()
            {
                "In" => parts.push(format!("{key} in ({})", values.join(","))),
                "NotIn" => parts.push(format!("{key} notin ({})", values.join(","))),
                "Exists" => parts.push(key.to_owned()),
                "DoesNotExist" => parts.push(format!("!{key}")),
                _ => {}
            }
        }
    }
    parts.join(",")
}

/// The Scale view of an object.
pub fn scale_of(r: &Resource, spec: &ScaleSpec, object: &Value) -> Value {
    let replicas = path_get(object, &spec.spec_replicas_path)
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let status_replicas = path_get(object, &spec.status_replicas_path)
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let selector = match &spec.label_selector_path {
        // Built-in workloads keep a structured selector in spec.selector.
        _ if r.origin.is_builtin() => object
            .pointer("/spec/selector")
            .map(selector_string)
            .unwrap_or_default(),
        Some(path) => path_get(object, path)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        None => String::new(),
    };
    let mut metadata = Map::new();
    for field in [
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "creationTimestamp",
    ] {
        if let Some(v) = object::meta(object).and_then(|m| m.get(field)) {
            metadata.insert(field.into(), v.clone());
        }
    }
    let mut status = json!({"replicas": status_replicas});
    if !selector.is_empty() {
        status["selector"] = Value::String(selector);
    }
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": metadata,
        "spec": {"replicas": replicas},
        "status": status,
    })
}

/// A merge patch that sets the value at a `.a.b.c` path.
fn patch_at(path: &str, value: Value) -> Value {
    path.trim_start_matches('.')
        .split('.')
        .rev()
        .fold(value, |inner, field| json!({field: inner}))
}

#[allow(clippy::too_many_arguments)]
pub async fn handle(
    core: &Core,
    r: &Arc<Resource>,
    namespace: Option<&str>,
    name: &str,
    verb: &Verb,
    query: Query,
    request: Request,
    negotiated: Negotiated,
) -> Result<Response, ApiError> {
    let spec = r.scale.clone().ok_or_else(ApiError::no_such_resource)?;
    let respond = |status: StatusCode, object: &Value| {
        let _ = negotiated;
        crate::http::respond_json(status, object)
    };
    let user_agent = request
        .headers()
        .get(http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let current = core.get(r, namespace, name)?;
    let current_value = present(r, current.clone()).into_value();
    let scale = scale_of(r, &spec, &current_value);
    let new_scale = match verb {
        Verb::Get => return Ok(respond(StatusCode::OK, &scale)),
        Verb::Update => api_http::read_json_body(request).await?,
        Verb::Patch => {
            let (kind, body) = api_http::read_patch_body(request).await?;
            let mut doc = scale.clone();
            match kind {
                PatchType::Json => {
                    let ops: json_patch::Patch = serde_json::from_value(body)
                        .map_err(|e| ApiError::bad_request(format!("invalid JSON patch: {e}")))?;
                    json_patch::patch(&mut doc, &ops)
                        .map_err(|e| ApiError::bad_request(e.to_string()))?;
                }
                // Scale has no lists, so strategic merge and apply reduce to a merge here.
                PatchType::Merge | PatchType::Strategic | PatchType::Apply => {
                    json_patch::merge(&mut doc, &body)
                }
            }
            doc
        }
        _ => return Err(ApiError::method_not_allowed()),
    };
    let replicas = new_scale
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .ok_or_else(|| ApiError::bad_request("Scale spec.replicas must be an integer"))?;
    if replicas < 0 {
        return Err(ApiError::invalid(
            "autoscaling",
            "Scale",
            name,
            vec![crate::status::Cause::new(
                "FieldValueInvalid",
                "spec.replicas",
                format!("Invalid value: {replicas}: must be greater than or equal to 0"),
            )],
        ));
    }
    let mut patch = patch_at(&spec.spec_replicas_path, Value::from(replicas));
    if let Some(rv) = object::resource_version(&new_scale) {
        patch["metadata"] = json!({"resourceVersion": rv});
    }
    let opts = WriteOptions {
        dry_run: query.dry_run()?,
        field_manager: query.get("fieldManager").map(str::to_owned),
        user_agent,
        ..Default::default()
    };
    // Recorded in managedFields as the scale subresource's, like upstream's.
    let (updated, _) = core
        .patch(
            r,
            namespace,
            name,
            Some("scale"),
            PatchBody::Merge(patch),
            &opts,
        )
        .await?;
    Ok(respond(
        StatusCode::OK,
        &scale_of(r, &spec, updated.value()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_render_like_kubectl() {
        let s = json!({"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}]});
        assert_eq!(selector_string(&s), "app=web,tier in (a,b)");
    }

    #[test]
    fn patch_at_nests() {
        assert_eq!(
            patch_at(".spec.replicas", json!(3)),
            json!({"spec": {"replicas": 3}})
        );
    }
}
