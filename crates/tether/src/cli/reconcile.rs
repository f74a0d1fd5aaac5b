//! `tether reconcile source git NAME` and `tether reconcile kustomization NAME [--with-source]`:
//! set `reconcile.fluxcd.io/requestedAt`, then wait until the controller reports that it handled
//! that very request (`status.lastHandledReconcileAt`), and say how it ended. A failed
//! reconcile exits non-zero with the controller's message.

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use kube::api::{Api, Patch, PatchParams};
use kube::{Resource, ResourceExt};
use serde_json::json;
use tether_api::{GitRepository, Kustomization, keys};

use super::ClusterArgs;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
    #[command(flatten)]
    cluster: ClusterArgs,
}

#[derive(Debug, clap::Subcommand)]
enum What {
    /// A source.
    #[command(subcommand)]
    Source(SourceKind),
    /// A Kustomization.
    #[command(alias = "ks")]
    Kustomization {
        name: String,
        /// Reconcile its source first.
        #[arg(long)]
        with_source: bool,
    },
}

#[derive(Debug, clap::Subcommand)]
enum SourceKind {
    /// A GitRepository.
    Git { name: String },
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let runtime = super::runtime()?;
    runtime.block_on(async {
        let client = args.cluster.client().await?;
        let ns = &args.cluster.namespace;
        let timeout = args.cluster.timeout;
        match &args.what {
            What::Source(SourceKind::Git { name }) => {
                reconcile_source(&client, ns, name, timeout).await
            }
            What::Kustomization { name, with_source } => {
                let api: Api<Kustomization> = Api::namespaced(client.clone(), ns);
                let ks = get(&api, name).await?;
                if *with_source {
                    let source_ns = ks.source_namespace().unwrap_or(ns).to_owned();
                    reconcile_source(&client, &source_ns, &ks.spec.source_ref.name, timeout)
                        .await?;
                }
                let done = request_and_wait(&api, &ks, timeout).await?;
                let revision = done
                    .status
                    .as_ref()
                    .and_then(|s| s.last_applied_revision.clone())
                    .unwrap_or_default();
                outcome(done.conditions(), &format!("applied revision {revision}"))
            }
        }
    })
}

async fn reconcile_source(
    client: &kube::Client,
    ns: &str,
    name: &str,
    timeout: Duration,
) -> anyhow::Result<()> {
    let api: Api<GitRepository> = Api::namespaced(client.clone(), ns);
    let repo = get(&api, name).await?;
    let done = request_and_wait(&api, &repo, timeout).await?;
    let revision = done
        .artifact()
        .map(|a| a.revision.clone())
        .unwrap_or_default();
    outcome(done.conditions(), &format!("fetched revision {revision}"))
}

async fn get<K>(api: &Api<K>, name: &str) -> anyhow::Result<K>
where
    K: Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
    K::DynamicType: Default,
{
    let kind = K::kind(&K::DynamicType::default()).into_owned();
    match api
        .get_opt(name)
        .await
        .with_context(|| format!("cannot get {kind} '{name}'"))?
    {
        Some(obj) => Ok(obj),
        None => bail!("{kind} '{name}' not found"),
    }
}

/// Anything `reconcile` can ask to reconcile.
pub trait Reconcilable:
    Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + std::fmt::Debug
{
    fn suspended(&self) -> bool;
    fn last_handled(&self) -> Option<&str>;
    fn conditions_of(&self) -> &[k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition];
}

impl Reconcilable for GitRepository {
    fn suspended(&self) -> bool {
        self.spec.suspend
    }
    fn last_handled(&self) -> Option<&str> {
        self.status.as_ref()?.last_handled_reconcile_at.as_deref()
    }
    fn conditions_of(&self) -> &[k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition] {
        self.conditions()
    }
}

impl Reconcilable for Kustomization {
    fn suspended(&self) -> bool {
        self.spec.suspend
    }
    fn last_handled(&self) -> Option<&str> {
        self.status.as_ref()?.last_handled_reconcile_at.as_deref()
    }
    fn conditions_of(&self) -> &[k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition] {
        self.conditions()
    }
}

/// Annotates `obj` with a new requestedAt and waits, with a spinner on terminals, until the
/// controller handled it; returns the object as it was then.
pub async fn request_and_wait<K: Reconcilable>(
    api: &Api<K>,
    obj: &K,
    timeout: Duration,
) -> anyhow::Result<K> {
    let kind = K::kind(&());
    let name = obj.name_any();
    let ns = obj.namespace().unwrap_or_default();
    if obj.suspended() {
        bail!("{kind} '{ns}/{name}' is suspended; run `tether resume` first");
    }
    let requested = jiff::Timestamp::now().to_string();
    let progress =
        super::progress::Progress::start(&format!("annotating {kind} {name} in namespace {ns}"));
    api.patch(
        &name,
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"annotations": {
            keys::RECONCILE_REQUESTED_AT_ANNOTATION: requested,
        }}})),
    )
    .await
    .with_context(|| format!("cannot annotate {kind} '{ns}/{name}'"))?;
    progress.step(&format!("waiting for {kind} reconciliation"));
    let deadline = Instant::now() + timeout;
    loop {
        let current = get(api, &name).await?;
        if current.last_handled() == Some(requested.as_str()) {
            progress.finish();
            return Ok(current);
        }
        if Instant::now() >= deadline {
            progress.finish();
            bail!(
                "timed out after {} waiting for {kind} '{ns}/{name}' to be reconciled (is the \
                 controller running? `tether controller` or `tether dev`)",
                tether_api::Duration::from_std(timeout)
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// `✔ <success>` when Ready is True, else an error with the controller's message.
fn outcome(
    conditions: &[k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition],
    success: &str,
) -> anyhow::Result<()> {
    match tether_api::conditions::find(conditions, "Ready") {
        Some(c) if c.status == "True" => {
            eprintln!("✔ {success}");
            Ok(())
        }
        Some(c) => bail!("reconciliation failed: {} ({})", c.message, c.reason),
        None => bail!("reconciliation finished without a Ready condition"),
    }
}
