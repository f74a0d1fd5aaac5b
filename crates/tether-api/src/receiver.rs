//! `notification.toolkit.fluxcd.io/v1` Receiver: an incoming webhook that asks for the
//! reconciliation of a group of Flux objects (notification-controller's).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::duration::Duration;
use crate::meta::{LocalObjectReference, is_false, is_zero};

/// The API group of Flux notifications.
pub const NOTIFICATION_GROUP: &str = "notification.toolkit.fluxcd.io";
pub const RECEIVER_KIND: &str = "Receiver";
/// Every webhook path starts with this.
pub const RECEIVER_WEBHOOK_PATH: &str = "/hook/";
/// The key of the Receiver's Secret holding the token.
pub const RECEIVER_TOKEN_KEY: &str = "token";
/// How often a Receiver is reconciled when `spec.interval` is unset (Flux's default).
pub const DEFAULT_RECEIVER_INTERVAL: Duration = Duration::from_secs(600);

/// The receiver types of Flux's API (the schema accepts them all; [`ReceiverType`] says which
/// tether implements).
pub const RECEIVER_TYPES: &[&str] = &[
    "generic",
    "generic-hmac",
    "github",
    "gitlab",
    "bitbucket",
    "harbor",
    "dockerhub",
    "quay",
    "gcr",
    "nexus",
    "acr",
    "cdevents",
];

/// The kinds a Receiver may notify (Flux's enum).
pub const RECEIVER_RESOURCE_KINDS: &[&str] = &[
    "Bucket",
    "GitRepository",
    "Kustomization",
    "HelmRelease",
    "HelmChart",
    "HelmRepository",
    "ImageRepository",
    "ImagePolicy",
    "ImageUpdateAutomation",
    "OCIRepository",
];

/// Which webhooks to accept and which objects to reconcile when one arrives.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "notification.toolkit.fluxcd.io",
    version = "v1",
    kind = "Receiver",
    namespaced,
    status = "ReceiverStatus",
    category = "flux",
    derive = "PartialEq",
    doc = "An incoming webhook that triggers the reconciliation of a group of Flux objects.",
    printcolumn = r#"{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}"#,
    printcolumn = r#"{"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name": "Status", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].message"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct ReceiverSpec {
    /// Who sends the webhook, which decides how it is validated: `generic` (the secret path
    /// alone), `generic-hmac` (`X-Signature`), `github` (`X-Hub-Signature-256`); tether
    /// implements these three and reports the others not Ready.
    #[serde(rename = "type")]
    #[schemars(extend("enum" = RECEIVER_TYPES))]
    pub type_: String,

    /// How often the Receiver is reconciled with its Secret; 10m when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<Duration>,

    /// Event types to handle (e.g. `push` for GitHub); all when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<String>,

    /// The objects to reconcile when a valid webhook arrives.
    pub resources: Vec<CrossNamespaceObjectReference>,

    /// A CEL expression selecting among `resources`. tether does not evaluate CEL yet and
    /// reports the Receiver not Ready when this is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_filter: Option<String>,

    /// Secret (in the Receiver's namespace) whose `token` key validates the webhooks.
    pub secret_ref: LocalObjectReference,

    /// Stops handling webhooks while true.
    #[serde(default, skip_serializing_if = "is_false")]
    pub suspend: bool,
}

/// An object by kind and name (`*` with `matchLabels` for all that match), in the Receiver's
/// namespace unless `namespace` is set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CrossNamespaceObjectReference {
    /// API version of the object; Flux's current version of the kind when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Kind of the object.
    #[schemars(extend("enum" = RECEIVER_RESOURCE_KINDS))]
    pub kind: String,
    /// Name of the object, or `*` for every object of the kind matching `matchLabels`.
    pub name: String,
    /// Namespace of the object; the Receiver's when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Labels the objects must have when `name` is `*`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
}

/// What the Receiver reconciler observed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReceiverStatus {
    /// The generation the status describes.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub observed_generation: i64,
    /// Ready and Reconciling.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// The path webhooks for this Receiver are posted to: `/hook/` and
    /// sha256(token + name + namespace) in hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_path: Option<String>,
    /// The last `reconcile.fluxcd.io/requestedAt` value acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
}

/// The receiver types tether validates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReceiverType {
    /// Anyone who knows the path may trigger.
    Generic,
    /// `X-Signature: <sha1|sha256|sha512>=<hex HMAC of the body>`.
    GenericHmac,
    /// GitHub: `X-Hub-Signature-256` (or the legacy SHA-1 `X-Hub-Signature`) and
    /// `X-GitHub-Event`.
    GitHub,
}

impl ReceiverType {
    /// The type named `name`, or `None` for one tether does not implement.
    pub fn parse(name: &str) -> Option<ReceiverType> {
        match name {
            "generic" => Some(ReceiverType::Generic),
            "generic-hmac" => Some(ReceiverType::GenericHmac),
            "github" => Some(ReceiverType::GitHub),
            _ => None,
        }
    }
}

/// The webhook path of the Receiver `name` in `namespace` with `token`, as Flux computes it.
pub fn webhook_path(token: &str, name: &str, namespace: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(token.as_bytes());
    hasher.update(name.as_bytes());
    hasher.update(namespace.as_bytes());
    let digest = hasher.finalize();
    let mut path = String::with_capacity(RECEIVER_WEBHOOK_PATH.len() + 64);
    path.push_str(RECEIVER_WEBHOOK_PATH);
    for byte in digest {
        path.push_str(&format!("{byte:02x}"));
    }
    path
}

impl Receiver {
    /// `spec.interval`, or 10m.
    pub fn interval(&self) -> std::time::Duration {
        self.spec
            .interval
            .unwrap_or(DEFAULT_RECEIVER_INTERVAL)
            .as_std()
    }

    /// The status conditions (empty without a status).
    pub fn conditions(&self) -> &[Condition] {
        self.status.as_ref().map_or(&[], |s| &s.conditions)
    }

    /// `status.webhookPath`, if set.
    pub fn webhook_path(&self) -> Option<&str> {
        self.status.as_ref().and_then(|s| s.webhook_path.as_deref())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn webhook_path_is_sha256_of_token_name_and_namespace() {
        // sha256("tokenreceiverflux-system"), computed with `printf %s ... | sha256sum`.
        assert_eq!(
            webhook_path("token", "receiver", "flux-system"),
            "/hook/82c055fa0743ee447b0870be16fa51a43bb6604b21ef8fae7ccf02bdc860b0f9"
        );
        assert_ne!(
            webhook_path("token", "receiver", "flux-system"),
            webhook_path("token", "receiver", "other")
        );
    }

    #[test]
    fn reads_fluxs_yaml() {
        let receiver: Receiver = serde_json::from_value(serde_json::json!({
            "apiVersion": "notification.toolkit.fluxcd.io/v1", "kind": "Receiver",
            "metadata": {"name": "github-receiver", "namespace": "flux-system"},
            "spec": {
                "type": "github", "events": ["ping", "push"],
                "secretRef": {"name": "receiver-token"},
                "resources": [
                    {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository", "name": "flux-system"},
                    {"kind": "Kustomization", "name": "*", "matchLabels": {"app": "web"}},
                ],
            },
        }))
        .unwrap();
        assert_eq!(
            ReceiverType::parse(&receiver.spec.type_),
            Some(ReceiverType::GitHub)
        );
        assert_eq!(receiver.interval(), std::time::Duration::from_secs(600));
        assert_eq!(receiver.spec.resources[1].match_labels["app"], "web");
        assert_eq!(ReceiverType::parse("gitlab"), None);
        let back = serde_json::to_value(&receiver).unwrap();
        assert_eq!(back["spec"]["type"], "github");
        assert!(back["spec"].get("suspend").is_none());
    }
}
