//! Strategic merge patch (SMP): apply, two-way and three-way creation, with every directive,
//! behaving like k8s.io/apimachinery/pkg/util/strategicpatch (same results, same list orders,
//! same error messages, prefixed by the path of the field at fault).
//!
//! # Patch metadata
//!
//! How a field merges comes from a [`LookupPatchMeta`] handle:
//!
//! - [`SchemaPatchMeta`]: a compiled [`Schema`](crate::Schema) type, usually a built-in kind
//!   (`SchemaPatchMeta::for_gvk("apps", "v1", "Deployment")`); the fields keep
//!   `x-kubernetes-patch-strategy` and `x-kubernetes-patch-merge-key`.
//! - [`OpenApiV2Schemas`] / [`OpenApiV3Schemas`]: a custom OpenAPI document (kustomize's
//!   `openapi:` field), by definition name or by `x-kubernetes-group-version-kind`.
//! - [`GoStructSchemas`]: Go struct tags, as in apimachinery's own tests.
//! - [`JsonMergePatchMeta`]: no schema; lists are replaced, maps merged, `null` deletes (JSON
//!   merge patch), the fallback for kinds nobody describes.
//! - [`AnyPatchMeta`]: any of these, chosen at run time.
//!
//! The directives are listed on [`strategic_merge_patch`].
//!
//! # Steps
//!
//! 1. [`strategic_merge_patch`] (or [`strategic_merge_patch_json`] on request bytes) applies a
//!    patch to an object: what the API server does for
//!    `application/strategic-merge-patch+json`.
//! 2. [`create_two_way_merge_patch`] diffs two objects into a patch that turns the first into
//!    the second (`kubectl edit`).
//! 3. [`create_three_way_merge_patch`] is client-side apply: the changes from `current` to
//!    `modified` without deletions, plus the deletions from `original` (last applied) to
//!    `modified`; without `overwrite` it fails with a conflict ([`SmpError::is_conflict`])
//!    when the patch would change a field that `current` changed since `original`.
//!
//! # Guarantees and caveats
//!
//! - Every case of apimachinery's `patch_test.go` (`shared/conformance/smp`) passes under the
//!   Go struct, OpenAPI v2 and OpenAPI v3 metadata (`tests/smp_conformance.rs`).
//! - Nothing panics on input; inputs that are not JSON objects fail with
//!   `invalid JSON document`.
//! - Go's map iteration is random; where upstream's result would depend on it (a value both
//!   added and deleted by one patch) this implementation follows the patch's key order.
//! - Upstream sorts merging lists with Go's unstable `sort.Sort`; ties between equal merge keys
//!   are reproduced for lists of up to 12 items, longer lists keep ties in input order.
//! - Upstream merges lists in place, and when a list has a `$setElementOrder` the live order
//!   it sorts by afterwards is the merged-over array (deleted items shifted out, added ones
//!   written into spare capacity). This is reproduced for arrays as Go's JSON decoder leaves
//!   them (capacity from `append` growth), which is what upstream's tests and kubectl see.
//! - Conflict messages print the two patches as JSON where upstream prints YAML.
//! - [`SchemaPatchMeta`] merges untyped content (`RawExtension`, preserve-unknown-fields) like
//!   JSON merge patch, where apimachinery's Go structs reject nested maps there.

mod any;
mod apply;
mod conflict;
mod diff;
mod error;
mod go_struct;
mod gofmt;
mod list;
mod merge_list;
mod meta;
mod openapi;
mod sort;

use serde_json::{Map, Value};

pub use any::AnyPatchMeta;
pub use error::{SmpError, SmpErrorKind};
pub use go_struct::{GoStructError, GoStructPatchMeta, GoStructSchemas};
pub use meta::{JsonMergePatchMeta, LookupError, LookupPatchMeta, PatchMeta, SchemaPatchMeta};
pub use openapi::{
    OpenApiDocumentError, OpenApiV2PatchMeta, OpenApiV2Schemas, OpenApiV3PatchMeta,
    OpenApiV3Schemas,
};

use apply::{APPLY, MergeOptions, merge_map};
use diff::{DiffOptions, diff_maps};
use error::Loc;

fn object(v: Value) -> Result<Map<String, Value>, SmpError> {
    match v {
        Value::Null => Ok(Map::new()),
        Value::Object(m) => Ok(m),
        _ => Err(Loc::ROOT.err(SmpErrorKind::BadJsonDoc)),
    }
}

fn object_ref(v: &Value) -> Result<&Map<String, Value>, SmpError> {
    static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);
    match v {
        Value::Null => Ok(&EMPTY),
        Value::Object(m) => Ok(m),
        _ => Err(Loc::ROOT.err(SmpErrorKind::BadJsonDoc)),
    }
}

/// Applies `patch` to `original` (`StrategicMergePatch`). Both must be JSON objects (`null`
/// counts as `{}`).
///
/// Maps merge recursively. Lists of maps with the `merge` strategy merge item by item by
/// merge key, lists of primitives with it merge as sets, other lists are replaced. The
/// directives:
///
/// | in a patch | effect |
/// | --- | --- |
/// | `field: null` | deletes `field` |
/// | `$patch: replace` in a map | the map replaces the original instead of merging |
/// | `$patch: delete` in a map | the map becomes empty |
/// | `$patch: delete` in an item of a merging list | removes the items with its merge key |
/// | `$patch: replace` as an item of a merging list | the other items replace the list |
/// | `$retainKeys: [..]` | keys of the original map not listed are cleared (`retainKeys` strategy) |
/// | `$deleteFromPrimitiveList/<field>: [..]` | removes those values from the primitive list `field` |
/// | `$setElementOrder/<field>: [..]` | the order of the merged list `field` (`{mergeKey: value}` items, or values) |
///
/// `$patch: merge` is an error, as upstream. Without `$setElementOrder`, items the patch adds
/// to a merging list go before the live ones (upstream's order).
///
/// ```
/// use serde_json::json;
/// use tether_schema::{SchemaPatchMeta, strategic_merge_patch};
///
/// let meta = SchemaPatchMeta::for_gvk("apps", "v1", "Deployment").unwrap();
/// let live = json!({"spec": {"template": {"spec": {"containers": [
///     {"name": "web", "image": "web:1"},
///     {"name": "proxy", "image": "envoy:1"}
/// ]}}}});
/// // kubectl set image deployment/x web=web:2
/// let patch = json!({"spec": {"template": {"spec": {"containers": [
///     {"name": "web", "image": "web:2"}
/// ]}}}});
/// let out = strategic_merge_patch(live, patch, &meta)?;
/// assert_eq!(out["spec"]["template"]["spec"]["containers"], json!([
///     {"name": "web", "image": "web:2"},
///     {"name": "proxy", "image": "envoy:1"}
/// ]));
/// # Ok::<(), tether_schema::SmpError>(())
/// ```
pub fn strategic_merge_patch<M: LookupPatchMeta>(
    original: Value,
    patch: Value,
    meta: &M,
) -> Result<Value, SmpError> {
    let merged = merge_map(object(original)?, object(patch)?, meta, APPLY, &Loc::ROOT)?;
    Ok(Value::Object(merged))
}

/// [`strategic_merge_patch`] on JSON text, as a request body arrives; empty input counts as
/// `{}`.
pub fn strategic_merge_patch_json<M: LookupPatchMeta>(
    original: &[u8],
    patch: &[u8],
    meta: &M,
) -> Result<Vec<u8>, SmpError> {
    let parse = |bytes: &[u8]| -> Result<Value, SmpError> {
        if bytes.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(bytes).map_err(|_| Loc::ROOT.err(SmpErrorKind::BadJsonDoc))
    };
    let merged = strategic_merge_patch(parse(original)?, parse(patch)?, meta)?;
    serde_json::to_vec(&merged).map_err(|_| Loc::ROOT.err(SmpErrorKind::BadJsonDoc))
}

/// The patch that turns `original` into `modified` (`CreateTwoWayMergePatch`), with
/// `$setElementOrder` lists for changed merging lists.
pub fn create_two_way_merge_patch<M: LookupPatchMeta>(
    original: &Value,
    modified: &Value,
    meta: &M,
) -> Result<Value, SmpError> {
    let opts = DiffOptions {
        set_element_order: true,
        ..DiffOptions::default()
    };
    let patch = diff_maps(
        object_ref(original)?,
        object_ref(modified)?,
        meta,
        opts,
        &Loc::ROOT,
    )?;
    Ok(Value::Object(patch))
}

/// Client-side apply's patch (`CreateThreeWayMergePatch`): `original` is the last applied
/// configuration, `modified` the new one, `current` the live object. Fields of `modified`
/// that are explicitly `null` are propagated. Without `overwrite`, a patch that changes a
/// field `current` changed differently fails with [`SmpErrorKind::Conflict`].
pub fn create_three_way_merge_patch<M: LookupPatchMeta>(
    original: &Value,
    modified: &Value,
    current: &Value,
    meta: &M,
    overwrite: bool,
) -> Result<Value, SmpError> {
    let original = object_ref(original)?;
    let modified = object_ref(modified)?;
    let current = object_ref(current)?;
    let root = Loc::ROOT;
    // Changes from current to modified (strictly additive), applied onto the deletions from
    // original to modified.
    let delta = diff_maps(
        current,
        modified,
        meta,
        DiffOptions {
            ignore_deletions: true,
            set_element_order: true,
            ..DiffOptions::default()
        },
        &root,
    )?;
    let deletions = diff_maps(
        original,
        modified,
        meta,
        DiffOptions {
            ignore_changes_and_additions: true,
            set_element_order: true,
            ..DiffOptions::default()
        },
        &root,
    )?;
    let combine = MergeOptions {
        merge_parallel_list: false,
        ignore_unmatched_nulls: false,
    };
    let patch = merge_map(deletions, delta, meta, combine, &root)?;
    if !overwrite {
        let changed = diff_maps(original, current, meta, DiffOptions::default(), &root)?;
        if conflict::maps_have_conflicts(&patch, &changed, meta, &root)? {
            let text = |m: Map<String, Value>| {
                serde_json::to_string_pretty(&Value::Object(m)).unwrap_or_default()
            };
            return Err(root.err(SmpErrorKind::Conflict {
                patch: text(patch),
                changed: text(changed),
            }));
        }
    }
    Ok(Value::Object(patch))
}

/// Whether two patches change some field differently (`MergingMapsHaveConflicts`).
pub fn merging_maps_have_conflicts<M: LookupPatchMeta>(
    left: &Value,
    right: &Value,
    meta: &M,
) -> Result<bool, SmpError> {
    conflict::maps_have_conflicts(object_ref(left)?, object_ref(right)?, meta, &Loc::ROOT)
}

/// `document` with every merging list in canonical order: lists of primitives deduplicated
/// and sorted, lists of maps sorted by the `%v` text of their merge key, `$retainKeys` and
/// `$deleteFromPrimitiveList` values sorted (apimachinery's `sortMergeListsByName`). Two
/// documents that differ only in the order of merging lists compare equal after it.
pub fn sort_merge_lists<M: LookupPatchMeta>(document: &Value, meta: &M) -> Result<Value, SmpError> {
    Ok(Value::Object(sort::sort_map(
        object_ref(document)?,
        meta,
        &Loc::ROOT,
    )?))
}
