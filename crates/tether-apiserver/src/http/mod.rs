//! The HTTP front: authentication, routing of Kubernetes paths, body limits, and the mapping of
//! requests to [`Core`](crate::core::Core) calls and of results to responses.

mod decode;

pub use decode::{Decoded, decode};
pub mod negotiate;
pub mod request;
pub mod respond;
pub mod table;
mod watch;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use http::{Method, StatusCode, header};
use serde_json::Value;

use crate::auth::{self, Attributes, UserInfo};
use crate::core::{
    Core, DeleteOptions, DeleteOutcome, ListOptions, PatchBody, RvMatch, WatchOptions, WriteOptions,
};
use crate::fieldmanager::{FieldValidation, Warnings};
use crate::registry::Resource;
use crate::selector::{FieldSelector, LabelSelector};
use crate::status::{ApiError, success_status};
use crate::{discovery, object};
use negotiate::{BodyFormat, PatchType};
use request::{Query, ResourceRequest, Target, Verb};

/// kube-apiserver's limit on request bodies.
pub const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

/// What handlers share.
#[derive(Clone)]
pub struct AppState {
    pub core: Core,
    pub token: Arc<str>,
    /// Further tokens and their users.
    pub tokens: Arc<[auth::StaticToken]>,
    /// `host:port` clients reach the server at, for `/api`'s serverAddressByClientCIDRs.
    pub server_address: Arc<str>,
    pub bookmark_interval: Duration,
    /// Flips to true when the server shuts down, ending watches.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    /// Watch streams currently open.
    pub watches: Arc<std::sync::atomic::AtomicUsize>,
}

pub fn router(state: AppState) -> Router {
    let openapi = Arc::new(crate::openapi::OpenApi::new(state.core.registry.clone()));
    let v2 = openapi.clone();
    let v3 = openapi.clone();
    Router::new()
        .route(
            "/openapi/v2",
            get(move |request: Request| async move { v2.serve_v2(&request) }),
        )
        .route(
            "/openapi/v3",
            get({
                let v3 = v3.clone();
                move |request: Request| async move { v3.serve_v3(&request) }
            }),
        )
        .route(
            "/openapi/v3/{*document}",
            get(move |request: Request| async move { openapi.serve_v3(&request) }),
        )
        .route("/livez", get(health))
        .route("/readyz", get(health))
        .route("/healthz", get(health))
        .route("/version", get(version))
        // The official Python client asks for `/version/`; kube-apiserver answers both.
        .route("/version/", get(version))
        .fallback(dispatch)
        .layer(middleware::from_fn_with_state(state.clone(), authenticate))
        .with_state(state)
}

async fn health() -> Response {
    respond::raw(StatusCode::OK, "text/plain; charset=utf-8", "ok")
}

async fn version() -> Response {
    respond::json_value(StatusCode::OK, &discovery::version())
}

/// Health and version are public, as kube-apiserver's `system:public-info-viewer` makes them;
/// every other path needs the bearer token (a wrong token is 401 anywhere). Then the request
/// acts as whom its `Impersonate-*` headers name and is authorized ([`crate::auth`]); the user
/// it acts as travels in the request's extensions.
async fn authenticate(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let public = matches!(
        request.uri().path(),
        "/livez" | "/readyz" | "/healthz" | "/version"
    );
    let user = match presented {
        Some(token) if constant_time_eq(token.as_bytes(), state.token.as_bytes()) => {
            UserInfo::admin()
        }
        Some(token) => match state
            .tokens
            .iter()
            .find(|t| constant_time_eq(token.as_bytes(), t.token.as_bytes()))
        {
            Some(t) => t.user.authenticated(),
            None => return respond::error(&ApiError::unauthorized()),
        },
        None if public => return next.run(request).await,
        None => return respond::error(&ApiError::unauthorized()),
    };
    let user = match auth::impersonate(&state.core, user, request.headers()) {
        Ok(user) => user,
        Err(err) => return respond::error(&err),
    };
    if !user.is_master() {
        let query = Query::parse(request.uri().query());
        let attrs =
            Attributes::from_request(user.clone(), request.method(), request.uri().path(), &query);
        if let Err(err) = auth::check(&state.core, &attrs) {
            tracing::debug!(user = %user.name, message = %err.message, "request forbidden");
            return respond::error(&err);
        }
    }
    request.extensions_mut().insert(Arc::new(user));
    next.run(request).await
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn dispatch(State(state): State<AppState>, request: Request) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    match handle(&state, request).await {
        Ok(response) => response,
        Err(err) => {
            if err.code >= 500 {
                tracing::warn!(%method, %path, code = err.code, message = %err.message, "request failed");
            } else {
                tracing::debug!(%method, %path, code = err.code, message = %err.message, "request refused");
            }
            respond::error(&err)
        }
    }
}

fn header_str(request: &Request, name: header::HeaderName) -> Option<&str> {
    request.headers().get(name).and_then(|v| v.to_str().ok())
}

async fn handle(state: &AppState, request: Request) -> Result<Response, ApiError> {
    let query = Query::parse(request.uri().query());
    let target = request::parse(request.method(), request.uri().path(), query.flag("watch")?)?;
    let accept = header_str(&request, header::ACCEPT).map(str::to_owned);
    let discovery_get = |request: &Request| {
        if request.method() == Method::GET {
            Ok(())
        } else {
            Err(ApiError::method_not_allowed())
        }
    };
    let registry = &state.core.registry;
    match target {
        Target::LegacyRoot => {
            discovery_get(&request)?;
            Ok(match negotiate::aggregated_discovery(accept.as_deref()) {
                Some(v) => aggregated(discovery::aggregated(registry, true, v), v),
                None => respond::json_value(
                    StatusCode::OK,
                    &discovery::legacy_versions(&state.server_address),
                ),
            })
        }
        Target::GroupsRoot => {
            discovery_get(&request)?;
            Ok(match negotiate::aggregated_discovery(accept.as_deref()) {
                Some(v) => aggregated(discovery::aggregated(registry, false, v), v),
                None => respond::json_value(StatusCode::OK, &discovery::group_list(registry)),
            })
        }
        Target::Group(group) => {
            discovery_get(&request)?;
            let doc = discovery::group(registry, &group).ok_or_else(ApiError::no_such_resource)?;
            Ok(respond::json_value(StatusCode::OK, &doc))
        }
        Target::GroupVersion { group, version } => {
            discovery_get(&request)?;
            let doc = discovery::resource_list(registry, &group, &version)
                .ok_or_else(ApiError::no_such_resource)?;
            Ok(respond::json_value(StatusCode::OK, &doc))
        }
        Target::Resource(req) => resource(state, req, query, request).await,
    }
}

fn aggregated(doc: Value, version: &str) -> Response {
    let mut response = respond::json_value(StatusCode::OK, &doc);
    if let Ok(ct) = http::HeaderValue::from_str(&discovery::aggregated_content_type(version)) {
        response.headers_mut().insert(header::CONTENT_TYPE, ct);
    }
    response
        .headers_mut()
        .insert(header::VARY, http::HeaderValue::from_static("Accept"));
    response
}

/// Which subresources exist for `r`.
fn check_subresource(r: &Resource, sub: Option<&str>) -> Result<(), ApiError> {
    match sub {
        None => Ok(()),
        Some("status") if r.status_subresource => Ok(()),
        Some("scale") if r.scale.is_some() => Ok(()),
        Some("finalize") if r.group.is_empty() && r.resource == "namespaces" => Ok(()),
        Some(_) => Err(ApiError::no_such_resource()),
    }
}

/// The verb kube-apiserver's discovery and authorization name a request by.
pub(crate) fn verb_name(verb: &Verb) -> &'static str {
    match verb {
        Verb::Get => "get",
        Verb::List => "list",
        Verb::Watch => "watch",
        Verb::Create => "create",
        Verb::Update => "update",
        Verb::Patch => "patch",
        Verb::Delete => "delete",
        Verb::DeleteCollection => "deletecollection",
    }
}

async fn resource(
    state: &AppState,
    req: ResourceRequest,
    query: Query,
    request: Request,
) -> Result<Response, ApiError> {
    let core = &state.core;
    let r = core
        .registry
        .get(&req.group, &req.version, &req.resource)
        .ok_or_else(ApiError::no_such_resource)?;
    // Namespaced objects are addressed inside a namespace; collections may span all of them.
    let namespace = req.namespace.as_deref();
    let collection = matches!(req.verb, Verb::List | Verb::Watch | Verb::DeleteCollection)
        || (req.verb == Verb::Create && req.name.is_none());
    if (r.namespaced && namespace.is_none() && !collection)
        || (!r.namespaced && namespace.is_some())
    {
        return Err(ApiError::no_such_resource());
    }
    if r.namespaced && namespace.is_none() && req.verb == Verb::Create {
        return Err(ApiError::no_such_resource());
    }
    check_subresource(&r, req.subresource.as_deref())?;
    if req.subresource.is_none() && !r.has_verb(verb_name(&req.verb)) {
        return Err(ApiError::method_not_allowed());
    }
    let negotiated = negotiate::negotiate(header_str(&request, header::ACCEPT))?;
    let write_opts = |query: &Query, request: &Request| -> Result<WriteOptions, ApiError> {
        Ok(WriteOptions {
            dry_run: query.dry_run()?,
            field_manager: query.get("fieldManager").map(str::to_owned),
            user_agent: header_str(request, header::USER_AGENT).map(str::to_owned),
            force: query.flag("force")?,
            field_validation: FieldValidation::parse(query.get("fieldValidation"))?,
            warnings: Warnings::default(),
            duplicate_fields: Vec::new(),
        })
    };
    let name = req.name.clone().unwrap_or_default();
    let sub = req.subresource.as_deref();
    if r.group == "authorization.k8s.io" && req.verb == Verb::Create {
        let user = request
            .extensions()
            .get::<Arc<UserInfo>>()
            .cloned()
            .ok_or_else(|| ApiError::internal("no user for the request"))?;
        let body = read_object(request).await?;
        let answer = auth::review::review(core, &r, &user, namespace, body)?;
        return Ok(respond::object(
            StatusCode::CREATED,
            &r,
            &crate::core::Output::Value(answer),
            negotiated,
        ));
    }
    if sub == Some("scale") {
        return crate::scale::handle(
            core, &r, namespace, &name, &req.verb, query, request, negotiated,
        )
        .await;
    }
    match req.verb {
        Verb::Get => {
            let object = core.get(&r, namespace, &name)?;
            Ok(respond::object(
                StatusCode::OK,
                &r,
                &crate::core::present(&r, object),
                negotiated,
            ))
        }
        Verb::List => {
            let opts = list_options(&r, &query)?;
            let list = core.list(&r, namespace, &opts).await?;
            Ok(respond::list(&r, list, negotiated))
        }
        Verb::Watch => {
            let mut opts = watch_options(&r, &query)?;
            let allow_bookmarks = opts.allow_bookmarks;
            if let Some(name) = &req.name {
                opts.fields = FieldSelector::parse(&format!("metadata.name={name}"), &[])?;
            }
            let timeout = query
                .int("timeoutSeconds")?
                .filter(|t| *t > 0)
                .map(|t| Duration::from_secs(t as u64));
            let stream = core.watch(&r, namespace, opts).await?;
            Ok(watch::respond(
                state,
                r,
                stream,
                negotiated,
                timeout,
                allow_bookmarks,
            ))
        }
        Verb::Create => {
            let mut opts = write_opts(&query, &request)?;
            let body = read_write_body(request, &mut opts).await?;
            let created = core.create(&r, namespace, body, &opts).await?;
            Ok(with_warnings(
                respond::object(StatusCode::CREATED, &r, &created, negotiated),
                &opts.warnings,
            ))
        }
        Verb::Update => {
            let mut opts = write_opts(&query, &request)?;
            let body = read_write_body(request, &mut opts).await?;
            let updated = core.update(&r, namespace, &name, sub, body, &opts).await?;
            Ok(with_warnings(
                respond::object(StatusCode::OK, &r, &updated, negotiated),
                &opts.warnings,
            ))
        }
        Verb::Patch => {
            let mut opts = write_opts(&query, &request)?;
            let (patch, duplicate_fields) = read_patch(request).await?;
            opts.duplicate_fields = duplicate_fields;
            let (patched, created) = core.patch(&r, namespace, &name, sub, patch, &opts).await?;
            let status = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            Ok(with_warnings(
                respond::object(status, &r, &patched, negotiated),
                &opts.warnings,
            ))
        }
        Verb::Delete => {
            let opts = delete_options(&query, request).await?;
            let warnings = delete_warnings(&r, &opts);
            let response = match core.delete(&r, namespace, &name, &opts).await? {
                // Upstream answers 202 for an object not yet gone only when the legacy
                // `orphanDependents: false` asked for the cascade (other clients expect 200).
                DeleteOutcome::Pending(out) => {
                    let status = if opts.orphan_dependents == Some(false) {
                        StatusCode::ACCEPTED
                    } else {
                        StatusCode::OK
                    };
                    Ok(respond::object(status, &r, &out, negotiated))
                }
                DeleteOutcome::Deleted(out) if crate::core::returns_deleted_object(&r) => {
                    Ok(respond::object(StatusCode::OK, &r, &out, negotiated))
                }
                DeleteOutcome::Deleted(out) => {
                    let mut details = serde_json::json!({"name": name, "kind": r.resource, "uid": object::uid(out.value())});
                    if !r.group.is_empty() {
                        details["group"] = Value::String(r.group.clone());
                    }
                    Ok(respond::json_value(
                        StatusCode::OK,
                        &success_status(Some(details)),
                    ))
                }
            };
            response.map(|r| with_warnings(r, &warnings))
        }
        Verb::DeleteCollection => {
            let list_opts = list_options(&r, &query)?;
            let opts = delete_options(&query, request).await?;
            let warnings = delete_warnings(&r, &opts);
            let list = core
                .list(
                    &r,
                    namespace,
                    &ListOptions {
                        limit: None,
                        continue_token: None,
                        ..list_opts
                    },
                )
                .await?;
            for item in list.items {
                let ns = object::namespace(&item.value).map(str::to_owned);
                match core
                    .delete(&r, ns.as_deref(), object::name(&item.value), &opts)
                    .await
                {
                    Ok(_) => {}
                    Err(e) if e.code == 404 => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(with_warnings(
                respond::json_value(StatusCode::OK, &success_status(None)),
                &warnings,
            ))
        }
    }
}

/// batch/v1 Jobs orphan their pods unless told otherwise; upstream says so on every such delete.
fn delete_warnings(r: &Resource, opts: &DeleteOptions) -> Warnings {
    let warnings = Warnings::default();
    let job = r.origin.is_builtin() && r.group == "batch" && r.resource == "jobs";
    if job && opts.propagation.is_none() {
        warnings.push(
            "child pods are preserved by default when jobs are deleted; set \
             propagationPolicy=Background to remove them or set propagationPolicy=Orphan to \
             suppress this warning"
                .to_owned(),
        );
    }
    warnings
}

/// Adds a `Warning: 299 - "..."` header per warning, as kube-apiserver reports them.
fn with_warnings(mut response: Response, warnings: &Warnings) -> Response {
    for warning in warnings.take() {
        let text = format!(
            "299 - {}",
            serde_json::to_string(&warning).unwrap_or_default()
        );
        if let Ok(value) = http::HeaderValue::from_str(&text) {
            response.headers_mut().append(header::WARNING, value);
        }
    }
    response
}

fn rv_match(query: &Query) -> Result<Option<RvMatch>, ApiError> {
    match query.get("resourceVersionMatch") {
        None => Ok(None),
        Some("NotOlderThan") => Ok(Some(RvMatch::NotOlderThan)),
        Some("Exact") => Ok(Some(RvMatch::Exact)),
        Some(other) => Err(ApiError::invalid(
            "meta.k8s.io",
            "ListOptions",
            "",
            vec![crate::status::Cause::new(
                "FieldValueNotSupported",
                "resourceVersionMatch",
                format!(
                    "Unsupported value: {other:?}: supported values: \"Exact\", \"NotOlderThan\", \"\""
                ),
            )],
        )),
    }
}

fn selectors(r: &Resource, query: &Query) -> Result<(LabelSelector, FieldSelector), ApiError> {
    let labels = LabelSelector::parse(query.get("labelSelector").unwrap_or(""))?;
    let fields =
        FieldSelector::parse(query.get("fieldSelector").unwrap_or(""), &r.field_selectors)?;
    Ok((labels, fields))
}

fn list_options(r: &Resource, query: &Query) -> Result<ListOptions, ApiError> {
    let (labels, fields) = selectors(r, query)?;
    let limit = query.int("limit")?;
    Ok(ListOptions {
        labels,
        fields,
        limit: limit.filter(|l| *l > 0).map(|l| l as usize),
        continue_token: query.get("continue").map(str::to_owned),
        resource_version: query.get("resourceVersion").map(str::to_owned),
        rv_match: rv_match(query)?,
    })
}

fn watch_options(r: &Resource, query: &Query) -> Result<WatchOptions, ApiError> {
    let (labels, fields) = selectors(r, query)?;
    Ok(WatchOptions {
        labels,
        fields,
        resource_version: query.get("resourceVersion").map(str::to_owned),
        rv_match: rv_match(query)?,
        allow_bookmarks: query.flag("allowWatchBookmarks")?,
        send_initial_events: query.optional_flag("sendInitialEvents")?,
    })
}

async fn delete_options(query: &Query, request: Request) -> Result<DeleteOptions, ApiError> {
    let mut opts = DeleteOptions {
        dry_run: query.dry_run()?,
        ..Default::default()
    };
    // As upstream: the query's options first, then the body's fields over them.
    let mut merged = serde_json::Map::new();
    if let Some(policy) = query.get("propagationPolicy") {
        merged.insert("propagationPolicy".into(), Value::String(policy.to_owned()));
    }
    if query.get("orphanDependents").is_some() {
        merged.insert(
            "orphanDependents".into(),
            Value::Bool(query.flag("orphanDependents")?),
        );
    }
    let format = negotiate::body_format(header_str(&request, header::CONTENT_TYPE))?;
    let body = read_body(request).await?;
    if body.iter().any(|b| !b.is_ascii_whitespace()) {
        let value = decode_body(&body, format)
            .map_err(|e| ApiError::bad_request(format!("invalid DeleteOptions: {}", e.message)))?
            .value;
        let Value::Object(fields) = value else {
            return Err(ApiError::bad_request(
                "invalid DeleteOptions: the body is not an object",
            ));
        };
        merged.extend(fields.into_iter().filter(|(_, v)| !v.is_null()));
    }
    opts = opts.from_body(&Value::Object(merged))?;
    Ok(opts)
}

/// Reads the body, refusing more than [`MAX_BODY_BYTES`] with 413.
async fn read_body(request: Request) -> Result<bytes::Bytes, ApiError> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > MAX_BODY_BYTES) {
        return Err(ApiError::too_large(MAX_BODY_BYTES));
    }
    axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES)
        .await
        .map_err(|_| ApiError::too_large(MAX_BODY_BYTES))
}

pub fn respond_json(status: StatusCode, value: &Value) -> Response {
    respond::json_value(status, value)
}

/// A JSON or YAML object body (create, update).
pub async fn read_json_body(request: Request) -> Result<Value, ApiError> {
    read_object(request).await
}

/// A patch body with its type, undecoded beyond JSON/YAML.
pub async fn read_patch_body(request: Request) -> Result<(PatchType, Value), ApiError> {
    let kind = negotiate::patch_type(header_str(&request, header::CONTENT_TYPE))?;
    let bytes = read_body(request).await?;
    Ok((kind, decode(&bytes, kind == PatchType::Apply)?.value))
}

async fn read_object(request: Request) -> Result<Value, ApiError> {
    Ok(read_decoded(request).await?.value)
}

/// A create or update body; the fields it repeats go to `opts` for `fieldValidation`.
async fn read_write_body(request: Request, opts: &mut WriteOptions) -> Result<Value, ApiError> {
    let decoded = read_decoded(request).await?;
    opts.duplicate_fields = decoded.duplicate_fields;
    Ok(decoded.value)
}

async fn read_decoded(request: Request) -> Result<Decoded, ApiError> {
    let format = negotiate::body_format(header_str(&request, header::CONTENT_TYPE))?;
    let bytes = read_body(request).await?;
    decode_body(&bytes, format)
}

fn decode_body(bytes: &[u8], format: BodyFormat) -> Result<Decoded, ApiError> {
    match format {
        BodyFormat::Json => decode(bytes, false),
        BodyFormat::Yaml => decode(bytes, true),
        BodyFormat::Protobuf => crate::protobuf::decode(bytes)
            .map(|value| Decoded {
                value,
                duplicate_fields: Vec::new(),
            })
            .map_err(|e| ApiError::bad_request(e.to_string())),
    }
}

/// A patch body, with the fields it repeats (for `fieldValidation`).
async fn read_patch(request: Request) -> Result<(PatchBody, Vec<String>), ApiError> {
    let kind = negotiate::patch_type(header_str(&request, header::CONTENT_TYPE))?;
    let bytes = read_body(request).await?;
    if kind == PatchType::Json {
        let ops: json_patch::Patch = serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::bad_request(format!("invalid JSON patch: {e}")))?;
        return Ok((PatchBody::Json(ops), Vec::new()));
    }
    let Decoded {
        value,
        duplicate_fields,
    } = decode(&bytes, kind == PatchType::Apply)?;
    let body = match kind {
        PatchType::Merge => PatchBody::Merge(value),
        PatchType::Strategic => PatchBody::Strategic(value),
        _ => PatchBody::Apply(value),
    };
    Ok((body, duplicate_fields))
}
