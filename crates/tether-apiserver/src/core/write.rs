//! Create, update and patch: the generic registry's write path.
//!
//! Every write runs the same steps: decode and check the body against the resource, let the
//! resource's strategy reset what the caller may not change (status on the main resource,
//! everything but status on `/status`, immutable metadata), bump `metadata.generation` when the
//! spec changed, record managed fields, validate, skip writes that change nothing, and commit
//! with the revision the change was computed from. A commit that loses a race is recomputed
//! from the new state unless the caller pinned `metadata.resourceVersion` (then it is a 409).

use std::sync::Arc;

use serde_json::Value;
use tether_store::{Object, WriteError, WriteOp};

use super::{Core, Output, present, store_write_error, strategy};
use crate::fieldmanager::{FieldValidation, Warnings};
use crate::object;
use crate::registry::Resource;
use crate::status::{ApiError, Cause};

/// How many times a write is recomputed after losing a race before giving up with a 409.
const MAX_ATTEMPTS: usize = 32;

#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    pub dry_run: bool,
    /// `?fieldManager=`.
    pub field_manager: Option<String>,
    /// The request's `User-Agent`, the manager's name when `fieldManager` is absent.
    pub user_agent: Option<String>,
    /// `?force=` (apply only).
    pub force: bool,
    /// `?fieldValidation=`.
    pub field_validation: FieldValidation,
    /// Collects `Warning` headers for the response.
    pub warnings: Warnings,
    /// Fields the request body gave twice (dotted paths), handled per `fieldValidation`.
    pub duplicate_fields: Vec<String>,
}

impl WriteOptions {
    /// The manager recorded in `managedFields`: `fieldManager`, else the user agent up to its
    /// first `/` (as kube-apiserver derives it), printable characters only, at most 128.
    pub fn manager(&self) -> Result<String, ApiError> {
        if let Some(manager) = &self.field_manager {
            if manager.len() > 128 {
                return Err(patch_options_invalid(Cause::new(
                    "FieldValueTooLong",
                    "fieldManager",
                    "Too long: may not be more than 128 bytes",
                )));
            }
            if manager.chars().any(|c| c.is_control()) {
                return Err(patch_options_invalid(Cause::new(
                    "FieldValueInvalid",
                    "fieldManager",
                    format!("Invalid value: {manager:?}: must only contain printable characters"),
                )));
            }
            return Ok(manager.clone());
        }
        let agent = self.user_agent.as_deref().unwrap_or("");
        let prefix = agent.split('/').next().unwrap_or("");
        Ok(prefix
            .chars()
            .filter(|c| !c.is_control())
            .take(128)
            .collect())
    }
}

fn patch_options_invalid(cause: Cause) -> ApiError {
    ApiError::invalid("meta.k8s.io", "PatchOptions", "", vec![cause])
}

/// A patch request body, decoded.
#[derive(Debug, Clone)]
pub enum PatchBody {
    /// RFC 6902 operations.
    Json(json_patch::Patch),
    /// RFC 7386.
    Merge(Value),
    Strategic(Value),
    /// Server-side apply: the applied configuration.
    Apply(Value),
}

/// What a write wants stored, computed from the current state.
struct Proposal {
    object: Value,
    /// Managed fields are already computed (apply does it as part of the merge).
    managed: bool,
}

/// Checks the body's `kind` and `apiVersion` against the resource and makes it an object.
/// A missing `kind` or `apiVersion` takes the request's, as upstream's decoder defaults them
/// from the URL (the Python client sends typed objects without either).
pub(super) fn check_type(r: &Resource, body: Value) -> Result<Value, ApiError> {
    let Value::Object(mut map) = body else {
        return Err(ApiError::bad_request(
            "the request body must be a JSON or YAML object",
        ));
    };
    if map
        .get("kind")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        map.insert("kind".into(), Value::String(r.kind.clone()));
    }
    let kind = map.get("kind").and_then(Value::as_str).unwrap_or("");
    if kind != r.kind {
        return Err(ApiError::bad_request(format!(
            "the kind in the request body ({kind}) does not match the resource's kind ({}) at {}",
            r.kind,
            r.api_version()
        )));
    }
    match map.get("apiVersion").and_then(Value::as_str) {
        None | Some("") => {
            map.insert("apiVersion".into(), Value::String(r.api_version()));
        }
        Some(v) if v == r.api_version() => {}
        Some(v) => {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({v}) does not match the expected API version ({})",
                r.api_version()
            )));
        }
    }
    if let Some(meta) = map
        .get("metadata")
        .filter(|m| !m.is_object() && !m.is_null())
    {
        return Err(ApiError::bad_request(format!(
            "metadata: expected an object, got {}",
            type_name(meta)
        )));
    }
    Ok(Value::Object(map))
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The namespace an object is written to: the URL's, which the body may repeat but not contradict.
fn settle_namespace(
    r: &Resource,
    url_namespace: Option<&str>,
    object: &mut Value,
) -> Result<(), ApiError> {
    let body_ns = object::namespace(object).map(str::to_owned);
    if r.namespaced {
        let Some(ns) = url_namespace else {
            return Err(ApiError::bad_request(
                "a namespaced resource needs a namespace in the request path",
            ));
        };
        if body_ns.as_deref().is_some_and(|b| b != ns) {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        object::set_meta(object, "namespace", Value::String(ns.to_owned()));
    } else {
        object::set_meta(object, "namespace", Value::Null);
    }
    Ok(())
}

impl Core {
    /// POST: creates an object. Answers the stored object (201 for the caller).
    pub async fn create(
        &self,
        r: &Arc<Resource>,
        namespace: Option<&str>,
        body: Value,
        opts: &WriteOptions,
    ) -> Result<Output, ApiError> {
        let manager = opts.manager()?;
        let mut object = check_type(r, body)?;
        self.fields.check_fields(r, &mut object, opts)?;
        if object::resource_version(&object).is_some() {
            return Err(ApiError::bad_request(
                "resourceVersion should not be set on objects to be created",
            ));
        }
        self.create_object(r, namespace, object, opts, &manager, false)
            .await
    }

    /// The create path shared by POST and by apply to an object that does not exist yet.
    async fn create_object(
        &self,
        r: &Arc<Resource>,
        namespace: Option<&str>,
        mut object: Value,
        opts: &WriteOptions,
        manager: &str,
        managed: bool,
    ) -> Result<Output, ApiError> {
        settle_namespace(r, namespace, &mut object)?;
        let generate = object::name(&object)
            .is_empty()
            .then(|| object::meta_str(&object, "generateName").map(str::to_owned))
            .flatten();
        for attempt in 0.. {
            let mut candidate = object.clone();
            if let Some(prefix) = &generate {
                // Upstream keeps names within 63 characters: prefix at most 58, then 5 random.
                let prefix: String = prefix.chars().take(58).collect();
                object::set_meta(
                    &mut candidate,
                    "name",
                    Value::String(format!("{prefix}{}", object::random_suffix())),
                );
            }
            let name = object::name(&candidate).to_owned();
            strategy::prepare_for_create(r, &mut candidate);
            if !managed {
                self.fields.update(r, None, None, &mut candidate, manager)?;
            }
            let causes = strategy::validate(r, None, &candidate);
            if !causes.is_empty() {
                return Err(ApiError::invalid(&r.group, &r.kind, &name, causes));
            }
            if let Some(ns) = object::namespace(&candidate) {
                self.check_namespace_accepts(r, ns, &name)?;
            }
            if opts.dry_run {
                return Ok(Output::Value(candidate));
            }
            candidate["apiVersion"] = Value::String(r.storage_api_version());
            let key = r.key(object::namespace(&candidate), &name);
            match self
                .commit(WriteOp::Create {
                    key,
                    value: candidate,
                })
                .await
            {
                Ok(stored) => return Ok(present(r, stored)),
                Err(WriteError::AlreadyExists { .. }) if generate.is_some() && attempt < 8 => {
                    continue;
                }
                Err(err) => return Err(store_write_error(r, &name, err)),
            }
        }
        Err(ApiError::internal("unreachable: the create loop returns"))
    }

    /// PUT: replaces an object (or its status, or a namespace's finalizers).
    pub async fn update(
        &self,
        r: &Arc<Resource>,
        namespace: Option<&str>,
        name: &str,
        subresource: Option<&str>,
        body: Value,
        opts: &WriteOptions,
    ) -> Result<Output, ApiError> {
        let manager = opts.manager()?;
        let mut body = check_type(r, body)?;
        self.fields.check_fields(r, &mut body, opts)?;
        check_name(&body, name)?;
        let pinned = pinned_revision(&body)?;
        self.guaranteed_update(
            r,
            namespace,
            name,
            subresource,
            opts,
            &manager,
            pinned,
            |_| {
                Ok(Proposal {
                    object: body.clone(),
                    managed: false,
                })
            },
        )
        .await
    }

    /// PATCH: JSON patch, merge patch, strategic merge patch or server-side apply. Apply creates
    /// the object when it does not exist. Answers the object and whether it was created.
    pub async fn patch(
        &self,
        r: &Arc<Resource>,
        namespace: Option<&str>,
        name: &str,
        subresource: Option<&str>,
        patch: PatchBody,
        opts: &WriteOptions,
    ) -> Result<(Output, bool), ApiError> {
        let manager = opts.manager()?;
        let patch = match patch {
            PatchBody::Apply(config) => {
                return self
                    .apply(r, namespace, name, subresource, config, opts, &manager)
                    .await;
            }
            other => other,
        };
        // The patch type is refused before the object is looked up, as upstream does.
        if matches!(patch, PatchBody::Strategic(_)) && !r.origin.is_builtin() {
            return Err(ApiError::unsupported_media_type(
                crate::http::negotiate::CUSTOM_PATCH_TYPES,
            ));
        }
        if opts.force {
            return Err(patch_options_invalid(Cause::new(
                "FieldValueForbidden",
                "force",
                "Forbidden: may not be specified for non-apply patch",
            )));
        }
        let output = self
            .guaranteed_update(
                r,
                namespace,
                name,
                subresource,
                opts,
                &manager,
                None,
                |current| {
                    let base = current.ok_or_else(|| ApiError::not_found(&r.qualified(), name))?;
                    let mut object = base.value.clone();
                    object["apiVersion"] = Value::String(r.api_version());
                    let patched = apply_patch(r, object, &patch)?;
                    if object::resource_version(&patched) != object::resource_version(&base.value) {
                        return Err(ApiError::conflict(&r.qualified(), name));
                    }
                    let mut patched = check_type(r, patched)?;
                    // The patched object is what the request writes: unknown fields in it are
                    // the patch's, handled per fieldValidation like a create's.
                    self.fields.check_fields(r, &mut patched, opts)?;
                    check_name(&patched, name)?;
                    Ok(Proposal {
                        object: patched,
                        managed: false,
                    })
                },
            )
            .await?;
        Ok((output, false))
    }

    /// Server-side apply: creates the object when it does not exist.
    #[allow(clippy::too_many_arguments)]
    async fn apply(
        &self,
        r: &Arc<Resource>,
        namespace: Option<&str>,
        name: &str,
        subresource: Option<&str>,
        config: Value,
        opts: &WriteOptions,
        manager: &str,
    ) -> Result<(Output, bool), ApiError> {
        if opts.field_manager.is_none() {
            return Err(patch_options_invalid(Cause::new(
                "FieldValueRequired",
                "fieldManager",
                "Required value: is required for apply patch",
            )));
        }
        let mut config = check_type(r, config)?;
        self.fields.check_fields(r, &mut config, opts)?;
        check_name(&config, name)?;
        let existing = self.store.get(&r.key(namespace, name));
        if existing.is_none() {
            if subresource.is_some() {
                return Err(ApiError::not_found(&r.qualified(), name));
            }
            let created = self
                .fields
                .apply(r, None, None, &config, manager, opts.force)?;
            let output = self
                .create_object(r, namespace, created, opts, manager, true)
                .await;
            return match output {
                // Lost a race with another creator: apply to what it created.
                Err(e) if e.reason == "AlreadyExists" => self
                    .apply_existing(r, namespace, name, subresource, &config, opts, manager)
                    .await
                    .map(|o| (o, false)),
                other => other.map(|o| (o, true)),
            };
        }
        self.apply_existing(r, namespace, name, subresource, &config, opts, manager)
            .await
            .map(|o| (o, false))
    }

    #[allow(clippy::too_many_arguments)]
    async fn apply_existing(
        &self,
        r: &Arc<Resource>,
        namespace: Option<&str>,
        name: &str,
        subresource: Option<&str>,
        config: &Value,
        opts: &WriteOptions,
        manager: &str,
    ) -> Result<Output, ApiError> {
        let pinned = pinned_revision(config)?;
        self.guaranteed_update(
            r,
            namespace,
            name,
            subresource,
            opts,
            manager,
            pinned,
            |current| {
                let live = current.ok_or_else(|| ApiError::not_found(&r.qualified(), name))?;
                // The merge takes apiVersion from the configuration, so the live object can stay
                // in its storage version.
                let merged = self.fields.apply(
                    r,
                    subresource,
                    Some(&live.value),
                    config,
                    manager,
                    opts.force,
                )?;
                Ok(Proposal {
                    object: merged,
                    managed: true,
                })
            },
        )
        .await
    }

    /// Reads, computes the new state with `propose`, and commits it against the revision it
    /// was computed from; on a lost race, reads and computes again. This is the only way an
    /// existing object changes, for clients and controllers alike.
    #[allow(clippy::too_many_arguments)]
    async fn guaranteed_update(
        &self,
        r: &Arc<Resource>,
        namespace: Option<&str>,
        name: &str,
        subresource: Option<&str>,
        opts: &WriteOptions,
        manager: &str,
        pinned: Option<u64>,
        mut propose: impl FnMut(Option<&Arc<Object>>) -> Result<Proposal, ApiError>,
    ) -> Result<Output, ApiError> {
        let key = r.key(namespace, name);
        for _ in 0..MAX_ATTEMPTS {
            let current = self.store.get(&key);
            let proposal = propose(current.as_ref())?;
            let Some(current) = current else {
                return Err(ApiError::not_found(&r.qualified(), name));
            };
            if pinned.is_some_and(|rv| rv != current.revision) {
                return Err(ApiError::conflict(&r.qualified(), name));
            }
            let mut new = self.prepare_update(r, subresource, &current, proposal, manager)?;
            new["apiVersion"] = Value::String(r.storage_api_version());
            if new == current.value {
                return Ok(present(r, current));
            }
            let finished = object::deletion_timestamp(&new).is_some()
                && object::finalizers(&new).is_empty()
                && strategy::spec_finalizers_done(r, &new);
            if opts.dry_run {
                return Ok(present_value(r, new));
            }
            let op = if finished {
                // The last finalizer is gone from an object being deleted: it goes now.
                WriteOp::Delete {
                    key: key.clone(),
                    expected_revision: Some(current.revision),
                }
            } else {
                WriteOp::Update {
                    key: key.clone(),
                    value: new.clone(),
                    expected_revision: Some(current.revision),
                }
            };
            match self.commit(op).await {
                Ok(stored) if finished => {
                    return Ok(present_value(r, with_revision(new, stored.revision)));
                }
                Ok(stored) => return Ok(present(r, stored)),
                Err(WriteError::Conflict { .. }) if pinned.is_none() => continue,
                Err(err) => return Err(store_write_error(r, name, err)),
            }
        }
        Err(ApiError::conflict(&r.qualified(), name))
    }

    /// The strategy of an update: what the caller may change, generation, managed fields,
    /// validation.
    fn prepare_update(
        &self,
        r: &Resource,
        subresource: Option<&str>,
        current: &Object,
        proposal: Proposal,
        manager: &str,
    ) -> Result<Value, ApiError> {
        let cur = &current.value;
        let mut new = strategy::project(r, subresource, cur, proposal.object)?;
        let name = object::name(cur).to_owned();
        strategy::keep_immutable_metadata(cur, &mut new);
        object::set_meta(
            &mut new,
            "resourceVersion",
            Value::String(current.revision.to_string()),
        );
        if object::deletion_timestamp(cur).is_some() {
            let old: Vec<String> = object::finalizers(cur);
            let added: Vec<String> = object::finalizers(&new)
                .into_iter()
                .filter(|f| !old.contains(f))
                .collect();
            if !added.is_empty() {
                return Err(ApiError::invalid(
                    &r.group,
                    &r.kind,
                    &name,
                    vec![Cause::new(
                        "FieldValueForbidden",
                        "metadata.finalizers",
                        format!(
                            "Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers {added:?}"
                        ),
                    )],
                ));
            }
        }
        strategy::prepare_for_update(r, cur, &mut new);
        if r.tracks_generation && !object::spec_equal(cur, &new, r.status_subresource) {
            object::set_meta(
                &mut new,
                "generation",
                Value::from(object::generation(cur) + 1),
            );
        }
        if !proposal.managed {
            self.fields
                .update(r, subresource, Some(cur), &mut new, manager)?;
        }
        let causes = strategy::validate(r, Some(cur), &new);
        if !causes.is_empty() {
            return Err(ApiError::invalid(&r.group, &r.kind, &name, causes));
        }
        Ok(new)
    }
}

fn present_value(r: &Resource, mut value: Value) -> Output {
    value["apiVersion"] = Value::String(r.api_version());
    Output::Value(value)
}

fn with_revision(mut value: Value, revision: u64) -> Value {
    object::set_meta(
        &mut value,
        "resourceVersion",
        Value::String(revision.to_string()),
    );
    value
}

fn check_name(body: &Value, url_name: &str) -> Result<(), ApiError> {
    let name = object::name(body);
    if !name.is_empty() && name != url_name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({name}) does not match the name on the URL ({url_name})"
        )));
    }
    Ok(())
}

/// A `metadata.resourceVersion` in a body is a precondition.
fn pinned_revision(body: &Value) -> Result<Option<u64>, ApiError> {
    object::resource_version(body)
        .map(|rv| {
            rv.parse::<u64>().map_err(|_| {
                ApiError::bad_request(format!(
                    "invalid resourceVersion {rv:?}: must be an unsigned integer"
                ))
            })
        })
        .transpose()
}

/// Applies a JSON, merge or strategic merge patch to `object`.
fn apply_patch(r: &Resource, object: Value, patch: &PatchBody) -> Result<Value, ApiError> {
    match patch {
        PatchBody::Json(ops) => {
            let mut doc = object;
            json_patch::patch(&mut doc, ops).map_err(|e| {
                let mut err = ApiError::invalid(&r.group, &r.kind, "", vec![]);
                err.message = e.to_string();
                err.details = None;
                err
            })?;
            Ok(doc)
        }
        PatchBody::Merge(merge) => {
            let mut doc = object;
            json_patch::merge(&mut doc, merge);
            Ok(doc)
        }
        PatchBody::Strategic(patch) => crate::fieldmanager::strategic_merge(r, object, patch),
        PatchBody::Apply(_) => Err(ApiError::internal(
            "apply patches go through the field manager",
        )),
    }
}

impl Core {
    /// Read-modify-write for the control plane's own controllers: `modify` edits a copy of the
    /// current object (in the requested version) and the result is written as `manager` through
    /// the same path as a client's update. Answers `None` when the object does not exist.
    pub async fn update_with(
        &self,
        r: &Arc<Resource>,
        namespace: Option<&str>,
        name: &str,
        subresource: Option<&str>,
        manager: &str,
        mut modify: impl FnMut(&mut Value) -> Result<(), ApiError>,
    ) -> Result<Option<Output>, ApiError> {
        if self.store.get(&r.key(namespace, name)).is_none() {
            return Ok(None);
        }
        let opts = WriteOptions {
            field_manager: Some(manager.to_owned()),
            ..Default::default()
        };
        let result = self
            .guaranteed_update(
                r,
                namespace,
                name,
                subresource,
                &opts,
                manager,
                None,
                |current| {
                    let current =
                        current.ok_or_else(|| ApiError::not_found(&r.qualified(), name))?;
                    let mut object = current.value.clone();
                    object["apiVersion"] = Value::String(r.api_version());
                    modify(&mut object)?;
                    Ok(Proposal {
                        object,
                        managed: false,
                    })
                },
            )
            .await;
        match result {
            Ok(out) => Ok(Some(out)),
            Err(e) if e.code == 404 => Ok(None),
            Err(e) => Err(e),
        }
    }
}
