//! Managed fields and server-side apply, as kube-apiserver's `fieldmanager` package layers them
//! over structured-merge-diff (here `tether-schema`'s [`Updater`]):
//!
//! 1. decode `metadata.managedFields` into sets keyed by manager identity (name, operation,
//!    subresource, and for updates the API version);
//! 2. type the objects with the resource's schema (built-in from the OpenAPI document, or the
//!    CRD version's) and run the update or apply, ignoring `status` on the main resource and
//!    `spec` on `/status`;
//! 3. drop the fields the server owns (stripMeta), cap update managers at 10, stamp the time of
//!    entries that changed, and encode the entries back in upstream's order.

use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};
use tether_schema::{
    Filter, ManagedFields, MergeError, Path, Schema, Set, TypeId, TypedValue, Updater,
    ValidationOptions, VersionedSet, builtin_schema, prune_unknown_fields,
    strip_kube_server_fields, type_for_gvk, unknown_fields,
};

use crate::core::WriteOptions;
use crate::object;
use crate::registry::{Origin, Resource};
use crate::status::{ApiError, Cause};

/// kube-apiserver keeps at most this many `Update` entries; older ones are merged into one.
const MAX_UPDATE_MANAGERS: usize = 10;
const ANCIENT_CHANGES: &str = "ancient-changes";

/// `?fieldValidation=`: what to do with fields the schema does not know.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FieldValidation {
    Ignore,
    /// Drop them and say so in `Warning` headers (the default since 1.23).
    #[default]
    Warn,
    /// Refuse the request.
    Strict,
}

impl FieldValidation {
    pub fn parse(value: Option<&str>) -> Result<FieldValidation, ApiError> {
        match value {
            None | Some("") | Some("Warn") => Ok(FieldValidation::Warn),
            Some("Ignore") => Ok(FieldValidation::Ignore),
            Some("Strict") => Ok(FieldValidation::Strict),
            Some(other) => Err(ApiError::bad_request(format!(
                "fieldValidation must be one of \"Ignore\", \"Warn\", or \"Strict\", got {other:?}"
            ))),
        }
    }
}

/// Warnings a request collects for `Warning` response headers.
#[derive(Debug, Clone, Default)]
pub struct Warnings(Arc<Mutex<Vec<String>>>);

impl Warnings {
    pub fn push(&self, warning: String) {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(warning);
    }

    pub fn take(&self) -> Vec<String> {
        std::mem::take(
            &mut *self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }
}

#[derive(Debug, Clone, Default)]
pub struct FieldManager {}

/// The schema and root type of a resource's objects.
fn type_of(r: &Resource) -> (&Schema, TypeId) {
    match &r.origin {
        Origin::Custom { schema, .. } => (&schema.schema, schema.root),
        Origin::Builtin => {
            let schema = builtin_schema();
            match type_for_gvk(&r.group, &r.version, &r.kind) {
                Some(ty) => (schema, ty),
                None => (schema, schema.deduced_type()),
            }
        }
    }
}

/// The identity kube-apiserver keys a manager's set by (`BuildManagerIdentifier`): appliers
/// keep one entry whatever version they apply in; updaters get one per version.
fn identity(
    manager: &str,
    operation: &str,
    api_version: &str,
    subresource: Option<&str>,
) -> String {
    let mut key = Map::new();
    key.insert("manager".into(), manager.into());
    key.insert("operation".into(), operation.into());
    if operation != "Apply" {
        key.insert("apiVersion".into(), api_version.into());
    }
    if let Some(sub) = subresource.filter(|s| !s.is_empty()) {
        key.insert("subresource".into(), sub.into());
    }
    Value::Object(key).to_string()
}

struct Identity {
    manager: String,
    operation: String,
    subresource: Option<String>,
}

fn parse_identity(key: &str) -> Identity {
    let v: Value = serde_json::from_str(key).unwrap_or(Value::Null);
    let s = |f: &str| v.get(f).and_then(Value::as_str).map(str::to_owned);
    Identity {
        manager: s("manager").unwrap_or_else(|| key.to_owned()),
        operation: s("operation").unwrap_or_else(|| "Update".into()),
        subresource: s("subresource"),
    }
}

/// Decoded managed fields and the time of each entry.
struct Decoded {
    managers: ManagedFields,
    times: std::collections::HashMap<String, Value>,
}

fn decode(object: Option<&Value>) -> Result<Decoded, String> {
    let mut decoded = Decoded {
        managers: ManagedFields::new(),
        times: Default::default(),
    };
    let Some(entries) = object
        .and_then(|o| o.pointer("/metadata/managedFields"))
        .and_then(Value::as_array)
    else {
        return Ok(decoded);
    };
    for (i, entry) in entries.iter().enumerate() {
        let s = |f: &str| entry.get(f).and_then(Value::as_str).unwrap_or("");
        let (manager, operation, api_version) = (s("manager"), s("operation"), s("apiVersion"));
        if operation != "Apply" && operation != "Update" {
            return Err(format!(
                "managedFields[{i}].operation: must be Apply or Update, got {operation:?}"
            ));
        }
        if !matches!(s("fieldsType"), "FieldsV1" | "") {
            return Err(format!("managedFields[{i}].fieldsType: must be FieldsV1"));
        }
        let set = match entry.get("fieldsV1") {
            Some(fields) => Set::from_fields_v1(fields)
                .map_err(|e| format!("managedFields[{i}].fieldsV1: {e}"))?,
            None => Set::new(),
        };
        let sub = entry.get("subresource").and_then(Value::as_str);
        let key = identity(manager, operation, api_version, sub);
        if let Some(time) = entry.get("time") {
            decoded.times.insert(key.clone(), time.clone());
        }
        decoded.managers.insert(
            key,
            VersionedSet {
                set,
                api_version: api_version.to_owned(),
                applied: operation == "Apply",
            },
        );
    }
    Ok(decoded)
}

/// Encodes managers in kube-apiserver's order: operation, time, manager, version, subresource.
fn encode(managers: &ManagedFields, times: &std::collections::HashMap<String, Value>) -> Value {
    let mut entries: Vec<(String, String, String, String, String, Value)> = managers
        .iter()
        .map(|(key, vs)| {
            let id = parse_identity(key);
            let time = times
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let mut entry = Map::new();
            entry.insert("manager".into(), id.manager.clone().into());
            entry.insert("operation".into(), id.operation.clone().into());
            entry.insert("apiVersion".into(), vs.api_version.clone().into());
            if !time.is_empty() {
                entry.insert("time".into(), time.clone().into());
            }
            entry.insert("fieldsType".into(), "FieldsV1".into());
            entry.insert("fieldsV1".into(), vs.set.to_fields_v1());
            let sub = id.subresource.clone().unwrap_or_default();
            if !sub.is_empty() {
                entry.insert("subresource".into(), sub.clone().into());
            }
            (
                id.operation,
                time,
                id.manager,
                vs.api_version.clone(),
                sub,
                Value::Object(entry),
            )
        })
        .collect();
    entries.sort_by(|a, b| (&a.0, &a.1, &a.2, &a.3, &a.4).cmp(&(&b.0, &b.1, &b.2, &b.3, &b.4)));
    Value::Array(entries.into_iter().map(|e| e.5).collect())
}

/// Keeps at most [`MAX_UPDATE_MANAGERS`] update entries, merging the oldest into
/// `ancient-changes` (kube-apiserver's `capManagersManager`).
fn cap_updaters(
    managers: &mut ManagedFields,
    times: &mut std::collections::HashMap<String, Value>,
) {
    let mut updaters: Vec<(String, String)> = managers
        .iter()
        .filter(|(_, vs)| !vs.applied)
        .map(|(k, _)| {
            (
                times
                    .get(k)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                k.clone(),
            )
        })
        .collect();
    if updaters.len() <= MAX_UPDATE_MANAGERS {
        return;
    }
    updaters.sort();
    let excess = updaters.len() - MAX_UPDATE_MANAGERS + 1;
    for (_, key) in updaters.into_iter().take(excess) {
        let Some(vs) = managers.remove(&key) else {
            continue;
        };
        times.remove(&key);
        let ancient = identity(ANCIENT_CHANGES, "Update", &vs.api_version, None);
        let slot = managers
            .entry(ancient.clone())
            .or_insert_with(|| VersionedSet {
                set: Set::new(),
                api_version: vs.api_version.clone(),
                applied: false,
            });
        slot.set = slot.set.union(&vs.set);
        times
            .entry(ancient)
            .or_insert_with(|| Value::String(object::now()));
    }
}

/// The object without `metadata.managedFields`, as the merge sees it.
fn without_managed(object: &Value) -> Value {
    let mut copy = object.clone();
    if let Some(meta) = copy.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }
    copy
}

fn updater(r: &Resource, subresource: Option<&str>) -> Updater<'static> {
    let version = r.api_version();
    match subresource {
        Some("status") => Updater::default().with_ignored(
            version,
            Filter::Exclude(paths(&[&["spec"], &["metadata", "labels"]])),
        ),
        _ if r.status_subresource => {
            Updater::default().with_ignored(version, Filter::Exclude(paths(&[&["status"]])))
        }
        _ => Updater::default(),
    }
}

fn paths(list: &[&[&str]]) -> Set {
    let mut set = Set::new();
    for path in list {
        set.insert(&Path::fields(path.iter().copied()).0);
    }
    set
}

fn bad_object(r: &Resource, what: &str, err: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!(
        "failed to create typed {what} object ({}, Kind={}): {err}",
        r.api_version(),
        r.kind
    ))
}

fn conflict_error(conflicts: &tether_schema::Conflicts) -> ApiError {
    let describe = |manager: &str, api_version: &str| {
        let id = parse_identity(manager);
        let mut s = format!("{:?}", id.manager);
        if let Some(sub) = &id.subresource {
            s = format!("{s} with subresource {sub:?}");
        }
        if id.operation == "Update" {
            s = format!("{s} using {api_version}");
        }
        s
    };
    let causes: Vec<Cause> = conflicts
        .0
        .iter()
        .map(|c| {
            Cause::new(
                "FieldManagerConflict",
                c.path.to_string(),
                format!("conflict with {}", describe(&c.manager, &c.api_version)),
            )
        })
        .collect();
    let message = if let [one] = conflicts.0.as_slice() {
        format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            describe(&one.manager, &one.api_version),
            one.path
        )
    } else {
        let mut lines = vec![];
        let mut last: Option<&str> = None;
        for c in &conflicts.0 {
            if last != Some(c.manager.as_str()) {
                lines.push(format!(
                    "conflicts with {}:",
                    describe(&c.manager, &c.api_version)
                ));
                last = Some(&c.manager);
            }
            lines.push(format!("- {}", c.path));
        }
        format!(
            "Apply failed with {} conflicts: {}",
            conflicts.0.len(),
            lines.join("\n")
        )
    };
    let mut err = ApiError::conflict_because(
        &crate::status::Qualified {
            group: String::new(),
            resource: String::new(),
        },
        "",
        "",
    );
    err.message = message;
    if let Some(details) = err.details.as_mut() {
        details.name.clear();
        details.kind.clear();
        details.group.clear();
        details.causes = causes;
    }
    err
}

fn merge_error(r: &Resource, err: MergeError) -> ApiError {
    match err {
        MergeError::Conflicts(c) => conflict_error(&c),
        other => ApiError::internal(format!("{} {}: {other}", r.api_version(), r.kind)),
    }
}

impl FieldManager {
    pub fn new() -> FieldManager {
        FieldManager {}
    }

    /// Handles fields the request gave twice and fields the resource's schema does not declare,
    /// per `?fieldValidation=`: refused together (Strict), one `Warning` each (Warn), or
    /// dropped silently (Ignore; a repeated field keeps its last value, as Go's decoder does).
    pub fn check_fields(
        &self,
        r: &Resource,
        value: &mut Value,
        opts: &WriteOptions,
    ) -> Result<(), ApiError> {
        self.check_unknown_and_duplicates(
            r,
            value,
            opts.field_validation,
            &opts.duplicate_fields,
            &opts.warnings,
        )
    }

    fn check_unknown_and_duplicates(
        &self,
        r: &Resource,
        value: &mut Value,
        mode: FieldValidation,
        duplicates: &[String],
        warnings: &Warnings,
    ) -> Result<(), ApiError> {
        let (schema, ty) = type_of(r);
        let describe = |p: &Path| format!("unknown field {:?}", p.to_kube_string());
        let repeated = || duplicates.iter().map(|p| format!("duplicate field {p:?}"));
        match mode {
            FieldValidation::Strict => {
                let unknown = unknown_fields(schema, ty, value);
                if !unknown.is_empty() || !duplicates.is_empty() {
                    let list: Vec<String> =
                        repeated().chain(unknown.iter().map(describe)).collect();
                    return Err(ApiError::bad_request(format!(
                        "{} in version \"{}\" cannot be handled as a {}: strict decoding error: {}",
                        r.kind,
                        r.api_version(),
                        r.kind,
                        list.join(", ")
                    )));
                }
            }
            FieldValidation::Warn => {
                for said in repeated() {
                    warnings.push(said);
                }
                for path in prune_unknown_fields(schema, ty, value) {
                    warnings.push(describe(&path));
                }
            }
            FieldValidation::Ignore => {
                prune_unknown_fields(schema, ty, value);
            }
        }
        Ok(())
    }

    /// Records a non-apply write by `manager` in `new`'s managed fields: managed fields the
    /// client sent are honoured (it may edit them), otherwise the live ones carry on.
    pub fn update(
        &self,
        r: &Resource,
        subresource: Option<&str>,
        old: Option<&Value>,
        new: &mut Value,
        manager: &str,
    ) -> Result<(), ApiError> {
        let (schema, ty) = type_of(r);
        let sent = new
            .pointer("/metadata/managedFields")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty());
        let mut decoded = match (sent && subresource.is_none()).then(|| decode(Some(new))) {
            Some(Ok(d)) => d,
            Some(Err(e)) => {
                return Err(ApiError::invalid(
                    &r.group,
                    &r.kind,
                    object::name(new),
                    vec![Cause::new(
                        "FieldValueInvalid",
                        "metadata.managedFields",
                        format!("Invalid value: {e}"),
                    )],
                ));
            }
            // Live managed fields that no longer decode are dropped, as upstream resets them.
            None => decode(old).unwrap_or(Decoded {
                managers: ManagedFields::new(),
                times: Default::default(),
            }),
        };
        let live_value = old.map(without_managed).unwrap_or(Value::Null);
        let new_value = without_managed(new);
        let lenient = ValidationOptions {
            allow_duplicates: true,
        };
        let live = TypedValue::new(schema, ty, live_value);
        let typed_new = match TypedValue::validated(schema, ty, new_value, lenient) {
            Ok(typed) => typed,
            // Upstream's UpdateNoErrors drops the managed fields of a custom resource that does
            // not type-check, so schema validation answers with a 422 naming the field.
            Err(_) if !r.origin.is_builtin() => {
                object::set_meta(new, "managedFields", Value::Null);
                return Ok(());
            }
            Err(e) => return Err(bad_object(r, "", e)),
        };
        let key = identity(manager, "Update", &r.api_version(), subresource);
        let before = decoded.managers.get(&key).map(|v| v.set.clone());
        let mut managers = updater(r, subresource)
            .update(&live, &typed_new, &r.api_version(), decoded.managers, &key)
            .map_err(|e| merge_error(r, e))?;
        strip_kube_server_fields(&mut managers, &key);
        if managers.get(&key).map(|v| &v.set) != before.as_ref() {
            decoded.times.insert(key, Value::String(object::now()));
        }
        cap_updaters(&mut managers, &mut decoded.times);
        object::set_meta(new, "managedFields", encode(&managers, &decoded.times));
        if managers.is_empty() {
            object::set_meta(new, "managedFields", Value::Null);
        }
        Ok(())
    }

    /// Merges an applied configuration into `live` (or into nothing) on behalf of `manager`.
    /// Non-forced changes to fields other managers own are a 409 listing every conflict.
    pub fn apply(
        &self,
        r: &Resource,
        subresource: Option<&str>,
        live: Option<&Value>,
        config: &Value,
        manager: &str,
        force: bool,
    ) -> Result<Value, ApiError> {
        let (schema, ty) = type_of(r);
        if config
            .pointer("/metadata/managedFields")
            .is_some_and(|m| !m.is_null())
        {
            return Err(ApiError::bad_request("metadata.managedFields must be nil"));
        }
        let mut decoded = decode(live).unwrap_or(Decoded {
            managers: ManagedFields::new(),
            times: Default::default(),
        });
        let live_value = live.map(without_managed).unwrap_or(Value::Null);
        let typed_live = TypedValue::new(schema, ty, live_value);
        let typed_config =
            TypedValue::validated(schema, ty, config.clone(), ValidationOptions::default())
                .map_err(|e| bad_object(r, "patch", e))?;
        let key = identity(manager, "Apply", &r.api_version(), subresource);
        let before = decoded.managers.get(&key).map(|v| v.set.clone());
        let (mut merged, mut managers) = updater(r, subresource)
            .apply(
                &typed_live,
                &typed_config,
                &r.api_version(),
                decoded.managers,
                &key,
                force,
            )
            .map_err(|e| merge_error(r, e))?;
        strip_kube_server_fields(&mut managers, &key);
        if managers.get(&key).map(|v| &v.set) != before.as_ref() {
            decoded.times.insert(key, Value::String(object::now()));
        }
        cap_updaters(&mut managers, &mut decoded.times);
        if !merged.is_object() {
            merged = json!({});
        }
        object::set_meta(
            &mut merged,
            "managedFields",
            encode(&managers, &decoded.times),
        );
        if managers.is_empty() {
            object::set_meta(&mut merged, "managedFields", Value::Null);
        }
        Ok(merged)
    }
}

/// Applies a strategic merge patch to a built-in object, with the merge keys and strategies of
/// the OpenAPI document. Custom resources have no patch strategies, so they refuse it with 415,
/// as kube-apiserver does.
pub fn strategic_merge(r: &Resource, object: Value, patch: &Value) -> Result<Value, ApiError> {
    use tether_schema::{SchemaPatchMeta, SmpErrorKind};
    if !r.origin.is_builtin() {
        return Err(ApiError::unsupported_media_type(
            crate::http::negotiate::CUSTOM_PATCH_TYPES,
        ));
    }
    let (schema, ty) = type_of(r);
    let meta = SchemaPatchMeta::new(schema, ty);
    let name = object::name(&object).to_owned();
    tether_schema::strategic_merge_patch(object, patch.clone(), &meta).map_err(|err| {
        match err.kind {
            // kube-apiserver's interpretStrategicMergePatchError: malformed patches are 400, patches
            // that cannot apply to this object are 422.
            SmpErrorKind::BadJsonDoc
            | SmpErrorKind::BadPatchFormatForPrimitiveList
            | SmpErrorKind::BadPatchFormatForRetainKeys
            | SmpErrorKind::BadPatchFormatForSetElementOrderList
            | SmpErrorKind::BadDirectiveValue
            | SmpErrorKind::BadPatchType { .. } => ApiError::bad_request(err.to_string()),
            _ => {
                let mut e = ApiError::invalid(&r.group, &r.kind, &name, vec![]);
                e.message = err.to_string();
                e.details = None;
                e
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;

    fn deployments() -> Arc<Resource> {
        Registry::with_builtins()
            .get("apps", "v1", "deployments")
            .unwrap()
    }

    fn deployment(replicas: i64, image: &str) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "web", "namespace": "demo"},
               "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                        "template": {"metadata": {"labels": {"app": "web"}},
                                     "spec": {"containers": [{"name": "web", "image": image}]}}}})
    }

    #[test]
    fn apply_records_an_apply_entry() {
        let fm = FieldManager::new();
        let out = fm
            .apply(
                &deployments(),
                None,
                None,
                &deployment(2, "web:1"),
                "kubectl",
                false,
            )
            .unwrap();
        let entries = out["metadata"]["managedFields"].as_array().unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0]["manager"], "kubectl");
        assert_eq!(entries[0]["operation"], "Apply");
        assert_eq!(entries[0]["apiVersion"], "apps/v1");
        assert!(entries[0]["fieldsV1"]["f:spec"]["f:replicas"].is_object());
        // stripMeta: name and namespace are the server's, so nothing of metadata is owned.
        assert!(entries[0]["fieldsV1"].get("f:metadata").is_none());
    }

    #[test]
    fn conflicting_apply_is_409_with_causes() {
        let fm = FieldManager::new();
        let r = deployments();
        let live = fm
            .apply(&r, None, None, &deployment(2, "web:1"), "kubectl", false)
            .unwrap();
        let err = fm
            .apply(
                &r,
                None,
                Some(&live),
                &deployment(5, "web:1"),
                "other",
                false,
            )
            .unwrap_err();
        assert_eq!(err.code, 409);
        assert_eq!(
            err.message,
            "Apply failed with 1 conflict: conflict with \"kubectl\": .spec.replicas"
        );
        let causes = &err.details.as_ref().unwrap().causes;
        assert_eq!(causes[0].reason, "FieldManagerConflict");
        assert_eq!(causes[0].field, ".spec.replicas");
        let forced = fm
            .apply(
                &r,
                None,
                Some(&live),
                &deployment(5, "web:1"),
                "other",
                true,
            )
            .unwrap();
        assert_eq!(forced["spec"]["replicas"], 5);
    }

    #[test]
    fn update_conflicts_name_the_version() {
        let fm = FieldManager::new();
        let r = deployments();
        let mut created = deployment(2, "web:1");
        fm.update(&r, None, None, &mut created, "kubectl-create")
            .unwrap();
        let err = fm
            .apply(
                &r,
                None,
                Some(&created),
                &deployment(3, "web:1"),
                "kubectl",
                false,
            )
            .unwrap_err();
        assert!(
            err.message
                .contains("conflict with \"kubectl-create\" using apps/v1"),
            "{}",
            err.message
        );
    }

    #[test]
    fn strict_validation_names_unknown_fields() {
        let fm = FieldManager::new();
        let mut d = deployment(1, "x");
        d["spec"]["bogus"] = json!(1);
        let warnings = Warnings::default();
        let err = fm
            .check_unknown_and_duplicates(
                &deployments(),
                &mut d.clone(),
                FieldValidation::Strict,
                &[],
                &warnings,
            )
            .unwrap_err();
        assert!(
            err.message.contains("unknown field \"spec.bogus\""),
            "{}",
            err.message
        );
        fm.check_unknown_and_duplicates(
            &deployments(),
            &mut d,
            FieldValidation::Warn,
            &[],
            &warnings,
        )
        .unwrap();
        assert!(d["spec"].get("bogus").is_none());
        assert_eq!(warnings.take(), ["unknown field \"spec.bogus\""]);
    }

    #[test]
    fn duplicates_come_first_and_follow_the_mode() {
        let fm = FieldManager::new();
        let mut d = deployment(1, "x");
        d["spec"]["bogus"] = json!(1);
        let dups = ["spec.replicas".to_owned()];
        let warnings = Warnings::default();
        let err = fm
            .check_unknown_and_duplicates(
                &deployments(),
                &mut d.clone(),
                FieldValidation::Strict,
                &dups,
                &warnings,
            )
            .unwrap_err();
        assert!(
            err.message.ends_with(
                "strict decoding error: duplicate field \"spec.replicas\", unknown field \"spec.bogus\""
            ),
            "{}",
            err.message
        );
        fm.check_unknown_and_duplicates(
            &deployments(),
            &mut d.clone(),
            FieldValidation::Warn,
            &dups,
            &warnings,
        )
        .unwrap();
        assert_eq!(
            warnings.take(),
            [
                "duplicate field \"spec.replicas\"",
                "unknown field \"spec.bogus\""
            ]
        );
        fm.check_unknown_and_duplicates(
            &deployments(),
            &mut d,
            FieldValidation::Ignore,
            &dups,
            &warnings,
        )
        .unwrap();
        assert!(warnings.take().is_empty());
        assert!(d["spec"].get("bogus").is_none());
    }
}
