//! Prune: objects that left the inventory are deleted in reverse apply order, except those the
//! user protected (`prune: disabled`) and those another owner's labels claim; objects already
//! gone count as deleted.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed assertion.

mod common;

use std::time::Duration;

use common::*;
use kube::api::PostParams;
use serde_json::json;
use tether_apply::{Action, Inventory, ObjectRef, WaitOptions};

#[tokio::test]
async fn removed_objects_are_pruned_and_protected_or_foreign_ones_kept() {
    let env = Env::start().await;
    let mut protected = config_map("apps", "protected", json!({"k": "v"}));
    protected["metadata"]["annotations"] = json!({"kustomize.toolkit.fluxcd.io/prune": "disabled"});
    let first = vec![
        namespace("apps"),
        namespace("old"),
        config_map("old", "inside", json!({})),
        config_map("apps", "keep", json!({})),
        config_map("apps", "gone", json!({})),
        protected,
    ];
    let old_inventory = Inventory::from_change_set(&env.apply(&first).await);

    // Another Kustomization owns this one now; our old inventory still lists it.
    let foreign = config_map("apps", "foreign", json!({}));
    let mut foreign_obj: k8s_openapi::api::core::v1::ConfigMap =
        serde_json::from_value(foreign).unwrap();
    foreign_obj.metadata.labels = Some(
        [
            ("kustomize.toolkit.fluxcd.io/name", "other"),
            ("kustomize.toolkit.fluxcd.io/namespace", KS_NAMESPACE),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect(),
    );
    kube::Api::<k8s_openapi::api::core::v1::ConfigMap>::namespaced(env.client.clone(), "apps")
        .create(&PostParams::default(), &foreign_obj)
        .await
        .unwrap();
    let mut old_inventory = old_inventory;
    for o in [
        ObjectRef::new("v1", "ConfigMap", "apps", "foreign"),
        ObjectRef::new("v1", "ConfigMap", "apps", "never-existed"),
    ] {
        old_inventory
            .entries
            .push(tether_apply::InventoryEntry::new(&o));
    }

    let second = vec![namespace("apps"), config_map("apps", "keep", json!({}))];
    let new_inventory = Inventory::from_change_set(&env.apply(&second).await);
    let stale = old_inventory.diff(&new_inventory).unwrap();
    let stale_names: Vec<String> = stale.iter().map(ToString::to_string).collect();
    assert_eq!(
        stale_names,
        [
            "Namespace/old",
            "ConfigMap/apps/foreign",
            "ConfigMap/apps/gone",
            "ConfigMap/apps/never-existed",
            "ConfigMap/apps/protected",
            "ConfigMap/old/inside",
        ]
    );

    let options = env.manager.delete_options(KS_NAME, KS_NAMESPACE);
    let pruned = env.manager.delete_all(&stale, &options).await.unwrap();
    assert_eq!(
        lines(&pruned),
        [
            // Reverse order: objects before their namespace.
            "ConfigMap/old/inside deleted",
            "ConfigMap/apps/protected skipped",
            "ConfigMap/apps/never-existed deleted",
            "ConfigMap/apps/gone deleted",
            "ConfigMap/apps/foreign skipped",
            "Namespace/old deleted",
        ]
    );
    let deleted: Vec<ObjectRef> = pruned
        .entries
        .iter()
        .filter(|e| e.action == Action::Deleted)
        .map(|e| e.object.clone())
        .collect();
    env.manager
        .wait_for_termination(
            &deleted,
            &WaitOptions {
                interval: Duration::from_millis(200),
                timeout: Duration::from_secs(20),
                fail_fast: false,
            },
        )
        .await
        .unwrap();
    assert!(env.get("v1", "ConfigMap", "apps", "gone").await.is_none());
    assert!(env.get("v1", "Namespace", "", "old").await.is_none());
    assert!(
        env.get("v1", "ConfigMap", "apps", "protected")
            .await
            .is_some()
    );
    assert!(
        env.get("v1", "ConfigMap", "apps", "foreign")
            .await
            .is_some()
    );
    assert!(env.get("v1", "ConfigMap", "apps", "keep").await.is_some());
    env.shutdown().await;
}

#[tokio::test]
async fn termination_wait_times_out_naming_the_object() {
    let env = Env::start().await;
    let mut held = config_map("default", "held", json!({}));
    held["metadata"]["finalizers"] = json!(["example.com/hold"]);
    env.apply(&[held]).await;
    let object = ObjectRef::new("v1", "ConfigMap", "default", "held");
    let options = env.manager.delete_options(KS_NAME, KS_NAMESPACE);
    let pruned = env
        .manager
        .delete_all(std::slice::from_ref(&object), &options)
        .await
        .unwrap();
    assert_eq!(lines(&pruned), ["ConfigMap/default/held deleted"]);
    let err = env
        .manager
        .wait_for_termination(
            &[object],
            &WaitOptions {
                interval: Duration::from_millis(100),
                timeout: Duration::from_millis(800),
                fail_fast: false,
            },
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("ConfigMap/default/held termination timeout"),
        "{err}"
    );
    env.shutdown().await;
}
