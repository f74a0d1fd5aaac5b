//! Encoding responses: JSON (stored objects go out as their cached bytes), YAML, tables and
//! partial object metadata, and `Status` errors.

use axum::body::Body;
use axum::response::Response;
use bytes::{BufMut, Bytes, BytesMut};
use http::{HeaderValue, StatusCode, header};
use serde_json::{Value, json};

use super::negotiate::{Encoding, Negotiated, Shape};
use super::table;
use crate::core::{ListResult, Output, present};
use crate::registry::Resource;
use crate::status::ApiError;

pub const JSON: &str = "application/json";
pub const YAML: &str = "application/yaml";

pub fn raw(status: StatusCode, content_type: &str, body: impl Into<Body>) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    response
}

pub fn json_value(status: StatusCode, value: &Value) -> Response {
    raw(status, JSON, serde_json::to_vec(value).unwrap_or_default())
}

pub fn error(err: &ApiError) -> Response {
    let status = StatusCode::from_u16(err.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = json_value(status, &err.to_status());
    if let Some(after) = err.retry_after_seconds {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(after));
    }
    response
}

fn encode(encoding: Encoding, value: &Value) -> (Bytes, &'static str) {
    match encoding {
        Encoding::Json => (
            Bytes::from(serde_json::to_vec(value).unwrap_or_default()),
            JSON,
        ),
        Encoding::Yaml => (
            Bytes::from(serde_saphyr::to_string(value).unwrap_or_default()),
            YAML,
        ),
    }
}

/// `PartialObjectMetadata` of an object.
pub fn partial_metadata(value: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": value.get("metadata").cloned().unwrap_or_else(|| json!({})),
    })
}

fn table_content_type(v1beta1: bool) -> String {
    format!(
        "application/json;as=Table;v={};g=meta.k8s.io",
        if v1beta1 { "v1beta1" } else { "v1" }
    )
}

/// One object, in the shape and encoding negotiated.
pub fn object(status: StatusCode, r: &Resource, out: &Output, n: Negotiated) -> Response {
    match (n.shape, n.encoding) {
        (Shape::Object, Encoding::Json) => match out {
            Output::Stored(stored) => raw(status, JSON, stored.json.clone()),
            Output::Value(v) => json_value(status, v),
        },
        (Shape::Object, enc) => {
            let (body, ct) = encode(enc, out.value());
            raw(status, ct, body)
        }
        (Shape::PartialMetadata, enc) => {
            let (body, ct) = encode(enc, &partial_metadata(out.value()));
            raw(status, ct, body)
        }
        (Shape::Table { v1beta1 }, _) => {
            let t = table::table(r, &[out.value()], None, v1beta1, true);
            raw(
                status,
                &table_content_type(v1beta1),
                serde_json::to_vec(&t).unwrap_or_default(),
            )
        }
    }
}

fn list_metadata(list: &ListResult) -> Value {
    let mut meta = json!({"resourceVersion": list.revision.to_string()});
    if let Some(token) = &list.continue_token {
        meta["continue"] = Value::String(token.clone());
        if let Some(remaining) = list.remaining {
            meta["remainingItemCount"] = Value::from(remaining);
        }
    }
    meta
}

/// A list, in the shape and encoding negotiated. JSON lists of stored objects are assembled
/// from the objects' cached bytes.
pub fn list(r: &Resource, list: ListResult, n: Negotiated) -> Response {
    let meta = list_metadata(&list);
    match n.shape {
        Shape::Table { v1beta1 } => {
            // Rows read the stored objects in place: cloning 10,000 objects was most of the cost.
            let outputs: Vec<Output> = list.items.into_iter().map(|o| present(r, o)).collect();
            let values: Vec<&Value> = outputs.iter().map(Output::value).collect();
            let t = table::table(r, &values, Some(meta), v1beta1, true);
            raw(
                StatusCode::OK,
                &table_content_type(v1beta1),
                serde_json::to_vec(&t).unwrap_or_default(),
            )
        }
        Shape::PartialMetadata => {
            let items: Vec<Value> = list
                .items
                .iter()
                .map(|o| partial_metadata(&o.value))
                .collect();
            let doc = json!({
                "kind": "PartialObjectMetadataList",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": meta,
                "items": items,
            });
            let (body, ct) = encode(n.encoding, &doc);
            raw(StatusCode::OK, ct, body)
        }
        Shape::Object
            if n.encoding == Encoding::Json
                && r.version == r.storage_version
                && !list
                    .items
                    .iter()
                    .any(|o| crate::core::needs_read_defaults(r, &o.value)) =>
        {
            let head =
                json!({"kind": r.list_kind, "apiVersion": r.api_version(), "metadata": meta});
            let head = serde_json::to_vec(&head).unwrap_or_default();
            let size: usize = list.items.iter().map(|o| o.json.len() + 1).sum();
            let mut body = BytesMut::with_capacity(head.len() + size + 16);
            // `{"kind":..,"metadata":{..}` + `,"items":[` + items + `]}`
            body.put_slice(&head[..head.len() - 1]);
            body.put_slice(b",\"items\":[");
            for (i, item) in list.items.iter().enumerate() {
                if i > 0 {
                    body.put_u8(b',');
                }
                body.put_slice(&item.json);
            }
            body.put_slice(b"]}");
            raw(StatusCode::OK, JSON, body.freeze())
        }
        Shape::Object => {
            let items: Vec<Value> = list
                .items
                .into_iter()
                .map(|o| present(r, o).into_value())
                .collect();
            let doc = json!({"kind": r.list_kind, "apiVersion": r.api_version(), "metadata": meta, "items": items});
            let (body, ct) = encode(n.encoding, &doc);
            raw(StatusCode::OK, ct, body)
        }
    }
}
