//! The Flux-style workflow commands (`install`, `bootstrap`, `create`, `get`, `reconcile`, …):
//! what they share is here — kubectl's cluster flags, the output format, and a kubectl-like table.

pub mod bootstrap;
pub mod build;
pub mod check;
pub mod colour;
pub mod components;
pub mod create;
pub mod diff;
pub mod events;
pub mod export;
pub mod get;
pub mod install;
mod keys;
mod progress;
pub mod reconcile;
pub mod suspend;
mod table;
pub mod trace;
pub mod tree;
pub mod uninstall;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;

/// kubectl's flags for reaching a cluster and choosing a namespace.
#[derive(Debug, Clone, clap::Args)]
pub struct ClusterArgs {
    /// Kubeconfig to use (default: `KUBECONFIG`, then `~/.kube/config`, then in-cluster).
    #[arg(long, global = true, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context to use (default: its current context).
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// Namespace of the objects (and where tether is installed).
    #[arg(
        short = 'n',
        long,
        global = true,
        env = "TETHER_NAMESPACE",
        default_value = "tether-system"
    )]
    pub namespace: String,
    /// Across all namespaces (for listing).
    #[arg(short = 'A', long, global = true)]
    pub all_namespaces: bool,
    /// How long to wait for the cluster and, where a command waits, for the outcome.
    #[arg(long, global = true, default_value = "5m", value_parser = crate::controller::parse_duration)]
    pub timeout: Duration,
}

impl ClusterArgs {
    /// A client for the chosen kubeconfig and context.
    pub async fn client(&self) -> anyhow::Result<kube::Client> {
        let options = kube::config::KubeConfigOptions {
            context: self.context.clone(),
            ..Default::default()
        };
        let config = match &self.kubeconfig {
            Some(path) => {
                let kc = kube::config::Kubeconfig::read_from(path)
                    .with_context(|| format!("cannot read kubeconfig {}", path.display()))?;
                kube::Config::from_custom_kubeconfig(kc, &options)
                    .await
                    .with_context(|| format!("invalid kubeconfig {}", path.display()))?
            }
            None if self.context.is_some() => kube::Config::from_kubeconfig(&options)
                .await
                .context("cannot load the kubeconfig context")?,
            None => kube::Config::infer()
                .await
                .context("no kubeconfig found (set KUBECONFIG or pass --kubeconfig)")?,
        };
        kube::Client::try_from(config).context("cannot build a Kubernetes client")
    }
}

/// A runtime for one command (commands wait on the cluster one request at a time).
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// How objects are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    Table,
    Yaml,
    Json,
}

/// `objects` as a YAML or JSON list (kubectl's `List` shape when more than one), or `None`
/// for the table format.
pub fn render_objects(output: Output, objects: &[serde_json::Value]) -> Option<String> {
    let value = match objects {
        [one] => one.clone(),
        many => serde_json::json!({"apiVersion": "v1", "kind": "List", "items": many}),
    };
    match output {
        Output::Table => None,
        Output::Yaml => Some(tether_yaml::to_yaml(&value)),
        Output::Json => Some(format!(
            "{}\n",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        )),
    }
}
