//! The GitRepository reconciler (source-controller's): fetch the ref with tether-source, pack
//! an artifact into the store that the artifact server serves, and report it in status.
//!
//! 1. deletion → remove the object's artifacts, drop the finalizer;
//! 2. add the finalizer; stop when `suspend`;
//! 3. credentials from `secretRef` → `AuthenticationFailed`;
//! 4. the artifacts of `include`d GitRepositories (same namespace) → `IncludeUnavailable`
//!    (`NotFound`, `NoArtifact`);
//! 5. fetch (skipped when the remote's revision equals the stored artifact's and the includes
//!    are unchanged) → `FetchFailed` / `GitOperationFailed`, keeping the last good artifact in
//!    status and store;
//! 6. pack and store the artifact with the includes' files (`CopyFailure`), keep the newest two
//!    (`--artifact-retention-records`);
//! 7. `Ready` / `ArtifactInStorage` True with `stored artifact for revision '…'`, a
//!    `NewArtifact` event when the revision changed; requeue after `interval`, jittered.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::{Resource, ResourceExt};
use serde_json::json;
use tether_api::conditions::{self, ConditionType, Reason};
use tether_api::{Artifact, GitRepository, GitRepositoryStatus, keys};
use tether_source::{FetchErrorKind, FetchOutcome, GitAuth, GitReference, GitSourceSpec};

use crate::context::{Context, jittered};
use crate::metrics::ReconcileResult;

/// Artifacts kept per GitRepository (source-controller's default).
const RETAINED_ARTIFACTS: usize = 2;

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("GitRepository {namespace}/{name}: {source}")]
    Api {
        namespace: String,
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("GitRepository {namespace}/{name}: {message}")]
    Storage {
        namespace: String,
        name: String,
        message: String,
    },
}

pub async fn reconcile(
    repo: Arc<GitRepository>,
    ctx: Arc<Context>,
) -> Result<Action, ReconcileError> {
    let started = Instant::now();
    let namespace = repo.namespace().unwrap_or_default();
    let name = repo.name_any();
    let labels = ("GitRepository", namespace.as_str(), name.as_str());
    let api: Api<GitRepository> = Api::namespaced(ctx.client.clone(), &namespace);
    let api_err = |source| ReconcileError::Api {
        namespace: namespace.clone(),
        name: name.clone(),
        source,
    };
    let store = ctx.artifacts.clone();

    if repo.meta().deletion_timestamp.is_some() {
        if let Err(e) = store.remove_all(&namespace, &name) {
            return Err(ReconcileError::Storage {
                namespace,
                name,
                message: e.to_string(),
            });
        }
        crate::finalizer::set(&api, repo.as_ref(), false)
            .await
            .map_err(api_err)?;
        ctx.metrics.forget(labels);
        return Ok(Action::await_change());
    }
    if !crate::finalizer::has(repo.as_ref()) {
        crate::finalizer::set(&api, repo.as_ref(), true)
            .await
            .map_err(api_err)?;
    }
    ctx.metrics.record_suspend(labels, repo.spec.suspend);
    if repo.spec.suspend {
        tracing::info!(gitrepository = %format!("{namespace}/{name}"), "reconciliation is suspended for this object");
        return Ok(Action::await_change());
    }

    let mut status = repo.status.clone().unwrap_or_default();
    if let Some(requested) = repo
        .annotations()
        .get(keys::RECONCILE_REQUESTED_AT_ANNOTATION)
    {
        status.last_handled_reconcile_at = Some(requested.clone());
    }
    let generation = repo.meta().generation;
    let previous = status.artifact.clone();
    let outcome = fetch_and_store(&repo, &ctx, &namespace, &mut status).await;
    let result = match &outcome {
        Ok(()) => ReconcileResult::Success,
        Err(_) => ReconcileResult::Requeue,
    };
    let mut events = Vec::new();
    match outcome {
        Ok(()) => {
            let revision = status
                .artifact
                .as_ref()
                .map(|a| a.revision.clone())
                .unwrap_or_default();
            let message = format!("stored artifact for revision '{revision}'");
            let c = &mut status.conditions;
            conditions::remove(c, ConditionType::FetchFailed);
            conditions::remove(c, ConditionType::StorageOperationFailed);
            conditions::remove(c, ConditionType::IncludeUnavailable);
            conditions::remove(c, ConditionType::ArtifactOutdated);
            conditions::remove(c, ConditionType::Reconciling);
            conditions::remove(c, ConditionType::Stalled);
            conditions::mark_true(
                c,
                ConditionType::ArtifactInStorage,
                Reason::Succeeded,
                &message,
                generation,
            );
            conditions::mark_true(
                c,
                ConditionType::Ready,
                Reason::Succeeded,
                &message,
                generation,
            );
            status.observed_generation = generation.unwrap_or(0);
            status.observed_ignore = repo.spec.ignore.clone();
            status.observed_recurse_submodules = repo.spec.recurse_submodules;
            status.observed_include = repo.spec.include.clone();
            if previous.as_ref().map(|a| &a.revision) != Some(&revision) {
                events.push((EventType::Normal, "NewArtifact", message));
            }
        }
        Err((reason, message)) => {
            let c = &mut status.conditions;
            let failure_type = match reason {
                Reason::StatOperationFailed => ConditionType::StorageOperationFailed,
                Reason::NotFound | Reason::NoArtifact | Reason::CopyFailure => {
                    ConditionType::IncludeUnavailable
                }
                _ => ConditionType::FetchFailed,
            };
            conditions::mark_true(c, failure_type, reason, &message, generation);
            conditions::mark_false(c, ConditionType::Ready, reason, &message, generation);
            events.push((EventType::Warning, reason.as_str(), message));
        }
    }
    if let Some(ready) = conditions::find(&status.conditions, ConditionType::Ready) {
        ctx.metrics.record_condition(labels, "Ready", &ready.status);
    }
    api.patch_status(
        &name,
        &PatchParams::default(),
        &Patch::Merge(json!({ "status": status })),
    )
    .await
    .map_err(api_err)?;
    let regarding = repo.object_ref(&());
    for (type_, reason, note) in events {
        crate::events::publish(
            &ctx.source_events,
            &regarding,
            type_,
            reason,
            "Reconcile",
            note,
        )
        .await;
    }
    ctx.metrics
        .record_reconcile("gitrepository", labels, started.elapsed(), result);
    Ok(Action::requeue(jittered(
        repo.spec.interval.as_std(),
        ctx.options.interval_jitter_percent,
    )))
}

/// Steps 3–5; on failure the reason and message for the conditions.
async fn fetch_and_store(
    repo: &GitRepository,
    ctx: &Context,
    namespace: &str,
    status: &mut GitRepositoryStatus,
) -> Result<(), (Reason, String)> {
    let name = repo.name_any();
    // Fail closed: a user who asked for verified commits or a cloud identity must not get a
    // source that silently skipped them.
    if repo.spec.verification.is_some() {
        return Err((
            Reason::VerificationError,
            "commit signature verification (spec.verify) is not supported by tether yet; \
             remove spec.verify to use this source unverified"
                .into(),
        ));
    }
    if let Some(provider) = repo.spec.provider.as_deref().filter(|p| *p != "generic") {
        return Err((
            Reason::AuthenticationFailed,
            format!(
                "provider '{provider}' is not supported by tether yet; use 'generic' with \
                 secretRef"
            ),
        ));
    }
    let auth = match &repo.spec.secret_ref {
        None => GitAuth::none(),
        Some(secret_ref) => {
            let api: Api<Secret> = Api::namespaced(ctx.client.clone(), namespace);
            let secret = api.get_opt(&secret_ref.name).await.map_err(|e| {
                (
                    Reason::AuthenticationFailed,
                    format!(
                        "failed to get secret '{namespace}/{}': {e}",
                        secret_ref.name
                    ),
                )
            })?;
            let Some(secret) = secret else {
                return Err((
                    Reason::AuthenticationFailed,
                    format!(
                        "failed to get secret '{namespace}/{}': secrets \"{}\" not found",
                        secret_ref.name, secret_ref.name
                    ),
                ));
            };
            let data: BTreeMap<String, Vec<u8>> = secret
                .data
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.0))
                .collect();
            GitAuth::from_secret_data(&repo.spec.url, &data).map_err(|e| {
                (
                    Reason::AuthenticationFailed,
                    format!("invalid secret '{namespace}/{}': {e}", secret_ref.name),
                )
            })?
        }
    };
    let reference = repo
        .spec
        .reference
        .as_ref()
        .map(|r| GitReference {
            branch: r.branch.clone(),
            tag: r.tag.clone(),
            semver: r.semver.clone(),
            name: r.name.clone(),
            commit: r.commit.clone(),
        })
        .unwrap_or_default();
    let mut spec = GitSourceSpec::new(repo.spec.url.clone()).with_reference(reference);
    spec.ignore = repo.spec.ignore.clone();
    spec.recurse_submodules = repo.spec.recurse_submodules;
    spec.timeout = repo.timeout();

    let included = included_artifacts(repo, ctx, namespace).await?;

    let store = &ctx.artifacts;
    // Skip the download only when the stored artifact is still on disk and was made with the
    // same ignore rules, submodule setting and includes.
    let same_includes = status.observed_include == repo.spec.include
        && digests(&status.included_artifacts) == digests(&included);
    let reusable = status.artifact.as_ref().filter(|a| {
        store.exists(&to_source_artifact(a))
            && status.observed_ignore == repo.spec.ignore
            && status.observed_recurse_submodules == repo.spec.recurse_submodules
            && same_includes
    });
    let last = reusable.map(|a| a.revision.clone());
    let outcome = tether_source::fetch(&spec, &auth, last.as_deref())
        .await
        .map_err(|e| {
            let reason = match e.kind {
                FetchErrorKind::Authentication(_)
                | FetchErrorKind::HostKeyVerification(_)
                | FetchErrorKind::Auth(_) => Reason::AuthenticationFailed,
                _ => Reason::GitOperationFailed,
            };
            (reason, e.to_string())
        })?;
    match outcome {
        FetchOutcome::Unchanged { .. } => {
            // The server may listen elsewhere than when the artifact was stored.
            if let Some(a) = status.artifact.as_mut() {
                a.url = store.url_for(&a.path);
            }
            Ok(())
        }
        FetchOutcome::Fetched(checkout) => {
            let mut files = Vec::new();
            for (include, artifact) in repo.spec.include.iter().zip(&included) {
                files.push(include_files(include, artifact).await?);
            }
            let stored = store
                .archive_with_includes(
                    namespace,
                    &name,
                    &checkout,
                    repo.spec.ignore.as_deref(),
                    files,
                )
                .await
                .map_err(|e| (Reason::StatOperationFailed, e.to_string()))?;
            status.included_artifacts = included;
            if let Err(e) =
                store.garbage_collect(namespace, &name, RETAINED_ARTIFACTS, Some(&stored.path))
            {
                tracing::warn!(gitrepository = %format!("{namespace}/{name}"), error = %e, "artifact garbage collection failed");
            }
            status.artifact = Some(Artifact {
                path: stored.path,
                url: stored.url,
                revision: stored.revision,
                digest: Some(stored.digest),
                last_update_time: k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                    stored.last_update_time,
                ),
                size: i64::try_from(stored.size).ok(),
                metadata: BTreeMap::new(),
            });
            Ok(())
        }
    }
}

/// The artifacts of the GitRepositories `repo` includes, in `spec.include` order.
async fn included_artifacts(
    repo: &GitRepository,
    ctx: &Context,
    namespace: &str,
) -> Result<Vec<Artifact>, (Reason, String)> {
    let api: Api<GitRepository> = Api::namespaced(ctx.client.clone(), namespace);
    let mut out = Vec::new();
    for include in &repo.spec.include {
        let name = &include.repository.name;
        if *name == repo.name_any() {
            return Err((
                Reason::NotFound,
                format!("include '{name}' names this GitRepository itself"),
            ));
        }
        let found = api.get_opt(name).await.map_err(|e| {
            (
                Reason::NotFound,
                format!("could not get resource for include '{name}': {e}"),
            )
        })?;
        let Some(included) = found else {
            return Err((
                Reason::NotFound,
                format!(
                    "could not get resource for include '{name}': gitrepositories.source.toolkit.fluxcd.io \"{name}\" not found"
                ),
            ));
        };
        let Some(artifact) = included.status.and_then(|s| s.artifact) else {
            return Err((
                Reason::NoArtifact,
                format!("no artifact available for include '{name}'"),
            ));
        };
        out.push(artifact);
    }
    Ok(out)
}

/// The files `include` takes from `artifact`, downloaded from the artifact server (digest
/// checked).
async fn include_files(
    include: &tether_api::GitRepositoryInclude,
    artifact: &Artifact,
) -> Result<tether_source::IncludedFiles, (Reason, String)> {
    let from = include.from_path.as_deref().unwrap_or("");
    let to = include.to_path();
    let fail = |e: String| {
        (
            Reason::CopyFailure,
            format!(
                "failed to copy '{}' include from {} to {to}: {e}",
                include.repository.name,
                if from.is_empty() { "." } else { from }
            ),
        )
    };
    let digest = artifact.digest.as_deref().unwrap_or_default();
    let bytes = tether_source::fetch_artifact(&artifact.url, digest)
        .await
        .map_err(|e| fail(e.to_string()))?;
    tether_source::IncludedFiles::from_artifact(&bytes, from, to).map_err(|e| fail(e.to_string()))
}

fn digests(artifacts: &[Artifact]) -> Vec<Option<&str>> {
    artifacts.iter().map(|a| a.digest.as_deref()).collect()
}

fn to_source_artifact(a: &Artifact) -> tether_source::Artifact {
    tether_source::Artifact {
        path: a.path.clone(),
        url: a.url.clone(),
        revision: a.revision.clone(),
        digest: a.digest.clone().unwrap_or_default(),
        size: a.size.and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
        last_update_time: a.last_update_time.0,
    }
}
