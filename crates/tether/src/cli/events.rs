//! `tether events [--for KIND/NAME]`: the Kubernetes Events the controllers recorded for
//! GitRepositories and Kustomizations (or for one object), oldest first, as kubectl shows them.

use anyhow::Context as _;
use k8s_openapi::api::events::v1::Event;
use kube::api::{Api, ListParams};

use super::ClusterArgs;
use super::table::render;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only the events of this object, as `KIND/NAME` (e.g. `Kustomization/apps`).
    #[arg(long = "for", value_name = "KIND/NAME")]
    for_object: Option<String>,
    #[command(flatten)]
    cluster: ClusterArgs,
}

/// The kinds whose events `tether events` shows without `--for`.
const FLUX_KINDS: [&str; 2] = ["GitRepository", "Kustomization"];

pub fn run(args: Args) -> anyhow::Result<()> {
    let runtime = super::runtime()?;
    let text = runtime.block_on(events(&args))?;
    print!("{text}");
    Ok(())
}

async fn events(args: &Args) -> anyhow::Result<String> {
    let client = args.cluster.client().await?;
    let api: Api<Event> = if args.cluster.all_namespaces {
        Api::all(client)
    } else {
        Api::namespaced(client, &args.cluster.namespace)
    };
    let wanted = match &args.for_object {
        Some(o) => Some(
            o.split_once('/')
                .with_context(|| format!("--for '{o}': give KIND/NAME"))?,
        ),
        None => None,
    };
    let mut events: Vec<Event> = api
        .list(&ListParams::default())
        .await
        .context("cannot list events")?
        .items
        .into_iter()
        .filter(|e| {
            let Some(regarding) = &e.regarding else {
                return false;
            };
            let kind = regarding.kind.as_deref().unwrap_or_default();
            match wanted {
                Some((k, n)) => {
                    kind.eq_ignore_ascii_case(k) && regarding.name.as_deref() == Some(n)
                }
                None => FLUX_KINDS.contains(&kind),
            }
        })
        .collect();
    events.sort_by_key(last_seen);
    if events.is_empty() {
        eprintln!("No events found.");
        return Ok(String::new());
    }
    let rows: Vec<Vec<String>> = events
        .iter()
        .map(|e| {
            let regarding = e.regarding.clone().unwrap_or_default();
            let mut row = Vec::new();
            if args.cluster.all_namespaces {
                row.push(e.metadata.namespace.clone().unwrap_or_default());
            }
            row.extend([
                last_seen(e).map_or_else(|| "<unknown>".to_owned(), super::table::since),
                e.type_.clone().unwrap_or_default(),
                e.reason.clone().unwrap_or_default(),
                format!(
                    "{}/{}",
                    regarding.kind.unwrap_or_default(),
                    regarding.name.unwrap_or_default()
                ),
                e.note.clone().unwrap_or_default().replace('\n', " "),
            ]);
            row
        })
        .collect();
    let mut headers = Vec::new();
    if args.cluster.all_namespaces {
        headers.push("NAMESPACE");
    }
    headers.extend(["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]);
    Ok(render(&headers, &rows))
}

/// When the event (or its series) was last observed.
fn last_seen(e: &Event) -> Option<jiff::Timestamp> {
    e.series
        .as_ref()
        .map(|s| s.last_observed_time.0)
        .or_else(|| e.event_time.as_ref().map(|t| t.0))
        .or_else(|| e.deprecated_last_timestamp.as_ref().map(|t| t.0))
        .or_else(|| e.metadata.creation_timestamp.as_ref().map(|t| t.0))
}
