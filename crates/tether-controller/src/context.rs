//! What every reconcile shares: the client, metrics, event recorders, the build cache and the
//! controller options.

use std::sync::Arc;
use std::time::Duration;

use kube::Client;
use kube::runtime::events::{Recorder, Reporter};

use crate::metrics::Metrics;

/// Options of `tether controller` that change how objects are reconciled.
#[derive(Debug, Clone)]
pub struct ReconcileOptions {
    /// How soon a Kustomization whose dependencies are not ready is tried again (Flux's
    /// `--requeue-dependency`, 30s).
    pub requeue_dependency: Duration,
    /// How soon a Kustomization whose source has no artifact yet is tried again.
    pub requeue_artifact: Duration,
    /// Spread of requeue intervals, in percent either way (Flux's
    /// `--interval-jitter-percentage`, 5).
    pub interval_jitter_percent: u8,
    /// How often health checks poll.
    pub health_poll: Duration,
    /// Parallel requests within an apply stage.
    pub apply_concurrency: usize,
    /// ServiceAccount impersonated by Kustomizations that name none (Flux's
    /// `--default-service-account`); `None` applies with the controller's own identity.
    pub default_service_account: Option<String>,
}

impl Default for ReconcileOptions {
    fn default() -> Self {
        ReconcileOptions {
            requeue_dependency: Duration::from_secs(30),
            requeue_artifact: Duration::from_secs(30),
            interval_jitter_percent: 5,
            health_poll: Duration::from_secs(1),
            apply_concurrency: 8,
            default_service_account: None,
        }
    }
}

/// Shared by all reconciles of one controller process.
pub struct Context {
    pub client: Client,
    pub metrics: Metrics,
    pub source_events: Recorder,
    pub kustomize_events: Recorder,
    pub options: ReconcileOptions,
    pub builds: crate::kustomization::build::Builds,
    /// The clusters and identities Kustomizations apply with.
    pub targets: crate::kustomization::target::Targets,
    /// Where GitRepository artifacts are packed; served over HTTP by the artifact server.
    pub artifacts: tether_source::ArtifactStore,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Context {
    /// `cluster` is the configuration `client` was built from (impersonated clients start from it).
    pub fn new(
        cluster: kube::Config,
        client: Client,
        metrics: Metrics,
        options: ReconcileOptions,
        artifacts: tether_source::ArtifactStore,
    ) -> Arc<Context> {
        let instance = crate::leader::default_identity();
        let reporter = |controller: &str| Reporter {
            controller: controller.to_owned(),
            instance: Some(instance.clone()),
        };
        Arc::new(Context {
            source_events: Recorder::new(client.clone(), reporter("source-controller")),
            kustomize_events: Recorder::new(client.clone(), reporter("kustomize-controller")),
            targets: crate::kustomization::target::Targets::new(
                cluster,
                client.clone(),
                options.default_service_account.clone(),
            ),
            builds: crate::kustomization::build::Builds::default(),
            artifacts,
            client,
            metrics,
            options,
        })
    }
}

/// `interval` moved by a random amount of up to `percent` either way, so objects created
/// together do not reconcile in lockstep.
pub fn jittered(interval: Duration, percent: u8) -> Duration {
    use rand::Rng as _;
    if percent == 0 || interval.is_zero() {
        return interval;
    }
    let spread = f64::from(percent.min(100)) / 100.0;
    let factor = 1.0 + rand::rng().random_range(-spread..=spread);
    interval.mul_f64(factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_the_percentage_and_varies() {
        let base = Duration::from_secs(100);
        let samples: Vec<Duration> = (0..200).map(|_| jittered(base, 5)).collect();
        assert!(
            samples
                .iter()
                .all(|d| *d >= Duration::from_secs(95) && *d <= Duration::from_secs(105))
        );
        assert!(samples.iter().any(|d| *d != samples[0]));
        assert_eq!(jittered(base, 0), base);
    }
}
