//! Kubernetes schema knowledge for tether, generated once from the Kubernetes OpenAPI document
//! (`shared/kubernetes/swagger-1.36.json`), and the server-side apply engine it drives: a Rust
//! implementation of sigs.k8s.io/structured-merge-diff ("smd"), as kube-apiserver uses it.
//!
//! # What lives here
//!
//! - [`builtin_resources`]: every built-in resource the API server serves (group, version,
//!   plural, kind, scope, verbs, subresources, short names, categories), generated from the
//!   document's paths into `src/generated/resources.json`.
//! - The **schema model** ([`Schema`], [`TypeId`], [`Atom`]): smd's named types of scalars,
//!   lists (atomic or associative, with keys) and maps (separable or atomic, with declared
//!   fields and an element type), plus smd's untyped and deduced types. [`SchemaDef`] is the
//!   serialized form (smd's YAML schema format), compiled with [`Schema::compile`]. Fields keep
//!   `x-kubernetes-patch-strategy`/`x-kubernetes-patch-merge-key` for strategic merge patch.
//! - The **built-in types** ([`builtin_schema`], [`type_for_gvk`]): converted from the OpenAPI
//!   definitions by [`openapi`] (kube-openapi's `schemaconv` rules) into
//!   `src/generated/types.json`, loaded on first use.
//! - **Custom resources** ([`crd_version_schema`], [`openapi_v3_schema`]): a CRD version's
//!   structural schema converted at runtime, `metadata` typed as the built-in ObjectMeta.
//! - **Field paths and sets** ([`PathElement`], [`Path`], [`Set`]) with smd's order and string
//!   form (`.spec.containers[name="nginx"].image`) and the FieldsV1 codec
//!   ([`Set::to_fields_v1_json`], [`Set::from_fields_v1`]), byte-identical to kube-apiserver.
//! - **Typed values** ([`TypedValue`]): validation, field sets, merge, comparison, and the
//!   unknown-field checks of `fieldValidation` ([`unknown_fields`], [`prune_unknown_fields`]).
//! - **Server-side apply** ([`Updater`]): ownership by managers ([`ManagedFields`]), conflicts,
//!   and the removal of fields an applier stopped applying.
//! - **Strategic merge patch** ([`strategic_merge_patch`], [`create_two_way_merge_patch`],
//!   [`create_three_way_merge_patch`]): apimachinery's `strategicpatch` with every directive
//!   (listed on [`strategic_merge_patch`]), driven by a [`LookupPatchMeta`] handle on the
//!   built-in types ([`SchemaPatchMeta`]), an OpenAPI v2/v3 document ([`OpenApiV2Schemas`],
//!   [`OpenApiV3Schemas`]), Go struct tags ([`GoStructSchemas`]) or no schema
//!   ([`JsonMergePatchMeta`], JSON merge patch semantics), or any of them chosen at run time
//!   ([`AnyPatchMeta`]). Results, list orders and error
//!   messages are upstream's: every case of `shared/conformance/smp` (178, each under three
//!   schemas) passes (`tests/smp_conformance.rs`).
//!
//! # An apply, step by step
//!
//! 1. Find the object's type: [`type_for_gvk`] for built-in kinds (in [`builtin_schema`]), or
//!    the [`ObjectSchema`] of a CRD version.
//! 2. Decode each managedFields entry's `fieldsV1` with [`Set::from_fields_v1`] into a
//!    [`ManagedFields`] map (manager → [`VersionedSet`]); kube-apiserver keys managers by
//!    manager name, operation and subresource.
//! 3. Type the live object and the configuration with [`TypedValue::validated`]: the live one
//!    with [`ValidationOptions::allow_duplicates`], the configuration strictly. For
//!    `fieldValidation`, first run [`unknown_fields`] (`Strict`) or [`prune_unknown_fields`]
//!    (`Warn`, `Ignore`) on the configuration. A create starts from a live `null`.
//! 4. [`Updater::apply`] (or [`Updater::update`] for a write that is not an apply) with the
//!    request's manager and API version. Configure ignored fields per version with
//!    [`Updater::with_ignored`]: `status` on the main resource, and everything but `status` on
//!    the `/status` subresource.
//! 5. Drop the fields the server owns from the writer's set with [`strip_kube_server_fields`].
//!    On [`MergeError::Conflicts`], answer 409 with the conflicts (each names the manager, its
//!    API version and the path). Otherwise store the returned object and encode each manager's
//!    set with [`Set::to_fields_v1_json`].
//!
//! # Guarantees
//!
//! - Every case of smd's merge test-suite (`shared/conformance/smd`, 319 cases) passes with the
//!   same objects and managed fields as smd (`tests/smd_conformance.rs`).
//! - A non-forced apply that conflicts changes nothing; no manager is left with an empty set.
//! - FieldsV1 encoding is deterministic and byte-identical to kube-apiserver's (element order,
//!   `.` markers, Go's JSON escaping and number forms); decoding reports malformed input with
//!   the path where it occurred and skips unknown element kinds as smd does.
//! - Nothing panics on input: errors are values naming the path at fault.
//! - The generated files are committed so a build needs nothing outside the crate; tests
//!   regenerate them from the OpenAPI document and fail when they are stale
//!   (`TETHER_BLESS=1 cargo test -p tether-schema` rewrites them).
//!
//! # Example
//!
//! ```
//! use serde_json::json;
//! use tether_schema::{
//!     builtin_schema, strip_kube_server_fields, type_for_gvk, ManagedFields, MergeError,
//!     TypedValue, Updater, ValidationOptions,
//! };
//!
//! let schema = builtin_schema();
//! let ty = type_for_gvk("apps", "v1", "Deployment").unwrap();
//! let config = |replicas: u32, image: &str| json!({
//!     "apiVersion": "apps/v1", "kind": "Deployment",
//!     "metadata": {"name": "web"},
//!     "spec": {"replicas": replicas, "template": {"spec": {
//!         "containers": [{"name": "web", "image": image}]}}}
//! });
//! let strict = ValidationOptions::default();
//! let updater = Updater::default();
//!
//! // kubectl creates the Deployment with server-side apply.
//! let live = TypedValue::new(schema, ty, serde_json::Value::Null);
//! let applied = TypedValue::validated(schema, ty, config(3, "web:1"), strict)?;
//! let (object, mut managers) =
//!     updater.apply(&live, &applied, "apps/v1", ManagedFields::new(), "kubectl", false)?;
//! strip_kube_server_fields(&mut managers, "kubectl");
//! assert_eq!(
//!     managers["kubectl"].set.to_fields_v1_json(),
//!     r#"{"f:spec":{"f:replicas":{},"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:name":{}}}}}}}"#
//! );
//!
//! // Another manager changing the replicas without force conflicts, and changes nothing.
//! let live = TypedValue::new(schema, ty, object);
//! let scale = TypedValue::validated(schema, ty, config(5, "web:1"), strict)?;
//! match updater.apply(&live, &scale, "apps/v1", managers.clone(), "autoscaler", false) {
//!     Err(MergeError::Conflicts(c)) => {
//!         assert_eq!(c.to_string(), r#"conflict with "kubectl": .spec.replicas"#)
//!     }
//!     other => panic!("expected a conflict, got {other:?}"),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod builtin;
mod crd;
mod fieldpath;
mod merge;
pub mod openapi;
mod resources;
mod schema;
mod strategic;
mod typed;
mod value;

pub use builtin::{OBJECT_META, builtin_schema, type_for_gvk};
pub use crd::{CRD_ROOT, CrdSchemaError, ObjectSchema, crd_version_schema, openapi_v3_schema};
pub use fieldpath::{
    FieldsV1Error, Path, PathElement, Set, deserialize_path_element, serialize_path_element,
};
pub use merge::{
    Conflict, Conflicts, ConversionError, Converter, Filter, IdentityConverter, ManagedFields,
    MergeError, Updater, VersionedSet, ensure_named_fields_are_members, kube_server_fields,
    strip_kube_server_fields,
};
pub use resources::{BuiltinResource, Subresource, builtin_resources};
pub use schema::{
    Atom, AtomDef, ElementRelationship, FieldDef, ListDef, ListType, MapDef, MapType, Scalar,
    Schema, SchemaDef, SchemaError, StructField, TypeDef, TypeId, TypeRefDef, UNTYPED_ATOMIC,
    UNTYPED_DEDUCED,
};
pub use strategic::{
    AnyPatchMeta, GoStructError, GoStructPatchMeta, GoStructSchemas, JsonMergePatchMeta,
    LookupError, LookupPatchMeta, OpenApiDocumentError, OpenApiV2PatchMeta, OpenApiV2Schemas,
    OpenApiV3PatchMeta, OpenApiV3Schemas, PatchMeta, SchemaPatchMeta, SmpError, SmpErrorKind,
    create_three_way_merge_patch, create_two_way_merge_patch, merging_maps_have_conflicts,
    sort_merge_lists, strategic_merge_patch, strategic_merge_patch_json,
};
pub use typed::{
    Comparison, TypedValue, ValidationError, ValidationErrors, ValidationOptions,
    prune_unknown_fields, reconcile_field_set_with_schema, unknown_fields,
};
/// Go's `json.Marshal` of a decoded value (sorted keys, HTML-safe escaping, Go's number forms),
/// for anything hashed or compared the way Go tools do.
pub use value::write_go_json;
