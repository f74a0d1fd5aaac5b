//! Immutable fields: a change kube-apiserver refuses with "field is immutable" is an error naming
//! the object, unless `force` (the option or the per-object annotation) is on; then the object is
//! deleted, waited for, and created again; a diff says which of the two would happen.
//!
//! The embedded control plane refuses a changed Job template with kube-apiserver's 422, so the
//! tests run against it directly (its Jobs also carry the generated selector and labels, as on a
//! real cluster).

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed assertion.

mod common;

use common::*;
use serde_json::json;
use tether_apply::{Action, Error, ObjectRef, Owner, ResourceManager};

fn migrate_ref() -> ObjectRef {
    ObjectRef::new("batch/v1", "Job", "apps", "migrate")
}

#[tokio::test]
async fn immutable_change_is_an_error_without_force_and_a_recreate_with_it() {
    let env = Env::start().await;
    let manager = ResourceManager::new(env.client.clone(), Owner::kustomize_controller());
    let mut options = env.options();
    let v1 = vec![namespace("apps"), job("apps", "migrate", "migrate:1")];
    let first = manager
        .apply_all_staged(v1.clone(), &options)
        .await
        .unwrap();
    assert_eq!(first.action_of(&migrate_ref()), Some(Action::Created));
    let uid1 =
        env.get("batch/v1", "Job", "apps", "migrate").await.unwrap()["metadata"]["uid"].clone();

    // The middleware really plays kube-apiserver: re-applying the same template passes.
    let same = manager.apply_all_staged(v1, &options).await.unwrap();
    assert_eq!(same.action_of(&migrate_ref()), Some(Action::Unchanged));

    let v2 = vec![namespace("apps"), job("apps", "migrate", "migrate:2")];
    let err = manager
        .apply_all_staged(v2.clone(), &options)
        .await
        .unwrap_err();
    let Error::Immutable { object, message } = &err.error else {
        panic!("expected an immutable-field error, got {err}");
    };
    assert_eq!(object.to_string(), "Job/apps/migrate");
    assert!(
        message.contains("spec.template") && message.contains("field is immutable"),
        "{message}"
    );
    assert!(
        err.to_string()
            .starts_with("Job/apps/migrate dry-run failed, immutable field(s) changed: "),
        "{err}"
    );
    let live = env.get("batch/v1", "Job", "apps", "migrate").await.unwrap();
    assert_eq!(
        live["metadata"]["uid"], uid1,
        "the Job was touched without force"
    );

    options.force = true;
    let forced = manager.apply_all_staged(v2, &options).await.unwrap();
    assert_eq!(forced.action_of(&migrate_ref()), Some(Action::Created));
    let live = env.get("batch/v1", "Job", "apps", "migrate").await.unwrap();
    assert_ne!(live["metadata"]["uid"], uid1, "the Job was not recreated");
    assert_eq!(
        live["spec"]["template"]["spec"]["containers"][0]["image"],
        "migrate:2"
    );
    env.shutdown().await;
}

#[tokio::test]
async fn the_force_annotation_recreates_one_object() {
    let env = Env::start().await;
    let manager = ResourceManager::new(env.client.clone(), Owner::kustomize_controller());
    let options = env.options();
    manager
        .apply_all_staged(
            vec![namespace("apps"), job("apps", "migrate", "migrate:1")],
            &options,
        )
        .await
        .unwrap();
    let uid1 =
        env.get("batch/v1", "Job", "apps", "migrate").await.unwrap()["metadata"]["uid"].clone();
    let mut forced = job("apps", "migrate", "migrate:2");
    forced["metadata"]["annotations"] = json!({"kustomize.toolkit.fluxcd.io/force": "Enabled"});
    let result = manager
        .apply_all_staged(vec![namespace("apps"), forced], &options)
        .await
        .unwrap();
    assert_eq!(result.action_of(&migrate_ref()), Some(Action::Created));
    let live = env.get("batch/v1", "Job", "apps", "migrate").await.unwrap();
    assert_ne!(live["metadata"]["uid"], uid1);
    assert_eq!(
        live["spec"]["template"]["spec"]["containers"][0]["image"],
        "migrate:2"
    );
    env.shutdown().await;
}

#[tokio::test]
async fn diff_names_an_immutable_change_or_shows_the_recreate_under_force() {
    let env = Env::start().await;
    let manager = ResourceManager::new(env.client.clone(), Owner::kustomize_controller());
    let mut options = env.options();
    manager
        .apply_all_staged(
            vec![namespace("apps"), job("apps", "migrate", "migrate:1")],
            &options,
        )
        .await
        .unwrap();
    let uid1 =
        env.get("batch/v1", "Job", "apps", "migrate").await.unwrap()["metadata"]["uid"].clone();
    let v2 = vec![namespace("apps"), job("apps", "migrate", "migrate:2")];

    let err = manager.diff(v2.clone(), &options).await.unwrap_err();
    assert!(
        matches!(&err.errors[..], [Error::Immutable { object, .. }] if *object == migrate_ref()),
        "{err}"
    );
    assert_eq!(err.diffs.len(), 1, "the Namespace is still diffed");

    options.force = true;
    let diffs = manager.diff(v2, &options).await.unwrap();
    let job = diffs.iter().find(|d| d.object == migrate_ref()).unwrap();
    assert_eq!(job.action, Action::Configured);
    assert!(job.recreate);
    assert_eq!(
        job.desired.as_ref().unwrap()["spec"]["template"]["spec"]["containers"][0]["image"],
        "migrate:2"
    );
    assert_eq!(
        job.live.as_ref().unwrap()["spec"]["template"]["spec"]["containers"][0]["image"],
        "migrate:1"
    );
    let live = env.get("batch/v1", "Job", "apps", "migrate").await.unwrap();
    assert_eq!(live["metadata"]["uid"], uid1, "the diff recreated the Job");
    env.shutdown().await;
}
