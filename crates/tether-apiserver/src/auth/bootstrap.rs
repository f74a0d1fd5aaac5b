//! The default roles and bindings kube-apiserver creates at start (`bootstrappolicy`), so
//! manifests that bind `admin`, `edit`, `view` or `cluster-admin` work and every authenticated
//! user may read discovery and ask what it may do.
//!
//! `admin`, `edit` and `view` aggregate `system:aggregate-to-*` as upstream's do, with
//! upstream's rules for the built-in groups (the `extensions` group is left out: this server
//! does not serve it). Missing objects are created at every start; existing ones are left as
//! they are (upstream also reconciles those marked `autoupdate`).

use serde_json::{Value, json};

use crate::core::{Core, WriteOptions};
use crate::status::ApiError;

const READ: &[&str] = &["get", "list", "watch"];
const WRITE: &[&str] = &["create", "update", "patch", "delete", "deletecollection"];
const READ_WRITE: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
];

fn rule(verbs: &[&str], group: &str, resources: &[&str]) -> Value {
    json!({"apiGroups": [group], "resources": resources, "verbs": verbs})
}

fn urls(urls: &[&str]) -> Value {
    json!({"nonResourceURLs": urls, "verbs": ["get"]})
}

fn metadata(name: &str, aggregate_to: &[&str]) -> Value {
    let mut labels = json!({"kubernetes.io/bootstrapping": "rbac-defaults"});
    for role in aggregate_to {
        labels[format!("rbac.authorization.k8s.io/aggregate-to-{role}")] = json!("true");
    }
    json!({"name": name, "labels": labels,
        "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"}})
}

fn cluster_role(name: &str, rules: Vec<Value>) -> Value {
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": metadata(name, &[]), "rules": rules})
}

/// A role whose rules are those of the roles labelled `aggregate-to-<from>`.
fn aggregated(name: &str, from: &str, aggregate_to: &[&str]) -> Value {
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": metadata(name, aggregate_to),
        "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {
            format!("rbac.authorization.k8s.io/aggregate-to-{from}"): "true"}}]}})
}

fn aggregate_to(name: &str, to: &[&str], rules: Vec<Value>) -> Value {
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": metadata(name, to), "rules": rules})
}

fn binding(name: &str, role: &str, groups: &[&str]) -> Value {
    let subjects: Vec<Value> = groups
        .iter()
        .map(|g| json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": g}))
        .collect();
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": metadata(name, &[]),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": subjects})
}

/// Upstream's `system:aggregate-to-edit` rules for the groups this server serves.
fn edit_rules() -> Vec<Value> {
    vec![
        rule(
            READ,
            "",
            &[
                "pods/attach",
                "pods/proxy",
                "pods/exec",
                "pods/portforward",
                "secrets",
                "services/proxy",
            ],
        ),
        rule(&["impersonate"], "", &["serviceaccounts"]),
        rule(
            WRITE,
            "",
            &[
                "pods",
                "pods/attach",
                "pods/proxy",
                "pods/exec",
                "pods/portforward",
            ],
        ),
        rule(&["create"], "", &["pods/eviction"]),
        rule(
            WRITE,
            "",
            &[
                "replicationcontrollers",
                "replicationcontrollers/scale",
                "serviceaccounts",
                "services",
                "services/proxy",
                "persistentvolumeclaims",
                "configmaps",
                "secrets",
            ],
        ),
        rule(&["create"], "", &["serviceaccounts/token"]),
        rule(
            WRITE,
            "apps",
            &[
                "statefulsets",
                "statefulsets/scale",
                "daemonsets",
                "deployments",
                "deployments/scale",
                "deployments/rollback",
                "replicasets",
                "replicasets/scale",
            ],
        ),
        rule(WRITE, "autoscaling", &["horizontalpodautoscalers"]),
        rule(WRITE, "batch", &["jobs", "cronjobs"]),
        rule(WRITE, "policy", &["poddisruptionbudgets"]),
        rule(
            WRITE,
            "networking.k8s.io",
            &["networkpolicies", "ingresses"],
        ),
    ]
}

/// Upstream's `system:aggregate-to-view` rules for the groups this server serves.
fn view_rules() -> Vec<Value> {
    vec![
        rule(
            READ,
            "",
            &[
                "pods",
                "replicationcontrollers",
                "replicationcontrollers/scale",
                "serviceaccounts",
                "services",
                "services/status",
                "endpoints",
                "persistentvolumeclaims",
                "persistentvolumeclaims/status",
                "configmaps",
            ],
        ),
        rule(
            READ,
            "",
            &[
                "limitranges",
                "resourcequotas",
                "bindings",
                "events",
                "pods/status",
                "resourcequotas/status",
                "namespaces/status",
                "replicationcontrollers/status",
                "pods/log",
            ],
        ),
        rule(READ, "", &["namespaces"]),
        rule(READ, "discovery.k8s.io", &["endpointslices"]),
        rule(
            READ,
            "apps",
            &[
                "controllerrevisions",
                "statefulsets",
                "statefulsets/status",
                "statefulsets/scale",
                "daemonsets",
                "daemonsets/status",
                "deployments",
                "deployments/status",
                "deployments/scale",
                "replicasets",
                "replicasets/status",
                "replicasets/scale",
            ],
        ),
        rule(
            READ,
            "autoscaling",
            &[
                "horizontalpodautoscalers",
                "horizontalpodautoscalers/status",
            ],
        ),
        rule(
            READ,
            "batch",
            &["jobs", "cronjobs", "cronjobs/status", "jobs/status"],
        ),
        rule(
            READ,
            "policy",
            &["poddisruptionbudgets", "poddisruptionbudgets/status"],
        ),
        rule(
            READ,
            "networking.k8s.io",
            &["networkpolicies", "ingresses", "ingresses/status"],
        ),
    ]
}

/// Every object of the default policy: ClusterRoles first, then their bindings.
pub fn policy() -> Vec<Value> {
    vec![
        cluster_role(
            "cluster-admin",
            vec![
                json!({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}),
                json!({"nonResourceURLs": ["*"], "verbs": ["*"]}),
            ],
        ),
        cluster_role(
            "system:discovery",
            vec![urls(&[
                "/api",
                "/api/*",
                "/apis",
                "/apis/*",
                "/healthz",
                "/livez",
                "/openapi",
                "/openapi/*",
                "/readyz",
                "/version",
                "/version/",
            ])],
        ),
        cluster_role(
            "system:public-info-viewer",
            vec![urls(&[
                "/healthz",
                "/livez",
                "/readyz",
                "/version",
                "/version/",
            ])],
        ),
        cluster_role(
            "system:basic-user",
            vec![rule(
                &["create"],
                "authorization.k8s.io",
                &["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
            )],
        ),
        aggregated("admin", "admin", &[]),
        aggregated("edit", "edit", &["admin"]),
        aggregated("view", "view", &["edit"]),
        aggregate_to(
            "system:aggregate-to-admin",
            &["admin"],
            vec![
                rule(
                    &["create"],
                    "authorization.k8s.io",
                    &["localsubjectaccessreviews"],
                ),
                rule(
                    READ_WRITE,
                    "rbac.authorization.k8s.io",
                    &["roles", "rolebindings"],
                ),
            ],
        ),
        aggregate_to("system:aggregate-to-edit", &["edit"], edit_rules()),
        aggregate_to("system:aggregate-to-view", &["view"], view_rules()),
        binding("cluster-admin", "cluster-admin", &[super::MASTERS]),
        binding(
            "system:discovery",
            "system:discovery",
            &[super::AUTHENTICATED],
        ),
        binding(
            "system:public-info-viewer",
            "system:public-info-viewer",
            &[super::AUTHENTICATED, super::UNAUTHENTICATED],
        ),
        binding(
            "system:basic-user",
            "system:basic-user",
            &[super::AUTHENTICATED],
        ),
    ]
}

/// Creates the objects of [`policy`] that do not exist.
pub async fn ensure_policy(core: &Core) -> Result<(), ApiError> {
    let opts = WriteOptions {
        field_manager: Some("kube-apiserver".into()),
        ..Default::default()
    };
    for object in policy() {
        let resource = match object["kind"].as_str() {
            Some("ClusterRole") => "clusterroles",
            _ => "clusterrolebindings",
        };
        let Some(r) = core
            .registry
            .get("rbac.authorization.k8s.io", "v1", resource)
        else {
            continue;
        };
        if core
            .store
            .get(&r.key(None, crate::object::name(&object)))
            .is_some()
        {
            continue;
        }
        match core.create(&r, None, object, &opts).await {
            Ok(_) => {}
            Err(e) if e.reason == "AlreadyExists" => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
