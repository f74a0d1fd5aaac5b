//! The audit stamp: an apply writes it on what it creates or changes and nothing else, so after
//! several revisions each object names the revision that last changed it; a diff never shows it;
//! prune and the inventory are unaffected.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed assertion.

mod common;

use common::*;
use serde_json::{Value, json};
use tether_apply::{Action, ApplyOptions, Inventory, Stamp};

const STAMP: &str = "tether.dev/last-changed-revision";

fn stamped(env: &Env, revision: Option<&str>) -> ApplyOptions {
    let mut options = env.options();
    options.stamp = Some(Stamp {
        annotation: STAMP.to_owned(),
        value: revision.map(str::to_owned),
    });
    options
}

async fn apply_at(env: &Env, objects: &[Value], revision: &str) -> tether_apply::ChangeSet {
    env.manager
        .apply_all_staged(objects.to_vec(), &stamped(env, Some(revision)))
        .await
        .unwrap_or_else(|e| panic!("apply at {revision} failed: {e}"))
}

async fn stamp_of(env: &Env, name: &str) -> Option<String> {
    let live = env.get("v1", "ConfigMap", "apps", name).await.unwrap();
    live["metadata"]["annotations"][STAMP]
        .as_str()
        .map(str::to_owned)
}

#[tokio::test]
async fn each_object_keeps_the_revision_that_last_changed_it() {
    let env = Env::start().await;
    let v1 = vec![
        namespace("apps"),
        config_map("apps", "changes", json!({"k": "1"})),
        config_map("apps", "stays", json!({"k": "1"})),
    ];
    let first = apply_at(&env, &v1, "main@sha1:aaa").await;
    assert_eq!(
        lines(&first),
        [
            "Namespace/apps created",
            "ConfigMap/apps/changes created",
            "ConfigMap/apps/stays created"
        ]
    );
    assert_eq!(
        stamp_of(&env, "stays").await.as_deref(),
        Some("main@sha1:aaa")
    );
    let stays_rv = resource_version(&env.get("v1", "ConfigMap", "apps", "stays").await.unwrap());

    // A new revision that changes nothing writes nothing: the stamp is no drift.
    let again = apply_at(&env, &v1, "main@sha1:bbb").await;
    assert!(
        again.entries.iter().all(|e| e.action == Action::Unchanged),
        "{again}"
    );

    // A revision changing one object stamps that one only.
    let mut v3 = v1.clone();
    v3[1] = config_map("apps", "changes", json!({"k": "2"}));
    let third = apply_at(&env, &v3, "main@sha1:ccc").await;
    assert_eq!(
        third.action_of(&tether_apply::ObjectRef::new(
            "v1",
            "ConfigMap",
            "apps",
            "changes"
        )),
        Some(Action::Configured)
    );
    assert_eq!(
        third.action_of(&tether_apply::ObjectRef::new(
            "v1",
            "ConfigMap",
            "apps",
            "stays"
        )),
        Some(Action::Unchanged)
    );
    assert_eq!(
        stamp_of(&env, "changes").await.as_deref(),
        Some("main@sha1:ccc")
    );
    assert_eq!(
        stamp_of(&env, "stays").await.as_deref(),
        Some("main@sha1:aaa")
    );
    let stays = env.get("v1", "ConfigMap", "apps", "stays").await.unwrap();
    assert_eq!(
        resource_version(&stays),
        stays_rv,
        "an unchanged object was written"
    );

    // A diff (which does not know the next revision) shows neither a change nor the stamp.
    let diffs = env
        .manager
        .diff(v3.clone(), &stamped(&env, None))
        .await
        .unwrap();
    assert!(
        diffs.iter().all(|d| d.action == Action::Unchanged),
        "{diffs:?}"
    );
    let mut v4 = v3.clone();
    v4[2] = config_map("apps", "stays", json!({"k": "3"}));
    let diffs = env.manager.diff(v4, &stamped(&env, None)).await.unwrap();
    let drifted: Vec<_> = diffs
        .iter()
        .filter(|d| d.action == Action::Configured)
        .collect();
    assert_eq!(drifted.len(), 1, "{diffs:?}");
    let (live, desired) = (
        drifted[0].live.as_ref().unwrap(),
        drifted[0].desired.as_ref().unwrap(),
    );
    assert_eq!(
        (&live["data"]["k"], &desired["data"]["k"]),
        (&json!("1"), &json!("3"))
    );
    for side in [live, desired] {
        assert!(
            side["metadata"]["annotations"].get(STAMP).is_none(),
            "the diff shows the stamp: {side}"
        );
    }

    // Prune and the inventory work on stamped objects as on others.
    let old = Inventory::from_change_set(&third);
    let v5 = vec![
        namespace("apps"),
        config_map("apps", "changes", json!({"k": "2"})),
    ];
    let fifth = apply_at(&env, &v5, "main@sha1:eee").await;
    let stale = old.diff(&Inventory::from_change_set(&fifth)).unwrap();
    let mut delete = env.manager.delete_options(KS_NAME, KS_NAMESPACE);
    delete.stamp = stamped(&env, None).stamp;
    let shown = env.manager.diff_prune(&stale, &delete).await.unwrap();
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert_eq!(shown[0].action, Action::Deleted);
    let gone = shown[0].live.as_ref().unwrap();
    assert!(
        gone["metadata"]["annotations"].get(STAMP).is_none(),
        "the prune diff shows the stamp: {gone}"
    );
    let pruned = env
        .manager
        .delete_all(&stale, &env.manager.delete_options(KS_NAME, KS_NAMESPACE))
        .await
        .unwrap();
    assert_eq!(lines(&pruned), ["ConfigMap/apps/stays deleted"]);
    assert!(env.get("v1", "ConfigMap", "apps", "stays").await.is_none());
    env.shutdown().await;
}

/// An object applied before stamps existed (or by Flux) is not rewritten just to get one; its
/// next real change stamps it.
#[tokio::test]
async fn unstamped_objects_are_stamped_on_their_next_change_only() {
    let env = Env::start().await;
    let v1 = vec![
        namespace("apps"),
        config_map("apps", "old", json!({"k": "1"})),
    ];
    env.apply(&v1).await;
    let before = env.get("v1", "ConfigMap", "apps", "old").await.unwrap();
    let unchanged = apply_at(&env, &v1, "main@sha1:aaa").await;
    assert!(
        unchanged
            .entries
            .iter()
            .all(|e| e.action == Action::Unchanged),
        "{unchanged}"
    );
    let after = env.get("v1", "ConfigMap", "apps", "old").await.unwrap();
    assert_eq!(resource_version(&after), resource_version(&before));
    assert_eq!(stamp_of(&env, "old").await, None);

    let v2 = vec![
        namespace("apps"),
        config_map("apps", "old", json!({"k": "2"})),
    ];
    apply_at(&env, &v2, "main@sha1:bbb").await;
    assert_eq!(
        stamp_of(&env, "old").await.as_deref(),
        Some("main@sha1:bbb")
    );
    env.shutdown().await;
}
