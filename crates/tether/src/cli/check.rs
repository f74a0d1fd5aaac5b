//! `tether check`: the cluster is reachable and recent enough, tether's CRDs are served, and a
//! controller holds the leader Lease. Also the probes `install` and `bootstrap` wait with.

use std::time::Duration;

use anyhow::Context as _;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::Api;

use super::ClusterArgs;
use super::components::{CONTROLLER, LEADER_LEASE};

/// The oldest Kubernetes minor version tether supports (kubectl's skew from the newest).
const MIN_MINOR: u32 = 27;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Only check the prerequisites (before `tether install`).
    #[arg(long)]
    pub pre: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    super::runtime()?.block_on(async {
        let client = args.cluster.client().await?;
        let mut failed = false;
        eprintln!("► checking prerequisites");
        let version = require_cluster(&client).await?;
        match minor_of(&version) {
            Some(minor) if minor >= MIN_MINOR => {
                eprintln!("✔ Kubernetes {} >=1.{MIN_MINOR}.0", version.git_version)
            }
            _ => {
                failed = true;
                eprintln!(
                    "✗ Kubernetes {} is older than 1.{MIN_MINOR}.0",
                    version.git_version
                )
            }
        }
        if !args.pre {
            let ns = &args.cluster.namespace;
            eprintln!("► checking controllers");
            let state = controller_state(&client, ns).await?;
            match state.live_holder() {
                Some(holder) => eprintln!("✔ {CONTROLLER}: running ({holder} holds the lease)"),
                None => {
                    failed = true;
                    eprintln!(
                        "✗ {CONTROLLER}: {} (install it with `tether install`, or run `tether dev`)",
                        state.describe()
                    )
                }
            }
            if let Some((ready, wanted)) = state.deployment {
                eprintln!("  deployment {ns}/{CONTROLLER}: {ready}/{wanted} ready");
            }
            eprintln!("► checking crds");
            let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
            for crd in tether_api::crds() {
                let name = crd.metadata.name.clone().unwrap_or_default();
                let version = crd
                    .spec
                    .versions
                    .iter()
                    .find(|v| v.storage)
                    .map_or("v1", |v| v.name.as_str());
                match crds.get_opt(&name).await.with_context(|| format!("cannot read CRD {name}"))? {
                    Some(live) if established(&live) => eprintln!("✔ {name}/{version}"),
                    Some(_) => {
                        failed = true;
                        eprintln!("✗ {name}: not Established")
                    }
                    None => {
                        failed = true;
                        eprintln!("✗ {name}: not installed")
                    }
                }
            }
        }
        if failed {
            anyhow::bail!("check failed");
        }
        eprintln!("✔ all checks passed");
        Ok(())
    })
}

/// The cluster's `/version`, or an error that says the cluster cannot be reached.
pub async fn require_cluster(
    client: &kube::Client,
) -> anyhow::Result<k8s_openapi::apimachinery::pkg::version::Info> {
    client
        .apiserver_version()
        .await
        .context("cannot reach the cluster (check --kubeconfig and --context, or start one with `tether dev`)")
}

fn minor_of(version: &k8s_openapi::apimachinery::pkg::version::Info) -> Option<u32> {
    version
        .minor
        .trim_end_matches('+')
        .parse()
        .ok()
        .filter(|_| version.major == "1")
}

fn established(crd: &CustomResourceDefinition) -> bool {
    crd.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| c.type_ == "Established" && c.status == "True")
        })
}

fn lease_state(lease: Lease) -> ControllerState {
    let mut state = ControllerState::default();
    if let Some(spec) = lease.spec {
        state.holder = spec.holder_identity.filter(|h| !h.is_empty());
        let duration = Duration::from_secs(spec.lease_duration_seconds.unwrap_or(15).max(1) as u64);
        if let Some(renewed) = spec.renew_time.or(spec.acquire_time) {
            let ago = jiff::Timestamp::now().duration_since(renewed.0);
            state.renewal = Some((Duration::try_from(ago).unwrap_or_default(), duration));
        }
    }
    state
}

/// Who holds the leader Lease, how recently it was renewed, and the Deployment's replicas.
#[derive(Debug, Default)]
pub struct ControllerState {
    pub holder: Option<String>,
    /// Time since the last renewal, and the lease's duration.
    pub renewal: Option<(Duration, Duration)>,
    /// Ready and desired replicas of the controller Deployment, when there is one.
    pub deployment: Option<(i32, i32)>,
}

impl ControllerState {
    /// The holder, when it renewed within the lease's duration.
    pub fn live_holder(&self) -> Option<&str> {
        match (&self.holder, self.renewal) {
            (Some(holder), Some((ago, duration))) if ago <= duration && !holder.is_empty() => {
                Some(holder)
            }
            _ => None,
        }
    }

    pub fn describe(&self) -> String {
        match (&self.holder, self.renewal) {
            (None, _) => format!("no controller holds the lease {LEADER_LEASE}"),
            (Some(holder), Some((ago, _))) => format!(
                "the lease holder {holder} last renewed {} ago",
                tether_api::Duration::from_std(ago)
            ),
            (Some(holder), None) => format!("the lease holder {holder} never renewed"),
        }
    }
}

pub async fn controller_state(
    client: &kube::Client,
    namespace: &str,
) -> anyhow::Result<ControllerState> {
    let leases: Api<Lease> = Api::namespaced(client.clone(), namespace);
    let lease = leases
        .get_opt(LEADER_LEASE)
        .await
        .with_context(|| format!("cannot read Lease {namespace}/{LEADER_LEASE}"))?;
    let mut state = lease.map(lease_state).unwrap_or_default();
    if state.live_holder().is_none() {
        // A controller of another install (`tether dev` keeps its lease in tether-system)
        // reconciles this namespace's objects too.
        let all: Api<Lease> = Api::all(client.clone());
        let others = all
            .list(&kube::api::ListParams::default())
            .await
            .context("cannot list Leases")?;
        if let Some(other) = others
            .items
            .into_iter()
            .filter(|l| l.metadata.name.as_deref() == Some(LEADER_LEASE))
            .map(|l| {
                let ns = l.metadata.namespace.clone().unwrap_or_default();
                (ns, lease_state(l))
            })
            .find(|(_, s)| s.live_holder().is_some())
        {
            state = other.1;
            state.holder = state
                .holder
                .map(|h| format!("{h} in namespace {}", other.0));
        }
    }
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    if let Some(d) = deployments
        .get_opt(CONTROLLER)
        .await
        .with_context(|| format!("cannot read Deployment {namespace}/{CONTROLLER}"))?
    {
        let wanted = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
        let ready = d
            .status
            .as_ref()
            .and_then(|s| s.ready_replicas)
            .unwrap_or(0);
        state.deployment = Some((ready, wanted));
    }
    Ok(state)
}
