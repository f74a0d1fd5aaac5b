//! `tether suspend|resume source git NAME | kustomization NAME`: set `spec.suspend`. Resuming
//! also requests a reconcile and waits for its outcome, as `flux resume` does.

use anyhow::Context as _;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;
use tether_api::{GitRepository, Kustomization};

use super::ClusterArgs;
use super::reconcile::{Reconcilable, request_and_wait};

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
    Kustomization { name: String },
}

#[derive(Debug, clap::Subcommand)]
enum SourceKind {
    /// A GitRepository.
    Git { name: String },
}

/// Runs `tether suspend` (`suspend` true) or `tether resume`.
pub fn run(args: Args, suspend: bool) -> anyhow::Result<()> {
    let runtime = super::runtime()?;
    runtime.block_on(async {
        let client = args.cluster.client().await?;
        let ns = &args.cluster.namespace;
        match &args.what {
            What::Source(SourceKind::Git { name }) => {
                let api: Api<GitRepository> = Api::namespaced(client, ns);
                toggle(&api, name, suspend, args.cluster.timeout).await
            }
            What::Kustomization { name } => {
                let api: Api<Kustomization> = Api::namespaced(client, ns);
                toggle(&api, name, suspend, args.cluster.timeout).await
            }
        }
    })
}

async fn toggle<K: Reconcilable>(
    api: &Api<K>,
    name: &str,
    suspend: bool,
    timeout: std::time::Duration,
) -> anyhow::Result<()> {
    let kind = K::kind(&());
    let patched = api
        .patch(
            name,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"suspend": suspend}})),
        )
        .await
        .with_context(|| format!("cannot update {kind} '{name}'"))?;
    if suspend {
        eprintln!("✔ {kind} '{name}' suspended");
        return Ok(());
    }
    let done = request_and_wait(api, &patched, timeout).await?;
    match tether_api::conditions::find(done.conditions_of(), "Ready") {
        Some(c) if c.status == "True" => {
            eprintln!("✔ {kind} '{name}' resumed: {}", c.message);
            Ok(())
        }
        Some(c) => anyhow::bail!(
            "{kind} '{name}' resumed but failed: {} ({})",
            c.message,
            c.reason
        ),
        None => anyhow::bail!("{kind} '{name}' resumed; no Ready condition yet"),
    }
}
