//! Helpers shared by the integration tests: an embedded control plane per test, a resource
//! manager on it, and the manifests the scenarios apply.

#![allow(dead_code)] // Each test file uses a different subset.

use std::time::Duration;

use kube::Client;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use serde_json::{Value, json};
use tether_apiserver::{RunningServer, ServerConfig};
use tether_apply::{ApplyOptions, ChangeSet, Owner, ResourceManager};

pub const KS_NAME: &str = "apps";
pub const KS_NAMESPACE: &str = "flux-system";

pub struct Env {
    pub server: RunningServer,
    pub client: Client,
    pub manager: ResourceManager,
}

impl Env {
    pub async fn start() -> Env {
        Env::start_with(ServerConfig::ephemeral()).await
    }

    pub async fn start_with(config: ServerConfig) -> Env {
        let server = tether_apiserver::start(config).await.unwrap();
        let client = server.client().await.unwrap();
        let manager = ResourceManager::new(client.clone(), Owner::kustomize_controller());
        Env {
            server,
            client,
            manager,
        }
    }

    /// kustomize-controller's options for the Kustomization `flux-system/apps`, with short waits.
    pub fn options(&self) -> ApplyOptions {
        let mut options = self.manager.apply_options(KS_NAME, KS_NAMESPACE);
        options.wait_interval = Duration::from_millis(200);
        options.wait_timeout = Duration::from_secs(20);
        options
    }

    pub async fn apply(&self, objects: &[Value]) -> ChangeSet {
        self.manager
            .apply_all_staged(objects.to_vec(), &self.options())
            .await
            .unwrap_or_else(|e| panic!("apply failed: {e}"))
    }

    /// The live object as JSON.
    pub async fn get(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Option<Value> {
        let api = self.api(api_version, kind, namespace).await;
        api.get_opt(name)
            .await
            .unwrap()
            .map(|o| serde_json::to_value(o).unwrap())
    }

    pub async fn api(&self, api_version: &str, kind: &str, namespace: &str) -> Api<DynamicObject> {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let gvk = GroupVersionKind::gvk(group, version, kind);
        let (ar, caps) = kube::discovery::pinned_kind(&self.client, &gvk)
            .await
            .unwrap();
        if caps.scope == kube::discovery::Scope::Namespaced {
            Api::namespaced_with(self.client.clone(), namespace, &ar)
        } else {
            Api::all_with(self.client.clone(), &ar)
        }
    }

    pub async fn shutdown(self) {
        self.server.shutdown().await.unwrap();
    }
}

/// `["Kind/ns/name action", ...]` of a change set.
pub fn lines(set: &ChangeSet) -> Vec<String> {
    set.entries.iter().map(ToString::to_string).collect()
}

pub fn namespace(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
}

pub fn config_map(namespace: &str, name: &str, data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": name, "namespace": namespace}, "data": data})
}

pub fn deployment(namespace: &str, name: &str, replicas: i64, image: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": image, "ports": [{"containerPort": 8080}]}]}
            }
        }
    })
}

pub fn job(namespace: &str, name: &str, image: &str) -> Value {
    json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"template": {"spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "migrate", "image": image}]
        }}}
    })
}

pub const WIDGET_GROUP: &str = "example.com";

/// A namespaced CRD `widgets.example.com` with a status subresource.
pub fn widget_crd() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": WIDGET_GROUP,
            "names": {"kind": "Widget", "listKind": "WidgetList", "plural": "widgets", "singular": "widget"},
            "scope": "Namespaced",
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                    "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
                }}}
            }]
        }
    })
}

pub fn widget(namespace: &str, name: &str, size: i64) -> Value {
    json!({"apiVersion": "example.com/v1", "kind": "Widget",
           "metadata": {"name": name, "namespace": namespace}, "spec": {"size": size}})
}

pub fn widget_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(WIDGET_GROUP, "v1", "Widget"),
        "widgets",
    )
}

pub fn resource_version(object: &Value) -> String {
    object["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The names of the managers in `managedFields`, as `manager/operation`.
pub fn managers(object: &Value) -> Vec<String> {
    object["metadata"]["managedFields"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    format!(
                        "{}/{}",
                        e["manager"].as_str().unwrap_or(""),
                        e["operation"].as_str().unwrap_or("")
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}
