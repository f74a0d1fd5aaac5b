//! Pods and the controllers that own them.

use serde_json::Value;

use super::format::{
    age, bool_word, condition_true, containers, deleting, int, int_opt, list, map, name, or_none,
    s, selector, since, text,
};
use super::{AGE, CONTAINERS, Def, IMAGES, NAME, SELECTOR, col, wide};

pub const POD: &[Def] = &[
    NAME,
    col(
        "Ready",
        "string",
        "The aggregate readiness state of this pod for accepting traffic.",
    ),
    col(
        "Status",
        "string",
        "The aggregate status of the containers in this pod.",
    ),
    col(
        "Restarts",
        "string",
        "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
    ),
    AGE,
    wide(
        "IP",
        "string",
        "podIP is the IP address allocated to the pod.",
    ),
    wide(
        "Node",
        "string",
        "NodeName indicates in which node this pod is scheduled.",
    ),
    wide(
        "Nominated Node",
        "string",
        "nominatedNodeName is set only when this pod preempts other pods on the node.",
    ),
    wide(
        "Readiness Gates",
        "string",
        "If specified, all readiness gates will be evaluated for pod readiness.",
    ),
];

/// A container's terminated state as a reason: its reason, else its signal or exit code.
fn terminated_reason(t: &Value, prefix: &str) -> String {
    let reason = text(t, "/reason");
    if !reason.is_empty() {
        return format!("{prefix}{reason}");
    }
    match int(t, "/signal") {
        0 => format!("{prefix}ExitCode:{}", int(t, "/exitCode")),
        signal => format!("{prefix}Signal:{signal}"),
    }
}

/// The latest `lastState.terminated.finishedAt` among `statuses`.
fn last_restart<'a>(statuses: impl Iterator<Item = &'a Value>) -> Option<jiff::Timestamp> {
    statuses
        .filter_map(|c| {
            text(c, "/lastState/terminated/finishedAt")
                .parse::<jiff::Timestamp>()
                .ok()
        })
        .max()
}

/// `printPod`: readiness, the status reason (phase, init progress, container reasons,
/// Terminating) and restarts, as `kubectl get pods` shows them.
pub fn pod(o: &Value) -> Vec<Value> {
    let init_specs = list(o, "/spec/initContainers");
    let sidecar = |n: &str| {
        init_specs
            .iter()
            .any(|c| text(c, "/name") == n && text(c, "/restartPolicy") == "Always")
    };
    let mut total = list(o, "/spec/containers").len();
    total += init_specs
        .iter()
        .filter(|c| text(c, "/restartPolicy") == "Always")
        .count();
    let mut ready = 0;
    let phase = text(o, "/status/phase");
    let mut reason = phase.to_string();
    if !text(o, "/status/reason").is_empty() {
        reason = text(o, "/status/reason").into();
    }
    let conditions = list(o, "/status/conditions");
    if conditions
        .iter()
        .any(|c| text(c, "/type") == "PodScheduled" && text(c, "/reason") == "SchedulingGated")
    {
        reason = "SchedulingGated".into();
    }

    let init = list(o, "/status/initContainerStatuses");
    let mut restarts = 0;
    let mut sidecar_restarts = 0;
    let mut initializing = false;
    for (i, c) in init.iter().enumerate() {
        restarts += int(c, "/restartCount");
        if sidecar(text(c, "/name")) {
            sidecar_restarts += int(c, "/restartCount");
            if c.pointer("/started") == Some(&Value::Bool(true))
                && c.pointer("/ready") == Some(&Value::Bool(true))
            {
                ready += 1;
            }
            continue;
        }
        let terminated = c.pointer("/state/terminated");
        let waiting = text(c, "/state/waiting/reason");
        match terminated {
            Some(t) if int(t, "/exitCode") == 0 => continue,
            Some(t) => reason = terminated_reason(t, "Init:"),
            None if !waiting.is_empty() && waiting != "PodInitializing" => {
                reason = format!("Init:{waiting}");
            }
            None => reason = format!("Init:{i}/{}", init_specs.len()),
        }
        initializing = true;
        break;
    }
    let mut last = last_restart(init.iter());
    if !initializing || condition_true(conditions, "Initialized") {
        restarts = sidecar_restarts;
        last = last_restart(init.iter().filter(|c| sidecar(text(c, "/name"))));
        let statuses = list(o, "/status/containerStatuses");
        let mut running = false;
        for c in statuses.iter().rev() {
            restarts += int(c, "/restartCount");
            let waiting = text(c, "/state/waiting/reason");
            if !waiting.is_empty() {
                reason = waiting.into();
            } else if let Some(t) = c.pointer("/state/terminated") {
                reason = terminated_reason(t, "");
            } else if c.pointer("/ready") == Some(&Value::Bool(true))
                && c.pointer("/state/running").is_some()
            {
                running = true;
                ready += 1;
            }
        }
        last = last.max(last_restart(statuses.iter()));
        if reason == "Completed" && running {
            reason = if condition_true(conditions, "Ready") {
                "Running".into()
            } else {
                "NotReady".into()
            };
        }
    }
    if deleting(o) && text(o, "/status/reason") == "NodeLost" {
        reason = "Unknown".into();
    } else if deleting(o) && phase != "Succeeded" && phase != "Failed" {
        reason = "Terminating".into();
    }
    let restarts = match last {
        Some(t) if restarts != 0 => format!("{restarts} ({} ago)", since(&t.to_string())),
        _ => restarts.to_string(),
    };

    let ip = list(o, "/status/podIPs")
        .first()
        .map(|p| text(p, "/ip"))
        .unwrap_or_else(|| text(o, "/status/podIP"));
    let gates = list(o, "/spec/readinessGates");
    let gates = if gates.is_empty() {
        "<none>".to_string()
    } else {
        let met = gates
            .iter()
            .filter(|g| condition_true(conditions, text(g, "/conditionType")))
            .count();
        format!("{met}/{}", gates.len())
    };
    vec![
        name(o),
        s(format!("{ready}/{total}")),
        s(reason),
        s(restarts),
        age(o),
        s(or_none(ip)),
        s(or_none(text(o, "/spec/nodeName"))),
        s(or_none(text(o, "/status/nominatedNodeName"))),
        s(gates),
    ]
}

pub const DEPLOYMENT: &[Def] = &[
    NAME,
    col("Ready", "string", "Number of the pod with ready state"),
    col(
        "Up-to-date",
        "string",
        "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
    ),
    col(
        "Available",
        "string",
        "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
    ),
    AGE,
    CONTAINERS,
    IMAGES,
    SELECTOR,
];

/// `spec.replicas`, which the API defaults to 1.
fn desired(o: &Value) -> i64 {
    int_opt(o, "/spec/replicas").unwrap_or(1)
}

pub fn deployment(o: &Value) -> Vec<Value> {
    let [names, images] = containers(o, "/spec/template/spec");
    vec![
        name(o),
        s(format!(
            "{}/{}",
            int(o, "/status/readyReplicas"),
            desired(o)
        )),
        Value::from(int(o, "/status/updatedReplicas")),
        Value::from(int(o, "/status/availableReplicas")),
        age(o),
        names,
        images,
        s(selector(o.pointer("/spec/selector"))),
    ]
}

pub const REPLICA_SET: &[Def] = &[
    NAME,
    col(
        "Desired",
        "integer",
        "Replicas is the number of desired pods.",
    ),
    col(
        "Current",
        "integer",
        "Replicas is the most recently observed number of replicas.",
    ),
    col(
        "Ready",
        "integer",
        "The number of ready replicas for this replica set.",
    ),
    AGE,
    CONTAINERS,
    IMAGES,
    SELECTOR,
];

/// ReplicaSets and ReplicationControllers (whose selector is a plain label map).
pub fn replica_set(o: &Value) -> Vec<Value> {
    let [names, images] = containers(o, "/spec/template/spec");
    let sel = match o
        .pointer("/spec/selector/matchLabels")
        .or(o.pointer("/spec/selector/matchExpressions"))
    {
        Some(_) => selector(o.pointer("/spec/selector")),
        None => super::format::labels(map(o, "/spec/selector")),
    };
    vec![
        name(o),
        Value::from(desired(o)),
        Value::from(int(o, "/status/replicas")),
        Value::from(int(o, "/status/readyReplicas")),
        age(o),
        names,
        images,
        s(sel),
    ]
}

pub const STATEFUL_SET: &[Def] = &[
    NAME,
    col("Ready", "string", "Number of the pod with ready state"),
    AGE,
    CONTAINERS,
    IMAGES,
];

pub fn stateful_set(o: &Value) -> Vec<Value> {
    let [names, images] = containers(o, "/spec/template/spec");
    vec![
        name(o),
        s(format!(
            "{}/{}",
            int(o, "/status/readyReplicas"),
            desired(o)
        )),
        age(o),
        names,
        images,
    ]
}

pub const DAEMON_SET: &[Def] = &[
    NAME,
    col(
        "Desired",
        "integer",
        "The total number of nodes that should be running the daemon pod.",
    ),
    col(
        "Current",
        "integer",
        "The number of nodes that are running at least 1 daemon pod.",
    ),
    col(
        "Ready",
        "integer",
        "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.",
    ),
    col(
        "Up-to-date",
        "integer",
        "The total number of nodes that are running updated daemon pod",
    ),
    col(
        "Available",
        "integer",
        "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available.",
    ),
    col(
        "Node Selector",
        "string",
        "NodeSelector is a selector which must be true for the pod to fit on a node.",
    ),
    AGE,
    CONTAINERS,
    IMAGES,
    SELECTOR,
];

pub fn daemon_set(o: &Value) -> Vec<Value> {
    let [names, images] = containers(o, "/spec/template/spec");
    vec![
        name(o),
        Value::from(int(o, "/status/desiredNumberScheduled")),
        Value::from(int(o, "/status/currentNumberScheduled")),
        Value::from(int(o, "/status/numberReady")),
        Value::from(int(o, "/status/updatedNumberScheduled")),
        Value::from(int(o, "/status/numberAvailable")),
        s(super::format::labels(map(
            o,
            "/spec/template/spec/nodeSelector",
        ))),
        age(o),
        names,
        images,
        s(selector(o.pointer("/spec/selector"))),
    ]
}

pub const JOB: &[Def] = &[
    NAME,
    col("Status", "string", "Status of the job."),
    col("Completions", "string", "The completion status of the job."),
    col("Duration", "string", "Time required to complete the job."),
    AGE,
    CONTAINERS,
    IMAGES,
    SELECTOR,
];

/// `printJob` as of 1.30+: the Status column from the job's conditions.
pub fn job(o: &Value) -> Vec<Value> {
    let succeeded = int(o, "/status/succeeded");
    let completions = match int_opt(o, "/spec/completions") {
        Some(c) => format!("{succeeded}/{c}"),
        None => match int_opt(o, "/spec/parallelism").unwrap_or(0) {
            p if p > 1 => format!("{succeeded}/1 of {p}"),
            _ => format!("{succeeded}/1"),
        },
    };
    let start = text(o, "/status/startTime").parse::<jiff::Timestamp>().ok();
    let end = text(o, "/status/completionTime")
        .parse::<jiff::Timestamp>()
        .ok();
    let duration = match (start, end) {
        (None, _) => String::new(),
        (Some(start), None) => since(&start.to_string()),
        (Some(start), Some(end)) => {
            super::super::human_duration(end.as_second() - start.as_second())
        }
    };
    let conditions = list(o, "/status/conditions");
    let status = if condition_true(conditions, "Complete") {
        "Complete"
    } else if condition_true(conditions, "Failed") {
        "Failed"
    } else if deleting(o) {
        "Terminating"
    } else if condition_true(conditions, "Suspended") {
        "Suspended"
    } else if condition_true(conditions, "FailureTarget") {
        "FailureTarget"
    } else if condition_true(conditions, "SuccessCriteriaMet") {
        "SuccessCriteriaMet"
    } else {
        "Running"
    };
    let [names, images] = containers(o, "/spec/template/spec");
    vec![
        name(o),
        s(status),
        s(completions),
        s(duration),
        age(o),
        names,
        images,
        s(selector(o.pointer("/spec/selector"))),
    ]
}

pub const CRON_JOB: &[Def] = &[
    NAME,
    col("Schedule", "string", "The schedule in Cron format."),
    col(
        "Timezone",
        "string",
        "The time zone name for the given schedule.",
    ),
    col(
        "Suspend",
        "boolean",
        "This flag tells the controller to suspend subsequent executions.",
    ),
    col(
        "Active",
        "integer",
        "A list of pointers to currently running jobs.",
    ),
    col(
        "Last Schedule",
        "string",
        "Information when was the last time the job was successfully scheduled.",
    ),
    AGE,
    CONTAINERS,
    IMAGES,
    SELECTOR,
];

pub fn cron_job(o: &Value) -> Vec<Value> {
    let template = "/spec/jobTemplate/spec/template/spec";
    let [names, images] = containers(o, template);
    let suspend = match o.pointer("/spec/suspend").and_then(Value::as_bool) {
        Some(b) => bool_word(b),
        // The API defaults suspend to false.
        None => "False",
    };
    let last = text(o, "/status/lastScheduleTime");
    vec![
        name(o),
        s(text(o, "/spec/schedule")),
        s(or_none(text(o, "/spec/timeZone"))),
        s(suspend),
        Value::from(list(o, "/status/active").len()),
        s(if last.is_empty() {
            "<none>".into()
        } else {
            since(last)
        }),
        age(o),
        names,
        images,
        s(selector(o.pointer("/spec/jobTemplate/spec/selector"))),
    ]
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ago(seconds: i64) -> String {
        (jiff::Timestamp::now() - jiff::SignedDuration::from_secs(seconds)).to_string()
    }

    #[test]
    fn pods_show_readiness_reason_and_restarts() {
        let running = json!({
            "metadata": {"name": "web-1", "creationTimestamp": ago(10800)},
            "spec": {"containers": [{"name": "a"}, {"name": "b"}], "nodeName": "n1"},
            "status": {"phase": "Running", "podIP": "10.0.0.5", "containerStatuses": [
                {"name": "a", "ready": true, "restartCount": 2, "state": {"running": {}},
                 "lastState": {"terminated": {"finishedAt": ago(600)}}},
                {"name": "b", "ready": false, "restartCount": 0,
                 "state": {"waiting": {"reason": "CrashLoopBackOff"}}},
            ]},
        });
        assert_eq!(
            pod(&running),
            vec![
                json!("web-1"),
                json!("1/2"),
                json!("CrashLoopBackOff"),
                json!("2 (10m ago)"),
                json!("3h"),
                json!("10.0.0.5"),
                json!("n1"),
                json!("<none>"),
                json!("<none>"),
            ]
        );
        let pending = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a"}]},
            "status": {"phase": "Pending"}});
        assert_eq!(
            pod(&pending)[1..4],
            [json!("0/1"), json!("Pending"), json!("0")]
        );
        let killed = json!({"spec": {"containers": [{"name": "a"}]}, "status": {"phase": "Failed",
            "containerStatuses": [{"state": {"terminated": {"exitCode": 137, "signal": 9}}}]}});
        assert_eq!(pod(&killed)[2], json!("Signal:9"));
        let exited = json!({"spec": {"containers": [{"name": "a"}]}, "status": {"phase": "Failed",
            "containerStatuses": [{"state": {"terminated": {"exitCode": 3}}}]}});
        assert_eq!(pod(&exited)[2], json!("ExitCode:3"));
        let mut deleting = running.clone();
        deleting["metadata"]["deletionTimestamp"] = json!(ago(1));
        assert_eq!(pod(&deleting)[2], json!("Terminating"));
        let init = json!({"spec": {"initContainers": [{"name": "i"}, {"name": "j"}],
            "containers": [{"name": "a"}]},
            "status": {"phase": "Pending", "initContainerStatuses": [
                {"name": "i", "state": {"terminated": {"exitCode": 0}}},
                {"name": "j", "state": {"running": {}}}]}});
        assert_eq!(pod(&init)[2], json!("Init:1/2"));
        let gated = json!({"spec": {"containers": [], "readinessGates": [
                {"conditionType": "a"}, {"conditionType": "b"}]},
            "status": {"conditions": [{"type": "a", "status": "True"}]}});
        assert_eq!(pod(&gated)[8], json!("1/2"));
    }

    #[test]
    fn deployments_show_ready_of_desired_and_their_template() {
        let d = json!({
            "metadata": {"name": "web", "creationTimestamp": ago(7200)},
            "spec": {"replicas": 2,
                "selector": {"matchLabels": {"app": "web"},
                    "matchExpressions": [{"key": "tier", "operator": "In", "values": ["b", "a"]}]},
                "template": {"spec": {"containers": [
                    {"name": "app", "image": "nginx:1"}, {"name": "log", "image": "busybox"}]}}},
            "status": {"readyReplicas": 1, "updatedReplicas": 2, "availableReplicas": 1},
        });
        assert_eq!(
            deployment(&d),
            vec![
                json!("web"),
                json!("1/2"),
                json!(2),
                json!(1),
                json!("120m"),
                json!("app,log"),
                json!("nginx:1,busybox"),
                json!("app=web,tier in (a,b)"),
            ]
        );
        assert_eq!(deployment(&json!({}))[1], json!("0/1"));
    }

    #[test]
    fn replica_sets_stateful_sets_and_daemon_sets() {
        let rs = json!({"spec": {"replicas": 3, "selector": {"matchLabels": {"app": "w"}}},
            "status": {"replicas": 3, "readyReplicas": 2}});
        assert_eq!(replica_set(&rs)[1..4], [json!(3), json!(3), json!(2)]);
        assert_eq!(replica_set(&rs)[7], json!("app=w"));
        let rc = json!({"spec": {"selector": {"app": "w", "tier": "x"}}});
        assert_eq!(replica_set(&rc)[7], json!("app=w,tier=x"));
        let sts = json!({"spec": {"replicas": 3}, "status": {"readyReplicas": 1}});
        assert_eq!(stateful_set(&sts)[1], json!("1/3"));
        let ds = json!({"spec": {"template": {"spec": {"nodeSelector": {"os": "linux"}}}},
            "status": {"desiredNumberScheduled": 2, "currentNumberScheduled": 2, "numberReady": 1,
                "updatedNumberScheduled": 2, "numberAvailable": 1}});
        assert_eq!(
            daemon_set(&ds)[1..7],
            [
                json!(2),
                json!(2),
                json!(1),
                json!(2),
                json!(1),
                json!("os=linux")
            ]
        );
        assert_eq!(daemon_set(&json!({}))[6], json!("<none>"));
    }

    #[test]
    fn jobs_show_status_completions_and_duration() {
        let done = json!({"metadata": {"name": "j"},
            "spec": {"completions": 3, "selector": {"matchLabels": {"job": "j"}}},
            "status": {"succeeded": 3, "startTime": ago(200), "completionTime": ago(50),
                "conditions": [{"type": "Complete", "status": "True"}]}});
        assert_eq!(
            job(&done)[1..4],
            [json!("Complete"), json!("3/3"), json!("2m30s")]
        );
        let running = json!({"spec": {"parallelism": 2}, "status": {"startTime": ago(600)}});
        assert_eq!(
            job(&running)[1..4],
            [json!("Running"), json!("0/1 of 2"), json!("10m")]
        );
        let fresh = json!({"spec": {"suspend": true},
            "status": {"conditions": [{"type": "Suspended", "status": "True"}]}});
        assert_eq!(
            job(&fresh)[1..4],
            [json!("Suspended"), json!("0/1"), json!("")]
        );
    }

    #[test]
    fn cron_jobs_show_schedule_and_last_run() {
        let c = json!({"spec": {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template":
            {"spec": {"containers": [{"name": "c", "image": "busybox"}]}}}}},
            "status": {"active": [{"name": "x"}], "lastScheduleTime": ago(600)}});
        assert_eq!(
            cron_job(&c)[1..8],
            [
                json!("*/5 * * * *"),
                json!("<none>"),
                json!("False"),
                json!(1),
                json!("10m"),
                json!("<unknown>"),
                json!("c")
            ]
        );
    }
}
