//! `tether kustomize build DIR`: kustomize's build with tether's native engine.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use tether_kustomize::{BuildOptions, DiskFs, LoadRestrictor, build};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Build a kustomization directory and print its resources, like `kustomize build`.
    Build(BuildArgs),
}

#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// The kustomization directory.
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Where kustomizations may read files from.
    #[arg(long, default_value = "LoadRestrictionsRootOnly", value_parser = parse_restrictor)]
    load_restrictor: LoadRestrictor,
    /// Write to this file, or one file per resource when it is an existing directory.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Not supported: tether runs no exec or container plugins.
    #[arg(long)]
    enable_alpha_plugins: bool,
    /// Not supported yet: Helm chart inflation.
    #[arg(long)]
    enable_helm: bool,
    /// Refuse git URLs in `resources:` (as Flux's kustomize-controller does by default).
    #[arg(long)]
    no_remote_bases: bool,
}

fn parse_restrictor(s: &str) -> Result<LoadRestrictor, String> {
    s.parse()
}

pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Build(args) => run_build(args),
    }
}

fn run_build(args: BuildArgs) -> anyhow::Result<()> {
    if args.enable_alpha_plugins {
        bail!(
            "--enable-alpha-plugins: tether does not run exec or container KRM function plugins; use built-in transformers or build with kustomize"
        );
    }
    if args.enable_helm {
        bail!("--enable-helm: Helm chart inflation is not supported by tether yet");
    }
    let dir = std::path::absolute(&args.dir)
        .with_context(|| format!("resolving {}", args.dir.display()))?;
    let remote: Option<Arc<dyn tether_kustomize::RemoteFetcher>> = if args.no_remote_bases {
        None
    } else {
        Some(Arc::new(crate::remote::GitCliFetcher::default()))
    };
    let options = BuildOptions {
        load_restrictor: args.load_restrictor,
        remote,
    };
    let output = build(Arc::new(DiskFs), &dir, &options).map_err(anyhow::Error::new)?;
    for w in &output.warnings {
        eprintln!("{w}");
    }
    match args.output {
        Some(path) if path.is_dir() => {
            for r in output.resources.iter() {
                let gvk = r.gvk();
                let parts: Vec<&str> =
                    [gvk.group.as_str(), gvk.version.as_str(), gvk.kind.as_str()]
                        .into_iter()
                        .filter(|s| !s.is_empty())
                        .collect();
                let name = format!("{}_{}.yaml", parts.join("_"), r.name()).to_lowercase();
                std::fs::write(path.join(&name), tether_yaml::to_yaml(&r.object))
                    .with_context(|| format!("writing {}", path.join(&name).display()))?;
            }
        }
        Some(path) => std::fs::write(&path, output.to_yaml())
            .with_context(|| format!("writing {}", path.display()))?,
        None => std::io::stdout().write_all(output.to_yaml().as_bytes())?,
    }
    Ok(())
}
