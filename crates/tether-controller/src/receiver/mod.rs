//! Flux's Receiver (notification-controller's): a reconciler that publishes each Receiver's
//! webhook path, and an HTTP server that turns valid webhooks into reconcile requests.
//!
//! The reconciler, per Receiver:
//! 1. suspended or deleted → nothing (a suspended Receiver's webhooks answer 404);
//! 2. a type tether does not validate, or `resourceFilter` (CEL) → `Ready` False naming it;
//! 3. read `token` of `spec.secretRef` → `Ready` False `TokenNotFound` naming the Secret,
//!    `status.webhookPath` cleared, retried soon;
//! 4. `status.webhookPath` = `/hook/` + sha256(token + name + namespace), `Ready` True
//!    `Receiver initialized for path: …`; requeue after `interval` (10m), jittered.
//!
//! The server ([`serve`]) answers `/hook/<digest>`: 404 unless a Ready, unsuspended Receiver
//! has that path; 401 when its signature is missing or wrong; 400 for an event it does not
//! handle; otherwise it sets `reconcile.fluxcd.io/requestedAt` on each resource of the
//! Receiver (every object matching `matchLabels` for `name: '*'`) and answers 200 (500 when
//! an object could not be annotated). Bodies say nothing more; details go to the log.

mod server;
mod validate;

use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::Action;
use serde_json::json;
use tether_api::conditions::{self, ConditionType, Reason};
use tether_api::{RECEIVER_TOKEN_KEY, Receiver, ReceiverStatus, ReceiverType, keys};

use crate::context::{Context, jittered};
use crate::metrics::ReconcileResult;

pub use server::{request_reconciliation, serve, watch};
pub use validate::{Verdict, sign_sha256, validate, verify_signature};

/// Flux's reason when the token Secret or its key is missing.
pub const TOKEN_NOT_FOUND: &str = "TokenNotFound";
/// tether's reason for a Receiver type it does not validate yet.
pub const UNSUPPORTED_TYPE: &str = "UnsupportedType";
/// How soon a Receiver without its token is tried again.
const RETRY_TOKEN: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("Receiver {namespace}/{name}: {source}")]
    Api {
        namespace: String,
        name: String,
        #[source]
        source: kube::Error,
    },
}

/// Why a Receiver is not ready.
#[derive(Debug, Clone, PartialEq, Eq)]
struct NotReady {
    reason: &'static str,
    message: String,
}

pub async fn reconcile(rcv: Arc<Receiver>, ctx: Arc<Context>) -> Result<Action, ReconcileError> {
    let started = Instant::now();
    let namespace = rcv.namespace().unwrap_or_default();
    let name = rcv.name_any();
    let labels = ("Receiver", namespace.as_str(), name.as_str());
    if rcv.metadata.deletion_timestamp.is_some() {
        ctx.metrics.forget(labels);
        return Ok(Action::await_change());
    }
    ctx.metrics.record_suspend(labels, rcv.spec.suspend);
    if rcv.spec.suspend {
        tracing::info!(receiver = %format!("{namespace}/{name}"), "reconciliation is suspended for this object");
        return Ok(Action::await_change());
    }
    let generation = rcv.metadata.generation;
    let mut status = rcv.status.clone().unwrap_or_default();
    if let Some(requested) = rcv
        .annotations()
        .get(keys::RECONCILE_REQUESTED_AT_ANNOTATION)
    {
        status.last_handled_reconcile_at = Some(requested.clone());
    }
    let outcome = match check_spec(&rcv) {
        Err(not_ready) => Err(not_ready),
        Ok(()) => read_token(&ctx.client, &namespace, &rcv.spec.secret_ref.name).await,
    };
    let action = match &outcome {
        Ok(token) => {
            let path = tether_api::webhook_path(token, &name, &namespace);
            let message = format!("Receiver initialized for path: {path}");
            conditions::remove(&mut status.conditions, ConditionType::Reconciling);
            conditions::remove(&mut status.conditions, ConditionType::Stalled);
            conditions::mark_true(
                &mut status.conditions,
                ConditionType::Ready,
                Reason::Succeeded,
                message,
                generation,
            );
            status.webhook_path = Some(path);
            Action::requeue(jittered(
                rcv.interval(),
                ctx.options.interval_jitter_percent,
            ))
        }
        Err(not_ready) => {
            set_not_ready(&mut status, not_ready, generation);
            status.webhook_path = None;
            if not_ready.reason == TOKEN_NOT_FOUND {
                Action::requeue(RETRY_TOKEN)
            } else {
                Action::await_change()
            }
        }
    };
    status.observed_generation = generation.unwrap_or(0);
    ctx.metrics.record_condition(
        labels,
        "Ready",
        if outcome.is_ok() { "True" } else { "False" },
    );
    if rcv.status.as_ref() != Some(&status) {
        write_status(&ctx.client, &namespace, &name, &status)
            .await
            .map_err(|source| ReconcileError::Api {
                namespace: namespace.clone(),
                name: name.clone(),
                source,
            })?;
    }
    let result = if outcome.is_ok() {
        ReconcileResult::Success
    } else {
        ReconcileResult::Requeue
    };
    ctx.metrics
        .record_reconcile("receiver", labels, started.elapsed(), result);
    Ok(action)
}

/// What the spec asks for that tether cannot do.
fn check_spec(rcv: &Receiver) -> Result<(), NotReady> {
    if ReceiverType::parse(&rcv.spec.type_).is_none() {
        return Err(NotReady {
            reason: UNSUPPORTED_TYPE,
            message: format!(
                "receiver type '{}' is not supported by tether (supported: generic, generic-hmac, github)",
                rcv.spec.type_
            ),
        });
    }
    if rcv
        .spec
        .resource_filter
        .as_deref()
        .is_some_and(|f| !f.is_empty())
    {
        return Err(NotReady {
            reason: Reason::InvalidCelExpression.as_str(),
            message: "spec.resourceFilter (CEL) is not supported by tether yet".into(),
        });
    }
    Ok(())
}

/// The `token` of Secret `namespace/name`, with Flux's messages when it cannot be had.
async fn read_token(
    client: &kube::Client,
    namespace: &str,
    name: &str,
) -> Result<String, NotReady> {
    token_of(client, namespace, name)
        .await
        .map_err(|message| NotReady {
            reason: TOKEN_NOT_FOUND,
            message,
        })
}

/// The token, or a message naming the Secret and what is wrong with it.
pub(crate) async fn token_of(
    client: &kube::Client,
    namespace: &str,
    name: &str,
) -> Result<String, String> {
    let secrets: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let secret = match secrets.get_opt(name).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            return Err(format!(
                "unable to read token from secret '{namespace}/{name}': Secret not found"
            ));
        }
        Err(e) => {
            return Err(format!(
                "unable to read token from secret '{namespace}/{name}': {e}"
            ));
        }
    };
    let token = secret
        .data
        .as_ref()
        .and_then(|d| d.get(RECEIVER_TOKEN_KEY))
        .map(|b| String::from_utf8_lossy(&b.0).into_owned())
        .or_else(|| {
            secret
                .string_data
                .as_ref()
                .and_then(|d| d.get(RECEIVER_TOKEN_KEY).cloned())
        });
    match token {
        Some(t) if !t.is_empty() => Ok(t),
        _ => Err(format!(
            "invalid '{namespace}/{name}' secret data: required field '{RECEIVER_TOKEN_KEY}'"
        )),
    }
}

fn set_not_ready(status: &mut ReceiverStatus, not_ready: &NotReady, generation: Option<i64>) {
    conditions::remove(&mut status.conditions, ConditionType::Reconciling);
    conditions::set_at(
        &mut status.conditions,
        Condition {
            type_: ConditionType::Ready.as_str().to_owned(),
            status: "False".to_owned(),
            reason: not_ready.reason.to_owned(),
            message: not_ready.message.clone(),
            observed_generation: generation,
            last_transition_time: conditions::now(),
        },
    );
}

async fn write_status(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    status: &ReceiverStatus,
) -> Result<(), kube::Error> {
    let api: Api<Receiver> = Api::namespaced(client.clone(), namespace);
    let mut value = serde_json::to_value(status).unwrap_or_else(|_| json!({}));
    // A merge patch keeps fields it does not mention: clear the path explicitly.
    if status.webhook_path.is_none() {
        value["webhookPath"] = serde_json::Value::Null;
    }
    api.patch_status(
        name,
        &PatchParams::default(),
        &Patch::Merge(json!({ "status": value })),
    )
    .await
    .map(|_| ())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn receiver(type_: &str, filter: Option<&str>) -> Receiver {
        serde_json::from_value(json!({
            "apiVersion": "notification.toolkit.fluxcd.io/v1", "kind": "Receiver",
            "metadata": {"name": "r", "namespace": "ns"},
            "spec": {"type": type_, "secretRef": {"name": "s"}, "resources": [],
                     "resourceFilter": filter},
        }))
        .unwrap()
    }

    #[test]
    fn unsupported_types_and_cel_filters_are_refused_by_name() {
        assert_eq!(check_spec(&receiver("github", None)), Ok(()));
        assert_eq!(check_spec(&receiver("generic-hmac", None)), Ok(()));
        let gitlab = check_spec(&receiver("gitlab", None)).unwrap_err();
        assert_eq!(gitlab.reason, UNSUPPORTED_TYPE);
        assert!(gitlab.message.contains("'gitlab'"), "{}", gitlab.message);
        let cel = check_spec(&receiver("generic", Some("true"))).unwrap_err();
        assert_eq!(cel.reason, "InvalidCELExpression");
    }
}
