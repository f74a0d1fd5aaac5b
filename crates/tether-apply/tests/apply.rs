//! Staged server-side apply against the embedded control plane over HTTPS: stages and order,
//! dry-run diffs that leave unchanged objects unwritten, owner labels, the `ssa` annotations and
//! errors that name the object.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed assertion.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;
use tether_apply::{Action, Error, Inventory, ObjectRef, Status, WaitOptions};

fn set() -> Vec<serde_json::Value> {
    // Deliberately out of order: the engine stages and sorts.
    vec![
        widget("apps", "w1", 3),
        deployment("apps", "web", 2, "nginx:1.27"),
        config_map("apps", "settings", json!({"mode": "blue"})),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
               "metadata": {"name": "widget-reader"},
               "rules": [{"apiGroups": ["example.com"], "resources": ["widgets"], "verbs": ["get"]}]}),
        namespace("apps"),
        widget_crd(),
    ]
}

#[tokio::test]
async fn staged_apply_creates_crd_custom_resource_namespace_and_objects_in_one_call() {
    let env = Env::start().await;
    let applied = env.apply(&set()).await;
    assert_eq!(
        lines(&applied),
        [
            "CustomResourceDefinition/widgets.example.com created",
            "Namespace/apps created",
            "ClusterRole/widget-reader created",
            "ConfigMap/apps/settings created",
            "Deployment/apps/web created",
            "Widget/apps/w1 created",
        ]
    );
    let w = env
        .get("example.com/v1", "Widget", "apps", "w1")
        .await
        .unwrap();
    assert_eq!(w["spec"]["size"], 3);
    for (api_version, kind, ns, name) in [
        ("v1", "Namespace", "", "apps"),
        ("apps/v1", "Deployment", "apps", "web"),
        ("example.com/v1", "Widget", "apps", "w1"),
    ] {
        let o = env.get(api_version, kind, ns, name).await.unwrap();
        assert_eq!(
            o["metadata"]["labels"]["kustomize.toolkit.fluxcd.io/name"], KS_NAME,
            "{kind}"
        );
        assert_eq!(
            o["metadata"]["labels"]["kustomize.toolkit.fluxcd.io/namespace"], KS_NAMESPACE,
            "{kind}"
        );
        assert!(
            managers(&o).contains(&"kustomize-controller/Apply".to_owned()),
            "{kind}: {:?}",
            managers(&o)
        );
    }
    // Ports got the protocol the API server defaults, so the next dry-run compares equal.
    let d = env
        .get("apps/v1", "Deployment", "apps", "web")
        .await
        .unwrap();
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["ports"][0]["protocol"],
        "TCP"
    );

    let inventory = Inventory::from_change_set(&applied);
    let ids: Vec<&str> = inventory.entries.iter().map(|e| e.id.as_str()).collect();
    assert!(ids.contains(&"_apps__Namespace"));
    assert!(ids.contains(&"apps_w1_example.com_Widget"));
    assert!(ids.contains(&"_widgets.example.com_apiextensions.k8s.io_CustomResourceDefinition"));
    env.shutdown().await;
}

#[tokio::test]
async fn reapplying_the_same_set_changes_nothing_and_writes_nothing() {
    let env = Env::start().await;
    let first = env.apply(&set()).await;
    // Let the workload simulation settle the Deployment's status before taking versions.
    env.manager
        .wait(
            &first.objects_not_skipped(),
            &WaitOptions {
                timeout: Duration::from_secs(20),
                ..WaitOptions::default()
            },
        )
        .await
        .unwrap();
    let mut before = vec![];
    for e in &first.entries {
        let o = env
            .get(
                &e.object.api_version(),
                &e.object.kind,
                &e.object.namespace,
                &e.object.name,
            )
            .await
            .unwrap();
        before.push(resource_version(&o));
    }
    let second = env.apply(&set()).await;
    assert!(
        second.entries.iter().all(|e| e.action == Action::Unchanged),
        "second apply: {second}"
    );
    assert_eq!(second.changes_summary(), "");
    for (e, rv) in second.entries.iter().zip(before) {
        let o = env
            .get(
                &e.object.api_version(),
                &e.object.kind,
                &e.object.namespace,
                &e.object.name,
            )
            .await
            .unwrap();
        assert_eq!(resource_version(&o), rv, "{} was written", e.object);
    }
    env.shutdown().await;
}

#[tokio::test]
async fn a_changed_field_is_configured_and_only_that_object_is() {
    let env = Env::start().await;
    env.apply(&set()).await;
    let mut changed = set();
    changed[2] = config_map("apps", "settings", json!({"mode": "green"}));
    changed[0] = widget("apps", "w1", 4);
    let result = env.apply(&changed).await;
    assert_eq!(
        result.changes_summary(),
        "ConfigMap/apps/settings configured\nWidget/apps/w1 configured"
    );
    assert_eq!(result.len(), 6);
    let cm = env
        .get("v1", "ConfigMap", "apps", "settings")
        .await
        .unwrap();
    assert_eq!(cm["data"]["mode"], "green");
    let w = env
        .get("example.com/v1", "Widget", "apps", "w1")
        .await
        .unwrap();
    assert_eq!(w["spec"]["size"], 4);
    env.shutdown().await;
}

#[tokio::test]
async fn ssa_ignore_skips_and_if_not_present_only_creates() {
    let env = Env::start().await;
    let mut ignored = config_map("default", "ignored", json!({"k": "v"}));
    ignored["metadata"]["annotations"] = json!({"kustomize.toolkit.fluxcd.io/ssa": "Ignore"});
    let mut once = config_map("default", "once", json!({"k": "first"}));
    once["metadata"]["annotations"] = json!({"kustomize.toolkit.fluxcd.io/ssa": "IfNotPresent"});
    let result = env.apply(&[ignored.clone(), once.clone()]).await;
    assert_eq!(
        lines(&result),
        [
            "ConfigMap/default/ignored skipped",
            "ConfigMap/default/once created"
        ]
    );
    assert!(
        env.get("v1", "ConfigMap", "default", "ignored")
            .await
            .is_none()
    );

    once["data"]["k"] = json!("second");
    let result = env.apply(&[once]).await;
    assert_eq!(lines(&result), ["ConfigMap/default/once skipped"]);
    let live = env.get("v1", "ConfigMap", "default", "once").await.unwrap();
    assert_eq!(live["data"]["k"], "first");

    // An object someone annotated on the cluster is left alone too.
    let plain = config_map("default", "plain", json!({"k": "v"}));
    env.apply(std::slice::from_ref(&plain)).await;
    let api = env.api("v1", "ConfigMap", "default").await;
    api.patch(
        "plain",
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(json!({"metadata": {"annotations": {"kustomize.toolkit.fluxcd.io/ssa": "ignore"}}, "data": {"k": "hand"}})),
    )
    .await
    .unwrap();
    let result = env.apply(&[plain]).await;
    assert_eq!(lines(&result), ["ConfigMap/default/plain skipped"]);
    assert_eq!(
        env.get("v1", "ConfigMap", "default", "plain")
            .await
            .unwrap()["data"]["k"],
        "hand"
    );
    env.shutdown().await;
}

#[tokio::test]
async fn a_failing_object_stops_the_apply_and_the_error_names_it_and_what_was_applied() {
    let env = Env::start().await;
    let bad = json!({"apiVersion": "v1", "kind": "ConfigMap",
                     "metadata": {"name": "bad", "namespace": "team", "labels": {"x": "-not valid-"}},
                     "data": {"k": "v"}});
    let objects = vec![
        namespace("team"),
        config_map("team", "a-good", json!({"k": "v"})),
        bad,
        deployment("team", "web", 1, "nginx"),
    ];
    let err = env
        .manager
        .apply_all_staged(objects, &env.options())
        .await
        .unwrap_err();
    let Error::DryRun { object, message } = &err.error else {
        panic!("expected a dry-run error, got {err}");
    };
    assert_eq!(object.to_string(), "ConfigMap/team/bad");
    assert!(message.contains("metadata.labels"), "{message}");
    assert_eq!(lines(&err.applied), ["Namespace/team created"]);
    let text = err.to_string();
    assert!(
        text.starts_with("ConfigMap/team/bad dry-run failed: "),
        "{text}"
    );
    assert!(
        text.ends_with("applied before the failure:\nNamespace/team created"),
        "{text}"
    );
    // Nothing of the failed stage was written.
    assert!(env.get("v1", "ConfigMap", "team", "a-good").await.is_none());
    assert!(
        env.get("apps/v1", "Deployment", "team", "web")
            .await
            .is_none()
    );
    env.shutdown().await;
}

#[tokio::test]
async fn unknown_kinds_and_missing_namespaces_are_named() {
    let env = Env::start().await;
    let err = env
        .manager
        .apply_all_staged(vec![widget("default", "w", 1)], &env.options())
        .await
        .unwrap_err();
    assert!(matches!(err.error, Error::UnknownKind { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("Widget/default/w: no resource serves kind Widget in example.com/v1"),
        "{err}"
    );

    let no_ns = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}});
    let err = env
        .manager
        .apply_all_staged(vec![no_ns], &env.options())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "ConfigMap/c: the resource is namespaced but the object has no namespace"
    );

    let twice = vec![
        config_map("default", "c", json!({})),
        config_map("default", "c", json!({"a": "b"})),
    ];
    let err = env
        .manager
        .apply_all_staged(twice, &env.options())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "ConfigMap/default/c appears more than once in the set to apply"
    );

    let err = env
        .manager
        .apply_all_staged(vec![json!({"kind": "ConfigMap"})], &env.options())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("manifest #0 is not a Kubernetes object"),
        "{err}"
    );
    env.shutdown().await;
}

#[tokio::test]
async fn cluster_scoped_objects_drop_a_namespace() {
    let env = Env::start().await;
    let mut ns = namespace("scoped");
    ns["metadata"]["namespace"] = json!("default");
    let result = env.apply(&[ns]).await;
    assert_eq!(lines(&result), ["Namespace/scoped created"]);
    assert_eq!(
        result.entries[0].object,
        ObjectRef::new("v1", "Namespace", "", "scoped")
    );
    let statuses = env
        .manager
        .statuses(&[result.entries[0].object.clone()])
        .await;
    assert_eq!(statuses[0].status, Status::Current);
    env.shutdown().await;
}

#[tokio::test]
async fn class_kinds_form_their_own_stage_between_definitions_and_the_rest() {
    let env = Env::start().await;
    let objects = vec![
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "runner", "namespace": "jobs"}}),
        json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
               "metadata": {"name": "high"}, "value": 1000}),
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
               "metadata": {"name": "internal"}, "spec": {"controller": "example.com/ingress"}}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": "runner"},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "runner"},
               "subjects": [{"kind": "ServiceAccount", "name": "runner", "namespace": "jobs"}]}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
               "metadata": {"name": "runner"}, "rules": []}),
        namespace("jobs"),
    ];
    let result = env.apply(&objects).await;
    assert_eq!(
        lines(&result),
        [
            "Namespace/jobs created",
            "ClusterRole/runner created",
            "PriorityClass/high created",
            "IngressClass/internal created",
            "ClusterRoleBinding/runner created",
            "ServiceAccount/jobs/runner created",
        ]
    );
    env.shutdown().await;
}
