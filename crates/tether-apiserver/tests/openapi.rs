//! The OpenAPI documents against real kubectl (1.27, 1.30, 1.33, default flags): `kubectl
//! explain` of built-in and custom fields, `kubectl apply`/`create` with default (strict)
//! validation, which kubectl leaves to the server once the documents say `patch` takes
//! `fieldValidation`; and the v3 index following CRD changes, with its hash and caching rules.
//!
//! kubectl 1.27 also reads `/openapi/v2` in gnostic's protobuf encoding whenever it validates
//! (its factory builds the schema validator before asking whether the server validates), and
//! its `explain` reads that document too; 1.30 and 1.33 read only v3.
//! `default_validation_is_left_to_the_server` checks which documents each version reads.

#[allow(dead_code)] // This suite uses a few of the kubectl helpers.
#[macro_use]
mod support;

use std::time::Duration;

use http_body_util::BodyExt;
use serde_json::Value;
use support::Cluster;

per_version!(v1_27 => "1.27", v1_30 => "1.30", v1_33 => "1.33"; [
    explain_builtin_and_custom_fields,
    default_validation_is_left_to_the_server,
]);

const CRD: &str = r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names:
    kind: Widget
    listKind: WidgetList
    plural: widgets
    singular: widget
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size:
                type: integer
                description: How many cogs the widget has.
              color:
                type: string
"#;

const WIDGET: &str = r#"apiVersion: example.com/v1
kind: Widget
metadata:
  name: gear
  namespace: default
spec:
  size: 3
  color: blue
"#;

fn deployment(name: &str, extra_spec: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: default
spec:
  replicas: 2{extra_spec}
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
"#
    )
}

/// Creates the Widget CRD (with default validation) and waits until it is established.
async fn create_crd(k: &Cluster) {
    let crd = k.file("crd.yaml", CRD);
    k.ok(&["create", "-f", crd.to_str().expect("utf-8 path")])
        .await;
    k.ok(&[
        "wait",
        "--for=condition=Established",
        "--timeout=30s",
        "crd/widgets.example.com",
    ])
    .await;
}

async fn explain_builtin_and_custom_fields(version: &'static str) {
    let k = Cluster::start(version).await;
    let replicas = k.ok(&["explain", "deployment.spec.replicas"]).await;
    assert!(
        replicas.contains("replicas") && replicas.contains("<integer>"),
        "{replicas}"
    );
    assert!(replicas.contains("Number of desired pods"), "{replicas}");
    let kinds = k.ok(&["explain", "deployments"]).await;
    assert!(
        kinds.contains("Deployment enables declarative updates for Pods and ReplicaSets."),
        "{kinds}"
    );
    assert!(kinds.contains("spec\t<DeploymentSpec>"), "{kinds}");

    create_crd(&k).await;
    let size = k.ok(&["explain", "widgets.spec.size"]).await;
    assert!(size.contains("<integer>"), "{size}");
    assert!(size.contains("How many cogs the widget has."), "{size}");
    let metadata = k.ok(&["explain", "widgets.metadata.name"]).await;
    assert!(metadata.contains("<string>"), "{metadata}");
    // A field the schema lacks is refused by explain itself.
    let missing = k.run(&["explain", "widgets.spec.weight"]).await;
    assert!(!missing.status.success(), "{missing:?}");
    assert!(missing.stderr.contains("weight"), "{missing:?}");
    k.shutdown().await;
}

async fn default_validation_is_left_to_the_server(version: &'static str) {
    let k = Cluster::start(version).await;
    create_crd(&k).await;
    let good = k.file("good.yaml", &deployment("web", ""));
    let good = good.to_str().expect("utf-8 path");
    // Default flags: validation on. -v=6 shows which documents kubectl reads.
    let run = k.run(&["apply", "-f", good, "-v=6"]).await;
    assert!(run.status.success(), "{run:?}");
    assert!(
        run.stdout.contains("deployment.apps/web created"),
        "{run:?}"
    );
    assert!(run.stderr.contains("/openapi/v3"), "{}", run.stderr);
    let v2 = run.stderr.lines().find(|l| l.contains("/openapi/v2"));
    if version == "1.27" {
        // 1.27 builds its validator from the protobuf v2 document: it must be served.
        let v2 =
            v2.unwrap_or_else(|| panic!("kubectl 1.27 did not read /openapi/v2:\n{}", run.stderr));
        assert!(v2.contains("200 OK"), "{v2}");
    } else {
        // Later kubectl decide from the v3 documents alone.
        assert_eq!(v2, None, "kubectl {version} read /openapi/v2");
    }
    let widget = k.file("widget.yaml", WIDGET);
    k.ok(&["create", "-f", widget.to_str().expect("utf-8 path")])
        .await;
    assert_eq!(
        k.get_json(&["widget", "gear"]).await["spec"]["size"],
        Value::from(3)
    );
    // A second apply (a patch) also passes.
    k.ok(&["apply", "-f", good]).await;

    // An unknown field: the server's strict decoding refuses it, not kubectl's own validation.
    let bad = k.file("bad.yaml", &deployment("bad", "\n  bogus: true"));
    let run = k
        .exits(1, &["apply", "-f", bad.to_str().expect("utf-8 path")])
        .await;
    assert!(
        run.stderr.contains("strict decoding error")
            && run.stderr.contains(r#"unknown field "spec.bogus""#),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("ValidationError"), "{}", run.stderr);
    let bad_widget = k.file(
        "bad-widget.yaml",
        &WIDGET
            .replace("gear", "cog")
            .replace("color: blue", "colour: blue"),
    );
    let run = k
        .exits(
            1,
            &["create", "-f", bad_widget.to_str().expect("utf-8 path")],
        )
        .await;
    assert!(
        run.stderr.contains(r#"unknown field "spec.colour""#),
        "{}",
        run.stderr
    );
    k.shutdown().await;
}

/// An HTTP GET with the admin token; answers status, headers and body.
async fn get(
    client: &kube::Client,
    uri: &str,
    headers: &[(&str, &str)],
) -> (http::StatusCode, http::HeaderMap, Vec<u8>) {
    let mut request = http::Request::get(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(kube::client::Body::empty())
        .expect("a GET request");
    let response = client
        .send(request)
        .await
        .unwrap_or_else(|e| panic!("GET {uri}: {e}"));
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap_or_else(|e| panic!("GET {uri}: reading the body: {e}"))
        .to_bytes();
    (status, headers, body.to_vec())
}

fn document_url(root: &[u8], path: &str) -> Option<String> {
    let root: Value = serde_json::from_slice(root).expect("the v3 index is JSON");
    root["paths"][path]["serverRelativeURL"]
        .as_str()
        .map(str::to_owned)
}

/// Polls the v3 index until `check` accepts the URL of `path` in it (the CRD controller acts
/// asynchronously).
async fn wait_for_url(
    client: &kube::Client,
    path: &str,
    check: impl Fn(Option<&str>) -> bool,
) -> Option<String> {
    for _ in 0..100 {
        let (status, _, root) = get(client, "/openapi/v3", &[]).await;
        assert_eq!(status, 200);
        let url = document_url(&root, path);
        if check(url.as_deref()) {
            return url;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the v3 index never reached the expected state for {path}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v3_index_follows_crds_and_hashes_cache() {
    let server = tether_apiserver::start(tether_apiserver::ServerConfig::ephemeral())
        .await
        .unwrap();
    let client = server.client().await.unwrap();

    // Built-ins: a hashed URL, served immutable when the hash matches, redirected when not.
    let (_, _, root) = get(&client, "/openapi/v3", &[]).await;
    let apps = document_url(&root, "apis/apps/v1").unwrap();
    let hash = apps.split("hash=").nth(1).unwrap().to_owned();
    let (status, headers, body) = get(&client, &apps, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(headers["cache-control"], "public, immutable");
    assert!(headers.contains_key("expires"));
    assert_eq!(headers["vary"], "Accept");
    assert_eq!(headers["etag"], format!("\"{hash}\"").as_str());
    let doc: Value = serde_json::from_slice(&body).unwrap();
    assert!(doc["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"].is_object());
    let (status, _, _) = get(
        &client,
        "/openapi/v3/apis/apps/v1",
        &[("If-None-Match", &format!("\"{hash}\""))],
    )
    .await;
    assert_eq!(status, 304);
    // Without a hash the document is not declared immutable.
    let (status, headers, _) = get(&client, "/openapi/v3/apis/apps/v1", &[]).await;
    assert_eq!(status, 200);
    assert!(!headers.contains_key("cache-control"));
    let (status, headers, _) = get(&client, "/openapi/v3", &[]).await;
    assert_eq!(status, 200);
    let root_etag = headers["etag"].to_str().unwrap().to_owned();
    let (status, _, _) = get(&client, "/openapi/v3", &[("If-None-Match", &root_etag)]).await;
    assert_eq!(status, 304);
    let (status, _, _) = get(&client, "/openapi/v3/apis/nothing.example.com/v1", &[]).await;
    assert_eq!(status, 404);

    // v2: JSON by default, protobuf on request.
    let (status, headers, body) = get(&client, "/openapi/v2", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/json");
    let v2: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v2["swagger"], "2.0");
    let (status, headers, body) = get(
        &client,
        "/openapi/v2",
        &[(
            "Accept",
            "application/com.github.proto-openapi.spec.v2@v1.0+protobuf",
        )],
    )
    .await;
    assert_eq!(status, 200);
    // kube-apiserver's answer: Go's mime parser refuses the `@` spelling.
    assert_eq!(
        headers["content-type"],
        "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
    );
    // Field 1 (swagger) is "2.0".
    assert_eq!(&body[..5], b"\x0a\x032.0");

    // A CRD adds its group version; changing its schema changes the hash; deleting removes it.
    let crds: kube::Api<kube::api::DynamicObject> = kube::Api::all_with(
        client.clone(),
        &kube::discovery::ApiResource::erase::<
            k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
        >(&()),
    );
    let crd: Value = yaml_value(CRD);
    crds.create(
        &Default::default(),
        &serde_json::from_value(crd.clone()).unwrap(),
    )
    .await
    .unwrap();
    let first = wait_for_url(&client, "apis/example.com/v1", |u| u.is_some())
        .await
        .unwrap();
    let (status, _, body) = get(&client, &first, &[]).await;
    assert_eq!(status, 200);
    let doc: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        doc["components"]["schemas"]["com.example.v1.Widget"]["properties"]["spec"]["properties"]["size"]
            ["description"],
        "How many cogs the widget has."
    );

    // The CRD controller writes its status meanwhile: change the latest version.
    let latest = crds.get("widgets.example.com").await.unwrap();
    let mut changed = serde_json::to_value(&latest).unwrap();
    changed["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
        ["size"]["description"] = Value::from("How many cogs, now.");
    crds.replace(
        "widgets.example.com",
        &Default::default(),
        &serde_json::from_value(changed).unwrap(),
    )
    .await
    .unwrap();
    let second = wait_for_url(&client, "apis/example.com/v1", |u| {
        u.is_some_and(|u| u != first)
    })
    .await
    .unwrap();
    // The old hash now redirects to the current document.
    let (status, headers, _) = get(&client, &first, &[]).await;
    assert_eq!(status, 301);
    assert_eq!(headers["location"], second.as_str());
    let (_, _, root) = get(&client, "/openapi/v3", &[]).await;
    assert_eq!(document_url(&root, "apis/apps/v1").unwrap(), apps);

    crds.delete("widgets.example.com", &Default::default())
        .await
        .unwrap();
    wait_for_url(&client, "apis/example.com/v1", |u| u.is_none()).await;
    let (status, _, _) = get(&client, "/openapi/v3/apis/example.com/v1", &[]).await;
    assert_eq!(status, 404);
    server.shutdown().await.unwrap();
}

/// The CRD manifest as JSON (YAML is a superset; kube's types want JSON values).
fn yaml_value(yaml: &str) -> Value {
    serde_saphyr::from_str(yaml).expect("valid YAML")
}
