//! Health checks with kstatus rules against the embedded control plane, whose workload
//! simulation gives Deployments and Jobs the status their controllers would (or, annotated
//! `tether.dev/simulate: fail`, the status of one that never gets ready).

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed assertion.

mod common;

use std::time::Duration;

use common::*;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::json;
use tether_apiserver::ServerConfig;
use tether_apply::{ObjectRef, Status, WaitOptions};

fn wait_options(timeout: Duration) -> WaitOptions {
    WaitOptions {
        interval: Duration::from_millis(250),
        timeout,
        fail_fast: false,
    }
}

fn failing(mut d: serde_json::Value) -> serde_json::Value {
    d["metadata"]["annotations"] = json!({"tether.dev/simulate": "fail"});
    d
}

#[tokio::test]
async fn a_deployment_becomes_current() {
    // A slow simulation, so the first read certainly sees the Deployment before it is ready.
    let env = Env::start_with(ServerConfig {
        simulate_delay: Duration::from_millis(1500),
        ..ServerConfig::ephemeral()
    })
    .await;
    let applied = env
        .apply(&[
            namespace("apps"),
            deployment("apps", "web", 3, "nginx"),
            job("apps", "migrate", "m:1"),
        ])
        .await;
    let objects = applied.objects_not_skipped();
    let web = ObjectRef::new("apps/v1", "Deployment", "apps", "web");
    let early = env.manager.statuses(std::slice::from_ref(&web)).await;
    assert_eq!(early[0].status, Status::InProgress, "{:?}", early[0]);
    env.manager
        .wait(&objects, &wait_options(Duration::from_secs(20)))
        .await
        .unwrap();
    let now = env.manager.statuses(&objects).await;
    assert!(now.iter().all(|h| h.status == Status::Current), "{now:?}");
    assert_eq!(now[1].message, "Deployment is available. Replicas: 3");
    assert_eq!(now[2].message, "Job Completed. succeeded: 1/1");
    env.shutdown().await;
}

#[tokio::test]
async fn a_never_ready_deployment_fails_the_health_check_after_the_timeout() {
    let env = Env::start().await;
    let applied = env
        .apply(&[
            namespace("apps"),
            deployment("apps", "fine", 1, "nginx"),
            failing(deployment("apps", "broken", 2, "nginx")),
        ])
        .await;
    let started = std::time::Instant::now();
    let err = env
        .manager
        .wait(
            &applied.objects_not_skipped(),
            &wait_options(Duration::from_secs(3)),
        )
        .await
        .unwrap_err();
    assert!(started.elapsed() >= Duration::from_secs(3), "gave up early");
    assert!(err.timed_out);
    assert_eq!(err.objects.len(), 1, "{err}");
    assert_eq!(
        err.to_string(),
        "timeout waiting for: [Deployment/apps/broken status: 'Failed': Progress deadline exceeded]"
    );

    let fast = WaitOptions {
        fail_fast: true,
        ..wait_options(Duration::from_secs(30))
    };
    let started = std::time::Instant::now();
    let err = env
        .manager
        .wait(&applied.objects_not_skipped(), &fast)
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(!err.timed_out);
    assert!(
        err.to_string().starts_with(
            "failed early due to stalled resources: [Deployment/apps/broken status: 'Failed'"
        ),
        "{err}"
    );
    env.shutdown().await;
}

#[tokio::test]
async fn missing_objects_are_reported_not_found() {
    let env = Env::start().await;
    let ghost = ObjectRef::new("v1", "ConfigMap", "default", "ghost");
    let err = env
        .manager
        .wait(&[ghost], &wait_options(Duration::from_millis(500)))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "timeout waiting for: [ConfigMap/default/ghost status: 'NotFound': Resource not found]"
    );
    env.shutdown().await;
}

#[tokio::test]
async fn a_custom_resource_is_current_when_ready_at_its_generation() {
    let env = Env::start().await;
    env.apply(&[widget_crd(), namespace("apps"), widget("apps", "w1", 1)])
        .await;
    let w1 = ObjectRef::new("example.com/v1", "Widget", "apps", "w1");
    let api: Api<DynamicObject> =
        Api::namespaced_with(env.client.clone(), "apps", &widget_resource());
    let set_status = |ready: &str, observed: i64| {
        Patch::Merge(
            json!({"status": {"observedGeneration": observed, "conditions": [
            {"type": "Ready", "status": ready, "reason": "Progressing", "message": format!("ready={ready}"),
             "lastTransitionTime": "2026-01-01T00:00:00Z"}]}}),
        )
    };
    api.patch_status("w1", &PatchParams::default(), &set_status("False", 1))
        .await
        .unwrap();
    let health = env.manager.statuses(std::slice::from_ref(&w1)).await;
    assert_eq!(
        (health[0].status, health[0].message.as_str()),
        (Status::InProgress, "ready=False")
    );

    // The wait sees the controller's progress when it comes.
    let waiter = {
        let manager = env.manager.clone();
        let w1 = w1.clone();
        tokio::spawn(async move {
            manager
                .wait(&[w1], &wait_options(Duration::from_secs(15)))
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(400)).await;
    api.patch_status("w1", &PatchParams::default(), &set_status("True", 1))
        .await
        .unwrap();
    waiter.await.unwrap().unwrap();

    // A new spec the controller has not seen yet is in progress again.
    env.apply(&[widget_crd(), namespace("apps"), widget("apps", "w1", 2)])
        .await;
    let health = env.manager.statuses(std::slice::from_ref(&w1)).await;
    assert_eq!(health[0].status, Status::InProgress);
    assert_eq!(
        health[0].message,
        "Widget generation is 2, but latest observed generation is 1"
    );
    env.shutdown().await;
}

#[tokio::test]
async fn a_failed_job_is_failed() {
    let env = Env::start().await;
    let applied = env
        .apply(&[namespace("apps"), failing(job("apps", "migrate", "m:1"))])
        .await;
    let err = env
        .manager
        .wait(
            &applied.objects_not_skipped(),
            &WaitOptions {
                fail_fast: true,
                ..wait_options(Duration::from_secs(15))
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.objects[0].status, Status::Failed);
    assert!(
        err.objects[0]
            .message
            .starts_with("Job Failed. failed: 7/1"),
        "{err}"
    );
    env.shutdown().await;
}
