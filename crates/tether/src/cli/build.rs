//! `tether build kustomization NAME --path DIR`: the controller's exact build of a local
//! directory — the Kustomization's spec overlay (patches, images, prefixes, target namespace,
//! common metadata, components), Flux's generated kustomization.yaml when DIR has none, and
//! post-build substitution with the variables of its `substituteFrom` ConfigMaps and Secrets —
//! printed as `kustomize build` prints. Files outside DIR resolve against the enclosing Git work
//! tree, as they would in the artifact.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, bail};
use kube::api::Api;
use tether_api::Kustomization;

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
    /// A Kustomization.
    #[command(alias = "ks")]
    Kustomization(Flags),
}

#[derive(Debug, clap::Args)]
struct Flags {
    #[command(flatten)]
    local: LocalFlags,
    /// Do not contact the cluster (needs --kustomization-file; `substituteFrom` is skipped).
    #[arg(long, requires = "kustomization_file")]
    dry_run: bool,
}

/// Which Kustomization, and the local directory to build for it (shared with `diff`).
#[derive(Debug, clap::Args)]
pub struct LocalFlags {
    /// The Kustomization's name.
    pub name: String,
    /// The local directory that stands for the Kustomization's `spec.path`.
    #[arg(long, value_name = "DIR")]
    pub path: PathBuf,
    /// Read the Kustomization from this file instead of the cluster.
    #[arg(long, value_name = "FILE")]
    pub kustomization_file: Option<PathBuf>,
}

/// A local build: the Kustomization it was built for and the objects, as the controller would
/// apply them.
#[derive(Debug)]
pub struct Built {
    pub kustomization: Kustomization,
    pub objects: Vec<serde_json::Value>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let What::Kustomization(flags) = &args.what;
    let runtime = super::runtime()?;
    let built = runtime.block_on(build(&args.cluster, &flags.local, flags.dry_run))?;
    let text = built
        .objects
        .iter()
        .map(tether_yaml::to_yaml)
        .collect::<Vec<_>>()
        .join("---\n");
    print!("{text}");
    Ok(())
}

/// Builds `flags.path` exactly as the controller would for the Kustomization (from the cluster,
/// or from `--kustomization-file`), printing the build's warnings to stderr. Without `dry_run`,
/// the variables of `substituteFrom` are read from the cluster.
pub async fn build(
    cluster: &ClusterArgs,
    flags: &LocalFlags,
    dry_run: bool,
) -> anyhow::Result<Built> {
    // A missing directory is the user's mistake to hear about first, before any cluster call.
    let (root, relative) = artifact_root(&flags.path)?;
    let mut ks: Kustomization = match &flags.kustomization_file {
        Some(file) => from_file(file, &flags.name)?,
        None => {
            let client = cluster.client().await?;
            Api::<Kustomization>::namespaced(client, &cluster.namespace)
                .get_opt(&flags.name)
                .await
                .with_context(|| format!("cannot get Kustomization '{}'", flags.name))?
                .with_context(|| {
                    format!(
                        "Kustomization '{}' not found in namespace {}",
                        flags.name, cluster.namespace
                    )
                })?
        }
    };
    let variables = if dry_run {
        if ks
            .spec
            .post_build
            .as_ref()
            .is_some_and(|p| !p.substitute_from.is_empty())
        {
            eprintln!(
                "warning: --dry-run: substituteFrom is skipped, only spec.postBuild.substitute applies"
            );
        }
        ks.spec
            .post_build
            .as_ref()
            .map(|p| p.substitute.clone())
            .unwrap_or_default()
    } else {
        let client = cluster.client().await?;
        match tether_controller::kustomization::build::substitution_variables(&ks, &client).await? {
            Ok(v) => v,
            Err(message) => bail!("{message}"),
        }
    };
    ks.spec.path = Some(format!("./{relative}"));
    let artifact = Arc::new(load(&root)?);
    let built = tether_build::build(
        &artifact,
        &ks.spec,
        &variables,
        &tether_build::BuildOptions::default(),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    for warning in built.warnings.iter() {
        eprintln!("warning: {warning}");
    }
    Ok(Built {
        objects: Arc::unwrap_or_clone(built.objects),
        kustomization: ks,
    })
}

fn from_file(file: &Path, name: &str) -> anyhow::Result<Kustomization> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let docs = tether_yaml::parse_documents(&text)
        .with_context(|| format!("cannot parse {}", file.display()))?;
    for doc in docs.into_iter().map(|d| d.value) {
        if doc["kind"] == "Kustomization" && doc["metadata"]["name"] == name {
            return serde_json::from_value(doc)
                .with_context(|| format!("invalid Kustomization '{name}' in {}", file.display()));
        }
    }
    bail!("{} holds no Kustomization named '{name}'", file.display())
}

/// The Git work tree enclosing `dir` (or `dir` itself outside one), and `dir` relative to it.
fn artifact_root(dir: &Path) -> anyhow::Result<(PathBuf, String)> {
    let dir = dir
        .canonicalize()
        .with_context(|| format!("cannot open {}", dir.display()))?;
    if !dir.is_dir() {
        bail!("{} is not a directory", dir.display());
    }
    let root = dir
        .ancestors()
        .find(|a| a.join(".git").exists())
        .unwrap_or(&dir)
        .to_path_buf();
    let relative = dir
        .strip_prefix(&root)
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .unwrap_or_default();
    Ok((root, relative))
}

/// The files under `root` (without `.git`) as an artifact.
fn load(root: &Path) -> anyhow::Result<tether_build::Artifact> {
    let mut files = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))?
        {
            let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
            let path = entry.path();
            if entry.file_name() == ".git" {
                continue;
            }
            let kind = entry
                .file_type()
                .with_context(|| format!("cannot stat {}", path.display()))?;
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() {
                let relative = path
                    .strip_prefix(root)
                    .map(|p| p.to_string_lossy().replace('\\', "/"))
                    .unwrap_or_default();
                let bytes = std::fs::read(&path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                files.insert(relative, bytes);
            }
        }
    }
    tether_build::Artifact::from_files(files).map_err(|e| anyhow::anyhow!("{e}"))
}
