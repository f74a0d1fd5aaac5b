//! Flux's build step: from a source artifact and a Kustomization spec to the objects to apply,
//! all in memory.
//!
//! # Steps
//!
//! 0. [`Artifact::from_tar_gz`] unpacks the artifact (the `.tar.gz` the source reconciler
//!    stores) into memory. Files and directories only: a symbolic link is replaced by a copy of
//!    its target when that stays inside the artifact; absolute paths, `..`, links leaving the
//!    root, link cycles and devices are refused with an error naming the entry.
//! 1. `spec.path` must be a directory of the artifact (`kustomization path not found: …`);
//!    `..` cannot climb above the root.
//! 2. [`prepare`]: when the path holds no kustomization file, one is generated as
//!    kustomize-controller does: every `.yaml`/`.yml` file below the path (directories in name
//!    order), except that a directory with its own kustomization file is listed as a whole and
//!    not entered; each file must be YAML (`failed to decode Kubernetes YAML from <file>: …`).
//!    An existing kustomization file is read the way Flux reads it (kustomize's Go type:
//!    unknown top-level fields dropped, field names matched without regard to case).
//! 3. The spec's overlay is written into that kustomization, as Flux writes it:
//!    `targetNamespace` → `namespace`, `namePrefix`, `nameSuffix` replace; `patches` and
//!    `components` (local paths relative to `spec.path`; missing ones skipped with
//!    `ignoreMissingComponents`) are appended; `images` replace the entry of the same name or
//!    are appended. A kustomization file without `resources` gets
//!    `buildMetadata: [originAnnotations]`, as Flux adds (so its objects carry
//!    `config.kubernetes.io/origin`).
//! 4. [`kustomize`] runs `tether_kustomize::build` on the artifact with the rewritten file laid
//!    over it (no load restrictions inside the artifact, remote bases refused), and checks that
//!    every object has `apiVersion`, `kind` and `metadata.name`.
//! 5. [`post_build`]: when `spec.postBuild` is set and the variables are not empty, each
//!    object without `kustomize.toolkit.fluxcd.io/substitute: disabled` (label or annotation)
//!    is printed as YAML, substituted ([`envsubst`]) and read back with YAML 1.1 scalars, as
//!    Flux does; errors name the object and, in strict mode, the undefined variable. Then
//!    `spec.commonMetadata` is set on every object (Flux does it at apply time, after
//!    substitution, so it is not substituted).
//! 6. [`Built`] holds the objects in kustomize's output order and a SHA-256 digest of them.
//!
//! [`build`] runs 1–6; [`BuildCache`] runs them at most once per artifact digest, path,
//! kustomize-related spec fields and variables, sharing results between Kustomizations.
//! [`merge_variables`] merges `substituteFrom` ConfigMaps and Secrets and `substitute` in
//! Flux's order, so the controller only fetches.
//!
//! # Guarantees
//!
//! - The artifact is never modified: every build starts from the same tree, so repeated
//!   builds of one artifact and spec give identical objects and digests, and a user's
//!   kustomization file is rewritten only in the build's private overlay.
//! - Nothing is read outside the artifact and nothing is fetched from the network.
//! - Errors are values naming the artifact entry, file (with line, from the kustomize engine),
//!   object or variable; nothing panics on input.
//!
//! # Caveats
//!
//! - Reading an existing kustomization drops unknown fields at the top level only; Flux's
//!   round trip through Go types also drops unknown fields inside entries, which the engine
//!   refuses instead.
//! - Substituted text is read back with tether-yaml's YAML 1.1 rules (`yes`/`on` become
//!   booleans, as in Flux); byte-level string functions (`${var:1:2}`, `${#var}`) count UTF-8
//!   bytes as Go does, and a cut inside a character becomes U+FFFD.
//! - `spec.decryption` is not supported: a warning says so and Secrets stay as built.
//! - The digest covers the final objects (with common metadata), so it differs from Flux's
//!   history digest when `commonMetadata` is set.

mod artifact;
mod build;
mod cache;
pub mod envsubst;
mod error;
mod generate;
mod substitute;

pub use artifact::Artifact;
pub use build::{BuildOptions, Built, Kustomized, build, digest, kustomize, post_build};
pub use cache::{BuildCache, CacheStats};
pub use error::Error;
pub use generate::{PreparedKustomization, prepare};
pub use substitute::{
    VAR_NAME_PATTERN, VarSource, merge_variables, object_name, substitute_object,
    substitution_disabled,
};
