//! Managed fields (server-side apply) and strategic merge patch, on top of `tether-schema`.
//!
//! INTERIM: the structured-merge engine is being built in `tether-schema`; until it lands,
//! updates keep the live `managedFields` and apply is refused with 500 naming the gap. This
//! module is the only place that changes when it does.

use serde_json::Value;

use crate::object;
use crate::registry::Resource;
use crate::status::ApiError;

#[derive(Debug, Clone, Default)]
pub struct FieldManager {}

impl FieldManager {
    pub fn new() -> FieldManager {
        FieldManager {}
    }

    /// Records a non-apply write by `manager` in `new`'s managed fields.
    pub fn update(
        &self,
        _r: &Resource,
        _subresource: Option<&str>,
        old: Option<&Value>,
        new: &mut Value,
        _manager: &str,
    ) -> Result<(), ApiError> {
        let managed = old
            .and_then(|o| object::meta(o))
            .and_then(|m| m.get("managedFields"))
            .cloned();
        object::set_meta(new, "managedFields", managed.unwrap_or(Value::Null));
        Ok(())
    }

    /// Merges an applied configuration into `live` (or into nothing) on behalf of `manager`.
    pub fn apply(
        &self,
        _r: &Resource,
        _subresource: Option<&str>,
        _live: Option<&Value>,
        _config: &Value,
        _manager: &str,
        _force: bool,
    ) -> Result<Value, ApiError> {
        Err(ApiError::internal("server-side apply is not available yet"))
    }
}

/// Applies a strategic merge patch.
pub fn strategic_merge(r: &Resource, _object: Value, _patch: &Value) -> Result<Value, ApiError> {
    Err(ApiError::unsupported_media_type(
        "application/strategic-merge-patch+json",
        if r.origin == crate::registry::Origin::Builtin {
            crate::http::negotiate::PATCH_TYPES
        } else {
            &crate::http::negotiate::PATCH_TYPES[..2]
        },
    ))
}
