//! kustomize's two patch engines, as standalone functions on `serde_json::Value` resources.
//!
//! - [`apply_strategic_merge`] / [`apply_strategic_merge_resource`]: strategic merge patches
//!   (`patches:` and `patchesStrategicMerge:` entries that are not JSON 6902), the way kustomize
//!   v5.6.0 applies them: kyaml's `merge2` walker (kyaml v0.19.0), whose rules differ from
//!   apimachinery's `strategicpatch` (list order, directives, lists of kinds without schema).
//!   The rules are listed in the `smp` module; every one was checked against
//!   `kubectl.1.33 kustomize`.
//! - [`apply_json6902`]: JSON 6902 operation lists, with `evanphx/json-patch` v4 semantics
//!   (negative indices, `replace` that adds, ...; see the `json6902` module).
//!
//! # How the patch transformer uses them
//!
//! 1. Pick the [`PatchSchema`]: [`PatchSchema::Builtin`], or, when the kustomization has
//!    `openapi: path:`, [`PatchSchema::Custom`] with that document
//!    ([`OpenApiSchema::from_document`]); the custom document *replaces* the built-in kinds.
//!    The schema of each resource is then found by its `apiVersion`/`kind`; the caller does not
//!    pick per resource.
//! 2. Strategic merge: for each document of the patch and each resource it applies to, call
//!    [`apply_strategic_merge_resource`] with [`SmpOptions`]: `targeted` when the `patches:`
//!    entry has a `target:` (else the patch's own kind, apiVersion and name pick the resource),
//!    and the entry's `allowNameChange`/`allowKindChange`. On [`SmpOutcome::Deleted`] drop the
//!    resource. The function keeps the resource's namespace (and name and kind unless allowed),
//!    as kustomize does.
//! 3. JSON 6902: parse the patch text (JSON when it starts with `[`, else YAML; kustomize reads
//!    that YAML with YAML 1.1 rules, so `value: y` is `true`) and call [`apply_json6902`] on each
//!    selected resource.
//!
//! The loader has a part in the results too: kustomize turns every `metadata.annotations` value
//! of what it reads (resources and patches) into a string and drops empty annotations.
//!
//! # Guarantees and caveats
//!
//! - Nothing here panics on input; errors name the field path or the operation at fault, with
//!   kustomize's wording.
//! - Strategic merge walks the whole resource (as kyaml does) but clones only what the patch
//!   adds: merging a patch into a Deployment costs less than cloning the Deployment.
//! - kyaml compares merge keys by the YAML text of scalars and keeps a resource's `key: null`
//!   but drops `key:` (empty); a `Value` has neither the text nor the difference, so `1.0`
//!   compares as written by serde (`1.0`) and every resource null is kept.
//! - Built-in patch metadata comes from the Kubernetes 1.36 document, restricted to the kinds of
//!   kyaml's 1.21.2 document and without the merge fields added since (kyaml has no schema for
//!   those, so their lists are replaced).
//! - When a patch has several errors, the first in the patch's field order is reported; kyaml
//!   reports the first in sorted field order.

mod error;
mod json6902;
mod schema;
mod smp;

pub use error::{NodeKind, PatchError};
pub use json6902::apply_json6902;
pub use schema::{OpenApiSchema, OpenApiSchemaError, PatchSchema};
pub use smp::{SmpOptions, SmpOutcome, apply_strategic_merge, apply_strategic_merge_resource};
