//! `tether get sources git | kustomizations | receivers | all`: Flux's status columns as a kubectl-like
//! table, or the objects as YAML/JSON.

use anyhow::Context as _;
use kube::api::{Api, ListParams};
use kube::{Resource, ResourceExt};
use tether_api::{GitRepository, Kustomization, Receiver};

use super::table::{age, render};
use super::{ClusterArgs, Output, render_objects};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
    #[command(flatten)]
    cluster: ClusterArgs,
    /// Output format.
    #[arg(short = 'o', long, global = true, value_enum, default_value = "table")]
    output: Output,
    /// After the table, print a row each time an object changes, until interrupted.
    #[arg(short = 'w', long, global = true)]
    watch: bool,
}

#[derive(Debug, clap::Subcommand)]
enum What {
    /// Sources.
    #[command(subcommand)]
    Sources(SourceKind),
    /// Kustomizations.
    #[command(alias = "ks", alias = "kustomization")]
    Kustomizations {
        /// Only this one.
        name: Option<String>,
    },
    /// Receivers (the REVISION column shows their webhook path).
    #[command(alias = "receiver", alias = "rcv")]
    Receivers {
        /// Only this one.
        name: Option<String>,
    },
    /// Every GitRepository, Kustomization and Receiver.
    All,
}

#[derive(Debug, clap::Subcommand)]
enum SourceKind {
    /// GitRepositories.
    Git {
        /// Only this one.
        name: Option<String>,
    },
}

/// One object's status line.
struct Row {
    kind: &'static str,
    namespace: String,
    name: String,
    ready: String,
    message: String,
    revision: String,
    suspended: bool,
    age: String,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let runtime = super::runtime()?;
    if args.watch && args.output != Output::Table {
        anyhow::bail!("--watch prints tables only (drop -o)");
    }
    let (text, rows) = runtime.block_on(get(&args))?;
    print!("{text}");
    if args.watch {
        use std::io::Write as _;
        std::io::stdout().flush().ok();
        runtime.block_on(watch(&args, &rows))?;
    }
    Ok(())
}

/// Prints a table row (without the header) whenever a watched object's row changes.
async fn watch(args: &Args, shown: &[Row]) -> anyhow::Result<()> {
    use futures::StreamExt as _;
    use kube::runtime::{WatchStreamExt as _, watcher};
    let client = args.cluster.client().await?;
    let (repos, kss, rcvs) = match &args.what {
        What::Sources(SourceKind::Git { name }) => (Some(name.clone()), None, None),
        What::Kustomizations { name } => (None, Some(name.clone()), None),
        What::Receivers { name } => (None, None, Some(name.clone())),
        What::All => (Some(None), Some(None), Some(None)),
    };
    let config = |only: &Option<String>| match only {
        Some(name) => watcher::Config::default().fields(&format!("metadata.name={name}")),
        None => watcher::Config::default(),
    };
    let mut streams = Vec::new();
    if let Some(only) = repos {
        let api: Api<GitRepository> = scoped(&client, &args.cluster);
        streams.push(
            watcher(api, config(&only))
                .applied_objects()
                .map(|r| r.map(|repo| git_row(&repo)))
                .boxed(),
        );
    }
    if let Some(only) = kss {
        let api: Api<Kustomization> = scoped(&client, &args.cluster);
        streams.push(
            watcher(api, config(&only))
                .applied_objects()
                .map(|r| r.map(|ks| ks_row(&ks)))
                .boxed(),
        );
    }
    if let Some(only) = rcvs {
        let api: Api<Receiver> = scoped(&client, &args.cluster);
        streams.push(
            watcher(api, config(&only))
                .applied_objects()
                .map(|r| r.map(|rcv| receiver_row(&rcv)))
                .boxed(),
        );
    }
    let mut events = futures::stream::select_all(streams);
    let key = |row: &Row| (row.kind.to_owned(), row.namespace.clone(), row.name.clone());
    let state = |row: &Row| {
        format!(
            "{}|{}|{}|{}",
            row.ready, row.message, row.revision, row.suspended
        )
    };
    let mut last: std::collections::BTreeMap<(String, String, String), String> =
        shown.iter().map(|r| (key(r), state(r))).collect();
    while let Some(event) = events.next().await {
        let row = event.context("the watch failed")?;
        let line = table(
            std::slice::from_ref(&row),
            args.cluster.all_namespaces,
            matches!(args.what, What::All),
        );
        // The table's second line is the row; the age column changes with time, not state.
        let Some(text) = line.lines().nth(1).map(str::to_owned) else {
            continue;
        };
        let state = state(&row);
        if last.insert(key(&row), state.clone()).as_ref() != Some(&state) {
            println!("{text}");
            use std::io::Write as _;
            std::io::stdout().flush().ok();
        }
    }
    Ok(())
}

fn scoped<K>(client: &kube::Client, cluster: &ClusterArgs) -> Api<K>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    K::DynamicType: Default,
{
    if cluster.all_namespaces {
        Api::all(client.clone())
    } else {
        Api::namespaced(client.clone(), &cluster.namespace)
    }
}

fn git_row(repo: &GitRepository) -> Row {
    Row {
        kind: "gitrepository",
        revision: repo
            .artifact()
            .map(|a| a.revision.clone())
            .unwrap_or_default(),
        suspended: repo.spec.suspend,
        ..common(repo, repo.conditions())
    }
}

fn ks_row(ks: &Kustomization) -> Row {
    Row {
        kind: "kustomization",
        revision: ks
            .status
            .as_ref()
            .and_then(|s| s.last_applied_revision.clone())
            .unwrap_or_default(),
        suspended: ks.spec.suspend,
        ..common(ks, ks.conditions())
    }
}

fn receiver_row(rcv: &Receiver) -> Row {
    Row {
        kind: "receiver",
        revision: rcv.webhook_path().unwrap_or_default().to_owned(),
        suspended: rcv.spec.suspend,
        ..common(rcv, rcv.conditions())
    }
}

/// What `tether get` prints for `args`, and the rows it shows.
async fn get(args: &Args) -> anyhow::Result<(String, Vec<Row>)> {
    let client = args.cluster.client().await?;
    let mut rows = Vec::new();
    let mut objects = Vec::new();
    let (repos, kss, rcvs) = match &args.what {
        What::Sources(SourceKind::Git { name }) => (Some(name.as_deref()), None, None),
        What::Kustomizations { name } => (None, Some(name.as_deref()), None),
        What::Receivers { name } => (None, None, Some(name.as_deref())),
        What::All => (Some(None), Some(None), Some(None)),
    };
    if let Some(only) = repos {
        for repo in list::<GitRepository>(&client, &args.cluster, only).await? {
            objects.push(serde_json::to_value(&repo)?);
            rows.push(git_row(&repo));
        }
    }
    if let Some(only) = kss {
        for ks in list::<Kustomization>(&client, &args.cluster, only).await? {
            objects.push(serde_json::to_value(&ks)?);
            rows.push(ks_row(&ks));
        }
    }
    if let Some(only) = rcvs {
        let found = match list::<Receiver>(&client, &args.cluster, only).await {
            Ok(found) => found,
            // A cluster installed before Receivers existed has no such CRD: `get all` still
            // lists the rest.
            Err(e) if matches!(args.what, What::All) => {
                tracing::debug!(error = %e, "cannot list Receivers");
                Vec::new()
            }
            Err(e) => return Err(e),
        };
        for rcv in found {
            objects.push(serde_json::to_value(&rcv)?);
            rows.push(receiver_row(&rcv));
        }
    }
    if let Some(text) = render_objects(args.output, &objects) {
        return Ok((text, rows));
    }
    if rows.is_empty() {
        let scope = if args.cluster.all_namespaces {
            "any namespace".to_owned()
        } else {
            format!("namespace {}", args.cluster.namespace)
        };
        eprintln!("No objects found in {scope}.");
        return Ok((String::new(), rows));
    }
    let text = table(
        &rows,
        args.cluster.all_namespaces,
        matches!(args.what, What::All),
    );
    Ok((text, rows))
}

async fn list<K>(
    client: &kube::Client,
    cluster: &ClusterArgs,
    only: Option<&str>,
) -> anyhow::Result<Vec<K>>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
    K::DynamicType: Default,
{
    let kind = K::kind(&K::DynamicType::default()).into_owned();
    let api: Api<K> = scoped(client, cluster);
    if let Some(name) = only {
        let found = api
            .get_opt(name)
            .await
            .with_context(|| format!("cannot get {kind} {name}"))?;
        return match found {
            Some(obj) => Ok(vec![obj]),
            None => anyhow::bail!(
                "{kind} '{name}' not found in namespace {}",
                cluster.namespace
            ),
        };
    }
    let mut items = api
        .list(&ListParams::default())
        .await
        .with_context(|| format!("cannot list {kind}s (are tether's CRDs installed?)"))?
        .items;
    items.sort_by_key(|o| (o.namespace(), o.name_any()));
    Ok(items)
}

fn common<K: Resource>(
    obj: &K,
    conditions: &[k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition],
) -> Row {
    let ready = tether_api::conditions::find(conditions, "Ready");
    Row {
        kind: "",
        namespace: obj.meta().namespace.clone().unwrap_or_default(),
        name: obj.meta().name.clone().unwrap_or_default(),
        ready: ready.map_or_else(|| "Unknown".to_owned(), |c| c.status.clone()),
        message: ready.map(|c| c.message.clone()).unwrap_or_default(),
        revision: String::new(),
        suspended: false,
        age: age(obj.meta().creation_timestamp.as_ref()),
    }
}

fn table(rows: &[Row], all_namespaces: bool, with_kind: bool) -> String {
    let mut headers = Vec::new();
    if all_namespaces {
        headers.push("NAMESPACE");
    }
    headers.extend(["NAME", "READY", "MESSAGE", "REVISION", "SUSPENDED", "AGE"]);
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let mut row = Vec::new();
            if all_namespaces {
                row.push(r.namespace.clone());
            }
            row.push(if with_kind {
                format!("{}/{}", r.kind, r.name)
            } else {
                r.name.clone()
            });
            row.extend([
                r.ready.clone(),
                r.message.replace('\n', " "),
                r.revision.clone(),
                r.suspended.to_string(),
                r.age.clone(),
            ]);
            row
        })
        .collect();
    render(&headers, &cells)
}
