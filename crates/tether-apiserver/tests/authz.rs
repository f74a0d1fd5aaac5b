//! Impersonation and RBAC over HTTPS, as a GitOps controller meets them when it acts as a
//! tenant's service account: kube-rs clients that impersonate (`Impersonate-User`,
//! `Impersonate-Group`), a further static token for a caller that is not `system:masters`,
//! and kubectl's `--as` and `auth can-i`. Refusals are checked for kube-apiserver's exact
//! 403 messages.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed assertion.

#[allow(dead_code)] // This suite uses a few of the kubectl helpers.
mod support;

use http::{Method, Request, StatusCode};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Client;
use kube::api::{Api, ListParams};
use serde_json::{Value, json};
use support::Cluster;
use tether_apiserver::auth::{StaticToken, UserInfo};
use tether_apiserver::{RunningServer, ServerConfig};

const SA: &str = "system:serviceaccount:apps:deployer";
const JSON: &str = "application/json";
const APPLY: &str = "application/apply-patch+yaml";

async fn start() -> (RunningServer, Client) {
    start_with(vec![]).await
}

async fn start_with(tokens: Vec<StaticToken>) -> (RunningServer, Client) {
    let server = tether_apiserver::start(ServerConfig {
        simulate_workloads: false,
        tokens,
        ..ServerConfig::ephemeral()
    })
    .await
    .unwrap();
    let client = server.client().await.unwrap();
    create(&client, "/api/v1/namespaces", namespace("apps")).await;
    create(&client, "/api/v1/namespaces", namespace("other")).await;
    (server, client)
}

/// A kube-rs client with the admin token that impersonates `user` (and `groups`), as the
/// GitOps controller builds one for `spec.serviceAccountName`.
async fn impersonating(server: &RunningServer, user: &str, groups: &[&str]) -> Client {
    let kubeconfig = kube::config::Kubeconfig::from_yaml(server.kubeconfig()).unwrap();
    let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .unwrap();
    config.auth_info.impersonate = Some(user.to_owned());
    if !groups.is_empty() {
        config.auth_info.impersonate_groups =
            Some(groups.iter().map(|g| (*g).to_owned()).collect());
    }
    Client::try_from(config).unwrap()
}

/// A kube-rs client presenting another bearer token.
async fn with_token(server: &RunningServer, token: &str) -> Client {
    let yaml = server.kubeconfig().replace(server.token(), token);
    let kubeconfig = kube::config::Kubeconfig::from_yaml(&yaml).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .unwrap();
    Client::try_from(config).unwrap()
}

async fn send_with(
    client: &Client,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    content_type: &str,
    body: &Value,
) -> (StatusCode, Value) {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", content_type);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let body = if body.is_null() {
        vec![]
    } else {
        serde_json::to_vec(body).unwrap()
    };
    let response = client
        .send(request.body(kube::client::Body::from(body)).unwrap())
        .await
        .unwrap();
    let (parts, body) = response.into_parts();
    let bytes = body.collect_bytes().await.unwrap();
    (
        parts.status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn send(
    client: &Client,
    method: Method,
    uri: &str,
    content_type: &str,
    body: &Value,
) -> (StatusCode, Value) {
    send_with(client, method, uri, &[], content_type, body).await
}

async fn get(client: &Client, uri: &str) -> (StatusCode, Value) {
    send(client, Method::GET, uri, JSON, &Value::Null).await
}

async fn create(client: &Client, collection: &str, body: Value) -> Value {
    let (status, created) = send(client, Method::POST, collection, JSON, &body).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "create in {collection}: {created}"
    );
    created
}

fn namespace(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
}

fn deployment(namespace: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}})
}

fn deployment_uri(namespace: &str) -> String {
    format!("/apis/apps/v1/namespaces/{namespace}/deployments/web")
}

fn apply_uri(object: &str) -> String {
    format!("{object}?fieldManager=kustomize-controller")
}

/// Asserts a 403 Forbidden with exactly `message`.
#[track_caller]
fn assert_forbidden(what: &str, (status, body): (StatusCode, Value), message: &str) {
    assert_eq!(status, StatusCode::FORBIDDEN, "{what}: {body}");
    assert_eq!(body["reason"], "Forbidden", "{what}: {body}");
    assert_eq!(body["message"], message, "{what}");
}

fn role(namespace: &str, name: &str, rules: Value) -> Value {
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": name, "namespace": namespace}, "rules": rules})
}

/// A binding of `role_kind`/`role` to `subjects` (a RoleBinding with a namespace).
fn binding(
    namespace: Option<&str>,
    name: &str,
    role_kind: &str,
    role: &str,
    subjects: Value,
) -> Value {
    let mut b = json!({"apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": if namespace.is_some() { "RoleBinding" } else { "ClusterRoleBinding" },
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role},
        "subjects": subjects});
    if let Some(ns) = namespace {
        b["metadata"]["namespace"] = json!(ns);
    }
    b
}

fn roles(namespace: &str) -> String {
    format!("/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/roles")
}

fn role_bindings(namespace: &str) -> String {
    format!("/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/rolebindings")
}

const CLUSTER_ROLE_BINDINGS: &str = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings";
const CLUSTER_ROLES: &str = "/apis/rbac.authorization.k8s.io/v1/clusterroles";

fn deployer() -> Value {
    json!([{"kind": "ServiceAccount", "name": "deployer", "namespace": "apps"}])
}

#[tokio::test]
async fn a_service_account_without_bindings_sees_discovery_and_nothing_else() {
    let (server, _admin) = start().await;
    let sa = impersonating(&server, SA, &[]).await;
    for path in [
        "/api",
        "/apis",
        "/api/v1",
        "/apis/apps/v1",
        "/version",
        "/healthz",
    ] {
        let (status, body) = get(&sa, path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
    }
    let (status, body) = send(
        &sa,
        Method::PATCH,
        &apply_uri(&deployment_uri("apps")),
        APPLY,
        &deployment("apps"),
    )
    .await;
    assert_forbidden(
        "apply",
        (status, body.clone()),
        "deployments.apps \"web\" is forbidden: User \"system:serviceaccount:apps:deployer\" cannot patch resource \"deployments\" in API group \"apps\" in the namespace \"apps\"",
    );
    assert_eq!(
        body["details"],
        json!({"name": "web", "group": "apps", "kind": "deployments"})
    );
    assert_forbidden(
        "cluster-wide list",
        get(&sa, "/api/v1/configmaps").await,
        "configmaps is forbidden: User \"system:serviceaccount:apps:deployer\" cannot list resource \"configmaps\" in API group \"\" at the cluster scope",
    );
    assert_forbidden(
        "own namespace",
        get(&sa, "/api/v1/namespaces/apps").await,
        "namespaces \"apps\" is forbidden: User \"system:serviceaccount:apps:deployer\" cannot get resource \"namespaces\" in API group \"\" in the namespace \"apps\"",
    );
    assert_forbidden(
        "non-resource path",
        get(&sa, "/metrics").await,
        "forbidden: User \"system:serviceaccount:apps:deployer\" cannot get path \"/metrics\"",
    );
    // kube-rs reports the same Status.
    let err = Api::<ConfigMap>::namespaced(sa, "apps")
        .list(&ListParams::default())
        .await
        .unwrap_err();
    match err {
        kube::Error::Api(status) => {
            assert_eq!((status.code, status.reason.as_str()), (403, "Forbidden"));
            assert_eq!(
                status.message,
                "configmaps is forbidden: User \"system:serviceaccount:apps:deployer\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"apps\""
            );
        }
        other => panic!("expected a 403, got {other:?}"),
    }
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_role_binding_grants_its_rules_in_its_namespace_only() {
    let (server, admin) = start().await;
    create(
        &admin,
        &roles("apps"),
        role(
            "apps",
            "deployer",
            json!([{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "patch"]}]),
        ),
    )
    .await;
    // The subject names no namespace: it is the binding's.
    create(
        &admin,
        &role_bindings("apps"),
        binding(
            Some("apps"),
            "deployer",
            "Role",
            "deployer",
            json!([{"kind": "ServiceAccount", "name": "deployer"}]),
        ),
    )
    .await;
    let sa = impersonating(&server, SA, &[]).await;
    // Apply creates with `patch` alone, as upstream authorizes it.
    let uri = apply_uri(&deployment_uri("apps"));
    let (status, body) = send(&sa, Method::PATCH, &uri, APPLY, &deployment("apps")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = send(&sa, Method::PATCH, &uri, APPLY, &deployment("apps")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = get(&sa, &deployment_uri("apps")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_forbidden(
        "create",
        send(
            &sa,
            Method::POST,
            "/apis/apps/v1/namespaces/apps/deployments",
            JSON,
            &deployment("apps"),
        )
        .await,
        "deployments.apps is forbidden: User \"system:serviceaccount:apps:deployer\" cannot create resource \"deployments\" in API group \"apps\" in the namespace \"apps\"",
    );
    assert_forbidden(
        "delete",
        send(
            &sa,
            Method::DELETE,
            &deployment_uri("apps"),
            JSON,
            &Value::Null,
        )
        .await,
        "deployments.apps \"web\" is forbidden: User \"system:serviceaccount:apps:deployer\" cannot delete resource \"deployments\" in API group \"apps\" in the namespace \"apps\"",
    );
    assert_forbidden(
        "other namespace",
        send(
            &sa,
            Method::PATCH,
            &apply_uri(&deployment_uri("other")),
            APPLY,
            &deployment("other"),
        )
        .await,
        "deployments.apps \"web\" is forbidden: User \"system:serviceaccount:apps:deployer\" cannot patch resource \"deployments\" in API group \"apps\" in the namespace \"other\"",
    );
    // A binding to a role that does not exist says so in the refusal.
    create(
        &admin,
        &role_bindings("apps"),
        binding(Some("apps"), "dangling", "Role", "missing", deployer()),
    )
    .await;
    assert_forbidden(
        "with a dangling binding",
        send(
            &sa,
            Method::DELETE,
            &deployment_uri("apps"),
            JSON,
            &Value::Null,
        )
        .await,
        "deployments.apps \"web\" is forbidden: User \"system:serviceaccount:apps:deployer\" cannot delete resource \"deployments\" in API group \"apps\" in the namespace \"apps\": RBAC: role.rbac.authorization.k8s.io \"missing\" not found",
    );
    server.shutdown().await.unwrap();
}

/// Flux's multi-tenancy: the bootstrap `admin` ClusterRole bound in the tenant's namespace.
#[tokio::test]
async fn the_admin_cluster_role_bound_to_a_tenant() {
    let (server, admin) = start().await;
    create(
        &admin,
        &role_bindings("apps"),
        binding(Some("apps"), "tenant", "ClusterRole", "admin", deployer()),
    )
    .await;
    let sa = impersonating(&server, SA, &[]).await;
    for (uri, body) in [
        (
            "/api/v1/namespaces/apps/configmaps/settings",
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}}),
        ),
        (
            "/api/v1/namespaces/apps/secrets/creds",
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds"}}),
        ),
        (
            "/apis/apps/v1/namespaces/apps/deployments/web",
            deployment("apps"),
        ),
        (
            "/apis/rbac.authorization.k8s.io/v1/namespaces/apps/rolebindings/viewers",
            binding(
                Some("apps"),
                "viewers",
                "ClusterRole",
                "view",
                json!([{"kind": "Group", "name": "team"}]),
            ),
        ),
    ] {
        let (status, body) = send(&sa, Method::PATCH, &apply_uri(uri), APPLY, &body).await;
        assert_eq!(status, StatusCode::CREATED, "{uri}: {body}");
    }
    let (status, body) = get(&sa, "/api/v1/namespaces/apps").await;
    assert_eq!(status, StatusCode::OK, "its own namespace: {body}");
    assert_forbidden(
        "cluster-scoped",
        send(
            &sa,
            Method::PATCH,
            &apply_uri(&format!("{CLUSTER_ROLES}/mine")),
            APPLY,
            &json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                "metadata": {"name": "mine"}, "rules": []}),
        )
        .await,
        "clusterroles.rbac.authorization.k8s.io \"mine\" is forbidden: User \"system:serviceaccount:apps:deployer\" cannot patch resource \"clusterroles\" in API group \"rbac.authorization.k8s.io\" at the cluster scope",
    );
    assert_forbidden(
        "namespace list",
        get(&sa, "/api/v1/namespaces").await,
        "namespaces is forbidden: User \"system:serviceaccount:apps:deployer\" cannot list resource \"namespaces\" in API group \"\" at the cluster scope",
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_cluster_role_binding_grants_every_namespace() {
    let (server, admin) = start().await;
    create(
        &admin,
        "/api/v1/namespaces/other/configmaps",
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}),
    )
    .await;
    create(
        &admin,
        CLUSTER_ROLE_BINDINGS,
        binding(
            None,
            "auditors",
            "ClusterRole",
            "view",
            json!([{"kind": "Group", "name": "auditors"}]),
        ),
    )
    .await;
    let carol = impersonating(&server, "carol", &["auditors"]).await;
    let (status, body) = get(&carol, "/api/v1/configmaps").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["metadata"]["name"] == "c"),
        "{body}"
    );
    // `view` reads no Secrets and writes nothing.
    assert_forbidden(
        "secrets",
        get(&carol, "/api/v1/namespaces/other/secrets").await,
        "secrets is forbidden: User \"carol\" cannot list resource \"secrets\" in API group \"\" in the namespace \"other\"",
    );
    assert_forbidden(
        "write",
        send(
            &carol,
            Method::DELETE,
            "/api/v1/namespaces/other/configmaps/c",
            JSON,
            &Value::Null,
        )
        .await,
        "configmaps \"c\" is forbidden: User \"carol\" cannot delete resource \"configmaps\" in API group \"\" in the namespace \"other\"",
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn resource_names_and_subresources_are_matched_exactly() {
    let (server, admin) = start().await;
    for name in ["settings", "other"] {
        create(
            &admin,
            "/api/v1/namespaces/apps/configmaps",
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}),
        )
        .await;
    }
    create(
        &admin,
        "/apis/apps/v1/namespaces/apps/deployments",
        deployment("apps"),
    )
    .await;
    create(
        &admin,
        &roles("apps"),
        role(
            "apps",
            "narrow",
            json!([
                {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["settings"], "verbs": ["get", "list", "watch"]},
                {"apiGroups": ["apps"], "resources": ["deployments/status"], "verbs": ["get", "update"]},
            ]),
        ),
    )
    .await;
    create(
        &admin,
        &role_bindings("apps"),
        binding(Some("apps"), "narrow", "Role", "narrow", deployer()),
    )
    .await;
    let sa = impersonating(&server, SA, &[]).await;
    let (status, body) = get(&sa, "/api/v1/namespaces/apps/configmaps/settings").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A list narrowed to the name by field selector is a request for that name.
    let (status, body) = get(
        &sa,
        "/api/v1/namespaces/apps/configmaps?fieldSelector=metadata.name%3Dsettings",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_forbidden(
        "another name",
        get(&sa, "/api/v1/namespaces/apps/configmaps/other").await,
        "configmaps \"other\" is forbidden: User \"system:serviceaccount:apps:deployer\" cannot get resource \"configmaps\" in API group \"\" in the namespace \"apps\"",
    );
    assert_forbidden(
        "unnamed list",
        get(&sa, "/api/v1/namespaces/apps/configmaps").await,
        "configmaps is forbidden: User \"system:serviceaccount:apps:deployer\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"apps\"",
    );

    let status_uri = format!("{}/status", deployment_uri("apps"));
    let (status, mut live) = get(&sa, &status_uri).await;
    assert_eq!(status, StatusCode::OK, "{live}");
    live["status"] = json!({"replicas": 1});
    let (status, body) = send(&sa, Method::PUT, &status_uri, JSON, &live).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_forbidden(
        "main resource",
        send(&sa, Method::PUT, &deployment_uri("apps"), JSON, &live).await,
        "deployments.apps \"web\" is forbidden: User \"system:serviceaccount:apps:deployer\" cannot update resource \"deployments\" in API group \"apps\" in the namespace \"apps\"",
    );
    assert_forbidden(
        "scale",
        get(&sa, &format!("{}/scale", deployment_uri("apps"))).await,
        "deployments.apps \"web\" is forbidden: User \"system:serviceaccount:apps:deployer\" cannot get resource \"deployments/scale\" in API group \"apps\" in the namespace \"apps\"",
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn impersonation_needs_the_impersonate_verb() {
    let alice = UserInfo {
        name: "alice".into(),
        groups: vec!["developers".into()],
        ..Default::default()
    };
    let (server, admin) = start_with(vec![StaticToken {
        token: "alice-token".into(),
        user: alice,
    }])
    .await;
    let client = with_token(&server, "alice-token").await;
    let wrong = with_token(&server, "not-a-token").await;
    assert_eq!(get(&wrong, "/api").await.0, StatusCode::UNAUTHORIZED);
    // Alice herself: authenticated, authorized by RBAC.
    let (status, _) = get(&client, "/apis").await;
    assert_eq!(status, StatusCode::OK);
    assert_forbidden(
        "alice's own request",
        get(&client, "/api/v1/namespaces/apps/configmaps").await,
        "configmaps is forbidden: User \"alice\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"apps\"",
    );
    let as_sa = [("Impersonate-User", SA)];
    assert_forbidden(
        "impersonate a service account",
        send_with(
            &client,
            Method::GET,
            "/api/v1/namespaces/apps/configmaps",
            &as_sa,
            JSON,
            &Value::Null,
        )
        .await,
        "serviceaccounts \"deployer\" is forbidden: User \"alice\" cannot impersonate resource \"serviceaccounts\" in API group \"\" in the namespace \"apps\"",
    );
    assert_forbidden(
        "impersonate a user",
        send_with(
            &client,
            Method::GET,
            "/api",
            &[("Impersonate-User", "bob")],
            JSON,
            &Value::Null,
        )
        .await,
        "users \"bob\" is forbidden: User \"alice\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope",
    );
    assert_forbidden(
        "impersonate a group",
        send_with(
            &client,
            Method::GET,
            "/api",
            &[
                ("Impersonate-User", "alice"),
                ("Impersonate-Group", "system:masters"),
            ],
            JSON,
            &Value::Null,
        )
        .await,
        "users \"alice\" is forbidden: User \"alice\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope",
    );
    // The admin may impersonate anyone, groups included.
    let (status, body) = send_with(
        &admin,
        Method::GET,
        "/api/v1/namespaces/apps/configmaps",
        &[
            ("Impersonate-User", "bob"),
            ("Impersonate-Group", "system:masters"),
        ],
        JSON,
        &Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = send_with(
        &client,
        Method::GET,
        "/api",
        &[("Impersonate-Group", "developers")],
        JSON,
        &Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // Once allowed to impersonate the namespace's service accounts, alice acts as one: the
    // refusal now names the service account.
    create(
        &admin,
        &roles("apps"),
        role(
            "apps",
            "impersonator",
            json!([{"apiGroups": [""], "resources": ["serviceaccounts"], "verbs": ["impersonate"]}]),
        ),
    )
    .await;
    create(
        &admin,
        &role_bindings("apps"),
        binding(
            Some("apps"),
            "alice",
            "Role",
            "impersonator",
            json!([{"kind": "User", "name": "alice"}]),
        ),
    )
    .await;
    assert_forbidden(
        "as the service account",
        send_with(
            &client,
            Method::GET,
            "/api/v1/namespaces/apps/configmaps",
            &as_sa,
            JSON,
            &Value::Null,
        )
        .await,
        "configmaps is forbidden: User \"system:serviceaccount:apps:deployer\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"apps\"",
    );
    let (status, body) = send_with(&client, Method::GET, "/apis", &as_sa, JSON, &Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn access_reviews_answer_for_the_asking_or_named_user() {
    let (server, admin) = start().await;
    let sa = impersonating(&server, SA, &[]).await;
    let ssar = json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": {"namespace": "apps", "verb": "patch",
            "group": "apps", "resource": "deployments"}}});
    let reviews = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
    let answer = create(&sa, reviews, ssar.clone()).await;
    assert_eq!(answer["status"], json!({"allowed": false}), "{answer}");
    create(
        &admin,
        &role_bindings("apps"),
        binding(Some("apps"), "tenant", "ClusterRole", "edit", deployer()),
    )
    .await;
    let answer = create(&sa, reviews, ssar).await;
    assert_eq!(
        answer["status"],
        json!({"allowed": true, "reason": "RBAC: allowed by RoleBinding \"tenant/apps\" of ClusterRole \"edit\" to ServiceAccount \"deployer/apps\""}),
        "{answer}"
    );
    // The admin asks about someone else; the review is not stored.
    let sar = json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
        "spec": {"user": SA, "groups": ["system:serviceaccounts"],
            "resourceAttributes": {"namespace": "other", "verb": "get", "resource": "secrets"}}});
    let answer = create(
        &admin,
        "/apis/authorization.k8s.io/v1/subjectaccessreviews",
        sar,
    )
    .await;
    assert_eq!(answer["status"]["allowed"], false, "{answer}");
    let (status, body) = send(
        &admin,
        Method::POST,
        "/apis/authorization.k8s.io/v1/subjectaccessreviews",
        JSON,
        &json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
            "spec": {"resourceAttributes": {"verb": "get", "resource": "pods"}}}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body["message"],
        "SubjectAccessReview.authorization.k8s.io \"\" is invalid: spec.user: Invalid value: null: at least one of user or group must be specified"
    );
    let rules = create(
        &sa,
        "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
        json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview",
            "spec": {"namespace": "apps"}}),
    )
    .await;
    let resource_rules = rules["status"]["resourceRules"].as_array().unwrap();
    assert!(
        resource_rules.iter().any(|r| r["resources"]
            .as_array()
            .unwrap()
            .contains(&json!("deployments"))
            && r["verbs"].as_array().unwrap().contains(&json!("patch"))),
        "{rules}"
    );
    assert_eq!(rules["status"]["incomplete"], false);
    server.shutdown().await.unwrap();
}

const TENANT: &str = r#"apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: deployer
  namespace: apps
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: edit
subjects:
- kind: ServiceAccount
  name: deployer
  namespace: apps
"#;

const WEB: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: apps
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
"#;

/// kubectl 1.33 with `--as`: `auth can-i` answers from RBAC, and refusals print upstream's
/// message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_as_a_service_account() {
    let cluster = Cluster::start("1.33").await;
    let as_sa = format!("--as={SA}");
    let ns = cluster.file(
        "ns.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n",
    );
    cluster.ok(&["apply", "-f", ns.to_str().unwrap()]).await;
    let run = cluster
        .exits(
            1,
            &[
                "auth",
                "can-i",
                "patch",
                "deployments",
                "-n",
                "apps",
                &as_sa,
            ],
        )
        .await;
    assert_eq!(run.stdout.trim(), "no");
    let tenant = cluster.file("tenant.yaml", TENANT);
    cluster.ok(&["apply", "-f", tenant.to_str().unwrap()]).await;
    let yes = cluster
        .ok(&[
            "auth",
            "can-i",
            "patch",
            "deployments",
            "-n",
            "apps",
            &as_sa,
        ])
        .await;
    assert_eq!(yes.trim(), "yes");
    let run = cluster
        .exits(1, &["auth", "can-i", "create", "clusterroles", &as_sa])
        .await;
    assert_eq!(run.stdout.trim(), "no");

    let web = cluster.file("web.yaml", WEB);
    cluster
        .ok(&[
            "apply",
            "--server-side",
            "-f",
            web.to_str().unwrap(),
            &as_sa,
        ])
        .await;
    let run = cluster.exits(1, &["get", "namespaces", &as_sa]).await;
    assert!(
        run.stderr.contains(
            "Error from server (Forbidden): namespaces is forbidden: User \"system:serviceaccount:apps:deployer\" cannot list resource \"namespaces\" in API group \"\" at the cluster scope"
        ),
        "{}",
        run.stderr
    );
    cluster.shutdown().await;
}
