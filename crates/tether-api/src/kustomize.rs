//! `kustomize.toolkit.fluxcd.io/v1` Kustomization: which path of which source to build, how
//! to change the build, and how to apply, prune and check it.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::duration::Duration;
use crate::meta::{
    KubeConfigReference, LocalObjectReference, NamespacedObjectKindReference, is_false, is_zero,
};

/// The API group of Flux Kustomizations.
pub const KUSTOMIZE_GROUP: &str = "kustomize.toolkit.fluxcd.io";
pub const KUSTOMIZATION_KIND: &str = "Kustomization";

/// The shortest timeout Flux uses, whatever the interval.
const MIN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The desired state of a Kustomization: build `path` of `sourceRef`'s artifact, apply it.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "kustomize.toolkit.fluxcd.io",
    version = "v1",
    kind = "Kustomization",
    namespaced,
    status = "KustomizationStatus",
    shortname = "ks",
    category = "flux",
    derive = "PartialEq",
    doc = "A path of a source artifact that is built with kustomize and applied to a cluster.",
    printcolumn = r#"{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}"#,
    printcolumn = r#"{"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name": "Status", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].message"}"#
)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("required" = ["interval", "prune", "sourceRef"]))]
pub struct KustomizationSpec {
    /// Labels and annotations set on every applied object (overriding equal keys).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub common_metadata: Option<CommonMetadata>,

    /// Kustomizations that must be Ready (at the same revision when they share the source)
    /// before this one is applied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<DependencyReference>,

    /// SOPS decryption of Secrets. tether does not decrypt yet and fails the reconcile when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decryption: Option<Decryption>,

    /// How often to reconcile (detect and correct drift), jittered.
    pub interval: Duration,

    /// How soon to retry after a failure; `interval` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_interval: Option<Duration>,

    /// The kubeconfig of the cluster to apply to, instead of the controller's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kube_config: Option<KubeConfigReference>,

    /// Directory in the artifact holding the kustomization (or plain manifests); the root
    /// when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,

    /// Variable substitution on the built objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_build: Option<PostBuild>,

    /// Delete objects that were applied before but are no longer built.
    // Required in the schema like Flux's, but an object without it still reads (as false):
    // a server that does not enforce `required` must not make the whole list unreadable.
    #[serde(default)]
    #[schemars(transform = crate::meta::no_default)]
    pub prune: bool,

    /// Objects whose health decides Ready (ignored when `wait` is true).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub health_checks: Vec<NamespacedObjectKindReference>,

    /// Prefix added to the name of every object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 200))]
    pub name_prefix: Option<String>,

    /// Suffix added to the name of every object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 200))]
    pub name_suffix: Option<String>,

    /// Strategic merge or JSON 6902 patches, with the objects they apply to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patches: Vec<Patch>,

    /// Image name, tag and digest overrides.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<Image>,

    /// ServiceAccount to impersonate while applying.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,

    /// The source whose artifact holds the manifests.
    pub source_ref: CrossNamespaceSourceReference,

    /// Stops reconciling while true.
    #[serde(default, skip_serializing_if = "is_false")]
    pub suspend: bool,

    /// Namespace set on every namespaced object (kustomize's `namespace`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub target_namespace: Option<String>,

    /// Limit of building, applying and health checking; `interval` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,

    /// Recreate objects whose immutable fields changed.
    #[serde(default, skip_serializing_if = "is_false")]
    #[schemars(extend("default" = false))]
    pub force: bool,

    /// Wait for every applied object to be healthy (instead of `healthChecks`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub wait: bool,

    /// Kustomize components to add, relative to `path`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<String>,

    /// Skip components that are missing from the artifact instead of failing.
    #[serde(default, skip_serializing_if = "is_false")]
    pub ignore_missing_components: bool,

    /// What deleting the Kustomization does to its objects; `MirrorPrune` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["MirrorPrune", "Delete", "WaitForTermination", "Orphan"]))]
    pub deletion_policy: Option<String>,

    /// CEL health rules for custom resources. tether does not evaluate them yet and fails the
    /// reconcile when this is set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub health_check_exprs: Vec<CustomHealthCheck>,
}

/// Labels and annotations for every applied object.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CommonMetadata {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// A Kustomization this one waits for.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DependencyReference {
    /// Name of the Kustomization.
    pub name: String,
    /// Its namespace; this Kustomization's when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// CEL readiness rule. tether does not evaluate it yet and fails the reconcile when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_expr: Option<String>,
}

/// How Secrets are decrypted before they are applied.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Decryption {
    /// The decryption engine; only `sops`.
    #[schemars(extend("enum" = ["sops"]))]
    pub provider: String,
    /// Secret holding the keys (or cloud credentials).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// ServiceAccount for secret-less access to a cloud KMS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
}

/// Variables substituted into the built objects (`${var}`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PostBuild {
    /// Variables by name; they override those of `substituteFrom`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub substitute: BTreeMap<String, String>,
    /// ConfigMaps and Secrets whose data keys are variables, later ones overriding earlier.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub substitute_from: Vec<SubstituteReference>,
}

/// A ConfigMap or Secret in the Kustomization's namespace holding variables.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SubstituteReference {
    /// `ConfigMap` or `Secret`.
    #[schemars(extend("enum" = ["Secret", "ConfigMap"]))]
    pub kind: String,
    /// Name of the object.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Proceed without variables when the object does not exist.
    #[serde(default, skip_serializing_if = "is_false")]
    #[schemars(extend("default" = false))]
    pub optional: bool,
}

/// A patch and the objects it applies to (kustomize's `patches` entry).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Patch {
    /// An inline strategic merge patch, or a JSON 6902 patch (a list of operations).
    pub patch: String,
    /// The objects to patch; those the patch names when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Selector>,
}

/// Which objects a patch applies to; every set field must match.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Selector {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Name (a regular expression in kustomize).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Annotation selector, written like a label selector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotation_selector: Option<String>,
    /// Label selector (`app=web,tier!=db`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_selector: Option<String>,
}

/// An image override (kustomize's `images` entry).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Image {
    /// The image name to match, without tag.
    pub name: String,
    /// Replacement name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_name: Option<String>,
    /// Replacement tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_tag: Option<String>,
    /// Replacement digest (wins over `newTag`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// CEL expressions deciding the health of one kind of custom resource.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomHealthCheck {
    #[schemars(length(min = 1))]
    pub api_version: String,
    #[schemars(length(min = 1))]
    pub kind: String,
    /// True when the object is healthy.
    #[schemars(length(min = 1))]
    pub current: String,
    /// True while the object is still progressing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_progress: Option<String>,
    /// True when the object failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
}

/// The source a Kustomization builds from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CrossNamespaceSourceReference {
    /// API version of the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Kind of the source. tether serves GitRepository only.
    #[schemars(extend("enum" = ["OCIRepository", "GitRepository", "Bucket", "ExternalArtifact"]))]
    pub kind: String,
    /// Name of the source.
    pub name: String,
    /// Namespace of the source; the Kustomization's when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// What a Kustomization observed and applied.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KustomizationStatus {
    /// The generation the status describes.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub observed_generation: i64,
    /// Ready, Reconciling, Stalled and Healthy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// The source revision last applied successfully.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_applied_revision: Option<String>,
    /// The origin revision (from the artifact's metadata) last applied successfully.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_applied_origin_revision: Option<String>,
    /// The source revision of the last attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_revision: Option<String>,
    /// The objects applied, for pruning and drift detection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory: Option<ResourceInventory>,
    /// The last reconciliations by build digest, newest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<Snapshot>,
    /// The last `reconcile.fluxcd.io/requestedAt` value acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
}

/// The objects a Kustomization applied.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ResourceInventory {
    /// One entry per object.
    pub entries: Vec<ResourceRef>,
}

/// An applied object: its id and API version.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub struct ResourceRef {
    /// `<namespace>_<name>_<group>_<kind>`.
    pub id: String,
    /// The API version it was applied with.
    pub v: String,
}

/// One reconciliation outcome of a build digest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// Digest of the built manifests.
    pub digest: String,
    /// When the digest was first reconciled.
    pub first_reconciled: Time,
    /// When it was last reconciled.
    pub last_reconciled: Time,
    /// How long the last reconciliation took (any Go duration, `µs` included).
    #[schemars(schema_with = "crate::duration::any_duration_schema")]
    pub last_reconciled_duration: Duration,
    /// Reason of the outcome, such as `ReconciliationSucceeded`.
    pub last_reconciled_status: String,
    /// How many times it was reconciled.
    pub total_reconciliations: i64,
    /// Facts such as `revision` and `originRevision`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
}

/// `spec.deletionPolicy`, with `MirrorPrune` for unset or unknown values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeletionPolicy {
    /// Delete the objects if `prune` is true, else leave them.
    MirrorPrune,
    /// Delete the objects.
    Delete,
    /// Delete the objects and wait until they are gone (up to the timeout).
    WaitForTermination,
    /// Leave the objects.
    Orphan,
}

impl DeletionPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            DeletionPolicy::MirrorPrune => "MirrorPrune",
            DeletionPolicy::Delete => "Delete",
            DeletionPolicy::WaitForTermination => "WaitForTermination",
            DeletionPolicy::Orphan => "Orphan",
        }
    }
}

impl Kustomization {
    /// `spec.timeout`, else the interval less 30s, never under 30s (Flux's `GetTimeout`).
    pub fn timeout(&self) -> std::time::Duration {
        let d = match self.spec.timeout {
            Some(t) => t.as_std(),
            None => self
                .spec
                .interval
                .as_std()
                .saturating_sub(std::time::Duration::from_secs(30)),
        };
        d.max(MIN_TIMEOUT)
    }

    /// How soon to retry after a failure: `spec.retryInterval`, else the interval.
    pub fn retry_interval(&self) -> std::time::Duration {
        self.spec
            .retry_interval
            .unwrap_or(self.spec.interval)
            .as_std()
    }

    /// The deletion policy, `MirrorPrune` when unset.
    pub fn deletion_policy(&self) -> DeletionPolicy {
        match self.spec.deletion_policy.as_deref() {
            Some("Delete") => DeletionPolicy::Delete,
            Some("WaitForTermination") => DeletionPolicy::WaitForTermination,
            Some("Orphan") => DeletionPolicy::Orphan,
            _ => DeletionPolicy::MirrorPrune,
        }
    }

    /// The namespace of the source: `sourceRef.namespace`, else the Kustomization's.
    pub fn source_namespace(&self) -> Option<&str> {
        match self.spec.source_ref.namespace.as_deref() {
            Some(ns) if !ns.is_empty() => Some(ns),
            _ => self.metadata.namespace.as_deref(),
        }
    }

    /// The status conditions (empty without a status).
    pub fn conditions(&self) -> &[Condition] {
        self.status.as_ref().map_or(&[], |s| &s.conditions)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn ks(spec: serde_json::Value) -> Kustomization {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": {"name": "apps", "namespace": "flux-system"},
            "spec": spec,
        }))
        .unwrap()
    }

    #[test]
    fn timeouts_and_intervals_follow_flux() {
        let secs = std::time::Duration::from_secs;
        let base = serde_json::json!({"interval": "10m", "prune": true,
                                      "sourceRef": {"kind": "GitRepository", "name": "a"}});
        let k = ks(base.clone());
        assert_eq!(k.timeout(), secs(570), "interval less 30s");
        assert_eq!(k.retry_interval(), secs(600));
        let mut short = base.clone();
        short["interval"] = "40s".into();
        assert_eq!(ks(short).timeout(), secs(30), "never under 30s");
        let mut explicit = base.clone();
        explicit["timeout"] = "2m".into();
        explicit["retryInterval"] = "1m".into();
        let k = ks(explicit);
        assert_eq!((k.timeout(), k.retry_interval()), (secs(120), secs(60)));
    }

    #[test]
    fn deletion_policy_and_source_namespace_defaults() {
        let mut spec = serde_json::json!({"interval": "1m", "prune": false,
                                          "sourceRef": {"kind": "GitRepository", "name": "a"}});
        let k = ks(spec.clone());
        assert_eq!(k.deletion_policy(), DeletionPolicy::MirrorPrune);
        assert_eq!(k.source_namespace(), Some("flux-system"));
        spec["deletionPolicy"] = "WaitForTermination".into();
        spec["sourceRef"]["namespace"] = "shared".into();
        let k = ks(spec);
        assert_eq!(k.deletion_policy().as_str(), "WaitForTermination");
        assert_eq!(k.source_namespace(), Some("shared"));
    }

    #[test]
    fn flux_objects_round_trip_unchanged() {
        // Written the way Flux writes it: omitted empties, Go durations.
        let spec = serde_json::json!({
            "interval": "1h0m0s",
            "path": "./apps",
            "prune": true,
            "sourceRef": {"kind": "GitRepository", "name": "flux-system"},
            "postBuild": {"substitute": {"a": "b"},
                          "substituteFrom": [{"kind": "ConfigMap", "name": "vars", "optional": true}]},
            "patches": [{"patch": "- op: remove\n  path: /x\n", "target": {"kind": "Deployment"}}],
            "healthChecks": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "namespace": "apps"}],
            "kubeConfig": {"secretRef": {"name": "kc", "key": "value.yaml"}},
        });
        let k = ks(spec.clone());
        assert_eq!(serde_json::to_value(&k.spec).unwrap(), spec);
        // A missing `prune` still reads (as false) so one bad object cannot break a list.
        let lenient = ks(
            serde_json::json!({"interval": "1m", "sourceRef": {"kind": "GitRepository", "name": "a"}}),
        );
        assert!(!lenient.spec.prune);
    }
}
