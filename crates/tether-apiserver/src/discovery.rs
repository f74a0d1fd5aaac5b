//! Discovery documents: `/version`, `/api`, `/apis`, per-group-version resource lists, and
//! aggregated discovery (`apidiscovery.k8s.io` v2 and v2beta1), all computed from the registry so
//! CRDs appear and disappear with it.

use serde_json::{Value, json};

use crate::registry::{Registry, Resource, api_version};

/// The Kubernetes version the control plane reports. kubectl's dispatcher on our machines picks
/// its binary by this minor, and clients gate features on it.
pub const KUBERNETES_MAJOR: &str = "1";
pub const KUBERNETES_MINOR: &str = "33";

pub fn version() -> Value {
    json!({
        "major": KUBERNETES_MAJOR,
        "minor": KUBERNETES_MINOR,
        "emulationMajor": KUBERNETES_MAJOR,
        "emulationMinor": KUBERNETES_MINOR,
        "minCompatibilityMajor": KUBERNETES_MAJOR,
        "minCompatibilityMinor": "32",
        "gitVersion": format!("v{KUBERNETES_MAJOR}.{KUBERNETES_MINOR}.0"),
        "gitCommit": concat!("tether-", env!("CARGO_PKG_VERSION")),
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "tether (rust)",
        "compiler": "rustc",
        "platform": format!("{}/{}", std::env::consts::OS, go_arch()),
    })
}

fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// `/api`: the legacy group's versions.
pub fn legacy_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    })
}

fn group_json(group: &str, versions: &[String]) -> Value {
    let entries: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": api_version(group, v), "version": v}))
        .collect();
    json!({
        "name": group,
        "versions": entries,
        "preferredVersion": entries.first().cloned().unwrap_or(Value::Null),
    })
}

/// `/apis`: every named group.
pub fn group_list(registry: &Registry) -> Value {
    let groups: Vec<Value> = registry
        .groups()
        .into_iter()
        .filter(|g| !g.group.is_empty())
        .map(|g| group_json(&g.group, &g.versions))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/<group>`.
pub fn group(registry: &Registry, name: &str) -> Option<Value> {
    registry
        .groups()
        .into_iter()
        .find(|g| g.group == name && !name.is_empty())
        .map(|g| {
            let mut doc = group_json(&g.group, &g.versions);
            doc["kind"] = "APIGroup".into();
            doc["apiVersion"] = "v1".into();
            doc
        })
}

fn subresource_verbs() -> Value {
    json!(["get", "patch", "update"])
}

/// `namespaces/finalize`, which only the core Namespace resource has (update only).
fn has_finalize(r: &Resource) -> bool {
    r.origin.is_builtin() && r.group.is_empty() && r.resource == "namespaces"
}

/// The `APIResource` entries of one resource: itself, then its subresources.
fn api_resources(r: &Resource) -> Vec<Value> {
    let mut main = json!({
        "name": r.resource,
        "singularName": r.singular,
        "namespaced": r.namespaced,
        "kind": r.kind,
        "verbs": r.verbs,
    });
    if !r.short_names.is_empty() {
        main["shortNames"] = json!(r.short_names);
    }
    if !r.categories.is_empty() {
        main["categories"] = json!(r.categories);
    }
    let mut out = vec![main];
    if has_finalize(r) {
        out.push(json!({
            "name": format!("{}/finalize", r.resource),
            "singularName": "",
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": ["update"],
        }));
    }
    if r.scale.is_some() {
        out.push(json!({
            "name": format!("{}/scale", r.resource),
            "singularName": "",
            "namespaced": r.namespaced,
            "group": "autoscaling",
            "version": "v1",
            "kind": "Scale",
            "verbs": subresource_verbs(),
        }));
    }
    if r.status_subresource {
        out.push(json!({
            "name": format!("{}/status", r.resource),
            "singularName": "",
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": subresource_verbs(),
        }));
    }
    out
}

/// `/api/v1`, `/apis/<group>/<version>`.
pub fn resource_list(registry: &Registry, group: &str, version: &str) -> Option<Value> {
    let resources = registry.resources_in(group, version);
    if resources.is_empty() {
        return None;
    }
    let entries: Vec<Value> = resources.iter().flat_map(|r| api_resources(r)).collect();
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": api_version(group, version),
        "resources": entries,
    }))
}

fn aggregated_resource(r: &Resource) -> Value {
    let mut entry = json!({
        "resource": r.resource,
        "responseKind": {"group": "", "version": "", "kind": r.kind},
        "scope": if r.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": r.singular,
        "verbs": r.verbs,
    });
    if !r.short_names.is_empty() {
        entry["shortNames"] = json!(r.short_names);
    }
    if !r.categories.is_empty() {
        entry["categories"] = json!(r.categories);
    }
    let mut subresources = vec![];
    if has_finalize(r) {
        subresources.push(json!({
            "subresource": "finalize",
            "responseKind": {"group": "", "version": "", "kind": r.kind},
            "verbs": ["update"],
        }));
    }
    if r.scale.is_some() {
        subresources.push(json!({
            "subresource": "scale",
            "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"},
            "verbs": subresource_verbs(),
        }));
    }
    if r.status_subresource {
        subresources.push(json!({
            "subresource": "status",
            "responseKind": {"group": "", "version": "", "kind": r.kind},
            "verbs": subresource_verbs(),
        }));
    }
    if !subresources.is_empty() {
        entry["subresources"] = Value::Array(subresources);
    }
    entry
}

/// Aggregated discovery for `/api` (`legacy`) or `/apis`, in `apidiscovery.k8s.io/<version>`.
pub fn aggregated(registry: &Registry, legacy: bool, discovery_version: &str) -> Value {
    let items: Vec<Value> = registry
        .groups()
        .into_iter()
        .filter(|g| g.group.is_empty() == legacy)
        .map(|g| {
            let versions: Vec<Value> = g
                .versions
                .iter()
                .map(|v| {
                    let resources: Vec<Value> = registry
                        .resources_in(&g.group, v)
                        .iter()
                        .map(|r| aggregated_resource(r))
                        .collect();
                    json!({"version": v, "resources": resources, "freshness": "Current"})
                })
                .collect();
            json!({"metadata": {"name": g.group, "creationTimestamp": null}, "versions": versions})
        })
        .collect();
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": format!("apidiscovery.k8s.io/{discovery_version}"),
        "metadata": {},
        "items": items,
    })
}

/// The `Content-Type` of an aggregated discovery response.
pub fn aggregated_content_type(discovery_version: &str) -> String {
    format!("application/json;g=apidiscovery.k8s.io;v={discovery_version};as=APIGroupDiscoveryList")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apps_v1_lists_subresources() {
        let registry = Registry::with_builtins();
        let doc = resource_list(&registry, "apps", "v1").unwrap();
        let names: Vec<&str> = doc["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        assert!(names.contains(&"deployments"));
        assert!(names.contains(&"deployments/status"));
        assert!(names.contains(&"deployments/scale"));
        assert!(resource_list(&registry, "apps", "v9").is_none());
    }

    #[test]
    fn namespaces_list_their_finalize_subresource() {
        let registry = Registry::with_builtins();
        let doc = resource_list(&registry, "", "v1").unwrap();
        let finalize = doc["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "namespaces/finalize")
            .unwrap();
        assert_eq!(finalize["verbs"], json!(["update"]));
        assert_eq!(finalize["kind"], "Namespace");
        let apps = resource_list(&registry, "apps", "v1").unwrap();
        assert!(
            !apps["resources"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["name"].as_str().unwrap().ends_with("/finalize"))
        );
    }

    #[test]
    fn aggregated_core_group_has_empty_name() {
        let registry = Registry::with_builtins();
        let doc = aggregated(&registry, true, "v2");
        assert_eq!(doc["items"].as_array().unwrap().len(), 1);
        assert_eq!(doc["items"][0]["metadata"]["name"], "");
        let apis = aggregated(&registry, false, "v2beta1");
        assert_eq!(apis["apiVersion"], "apidiscovery.k8s.io/v2beta1");
        assert!(
            apis["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|g| g["metadata"]["name"] == "apps")
        );
    }
}
