//! kustomize's two patch engines, as standalone functions on `serde_json::Value` resources.
//!
//! - [`apply_strategic_merge`] / [`apply_strategic_merge_resource`]: strategic merge patches
//!   (`patches:` and `patchesStrategicMerge:` entries that are not JSON 6902), the way kustomize
//!   v5.6.0 applies them, with kyaml's `merge2` walker, whose rules differ from apimachinery's
//!   (see [`smp`](self::apply_strategic_merge) and the notes there).
//! - [`apply_json6902`]: JSON 6902 operation lists, with `evanphx/json-patch` v4 semantics.
//!
//! # How the patch transformer uses them
//!
//! 1. Pick the [`PatchSchema`]: [`PatchSchema::Builtin`], or, when the kustomization has
//!    `openapi: path:`, [`PatchSchema::Custom`] with that document
//!    ([`OpenApiSchema::from_document`]); the custom document *replaces* the built-in kinds.
//! 2. Strategic merge: for each selected resource call [`apply_strategic_merge_resource`] with
//!    the patch's `allowNameChange`/`allowKindChange` options. On [`SmpOutcome::Deleted`] drop
//!    the resource. The function keeps the resource's `apiVersion` and namespace (and name and
//!    kind unless allowed), as kustomize does; restore kustomize's internal annotations yourself
//!    if you keep any in `metadata.annotations`.
//! 3. JSON 6902: parse the patch text (YAML unless it starts with `[`; note that kustomize reads
//!    YAML patches with YAML 1.1 rules, so `value: y` is `true`) and call [`apply_json6902`] on
//!    each selected resource.
//!
//! Nothing here panics on input; errors name the field path or the operation at fault.

mod error;
mod json6902;
mod schema;
mod smp;

pub use error::{NodeKind, PatchError};
pub use json6902::apply_json6902;
pub use schema::{OpenApiSchema, OpenApiSchemaError, PatchSchema};
pub use smp::{SmpOptions, SmpOutcome, apply_strategic_merge, apply_strategic_merge_resource};
