//! `source.toolkit.fluxcd.io/v1` GitRepository: where to fetch a Git repository from, and the
//! artifact the source reconciler made of it.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::duration::{Duration, git_timeout_schema};
use crate::meta::{LocalObjectReference, is_false, is_zero};

/// The API group of Flux sources.
pub const SOURCE_GROUP: &str = "source.toolkit.fluxcd.io";
pub const GIT_REPOSITORY_KIND: &str = "GitRepository";
pub const OCI_REPOSITORY_KIND: &str = "OCIRepository";
pub const BUCKET_KIND: &str = "Bucket";
pub const EXTERNAL_ARTIFACT_KIND: &str = "ExternalArtifact";

/// Timeout of Git operations when `spec.timeout` is not set.
pub const DEFAULT_GIT_TIMEOUT: Duration = Duration::from_secs(60);

/// What to fetch and how often: the desired state of a GitRepository.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "source.toolkit.fluxcd.io",
    version = "v1",
    kind = "GitRepository",
    namespaced,
    status = "GitRepositoryStatus",
    shortname = "gitrepo",
    category = "flux",
    derive = "PartialEq",
    doc = "A Git repository the source reconciler fetches and packs into an artifact.",
    printcolumn = r#"{"name": "URL", "type": "string", "jsonPath": ".spec.url"}"#,
    printcolumn = r#"{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}"#,
    printcolumn = r#"{"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name": "Status", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].message"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct GitRepositorySpec {
    /// Address of the repository: `https://`, `http://` or `ssh://`, and, for tether only,
    /// `file://` (a local repository; Flux's pattern does not allow it).
    #[schemars(pattern(r"^(http|https|ssh|file)://.*$"))]
    pub url: String,

    /// Secret with the credentials: `username` and `password` or `bearerToken` (and `ca.crt`)
    /// for HTTPS, `identity` and `known_hosts` for SSH.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,

    /// Who provides the credentials: `generic` (the Secret, the default), or the workload
    /// identity of `azure` or `github`. tether supports `generic` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["generic", "azure", "github"]))]
    pub provider: Option<String>,

    /// ServiceAccount whose identity authenticates to the provider (not `generic`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,

    /// How often to look for new commits (jittered).
    pub interval: Duration,

    /// Limit of each Git operation; 60s when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "git_timeout_schema")]
    pub timeout: Option<Duration>,

    /// Which reference to follow; the `master` branch when unset.
    #[serde(default, rename = "ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<GitRepositoryRef>,

    /// Commit signature verification. tether does not verify signatures yet and refuses the
    /// source (fails closed) when this is set.
    #[serde(default, rename = "verify", skip_serializing_if = "Option::is_none")]
    pub verification: Option<GitRepositoryVerification>,

    /// Secret with the proxy (`address`, `username`, `password`) to reach the server through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_secret_ref: Option<LocalObjectReference>,

    /// Exclusion patterns in `.gitignore` format, replacing the default ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore: Option<String>,

    /// Stops fetching while true.
    #[serde(default, skip_serializing_if = "is_false")]
    pub suspend: bool,

    /// Also check out the repository's submodules.
    #[serde(default, skip_serializing_if = "is_false")]
    pub recurse_submodules: bool,

    /// Artifacts of other GitRepositories to copy into this one's artifact.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<GitRepositoryInclude>,

    /// Directories to check out; the whole tree when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sparse_checkout: Vec<String>,
}

/// The Git reference to follow. The most specific field wins: `commit`, then `name`, then
/// `semver`, then `tag`, then `branch`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GitRepositoryRef {
    /// Branch to follow (`master` when nothing else is set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// Tag to check out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// Semantic version range over the tags; the highest match is checked out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub semver: Option<String>,
    /// Full reference name, such as `refs/heads/main` or `refs/pull/1/head`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Commit SHA to check out; with `branch`, the branch is fetched to find it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

/// Which commit signatures to verify, against which keys.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GitRepositoryVerification {
    /// `HEAD` (or the older `head`), `Tag`, or `TagAndHEAD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["head", "HEAD", "Tag", "TagAndHEAD"], "default" = "HEAD"))]
    pub mode: Option<String>,
    /// Secret holding the trusted public keys.
    pub secret_ref: LocalObjectReference,
}

/// Another GitRepository's artifact (or part of it) to copy into this one's.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GitRepositoryInclude {
    /// The GitRepository to include, in the same namespace.
    pub repository: LocalObjectReference,
    /// Directory of the included artifact to copy; its root when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_path: Option<String>,
    /// Where to copy it in this artifact; the included GitRepository's name when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_path: Option<String>,
}

impl GitRepositoryInclude {
    /// The destination directory, with Flux's default (the included repository's name).
    pub fn to_path(&self) -> &str {
        match self.to_path.as_deref() {
            Some(p) if !p.is_empty() => p,
            _ => &self.repository.name,
        }
    }
}

/// What the source reconciler observed and produced.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GitRepositoryStatus {
    /// The generation the status describes.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub observed_generation: i64,
    /// Ready, Reconciling, Stalled and the source conditions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// The last artifact stored successfully.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<Artifact>,
    /// The artifacts of `spec.include` that went into `artifact`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub included_artifacts: Vec<Artifact>,
    /// The ignore patterns `artifact` was made with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_ignore: Option<String>,
    /// The submodule setting `artifact` was made with.
    #[serde(default, skip_serializing_if = "is_false")]
    pub observed_recurse_submodules: bool,
    /// The includes `artifact` was made with.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub observed_include: Vec<GitRepositoryInclude>,
    /// The sparse checkout directories `artifact` was made with.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub observed_sparse_checkout: Vec<String>,
    /// The verification mode of the last verified commit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_verification_mode: Option<String>,
    /// The last `reconcile.fluxcd.io/requestedAt` value acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
}

/// A packed source: a `.tar.gz` in the artifact store.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Artifact {
    /// Path of the file relative to the store's root.
    pub path: String,
    /// Where to download it from.
    pub url: String,
    /// What it was made from, e.g. `main@sha1:<40 hex>`.
    pub revision: String,
    /// `<algorithm>:<hex>` of the file, e.g. `sha256:…`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$"))]
    pub digest: Option<String>,
    /// When the artifact was last written.
    pub last_update_time: Time,
    /// Size of the file in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
    /// Free-form facts about the artifact.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
}

impl Artifact {
    /// Whether the artifact was made from `revision` (legacy `main/<sha>` forms included).
    pub fn has_revision(&self, revision: &str) -> bool {
        crate::revision::same_revision(&self.revision, revision)
    }
}

impl GitRepository {
    /// `spec.timeout`, or 60s.
    pub fn timeout(&self) -> std::time::Duration {
        self.spec.timeout.unwrap_or(DEFAULT_GIT_TIMEOUT).as_std()
    }

    /// The artifact in the status, if any.
    pub fn artifact(&self) -> Option<&Artifact> {
        self.status.as_ref().and_then(|s| s.artifact.as_ref())
    }

    /// The status conditions (empty without a status).
    pub fn conditions(&self) -> &[Condition] {
        self.status.as_ref().map_or(&[], |s| &s.conditions)
    }
}
