//! The webhook server: finds the Receiver by path in a watched cache, validates the request,
//! and annotates the Receiver's resources with `reconcile.fluxcd.io/requestedAt`.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use futures::StreamExt as _;
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams};
use kube::discovery::ApiResource;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt as _, watcher};
use kube::{Client, ResourceExt};
use serde_json::json;
use tether_api::{CrossNamespaceObjectReference, Receiver, ReceiverType, keys};
use tokio::net::TcpListener;

use super::validate::{Verdict, validate};

#[derive(Clone)]
struct Shared {
    client: Client,
    receivers: Store<Receiver>,
}

/// A cache of every Receiver, and the future that keeps it current (run it until shutdown).
pub fn watch(client: Client) -> (Store<Receiver>, impl Future<Output = ()> + Send + 'static) {
    let (store, writer) = reflector::store();
    let stream = watcher(Api::<Receiver>::all(client), watcher::Config::default())
        .default_backoff()
        .reflect(writer)
        .applied_objects();
    let drive = async move {
        futures::pin_mut!(stream);
        while let Some(event) = stream.next().await {
            if let Err(e) = event {
                tracing::debug!(error = %e, "receiver watch");
            }
        }
    };
    (store, drive)
}

/// Serves webhooks on `listener` until `shutdown` resolves, for the Receivers in `receivers`.
pub async fn serve(
    listener: TcpListener,
    client: Client,
    receivers: Store<Receiver>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = Router::new()
        .fallback(handle)
        .with_state(Arc::new(Shared { client, receivers }));
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let path = uri.path();
    if !path.starts_with(tether_api::RECEIVER_WEBHOOK_PATH) {
        return StatusCode::NOT_FOUND;
    }
    // As Flux: only Ready, unsuspended Receivers whose published path is this one.
    let matching: Vec<Arc<Receiver>> = shared
        .receivers
        .state()
        .into_iter()
        .filter(|r| {
            !r.spec.suspend
                && r.webhook_path() == Some(path)
                && tether_api::conditions::is_ready(r.conditions())
        })
        .collect();
    if matching.is_empty() {
        tracing::debug!(path, "webhook for no Receiver");
        return StatusCode::NOT_FOUND;
    }
    let mut answer = StatusCode::OK;
    for rcv in matching {
        let namespace = rcv.namespace().unwrap_or_default();
        let id = format!("{namespace}/{}", rcv.name_any());
        let Some(type_) = ReceiverType::parse(&rcv.spec.type_) else {
            continue;
        };
        let token =
            match super::token_of(&shared.client, &namespace, &rcv.spec.secret_ref.name).await {
                Ok(t) => t,
                Err(message) => {
                    tracing::warn!(receiver = %id, %message, "cannot validate webhook");
                    answer = worst(answer, StatusCode::INTERNAL_SERVER_ERROR);
                    continue;
                }
            };
        match validate(type_, &token, &rcv.spec.events, &headers, &body) {
            Verdict::Reconcile => {}
            Verdict::Acknowledge => {
                tracing::info!(receiver = %id, "webhook acknowledged (nothing to reconcile)");
                continue;
            }
            Verdict::Unauthorized(why) => {
                tracing::warn!(receiver = %id, reason = %why, "webhook refused");
                answer = worst(answer, StatusCode::UNAUTHORIZED);
                continue;
            }
            Verdict::Rejected(why) => {
                tracing::info!(receiver = %id, reason = %why, "webhook rejected");
                answer = worst(answer, StatusCode::BAD_REQUEST);
                continue;
            }
        }
        for resource in &rcv.spec.resources {
            match request_reconciliation(&shared.client, resource, &namespace).await {
                Ok(objects) => {
                    tracing::info!(receiver = %id, kind = %resource.kind, name = %resource.name, objects, "reconciliation requested");
                }
                Err(message) => {
                    tracing::warn!(receiver = %id, %message, "cannot request reconciliation");
                    answer = worst(answer, StatusCode::INTERNAL_SERVER_ERROR);
                }
            }
        }
    }
    answer
}

/// The answer when Receivers disagree: the most severe (5xx over 401 over 400 over 200).
fn worst(a: StatusCode, b: StatusCode) -> StatusCode {
    let rank = |s: StatusCode| match s.as_u16() {
        500.. => 3,
        401 => 2,
        400.. => 1,
        _ => 0,
    };
    if rank(b) > rank(a) { b } else { a }
}

/// Sets `reconcile.fluxcd.io/requestedAt` to now on the object `resource` names (in
/// `default_namespace` unless it names one), or on every object of its kind matching
/// `matchLabels` when its name is `*`. Returns how many objects were annotated.
pub async fn request_reconciliation(
    client: &Client,
    resource: &CrossNamespaceObjectReference,
    default_namespace: &str,
) -> Result<usize, String> {
    let namespace = resource
        .namespace
        .as_deref()
        .filter(|n| !n.is_empty())
        .unwrap_or(default_namespace);
    let api_resource = api_resource(resource)?;
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &api_resource);
    let what = format!("{} '{namespace}/{}'", resource.kind, resource.name);
    let names = if resource.name == "*" {
        if resource.match_labels.is_empty() {
            return Err(format!(
                "{what}: matchLabels must be set when the name is the wildcard '*'"
            ));
        }
        let selector = resource
            .match_labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",");
        api.list_metadata(&ListParams::default().labels(&selector))
            .await
            .map_err(|e| format!("cannot list {what} with labels {selector}: {e}"))?
            .items
            .into_iter()
            .map(|o| o.name_any())
            .collect()
    } else {
        vec![resource.name.clone()]
    };
    let now = jiff::Timestamp::now().to_string();
    let patch =
        json!({"metadata": {"annotations": {keys::RECONCILE_REQUESTED_AT_ANNOTATION: now}}});
    for name in &names {
        api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .map_err(|e| {
                format!(
                    "cannot annotate {} '{namespace}/{name}': {e}",
                    resource.kind
                )
            })?;
    }
    Ok(names.len())
}

/// Where the kind lives: `apiVersion` when given, else the version Flux serves today.
fn api_resource(resource: &CrossNamespaceObjectReference) -> Result<ApiResource, String> {
    let default = match resource.kind.as_str() {
        "GitRepository" | "OCIRepository" | "Bucket" | "HelmRepository" | "HelmChart" => {
            "source.toolkit.fluxcd.io/v1"
        }
        "Kustomization" => "kustomize.toolkit.fluxcd.io/v1",
        "HelmRelease" => "helm.toolkit.fluxcd.io/v2",
        "ImageRepository" | "ImagePolicy" | "ImageUpdateAutomation" => {
            "image.toolkit.fluxcd.io/v1beta2"
        }
        other => return Err(format!("kind '{other}' cannot be notified by a Receiver")),
    };
    let api_version = resource
        .api_version
        .as_deref()
        .filter(|v| !v.is_empty())
        .unwrap_or(default);
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let lower = resource.kind.to_ascii_lowercase();
    let plural = match lower.strip_suffix('y') {
        Some(stem) => format!("{stem}ies"),
        None => format!("{lower}s"),
    };
    Ok(ApiResource {
        group: group.to_owned(),
        version: version.to_owned(),
        api_version: api_version.to_owned(),
        kind: resource.kind.clone(),
        plural,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn reference(kind: &str, api_version: Option<&str>) -> CrossNamespaceObjectReference {
        CrossNamespaceObjectReference {
            kind: kind.into(),
            api_version: api_version.map(Into::into),
            name: "x".into(),
            ..Default::default()
        }
    }

    #[test]
    fn kinds_map_to_fluxs_resources() {
        let r = api_resource(&reference("GitRepository", None)).unwrap();
        assert_eq!(
            (r.group.as_str(), r.version.as_str(), r.plural.as_str()),
            ("source.toolkit.fluxcd.io", "v1", "gitrepositories")
        );
        let r = api_resource(&reference("ImagePolicy", None)).unwrap();
        assert_eq!(r.plural, "imagepolicies");
        let r = api_resource(&reference(
            "Kustomization",
            Some("kustomize.toolkit.fluxcd.io/v1beta2"),
        ))
        .unwrap();
        assert_eq!(
            (r.version.as_str(), r.plural.as_str()),
            ("v1beta2", "kustomizations")
        );
        assert!(api_resource(&reference("ConfigMap", None)).is_err());
    }

    #[test]
    fn the_most_severe_answer_wins() {
        assert_eq!(
            worst(StatusCode::OK, StatusCode::UNAUTHORIZED),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            worst(StatusCode::UNAUTHORIZED, StatusCode::BAD_REQUEST),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            worst(StatusCode::BAD_REQUEST, StatusCode::INTERNAL_SERVER_ERROR),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
