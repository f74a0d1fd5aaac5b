//! The API's semantics, independent of HTTP: what get, list, watch, create, update, patch and
//! delete do to stored objects (kube-apiserver's generic registry and strategies). The HTTP
//! layer parses requests into calls here; the in-process controllers (namespace lifecycle, CRDs,
//! workload simulation) call the same functions, so their writes get the same managed fields,
//! generations, validation and events as a client's.

mod delete;
mod immutable;
mod list;
mod strategy;
mod watch;
mod write;

use std::sync::Arc;

use serde_json::Value;
use tether_store::{Object, Store, WriteError};

use crate::fieldmanager::FieldManager;
use crate::registry::{Origin, Registry, Resource};
use crate::status::{ApiError, Cause};

pub use delete::{
    CRD_CLEANUP_FINALIZER, DeleteOptions, DeleteOutcome, FOREGROUND_FINALIZER, ORPHAN_FINALIZER,
    Propagation, parse_propagation, returns_deleted_object,
};
pub use list::{ListOptions, ListResult, RvMatch};
pub use watch::{WatchEvent, WatchOptions, WatchStream};
pub use write::{PatchBody, WriteOptions};

/// Everything a request needs: storage, the served resources, and the field manager.
#[derive(Clone)]
pub struct Core {
    pub store: Store,
    pub registry: Registry,
    pub fields: FieldManager,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core").finish_non_exhaustive()
    }
}

/// An object as a response carries it: the stored object when the requested version is the
/// storage version (its cached JSON goes out as is), or a converted value.
#[derive(Debug, Clone)]
pub enum Output {
    Stored(Arc<Object>),
    Value(Value),
}

impl Output {
    pub fn value(&self) -> &Value {
        match self {
            Output::Stored(o) => &o.value,
            Output::Value(v) => v,
        }
    }

    pub fn into_value(self) -> Value {
        match self {
            Output::Stored(o) => o.value.clone(),
            Output::Value(v) => v,
        }
    }
}

/// An object stored in one version, presented in the version `r` serves. Versions of a custom
/// resource differ only in `apiVersion` (conversion strategy `None`).
/// Whether a stored custom resource predates a default of its schema (see [`present`]).
pub fn needs_read_defaults(r: &Resource, value: &Value) -> bool {
    matches!(&r.origin, Origin::Custom { openapi, declares_defaults: true, .. }
        if crate::crvalidation::needs_defaults(openapi, value))
}

/// Custom resources stored before their schema gained a default are defaulted on the way out.
pub fn present(r: &Resource, object: Arc<Object>) -> Output {
    let defaults = match &r.origin {
        Origin::Custom { openapi, .. } if needs_read_defaults(r, &object.value) => Some(openapi),
        _ => None,
    };
    if r.version == r.storage_version && defaults.is_none() {
        return Output::Stored(object);
    }
    let mut value = object.value.clone();
    value["apiVersion"] = Value::String(r.api_version());
    if let Some(schema) = defaults {
        crate::crvalidation::apply_defaults(schema, &mut value);
    }
    Output::Value(value)
}

/// Maps a refused store write to the API error a client expects.
fn store_write_error(r: &Resource, name: &str, err: WriteError) -> ApiError {
    match err {
        WriteError::AlreadyExists { .. } => ApiError::already_exists(&r.qualified(), name),
        WriteError::NotFound { .. } => ApiError::not_found(&r.qualified(), name),
        WriteError::Conflict { .. } => ApiError::conflict(&r.qualified(), name),
        WriteError::InvalidObject { reason, .. } => ApiError::invalid(
            &r.group,
            &r.kind,
            name,
            vec![Cause::new("FieldValueInvalid", "", reason)],
        ),
        WriteError::Commit { source, .. } => {
            ApiError::internal(format!("storage failed, nothing was written: {source}"))
        }
        WriteError::Closed { .. } => ApiError::service_unavailable("the server is shutting down"),
    }
}

impl Core {
    pub fn new(store: Store, registry: Registry) -> Core {
        let fields = FieldManager::new();
        Core {
            store,
            registry,
            fields,
        }
    }

    /// The stored object, or 404.
    pub fn get(
        &self,
        r: &Resource,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Arc<Object>, ApiError> {
        self.store
            .get(&r.key(namespace, name))
            .ok_or_else(|| ApiError::not_found(&r.qualified(), name))
    }

    /// For namespaced content: the namespace must exist and not be terminating.
    fn check_namespace_accepts(
        &self,
        r: &Resource,
        namespace: &str,
        name: &str,
    ) -> Result<(), ApiError> {
        let namespaces = Resource::namespaces_key(namespace);
        let Some(ns) = self.store.get(&namespaces) else {
            return Err(ApiError::not_found(
                &crate::status::Qualified {
                    group: String::new(),
                    resource: "namespaces".into(),
                },
                namespace,
            ));
        };
        if crate::object::deletion_timestamp(&ns.value).is_some() {
            return Err(ApiError::forbidden(
                &r.qualified(),
                name,
                &format!(
                    "unable to create new content in namespace {namespace} because it is being terminated"
                ),
                vec![Cause::new(
                    "NamespaceTerminating",
                    "metadata.namespace",
                    format!("namespace {namespace} is being terminated"),
                )],
            ));
        }
        Ok(())
    }
}

impl Resource {
    /// The storage key of a namespace object.
    pub fn namespaces_key(name: &str) -> String {
        format!("/namespaces/{name}")
    }
}

impl Core {
    /// Commits one write; the stored result (for a delete, the last state).
    pub(crate) async fn commit(
        &self,
        op: tether_store::WriteOp,
    ) -> Result<Arc<Object>, WriteError> {
        self.store.write(op).await.map(|outcome| outcome.object)
    }
}
