//! Workload readiness simulation: no pods run here, so after a short delay each Deployment,
//! StatefulSet, DaemonSet, ReplicaSet and Job gets the status kube-controller-manager would give
//! it once its pods were ready (or, with the annotation `tether.dev/simulate: fail`, the status of
//! one that never gets there), so health checks behave as on a cluster.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value, json};

use super::queue::Key;
use crate::core::Core;
use crate::object;
use crate::registry::Resource;
use crate::status::ApiError;

const MANAGER: &str = "kube-controller-manager";
pub const SIMULATE_ANNOTATION: &str = "tether.dev/simulate";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Deployment,
    StatefulSet,
    DaemonSet,
    ReplicaSet,
    Job,
}

const WORKLOADS: &[(&str, &str, Kind)] = &[
    ("apps", "deployments", Kind::Deployment),
    ("apps", "statefulsets", Kind::StatefulSet),
    ("apps", "daemonsets", Kind::DaemonSet),
    ("apps", "replicasets", Kind::ReplicaSet),
    ("batch", "jobs", Kind::Job),
];

pub async fn run(core: Core, delay: Duration, shutdown: tokio::sync::watch::Receiver<bool>) {
    let mut tasks = vec![];
    for (group, resource, kind) in WORKLOADS {
        let Some(r) = core.registry.get(group, "v1", resource) else {
            continue;
        };
        let (core, shutdown, kind) = (core.clone(), shutdown.clone(), *kind);
        tasks.push(tokio::spawn(async move {
            run_one(core, r, kind, delay, shutdown).await
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
}

async fn run_one(
    core: Core,
    r: Arc<Resource>,
    kind: Kind,
    delay: Duration,
    shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let (c, wr) = (core.clone(), r.clone());
    let wants = move |o: &Value, deleted: bool| !deleted && needs_update(kind, o);
    super::run_controller(core, r, shutdown, delay, wants, move |key, _| {
        let (core, r) = (c.clone(), wr.clone());
        async move { reconcile(&core, &r, kind, &key).await }
    })
    .await;
}

fn needs_update(kind: Kind, o: &Value) -> bool {
    object::deletion_timestamp(o).is_none() && o.get("status") != Some(&desired_status(kind, o))
}

async fn reconcile(core: &Core, r: &Arc<Resource>, kind: Kind, key: &Key) -> Result<(), ApiError> {
    let (ns, name) = (key.0.as_deref(), key.1.as_str());
    core.update_with(r, ns, name, Some("status"), MANAGER, |o| {
        if object::deletion_timestamp(o).is_none() {
            o["status"] = desired_status(kind, o);
        }
        Ok(())
    })
    .await?;
    Ok(())
}

fn failing(o: &Value) -> bool {
    object::annotation(o, SIMULATE_ANNOTATION) == Some("fail")
}

fn int_at(o: &Value, pointer: &str, default: i64) -> i64 {
    o.pointer(pointer)
        .and_then(Value::as_i64)
        .unwrap_or(default)
}

/// A condition that says the same as before (type, status, reason, message) is kept whole, with
/// its times, so recomputing a settled status writes nothing.
fn with_conditions(o: &Value, status: &mut Value, conditions: Vec<Value>) {
    let existing = o.pointer("/status/conditions").and_then(Value::as_array);
    let same = |a: &Value, b: &Value| {
        ["type", "status", "reason", "message"]
            .iter()
            .all(|k| a.get(*k) == b.get(*k))
    };
    let merged: Vec<Value> = conditions
        .into_iter()
        .map(|new| {
            existing
                .and_then(|all| all.iter().find(|old| same(old, &new)))
                .cloned()
                .unwrap_or(new)
        })
        .collect();
    status["conditions"] = Value::Array(merged);
}

fn condition(
    type_: &str,
    status: bool,
    reason: &str,
    message: &str,
    with_update_time: bool,
) -> Value {
    let now = object::now();
    let mut c = json!({
        "type": type_,
        "status": if status { "True" } else { "False" },
        "lastTransitionTime": now,
        "reason": reason,
        "message": message,
    });
    if with_update_time {
        c["lastUpdateTime"] = Value::String(now);
    }
    c
}

/// Drops zero counters, as Go's `omitempty` does in real status objects.
fn counters(pairs: &[(&str, i64)]) -> Map<String, Value> {
    pairs
        .iter()
        .filter(|(_, v)| *v != 0)
        .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
        .collect()
}

fn keep_existing_time(o: &Value, field: &str) -> Value {
    o.pointer(&format!("/status/{field}"))
        .cloned()
        .unwrap_or_else(|| Value::String(object::now()))
}

fn desired_status(kind: Kind, o: &Value) -> Value {
    let generation = object::generation(o);
    let fail = failing(o);
    let name = object::name(o);
    let replicas = int_at(o, "/spec/replicas", 1);
    let ready = if fail { 0 } else { replicas };
    let mut status = Value::Object(Map::new());
    match kind {
        Kind::Deployment => {
            status = Value::Object(counters(&[
                ("replicas", replicas),
                ("updatedReplicas", replicas),
                ("readyReplicas", ready),
                ("availableReplicas", ready),
                ("unavailableReplicas", replicas - ready),
            ]));
            let conditions = if fail {
                vec![
                    condition(
                        "Available",
                        false,
                        "MinimumReplicasUnavailable",
                        "Deployment does not have minimum availability.",
                        true,
                    ),
                    condition(
                        "Progressing",
                        false,
                        "ProgressDeadlineExceeded",
                        &format!("ReplicaSet \"{name}\" has timed out progressing."),
                        true,
                    ),
                ]
            } else {
                vec![
                    condition(
                        "Available",
                        true,
                        "MinimumReplicasAvailable",
                        "Deployment has minimum availability.",
                        true,
                    ),
                    condition(
                        "Progressing",
                        true,
                        "NewReplicaSetAvailable",
                        &format!("ReplicaSet \"{name}\" has successfully progressed."),
                        true,
                    ),
                ]
            };
            with_conditions(o, &mut status, conditions);
        }
        Kind::StatefulSet => {
            status = Value::Object(counters(&[
                ("replicas", replicas),
                ("readyReplicas", ready),
                ("currentReplicas", replicas),
                ("updatedReplicas", replicas),
                ("availableReplicas", ready),
            ]));
            status["currentRevision"] = Value::String(format!("{name}-{generation}"));
            status["updateRevision"] = Value::String(format!("{name}-{generation}"));
            status["collisionCount"] = Value::from(0);
        }
        Kind::DaemonSet => {
            // One simulated node: a DaemonSet wants one pod.
            let ready = if fail { 0 } else { 1 };
            status = json!({
                "currentNumberScheduled": 1,
                "desiredNumberScheduled": 1,
                "numberMisscheduled": 0,
                "numberReady": ready,
            });
            if let Value::Object(map) = &mut status {
                map.extend(counters(&[
                    ("updatedNumberScheduled", 1),
                    ("numberAvailable", ready),
                    ("numberUnavailable", 1 - ready),
                ]));
            }
        }
        Kind::ReplicaSet => {
            status = Value::Object(counters(&[
                ("fullyLabeledReplicas", replicas),
                ("readyReplicas", ready),
                ("availableReplicas", ready),
            ]));
            status["replicas"] = Value::from(replicas);
        }
        Kind::Job => {
            let completions = int_at(o, "/spec/completions", 1);
            let backoff = int_at(o, "/spec/backoffLimit", 6);
            status["startTime"] = keep_existing_time(o, "startTime");
            if fail {
                status["failed"] = Value::from(backoff + 1);
                let message = "Job has reached the specified backoff limit";
                with_conditions(
                    o,
                    &mut status,
                    vec![
                        condition(
                            "FailureTarget",
                            true,
                            "BackoffLimitExceeded",
                            message,
                            false,
                        ),
                        condition("Failed", true, "BackoffLimitExceeded", message, false),
                    ],
                );
            } else {
                status["completionTime"] = keep_existing_time(o, "completionTime");
                status["succeeded"] = Value::from(completions);
                with_conditions(
                    o,
                    &mut status,
                    vec![
                        condition(
                            "SuccessCriteriaMet",
                            true,
                            "CompletionsReached",
                            "Reached expected number of succeeded pods",
                            false,
                        ),
                        condition(
                            "Complete",
                            true,
                            "CompletionsReached",
                            "Reached expected number of succeeded pods",
                            false,
                        ),
                    ],
                );
            }
            status["ready"] = Value::from(0);
            status["terminating"] = Value::from(0);
            status["uncountedTerminatedPods"] = json!({});
        }
    }
    if generation > 0 && kind != Kind::Job {
        status["observedGeneration"] = Value::from(generation);
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_deployment_status() {
        let d = json!({"metadata": {"name": "web", "generation": 2}, "spec": {"replicas": 3}});
        let s = desired_status(Kind::Deployment, &d);
        assert_eq!(s["readyReplicas"], 3);
        assert_eq!(s["observedGeneration"], 2);
        assert_eq!(s["conditions"][0]["type"], "Available");
        assert_eq!(s["conditions"][0]["status"], "True");
        assert!(s.get("unavailableReplicas").is_none());
    }

    #[test]
    fn fail_annotation_keeps_it_unready() {
        let d = json!({"metadata": {"name": "web", "generation": 1, "annotations": {SIMULATE_ANNOTATION: "fail"}}, "spec": {"replicas": 2}});
        let s = desired_status(Kind::Deployment, &d);
        assert!(s.get("readyReplicas").is_none());
        assert_eq!(s["conditions"][1]["reason"], "ProgressDeadlineExceeded");
        let j = desired_status(
            Kind::Job,
            &json!({"metadata": {"name": "j", "annotations": {SIMULATE_ANNOTATION: "fail"}}, "spec": {}}),
        );
        assert_eq!(j["conditions"][1]["type"], "Failed");
    }

    #[test]
    fn recomputing_a_settled_status_is_stable() {
        let mut d = json!({"metadata": {"name": "web", "generation": 1}, "spec": {}});
        d["status"] = desired_status(Kind::Deployment, &d);
        std::thread::sleep(std::time::Duration::from_millis(1100));
        assert!(!needs_update(Kind::Deployment, &d));
        let mut j = json!({"metadata": {"name": "j"}, "spec": {}});
        j["status"] = desired_status(Kind::Job, &j);
        assert!(!needs_update(Kind::Job, &j));
    }
}
