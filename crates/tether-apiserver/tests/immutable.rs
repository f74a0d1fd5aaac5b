//! Immutable fields of built-in kinds over HTTPS, as kube-apiserver refuses them: every write
//! path (update, JSON/merge/strategic patch, server-side apply, dry run) answers 422 Invalid with
//! upstream's message, a re-apply of the same manifest is no change, and deleting and
//! re-creating the object is the way out. kubectl shows the same errors.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed assertion.

#[allow(dead_code)] // This suite uses a few of the kubectl helpers.
mod support;

use http::{Method, Request, StatusCode};
use kube::Client;
use serde_json::{Value, json};
use support::Cluster;
use tether_apiserver::{RunningServer, ServerConfig};

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

/// One request with the admin token: status and JSON body.
async fn send(
    client: &Client,
    method: Method,
    uri: &str,
    content_type: &str,
    body: &Value,
) -> (StatusCode, Value) {
    let body = if body.is_null() {
        vec![]
    } else {
        serde_json::to_vec(body).unwrap()
    };
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", content_type)
        .body(kube::client::Body::from(body))
        .unwrap();
    let response = client.send(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = body.collect_bytes().await.unwrap();
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (parts.status, value)
}

const JSON: &str = "application/json";
const APPLY: &str = "application/apply-patch+yaml";

async fn create(client: &Client, collection: &str, body: Value) -> Value {
    let (status, created) = send(client, Method::POST, collection, JSON, &body).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "create {collection}: {created}"
    );
    created
}

fn apply_uri(object: &str, extra: &str) -> String {
    format!("{object}?fieldManager=tester{extra}")
}

/// Asserts a 422 Invalid whose message and single cause are upstream's.
#[track_caller]
fn assert_invalid(what: &str, (status, body): (StatusCode, Value), message: &str, field: &str) {
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {body}");
    assert_eq!(body["reason"], "Invalid", "{what}: {body}");
    assert_eq!(body["message"], message, "{what}");
    assert_eq!(
        body["details"]["causes"][0]["field"], field,
        "{what}: {body}"
    );
}

fn deployment(selector: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": selector}},
            "template": {"metadata": {"labels": {"app": selector}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}})
}

const WEB: &str = "/apis/apps/v1/namespaces/default/deployments/web";
const SELECTOR_REFUSED: &str = "Deployment.apps \"web\" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"web2\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable";

#[tokio::test]
async fn a_deployment_selector_change_is_refused_on_every_write_path() {
    let (server, client) = start().await;
    // Created by apply, as a GitOps controller does: later applies by the same manager are
    // no conflicts, so the validation is what answers.
    let (status, created) = send(
        &client,
        Method::PATCH,
        &apply_uri(WEB, ""),
        APPLY,
        &deployment("web"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let rv = created["metadata"]["resourceVersion"].clone();

    let mut replaced = deployment("web2");
    replaced["metadata"]["resourceVersion"] = rv.clone();
    assert_invalid(
        "update",
        send(&client, Method::PUT, WEB, JSON, &replaced).await,
        SELECTOR_REFUSED,
        "spec.selector",
    );
    let merge = json!({"spec": {"selector": {"matchLabels": {"app": "web2"}}}});
    assert_invalid(
        "merge patch",
        send(
            &client,
            Method::PATCH,
            WEB,
            "application/merge-patch+json",
            &merge,
        )
        .await,
        SELECTOR_REFUSED,
        "spec.selector",
    );
    assert_invalid(
        "strategic merge patch",
        send(
            &client,
            Method::PATCH,
            WEB,
            "application/strategic-merge-patch+json",
            &merge,
        )
        .await,
        SELECTOR_REFUSED,
        "spec.selector",
    );
    let ops = json!([{"op": "replace", "path": "/spec/selector/matchLabels/app", "value": "web2"}]);
    assert_invalid(
        "json patch",
        send(
            &client,
            Method::PATCH,
            WEB,
            "application/json-patch+json",
            &ops,
        )
        .await,
        SELECTOR_REFUSED,
        "spec.selector",
    );
    assert_invalid(
        "apply",
        send(
            &client,
            Method::PATCH,
            &apply_uri(WEB, ""),
            APPLY,
            &deployment("web2"),
        )
        .await,
        SELECTOR_REFUSED,
        "spec.selector",
    );
    assert_invalid(
        "dry-run apply",
        send(
            &client,
            Method::PATCH,
            &apply_uri(WEB, "&dryRun=All"),
            APPLY,
            &deployment("web2"),
        )
        .await,
        SELECTOR_REFUSED,
        "spec.selector",
    );

    // Nothing changed, and re-applying the original manifest is accepted twice over.
    let (status, live) = send(&client, Method::GET, WEB, JSON, &Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(live["spec"]["selector"]["matchLabels"]["app"], "web");
    for _ in 0..2 {
        let (status, applied) = send(
            &client,
            Method::PATCH,
            &apply_uri(WEB, ""),
            APPLY,
            &deployment("web"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "re-apply: {applied}");
    }
    // Changing what may change still works.
    let mut scaled = deployment("web");
    scaled["spec"]["replicas"] = json!(3);
    let (status, body) = send(&client, Method::PATCH, &apply_uri(WEB, ""), APPLY, &scaled).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Delete and re-create is the way to a new selector.
    let (status, body) = send(&client, Method::DELETE, WEB, JSON, &Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = send(
        &client,
        Method::PATCH,
        &apply_uri(WEB, ""),
        APPLY,
        &deployment("web2"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "re-create: {body}");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_service_keeps_its_cluster_ip_and_refuses_another() {
    let (server, client) = start().await;
    let services = "/api/v1/namespaces/default/services";
    let object = "/api/v1/namespaces/default/services/db";
    let service = |cluster_ip: Option<&str>| {
        let mut s = json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "db", "namespace": "default"},
            "spec": {"selector": {"app": "db"}, "ports": [{"port": 5432}]}});
        if let Some(ip) = cluster_ip {
            s["spec"]["clusterIP"] = json!(ip);
        }
        s
    };
    let created = create(&client, services, service(Some("10.96.0.20"))).await;
    // A create that names only `clusterIP` gets `clusterIPs` too, as upstream's.
    assert_eq!(created["spec"]["clusterIPs"], json!(["10.96.0.20"]));

    // A manifest without clusterIP, by apply or by PUT, leaves the IP alone.
    let (status, applied) = send(
        &client,
        Method::PATCH,
        &apply_uri(object, ""),
        APPLY,
        &service(None),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{applied}");
    assert_eq!(applied["spec"]["clusterIP"], "10.96.0.20");
    let (status, replaced) = send(&client, Method::PUT, object, JSON, &service(None)).await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    assert_eq!(replaced["spec"]["clusterIPs"], json!(["10.96.0.20"]));

    let refused = send(
        &client,
        Method::PATCH,
        &apply_uri(object, "&force=true"),
        APPLY,
        &service(Some("10.96.0.21")),
    )
    .await;
    assert_invalid(
        "new cluster IP",
        refused,
        "Service \"db\" is invalid: spec.clusterIPs[0]: Invalid value: []string{\"10.96.0.21\"}: may not change once set",
        "spec.clusterIPs[0]",
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn immutable_configmaps_secret_types_jobs_and_claims() {
    let (server, client) = start().await;
    let cm = |value: &str| {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": "default"},
            "immutable": true, "data": {"mode": value}})
    };
    let cm_uri = "/api/v1/namespaces/default/configmaps/settings";
    let (status, _) = send(
        &client,
        Method::PATCH,
        &apply_uri(cm_uri, ""),
        APPLY,
        &cm("a"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_invalid(
        "configmap data",
        send(
            &client,
            Method::PATCH,
            &apply_uri(cm_uri, ""),
            APPLY,
            &cm("b"),
        )
        .await,
        "ConfigMap \"settings\" is invalid: data: Forbidden: field is immutable when `immutable` is set",
        "data",
    );
    let unset = json!({"immutable": null});
    assert_invalid(
        "configmap unset immutable",
        send(
            &client,
            Method::PATCH,
            cm_uri,
            "application/merge-patch+json",
            &unset,
        )
        .await,
        "ConfigMap \"settings\" is invalid: immutable: Forbidden: field is immutable when `immutable` is set",
        "immutable",
    );

    let secrets = "/api/v1/namespaces/default/secrets";
    create(
        &client,
        secrets,
        json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "creds"}, "stringData": {"user": "admin"}}),
    )
    .await;
    let tls = json!({"type": "kubernetes.io/tls"});
    assert_invalid(
        "secret type",
        send(
            &client,
            Method::PATCH,
            &format!("{secrets}/creds"),
            "application/merge-patch+json",
            &tls,
        )
        .await,
        "Secret \"creds\" is invalid: type: Invalid value: \"kubernetes.io/tls\": field is immutable",
        "type",
    );
    // Spelling out the default type is no change.
    let opaque = json!({"type": "Opaque"});
    let (status, body) = send(
        &client,
        Method::PATCH,
        &format!("{secrets}/creds"),
        "application/merge-patch+json",
        &opaque,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let job = |image: &str| {
        json!({"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "migrate", "namespace": "default"},
            "spec": {"template": {"spec": {"restartPolicy": "Never",
                "containers": [{"name": "m", "image": image}]}}}})
    };
    let job_uri = "/apis/batch/v1/namespaces/default/jobs/migrate";
    let (status, _) = send(
        &client,
        Method::PATCH,
        &apply_uri(job_uri, ""),
        APPLY,
        &job("m:1"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = send(
        &client,
        Method::PATCH,
        &apply_uri(job_uri, ""),
        APPLY,
        &job("m:2"),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.starts_with("Job.batch \"migrate\" is invalid: spec.template: Invalid value: ")
            && message.ends_with(": field is immutable"),
        "{message}"
    );

    let claim = |size: &str| {
        json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data", "namespace": "default"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}})
    };
    let pvc_uri = "/api/v1/namespaces/default/persistentvolumeclaims/data";
    let (status, _) = send(
        &client,
        Method::PATCH,
        &apply_uri(pvc_uri, ""),
        APPLY,
        &claim("1Gi"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = send(
        &client,
        Method::PATCH,
        &apply_uri(pvc_uri, ""),
        APPLY,
        &claim("2Gi"),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["message"].as_str().unwrap().starts_with(
            "PersistentVolumeClaim \"data\" is invalid: spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"
        ),
        "{body}"
    );
    server.shutdown().await.unwrap();
}

const STATEFULSET: &str = r#"apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
  namespace: default
spec:
  serviceName: db
  replicas: REPLICAS
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      containers:
      - name: db
        image: postgres:17
  volumeClaimTemplates:
  - metadata:
      name: data
    spec:
      accessModes: [ReadWriteOnce]
      resources:
        requests:
          storage: SIZE
"#;

/// kubectl 1.33, client-side and server-side apply: the refusal reaches the user with
/// upstream's wording; scaling stays possible; a re-apply is `unchanged`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_apply_shows_the_refusal() {
    let cluster = Cluster::start("1.33").await;
    let manifest = |replicas: &str, size: &str| {
        STATEFULSET
            .replace("REPLICAS", replicas)
            .replace("SIZE", size)
    };
    let first = cluster.file("db.yaml", &manifest("1", "1Gi"));
    let first = first.to_str().unwrap();
    cluster.ok(&["apply", "-f", first]).await;
    let again = cluster.ok(&["apply", "-f", first]).await;
    assert_eq!(again.trim(), "statefulset.apps/db unchanged");
    let scaled = cluster.file("scaled.yaml", &manifest("3", "1Gi"));
    cluster.ok(&["apply", "-f", scaled.to_str().unwrap()]).await;

    let bigger = cluster.file("bigger.yaml", &manifest("3", "5Gi"));
    for args in [
        vec!["apply", "-f", bigger.to_str().unwrap()],
        vec![
            "apply",
            "--server-side",
            "--force-conflicts",
            "-f",
            bigger.to_str().unwrap(),
        ],
    ] {
        let run = cluster.exits(1, &args).await;
        assert!(
            run.stderr.contains(
                // kubectl rewords the start as `The StatefulSet "db" is invalid:`.
                "\"db\" is invalid: spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
            ),
            "{args:?}: {}",
            run.stderr
        );
    }
    let live = cluster.get_json(&["statefulset", "db"]).await;
    assert_eq!(
        live["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"],
        "1Gi"
    );
    cluster.ok(&["delete", "statefulset", "db"]).await;
    cluster.ok(&["apply", "-f", bigger.to_str().unwrap()]).await;
    cluster.shutdown().await;
}
