//! `tether uninstall`: removes the components, the GitRepositories and Kustomizations and the
//! CRDs, in an order that never leaves an object stuck on a finalizer.
//!
//! What the Kustomizations applied stays unless `--prune-workloads`: each Kustomization is set to
//! `deletionPolicy: Orphan` before it is deleted, so a running controller lets go of its objects,
//! and finalizers that no controller will handle are removed. With `--prune-workloads` the
//! Kustomizations are deleted first with `deletionPolicy: Delete` and the controller, still
//! running, prunes what each applied (those that manage tether itself are orphaned: pruning them
//! would delete the controller mid-way).

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Service, ServiceAccount};
use k8s_openapi::api::rbac::v1::ClusterRoleBinding;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use kube::{Resource, ResourceExt as _};
use serde_json::json;
use tether_api::{GitRepository, Kustomization};

use super::ClusterArgs;
use super::components::PART_OF;
use super::progress::Progress;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Also delete what the Kustomizations applied (the controller prunes it first).
    #[arg(long)]
    pub prune_workloads: bool,
    /// Keep the namespace tether was installed in.
    #[arg(long)]
    pub keep_namespace: bool,
    /// Say what would be deleted, and delete nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask for confirmation.
    #[arg(short, long)]
    pub silent: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    if !args.silent && !args.dry_run {
        confirm(&args)?;
    }
    super::runtime()?.block_on(uninstall(&args))
}

fn confirm(args: &Args) -> anyhow::Result<()> {
    if !std::io::stdin().is_terminal() {
        bail!("uninstalling asks for confirmation: run it in a terminal, or pass --silent");
    }
    let what = if args.prune_workloads {
        "tether, its custom resources and everything they applied"
    } else {
        "tether and its custom resources (what they applied stays)"
    };
    eprint!("Delete {what}? [y/N] ");
    std::io::stderr().flush().ok();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if !matches!(answer.trim(), "y" | "Y" | "yes") {
        bail!("cancelled");
    }
    Ok(())
}

async fn uninstall(args: &Args) -> anyhow::Result<()> {
    let client = args.cluster.client().await?;
    super::check::require_cluster(&client).await?;
    let ns = args.cluster.namespace.as_str();
    let dry = args.dry_run;
    let timeout = args.cluster.timeout;
    let part_of = ListParams::default().labels(&format!("{}={}", PART_OF.0, PART_OF.1));
    let crds_present = Api::<CustomResourceDefinition>::all(client.clone())
        .get_opt(&crd_name::<Kustomization>())
        .await?
        .is_some();

    let kustomizations: Api<Kustomization> = Api::all(client.clone());
    let sources: Api<GitRepository> = Api::all(client.clone());
    if args.prune_workloads && crds_present {
        let progress = Progress::start("deleting Kustomizations and what they applied");
        for ks in kustomizations.list(&ListParams::default()).await?.items {
            if manages_tether(&ks) {
                continue;
            }
            let api: Api<Kustomization> =
                Api::namespaced(client.clone(), &ks.namespace().unwrap_or_default());
            delete(&api, &ks.name_any(), Some("Delete"), dry).await?;
        }
        if !dry {
            wait_gone(&kustomizations, |ks| !manages_tether(ks), timeout)
                .await
                .inspect_err(|_| progress.finish())?;
        }
        progress.finish();
    }

    let deployments: Api<Deployment> = Api::namespaced(client.clone(), ns);
    for d in deployments.list(&part_of).await?.items {
        delete(&deployments, &d.name_any(), None, dry).await?;
    }

    if crds_present {
        for ks in kustomizations.list(&ListParams::default()).await?.items {
            let api: Api<Kustomization> =
                Api::namespaced(client.clone(), &ks.namespace().unwrap_or_default());
            delete(&api, &ks.name_any(), Some("Orphan"), dry).await?;
            release(&api, &ks.name_any(), dry).await?;
        }
        for source in sources.list(&ListParams::default()).await?.items {
            let api: Api<GitRepository> =
                Api::namespaced(client.clone(), &source.namespace().unwrap_or_default());
            delete(&api, &source.name_any(), None, dry).await?;
            release(&api, &source.name_any(), dry).await?;
        }
    }

    let services: Api<Service> = Api::namespaced(client.clone(), ns);
    for s in services.list(&part_of).await?.items {
        delete(&services, &s.name_any(), None, dry).await?;
    }
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), ns);
    for a in accounts.list(&part_of).await?.items {
        delete(&accounts, &a.name_any(), None, dry).await?;
    }
    let bindings: Api<ClusterRoleBinding> = Api::all(client.clone());
    for b in bindings.list(&part_of).await?.items {
        delete(&bindings, &b.name_any(), None, dry).await?;
    }
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    for name in [crd_name::<GitRepository>(), crd_name::<Kustomization>()] {
        if crds.get_opt(&name).await?.is_some() {
            delete(&crds, &name, None, dry).await?;
        }
    }
    let namespaces: Api<Namespace> = Api::all(client.clone());
    if !args.keep_namespace && namespaces.get_opt(ns).await?.is_some() {
        delete(&namespaces, ns, None, dry).await?;
    }
    if dry {
        eprintln!("✔ uninstall dry-run finished: nothing was deleted");
    } else {
        eprintln!("✔ uninstall finished");
    }
    Ok(())
}

fn crd_name<K: Resource<DynamicType = ()>>() -> String {
    format!("{}.{}", K::plural(&()), K::group(&()))
}

/// Whether a Kustomization applied tether's own components (its inventory holds a tether CRD).
fn manages_tether(ks: &Kustomization) -> bool {
    let ours = [crd_name::<GitRepository>(), crd_name::<Kustomization>()];
    ks.status
        .as_ref()
        .and_then(|s| s.inventory.as_ref())
        .is_some_and(|inv| {
            inv.entries.iter().any(|e| {
                ours.iter()
                    .any(|crd| e.id.starts_with(&format!("_{crd}_apiextensions.k8s.io_")))
            })
        })
}

/// Deletes `name`, first setting the Kustomization `deletionPolicy` when given.
async fn delete<K>(api: &Api<K>, name: &str, policy: Option<&str>, dry: bool) -> anyhow::Result<()>
where
    K: Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
    K::DynamicType: Default,
{
    let kind = K::kind(&K::DynamicType::default()).into_owned();
    if dry {
        eprintln!("► would delete {kind} {name}");
        return Ok(());
    }
    if let Some(policy) = policy {
        let patch = json!({"spec": {"deletionPolicy": policy}});
        api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .with_context(|| format!("cannot set deletionPolicy {policy} on {kind} {name}"))?;
    }
    match api.delete(name, &DeleteParams::background()).await {
        Ok(_) => eprintln!("✔ {kind} {name} deleted"),
        Err(kube::Error::Api(e)) if e.code == 404 => {}
        Err(e) => return Err(e).with_context(|| format!("cannot delete {kind} {name}")),
    }
    Ok(())
}

/// Gives a running controller a moment to handle the deletion, then removes the finalizers it
/// left (no controller will come for them once tether is gone).
async fn release<K>(api: &Api<K>, name: &str, dry: bool) -> anyhow::Result<()>
where
    K: Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
    K::DynamicType: Default,
{
    if dry {
        return Ok(());
    }
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let Some(object) = api.get_opt(name).await? else {
            return Ok(());
        };
        if object.meta().finalizers.as_ref().is_none_or(Vec::is_empty) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            let patch = json!({"metadata": {"finalizers": null}});
            return match api
                .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                Ok(_) => Ok(()),
                Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
                Err(e) => Err(e).with_context(|| format!("cannot remove the finalizers of {name}")),
            };
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until no object of `api` that `matters` is left.
async fn wait_gone<K>(
    api: &Api<K>,
    matters: impl Fn(&K) -> bool,
    timeout: Duration,
) -> anyhow::Result<()>
where
    K: Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
    K::DynamicType: Default,
{
    let deadline = Instant::now() + timeout;
    loop {
        let left: Vec<String> = api
            .list(&ListParams::default())
            .await?
            .items
            .iter()
            .filter(|o| matters(o))
            .map(|o| {
                format!(
                    "{}/{}",
                    o.meta().namespace.clone().unwrap_or_default(),
                    o.meta().name.clone().unwrap_or_default()
                )
            })
            .collect();
        if left.is_empty() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!(
                "the controller did not finish pruning {} within {} (is it running? `tether check` tells); nothing else was deleted",
                left.join(", "),
                tether_api::Duration::from_std(timeout)
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
