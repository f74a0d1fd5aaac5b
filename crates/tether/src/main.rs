//! The `tether` command line: parses arguments, calls into the libraries, and maps errors to
//! messages and exit codes.

mod apiserver;
mod bench;
mod cli;
mod controller;
mod dev;
mod git;
mod kustomize;
mod remote;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

/// The API server allocates small JSON values at a high rate; mimalloc does that markedly
/// faster than glibc's malloc (see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// GitOps for Kubernetes: pulls manifests from Git, builds them with kustomize, applies them
/// with server-side apply, and reports status on Flux's APIs.
#[derive(Debug, Parser)]
#[command(name = "tether", version, propagate_version = true)]
struct Cli {
    /// Log filter (tracing-subscriber syntax), e.g. `info`, `tether_apiserver=debug`.
    #[arg(long, global = true, env = "TETHER_LOG", default_value = "info")]
    log: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the embedded API-only Kubernetes control plane.
    Apiserver(apiserver::Args),
    /// Run the GitRepository and Kustomization controllers against a cluster.
    Controller(controller::Args),
    /// Run the embedded control plane with tether's CRDs and controllers in one process.
    Dev(dev::Args),
    /// Measure tether's speed (see BENCHMARKS.md).
    #[command(subcommand)]
    Bench(bench::Target),
    /// Build kustomizations with tether's native kustomize engine.
    #[command(subcommand)]
    Kustomize(kustomize::Command),
    /// Install tether's CRDs and controller in a cluster (or print them with --export).
    Install(cli::install::Args),
    /// Remove tether, its custom resources and CRDs from a cluster.
    Uninstall(cli::uninstall::Args),
    /// Check the cluster, tether's CRDs and the controller.
    Check(cli::check::Args),
    /// Commit tether's manifests to a repository, install it, and make the cluster follow the
    /// repository.
    Bootstrap(cli::bootstrap::Args),
    /// Create a GitRepository, its Secret, or a Kustomization (or print it with --export).
    Create(cli::create::Args),
    /// Print GitRepositories or Kustomizations as YAML to commit to Git.
    Export(cli::export::ExportArgs),
    /// Delete a GitRepository or Kustomization and wait until it (and what it applied) is gone.
    Delete(cli::export::DeleteArgs),
    /// Build a local directory exactly as the controller would for a Kustomization.
    Build(cli::build::Args),
    /// Show what applying a local directory for a Kustomization would change (exit 1 if anything).
    Diff(cli::diff::Args),
    /// Show the events of GitRepositories and Kustomizations (or of one object).
    Events(cli::events::Args),
    /// Show which Kustomization, source and revision manage an object.
    Trace(cli::trace::Args),
    /// Show the objects a Kustomization applied, as a tree.
    Tree(cli::tree::Args),
    /// Print tether's version and the cluster's.
    Version(cli::export::VersionArgs),
    /// Show GitRepositories and Kustomizations with their status.
    Get(cli::get::Args),
    /// Ask the controller to reconcile an object now and wait for the outcome.
    Reconcile(cli::reconcile::Args),
    /// Stop reconciling an object.
    Suspend(cli::suspend::Args),
    /// Reconcile a suspended object again (and wait for the outcome).
    Resume(cli::suspend::Args),
    /// Print a shell completion script.
    Completion {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.log);
    let result = match cli.command {
        Command::Apiserver(args) => apiserver::run(args),
        Command::Bench(target) => bench::run(target),
        Command::Controller(args) => controller::run(args),
        Command::Dev(args) => dev::run(args),
        Command::Kustomize(command) => kustomize::run(command),
        Command::Install(args) => cli::install::run(args),
        Command::Uninstall(args) => cli::uninstall::run(args),
        Command::Check(args) => cli::check::run(args),
        Command::Bootstrap(args) => cli::bootstrap::run(args),
        Command::Create(args) => cli::create::run(args),
        Command::Get(args) => cli::get::run(args),
        Command::Export(args) => cli::export::export(args),
        Command::Delete(args) => cli::export::delete(args),
        Command::Version(args) => cli::export::version(args),
        Command::Tree(args) => cli::tree::run(args),
        Command::Trace(args) => cli::trace::run(args),
        Command::Events(args) => cli::events::run(args),
        Command::Build(args) => cli::build::run(args),
        // Exit 1 means "there are changes" here, as for `flux diff`; errors get 2.
        Command::Diff(args) => {
            return match cli::diff::run(args) {
                Ok(cli::diff::Outcome::NoChanges) => ExitCode::SUCCESS,
                Ok(cli::diff::Outcome::Changes) => ExitCode::from(1),
                Err(err) => {
                    eprintln!("error: {err:#}");
                    ExitCode::from(2)
                }
            };
        }
        Command::Reconcile(args) => cli::reconcile::run(args),
        Command::Suspend(args) => cli::suspend::run(args, true),
        Command::Resume(args) => cli::suspend::run(args, false),
        Command::Completion { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "tether", &mut std::io::stdout());
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let colour = cli::colour::for_stderr();
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
