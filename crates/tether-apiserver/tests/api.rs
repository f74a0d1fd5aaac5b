//! API semantics of the embedded control plane through kube-rs, as a client sees a real
//! kube-apiserver: discovery, CRUD with optimistic concurrency, generation and status
//! subresources, finalizers and namespace lifecycle, list and watch semantics (selectors,
//! paging snapshots, resourceVersion, bookmarks, initial events, expiry), CRDs and their
//! versions, patches and server-side apply, and the workload readiness simulation. Errors are
//! checked for kube-apiserver's status code, `reason` and message.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed assertion.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use futures::{Stream, StreamExt, TryStreamExt};
use http::{HeaderMap, Method, Request, StatusCode};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch,
    PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::core::Status;
use kube::discovery::Discovery;
use kube::{Client, Resource, ResourceExt};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tether_apiserver::{RunningServer, ServerConfig};

/// How long a condition may take to come true before the test fails.
const DEADLINE: Duration = Duration::from_secs(15);
const POLL: Duration = Duration::from_millis(20);
const GROUP: &str = "example.com";

// ---------------------------------------------------------------------------------------------
// Helpers

/// An in-memory server without the workload simulation (its status writes would race the
/// assertions of tests that are not about it).
async fn start() -> (RunningServer, Client) {
    start_with(ServerConfig {
        simulate_workloads: false,
        ..ServerConfig::ephemeral()
    })
    .await
}

async fn start_with(config: ServerConfig) -> (RunningServer, Client) {
    let server = tether_apiserver::start(config).await.unwrap();
    let client = server.client().await.unwrap();
    (server, client)
}

fn from<K: DeserializeOwned>(value: Value) -> K {
    serde_json::from_value(value).unwrap()
}

fn config_map(name: &str, data: Value) -> ConfigMap {
    from(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}))
}

fn labelled(name: &str, labels: Value) -> ConfigMap {
    from(json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": name, "labels": labels}, "data": {"k": "v"}}))
}

fn namespace(name: &str) -> Namespace {
    from(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}))
}

async fn create_namespace(client: &Client, name: &str) {
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &namespace(name))
        .await
        .unwrap();
}

fn deployment(name: &str, replicas: i32) -> Deployment {
    from(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [
                    {"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}]},
                    {"name": "sidecar", "image": "busybox:1.36"},
                ]},
            },
        },
    }))
}

/// The API error a call failed with; panics on success or a non-API failure.
#[track_caller]
fn api_error<T: std::fmt::Debug>(result: Result<T, kube::Error>) -> Box<Status> {
    match result {
        Err(kube::Error::Api(status)) => status,
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// Asserts the error's code and reason.
#[track_caller]
fn assert_error(status: &Status, code: u16, reason: &str) {
    assert_eq!(
        (status.code, status.reason.as_str()),
        (code, reason),
        "unexpected error: {status:?}"
    );
    assert!(status.is_failure(), "status is not Failure: {status:?}");
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

/// The next watch event, failing the test if none comes within [`DEADLINE`].
async fn next_event<K, S>(stream: &mut S, what: &str) -> WatchEvent<K>
where
    S: Stream<Item = Result<WatchEvent<K>, kube::Error>> + Unpin,
{
    match tokio::time::timeout(DEADLINE, stream.next()).await {
        Ok(Some(Ok(event))) => event,
        Ok(Some(Err(err))) => panic!("watch failed while waiting for {what}: {err}"),
        Ok(None) => panic!("watch ended while waiting for {what}"),
        Err(_) => panic!("no watch event within {DEADLINE:?} while waiting for {what}"),
    }
}

/// `(type, name)` of an event, for readable assertions.
fn describe<K: Resource>(event: &WatchEvent<K>) -> (String, String) {
    match event {
        WatchEvent::Added(o) => ("ADDED".into(), o.meta().name.clone().unwrap_or_default()),
        WatchEvent::Modified(o) => ("MODIFIED".into(), o.meta().name.clone().unwrap_or_default()),
        WatchEvent::Deleted(o) => ("DELETED".into(), o.meta().name.clone().unwrap_or_default()),
        WatchEvent::Bookmark(b) => ("BOOKMARK".into(), b.metadata.resource_version.clone()),
        WatchEvent::Error(e) => ("ERROR".into(), e.message.clone()),
    }
}

/// A raw request through the kube client (token, CA): status, headers and JSON body, for what
/// the typed API hides.
async fn send(
    client: &Client,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (StatusCode, HeaderMap, Value) {
    let mut request = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = client
        .send(request.body(kube::client::Body::from(body)).unwrap())
        .await
        .unwrap();
    let (parts, body) = response.into_parts();
    let bytes = body.collect_bytes().await.unwrap();
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            panic!(
                "{uri}: reply is not JSON ({e}): {}",
                String::from_utf8_lossy(&bytes)
            )
        })
    };
    (parts.status, parts.headers, value)
}

async fn get_json(client: &Client, uri: &str) -> Value {
    let (status, _, body) = send(client, Method::GET, uri, &[], vec![]).await;
    assert_eq!(status, StatusCode::OK, "GET {uri}: {body}");
    body
}

fn names<K: Resource>(items: &[K]) -> Vec<String> {
    let mut names: Vec<String> = items
        .iter()
        .map(|o| o.meta().name.clone().unwrap_or_default())
        .collect();
    names.sort();
    names
}

fn rv<K: Resource>(object: &K) -> String {
    object.meta().resource_version.clone().unwrap()
}

fn generation<K: Resource>(object: &K) -> i64 {
    object.meta().generation.unwrap_or(0)
}

/// A namespaced CRD in [`GROUP`] whose versions share one schema (`spec.color`, `spec.size`,
/// `status.phase`).
fn crd(plural: &str, kind: &str, versions: &[&str], storage: &str, status: bool) -> Value {
    let schema = json!({"type": "object", "properties": {
        "spec": {"type": "object", "properties": {
            "color": {"type": "string"}, "size": {"type": "integer"}}},
        "status": {"type": "object", "properties": {"phase": {"type": "string"}}},
    }});
    let versions: Vec<Value> = versions
        .iter()
        .map(|v| {
            let mut version = json!({"name": v, "served": true, "storage": *v == storage,
                                     "schema": {"openAPIV3Schema": schema}});
            if status {
                version["subresources"] = json!({"status": {}});
            }
            version
        })
        .collect();
    json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{plural}.{GROUP}")},
        "spec": {
            "group": GROUP, "scope": "Namespaced",
            "names": {"plural": plural, "singular": kind.to_lowercase(), "kind": kind,
                      "listKind": format!("{kind}List")},
            "versions": versions,
        },
    })
}

fn condition_true(crd: &CustomResourceDefinition, type_: &str) -> bool {
    crd.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == type_ && c.status == "True"))
}

/// Creates a CRD and waits until it is established.
async fn install_crd(client: &Client, definition: Value) -> CustomResourceDefinition {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let created = crds
        .create(&PostParams::default(), &from(definition))
        .await
        .unwrap();
    let name = created.name_any();
    eventually(&format!("CRD {name} established"), || {
        let crds = crds.clone();
        let name = name.clone();
        async move {
            let crd = crds.get(&name).await.ok()?;
            condition_true(&crd, "Established").then_some(crd)
        }
    })
    .await
}

fn custom(
    client: &Client,
    version: &str,
    kind: &str,
    plural: &str,
    ns: &str,
) -> Api<DynamicObject> {
    let resource =
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(GROUP, version, kind), plural);
    Api::namespaced_with(client.clone(), ns, &resource)
}

fn custom_object(version: &str, kind: &str, name: &str, spec: Value) -> DynamicObject {
    from(
        json!({"apiVersion": format!("{GROUP}/{version}"), "kind": kind,
                "metadata": {"name": name}, "spec": spec}),
    )
}

// ---------------------------------------------------------------------------------------------
// Discovery

#[tokio::test]
async fn version_reports_kubernetes_1_33() {
    let (server, client) = start().await;
    let version = client.apiserver_version().await.unwrap();
    assert_eq!(
        (version.major.as_str(), version.minor.as_str()),
        ("1", "33")
    );
    assert_eq!(version.git_version, "v1.33.0");
    server.shutdown().await.unwrap();
}

/// Every `APIResource` entry has the fields clients rely on.
#[track_caller]
fn assert_complete_entries(doc: &Value) {
    for entry in doc["resources"].as_array().unwrap() {
        let name = entry["name"].as_str().unwrap();
        assert!(entry["singularName"].is_string(), "{name}: singularName");
        assert!(entry["namespaced"].is_boolean(), "{name}: namespaced");
        assert!(
            entry["kind"].as_str().is_some_and(|k| !k.is_empty()),
            "{name}: kind"
        );
        assert!(
            entry["verbs"].as_array().is_some_and(|v| !v.is_empty()),
            "{name}: verbs"
        );
    }
}

fn entry<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("{name} missing from {}", doc["groupVersion"]))
}

const ALL_VERBS: [&str; 8] = [
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

fn sorted_verbs(entry: &Value) -> Vec<String> {
    let mut verbs: Vec<String> = entry["verbs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    verbs.sort();
    verbs
}

#[tokio::test]
async fn legacy_group_and_resource_discovery_documents() {
    let (server, client) = start().await;

    let api = get_json(&client, "/api").await;
    assert_eq!(api["kind"], "APIVersions");
    assert_eq!(api["versions"], json!(["v1"]));
    assert_eq!(
        api["serverAddressByClientCIDRs"][0]["serverAddress"],
        server.url().trim_start_matches("https://")
    );

    let apis = get_json(&client, "/apis").await;
    assert_eq!(
        (apis["kind"].as_str(), apis["apiVersion"].as_str()),
        (Some("APIGroupList"), Some("v1"))
    );
    let apps = apis["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "apps")
        .expect("apps in /apis");
    assert_eq!(
        apps["preferredVersion"],
        json!({"groupVersion": "apps/v1", "version": "v1"})
    );
    assert!(
        apis["groups"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["name"] != ""),
        "the core group is served at /api, not /apis"
    );
    let group = get_json(&client, "/apis/apps").await;
    assert_eq!(group["kind"], "APIGroup");
    assert_eq!(group["name"], "apps");

    let core = get_json(&client, "/api/v1").await;
    assert_eq!(core["kind"], "APIResourceList");
    assert_eq!(core["groupVersion"], "v1");
    assert_complete_entries(&core);
    let cm = entry(&core, "configmaps");
    assert_eq!(cm["singularName"], "configmap");
    assert_eq!(cm["namespaced"], true);
    assert_eq!(cm["kind"], "ConfigMap");
    assert_eq!(cm["shortNames"], json!(["cm"]));
    assert_eq!(sorted_verbs(cm), ALL_VERBS);
    let ns = entry(&core, "namespaces");
    assert_eq!(
        (ns["namespaced"].as_bool(), ns["kind"].as_str()),
        (Some(false), Some("Namespace"))
    );
    assert_eq!(entry(&core, "namespaces/status")["kind"], "Namespace");
    assert_eq!(entry(&core, "namespaces/finalize")["kind"], "Namespace");

    let apps_v1 = get_json(&client, "/apis/apps/v1").await;
    assert_eq!(apps_v1["groupVersion"], "apps/v1");
    assert_complete_entries(&apps_v1);
    let deployments = entry(&apps_v1, "deployments");
    assert_eq!(deployments["singularName"], "deployment");
    assert_eq!(deployments["kind"], "Deployment");
    assert_eq!(deployments["namespaced"], true);
    assert_eq!(deployments["shortNames"], json!(["deploy"]));
    assert_eq!(deployments["categories"], json!(["all"]));
    assert_eq!(sorted_verbs(deployments), ALL_VERBS);
    let scale = entry(&apps_v1, "deployments/scale");
    assert_eq!(
        (
            scale["group"].as_str(),
            scale["version"].as_str(),
            scale["kind"].as_str()
        ),
        (Some("autoscaling"), Some("v1"), Some("Scale"))
    );
    assert_eq!(sorted_verbs(scale), ["get", "patch", "update"]);
    assert_eq!(entry(&apps_v1, "deployments/status")["kind"], "Deployment");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn aggregated_discovery_answers_v2_and_v2beta1_by_accept() {
    let (server, client) = start().await;
    for version in ["v2", "v2beta1"] {
        let accept = format!(
            "application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList,application/json"
        );
        for (path, legacy) in [("/api", true), ("/apis", false)] {
            let (status, headers, doc) =
                send(&client, Method::GET, path, &[("Accept", &accept)], vec![]).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(
                headers["content-type"],
                format!(
                    "application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList"
                ),
                "{path} {version}"
            );
            assert_eq!(doc["kind"], "APIGroupDiscoveryList");
            assert_eq!(doc["apiVersion"], format!("apidiscovery.k8s.io/{version}"));
            let items = doc["items"].as_array().unwrap();
            if legacy {
                assert_eq!(items.len(), 1, "/api has the core group only");
                assert_eq!(items[0]["metadata"]["name"], "");
                continue;
            }
            let apps = items
                .iter()
                .find(|g| g["metadata"]["name"] == "apps")
                .unwrap();
            let v1 = &apps["versions"][0];
            assert_eq!(v1["version"], "v1");
            assert_eq!(v1["freshness"], "Current");
            let deployments = v1["resources"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["resource"] == "deployments")
                .unwrap();
            assert_eq!(deployments["scope"], "Namespaced");
            assert_eq!(deployments["singularResource"], "deployment");
            assert_eq!(deployments["responseKind"]["kind"], "Deployment");
            let subresources: Vec<&str> = deployments["subresources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["subresource"].as_str().unwrap())
                .collect();
            assert!(subresources.contains(&"status") && subresources.contains(&"scale"));
        }
    }
    // Without the aggregated media type, the legacy documents.
    let (_, headers, doc) = send(
        &client,
        Method::GET,
        "/apis",
        &[("Accept", "application/json")],
        vec![],
    )
    .await;
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(doc["kind"], "APIGroupList");
    server.shutdown().await.unwrap();
}

fn discovered(discovery: &Discovery, group: &str, kind: &str) -> bool {
    discovery.get(group).is_some_and(|g| {
        g.recommended_resources()
            .iter()
            .any(|(r, _)| r.kind == kind)
    })
}

#[tokio::test]
async fn kube_discovery_finds_builtins_and_follows_a_crd() {
    let (server, client) = start().await;
    let before = Discovery::new(client.clone()).run().await.unwrap();
    let (deployments, caps) = before
        .resolve_gvk(&GroupVersionKind::gvk("apps", "v1", "Deployment"))
        .expect("deployments discovered");
    assert_eq!(deployments.plural, "deployments");
    assert_eq!(caps.scope, kube::discovery::Scope::Namespaced);
    assert!(!discovered(&before, GROUP, "Widget"));

    install_crd(&client, crd("widgets", "Widget", &["v1"], "v1", true)).await;
    for discovery in [
        Discovery::new(client.clone()).run().await.unwrap(),
        Discovery::new(client.clone())
            .run_aggregated()
            .await
            .unwrap(),
    ] {
        let (widgets, caps) = discovery
            .resolve_gvk(&GroupVersionKind::gvk(GROUP, "v1", "Widget"))
            .expect("the established CRD is discovered");
        assert_eq!(widgets.plural, "widgets");
        assert!(
            caps.subresources.iter().any(|(r, _)| r.plural == "status"),
            "the status subresource is discovered"
        );
    }

    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    crds.delete(&format!("widgets.{GROUP}"), &DeleteParams::default())
        .await
        .unwrap();
    eventually("the CRD to be gone", || {
        let crds = crds.clone();
        async move {
            crds.get_opt(&format!("widgets.{GROUP}"))
                .await
                .unwrap()
                .is_none()
                .then_some(())
        }
    })
    .await;
    let after = Discovery::new(client.clone()).run().await.unwrap();
    assert!(
        !discovered(&after, GROUP, "Widget"),
        "a deleted CRD leaves discovery"
    );
    assert!(
        after
            .resolve_gvk(&GroupVersionKind::gvk("apps", "v1", "Deployment"))
            .is_some()
    );
    server.shutdown().await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// CRUD

#[tokio::test]
async fn create_get_update_and_optimistic_concurrency() {
    let (server, client) = start().await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let created = api
        .create(
            &PostParams::default(),
            &config_map("app", json!({"k": "1"})),
        )
        .await
        .unwrap();
    let meta = &created.metadata;
    assert!(
        meta.uid.as_deref().is_some_and(|u| u.len() == 36),
        "uid {:?}",
        meta.uid
    );
    assert!(meta.creation_timestamp.is_some());
    let rv1 = rv(&created);
    assert!(rv1.parse::<u64>().is_ok(), "resourceVersion {rv1:?}");
    assert_eq!(meta.namespace.as_deref(), Some("default"));

    let got = api.get("app").await.unwrap();
    assert_eq!(got, created);

    let mut update = got.clone();
    update.data = Some(BTreeMap::from([("k".into(), "2".into())]));
    let updated = api
        .replace("app", &PostParams::default(), &update)
        .await
        .unwrap();
    assert_ne!(rv(&updated), rv1);
    assert_eq!(updated.metadata.uid, created.metadata.uid);
    assert_eq!(
        updated.metadata.creation_timestamp,
        created.metadata.creation_timestamp
    );

    // `update` still carries rv1: stale.
    update.data = Some(BTreeMap::from([("k".into(), "stale".into())]));
    let conflict = api_error(api.replace("app", &PostParams::default(), &update).await);
    assert_error(&conflict, 409, "Conflict");
    assert_eq!(
        conflict.message,
        "Operation cannot be fulfilled on configmaps \"app\": the object has been modified; \
         please apply your changes to the latest version and try again"
    );
    let details = conflict.details.as_ref().unwrap();
    assert_eq!(
        (details.name.as_str(), details.kind.as_str()),
        ("app", "configmaps")
    );
    assert_eq!(
        api.get("app").await.unwrap().data,
        updated.data,
        "the stale update wrote nothing"
    );

    // Without a resourceVersion the update is unconditional.
    update.metadata.resource_version = None;
    let forced = api
        .replace("app", &PostParams::default(), &update)
        .await
        .unwrap();
    assert_eq!(forced.data.as_ref().unwrap()["k"], "stale");
    assert_ne!(rv(&forced), rv(&updated));

    let duplicate = api_error(
        api.create(&PostParams::default(), &config_map("app", json!({})))
            .await,
    );
    assert_error(&duplicate, 409, "AlreadyExists");
    assert_eq!(duplicate.message, "configmaps \"app\" already exists");
    let missing = api_error(api.get("nope").await);
    assert_error(&missing, 404, "NotFound");
    assert_eq!(missing.message, "configmaps \"nope\" not found");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn generate_name_appends_a_random_suffix() {
    let (server, client) = start().await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let template: ConfigMap = from(json!({"metadata": {"generateName": "job-"}, "data": {}}));
    let a = api.create(&PostParams::default(), &template).await.unwrap();
    let b = api.create(&PostParams::default(), &template).await.unwrap();
    for name in [a.name_any(), b.name_any()] {
        assert!(
            name.starts_with("job-") && name.len() == "job-".len() + 5,
            "{name}"
        );
        assert_eq!(
            api.get(&name)
                .await
                .unwrap()
                .metadata
                .generate_name
                .as_deref(),
            Some("job-")
        );
    }
    assert_ne!(a.name_any(), b.name_any());
    server.shutdown().await.unwrap();
}

/// The list's resourceVersion: the store's revision, which any write advances.
async fn revision(api: &Api<ConfigMap>) -> String {
    api.list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap()
}

#[tokio::test]
async fn dry_run_create_update_and_delete_change_nothing() {
    let (server, client) = start().await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let dry = PostParams {
        dry_run: true,
        ..Default::default()
    };
    let before = revision(&api).await;
    let would = api
        .create(&dry, &config_map("ghost", json!({"k": "v"})))
        .await
        .unwrap();
    assert_eq!(would.name_any(), "ghost");
    assert!(
        would.metadata.uid.is_some(),
        "a dry-run create answers what would be stored"
    );
    assert!(api.get_opt("ghost").await.unwrap().is_none());
    assert_eq!(revision(&api).await, before, "a dry-run create wrote");

    let real = api
        .create(
            &PostParams::default(),
            &config_map("real", json!({"k": "v"})),
        )
        .await
        .unwrap();
    let before = revision(&api).await;
    let mut change = real.clone();
    change.data = Some(BTreeMap::from([("k".into(), "changed".into())]));
    let would = api.replace("real", &dry, &change).await.unwrap();
    assert_eq!(would.data.unwrap()["k"], "changed");
    let patched = api
        .patch(
            "real",
            &PatchParams::default().dry_run(),
            &Patch::Merge(json!({"data": {"k": "patched"}})),
        )
        .await
        .unwrap();
    assert_eq!(patched.data.unwrap()["k"], "patched");
    let deleted = api
        .delete("real", &DeleteParams::default().dry_run())
        .await
        .unwrap();
    let status = deleted
        .right()
        .expect("a ConfigMap delete answers a Status");
    assert!(status.is_success(), "{status:?}");
    assert_eq!(status.details.unwrap().name, "real");
    assert_eq!(
        api.get("real").await.unwrap(),
        real,
        "dry runs changed the object"
    );
    assert_eq!(revision(&api).await, before, "dry runs wrote");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn deployment_generation_bumps_on_spec_changes_only() {
    let (server, client) = start().await;
    let api: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let created = api
        .create(&PostParams::default(), &deployment("web", 1))
        .await
        .unwrap();
    assert_eq!(generation(&created), 1);

    let labelled = api
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(
                json!({"metadata": {"labels": {"tier": "front"}, "annotations": {"a": "b"}}}),
            ),
        )
        .await
        .unwrap();
    assert_eq!(
        generation(&labelled),
        1,
        "metadata changes keep the generation"
    );
    assert_ne!(rv(&labelled), rv(&created));

    let status = api
        .patch_status(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"replicas": 1, "observedGeneration": 1}})),
        )
        .await
        .unwrap();
    assert_eq!(generation(&status), 1, "status changes keep the generation");

    let scaled = api
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 3}})),
        )
        .await
        .unwrap();
    assert_eq!(generation(&scaled), 2, "spec changes bump the generation");
    let same = api
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 3}})),
        )
        .await
        .unwrap();
    assert_eq!(
        generation(&same),
        2,
        "a write that changes nothing keeps it"
    );
    assert_eq!(
        rv(&same),
        rv(&scaled),
        "a write that changes nothing is not stored"
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn custom_resource_generation_with_and_without_status_subresource() {
    let (server, client) = start().await;
    install_crd(&client, crd("widgets", "Widget", &["v1"], "v1", true)).await;
    install_crd(&client, crd("gadgets", "Gadget", &["v1"], "v1", false)).await;

    // With a status subresource: spec changes only.
    let widgets = custom(&client, "v1", "Widget", "widgets", "default");
    let w = widgets
        .create(
            &PostParams::default(),
            &custom_object("v1", "Widget", "w", json!({"color": "red"})),
        )
        .await
        .unwrap();
    assert_eq!(generation(&w), 1);
    let w = widgets
        .patch(
            "w",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"a": "b"}}})),
        )
        .await
        .unwrap();
    assert_eq!(generation(&w), 1, "widget: metadata change");
    let w = widgets
        .patch(
            "w",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"phase": "Ignored"}})),
        )
        .await
        .unwrap();
    assert_eq!(
        generation(&w),
        1,
        "widget: status through the main resource"
    );
    assert!(
        w.data.get("status").is_none(),
        "the main resource ignores status: {:?}",
        w.data
    );
    let w = widgets
        .patch_status(
            "w",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"phase": "Ready"}})),
        )
        .await
        .unwrap();
    assert_eq!(generation(&w), 1, "widget: status change");
    assert_eq!(w.data["status"]["phase"], "Ready");
    let w = widgets
        .patch(
            "w",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"color": "blue"}})),
        )
        .await
        .unwrap();
    assert_eq!(generation(&w), 2, "widget: spec change");

    // Without one: any change outside metadata, status included.
    let gadgets = custom(&client, "v1", "Gadget", "gadgets", "default");
    let g = gadgets
        .create(
            &PostParams::default(),
            &custom_object("v1", "Gadget", "g", json!({"color": "red"})),
        )
        .await
        .unwrap();
    assert_eq!(generation(&g), 1);
    let g = gadgets
        .patch(
            "g",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"annotations": {"a": "b"}}})),
        )
        .await
        .unwrap();
    assert_eq!(generation(&g), 1, "gadget: metadata change");
    let g = gadgets
        .patch(
            "g",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"phase": "Ready"}})),
        )
        .await
        .unwrap();
    assert_eq!(generation(&g), 2, "gadget: status is part of the object");
    assert_eq!(g.data["status"]["phase"], "Ready");
    let g = gadgets
        .patch(
            "g",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"size": 3}})),
        )
        .await
        .unwrap();
    assert_eq!(generation(&g), 3, "gadget: spec change");
    let missing = api_error(gadgets.get_status("g").await);
    assert_error(&missing, 404, "NotFound");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn status_subresource_and_main_resource_ignore_each_others_fields() {
    let (server, client) = start().await;
    let api: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let created = api
        .create(&PostParams::default(), &deployment("web", 1))
        .await
        .unwrap();
    assert!(created.status.is_none(), "status is not set on create");

    // /status: the status changes, the spec does not.
    let mut both = created.clone();
    both.spec.as_mut().unwrap().replicas = Some(5);
    both.status = Some(from(json!({"replicas": 1, "readyReplicas": 1})));
    let via_status = api
        .replace_status("web", &PostParams::default(), &both)
        .await
        .unwrap();
    assert_eq!(via_status.spec.as_ref().unwrap().replicas, Some(1));
    assert_eq!(via_status.status.as_ref().unwrap().ready_replicas, Some(1));
    assert_eq!(generation(&via_status), 1);

    // The main resource: the spec changes, the status does not.
    let mut both = via_status.clone();
    both.spec.as_mut().unwrap().replicas = Some(4);
    both.status = Some(from(json!({"replicas": 9, "readyReplicas": 9})));
    let via_main = api
        .replace("web", &PostParams::default(), &both)
        .await
        .unwrap();
    assert_eq!(via_main.spec.as_ref().unwrap().replicas, Some(4));
    assert_eq!(via_main.status.as_ref().unwrap().ready_replicas, Some(1));
    assert_eq!(generation(&via_main), 2);
    assert_eq!(api.get("web").await.unwrap(), via_main);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn invalid_names_are_422_naming_metadata_name() {
    let (server, client) = start().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let err = api_error(
        cms.create(&PostParams::default(), &config_map("Bad_Name", json!({})))
            .await,
    );
    assert_error(&err, 422, "Invalid");
    assert_eq!(
        err.message,
        "ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase \
         RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and \
         must start and end with an alphanumeric character (e.g. 'example.com', regex used for \
         validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    );
    let details = err.details.as_ref().unwrap();
    assert_eq!(
        (details.name.as_str(), details.kind.as_str()),
        ("Bad_Name", "ConfigMap")
    );
    assert_eq!(details.causes[0].field, "metadata.name");
    assert_eq!(details.causes[0].reason, "FieldValueInvalid");

    let namespaces: Api<Namespace> = Api::all(client.clone());
    let err = api_error(
        namespaces
            .create(&PostParams::default(), &namespace("a.b"))
            .await,
    );
    assert_error(&err, 422, "Invalid");
    assert!(
        err.message
            .contains("a lowercase RFC 1123 label must consist"),
        "{}",
        err.message
    );
    assert_eq!(
        err.details.as_ref().unwrap().causes[0].field,
        "metadata.name"
    );

    let nameless = api_error(
        cms.create(&PostParams::default(), &from(json!({"data": {}})))
            .await,
    );
    assert_error(&nameless, 422, "Invalid");
    assert_eq!(
        nameless.message,
        "ConfigMap \"\" is invalid: metadata.name: Required value: name or generateName is required"
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn delete_collection_with_a_label_selector() {
    let (server, client) = start().await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    for (name, tier) in [("a", "cache"), ("b", "cache"), ("c", "web"), ("d", "web")] {
        api.create(
            &PostParams::default(),
            &labelled(name, json!({"tier": tier})),
        )
        .await
        .unwrap();
    }
    let other: Api<ConfigMap> = Api::namespaced(client.clone(), "kube-system");
    other
        .create(
            &PostParams::default(),
            &labelled("e", json!({"tier": "cache"})),
        )
        .await
        .unwrap();
    api.delete_collection(
        &DeleteParams::default(),
        &ListParams::default().labels("tier=cache"),
    )
    .await
    .unwrap();
    let left = api.list(&ListParams::default()).await.unwrap();
    assert_eq!(names(&left.items), ["c", "d"]);
    assert!(
        other.get_opt("e").await.unwrap().is_some(),
        "deletecollection stays inside its namespace"
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn finalizers_keep_a_deleted_object_until_removed() {
    let (server, client) = start().await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let held: ConfigMap =
        from(json!({"metadata": {"name": "held", "finalizers": ["example.com/hold"]}}));
    api.create(&PostParams::default(), &held).await.unwrap();
    let deleting = api.delete("held", &DeleteParams::default()).await.unwrap();
    let deleting = deleting
        .left()
        .expect("a pending delete answers the object");
    assert!(deleting.metadata.deletion_timestamp.is_some());
    let still = api.get("held").await.unwrap();
    assert!(still.metadata.deletion_timestamp.is_some());
    assert_eq!(still.finalizers(), ["example.com/hold"]);

    // A second delete changes nothing; adding finalizers is refused.
    api.delete("held", &DeleteParams::default()).await.unwrap();
    let added = api_error(
        api.patch(
            "held",
            &PatchParams::default(),
            &Patch::Merge(
                json!({"metadata": {"finalizers": ["example.com/hold", "example.com/more"]}}),
            ),
        )
        .await,
    );
    assert_error(&added, 422, "Invalid");
    assert_eq!(
        added.details.as_ref().unwrap().causes[0].field,
        "metadata.finalizers"
    );

    api.patch(
        "held",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap();
    assert!(
        api.get_opt("held").await.unwrap().is_none(),
        "removing the last finalizer deletes it"
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn namespace_lifecycle_terminating_and_missing_namespaces() {
    let (server, client) = start().await;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    for system in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        let ns = namespaces.get(system).await.unwrap();
        assert_eq!(
            ns.status.unwrap().phase.as_deref(),
            Some("Active"),
            "{system}"
        );
    }

    create_namespace(&client, "doomed").await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "doomed");
    let held: ConfigMap =
        from(json!({"metadata": {"name": "held", "finalizers": ["example.com/hold"]}}));
    cms.create(&PostParams::default(), &held).await.unwrap();
    namespaces
        .delete("doomed", &DeleteParams::default())
        .await
        .unwrap();
    let terminating = namespaces.get("doomed").await.unwrap();
    assert_eq!(
        terminating.status.unwrap().phase.as_deref(),
        Some("Terminating")
    );

    let refused = api_error(
        cms.create(&PostParams::default(), &config_map("new", json!({})))
            .await,
    );
    assert_error(&refused, 403, "Forbidden");
    assert_eq!(
        refused.message,
        "configmaps \"new\" is forbidden: unable to create new content in namespace doomed \
         because it is being terminated"
    );
    let cause = &refused.details.as_ref().unwrap().causes[0];
    assert_eq!(
        (cause.reason.as_str(), cause.field.as_str()),
        ("NamespaceTerminating", "metadata.namespace")
    );

    let nowhere: Api<ConfigMap> = Api::namespaced(client.clone(), "nowhere");
    let missing = api_error(
        nowhere
            .create(&PostParams::default(), &config_map("x", json!({})))
            .await,
    );
    assert_error(&missing, 404, "NotFound");
    assert_eq!(missing.message, "namespaces \"nowhere\" not found");

    // The namespace controller deleted the content; the finalizer holds it and the namespace.
    let held = eventually("the held object to be deleting", || {
        let cms = cms.clone();
        async move {
            let o = cms.get("held").await.ok()?;
            o.metadata.deletion_timestamp.is_some().then_some(o)
        }
    })
    .await;
    assert!(namespaces.get_opt("doomed").await.unwrap().is_some());
    cms.patch(
        "held",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null, "resourceVersion": rv(&held)}})),
    )
    .await
    .unwrap();
    eventually("the namespace to go", || {
        let namespaces = namespaces.clone();
        async move {
            namespaces
                .get_opt("doomed")
                .await
                .unwrap()
                .is_none()
                .then_some(())
        }
    })
    .await;
    server.shutdown().await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// List and watch

#[tokio::test]
async fn label_selectors_with_every_operator() {
    let (server, client) = start().await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    for (name, labels) in [
        ("a", json!({"app": "web", "tier": "front", "rank": "1"})),
        ("b", json!({"app": "web", "tier": "back", "rank": "5"})),
        ("c", json!({"app": "db", "rank": "10"})),
        ("d", json!({})),
    ] {
        api.create(&PostParams::default(), &labelled(name, labels))
            .await
            .unwrap();
    }
    for (selector, expected) in [
        ("app=web", vec!["a", "b"]),
        ("app==web", vec!["a", "b"]),
        ("app!=web", vec!["c", "d"]),
        ("app in (db, web)", vec!["a", "b", "c"]),
        ("app notin (web)", vec!["c", "d"]),
        ("tier", vec!["a", "b"]),
        ("!tier", vec!["c", "d"]),
        ("rank>4", vec!["b", "c"]),
        ("rank<5", vec!["a"]),
        ("app=web,tier!=front", vec!["b"]),
        ("app in (web),!tier", vec![]),
        ("", vec!["a", "b", "c", "d"]),
    ] {
        let list = api
            .list(&ListParams::default().labels(selector))
            .await
            .unwrap();
        assert_eq!(names(&list.items), expected, "labelSelector {selector:?}");
    }
    let bad = api_error(api.list(&ListParams::default().labels("app in web")).await);
    assert_error(&bad, 400, "BadRequest");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn field_selectors_name_and_namespace_and_unsupported_fields() {
    let (server, client) = start().await;
    create_namespace(&client, "other").await;
    for ns in ["default", "other"] {
        let api: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
        for name in ["a", "b"] {
            api.create(&PostParams::default(), &config_map(name, json!({})))
                .await
                .unwrap();
        }
    }
    let all: Api<ConfigMap> = Api::all(client.clone());
    let by_name = all
        .list(&ListParams::default().fields("metadata.name=a"))
        .await
        .unwrap();
    let found: Vec<(String, String)> = by_name
        .items
        .iter()
        .map(|o| (o.namespace().unwrap(), o.name_any()))
        .collect();
    assert_eq!(
        found,
        [("default".into(), "a".into()), ("other".into(), "a".into())]
    );
    let by_namespace = all
        .list(&ListParams::default().fields("metadata.namespace=other,metadata.name!=a"))
        .await
        .unwrap();
    assert_eq!(names(&by_namespace.items), ["b"]);
    assert_eq!(by_namespace.items[0].namespace().as_deref(), Some("other"));

    let unsupported = api_error(all.list(&ListParams::default().fields("data.k=v")).await);
    assert_error(&unsupported, 400, "BadRequest");
    assert_eq!(unsupported.message, "field label not supported: data.k");
    let unsupported_watch = api_error(
        all.watch(&WatchParams::default().fields("spec.foo=1"), "0")
            .await
            .map(|_| ()),
    );
    assert_error(&unsupported_watch, 400, "BadRequest");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn cluster_wide_lists_of_namespaced_resources() {
    let (server, client) = start().await;
    create_namespace(&client, "one").await;
    create_namespace(&client, "two").await;
    for (ns, name) in [("one", "x"), ("two", "y"), ("two", "z")] {
        Api::<ConfigMap>::namespaced(client.clone(), ns)
            .create(&PostParams::default(), &config_map(name, json!({})))
            .await
            .unwrap();
    }
    let list = Api::<ConfigMap>::all(client.clone())
        .list(&ListParams::default())
        .await
        .unwrap();
    let mut found: Vec<(String, String)> = list
        .items
        .iter()
        .map(|o| (o.namespace().unwrap(), o.name_any()))
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            ("one".into(), "x".into()),
            ("two".into(), "y".into()),
            ("two".into(), "z".into())
        ]
    );
    let (status, _, doc) = send(&client, Method::GET, "/api/v1/configmaps", &[], vec![]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["kind"], "ConfigMapList");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn paging_reads_one_consistent_snapshot_while_objects_change() {
    let (server, client) = start().await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    for i in 0..10 {
        api.create(
            &PostParams::default(),
            &config_map(&format!("cm-{i:02}"), json!({"v": "old"})),
        )
        .await
        .unwrap();
    }
    let first = api.list(&ListParams::default().limit(4)).await.unwrap();
    assert_eq!(names(&first.items), ["cm-00", "cm-01", "cm-02", "cm-03"]);
    assert_eq!(first.metadata.remaining_item_count, Some(6));
    let snapshot = first.metadata.resource_version.clone().unwrap();
    let token = first.metadata.continue_.clone().expect("a continue token");

    // Between pages: a delete, a create that sorts into a later page, and an update.
    api.delete("cm-07", &DeleteParams::default()).await.unwrap();
    api.create(
        &PostParams::default(),
        &config_map("cm-05x", json!({"v": "new"})),
    )
    .await
    .unwrap();
    api.patch(
        "cm-06",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"v": "new"}})),
    )
    .await
    .unwrap();

    let second = api
        .list(&ListParams::default().limit(4).continue_token(&token))
        .await
        .unwrap();
    assert_eq!(names(&second.items), ["cm-04", "cm-05", "cm-06", "cm-07"]);
    assert_eq!(
        second.metadata.resource_version.as_deref(),
        Some(snapshot.as_str())
    );
    let cm06 = second
        .items
        .iter()
        .find(|o| o.name_any() == "cm-06")
        .unwrap();
    assert_eq!(
        cm06.data.as_ref().unwrap()["v"],
        "old",
        "the snapshot's state of cm-06"
    );
    let third = api
        .list(
            &ListParams::default()
                .limit(4)
                .continue_token(second.metadata.continue_.as_deref().unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(names(&third.items), ["cm-08", "cm-09"]);
    assert!(
        third.metadata.continue_.is_none(),
        "the last page has no continue token"
    );
    assert_eq!(
        third.metadata.resource_version.as_deref(),
        Some(snapshot.as_str())
    );

    let now = api.list(&ListParams::default()).await.unwrap();
    assert_eq!(now.items.len(), 10);
    assert!(names(&now.items).contains(&"cm-05x".to_owned()));
    assert!(!names(&now.items).contains(&"cm-07".to_owned()));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn continue_token_older_than_the_history_is_410() {
    let (server, client) = start_with(ServerConfig {
        simulate_workloads: false,
        history_events: 8,
        ..ServerConfig::ephemeral()
    })
    .await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    for name in ["a", "b"] {
        api.create(&PostParams::default(), &config_map(name, json!({})))
            .await
            .unwrap();
    }
    let first = api.list(&ListParams::default().limit(1)).await.unwrap();
    let token = first.metadata.continue_.unwrap();
    for i in 0..12 {
        api.patch(
            "a",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"i": i.to_string()}})),
        )
        .await
        .unwrap();
    }
    let expired = api_error(
        api.list(&ListParams::default().limit(1).continue_token(&token))
            .await,
    );
    assert_error(&expired, 410, "Expired");
    assert!(
        expired.message.starts_with(
            "The provided continue parameter is too old to display a consistent list result. \
             You can start a new list without the continue parameter"
        ),
        "{}",
        expired.message
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn resource_version_semantics_of_lists() {
    let (server, client) = start_with(ServerConfig {
        simulate_workloads: false,
        history_events: 20,
        ..ServerConfig::ephemeral()
    })
    .await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let a1 = api
        .create(&PostParams::default(), &config_map("a", json!({"v": "1"})))
        .await
        .unwrap();
    let past = rv(&a1);
    api.patch(
        "a",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"v": "2"}})),
    )
    .await
    .unwrap();
    let b = api
        .create(&PostParams::default(), &config_map("b", json!({})))
        .await
        .unwrap();
    let latest = rv(&b);
    let values = |list: &kube::core::ObjectList<ConfigMap>| -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = list
            .items
            .iter()
            .map(|o| {
                let data = o.data.clone().unwrap_or_default();
                (o.name_any(), data.get("v").cloned().unwrap_or_default())
            })
            .collect();
        v.sort();
        v
    };
    let current = vec![
        ("a".to_owned(), "2".to_owned()),
        ("b".to_owned(), String::new()),
    ];

    // Unset: the most recent state.
    let unset = api.list(&ListParams::default()).await.unwrap();
    assert_eq!(values(&unset), current);
    assert_eq!(
        unset.metadata.resource_version.as_deref(),
        Some(latest.as_str())
    );
    // "0": any state; this server's is the latest.
    let any = api.list(&ListParams::default().match_any()).await.unwrap();
    assert_eq!(values(&any), current);
    // NotOlderThan a past revision: at least that new.
    let not_older = api
        .list(
            &ListParams::default()
                .at(&past)
                .matching(kube::api::VersionMatch::NotOlderThan),
        )
        .await
        .unwrap();
    assert_eq!(values(&not_older), current);
    let legacy = api.list(&ListParams::default().at(&past)).await.unwrap();
    assert_eq!(values(&legacy), current);
    // Exact: the state at that revision.
    let exact = api
        .list(
            &ListParams::default()
                .at(&past)
                .matching(kube::api::VersionMatch::Exact),
        )
        .await
        .unwrap();
    assert_eq!(values(&exact), [("a".to_owned(), "1".to_owned())]);
    assert_eq!(
        exact.metadata.resource_version.as_deref(),
        Some(past.as_str())
    );

    // Validation of the combination, as kube-apiserver's ListOptions validation answers.
    let (status, _, body) = send(
        &client,
        Method::GET,
        "/api/v1/namespaces/default/configmaps?resourceVersionMatch=Exact",
        &[],
        vec![],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body["message"],
        "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: \
         resourceVersionMatch is forbidden unless resourceVersion is provided"
    );

    // Exact at a revision older than the history.
    for i in 0..25 {
        api.patch(
            "b",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"i": i.to_string()}})),
        )
        .await
        .unwrap();
    }
    let expired = api_error(
        api.list(
            &ListParams::default()
                .at(&past)
                .matching(kube::api::VersionMatch::Exact),
        )
        .await,
    );
    assert_error(&expired, 410, "Expired");
    assert_eq!(
        expired.message,
        "The resourceVersion for the provided list is too old."
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn watch_bookmarks_only_when_allowed_and_timeout_ends_the_stream() {
    let (server, client) = start_with(ServerConfig {
        simulate_workloads: false,
        bookmark_interval: Duration::from_millis(100),
        ..ServerConfig::ephemeral()
    })
    .await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let created = api
        .create(&PostParams::default(), &config_map("a", json!({})))
        .await
        .unwrap();
    let from_rv = rv(&created);

    let mut with = api
        .watch(&WatchParams::default().timeout(10), &from_rv)
        .await
        .unwrap()
        .boxed();
    let bookmark = next_event(&mut with, "a bookmark").await;
    match bookmark {
        WatchEvent::Bookmark(b) => {
            assert_eq!(b.types.kind, "ConfigMap");
            assert_eq!(b.types.api_version, "v1");
            assert!(
                b.metadata.resource_version.parse::<u64>().unwrap() >= from_rv.parse().unwrap()
            );
        }
        other => panic!("expected a BOOKMARK, got {:?}", describe(&other)),
    }

    // Without bookmarks and with timeoutSeconds=1: only the real event, then the end.
    let started = tokio::time::Instant::now();
    let mut without = api
        .watch(
            &WatchParams::default().disable_bookmarks().timeout(1),
            &from_rv,
        )
        .await
        .unwrap()
        .boxed();
    api.patch(
        "a",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"k": "v"}})),
    )
    .await
    .unwrap();
    let events: Vec<(String, String)> =
        tokio::time::timeout(DEADLINE, (&mut without).try_collect::<Vec<_>>())
            .await
            .expect("timeoutSeconds=1 ended the watch")
            .unwrap()
            .iter()
            .map(describe)
            .collect();
    assert_eq!(events, [("MODIFIED".to_owned(), "a".to_owned())]);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "ended early: {:?}",
        started.elapsed()
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn send_initial_events_ends_with_an_annotated_bookmark() {
    let (server, client) = start().await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    for name in ["a", "b", "c"] {
        api.create(&PostParams::default(), &config_map(name, json!({})))
            .await
            .unwrap();
    }
    let mut stream = api
        .watch(&WatchParams::streaming_lists().timeout(10), "")
        .await
        .unwrap()
        .boxed();
    let mut added = vec![];
    let end = loop {
        match next_event(&mut stream, "the initial events").await {
            WatchEvent::Added(o) => added.push(o.name_any()),
            WatchEvent::Bookmark(b) => break b,
            other => panic!("unexpected {:?} among initial events", describe(&other)),
        }
    };
    added.sort();
    assert_eq!(added, ["a", "b", "c"]);
    assert_eq!(
        end.metadata
            .annotations
            .get("k8s.io/initial-events-end")
            .map(String::as_str),
        Some("true")
    );
    api.delete("b", &DeleteParams::default()).await.unwrap();
    let after = next_event(&mut stream, "the delete").await;
    assert_eq!(describe(&after), ("DELETED".to_owned(), "b".to_owned()));

    // sendInitialEvents needs resourceVersionMatch=NotOlderThan.
    let (status, _, body) = send(
        &client,
        Method::GET,
        "/api/v1/namespaces/default/configmaps?watch=1&sendInitialEvents=true&allowWatchBookmarks=true",
        &[],
        vec![],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["reason"], "Invalid");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn label_selector_watch_turns_label_changes_into_added_and_deleted() {
    let (server, client) = start().await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let created = api
        .create(&PostParams::default(), &labelled("x", json!({"app": "db"})))
        .await
        .unwrap();
    let mut stream = api
        .watch(
            &WatchParams::default().labels("app=web").timeout(10),
            &rv(&created),
        )
        .await
        .unwrap()
        .boxed();
    let relabel = |app: &'static str| {
        let api = api.clone();
        async move {
            api.patch(
                "x",
                &PatchParams::default(),
                &Patch::Merge(json!({"metadata": {"labels": {"app": app}}})),
            )
            .await
            .unwrap()
        }
    };
    relabel("web").await;
    let added = next_event(&mut stream, "ADDED on entering the selection").await;
    assert_eq!(describe(&added), ("ADDED".to_owned(), "x".to_owned()));
    api.patch(
        "x",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"k": "2"}})),
    )
    .await
    .unwrap();
    let modified = next_event(&mut stream, "MODIFIED inside the selection").await;
    assert_eq!(describe(&modified), ("MODIFIED".to_owned(), "x".to_owned()));
    let left = relabel("db").await;
    match next_event(&mut stream, "DELETED on leaving the selection").await {
        WatchEvent::Deleted(o) => {
            assert_eq!(o.name_any(), "x");
            assert_eq!(
                rv(&o),
                rv(&left),
                "the DELETED event carries the revision of the change"
            );
        }
        other => panic!("expected DELETED, got {:?}", describe(&other)),
    }
    // Changes outside the selection send nothing; the next event is the one inside it.
    api.patch(
        "x",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"k": "3"}})),
    )
    .await
    .unwrap();
    api.create(
        &PostParams::default(),
        &labelled("y", json!({"app": "web"})),
    )
    .await
    .unwrap();
    let next = next_event(&mut stream, "ADDED of y").await;
    assert_eq!(describe(&next), ("ADDED".to_owned(), "y".to_owned()));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn watch_from_a_revision_older_than_the_history_gets_a_410_error_event() {
    let (server, client) = start_with(ServerConfig {
        simulate_workloads: false,
        history_events: 5,
        ..ServerConfig::ephemeral()
    })
    .await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let first = api
        .create(&PostParams::default(), &config_map("a", json!({})))
        .await
        .unwrap();
    for i in 0..10 {
        api.patch(
            "a",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"i": i.to_string()}})),
        )
        .await
        .unwrap();
    }
    let mut stream = api
        .watch(&WatchParams::default().timeout(10), &rv(&first))
        .await
        .unwrap()
        .boxed();
    match next_event(&mut stream, "the ERROR event").await {
        WatchEvent::Error(status) => {
            assert_error(&status, 410, "Expired");
            assert!(
                status.message.starts_with("too old resource version: "),
                "{}",
                status.message
            );
        }
        other => panic!("expected ERROR, got {:?}", describe(&other)),
    }
    server.shutdown().await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// CRDs

#[tokio::test]
async fn crd_is_accepted_established_and_served() {
    let (server, client) = start().await;
    let established = install_crd(&client, crd("widgets", "Widget", &["v1"], "v1", true)).await;
    assert!(condition_true(&established, "NamesAccepted"));
    assert!(condition_true(&established, "Established"));
    let accepted = established
        .status
        .as_ref()
        .unwrap()
        .accepted_names
        .as_ref()
        .unwrap();
    assert_eq!(
        (accepted.plural.as_str(), accepted.kind.as_str()),
        ("widgets", "Widget")
    );

    let doc = get_json(&client, &format!("/apis/{GROUP}/v1")).await;
    let widgets = entry(&doc, "widgets");
    assert_eq!(widgets["kind"], "Widget");
    assert_eq!(widgets["singularName"], "widget");
    assert_eq!(widgets["namespaced"], true);
    assert_eq!(sorted_verbs(widgets), ALL_VERBS);
    assert_eq!(entry(&doc, "widgets/status")["kind"], "Widget");
    let groups = get_json(&client, "/apis").await;
    assert!(
        groups["groups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["name"] == GROUP)
    );

    let api = custom(&client, "v1", "Widget", "widgets", "default");
    let w = api
        .create(
            &PostParams::default(),
            &custom_object("v1", "Widget", "w", json!({"color": "red"})),
        )
        .await
        .unwrap();
    assert_eq!(w.data["spec"]["color"], "red");
    server.shutdown().await.unwrap();
}

/// A CRD whose schema exercises formats, list types, combinators, preserved unknown fields and
/// defaults, with status and scale subresources and printer columns.
fn gadget_crd(with_default: bool) -> Value {
    let mut spec = json!({"type": "object", "properties": {
        "host": {"type": "string", "format": "hostname"},
        "cidr": {"type": "string", "format": "cidr"},
        "replicas": {"type": "integer", "multipleOf": 2, "minimum": 0},
        "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
        "ports": {"type": "array", "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["name"],
            "items": {"type": "object", "required": ["name"], "properties": {
                "name": {"type": "string"}, "port": {"type": "integer"}}}},
        "mode": {"type": "string", "anyOf": [{"enum": ["fast"]}, {"pattern": "^slow-[0-9]+$"}]},
        "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
    }});
    if with_default {
        spec["properties"]["tier"] = json!({"type": "string", "default": "bronze"});
    }
    json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("gadgets.{GROUP}")},
        "spec": {"group": GROUP, "scope": "Namespaced",
            "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget", "listKind": "GadgetList"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": spec,
                    "status": {"type": "object", "properties": {"replicas": {"type": "integer"}}}}}},
                "subresources": {"status": {}, "scale": {
                    "specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas"}},
                "additionalPrinterColumns": [
                    {"name": "Host", "type": "string", "jsonPath": ".spec.host"},
                    {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"}]}]}})
}

#[tokio::test]
async fn crd_structural_schema_validates_prunes_and_defaults_on_write_and_read() {
    let (server, client) = start().await;
    install_crd(&client, gadget_crd(false)).await;
    let gadgets = custom(&client, "v1", "Gadget", "gadgets", "default");

    // Value validation: every failing rule is named, nothing is stored.
    let bad = custom_object(
        "v1",
        "Gadget",
        "bad",
        json!({
        "host": "-nope-", "cidr": "10.0.0.0/40", "replicas": 3, "tags": ["a", "a"],
        "ports": [{"name": "http", "port": 80}, {"name": "http", "port": 81}], "mode": "slow"}),
    );
    let err = api_error(gadgets.create(&PostParams::default(), &bad).await);
    assert_error(&err, 422, "Invalid");
    for wanted in [
        r#"spec.host: Invalid value: "-nope-": spec.host in body must be of type hostname: "-nope-""#,
        r#"spec.cidr: Invalid value: "10.0.0.0/40": spec.cidr in body must be of type cidr"#,
        "spec.replicas: Invalid value: 3: spec.replicas in body should be a multiple of 2",
        r#"spec.tags[1]: Duplicate value: "a""#,
        r#"spec.ports[1]: Duplicate value: map[string]interface {}{"name":"http"}"#,
        r#"spec.mode: Invalid value: "slow": spec.mode in body must validate at least one schema (anyOf)"#,
    ] {
        assert!(
            err.message.contains(wanted),
            "missing {wanted:?} in {}",
            err.message
        );
    }
    assert!(gadgets.get_opt("bad").await.unwrap().is_none());

    // Pruning: unknown fields go (fieldValidation=Ignore), preserved subtrees stay.
    let (status, _, stored) = send(
        &client,
        Method::POST,
        &format!("/apis/{GROUP}/v1/namespaces/default/gadgets?fieldValidation=Ignore"),
        &[("Content-Type", "application/json")],
        serde_json::to_vec(
            &json!({"apiVersion": format!("{GROUP}/v1"), "kind": "Gadget",
            "metadata": {"name": "g"},
            "spec": {"host": "gadget.example.com", "replicas": 2, "mode": "slow-3",
                "unknown": true, "extra": {"anything": {"goes": [1, 2]}}}}),
        )
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{stored}");
    assert!(stored["spec"].get("unknown").is_none(), "{stored}");
    assert_eq!(
        stored["spec"]["extra"],
        json!({"anything": {"goes": [1, 2]}})
    );
    assert!(stored["spec"].get("tier").is_none());

    // Defaulting on read: the schema gains a default; the stored object shows it on get, list
    // and watch without being rewritten, and new writes store it.
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let mut updated: CustomResourceDefinition =
        crds.get(&format!("gadgets.{GROUP}")).await.unwrap();
    let with_default: CustomResourceDefinition = from(gadget_crd(true));
    updated.spec = with_default.spec;
    crds.replace(
        &format!("gadgets.{GROUP}"),
        &PostParams::default(),
        &updated,
    )
    .await
    .unwrap();
    let read = eventually("the new default is served", || async {
        let g = gadgets.get("g").await.ok()?;
        (g.data["spec"]["tier"] == "bronze").then_some(g)
    })
    .await;
    assert_eq!(
        read.resource_version().as_deref(),
        Some(stored["metadata"]["resourceVersion"].as_str().unwrap()),
        "defaulting on read does not write"
    );
    let listed = gadgets.list(&ListParams::default()).await.unwrap();
    assert_eq!(listed.items[0].data["spec"]["tier"], "bronze");
    let mut watch = gadgets
        .watch(&WatchParams::default(), "0")
        .await
        .unwrap()
        .boxed();
    match next_event(&mut watch, "the existing gadget").await {
        WatchEvent::Added(g) => assert_eq!(g.data["spec"]["tier"], "bronze"),
        other => panic!("unexpected {other:?}"),
    }
    let created = gadgets
        .create(
            &PostParams::default(),
            &custom_object("v1", "Gadget", "h", json!({"replicas": 4})),
        )
        .await
        .unwrap();
    assert_eq!(created.data["spec"]["tier"], "bronze");

    // Scale subresource (autoscaling/v1 Scale) and status subresource.
    let scale = gadgets.get_scale("g").await.unwrap();
    assert_eq!(scale.spec.and_then(|s| s.replicas), Some(2));
    gadgets
        .patch_scale(
            "g",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 6}})),
        )
        .await
        .unwrap();
    assert_eq!(gadgets.get("g").await.unwrap().data["spec"]["replicas"], 6);
    let status = gadgets
        .patch_status(
            "g",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"replicas": 6}, "spec": {"replicas": 8}})),
        )
        .await
        .unwrap();
    assert_eq!(status.data["status"]["replicas"], 6);
    assert_eq!(status.data["spec"]["replicas"], 6, "status ignores spec");

    // additionalPrinterColumns in the server-side table.
    let (_, _, table) = send(
        &client,
        Method::GET,
        &format!("/apis/{GROUP}/v1/namespaces/default/gadgets"),
        &[("Accept", "application/json;as=Table;g=meta.k8s.io;v=v1")],
        Vec::new(),
    )
    .await;
    let columns: Vec<&str> = table["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(columns, ["Name", "Host", "Replicas", "Age"]);
    assert_eq!(table["rows"][0]["cells"][1], "gadget.example.com");
    assert_eq!(table["rows"][0]["cells"][2], 6);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn crd_versions_share_storage_and_convert_api_version() {
    let (server, client) = start().await;
    install_crd(&client, crd("widgets", "Widget", &["v1", "v2"], "v1", true)).await;
    let v1 = custom(&client, "v1", "Widget", "widgets", "default");
    let v2 = custom(&client, "v2", "Widget", "widgets", "default");
    let created = v1
        .create(
            &PostParams::default(),
            &custom_object("v1", "Widget", "w", json!({"color": "red", "size": 3})),
        )
        .await
        .unwrap();
    let read = v2.get("w").await.unwrap();
    assert_eq!(
        read.types.as_ref().unwrap().api_version,
        format!("{GROUP}/v2")
    );
    assert_eq!(read.data["spec"], json!({"color": "red", "size": 3}));
    assert_eq!(read.metadata.uid, created.metadata.uid);
    assert_eq!(rv(&read), rv(&created));
    let listed = v2.list(&ListParams::default()).await.unwrap();
    assert_eq!(listed.items.len(), 1);
    assert_eq!(
        listed.items[0].types.as_ref().unwrap().api_version,
        format!("{GROUP}/v2")
    );

    // A write through v2 is read back through v1.
    v2.patch(
        "w",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"size": 4}})),
    )
    .await
    .unwrap();
    let back = v1.get("w").await.unwrap();
    assert_eq!(
        back.types.as_ref().unwrap().api_version,
        format!("{GROUP}/v1")
    );
    assert_eq!(back.data["spec"]["size"], 4);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn deleting_a_crd_deletes_its_objects_then_itself_and_stops_serving() {
    let (server, client) = start().await;
    install_crd(&client, crd("widgets", "Widget", &["v1"], "v1", true)).await;
    create_namespace(&client, "other").await;
    for ns in ["default", "other"] {
        let api = custom(&client, "v1", "Widget", "widgets", ns);
        api.create(
            &PostParams::default(),
            &custom_object("v1", "Widget", "w", json!({})),
        )
        .await
        .unwrap();
    }
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let name = format!("widgets.{GROUP}");
    crds.delete(&name, &DeleteParams::default()).await.unwrap();
    eventually("the CRD and its objects to be gone", || {
        let crds = crds.clone();
        let name = name.clone();
        async move { crds.get_opt(&name).await.unwrap().is_none().then_some(()) }
    })
    .await;
    let (status, _, body) = send(
        &client,
        Method::GET,
        &format!("/apis/{GROUP}/v1/namespaces/default/widgets"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["reason"], "NotFound");
    let (status, _, _) = send(
        &client,
        Method::GET,
        &format!("/apis/{GROUP}/v1"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Re-creating the CRD does not bring the objects back.
    install_crd(&client, crd("widgets", "Widget", &["v1"], "v1", true)).await;
    let all = Api::<DynamicObject>::all_with(
        client.clone(),
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk(GROUP, "v1", "Widget"),
            "widgets",
        ),
    );
    assert!(
        all.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    server.shutdown().await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// Patches and apply

#[tokio::test]
async fn merge_patch_and_json_patch_with_a_failing_test() {
    let (server, client) = start().await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    api.create(
        &PostParams::default(),
        &config_map("p", json!({"a": "1", "b": "2"})),
    )
    .await
    .unwrap();
    let merged = api
        .patch(
            "p",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"a": null, "c": "3"}})),
        )
        .await
        .unwrap();
    assert_eq!(
        merged.data.clone().unwrap(),
        BTreeMap::from([("b".into(), "2".into()), ("c".into(), "3".into())])
    );

    let ops: json_patch::Patch = from(json!([
        {"op": "test", "path": "/data/b", "value": "2"},
        {"op": "replace", "path": "/data/b", "value": "20"},
    ]));
    let patched = api
        .patch("p", &PatchParams::default(), &Patch::Json::<()>(ops))
        .await
        .unwrap();
    assert_eq!(patched.data.as_ref().unwrap()["b"], "20");

    let failing: json_patch::Patch = from(json!([
        {"op": "replace", "path": "/data/c", "value": "30"},
        {"op": "test", "path": "/data/b", "value": "2"},
    ]));
    let err = api_error(
        api.patch("p", &PatchParams::default(), &Patch::Json::<()>(failing))
            .await,
    );
    assert_error(&err, 422, "Invalid");
    assert!(
        err.message.contains("/data/b"),
        "the message names the failed test: {}",
        err.message
    );
    let after = api.get("p").await.unwrap();
    assert_eq!(after, patched, "a failed JSON patch changes nothing");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn apply_without_field_manager_is_422() {
    let (server, client) = start().await;
    let (status, _, body) = send(
        &client,
        Method::PATCH,
        "/api/v1/namespaces/default/configmaps/applied",
        &[("Content-Type", "application/apply-patch+yaml")],
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  k: v\n".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["reason"], "Invalid");
    assert_eq!(
        body["message"],
        "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"
    );
    assert_eq!(body["details"]["causes"][0]["field"], "fieldManager");

    // With one, apply creates the object.
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let applied = api
        .patch(
            "applied",
            &PatchParams::apply("tester"),
            &Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap",
                                 "metadata": {"name": "applied"}, "data": {"k": "v"}})),
        )
        .await
        .unwrap();
    let managers: Vec<String> = applied
        .metadata
        .managed_fields
        .unwrap()
        .iter()
        .map(|m| {
            format!(
                "{}/{}",
                m.manager.as_deref().unwrap(),
                m.operation.as_deref().unwrap()
            )
        })
        .collect();
    assert_eq!(managers, ["tester/Apply"]);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn strategic_merge_patch_merges_containers_by_name_and_is_415_for_custom_resources() {
    let (server, client) = start().await;
    let api: Api<Deployment> = Api::namespaced(client.clone(), "default");
    api.create(&PostParams::default(), &deployment("web", 1))
        .await
        .unwrap();
    let patched = api
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [
                {"name": "sidecar", "image": "busybox:1.37"},
                {"name": "extra", "image": "alpine:3"},
            ]}}}})),
        )
        .await
        .unwrap();
    let containers: Vec<(String, String)> = patched
        .spec
        .unwrap()
        .template
        .spec
        .unwrap()
        .containers
        .iter()
        .map(|c| (c.name.clone(), c.image.clone().unwrap()))
        .collect();
    let mut sorted = containers.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            ("extra".to_owned(), "alpine:3".to_owned()),
            ("sidecar".to_owned(), "busybox:1.37".to_owned()),
            ("web".to_owned(), "nginx:1.27".to_owned()),
        ],
        "containers merged by name: {containers:?}"
    );

    install_crd(&client, crd("widgets", "Widget", &["v1"], "v1", true)).await;
    let widgets = custom(&client, "v1", "Widget", "widgets", "default");
    widgets
        .create(
            &PostParams::default(),
            &custom_object("v1", "Widget", "w", json!({"color": "red"})),
        )
        .await
        .unwrap();
    let err = api_error(
        widgets
            .patch(
                "w",
                &PatchParams::default(),
                &Patch::Strategic(json!({"spec": {"color": "blue"}})),
            )
            .await,
    );
    assert_error(&err, 415, "UnsupportedMediaType");
    assert_eq!(
        err.message,
        "the body of the request was in an unknown format - accepted media types include: \
         application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
    );
    assert_eq!(widgets.get("w").await.unwrap().data["spec"]["color"], "red");
    // The patch type is refused before the object is looked up.
    let missing = api_error(
        widgets
            .patch(
                "nope",
                &PatchParams::default(),
                &Patch::Strategic(json!({"spec": {}})),
            )
            .await,
    );
    assert_error(&missing, 415, "UnsupportedMediaType");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn field_validation_strict_refuses_and_warn_warns() {
    let (server, client) = start().await;
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap",
                      "metadata": {"name": "v"}, "data": {"k": "v"}, "bogus": 1});
    let strict = api_error(
        client
            .request::<Value>(
                Request::builder()
                    .method(Method::POST)
                    .uri("/api/v1/namespaces/default/configmaps?fieldValidation=Strict")
                    .header("Content-Type", "application/json")
                    .body(serde_json::to_vec(&body).unwrap())
                    .unwrap(),
            )
            .await,
    );
    assert_error(&strict, 400, "BadRequest");
    assert_eq!(
        strict.message,
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: unknown field \"bogus\""
    );

    for (method, uri) in [
        (
            Method::POST,
            "/api/v1/namespaces/default/configmaps?fieldValidation=Warn",
        ),
        (
            Method::PUT,
            "/api/v1/namespaces/default/configmaps/v?fieldValidation=Warn",
        ),
    ] {
        let (status, headers, stored) = send(
            &client,
            method.clone(),
            uri,
            &[("Content-Type", "application/json")],
            serde_json::to_vec(&body).unwrap(),
        )
        .await;
        assert!(status.is_success(), "{method} {uri}: {status} {stored}");
        let warnings: Vec<&str> = headers
            .get_all("warning")
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        assert_eq!(
            warnings,
            ["299 - \"unknown field \\\"bogus\\\"\""],
            "{method} {uri}"
        );
        assert!(stored.get("bogus").is_none(), "unknown fields are dropped");
    }
    let (status, headers, _) = send(
        &client,
        Method::PATCH,
        "/api/v1/namespaces/default/configmaps/v?fieldManager=tester&fieldValidation=Warn",
        &[("Content-Type", "application/apply-patch+yaml")],
        serde_json::to_vec(&body).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers.get("warning").is_some(),
        "apply with an unknown field warns"
    );
    // A merge patch that adds an unknown field is checked like any write.
    let patch = serde_json::to_vec(&json!({"bogus": 2})).unwrap();
    let (status, _, refused) = send(
        &client,
        Method::PATCH,
        "/api/v1/namespaces/default/configmaps/v?fieldValidation=Strict",
        &[("Content-Type", "application/merge-patch+json")],
        patch.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    let (status, headers, stored) = send(
        &client,
        Method::PATCH,
        "/api/v1/namespaces/default/configmaps/v?fieldValidation=Warn",
        &[("Content-Type", "application/merge-patch+json")],
        patch,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{stored}");
    assert!(
        headers.get("warning").is_some(),
        "a merge patch with an unknown field warns"
    );
    assert!(stored.get("bogus").is_none(), "unknown fields are dropped");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn field_validation_handles_duplicate_fields_in_json_and_yaml_bodies() {
    let (server, client) = start().await;
    let warnings = |headers: &HeaderMap| -> Vec<String> {
        headers
            .get_all("warning")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    };
    // Raw bytes: a JSON value cannot hold a repeated key, the request body can.
    let json_body = br#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dup",
        "labels": {"a": "1", "a": "2"}}, "data": {"k": "first", "k": "last"}, "bogus": 1}"#;
    let (status, _, refused) = send(
        &client,
        Method::POST,
        "/api/v1/namespaces/default/configmaps?fieldValidation=Strict",
        &[("Content-Type", "application/json")],
        json_body.to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(
        refused["message"],
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: \
         duplicate field \"metadata.labels.a\", duplicate field \"data.k\", unknown field \"bogus\""
    );
    let (status, headers, stored) = send(
        &client,
        Method::POST,
        "/api/v1/namespaces/default/configmaps?fieldValidation=Warn",
        &[("Content-Type", "application/json")],
        json_body.to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{stored}");
    assert_eq!(
        warnings(&headers),
        [
            r#"299 - "duplicate field \"metadata.labels.a\"""#,
            r#"299 - "duplicate field \"data.k\"""#,
            r#"299 - "unknown field \"bogus\"""#,
        ]
    );
    assert_eq!(
        stored["data"]["k"], "last",
        "the last of a repeated field wins"
    );
    assert_eq!(stored["metadata"]["labels"]["a"], "2");

    // Update (PUT) and merge patch bodies are checked the same way; Ignore says nothing.
    let put_body = br#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dup"},
        "data": {"k": "put", "k": "put2"}}"#;
    let (status, _, refused) = send(
        &client,
        Method::PUT,
        "/api/v1/namespaces/default/configmaps/dup?fieldValidation=Strict",
        &[("Content-Type", "application/json")],
        put_body.to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .ends_with("strict decoding error: duplicate field \"data.k\""),
        "{refused}"
    );
    let (status, headers, stored) = send(
        &client,
        Method::PUT,
        "/api/v1/namespaces/default/configmaps/dup?fieldValidation=Ignore",
        &[("Content-Type", "application/json")],
        put_body.to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{stored}");
    assert!(warnings(&headers).is_empty(), "{:?}", warnings(&headers));
    assert_eq!(stored["data"]["k"], "put2");
    let (status, _, refused) = send(
        &client,
        Method::PATCH,
        "/api/v1/namespaces/default/configmaps/dup?fieldValidation=Strict",
        &[("Content-Type", "application/merge-patch+json")],
        br#"{"data": {"x": "1", "x": "2"}}"#.to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("duplicate field \"data.x\""),
        "{refused}"
    );

    // Server-side apply in YAML: the repeated key is named (not a parse error) or warned.
    let yaml =
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dup\ndata:\n  y: one\n  y: two\n";
    let uri = |mode: &str| {
        format!(
            "/api/v1/namespaces/default/configmaps/dup?fieldManager=tester&force=true&fieldValidation={mode}"
        )
    };
    let (status, _, refused) = send(
        &client,
        Method::PATCH,
        &uri("Strict"),
        &[("Content-Type", "application/apply-patch+yaml")],
        yaml.to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .ends_with("strict decoding error: duplicate field \"data.y\""),
        "{refused}"
    );
    let (status, headers, stored) = send(
        &client,
        Method::PATCH,
        &uri("Warn"),
        &[("Content-Type", "application/apply-patch+yaml")],
        yaml.to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{stored}");
    assert_eq!(
        warnings(&headers),
        [r#"299 - "duplicate field \"data.y\"""#]
    );
    assert_eq!(stored["data"]["y"], "two");
    // Nothing refused was half-applied: the refused writes left no trace.
    let (_, _, live) = send(
        &client,
        Method::GET,
        "/api/v1/namespaces/default/configmaps/dup",
        &[],
        Vec::new(),
    )
    .await;
    assert!(live["data"].get("x").is_none(), "{live}");
    server.shutdown().await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// Workload simulation

async fn simulated() -> (RunningServer, Client) {
    start_with(ServerConfig {
        simulate_delay: Duration::from_millis(20),
        ..ServerConfig::ephemeral()
    })
    .await
}

/// Polls `api.get(name)` until `ready` accepts it.
async fn wait_for<K, F>(api: &Api<K>, name: &str, what: &str, ready: F) -> K
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
    F: Fn(&K) -> bool,
{
    eventually(&format!("{name}: {what}"), || async {
        let o = api.get(name).await.ok()?;
        ready(&o).then_some(o)
    })
    .await
}

fn conditions(status: &Value) -> Vec<(String, String, String)> {
    status["conditions"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    (
                        c["type"].as_str().unwrap().to_owned(),
                        c["status"].as_str().unwrap().to_owned(),
                        c["reason"].as_str().unwrap_or("").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn status_json<K: serde::Serialize>(object: &K) -> Value {
    serde_json::to_value(object).unwrap()["status"].clone()
}

fn triple(t: &str, s: &str, r: &str) -> (String, String, String) {
    (t.to_owned(), s.to_owned(), r.to_owned())
}

#[tokio::test]
async fn workloads_become_ready_as_the_controller_manager_reports_it() {
    let (server, client) = simulated().await;
    let ns = "default";

    let deployments: Api<Deployment> = Api::namespaced(client.clone(), ns);
    deployments
        .create(&PostParams::default(), &deployment("web", 2))
        .await
        .unwrap();
    let d = wait_for(&deployments, "web", "available", |d| {
        status_json(d)["availableReplicas"] == 2
    })
    .await;
    let s = status_json(&d);
    assert_eq!(
        (
            &s["replicas"],
            &s["updatedReplicas"],
            &s["readyReplicas"],
            &s["observedGeneration"]
        ),
        (&json!(2), &json!(2), &json!(2), &json!(1))
    );
    assert!(s.get("unavailableReplicas").is_none(), "{s}");
    assert_eq!(
        conditions(&s),
        [
            triple("Available", "True", "MinimumReplicasAvailable"),
            triple("Progressing", "True", "NewReplicaSetAvailable")
        ]
    );
    assert_eq!(
        s["conditions"][1]["message"],
        "ReplicaSet \"web\" has successfully progressed."
    );
    // observedGeneration follows a spec change.
    deployments
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 3}})),
        )
        .await
        .unwrap();
    let d = wait_for(&deployments, "web", "observedGeneration 2", |d| {
        status_json(d)["observedGeneration"] == 2
    })
    .await;
    assert_eq!(status_json(&d)["readyReplicas"], 3);
    assert_eq!(generation(&d), 2);

    let statefulsets: Api<StatefulSet> = Api::namespaced(client.clone(), ns);
    statefulsets
        .create(
            &PostParams::default(),
            &from(json!({"metadata": {"name": "db"}, "spec": {
                "replicas": 2, "serviceName": "db",
                "selector": {"matchLabels": {"app": "db"}},
                "template": {"metadata": {"labels": {"app": "db"}},
                             "spec": {"containers": [{"name": "db", "image": "postgres:17"}]}}}})),
        )
        .await
        .unwrap();
    let st = wait_for(&statefulsets, "db", "ready", |s| {
        status_json(s)["readyReplicas"] == 2
    })
    .await;
    let s = status_json(&st);
    assert_eq!(
        (&s["replicas"], &s["currentReplicas"], &s["updatedReplicas"]),
        (&json!(2), &json!(2), &json!(2))
    );
    assert_eq!(s["observedGeneration"], 1);
    assert_eq!(s["currentRevision"], s["updateRevision"]);

    let daemonsets: Api<DaemonSet> = Api::namespaced(client.clone(), ns);
    daemonsets
        .create(
            &PostParams::default(),
            &from(json!({"metadata": {"name": "agent"}, "spec": {
                "selector": {"matchLabels": {"app": "agent"}},
                "template": {"metadata": {"labels": {"app": "agent"}},
                             "spec": {"containers": [{"name": "a", "image": "agent:1"}]}}}})),
        )
        .await
        .unwrap();
    let ds = wait_for(&daemonsets, "agent", "ready", |d| {
        status_json(d)["numberReady"] == 1
    })
    .await;
    let s = status_json(&ds);
    assert_eq!(
        (
            &s["desiredNumberScheduled"],
            &s["currentNumberScheduled"],
            &s["numberAvailable"],
            &s["updatedNumberScheduled"]
        ),
        (&json!(1), &json!(1), &json!(1), &json!(1))
    );
    assert_eq!(s["observedGeneration"], 1);

    let replicasets: Api<ReplicaSet> = Api::namespaced(client.clone(), ns);
    replicasets
        .create(
            &PostParams::default(),
            &from(json!({"metadata": {"name": "rs"}, "spec": {
                "replicas": 2, "selector": {"matchLabels": {"app": "rs"}},
                "template": {"metadata": {"labels": {"app": "rs"}},
                             "spec": {"containers": [{"name": "c", "image": "c:1"}]}}}})),
        )
        .await
        .unwrap();
    let rs = wait_for(&replicasets, "rs", "ready", |r| {
        status_json(r)["readyReplicas"] == 2
    })
    .await;
    let s = status_json(&rs);
    assert_eq!(
        (
            &s["replicas"],
            &s["availableReplicas"],
            &s["fullyLabeledReplicas"],
            &s["observedGeneration"]
        ),
        (&json!(2), &json!(2), &json!(2), &json!(1))
    );

    let jobs: Api<Job> = Api::namespaced(client.clone(), ns);
    jobs.create(
        &PostParams::default(),
        &from(json!({"metadata": {"name": "once"}, "spec": {
            "template": {"spec": {"restartPolicy": "Never",
                                  "containers": [{"name": "c", "image": "c:1"}]}}}})),
    )
    .await
    .unwrap();
    let job = wait_for(&jobs, "once", "complete", |j| {
        status_json(j)["succeeded"] == 1
    })
    .await;
    let s = status_json(&job);
    assert!(
        s["startTime"].is_string() && s["completionTime"].is_string(),
        "{s}"
    );
    assert_eq!(
        conditions(&s),
        [
            triple("SuccessCriteriaMet", "True", "CompletionsReached"),
            triple("Complete", "True", "CompletionsReached")
        ]
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn simulate_fail_keeps_a_deployment_unavailable_and_fails_a_job() {
    let (server, client) = simulated().await;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let mut failing = deployment("broken", 2);
    failing.metadata.annotations = Some(BTreeMap::from([(
        "tether.dev/simulate".into(),
        "fail".into(),
    )]));
    deployments
        .create(&PostParams::default(), &failing)
        .await
        .unwrap();
    let d = wait_for(&deployments, "broken", "a status", |d| d.status.is_some()).await;
    let s = status_json(&d);
    assert_eq!(s["unavailableReplicas"], 2);
    assert!(
        s.get("availableReplicas").is_none() && s.get("readyReplicas").is_none(),
        "{s}"
    );
    assert_eq!(
        conditions(&s),
        [
            triple("Available", "False", "MinimumReplicasUnavailable"),
            triple("Progressing", "False", "ProgressDeadlineExceeded")
        ]
    );

    let jobs: Api<Job> = Api::namespaced(client.clone(), "default");
    jobs.create(
        &PostParams::default(),
        &from(
            json!({"metadata": {"name": "doomed", "annotations": {"tether.dev/simulate": "fail"}},
                     "spec": {"backoffLimit": 2, "template": {"spec": {"restartPolicy": "Never",
                              "containers": [{"name": "c", "image": "c:1"}]}}}}),
        ),
    )
    .await
    .unwrap();
    let job = wait_for(&jobs, "doomed", "failed", |j| status_json(j)["failed"] == 3).await;
    let s = status_json(&job);
    assert!(
        s.get("succeeded").is_none() && s.get("completionTime").is_none(),
        "{s}"
    );
    assert_eq!(
        conditions(&s),
        [
            triple("FailureTarget", "True", "BackoffLimitExceeded"),
            triple("Failed", "True", "BackoffLimitExceeded")
        ]
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn without_simulation_workload_status_stays_empty() {
    let (server, client) = start_with(ServerConfig {
        simulate_workloads: false,
        simulate_delay: Duration::from_millis(10),
        ..ServerConfig::ephemeral()
    })
    .await;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let created = deployments
        .create(&PostParams::default(), &deployment("web", 1))
        .await
        .unwrap();
    // With the simulation on, 10 ms after creation would be enough; give it 30 times that.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let d = deployments.get("web").await.unwrap();
    assert!(d.status.is_none(), "status was written: {:?}", d.status);
    assert_eq!(rv(&d), rv(&created), "nothing wrote the object");
    server.shutdown().await.unwrap();
}
