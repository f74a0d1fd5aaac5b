//! Garbage collection through kube-rs and real kubectl (1.27, 1.30, 1.33): ownerReferences are
//! honoured with background, foreground (`blockOwnerDeletion`, recursively) and orphan
//! propagation, the legacy `orphanDependents`, the batch/v1 Job default (orphan), custom
//! resource and cluster-scoped owners, and references to owners that do not exist.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed assertion.

#[allow(dead_code)] // Shared with the kubectl suite; this file uses part of it.
#[macro_use]
mod support;

use std::future::Future;
use std::time::Duration;

use http::{Method, Request};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::api::rbac::v1::ClusterRole;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams,
};
use kube::{Client, ResourceExt};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use support::Cluster;
use tether_apiserver::{RunningServer, ServerConfig};

const DEADLINE: Duration = Duration::from_secs(15);
const POLL: Duration = Duration::from_millis(20);
const NS: &str = "default";

async fn start() -> (RunningServer, Client) {
    let server = tether_apiserver::start(ServerConfig {
        simulate_workloads: false,
        ..ServerConfig::ephemeral()
    })
    .await
    .unwrap();
    let client = server.client().await.unwrap();
    (server, client)
}

fn from<K: DeserializeOwned>(value: Value) -> K {
    serde_json::from_value(value).unwrap()
}

/// An owner reference to `owner` (kind and apiVersion given, as the typed objects lack them).
fn owner_ref(api_version: &str, kind: &str, name: &str, uid: &str, block: bool) -> Value {
    json!({"apiVersion": api_version, "kind": kind, "name": name, "uid": uid,
           "blockOwnerDeletion": block})
}

fn cm_ref(owner: &ConfigMap, block: bool) -> Value {
    owner_ref(
        "v1",
        "ConfigMap",
        &owner.name_any(),
        &owner.uid().unwrap(),
        block,
    )
}

fn config_map(name: &str, owners: &[Value], finalizers: &[&str]) -> ConfigMap {
    from(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "ownerReferences": owners, "finalizers": finalizers},
        "data": {"k": "v"},
    }))
}

async fn create_cm(api: &Api<ConfigMap>, name: &str, owners: &[Value], fin: &[&str]) -> ConfigMap {
    api.create(&PostParams::default(), &config_map(name, owners, fin))
        .await
        .unwrap()
}

/// Polls `check` until it answers `Some`, failing the test after [`DEADLINE`].
async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {DEADLINE:?} waiting for {what}"
        );
        tokio::time::sleep(POLL).await;
    }
}

async fn gone<K>(api: &Api<K>, name: &str)
where
    K: kube::Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    eventually(&format!("{name} to be deleted"), || async {
        api.get_opt(name).await.unwrap().is_none().then_some(())
    })
    .await;
}

fn owner_uids(o: &impl kube::Resource) -> Vec<String> {
    o.meta()
        .owner_references
        .iter()
        .flatten()
        .map(|r| r.uid.clone())
        .collect()
}

async fn remove_finalizers(api: &Api<ConfigMap>, name: &str) {
    api.patch(
        name,
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn background_deletes_dependents_whose_owners_are_all_gone() {
    let (server, client) = start().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), NS);
    let owner = create_cm(&cms, "owner", &[], &[]).await;
    let other = create_cm(&cms, "other", &[], &[]).await;
    create_cm(&cms, "only-child", &[cm_ref(&owner, false)], &[]).await;
    create_cm(
        &cms,
        "shared",
        &[cm_ref(&owner, false), cm_ref(&other, false)],
        &[],
    )
    .await;
    create_cm(&cms, "bystander", &[], &[]).await;

    // The default for a ConfigMap is background: the owner goes at once.
    cms.delete("owner", &DeleteParams::default()).await.unwrap();
    assert!(cms.get_opt("owner").await.unwrap().is_none());
    gone(&cms, "only-child").await;
    let shared = eventually("shared to lose the dead owner", || async {
        let shared = cms.get("shared").await.unwrap();
        (owner_uids(&shared).len() == 1).then_some(shared)
    })
    .await;
    assert_eq!(owner_uids(&shared), vec![other.uid().unwrap()]);
    assert!(shared.metadata.deletion_timestamp.is_none());
    assert!(cms.get_opt("bystander").await.unwrap().is_some());
    assert!(cms.get_opt("other").await.unwrap().is_some());
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn dependent_of_an_owner_that_never_existed_is_deleted() {
    let (server, client) = start().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), NS);
    let owner = create_cm(&cms, "owner", &[], &[]).await;
    // Right name, wrong uid: another object than the one referenced.
    let wrong_uid = owner_ref("v1", "ConfigMap", "owner", "0000-not-the-owner", false);
    create_cm(&cms, "stale", &[wrong_uid], &[]).await;
    let absent = owner_ref("v1", "ConfigMap", "nobody", "1111-absent", false);
    create_cm(&cms, "lost", &[absent], &[]).await;
    create_cm(&cms, "kept", &[cm_ref(&owner, false)], &[]).await;
    gone(&cms, "stale").await;
    gone(&cms, "lost").await;
    // A live owner keeps its dependent (checked after the others went: the collector ran).
    let kept = cms.get("kept").await.unwrap();
    assert_eq!(owner_uids(&kept), vec![owner.uid().unwrap()]);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn deployment_owning_a_replica_set_cascades_in_the_background() {
    let (server, client) = start().await;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), NS);
    let rss: Api<ReplicaSet> = Api::namespaced(client.clone(), NS);
    let template = json!({
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}},
                     "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}},
    });
    let deployment: Deployment = deployments
        .create(
            &PostParams::default(),
            &from(json!({"apiVersion": "apps/v1", "kind": "Deployment",
                         "metadata": {"name": "web"}, "spec": template})),
        )
        .await
        .unwrap();
    let reference = owner_ref(
        "apps/v1",
        "Deployment",
        "web",
        &deployment.uid().unwrap(),
        true,
    );
    rss.create(
        &PostParams::default(),
        &from(json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                     "metadata": {"name": "web-5d8f", "ownerReferences": [reference]},
                     "spec": template})),
    )
    .await
    .unwrap();
    deployments
        .delete("web", &DeleteParams::background())
        .await
        .unwrap();
    gone(&rss, "web-5d8f").await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn foreground_waits_for_blocking_dependents_recursively() {
    let (server, client) = start().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), NS);
    let owner = create_cm(&cms, "owner", &[], &[]).await;
    create_cm(&cms, "held", &[cm_ref(&owner, true)], &["example.com/hold"]).await;
    create_cm(&cms, "loose", &[cm_ref(&owner, false)], &[]).await;
    let mid = create_cm(&cms, "mid", &[cm_ref(&owner, true)], &[]).await;
    create_cm(&cms, "leaf", &[cm_ref(&mid, true)], &["example.com/hold"]).await;

    let deleting = cms
        .delete("owner", &DeleteParams::foreground())
        .await
        .unwrap()
        .left()
        .expect("a foreground delete answers the owner, still present");
    assert!(deleting.metadata.deletion_timestamp.is_some());
    assert_eq!(deleting.finalizers(), ["foregroundDeletion"]);

    // Dependents are deleted; one with a finalizer stays, being deleted.
    gone(&cms, "loose").await;
    eventually("held and leaf to be deleting", || async {
        let held = cms.get("held").await.unwrap();
        let leaf = cms.get("leaf").await.unwrap();
        (held.metadata.deletion_timestamp.is_some() && leaf.metadata.deletion_timestamp.is_some())
            .then_some(())
    })
    .await;
    // mid has a dependent of its own, so it is deleted in the foreground too.
    let mid = cms.get("mid").await.unwrap();
    assert!(mid.metadata.deletion_timestamp.is_some());
    assert_eq!(mid.finalizers(), ["foregroundDeletion"]);
    let owner_now = cms.get("owner").await.unwrap();
    assert_eq!(owner_now.uid(), owner.uid());
    assert_eq!(owner_now.finalizers(), ["foregroundDeletion"]);

    // held goes; mid still blocks (leaf), so the owner stays.
    remove_finalizers(&cms, "held").await;
    gone(&cms, "held").await;
    assert!(cms.get_opt("owner").await.unwrap().is_some());
    assert!(cms.get_opt("mid").await.unwrap().is_some());

    remove_finalizers(&cms, "leaf").await;
    gone(&cms, "leaf").await;
    gone(&cms, "mid").await;
    gone(&cms, "owner").await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_foreground_cycle_is_broken_as_upstream_breaks_it() {
    let (server, client) = start().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), NS);
    let a = create_cm(&cms, "a", &[], &[]).await;
    let b = create_cm(&cms, "b", &[cm_ref(&a, true)], &[]).await;
    // a and b own each other, both blocking: a foreground delete would wait for ever.
    cms.patch(
        "a",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"ownerReferences": [cm_ref(&b, true)]}})),
    )
    .await
    .unwrap();
    cms.delete("a", &DeleteParams::foreground()).await.unwrap();
    gone(&cms, "a").await;
    gone(&cms, "b").await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn owners_of_a_kind_not_yet_served_are_resolved_once_their_crd_is() {
    let (server, client) = start().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), NS);
    let thing = owner_ref(
        "things.example.com/v1",
        "Thing",
        "missing",
        "no-such-uid",
        false,
    );
    create_cm(&cms, "owned-by-a-thing", &[thing], &[]).await;
    // The kind is not served: the collector cannot tell, so it leaves the dependent alone.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(cms.get_opt("owned-by-a-thing").await.unwrap().is_some());
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    crds.create(
        &PostParams::default(),
        &from(json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "things.things.example.com"},
            "spec": {"group": "things.example.com", "scope": "Namespaced",
                "names": {"plural": "things", "singular": "thing", "kind": "Thing"},
                "versions": [{"name": "v1", "served": true, "storage": true,
                    "schema": {"openAPIV3Schema": {"type": "object",
                        "x-kubernetes-preserve-unknown-fields": true}}}]}})),
    )
    .await
    .unwrap();
    // Now served, the owner is known to be absent: the dependent goes.
    gone(&cms, "owned-by-a-thing").await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn orphan_removes_the_owner_from_its_dependents() {
    let (server, client) = start().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), NS);
    let owner = create_cm(&cms, "owner", &[], &[]).await;
    let other = create_cm(&cms, "other", &[], &[]).await;
    create_cm(&cms, "child", &[cm_ref(&owner, true)], &[]).await;
    create_cm(
        &cms,
        "shared",
        &[cm_ref(&owner, false), cm_ref(&other, false)],
        &[],
    )
    .await;

    cms.delete("owner", &DeleteParams::orphan()).await.unwrap();
    gone(&cms, "owner").await;
    let child = cms.get("child").await.unwrap();
    assert!(child.metadata.owner_references.is_none(), "{child:?}");
    assert!(child.metadata.deletion_timestamp.is_none());
    let shared = cms.get("shared").await.unwrap();
    assert_eq!(owner_uids(&shared), vec![other.uid().unwrap()]);

    // Legacy `orphanDependents: true` orphans too.
    create_cm(&cms, "legacy-child", &[cm_ref(&other, false)], &[]).await;
    let body = serde_json::to_vec(&json!({"kind": "DeleteOptions", "apiVersion": "v1",
                                          "orphanDependents": true}))
    .unwrap();
    let request = Request::builder()
        .method(Method::DELETE)
        .uri(format!("/api/v1/namespaces/{NS}/configmaps/other"))
        .header("content-type", "application/json")
        .body(body)
        .unwrap();
    let answer: Value = client.request(request).await.unwrap();
    assert_eq!(
        answer["metadata"]["finalizers"],
        json!(["orphan"]),
        "{answer:#}"
    );
    gone(&cms, "other").await;
    let shared = cms.get("shared").await.unwrap();
    assert!(shared.metadata.owner_references.is_none(), "{shared:?}");
    let legacy = cms.get("legacy-child").await.unwrap();
    assert!(legacy.metadata.owner_references.is_none(), "{legacy:?}");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn orphan_dependents_with_a_propagation_policy_is_422_and_the_query_form_orphans() {
    let (server, client) = start().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), NS);
    let owner = create_cm(&cms, "owner", &[], &[]).await;
    create_cm(&cms, "child", &[cm_ref(&owner, false)], &[]).await;
    let delete = |uri: String, body: Value| {
        Request::builder()
            .method(Method::DELETE)
            .uri(uri)
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&body).unwrap())
            .unwrap()
    };
    let both = json!({"kind": "DeleteOptions", "apiVersion": "v1",
                      "orphanDependents": true, "propagationPolicy": "Background"});
    let err = client
        .request::<Value>(delete(
            format!("/api/v1/namespaces/{NS}/configmaps/owner"),
            both,
        ))
        .await
        .unwrap_err();
    let kube::Error::Api(status) = err else {
        panic!("{err:?}")
    };
    assert_eq!((status.code, status.reason.as_str()), (422, "Invalid"));
    assert!(
        status
            .message
            .contains("orphanDependents and deletionPropagation cannot be both set"),
        "{}",
        status.message
    );
    cms.get("owner")
        .await
        .expect("a refused delete deletes nothing");
    // The same conflict split between the query and the body.
    let err = client
        .request::<Value>(delete(
            format!("/api/v1/namespaces/{NS}/configmaps/owner?propagationPolicy=Foreground"),
            json!({"orphanDependents": false}),
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 422),
        "{err:?}"
    );
    // `?orphanDependents=true` alone orphans.
    let answer: Value = client
        .request(delete(
            format!("/api/v1/namespaces/{NS}/configmaps/owner?orphanDependents=true"),
            json!({}),
        ))
        .await
        .unwrap();
    assert_eq!(
        answer["metadata"]["finalizers"],
        json!(["orphan"]),
        "{answer:#}"
    );
    gone(&cms, "owner").await;
    let child = cms.get("child").await.unwrap();
    assert!(child.metadata.owner_references.is_none(), "{child:?}");

    // A delete left pending (a finalizer) answers 202 only for `orphanDependents: false`.
    for (name, body, code) in [
        ("held-legacy", json!({"orphanDependents": false}), 202),
        (
            "held-policy",
            json!({"propagationPolicy": "Background"}),
            200,
        ),
    ] {
        create_cm(&cms, name, &[], &["example.com/hold"]).await;
        let response = client
            .send(
                Request::builder()
                    .method(Method::DELETE)
                    .uri(format!("/api/v1/namespaces/{NS}/configmaps/{name}"))
                    .header("content-type", "application/json")
                    .body(kube::client::Body::from(serde_json::to_vec(&body).unwrap()))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), code, "{name}");
        remove_finalizers(&cms, name).await;
        gone(&cms, name).await;
    }
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn batch_v1_jobs_orphan_by_default() {
    let (server, client) = start().await;
    let jobs: Api<Job> = Api::namespaced(client.clone(), NS);
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), NS);
    let job: Job = jobs
        .create(
            &PostParams::default(),
            &from(
                json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "once"},
                "spec": {"template": {"spec": {"restartPolicy": "Never",
                    "containers": [{"name": "run", "image": "busybox:1.36"}]}}}}),
            ),
        )
        .await
        .unwrap();
    let reference = owner_ref("batch/v1", "Job", "once", &job.uid().unwrap(), false);
    create_cm(&cms, "output", &[reference], &[]).await;
    // Without a policy: orphaned, and the server says so in a Warning header as upstream does.
    let response = client
        .send(
            Request::builder()
                .method(Method::DELETE)
                .uri(format!("/apis/batch/v1/namespaces/{NS}/jobs/once"))
                .body(kube::client::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert!(response.status().is_success(), "{:?}", response.status());
    let warning = response
        .headers()
        .get("warning")
        .map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(
        warning.as_deref(),
        Some(
            "299 - \"child pods are preserved by default when jobs are deleted; set \
             propagationPolicy=Background to remove them or set propagationPolicy=Orphan to \
             suppress this warning\""
        )
    );
    gone(&jobs, "once").await;
    let output = cms.get("output").await.unwrap();
    assert!(output.metadata.owner_references.is_none(), "{output:?}");

    // Asked for, background cascades.
    let job: Job = jobs
        .create(
            &PostParams::default(),
            &from(
                json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "twice"},
                "spec": {"template": {"spec": {"restartPolicy": "Never",
                    "containers": [{"name": "run", "image": "busybox:1.36"}]}}}}),
            ),
        )
        .await
        .unwrap();
    let reference = owner_ref("batch/v1", "Job", "twice", &job.uid().unwrap(), false);
    create_cm(&cms, "output2", &[reference], &[]).await;
    jobs.delete("twice", &DeleteParams::background())
        .await
        .unwrap();
    gone(&cms, "output2").await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn custom_resource_and_cluster_scoped_owners() {
    let (server, client) = start().await;
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    crds.create(
        &PostParams::default(),
        &from(json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "apps.example.com"},
            "spec": {"group": "example.com", "scope": "Namespaced",
                "names": {"plural": "apps", "singular": "app", "kind": "App", "listKind": "AppList"},
                "versions": [{"name": "v1", "served": true, "storage": true,
                    "schema": {"openAPIV3Schema": {"type": "object",
                        "x-kubernetes-preserve-unknown-fields": true}}}]},
        })),
    )
    .await
    .unwrap();
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("example.com", "v1", "App"),
        "apps",
    );
    let apps: Api<DynamicObject> = Api::namespaced_with(client.clone(), NS, &ar);
    let app = eventually("the App resource to be served", || async {
        let app: DynamicObject = from(json!({"apiVersion": "example.com/v1", "kind": "App",
                                             "metadata": {"name": "shop"}}));
        apps.create(&PostParams::default(), &app).await.ok()
    })
    .await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), NS);
    let app_ref = owner_ref("example.com/v1", "App", "shop", &app.uid().unwrap(), true);
    create_cm(&cms, "shop-config", std::slice::from_ref(&app_ref), &[]).await;
    create_cm(&cms, "shop-held", &[app_ref], &["example.com/hold"]).await;

    let roles: Api<ClusterRole> = Api::all(client.clone());
    let role: ClusterRole = roles
        .create(
            &PostParams::default(),
            &from(
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                         "metadata": {"name": "gc-owner"}, "rules": []}),
            ),
        )
        .await
        .unwrap();
    let role_ref = owner_ref(
        "rbac.authorization.k8s.io/v1",
        "ClusterRole",
        "gc-owner",
        &role.uid().unwrap(),
        false,
    );
    create_cm(&cms, "role-config", &[role_ref], &[]).await;
    // A cluster-scoped object cannot be owned by a namespaced one: the reference is dangling.
    let bad_ref = owner_ref("v1", "ConfigMap", "shop-config", "2222", false);
    roles
        .create(
            &PostParams::default(),
            &from(
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                         "metadata": {"name": "misowned", "ownerReferences": [bad_ref]},
                         "rules": []}),
            ),
        )
        .await
        .unwrap();
    gone(&roles, "misowned").await;

    // The custom resource in the foreground: it waits for its held ConfigMap.
    apps.delete("shop", &DeleteParams::foreground())
        .await
        .unwrap();
    gone(&cms, "shop-config").await;
    eventually("shop-held to be deleting", || async {
        let held = cms.get("shop-held").await.unwrap();
        held.metadata.deletion_timestamp.is_some().then_some(())
    })
    .await;
    let shop = apps.get("shop").await.unwrap();
    assert_eq!(shop.finalizers(), ["foregroundDeletion"]);
    remove_finalizers(&cms, "shop-held").await;
    gone(&apps, "shop").await;

    roles
        .delete("gc-owner", &DeleteParams::default())
        .await
        .unwrap();
    gone(&cms, "role-config").await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_second_delete_changes_the_propagation() {
    let (server, client) = start().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), NS);
    let owner = create_cm(&cms, "owner", &[], &[]).await;
    create_cm(&cms, "held", &[cm_ref(&owner, true)], &["example.com/hold"]).await;
    cms.delete("owner", &DeleteParams::foreground())
        .await
        .unwrap();
    eventually("held to be deleting", || async {
        let held = cms.get("held").await.unwrap();
        held.metadata.deletion_timestamp.is_some().then_some(())
    })
    .await;
    assert_eq!(
        cms.get("owner").await.unwrap().finalizers(),
        ["foregroundDeletion"]
    );

    // Orphan now: the owner stops waiting and goes while its dependent is still held.
    let again = cms
        .delete("owner", &DeleteParams::orphan())
        .await
        .unwrap()
        .left()
        .expect("the owner, still present");
    assert_eq!(again.finalizers(), ["orphan"]);
    gone(&cms, "owner").await;
    let held = cms.get("held").await.unwrap();
    assert!(held.metadata.owner_references.is_none(), "{held:?}");
    assert!(held.metadata.deletion_timestamp.is_some());
    server.shutdown().await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// kubectl delete --cascade=…

per_version!(v1_27 => "1.27", v1_30 => "1.30", v1_33 => "1.33"; [kubectl_delete_cascade]);

const SHOW: Duration = Duration::from_secs(30);

fn yaml_cm(name: &str, owner: Option<(&str, &str, bool)>, finalizer: bool) -> String {
    let mut doc =
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {NS}\n");
    if let Some((owner, uid, block)) = owner {
        doc.push_str(&format!(
            "  ownerReferences:\n  - apiVersion: v1\n    kind: ConfigMap\n    name: {owner}\n    uid: {uid}\n    blockOwnerDeletion: {block}\n"
        ));
    }
    if finalizer {
        doc.push_str("  finalizers:\n  - example.com/hold\n");
    }
    doc.push_str("data:\n  k: v\n");
    doc
}

async fn kubectl_gone(k: &Cluster, name: &str) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let run = k.run(&["get", "configmap", name, "-n", NS]).await;
        if !run.status.success() && run.stderr.contains("NotFound") {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "configmap {name} still there after {DEADLINE:?}: {run:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn kubectl_delete_cascade(version: &'static str) {
    let k = Cluster::start(version).await;
    let owners = ["bg", "fg", "orph"]
        .iter()
        .map(|n| yaml_cm(n, None, false))
        .collect::<Vec<_>>()
        .join("---\n");
    k.create_file(&k.file("owners.yaml", &owners)).await;
    let uid = |name: &'static str| {
        let k = &k;
        async move {
            let o = k.get_json(&["configmap", name, "-n", NS]).await;
            o["metadata"]["uid"].as_str().unwrap().to_owned()
        }
    };
    let (bg, fg, orph) = (uid("bg").await, uid("fg").await, uid("orph").await);
    let dependents = [
        yaml_cm("bg-child", Some(("bg", &bg, false)), false),
        yaml_cm("fg-held", Some(("fg", &fg, true)), true),
        yaml_cm("orph-child", Some(("orph", &orph, true)), false),
    ]
    .join("---\n");
    k.create_file(&k.file("dependents.yaml", &dependents)).await;

    let out = k
        .ok(&[
            "delete",
            "configmap",
            "bg",
            "-n",
            NS,
            "--cascade=background",
        ])
        .await;
    assert_eq!(out.trim(), "configmap \"bg\" deleted");
    kubectl_gone(&k, "bg-child").await;

    let out = k
        .ok(&["delete", "configmap", "orph", "-n", NS, "--cascade=orphan"])
        .await;
    assert_eq!(out.trim(), "configmap \"orph\" deleted");
    k.assert_gone(&["configmap", "orph", "-n", NS]).await;
    let child = k.get_json(&["configmap", "orph-child", "-n", NS]).await;
    assert!(
        child["metadata"].get("ownerReferences").is_none(),
        "orphan kept the reference: {:#}",
        child["metadata"]
    );

    let mut delete = k.spawn(&[
        "delete",
        "configmap",
        "fg",
        "-n",
        NS,
        "--cascade=foreground",
    ]);
    delete.line(SHOW, |l| l.contains("\"fg\" deleted")).await;
    let held = eventually("fg-held to be deleting", || async {
        let held = k.get_json(&["configmap", "fg-held", "-n", NS]).await;
        held["metadata"]["deletionTimestamp"]
            .is_string()
            .then_some(held)
    })
    .await;
    assert_eq!(held["metadata"]["finalizers"], json!(["example.com/hold"]));
    let owner = k.get_json(&["configmap", "fg", "-n", NS]).await;
    assert!(owner["metadata"]["deletionTimestamp"].is_string());
    assert_eq!(
        owner["metadata"]["finalizers"],
        json!(["foregroundDeletion"])
    );
    assert!(
        delete.running(),
        "kubectl delete --cascade=foreground returned while a blocking dependent exists"
    );
    k.ok(&[
        "patch",
        "configmap",
        "fg-held",
        "-n",
        NS,
        "--type=json",
        "-p",
        r#"[{"op":"remove","path":"/metadata/finalizers"}]"#,
    ])
    .await;
    let done = delete.finish(SHOW).await;
    assert!(done.status.success(), "foreground delete failed: {done:?}");
    k.assert_gone(&["configmap", "fg", "-n", NS]).await;
    k.assert_gone(&["configmap", "fg-held", "-n", NS]).await;
    k.shutdown().await;
}
