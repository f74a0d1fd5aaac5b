//! Health checks: poll objects until kstatus says every one is Current, with a growing interval
//! (100 ms doubling up to the configured interval, so short waits end fast and long ones do not
//! hammer the API server), until a deadline.

use std::fmt;
use std::time::{Duration, Instant};

use futures::{StreamExt, stream};
use kube::Client;

use crate::client;
use crate::discovery::Resolved;
use crate::error::Error;
use crate::manager::ResourceManager;
use crate::object::ObjectRef;
use crate::status::{Status, compute_status_json};

/// The first pause between polls; it doubles up to [`WaitOptions::interval`].
const FIRST_POLL: Duration = Duration::from_millis(100);
/// How many objects are read at once per poll.
const POLL_CONCURRENCY: usize = 16;

#[derive(Debug, Clone)]
pub struct WaitOptions {
    /// The longest pause between two polls.
    pub interval: Duration,
    pub timeout: Duration,
    /// Stop as soon as an object is Failed instead of waiting for the deadline.
    pub fail_fast: bool,
}

impl Default for WaitOptions {
    /// Flux's defaults: every 5 s for at most 60 s, not failing fast.
    fn default() -> Self {
        WaitOptions {
            interval: Duration::from_secs(5),
            timeout: Duration::from_secs(60),
            fail_fast: false,
        }
    }
}

/// One object that is not Current.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectHealth {
    pub object: ObjectRef,
    pub status: Status,
    pub message: String,
}

/// Objects that did not become Current: Flux's `timeout waiting for: [...]` or
/// `failed early due to stalled resources: [...]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthError {
    /// The deadline passed (else a Failed object ended the wait early).
    pub timed_out: bool,
    pub objects: Vec<ObjectHealth>,
}

impl fmt::Display for HealthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lead = if self.timed_out {
            "timeout waiting for"
        } else {
            "failed early due to stalled resources"
        };
        write!(f, "{lead}: [")?;
        for (i, o) in self.objects.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{} status: '{}'", o.object, o.status)?;
            if !o.message.is_empty() {
                write!(f, ": {}", o.message)?;
            }
        }
        f.write_str("]")
    }
}

impl std::error::Error for HealthError {}

fn next_pause(pause: Duration, deadline: Instant) -> Duration {
    pause.min(deadline.saturating_duration_since(Instant::now()))
}

impl ResourceManager {
    /// Waits until every object is Current (kstatus). Objects that are missing count as
    /// `NotFound` and are waited for. Errors list each object that is not Current with its
    /// status and message.
    pub async fn wait(
        &self,
        objects: &[ObjectRef],
        options: &WaitOptions,
    ) -> Result<(), HealthError> {
        if objects.is_empty() {
            return Ok(());
        }
        let deadline = Instant::now() + options.timeout;
        let mut pause = FIRST_POLL.min(options.interval);
        loop {
            let statuses = self.poll(objects).await;
            let not_current: Vec<ObjectHealth> = statuses
                .into_iter()
                .filter(|h| h.status != Status::Current)
                .collect();
            if not_current.is_empty() {
                return Ok(());
            }
            let failed: Vec<ObjectHealth> = not_current
                .iter()
                .filter(|h| h.status == Status::Failed)
                .cloned()
                .collect();
            if options.fail_fast && !failed.is_empty() {
                return Err(HealthError {
                    timed_out: false,
                    objects: failed,
                });
            }
            if Instant::now() >= deadline {
                return Err(HealthError {
                    timed_out: true,
                    objects: not_current,
                });
            }
            tokio::time::sleep(next_pause(pause, deadline)).await;
            pause = (pause * 2).min(options.interval);
        }
    }

    /// The status of every object, read now.
    pub async fn statuses(&self, objects: &[ObjectRef]) -> Vec<ObjectHealth> {
        self.poll(objects).await
    }

    async fn poll(&self, objects: &[ObjectRef]) -> Vec<ObjectHealth> {
        // Owned items: a stream of borrowed ones is not `Send` for every lifetime, which would
        // keep callers from spawning the wait.
        stream::iter(objects.to_vec())
            .map(|object| async move {
                let (status, message) = match self.read_status(&object).await {
                    Ok(s) => s,
                    Err(e) => (Status::Unknown, format!("can't determine status: {e}")),
                };
                ObjectHealth {
                    object,
                    status,
                    message,
                }
            })
            .buffered(POLL_CONCURRENCY)
            .collect()
            .await
    }

    async fn read_status(&self, object: &ObjectRef) -> Result<(Status, String), Error> {
        let resolved = self.resolve(object).await?;
        let live = client::get(&self.client, &resolved, object)
            .await
            .map_err(|f| Error::Get {
                object: object.clone(),
                message: f.message,
            })?;
        Ok(match live {
            Some(live) => compute_status_json(&live),
            None => (Status::NotFound, "Resource not found".to_owned()),
        })
    }

    /// Waits until every object is gone (after a prune with foreground deletion, or a
    /// `WaitForTermination` deletion policy).
    pub async fn wait_for_termination(
        &self,
        objects: &[ObjectRef],
        options: &WaitOptions,
    ) -> Result<(), Error> {
        let deadline = Instant::now() + options.timeout;
        for object in objects {
            let resolved = match self.resolve(object).await {
                Ok(r) => r,
                // Nothing serves the kind any more, so no such object exists.
                Err(Error::UnknownKind { .. }) => continue,
                Err(e) => return Err(e),
            };
            let left = WaitOptions {
                timeout: deadline.saturating_duration_since(Instant::now()),
                ..options.clone()
            };
            poll_until_gone(&self.client, &resolved, object, &left).await?;
        }
        Ok(())
    }
}

/// Polls one object until it is not found.
pub(crate) async fn poll_until_gone(
    client: &Client,
    resolved: &Resolved,
    object: &ObjectRef,
    options: &WaitOptions,
) -> Result<(), Error> {
    let start = Instant::now();
    let deadline = start + options.timeout;
    let mut pause = FIRST_POLL.min(options.interval);
    loop {
        let live = client::get(client, resolved, object)
            .await
            .map_err(|f| Error::Get {
                object: object.clone(),
                message: f.message,
            })?;
        if live.is_none() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(Error::TerminationTimeout {
                object: object.clone(),
                seconds: start.elapsed().as_secs_f64(),
            });
        }
        tokio::time::sleep(next_pause(pause, deadline)).await;
        pause = (pause * 2).min(options.interval);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_errors_read_like_flux() {
        let err = HealthError {
            timed_out: true,
            objects: vec![
                ObjectHealth {
                    object: ObjectRef::new("apps/v1", "Deployment", "default", "web"),
                    status: Status::InProgress,
                    message: "Ready: 0/1".into(),
                },
                ObjectHealth {
                    object: ObjectRef::new("v1", "Namespace", "", "x"),
                    status: Status::NotFound,
                    message: String::new(),
                },
            ],
        };
        assert_eq!(
            err.to_string(),
            "timeout waiting for: [Deployment/default/web status: 'InProgress': Ready: 0/1, Namespace/x status: 'NotFound']"
        );
        let early = HealthError {
            timed_out: false,
            objects: vec![],
        };
        assert!(
            early
                .to_string()
                .starts_with("failed early due to stalled resources")
        );
    }
}
