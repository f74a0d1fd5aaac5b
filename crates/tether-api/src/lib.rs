//! Rust types and CRD manifests of the Flux APIs tether serves, so that a cluster can move
//! between Flux and tether without re-creating objects.
//!
//! # What is here
//!
//! - [`GitRepository`] (`source.toolkit.fluxcd.io/v1`) and [`Kustomization`]
//!   (`kustomize.toolkit.fluxcd.io/v1`): `kube::CustomResource` types with Flux's fields,
//!   status, short names (`gitrepo`, `ks`), category (`flux`), printer columns and defaults.
//! - [`Receiver`] (`notification.toolkit.fluxcd.io/v1`): Flux's incoming webhook, with
//!   [`webhook_path`] (Flux's `/hook/<sha256>`) and the [`ReceiverType`]s tether validates.
//! - [`crds`] / [`crds_yaml`]: their CustomResourceDefinitions, generated from the types;
//!   `crds/crds.yaml` is the checked-in copy (a test fails when it is stale; regenerate with
//!   `TETHER_BLESS=1 cargo test -p tether-api`).
//! - [`Duration`]: Go durations (`1m0s`, `1h30m`) parsed and printed as `metav1.Duration`.
//! - [`conditions`]: condition types and reasons with Flux's strings, and the helpers that
//!   set them (the one home of those strings).
//! - [`keys`]: owner labels, `reconcile.fluxcd.io/requestedAt`, the `kustomize.toolkit.fluxcd.io/*`
//!   annotations, the finalizer and the field manager.
//! - [`Revision`]: `main@sha1:<40 hex>` revision strings, legacy forms included.
//! - [`InventoryId`]: the `<namespace>_<name>_<group>_<kind>` ids of `status.inventory`.
//!
//! # Guarantees
//!
//! - Field names, JSON shapes and optionality follow Flux's v1 APIs (source-controller and
//!   kustomize-controller, 2.x): an object Flux wrote reads back and re-serializes unchanged
//!   (empty and false optional fields are omitted, as Go's `omitempty` does).
//! - Strings a user or another controller compares (condition types and reasons, label and
//!   annotation keys, revision and inventory id formats) are Flux's exact strings.
//! - Errors (durations, revisions, inventory ids) quote the text at fault.
//!
//! # Caveats
//!
//! - Accepted by the schema but not implemented by the controllers, which refuse them with a
//!   message: `GitRepository.spec.verify`, `provider` other than `generic`,
//!   `healthCheckExprs`, `dependsOn[].readyExpr`, `decryption`, and source kinds other than
//!   GitRepository.
//! - `GitRepository.spec.url` also allows `file://` (Flux's pattern does not), for local
//!   repositories.
//! - Enumerated fields (`deletionPolicy`, `sourceRef.kind`, `provider`, …) are strings with an
//!   `enum` in the schema, so objects with values from a newer Flux still read; accessors such
//!   as [`Kustomization::deletion_policy`] map them.
//! - A [`Duration`] that does not parse fails deserialization of the whole object, as it fails
//!   in Flux's Go types; the schema's pattern keeps such values out of a validating server.

pub mod conditions;
mod crds;
mod duration;
mod inventory;
pub mod keys;
mod kustomize;
mod meta;
mod receiver;
mod revision;
mod source;

pub use crds::{crds, crds_yaml};
pub use duration::{DURATION_PATTERN, Duration, DurationError, GIT_TIMEOUT_PATTERN};
pub use inventory::{InventoryId, InventoryIdError};
pub use kustomize::{
    CommonMetadata, CrossNamespaceSourceReference, CustomHealthCheck, Decryption, DeletionPolicy,
    DependencyReference, Image, KUSTOMIZATION_KIND, KUSTOMIZE_GROUP, Kustomization,
    KustomizationSpec, KustomizationStatus, Patch, PostBuild, ResourceInventory, ResourceRef,
    Selector, Snapshot, SubstituteReference,
};
pub use meta::{
    KubeConfigReference, LocalObjectReference, NamespacedObjectKindReference,
    NamespacedObjectReference, SecretKeyReference,
};
pub use receiver::{
    CrossNamespaceObjectReference, DEFAULT_RECEIVER_INTERVAL, NOTIFICATION_GROUP, RECEIVER_KIND,
    RECEIVER_RESOURCE_KINDS, RECEIVER_TOKEN_KEY, RECEIVER_TYPES, RECEIVER_WEBHOOK_PATH, Receiver,
    ReceiverSpec, ReceiverStatus, ReceiverType, webhook_path,
};
pub use revision::{Algorithm, Revision, RevisionError, same_revision};
pub use source::{
    Artifact, BUCKET_KIND, DEFAULT_GIT_TIMEOUT, EXTERNAL_ARTIFACT_KIND, GIT_REPOSITORY_KIND,
    GitRepository, GitRepositoryInclude, GitRepositoryRef, GitRepositorySpec, GitRepositoryStatus,
    GitRepositoryVerification, OCI_REPOSITORY_KIND, SOURCE_GROUP,
};
