//! The OpenAPI documents kubectl reads: `/openapi/v3` (an index of one document per group
//! version, each with a content hash), `/openapi/v3/apis/<group>/<version>` (OpenAPI 3.0 with the
//! group version's paths and the `components.schemas` they reference) and `/openapi/v2` (one
//! swagger document, as JSON or in gnostic's protobuf encoding).
//!
//! Built-in kinds take their schemas (with descriptions, for `kubectl explain`) from
//! `definitions.json`, the `definitions` of `shared/kubernetes/swagger-1.36.json` (a test checks
//! it is current; `TETHER_BLESS=1` rewrites it); a CRD version's kind takes its
//! `openAPIV3Schema` with the standard `metadata`. Every `patch` operation carries
//! `x-kubernetes-group-version-kind` and the `fieldValidation` parameter, so kubectl's default
//! validation leaves unknown fields to the server (its `fieldValidation=Strict`).
//!
//! Documents are built on first request and kept per group version, together with the
//! resources they were built from; a request whose group version now serves other resources (a
//! CRD created, changed or deleted) rebuilds it, so its hash changes.

mod definitions;
mod document;
mod proto;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use axum::extract::Request;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use serde_json::{Map, Value, json};

use crate::registry::{Registry, Resource};
use crate::status::ApiError;

/// The media type clients ask the protobuf swagger document by (either spelling) and the one it
/// is answered with: kube-apiserver's, as `@` is no token character and Go's `mime` package
/// refuses `...v2@v1.0+protobuf` in a Content-Type.
pub const V2_PROTOBUF: &str = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

/// The documents of one server, built lazily and rebuilt when the resources they describe change.
pub struct OpenApi {
    registry: Registry,
    cache: Mutex<Cache>,
}

#[derive(Default)]
struct Cache {
    v3: HashMap<(String, String), Arc<Built>>,
    v2: Option<Arc<Built>>,
}

/// A document and what it was built from.
struct Built {
    /// Holding these keeps their identity meaningful: a rebuilt CRD resource is a new `Arc`.
    resources: Vec<Arc<Resource>>,
    json: Bytes,
    hash: String,
    /// The protobuf encoding (v2 only), made on first request.
    protobuf: OnceLock<Bytes>,
    /// The document, for the protobuf encoding.
    value: Option<Value>,
}

fn same(a: &[Arc<Resource>], b: &[Arc<Resource>]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| Arc::ptr_eq(x, y))
}

/// A 128-bit FNV-1a digest in upper-case hex. Clients only compare hashes, so any stable digest
/// of the content serves; this one needs no dependency.
fn digest(bytes: &[u8]) -> String {
    const PRIME: u128 = 0x0000000001000000000000000000013B;
    let mut h: u128 = 0x6c62272e07bb014262b821756295c58d;
    for b in bytes {
        h ^= u128::from(*b);
        h = h.wrapping_mul(PRIME);
    }
    format!("{h:032X}")
}

impl OpenApi {
    pub fn new(registry: Registry) -> OpenApi {
        OpenApi {
            registry,
            cache: Mutex::new(Cache::default()),
        }
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Served group versions, in discovery order.
    fn group_versions(&self) -> Vec<(String, String)> {
        self.registry
            .groups()
            .into_iter()
            .flat_map(|g| {
                let group = g.group;
                g.versions.into_iter().map(move |v| (group.clone(), v))
            })
            .collect()
    }

    /// The v3 document of one group version (`None` when it serves nothing documented).
    fn v3(&self, group: &str, version: &str) -> Option<Arc<Built>> {
        let resources = self.registry.resources_in(group, version);
        let key = (group.to_owned(), version.to_owned());
        if let Some(built) = self.cache().v3.get(&key)
            && same(&built.resources, &resources)
        {
            return Some(built.clone());
        }
        let value = build_v3(&resources)?;
        let json = Bytes::from(serde_json::to_vec(&value).unwrap_or_default());
        let built = Arc::new(Built {
            resources,
            hash: digest(&json),
            json,
            protobuf: OnceLock::new(),
            value: None,
        });
        self.cache().v3.insert(key, built.clone());
        Some(built)
    }

    /// The index: each group version's document path with its current hash.
    pub fn v3_root(&self) -> Value {
        let mut paths = Map::new();
        for (group, version) in self.group_versions() {
            if let Some(built) = self.v3(&group, &version) {
                let path = document::gv_prefix(&group, &version);
                let path = path.trim_start_matches('/');
                paths.insert(
                    path.to_owned(),
                    json!({"serverRelativeURL": format!("/openapi/v3/{path}?hash={}", built.hash)}),
                );
            }
        }
        json!({"paths": paths})
    }

    fn v2(&self) -> Arc<Built> {
        let resources: Vec<Arc<Resource>> = self
            .group_versions()
            .iter()
            .flat_map(|(g, v)| self.registry.resources_in(g, v))
            .collect();
        if let Some(built) = &self.cache().v2
            && same(&built.resources, &resources)
        {
            return built.clone();
        }
        let value = build_v2(&resources);
        let json = Bytes::from(serde_json::to_vec(&value).unwrap_or_default());
        let built = Arc::new(Built {
            resources,
            hash: digest(&json),
            json,
            protobuf: OnceLock::new(),
            value: Some(value),
        });
        self.cache().v2 = Some(built.clone());
        built
    }

    /// `GET /openapi/v2`: JSON, or protobuf when the client accepts it.
    pub fn serve_v2(&self, request: &Request) -> Response {
        let built = self.v2();
        let accept = header_str(request, header::ACCEPT).unwrap_or("");
        let etag = format!("\"{}\"", built.hash);
        if not_modified(request, &etag) {
            return with_etag(empty(StatusCode::NOT_MODIFIED), &etag);
        }
        let response = if accept.contains("com.github.proto-openapi.spec.v2") {
            let bytes = built
                .protobuf
                .get_or_init(|| {
                    Bytes::from(proto::encode(built.value.as_ref().unwrap_or(&Value::Null)))
                })
                .clone();
            crate::http::respond::raw(StatusCode::OK, V2_PROTOBUF, bytes)
        } else {
            crate::http::respond::raw(StatusCode::OK, "application/json", built.json.clone())
        };
        with_etag(response, &etag)
    }

    /// `GET /openapi/v3` and `GET /openapi/v3/<api|apis/group>/<version>`.
    pub fn serve_v3(&self, request: &Request) -> Response {
        let path = request.uri().path();
        let rest = path
            .strip_prefix("/openapi/v3")
            .unwrap_or("")
            .trim_matches('/');
        if rest.is_empty() {
            let root = serde_json::to_vec(&self.v3_root()).unwrap_or_default();
            let etag = format!("\"{}\"", digest(&root));
            if not_modified(request, &etag) {
                return with_etag(empty(StatusCode::NOT_MODIFIED), &etag);
            }
            let response = crate::http::respond::raw(StatusCode::OK, "application/json", root);
            return with_etag(response, &etag);
        }
        let gv = match rest.split('/').collect::<Vec<_>>().as_slice() {
            ["api", version] => Some((String::new(), (*version).to_owned())),
            ["apis", group, version] => Some(((*group).to_owned(), (*version).to_owned())),
            _ => None,
        };
        let Some(built) = gv.and_then(|(g, v)| self.v3(&g, &v)) else {
            return crate::http::respond::error(&ApiError::no_such_resource());
        };
        let accept = header_str(request, header::ACCEPT).unwrap_or("");
        if accept.contains("com.github.proto-openapi.spec.v3")
            && !accept.contains("json")
            && !accept.contains("*/*")
        {
            return crate::http::respond::raw(
                StatusCode::NOT_ACCEPTABLE,
                "text/plain; charset=utf-8",
                "only application/json is served for OpenAPI v3 documents",
            );
        }
        let etag = format!("\"{}\"", built.hash);
        let query = crate::http::request::Query::parse(request.uri().query());
        let mut immutable = false;
        if let Some(hash) = query.get("hash") {
            if hash != built.hash {
                // As kube-apiserver: a stale hash is sent to the current document.
                let mut response = empty(StatusCode::MOVED_PERMANENTLY);
                if let Ok(location) =
                    HeaderValue::from_str(&format!("/openapi/v3/{rest}?hash={}", built.hash))
                {
                    response.headers_mut().insert(header::LOCATION, location);
                }
                return response;
            }
            immutable = true;
        }
        let mut response = if not_modified(request, &etag) {
            empty(StatusCode::NOT_MODIFIED)
        } else {
            crate::http::respond::raw(StatusCode::OK, "application/json", built.json.clone())
        };
        let headers = response.headers_mut();
        // The content depends on Accept: caches must not mix encodings.
        headers.insert(header::VARY, HeaderValue::from_static("Accept"));
        if immutable {
            // As kube-apiserver: a hashed URL never changes, so it may be cached for a year.
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, immutable"),
            );
            let expires = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 365);
            if let Ok(v) =
                HeaderValue::from_str(&expires.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string())
            {
                headers.insert(header::EXPIRES, v);
            }
        }
        with_etag(response, &etag)
    }
}

fn header_str(request: &Request, name: header::HeaderName) -> Option<&str> {
    request.headers().get(name).and_then(|v| v.to_str().ok())
}

fn not_modified(request: &Request, etag: &str) -> bool {
    header_str(request, header::IF_NONE_MATCH)
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
}

fn empty(status: StatusCode) -> Response {
    let mut response = Response::new(axum::body::Body::empty());
    *response.status_mut() = status;
    response
}

fn with_etag(mut response: Response, etag: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(etag) {
        response.headers_mut().insert(header::ETAG, v);
    }
    response
}

/// A group version's OpenAPI 3.0 document.
fn build_v3(resources: &[Arc<Resource>]) -> Option<Value> {
    let mut extra = Map::new();
    let mut paths = Map::new();
    let mut roots = vec![];
    for r in resources {
        let Some(names) = document::resource_definitions(r, &mut extra) else {
            continue;
        };
        for (path, item) in document::paths(r, &names) {
            definitions::collect_refs(&item, &mut roots);
            paths.insert(path, document::path_item_v3(&item));
        }
        roots.push(names.kind);
        roots.extend(names.list);
    }
    if paths.is_empty() {
        return None;
    }
    let builtin = definitions::builtin();
    let schemas: Map<String, Value> =
        definitions::closure(roots.iter().map(String::as_str), &extra)
            .into_iter()
            .filter_map(|name| {
                let schema = extra.get(&name).or_else(|| builtin.schemas.get(&name))?;
                Some((name, definitions::to_v3(schema)))
            })
            .collect();
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": version()},
        "paths": paths,
        "components": {"schemas": schemas},
    }))
}

/// The swagger document of everything served: all built-in definitions, each CRD version's.
fn build_v2(resources: &[Arc<Resource>]) -> Value {
    let mut definitions = definitions::builtin().schemas.clone();
    let mut paths = Map::new();
    for r in resources {
        let Some(names) = document::resource_definitions(r, &mut definitions) else {
            continue;
        };
        for (path, item) in document::paths(r, &names) {
            paths.insert(path, item);
        }
    }
    json!({
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": version()},
        "paths": paths,
        "definitions": definitions,
    })
}

fn version() -> Value {
    crate::discovery::version()
        .get("gitVersion")
        .cloned()
        .unwrap_or(Value::Null)
}
