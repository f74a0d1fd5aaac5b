//! `tether export source git NAME|--all`, `export kustomization NAME|--all`, and
//! `tether delete source git NAME`, `delete kustomization NAME`.
//!
//! Export prints objects as they belong in Git: name, namespace, labels, annotations and spec,
//! without status or anything the server set. Delete removes an object and waits until it is
//! gone, i.e. until the controller's finalizer has pruned what a Kustomization applied.

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use kube::api::{Api, DeleteParams, ListParams};
use kube::{Resource, ResourceExt};
use serde_json::{Value, json};
use tether_api::{GitRepository, Kustomization};

use super::ClusterArgs;

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    #[command(subcommand)]
    what: Target,
    #[command(flatten)]
    cluster: ClusterArgs,
    /// Every object of the kind in the namespace.
    #[arg(long, global = true)]
    all: bool,
}

#[derive(Debug, clap::Args)]
pub struct DeleteArgs {
    #[command(subcommand)]
    what: Target,
    #[command(flatten)]
    cluster: ClusterArgs,
}

#[derive(Debug, clap::Subcommand)]
enum Target {
    /// A source.
    #[command(subcommand)]
    Source(SourceKind),
    /// A Kustomization.
    #[command(alias = "ks")]
    Kustomization { name: Option<String> },
}

#[derive(Debug, clap::Subcommand)]
enum SourceKind {
    /// A GitRepository.
    Git { name: Option<String> },
}

pub fn export(args: ExportArgs) -> anyhow::Result<()> {
    super::runtime()?.block_on(async {
        let client = args.cluster.client().await?;
        let ns = &args.cluster.namespace;
        let text = match &args.what {
            Target::Source(SourceKind::Git { name }) => {
                let api: Api<GitRepository> = Api::namespaced(client, ns);
                export_objects(&api, name.as_deref(), args.all).await?
            }
            Target::Kustomization { name } => {
                let api: Api<Kustomization> = Api::namespaced(client, ns);
                export_objects(&api, name.as_deref(), args.all).await?
            }
        };
        print!("{text}");
        Ok(())
    })
}

async fn export_objects<K>(api: &Api<K>, name: Option<&str>, all: bool) -> anyhow::Result<String>
where
    K: Resource + Clone + serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug,
    K::DynamicType: Default,
{
    let kind = K::kind(&K::DynamicType::default()).into_owned();
    let objects = match (name, all) {
        (Some(name), false) => vec![
            api.get_opt(name)
                .await
                .with_context(|| format!("cannot get {kind} '{name}'"))?
                .with_context(|| format!("{kind} '{name}' not found"))?,
        ],
        (None, true) => {
            let mut items = api
                .list(&ListParams::default())
                .await
                .with_context(|| format!("cannot list {kind}s"))?
                .items;
            items.sort_by_key(ResourceExt::name_any);
            items
        }
        _ => bail!("give a name or --all"),
    };
    let mut out = String::new();
    for obj in objects {
        out.push_str("---\n");
        out.push_str(&tether_yaml::to_yaml(&clean(serde_json::to_value(&obj)?)));
    }
    Ok(out)
}

/// The object as it belongs in Git.
fn clean(object: Value) -> Value {
    let meta = &object["metadata"];
    let mut metadata = json!({"name": meta["name"], "namespace": meta["namespace"]});
    if let Some(labels) = meta["labels"].as_object().filter(|l| !l.is_empty()) {
        metadata["labels"] = Value::Object(labels.clone());
    }
    if let Some(annotations) = meta["annotations"].as_object() {
        let kept: serde_json::Map<String, Value> = annotations
            .iter()
            .filter(|(k, _)| {
                k.as_str() != "kubectl.kubernetes.io/last-applied-configuration"
                    && k.as_str() != tether_api::keys::RECONCILE_REQUESTED_AT_ANNOTATION
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !kept.is_empty() {
            metadata["annotations"] = Value::Object(kept);
        }
    }
    json!({
        "apiVersion": object["apiVersion"], "kind": object["kind"],
        "metadata": metadata, "spec": object["spec"],
    })
}

pub fn delete(args: DeleteArgs) -> anyhow::Result<()> {
    super::runtime()?.block_on(async {
        let client = args.cluster.client().await?;
        let ns = &args.cluster.namespace;
        let timeout = args.cluster.timeout;
        match &args.what {
            Target::Source(SourceKind::Git { name }) => {
                let api: Api<GitRepository> = Api::namespaced(client, ns);
                delete_and_wait(&api, name.as_deref(), timeout).await
            }
            Target::Kustomization { name } => {
                let api: Api<Kustomization> = Api::namespaced(client, ns);
                delete_and_wait(&api, name.as_deref(), timeout).await
            }
        }
    })
}

async fn delete_and_wait<K>(
    api: &Api<K>,
    name: Option<&str>,
    timeout: Duration,
) -> anyhow::Result<()>
where
    K: Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
    K::DynamicType: Default,
{
    let kind = K::kind(&K::DynamicType::default()).into_owned();
    let Some(name) = name else {
        bail!("give the name of the {kind} to delete");
    };
    if api.get_opt(name).await?.is_none() {
        bail!("{kind} '{name}' not found");
    }
    let progress = super::progress::Progress::start(&format!("deleting {kind} {name}"));
    api.delete(name, &DeleteParams::default())
        .await
        .with_context(|| format!("cannot delete {kind} '{name}'"))?;
    progress.step(&format!(
        "waiting for {kind} {name} and what it applied to go"
    ));
    let deadline = Instant::now() + timeout;
    while api.get_opt(name).await?.is_some() {
        if Instant::now() >= deadline {
            progress.finish();
            bail!(
                "{kind} '{name}' still exists after {}: its finalizer is waiting for the \
                 controller (`tether get` shows why)",
                tether_api::Duration::from_std(timeout)
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    progress.finish();
    eprintln!("✔ {kind} '{name}' deleted");
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct VersionArgs {
    #[command(flatten)]
    cluster: ClusterArgs,
    /// Only tether's own version, without asking the cluster.
    #[arg(long)]
    client: bool,
}

/// `tether version`: tether's version and the cluster's.
pub fn version(args: VersionArgs) -> anyhow::Result<()> {
    println!("tether: v{}", env!("CARGO_PKG_VERSION"));
    if args.client {
        return Ok(());
    }
    super::runtime()?.block_on(async {
        let client = args.cluster.client().await?;
        let info = client
            .apiserver_version()
            .await
            .context("cannot read the cluster's /version")?;
        println!("kubernetes: {}", info.git_version);
        Ok(())
    })
}
