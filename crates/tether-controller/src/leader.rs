//! Leader election on a `coordination.k8s.io/v1` Lease, so only one of several controller
//! replicas reconciles at a time. Built on `kube-lease-manager` (server-side apply on the Lease,
//! renewal before expiry, takeover of an expired lease).
//!
//! Flow: [`Leadership::acquire`] waits until this instance holds the lease; the controllers then
//! run until [`Leadership::lost`] resolves (the lease was taken or could not be renewed: the
//! caller must stop reconciling, as controller-runtime exits) or until shutdown, when
//! [`Leadership::release`] frees the lease so a standby takes over at once instead of waiting
//! for it to expire. A killed leader is replaced once its lease expires (`lease_duration`).

use std::time::Duration;

use kube::Client;
use kube_lease_manager::{LeaseCreateMode, LeaseManager, LeaseManagerBuilder, LeaseParams};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Where the lease lives and how long it lasts.
#[derive(Debug, Clone)]
pub struct LeaderConfig {
    pub namespace: String,
    pub lease_name: String,
    /// Unique per replica (pod name or host name plus a random suffix).
    pub identity: String,
    /// How long a lease stays valid after its last renewal.
    pub lease_duration: Duration,
    /// How long before expiry the holder renews.
    pub renew_before: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum LeaderError {
    #[error(
        "invalid leader election timing: the lease duration ({duration:?}) must be whole seconds, \
         longer than the renewal margin ({renew:?}), which must be at least 1s"
    )]
    Timing { duration: Duration, renew: Duration },
    #[error("leader election on Lease {namespace}/{name}: {source}")]
    Lease {
        namespace: String,
        name: String,
        #[source]
        source: kube_lease_manager::LeaseManagerError,
    },
    #[error("leader election on Lease {namespace}/{name} stopped before this instance led")]
    Stopped { namespace: String, name: String },
}

/// Held leadership; see the module docs.
pub struct Leadership {
    config: LeaderConfig,
    state: watch::Receiver<bool>,
    task: JoinHandle<kube_lease_manager::Result<LeaseManager>>,
}

impl std::fmt::Debug for Leadership {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Leadership")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Leadership {
    /// Waits until this instance holds the lease (creating the Lease when missing).
    pub async fn acquire(client: Client, config: LeaderConfig) -> Result<Self, LeaderError> {
        let duration = config.lease_duration.as_secs();
        let renew = config.renew_before.as_secs();
        // LeaseParams panics on these; refuse them with a message instead.
        if duration == 0
            || renew == 0
            || renew >= duration
            || config.lease_duration.subsec_nanos() != 0
        {
            return Err(LeaderError::Timing {
                duration: config.lease_duration,
                renew: config.renew_before,
            });
        }
        let lease_err = |source| LeaderError::Lease {
            namespace: config.namespace.clone(),
            name: config.lease_name.clone(),
            source,
        };
        let manager = LeaseManagerBuilder::new(client, config.lease_name.clone())
            .with_namespace(config.namespace.clone())
            .with_create_mode(LeaseCreateMode::AutoCreate)
            .with_parameters(LeaseParams::new(config.identity.clone(), duration, renew))
            .build()
            .await
            .map_err(lease_err)?;
        let (mut state, task) = manager.watch().await;
        tracing::info!(
            lease = %format!("{}/{}", config.namespace, config.lease_name),
            identity = %config.identity,
            "waiting to become the leader"
        );
        while !*state.borrow_and_update() {
            if state.changed().await.is_err() {
                return Err(match task.await {
                    Ok(Err(source)) => lease_err(source),
                    _ => LeaderError::Stopped {
                        namespace: config.namespace.clone(),
                        name: config.lease_name.clone(),
                    },
                });
            }
        }
        tracing::info!(identity = %config.identity, "became the leader");
        Ok(Leadership {
            config,
            state,
            task,
        })
    }

    /// Resolves when this instance no longer holds the lease.
    pub async fn lost(&mut self) {
        loop {
            if !*self.state.borrow_and_update() {
                return;
            }
            if self.state.changed().await.is_err() {
                return;
            }
        }
    }

    /// Frees the lease (closing the channel makes the lease task release and exit).
    pub async fn release(self) -> Result<(), LeaderError> {
        let Leadership {
            config,
            state,
            task,
        } = self;
        drop(state);
        match task.await {
            Ok(Ok(_)) => {
                tracing::info!(identity = %config.identity, "released the leader lease");
                Ok(())
            }
            Ok(Err(source)) => Err(LeaderError::Lease {
                namespace: config.namespace,
                name: config.lease_name,
                source,
            }),
            Err(_) => Err(LeaderError::Stopped {
                namespace: config.namespace,
                name: config.lease_name,
            }),
        }
    }
}

impl Leadership {
    /// Stops renewing without releasing, as a killed process does (for tests of takeover).
    pub fn abandon(self) {
        self.task.abort();
    }
}

/// A replica identity: the host name (the pod name in a cluster) and a random suffix.
pub fn default_identity() -> String {
    use rand::Rng as _;
    let host = std::env::var("POD_NAME")
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "tether".to_owned());
    let suffix: u32 = rand::rng().random();
    format!("{host}-{suffix:08x}")
}
