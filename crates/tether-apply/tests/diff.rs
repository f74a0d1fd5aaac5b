//! The dry-run diff: what an apply and a prune would do, object by object, with the live object
//! and the dry-run result cleaned of server bookkeeping and Secret values masked, and nothing
//! written to the cluster.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed assertion.

mod common;

use common::*;
use serde_json::{Value, json};
use tether_apply::{Action, Error, Inventory, ObjectDiff, ObjectRef};

fn secret(namespace: &str, name: &str, string_data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Secret",
           "metadata": {"name": name, "namespace": namespace}, "stringData": string_data})
}

/// `["Kind/ns/name action", ...]`.
fn summary(diffs: &[ObjectDiff]) -> Vec<String> {
    diffs
        .iter()
        .map(|d| format!("{} {}", d.object, d.action))
        .collect()
}

fn find<'a>(diffs: &'a [ObjectDiff], subject: &str) -> &'a ObjectDiff {
    diffs
        .iter()
        .find(|d| d.object.to_string() == subject)
        .unwrap_or_else(|| panic!("no diff for {subject} in {:?}", summary(diffs)))
}

#[tokio::test]
async fn diff_reports_what_an_apply_would_do_without_writing() {
    let env = Env::start().await;
    let mut ignored = config_map("apps", "ignored", json!({"k": "v"}));
    ignored["metadata"]["annotations"] = json!({"kustomize.toolkit.fluxcd.io/ssa": "Ignore"});
    env.apply(&[
        namespace("apps"),
        deployment("apps", "web", 2, "nginx:1.27"),
        deployment("apps", "api", 1, "api:1"),
        config_map("apps", "keep", json!({"k": "v"})),
        secret(
            "apps",
            "creds",
            json!({"user": "admin", "password": "old-pass"}),
        ),
    ])
    .await;
    let before_web = env
        .get("apps/v1", "Deployment", "apps", "web")
        .await
        .unwrap();
    let before_creds = env.get("v1", "Secret", "apps", "creds").await.unwrap();

    let desired = vec![
        namespace("apps"),
        deployment("apps", "web", 3, "nginx:1.27"),
        deployment("apps", "api", 1, "api:1"),
        config_map("apps", "keep", json!({"k": "v"})),
        config_map("apps", "new", json!({"k": "v"})),
        secret(
            "apps",
            "creds",
            json!({"user": "admin", "password": "new-pass"}),
        ),
        ignored,
        // A namespace and a CRD that the apply would create first, with objects that need them.
        namespace("fresh"),
        config_map("fresh", "inside", json!({})),
        widget_crd(),
        widget("apps", "w", 1),
    ];
    let diffs = env.manager.diff(desired, &env.options()).await.unwrap();
    assert_eq!(
        summary(&diffs),
        [
            "CustomResourceDefinition/widgets.example.com created",
            "Namespace/apps unchanged",
            "Namespace/fresh created",
            "ConfigMap/apps/ignored skipped",
            "ConfigMap/apps/keep unchanged",
            "ConfigMap/apps/new created",
            "ConfigMap/fresh/inside created",
            "Secret/apps/creds configured",
            "Deployment/apps/api unchanged",
            "Deployment/apps/web configured",
            "Widget/apps/w created",
        ]
    );

    // Drifted: the live object and the dry-run result, without server bookkeeping, differ
    // exactly where the manifest changed.
    let web = find(&diffs, "Deployment/apps/web");
    let (live, after) = (web.live.clone().unwrap(), web.desired.clone().unwrap());
    assert_eq!(live["spec"]["replicas"], 2);
    assert_eq!(after["spec"]["replicas"], 3);
    for side in [&live, &after] {
        let meta = side["metadata"].as_object().unwrap();
        for field in [
            "managedFields",
            "resourceVersion",
            "generation",
            "uid",
            "creationTimestamp",
        ] {
            assert!(!meta.contains_key(field), "{field} left in {side}");
        }
        assert!(side.get("status").is_none(), "{side}");
        assert_eq!(
            side["metadata"]["labels"]["kustomize.toolkit.fluxcd.io/name"],
            KS_NAME
        );
    }
    let mut same = after.clone();
    same["spec"]["replicas"] = json!(2);
    assert_eq!(same, live, "the sides differ beyond spec.replicas");

    // Unchanged: the same normalisation leaves nothing to show, server defaults included.
    for subject in [
        "Deployment/apps/api",
        "ConfigMap/apps/keep",
        "Namespace/apps",
    ] {
        let d = find(&diffs, subject);
        assert!(!d.changed());
        assert_eq!(d.live, d.desired, "{subject}");
    }

    // Secrets: values masked, a changed value still visible as changed.
    let creds = find(&diffs, "Secret/apps/creds");
    assert_eq!(
        creds.live.as_ref().unwrap()["data"],
        json!({"password": "*** (before)", "user": "***"})
    );
    assert_eq!(
        creds.desired.as_ref().unwrap()["data"],
        json!({"password": "*** (after)", "user": "***"})
    );
    let all = serde_json::to_string(
        &diffs
            .iter()
            .map(|d| (&d.live, &d.desired))
            .collect::<Vec<_>>(),
    )
    .unwrap();
    for clear in [
        "old-pass",
        "new-pass",
        "b2xkLXBhc3M=",
        "bmV3LXBhc3M=",
        "YWRtaW4=",
    ] {
        assert!(!all.contains(clear), "{clear} leaked");
    }

    // Created: the dry-run result (server defaults filled in), or the manifest where an earlier
    // stage must exist first.
    let new = find(&diffs, "ConfigMap/apps/new");
    assert!(new.live.is_none());
    assert_eq!(new.desired.as_ref().unwrap()["data"], json!({"k": "v"}));
    let inside = find(&diffs, "ConfigMap/fresh/inside");
    assert_eq!(
        inside.desired.as_ref().unwrap()["metadata"]["namespace"],
        "fresh"
    );
    let w = find(&diffs, "Widget/apps/w");
    assert_eq!(w.desired.as_ref().unwrap()["spec"]["size"], 1);
    let skipped = find(&diffs, "ConfigMap/apps/ignored");
    assert!(skipped.live.is_none() && skipped.desired.is_none());

    // Nothing was written.
    let web_now = env
        .get("apps/v1", "Deployment", "apps", "web")
        .await
        .unwrap();
    assert_eq!(resource_version(&web_now), resource_version(&before_web));
    assert_eq!(web_now["spec"]["replicas"], 2);
    let creds_now = env.get("v1", "Secret", "apps", "creds").await.unwrap();
    assert_eq!(
        resource_version(&creds_now),
        resource_version(&before_creds)
    );
    assert!(env.get("v1", "ConfigMap", "apps", "new").await.is_none());
    assert!(env.get("v1", "Namespace", "", "fresh").await.is_none());
    env.shutdown().await;
}

#[tokio::test]
async fn prune_diff_lists_what_a_prune_would_delete_or_keep() {
    let env = Env::start().await;
    let mut protected = config_map("apps", "protected", json!({"k": "v"}));
    protected["metadata"]["annotations"] = json!({"kustomize.toolkit.fluxcd.io/prune": "disabled"});
    let first = vec![
        namespace("apps"),
        config_map("apps", "keep", json!({})),
        config_map("apps", "gone", json!({"k": "v"})),
        secret("apps", "old-creds", json!({"token": "t0ps3cret"})),
        protected,
    ];
    let mut old = Inventory::from_change_set(&env.apply(&first).await);
    old.entries
        .push(tether_apply::InventoryEntry::new(&ObjectRef::new(
            "v1",
            "ConfigMap",
            "apps",
            "never-existed",
        )));
    let second = vec![namespace("apps"), config_map("apps", "keep", json!({}))];
    let diffs = env.manager.diff(second, &env.options()).await.unwrap();
    let new = Inventory::from_objects(diffs.iter().map(|d| &d.object));
    let stale = old.diff(&new).unwrap();
    assert_eq!(stale.len(), 4);

    let options = env.manager.delete_options(KS_NAME, KS_NAMESPACE);
    let pruned = env.manager.diff_prune(&stale, &options).await.unwrap();
    assert_eq!(
        summary(&pruned),
        [
            "ConfigMap/apps/gone deleted",
            "ConfigMap/apps/protected skipped",
            "Secret/apps/old-creds deleted",
        ]
    );
    let gone = find(&pruned, "ConfigMap/apps/gone");
    assert!(gone.desired.is_none());
    let live = gone.live.as_ref().unwrap();
    assert_eq!(live["data"], json!({"k": "v"}));
    assert!(live["metadata"].get("managedFields").is_none());
    let creds = find(&pruned, "Secret/apps/old-creds");
    assert_eq!(
        creds.live.as_ref().unwrap()["data"],
        json!({"token": "***"})
    );

    // Nothing was deleted.
    for name in ["gone", "protected"] {
        assert!(env.get("v1", "ConfigMap", "apps", name).await.is_some());
    }
    assert!(env.get("v1", "Secret", "apps", "old-creds").await.is_some());
    env.shutdown().await;
}

#[tokio::test]
async fn failures_are_gathered_and_the_other_objects_still_diffed() {
    let env = Env::start().await;
    env.apply(&[namespace("apps")]).await;
    let objects = vec![
        config_map("apps", "fine", json!({})),
        // No CRD serves this kind, on the cluster or in the set.
        json!({"apiVersion": "nowhere.example.com/v1", "kind": "Gadget",
               "metadata": {"name": "g", "namespace": "apps"}}),
        json!({"kind": "ConfigMap", "metadata": {"name": "no-version"}}),
    ];
    let err = env.manager.diff(objects, &env.options()).await.unwrap_err();
    assert_eq!(summary(&err.diffs), ["ConfigMap/apps/fine created"]);
    assert_eq!(err.errors.len(), 2, "{err}");
    assert!(
        matches!(&err.errors[0], Error::InvalidManifest { index: 2, .. }),
        "{err}"
    );
    assert!(
        matches!(&err.errors[1], Error::UnknownKind { object, .. } if object.to_string() == "Gadget/apps/g"),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with("2 objects cannot be diffed:\n- manifest #2"),
        "{err}"
    );
    env.shutdown().await;
}

#[tokio::test]
async fn fields_kubectl_owns_make_the_object_configured_as_the_apply_would() {
    let env = Env::start().await;
    let objects = vec![
        namespace("apps"),
        config_map("apps", "c", json!({"k": "v"})),
    ];
    env.apply(&objects).await;
    let unchanged = env
        .manager
        .diff(objects.clone(), &env.options())
        .await
        .unwrap();
    assert!(
        unchanged
            .iter()
            .all(|d| d.action == Action::Unchanged && !d.takeover)
    );

    // What `kubectl label cm c extra=yes` does: an Update by the manager kubectl-label.
    let api = env.api("v1", "ConfigMap", "apps").await;
    let params = kube::api::PatchParams {
        field_manager: Some("kubectl-label".to_owned()),
        ..Default::default()
    };
    api.patch(
        "c",
        &params,
        &kube::api::Patch::Merge(json!({"metadata": {"labels": {"extra": "yes"}}})),
    )
    .await
    .unwrap();
    let diffs = env
        .manager
        .diff(objects.clone(), &env.options())
        .await
        .unwrap();
    let c = find(&diffs, "ConfigMap/apps/c");
    assert_eq!(c.action, Action::Configured);
    assert!(c.takeover);
    assert_eq!(
        c.live.as_ref().unwrap()["metadata"]["labels"]["extra"],
        "yes"
    );

    // The apply agrees: it writes the object (and removes the label).
    let applied = env.apply(&objects).await;
    assert_eq!(
        applied.action_of(&ObjectRef::new("v1", "ConfigMap", "apps", "c")),
        Some(Action::Configured)
    );
    let live = env.get("v1", "ConfigMap", "apps", "c").await.unwrap();
    assert!(live["metadata"]["labels"].get("extra").is_none(), "{live}");
    env.shutdown().await;
}
