//! kstatus: the status of an object computed from what it reports, with the rules of
//! `sigs.k8s.io/cli-utils/pkg/kstatus/status` and Flux's Job reader.
//!
//! 1. `metadata.deletionTimestamp` set: Terminating.
//! 2. `status.observedGeneration` present and not `metadata.generation`: InProgress.
//! 3. A `Reconciling=True` condition: InProgress; a `Stalled=True` condition: Failed.
//! 4. The rules of the built-in kinds (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, Pod,
//!    PersistentVolumeClaim, Service, CustomResourceDefinition, PodDisruptionBudget, ...).
//! 5. A `Ready` condition: True is Current, False or Unknown is InProgress.
//! 6. Anything else is Current.

use std::fmt;

use kube::api::DynamicObject;
use serde_json::Value;

/// kstatus' status values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    InProgress,
    Failed,
    Current,
    Terminating,
    NotFound,
    Unknown,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::InProgress => "InProgress",
            Status::Failed => "Failed",
            Status::Current => "Current",
            Status::Terminating => "Terminating",
            Status::NotFound => "NotFound",
            Status::Unknown => "Unknown",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The status of a live object and kstatus' message for it.
pub fn compute_status(object: &DynamicObject) -> (Status, String) {
    match serde_json::to_value(object) {
        Ok(value) => compute_status_json(&value),
        Err(e) => (Status::Unknown, format!("cannot read the object: {e}")),
    }
}

/// [`compute_status`] of an object as JSON.
pub fn compute_status_json(object: &Value) -> (Status, String) {
    if let Some(result) = generic(object) {
        return result;
    }
    let api_version = str_at(object, "/apiVersion", "");
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    let kind = str_at(object, "/kind", "");
    let specific = match (group, kind) {
        ("", "Service") => Some(service(object)),
        ("", "Pod") => Some(pod(object)),
        ("", "PersistentVolumeClaim") => Some(pvc(object)),
        ("", "Namespace") => Some(namespace(object)),
        ("", "Secret" | "ConfigMap") | ("batch", "CronJob") => {
            Some(current("Resource is always ready"))
        }
        ("apps" | "extensions", "Deployment") => Some(deployment(object)),
        ("apps", "StatefulSet") => Some(stateful_set(object)),
        ("apps" | "extensions", "DaemonSet") => Some(daemon_set(object)),
        ("apps" | "extensions", "ReplicaSet") => Some(replica_set(object)),
        ("batch", "Job") => Some(job(object)),
        ("policy", "PodDisruptionBudget") => Some(current("AllowedDisruptions has been computed.")),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => Some(crd(object)),
        _ => None,
    };
    if let Some(result) = specific {
        return result;
    }
    if let Some(result) = ready_condition(object) {
        return result;
    }
    current("Resource is current")
}

fn current(message: &str) -> (Status, String) {
    (Status::Current, message.to_owned())
}

fn in_progress(message: impl Into<String>) -> (Status, String) {
    (Status::InProgress, message.into())
}

fn failed(message: impl Into<String>) -> (Status, String) {
    (Status::Failed, message.into())
}

fn str_at<'a>(object: &'a Value, pointer: &str, default: &'a str) -> &'a str {
    object
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or(default)
}

fn int_at(object: &Value, pointer: &str, default: i64) -> i64 {
    object
        .pointer(pointer)
        .and_then(Value::as_i64)
        .unwrap_or(default)
}

struct Condition<'a> {
    type_: &'a str,
    status: &'a str,
    reason: &'a str,
    message: &'a str,
}

fn conditions(object: &Value) -> Vec<Condition<'_>> {
    object
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .map(|all| {
            all.iter()
                .map(|c| {
                    let s = |f: &str| c.get(f).and_then(Value::as_str).unwrap_or("");
                    Condition {
                        type_: s("type"),
                        status: s("status"),
                        reason: s("reason"),
                        message: s("message"),
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

fn generic(object: &Value) -> Option<(Status, String)> {
    if object
        .pointer("/metadata/deletionTimestamp")
        .and_then(Value::as_str)
        .is_some_and(|t| !t.is_empty())
    {
        return Some((
            Status::Terminating,
            "Resource scheduled for deletion".to_owned(),
        ));
    }
    if let (Some(generation), Some(observed)) = (
        object
            .pointer("/metadata/generation")
            .and_then(Value::as_i64),
        object
            .pointer("/status/observedGeneration")
            .and_then(Value::as_i64),
    ) && generation != observed
    {
        let kind = str_at(object, "/kind", "");
        return Some(in_progress(format!(
            "{kind} generation is {generation}, but latest observed generation is {observed}"
        )));
    }
    for c in conditions(object) {
        if c.type_ == "Reconciling" && c.status == "True" {
            return Some(in_progress(c.message));
        }
        if c.type_ == "Stalled" && c.status == "True" {
            return Some(failed(c.message));
        }
    }
    None
}

fn ready_condition(object: &Value) -> Option<(Status, String)> {
    let c = conditions(object)
        .into_iter()
        .find(|c| c.type_ == "Ready")?;
    match c.status {
        "True" => Some(current("Resource is Ready")),
        "False" | "Unknown" => Some(in_progress(c.message)),
        _ => None,
    }
}

fn deployment(o: &Value) -> (Status, String) {
    // Without a progress deadline the controller never sets Progressing: treat it as progressing.
    let mut progressing =
        int_at(o, "/spec/progressDeadlineSeconds", i64::from(i32::MAX)) == i64::from(i32::MAX);
    let mut available = false;
    for c in conditions(o) {
        match c.type_ {
            "Progressing" => {
                if c.reason == "ProgressDeadlineExceeded" {
                    return failed("Progress deadline exceeded");
                }
                if c.status == "True" && c.reason == "NewReplicaSetAvailable" {
                    progressing = true;
                }
            }
            "Available" if c.status == "True" => available = true,
            _ => {}
        }
    }
    let spec = int_at(o, "/spec/replicas", 1);
    let replicas = int_at(o, "/status/replicas", 0);
    let updated = int_at(o, "/status/updatedReplicas", 0);
    let ready = int_at(o, "/status/readyReplicas", 0);
    let avail = int_at(o, "/status/availableReplicas", 0);
    if spec > replicas {
        return in_progress(format!("replicas: {replicas}/{spec}"));
    }
    if spec > updated {
        return in_progress(format!("Updated: {updated}/{spec}"));
    }
    if replicas > spec {
        return in_progress(format!("Pending termination: {}", replicas - spec));
    }
    if updated > avail {
        return in_progress(format!("Available: {avail}/{updated}"));
    }
    if spec > ready {
        return in_progress(format!("Ready: {ready}/{spec}"));
    }
    if !progressing {
        return in_progress("ReplicaSet not Available");
    }
    if !available {
        return in_progress("Deployment not Available");
    }
    (
        Status::Current,
        format!("Deployment is available. Replicas: {replicas}"),
    )
}

fn stateful_set(o: &Value) -> (Status, String) {
    if str_at(o, "/spec/updateStrategy/type", "") == "OnDelete" {
        return current("StatefulSet is using the ondelete update strategy");
    }
    let spec = int_at(o, "/spec/replicas", 1);
    let ready = int_at(o, "/status/readyReplicas", 0);
    let current_replicas = int_at(o, "/status/currentReplicas", 0);
    let updated = int_at(o, "/status/updatedReplicas", 0);
    let replicas = int_at(o, "/status/replicas", 0);
    let partition = int_at(o, "/spec/updateStrategy/rollingUpdate/partition", -1);
    if spec > replicas {
        return in_progress(format!("Replicas: {replicas}/{spec}"));
    }
    if spec > ready {
        return in_progress(format!("Ready: {ready}/{spec}"));
    }
    if replicas > spec {
        return in_progress(format!("Pending termination: {}", replicas - spec));
    }
    if partition != -1 {
        if updated < spec - partition {
            return in_progress(format!("updated: {updated}/{}", spec - partition));
        }
        return (
            Status::Current,
            format!("Partition rollout complete. updated: {updated}"),
        );
    }
    if spec > current_replicas {
        return in_progress(format!("current: {current_replicas}/{spec}"));
    }
    if str_at(o, "/status/currentRevision", "") != str_at(o, "/status/updateRevision", "") {
        return in_progress("Waiting for updated revision to match current");
    }
    (
        Status::Current,
        format!("All replicas scheduled as expected. Replicas: {replicas}"),
    )
}

fn daemon_set(o: &Value) -> (Status, String) {
    let desired = int_at(o, "/status/desiredNumberScheduled", -1);
    let current_n = int_at(o, "/status/currentNumberScheduled", 0);
    let updated = int_at(o, "/status/updatedNumberScheduled", 0);
    let available = int_at(o, "/status/numberAvailable", 0);
    let ready = int_at(o, "/status/numberReady", 0);
    if desired == -1 {
        return in_progress("Missing .status.desiredNumberScheduled");
    }
    if desired > current_n {
        return in_progress(format!("Current: {current_n}/{desired}"));
    }
    if desired > updated {
        return in_progress(format!("Updated: {updated}/{desired}"));
    }
    if desired > available {
        return in_progress(format!("Available: {available}/{desired}"));
    }
    if desired > ready {
        return in_progress(format!("Ready: {ready}/{desired}"));
    }
    (
        Status::Current,
        format!("All replicas scheduled as expected. Replicas: {desired}"),
    )
}

fn replica_set(o: &Value) -> (Status, String) {
    if conditions(o)
        .iter()
        .any(|c| c.type_ == "ReplicaFailure" && c.status == "True")
    {
        return in_progress("Replica Failure condition. Check Pods");
    }
    let spec = int_at(o, "/spec/replicas", 1);
    let replicas = int_at(o, "/status/replicas", 0);
    let ready = int_at(o, "/status/readyReplicas", 0);
    let available = int_at(o, "/status/availableReplicas", 0);
    let labelled = int_at(o, "/status/fullyLabeledReplicas", 0);
    if spec > labelled {
        return in_progress(format!("Labelled: {labelled}/{spec}"));
    }
    if spec > available {
        return in_progress(format!("Available: {available}/{spec}"));
    }
    if spec > ready {
        return in_progress(format!("Ready: {ready}/{spec}"));
    }
    if replicas > spec {
        return in_progress(format!("Pending termination: {}", replicas - spec));
    }
    (
        Status::Current,
        format!("ReplicaSet is available. Replicas: {replicas}"),
    )
}

/// Flux's Job reader: a Job is Current only once it completed (kstatus alone says Current as soon
/// as it started), Failed when it failed, and a suspended Job is Current.
fn job(o: &Value) -> (Status, String) {
    if o.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true) {
        return current("Job is suspended");
    }
    let parallelism = int_at(o, "/spec/parallelism", 1);
    let completions = int_at(o, "/spec/completions", parallelism);
    let active = int_at(o, "/status/active", 0);
    let succeeded = int_at(o, "/status/succeeded", 0);
    let failed_pods = int_at(o, "/status/failed", 0);
    for c in conditions(o) {
        match c.type_ {
            "Complete" if c.status == "True" => {
                return (
                    Status::Current,
                    format!("Job Completed. succeeded: {succeeded}/{completions}"),
                );
            }
            "Failed" if c.status == "True" => {
                let mut message = format!("Job Failed. failed: {failed_pods}/{completions}");
                if !c.message.is_empty() {
                    message = format!("{message} error: {}", c.message);
                }
                return failed(message);
            }
            _ => {}
        }
    }
    if str_at(o, "/status/startTime", "").is_empty() {
        return in_progress(format!("Job not started. active: 0/{parallelism}"));
    }
    in_progress(format!(
        "Job in progress. success:{succeeded}, active: {active}, failed: {failed_pods}"
    ))
}

fn pod(o: &Value) -> (Status, String) {
    let all = conditions(o);
    match str_at(o, "/status/phase", "") {
        "Succeeded" => current("Pod has completed successfully"),
        "Failed" => current("Pod has completed, but not successfully"),
        "Running" => {
            if all.iter().any(|c| c.type_ == "Ready" && c.status == "True") {
                return current("Pod is Ready");
            }
            let crashing: Vec<&str> = o
                .pointer("/status/containerStatuses")
                .and_then(Value::as_array)
                .map(|cs| {
                    cs.iter()
                        .filter(|c| {
                            c.pointer("/state/waiting/reason").and_then(Value::as_str)
                                == Some("CrashLoopBackOff")
                        })
                        .filter_map(|c| c.get("name").and_then(Value::as_str))
                        .collect()
                })
                .unwrap_or_default();
            if !crashing.is_empty() {
                return failed(format!(
                    "Containers in CrashLoop state: {}",
                    crashing.join(",")
                ));
            }
            in_progress("Pod is running but is not Ready")
        }
        "Pending" => {
            if all.iter().any(|c| {
                c.type_ == "PodScheduled" && c.status == "False" && c.reason == "Unschedulable"
            }) {
                // kstatus gives a pod 15 s to be scheduled before calling it unschedulable.
                let created = str_at(o, "/metadata/creationTimestamp", "")
                    .parse::<jiff::Timestamp>()
                    .ok();
                let window = jiff::SignedDuration::from_secs(15);
                if created.is_some_and(|t| jiff::Timestamp::now().duration_since(t) > window) {
                    return failed("Pod could not be scheduled");
                }
                return in_progress("Pod has not been scheduled");
            }
            in_progress("Pod is in the Pending phase")
        }
        "" => in_progress("Pod phase not available"),
        other => (Status::Unknown, format!("unknown phase {other}")),
    }
}

fn pvc(o: &Value) -> (Status, String) {
    let phase = str_at(o, "/status/phase", "unknown");
    if phase != "Bound" {
        return in_progress(format!("PVC is not Bound. phase: {phase}"));
    }
    current("PVC is Bound")
}

/// kstatus reads the cluster IP only; a LoadBalancer Service is Current once it has one.
fn service(o: &Value) -> (Status, String) {
    if str_at(o, "/spec/type", "ClusterIP") == "LoadBalancer"
        && str_at(o, "/spec/clusterIP", "").is_empty()
    {
        return in_progress("ClusterIP not set. Service type: LoadBalancer");
    }
    current("Service is ready")
}

/// Not a kstatus rule (kstatus calls every Namespace Current): a Namespace being deleted without
/// a deletion timestamp in sight is still Terminating.
fn namespace(o: &Value) -> (Status, String) {
    match str_at(o, "/status/phase", "Active") {
        "Terminating" => (Status::Terminating, "Namespace is terminating".to_owned()),
        _ => current("Namespace is active"),
    }
}

fn crd(o: &Value) -> (Status, String) {
    for c in conditions(o) {
        if c.type_ == "NamesAccepted" && c.status == "False" {
            return failed(c.message);
        }
        if c.type_ == "Established" {
            if c.status == "False" && c.reason != "Installing" {
                return failed(c.message);
            }
            if c.status == "True" {
                return current("CRD is established");
            }
        }
    }
    in_progress("Install in progress")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn status(o: Value) -> Status {
        compute_status_json(&o).0
    }

    fn deployment(spec: i64, status_: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "web", "generation": 2},
               "spec": {"replicas": spec, "progressDeadlineSeconds": 600}, "status": status_})
    }

    #[test]
    fn deployments() {
        let ready = json!({"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2,
            "readyReplicas": 2, "availableReplicas": 2, "conditions": [
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}]});
        assert_eq!(status(deployment(2, ready.clone())), Status::Current);

        let mut old = ready.clone();
        old["observedGeneration"] = json!(1);
        let (s, m) = compute_status_json(&deployment(2, old));
        assert_eq!(s, Status::InProgress);
        assert_eq!(
            m,
            "Deployment generation is 2, but latest observed generation is 1"
        );

        let mut unready = ready.clone();
        unready["readyReplicas"] = json!(1);
        assert_eq!(
            compute_status_json(&deployment(2, unready)),
            (Status::InProgress, "Ready: 1/2".to_owned())
        );

        let stuck = json!({"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2,
            "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]});
        assert_eq!(
            compute_status_json(&deployment(2, stuck)),
            (Status::Failed, "Progress deadline exceeded".to_owned())
        );

        assert_eq!(status(deployment(1, json!({}))), Status::InProgress);
    }

    #[test]
    fn jobs_wait_for_completion() {
        let job = |st: Value| json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"}, "spec": {}, "status": st});
        assert_eq!(status(job(json!({}))), Status::InProgress);
        assert_eq!(
            status(job(
                json!({"startTime": "2026-01-01T00:00:00Z", "active": 1})
            )),
            Status::InProgress
        );
        assert_eq!(
            status(job(
                json!({"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]})
            )),
            Status::Current
        );
        let (s, m) = compute_status_json(&job(json!({"failed": 7, "conditions": [
            {"type": "Failed", "status": "True", "message": "Job has reached the specified backoff limit"}]})));
        assert_eq!(s, Status::Failed);
        assert_eq!(
            m,
            "Job Failed. failed: 7/1 error: Job has reached the specified backoff limit"
        );
    }

    #[test]
    fn custom_resources_use_ready_and_generation() {
        let cr = |generation: i64, observed: i64, ready: &str| {
            json!({
            "apiVersion": "example.com/v1", "kind": "Widget",
            "metadata": {"name": "w", "generation": generation},
            "status": {"observedGeneration": observed, "conditions": [
                {"type": "Ready", "status": ready, "reason": "Waiting", "message": "not yet"}]}})
        };
        assert_eq!(status(cr(1, 1, "True")), Status::Current);
        assert_eq!(
            compute_status_json(&cr(1, 1, "False")),
            (Status::InProgress, "not yet".to_owned())
        );
        assert_eq!(status(cr(2, 1, "True")), Status::InProgress);
        let stalled = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
            "status": {"conditions": [{"type": "Stalled", "status": "True", "message": "bad spec"}]}});
        assert_eq!(
            compute_status_json(&stalled),
            (Status::Failed, "bad spec".to_owned())
        );
        let reconciling = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
            "status": {"conditions": [{"type": "Reconciling", "status": "True", "message": "working"}]}});
        assert_eq!(status(reconciling), Status::InProgress);
        assert_eq!(
            status(
                json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}})
            ),
            Status::Current
        );
    }

    #[test]
    fn built_in_kinds() {
        assert_eq!(
            status(
                json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "status": {"phase": "Pending"}})
            ),
            Status::InProgress
        );
        assert_eq!(
            status(
                json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "status": {"phase": "Bound"}})
            ),
            Status::Current
        );
        assert_eq!(
            status(
                json!({"apiVersion": "v1", "kind": "Service", "spec": {"type": "LoadBalancer"}})
            ),
            Status::InProgress
        );
        assert_eq!(
            status(
                json!({"apiVersion": "v1", "kind": "Service", "spec": {"type": "LoadBalancer", "clusterIP": "10.0.0.1"}})
            ),
            Status::Current
        );
        assert_eq!(
            status(json!({"apiVersion": "v1", "kind": "Service", "spec": {}})),
            Status::Current
        );
        assert_eq!(
            status(
                json!({"apiVersion": "v1", "kind": "Pod", "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}})
            ),
            Status::Current
        );
        assert_eq!(
            status(
                json!({"apiVersion": "v1", "kind": "Pod", "status": {"phase": "Running",
            "containerStatuses": [{"name": "app", "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}})
            ),
            Status::Failed
        );
        let unschedulable = |created: &str| {
            json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"creationTimestamp": created},
            "status": {"phase": "Pending", "conditions": [
                {"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}]}})
        };
        assert_eq!(
            status(unschedulable("2020-01-01T00:00:00Z")),
            Status::Failed
        );
        let just_now = jiff::Timestamp::now().to_string();
        assert_eq!(status(unschedulable(&just_now)), Status::InProgress);
        assert_eq!(
            status(json!({"apiVersion": "v1", "kind": "Namespace", "status": {"phase": "Active"}})),
            Status::Current
        );
        assert_eq!(
            status(
                json!({"apiVersion": "v1", "kind": "Namespace", "status": {"phase": "Terminating"}})
            ),
            Status::Terminating
        );
        assert_eq!(
            status(
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"deletionTimestamp": "2026-01-01T00:00:00Z"}})
            ),
            Status::Terminating
        );
        assert_eq!(
            status(
                json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "status": {}})
            ),
            Status::InProgress
        );
        assert_eq!(
            status(
                json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "status": {"conditions": [{"type": "Established", "status": "True"}]}})
            ),
            Status::Current
        );
        assert_eq!(
            status(json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "status": {}})),
            Status::InProgress
        );
        assert_eq!(
            status(
                json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "status": {
            "desiredNumberScheduled": 1, "currentNumberScheduled": 1, "updatedNumberScheduled": 1, "numberAvailable": 1, "numberReady": 1}})
            ),
            Status::Current
        );
        assert_eq!(
            status(
                json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "spec": {"replicas": 2}, "status": {
            "replicas": 2, "readyReplicas": 2, "currentReplicas": 2, "updatedReplicas": 2, "currentRevision": "a", "updateRevision": "b"}})
            ),
            Status::InProgress
        );
        assert_eq!(
            status(
                json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "spec": {"replicas": 1}, "status": {
            "replicas": 1, "readyReplicas": 1, "availableReplicas": 1, "fullyLabeledReplicas": 1}})
            ),
            Status::Current
        );
    }
}
