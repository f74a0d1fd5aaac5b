//! The few requests the engine makes, on raw JSON so managed fields and timestamps go back to the
//! server exactly as they came.

use kube::Client;
use kube::api::{DeleteParams, GetParams, Patch, PatchParams, PropagationPolicy};
use serde_json::Value;

use crate::discovery::Resolved;
use crate::error::ApiFailure;
use crate::object::ObjectRef;

fn request(resolved: &Resolved, object: &ObjectRef) -> kube::core::Request {
    kube::core::Request::new(resolved.url_path(&object.namespace))
}

fn build_failure(e: kube::core::request::Error) -> ApiFailure {
    ApiFailure {
        code: 0,
        reason: String::new(),
        message: format!("cannot build the request: {e}"),
    }
}

async fn send(client: &Client, req: http::Request<Vec<u8>>) -> Result<Value, ApiFailure> {
    client
        .request::<Value>(req)
        .await
        .map_err(|e| ApiFailure::from_kube(&e))
}

/// The live object, `None` when it does not exist.
pub async fn get(
    client: &Client,
    resolved: &Resolved,
    object: &ObjectRef,
) -> Result<Option<Value>, ApiFailure> {
    let req = request(resolved, object)
        .get(&object.name, &GetParams::default())
        .map_err(build_failure)?;
    match send(client, req).await {
        Ok(v) => Ok(Some(v)),
        Err(f) if f.is_not_found() => Ok(None),
        Err(f) => Err(f),
    }
}

/// Server-side apply of `body` with `manager`, forcing conflicts.
pub async fn apply(
    client: &Client,
    resolved: &Resolved,
    object: &ObjectRef,
    body: &Value,
    manager: &str,
    dry_run: bool,
) -> Result<Value, ApiFailure> {
    let mut params = PatchParams::apply(manager).force();
    params.dry_run = dry_run;
    let req = request(resolved, object)
        .patch(&object.name, &params, &Patch::Apply(body))
        .map_err(build_failure)?;
    send(client, req).await
}

/// An RFC 6902 patch, recorded for `manager`.
pub async fn json_patch(
    client: &Client,
    resolved: &Resolved,
    object: &ObjectRef,
    patch: json_patch::Patch,
    manager: &str,
) -> Result<Value, ApiFailure> {
    let params = PatchParams {
        field_manager: Some(manager.to_owned()),
        ..PatchParams::default()
    };
    let req = request(resolved, object)
        .patch(&object.name, &params, &Patch::<Value>::Json(patch))
        .map_err(build_failure)?;
    send(client, req).await
}

/// Deletes the object; `false` when it was already gone.
pub async fn delete(
    client: &Client,
    resolved: &Resolved,
    object: &ObjectRef,
    propagation: PropagationPolicy,
) -> Result<bool, ApiFailure> {
    let params = DeleteParams {
        propagation_policy: Some(propagation),
        ..DeleteParams::default()
    };
    let req = request(resolved, object)
        .delete(&object.name, &params)
        .map_err(build_failure)?;
    match send(client, req).await {
        Ok(_) => Ok(true),
        Err(f) if f.is_not_found() => Ok(false),
        Err(f) => Err(f),
    }
}
