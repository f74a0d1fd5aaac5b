//! Regenerates `src/generated/resources.json` from the Kubernetes OpenAPI document and fails when
//! the committed file differs. `TETHER_BLESS=1 cargo test -p tether-schema` rewrites it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;
use tether_schema::{BuiltinResource, Subresource, builtin_resources};

/// Short names and categories are not in the OpenAPI document: they come from each resource's
/// REST storage in kube-apiserver (`ShortNames()`, `Categories()`), as discovery on a 1.33
/// cluster shows them.
const ALIASES: &[(&str, &str, &[&str], &[&str])] = &[
    ("", "configmaps", &["cm"], &[]),
    ("", "endpoints", &["ep"], &[]),
    ("", "events", &["ev"], &[]),
    ("", "limitranges", &["limits"], &[]),
    ("", "namespaces", &["ns"], &[]),
    ("", "nodes", &["no"], &[]),
    ("", "persistentvolumeclaims", &["pvc"], &[]),
    ("", "persistentvolumes", &["pv"], &[]),
    ("", "pods", &["po"], &["all"]),
    ("", "replicationcontrollers", &["rc"], &["all"]),
    ("", "resourcequotas", &["quota"], &[]),
    ("", "serviceaccounts", &["sa"], &[]),
    ("", "services", &["svc"], &["all"]),
    ("apps", "daemonsets", &["ds"], &["all"]),
    ("apps", "deployments", &["deploy"], &["all"]),
    ("apps", "replicasets", &["rs"], &["all"]),
    ("apps", "statefulsets", &["sts"], &["all"]),
    (
        "autoscaling",
        "horizontalpodautoscalers",
        &["hpa"],
        &["all"],
    ),
    ("batch", "cronjobs", &["cj"], &["all"]),
    ("batch", "jobs", &[], &["all"]),
    (
        "certificates.k8s.io",
        "certificatesigningrequests",
        &["csr"],
        &[],
    ),
    ("events.k8s.io", "events", &["ev"], &[]),
    ("networking.k8s.io", "ingresses", &["ing"], &[]),
    ("networking.k8s.io", "networkpolicies", &["netpol"], &[]),
    ("networking.k8s.io", "ipaddresses", &["ip"], &[]),
    ("policy", "poddisruptionbudgets", &["pdb"], &[]),
    ("scheduling.k8s.io", "priorityclasses", &["pc"], &[]),
    ("storage.k8s.io", "storageclasses", &["sc"], &[]),
    ("storage.k8s.io", "volumeattributesclasses", &["vac"], &[]),
    (
        "apiextensions.k8s.io",
        "customresourcedefinitions",
        &["crd", "crds"],
        &["api-extensions"],
    ),
    (
        "apiregistration.k8s.io",
        "apiservices",
        &[],
        &["api-extensions"],
    ),
    (
        "admissionregistration.k8s.io",
        "mutatingwebhookconfigurations",
        &[],
        &["api-extensions"],
    ),
    (
        "admissionregistration.k8s.io",
        "validatingwebhookconfigurations",
        &[],
        &["api-extensions"],
    ),
    (
        "admissionregistration.k8s.io",
        "validatingadmissionpolicies",
        &[],
        &["api-extensions"],
    ),
    (
        "admissionregistration.k8s.io",
        "validatingadmissionpolicybindings",
        &[],
        &["api-extensions"],
    ),
    (
        "admissionregistration.k8s.io",
        "mutatingadmissionpolicies",
        &[],
        &["api-extensions"],
    ),
    (
        "admissionregistration.k8s.io",
        "mutatingadmissionpolicybindings",
        &[],
        &["api-extensions"],
    ),
];

/// Resources the document lists that the embedded control plane does not serve: deprecated
/// `componentstatuses` reports the health of processes that do not exist here, and the
/// internal storage-version API is not for clients.
const NOT_SERVED: &[(&str, &str)] = &[("", "componentstatuses")];

/// Subresources the embedded control plane implements.
const SERVED_SUBRESOURCES: &[&str] = &["status", "scale"];

fn swagger_path() -> PathBuf {
    std::env::var_os("TETHER_SWAGGER")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../../shared/kubernetes/swagger-1.36.json")
        })
}

fn is_stable(version: &str) -> bool {
    version
        .strip_prefix('v')
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn version_number(version: &str) -> u32 {
    version[1..].parse().unwrap_or(0)
}

type Gvk = (String, String, String);

#[derive(Default)]
struct Collected {
    kind: Option<Gvk>,
    namespaced: bool,
    verbs: Vec<String>,
    subresources: BTreeMap<String, (Gvk, Vec<String>)>,
    order: usize,
}

fn verb_of(method: &str, action: &str) -> Option<&'static str> {
    Some(match (method, action) {
        ("get", "get") => "get",
        ("get", "list") => "list",
        ("post", "post") => "create",
        ("put", "put") => "update",
        ("patch", "patch") => "patch",
        ("delete", "delete") => "delete",
        ("delete", "deletecollection") => "deletecollection",
        _ => return None,
    })
}

fn gvk_of(op: &Value) -> Option<Gvk> {
    let gvk = op.get("x-kubernetes-group-version-kind")?;
    Some((
        gvk.get("group")?.as_str()?.to_owned(),
        gvk.get("version")?.as_str()?.to_owned(),
        gvk.get("kind")?.as_str()?.to_owned(),
    ))
}

fn generate(swagger: &Value) -> Vec<BuiltinResource> {
    let paths = swagger["paths"].as_object().expect("swagger has paths");
    let mut collected: BTreeMap<(String, String, String), Collected> = BTreeMap::new();
    for (index, (path, ops)) in paths.iter().enumerate() {
        let (group, version, rest) = if let Some(rest) = path.strip_prefix("/api/v1/") {
            ("", "v1", rest)
        } else if let Some(rest) = path.strip_prefix("/apis/") {
            let mut parts = rest.splitn(3, '/');
            let (Some(g), Some(v), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
                continue;
            };
            (g, v, rest)
        } else {
            continue;
        };
        if !is_stable(version) || group == "internal.apiserver.k8s.io" || rest.starts_with("watch/")
        {
            continue;
        }
        let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
        let (namespaced, segments) = match segments.as_slice() {
            ["namespaces", "{namespace}", tail @ ..] if !tail.is_empty() => (true, tail.to_vec()),
            other => (false, other.to_vec()),
        };
        let (resource, subresource) = match segments.as_slice() {
            [resource] | [resource, "{name}"] => (*resource, None),
            [resource, "{name}", sub] => (*resource, Some(*sub)),
            _ => continue,
        };
        if NOT_SERVED.contains(&(group, resource)) {
            continue;
        }
        let entry = collected
            .entry((group.to_owned(), resource.to_owned(), version.to_owned()))
            .or_insert_with(|| Collected {
                order: index,
                ..Default::default()
            });
        for (method, op) in ops.as_object().expect("path item is an object") {
            let Some(action) = op.get("x-kubernetes-action").and_then(Value::as_str) else {
                continue;
            };
            let Some(verb) = verb_of(method, action) else {
                continue;
            };
            match subresource {
                None => {
                    entry.namespaced |= namespaced;
                    if entry.kind.is_none() {
                        entry.kind = gvk_of(op);
                    }
                    entry.verbs.push(verb.to_owned());
                    if verb == "list" {
                        entry.verbs.push("watch".to_owned());
                    }
                }
                Some(sub) if SERVED_SUBRESOURCES.contains(&sub) => {
                    let gvk = gvk_of(op).expect("subresource operation has a GVK");
                    let slot = entry
                        .subresources
                        .entry(sub.to_owned())
                        .or_insert((gvk, vec![]));
                    slot.1.push(verb.to_owned());
                }
                Some(_) => {}
            }
        }
    }

    // Serve one version per group/resource: the highest stable one (autoscaling/v2 for HPAs).
    let mut newest: BTreeMap<(String, String), (u32, String)> = BTreeMap::new();
    for (group, resource, version) in collected.keys() {
        let slot = newest
            .entry((group.clone(), resource.clone()))
            .or_insert((0, String::new()));
        if version_number(version) > slot.0 {
            *slot = (version_number(version), version.clone());
        }
    }

    let mut out: Vec<(usize, BuiltinResource)> = vec![];
    for ((group, resource, version), c) in collected {
        if newest[&(group.clone(), resource.clone())].1 != version {
            continue;
        }
        let mut verbs = c.verbs;
        verbs.sort();
        verbs.dedup();
        // Virtual resources (reviews, bindings) are create-only: nothing to store or list.
        if !(verbs.iter().any(|v| v == "get") && verbs.iter().any(|v| v == "list")) {
            continue;
        }
        let (_, _, kind) = c.kind.expect("a served resource has a kind");
        let (short_names, categories) = ALIASES
            .iter()
            .find(|(g, r, _, _)| *g == group && *r == resource)
            .map(|(_, _, s, c)| {
                (
                    s.iter().map(|s| s.to_string()).collect(),
                    c.iter().map(|s| s.to_string()).collect(),
                )
            })
            .unwrap_or_default();
        let subresources = c
            .subresources
            .into_iter()
            .map(|(name, ((group, version, kind), mut verbs))| {
                verbs.sort();
                verbs.dedup();
                Subresource {
                    name,
                    group,
                    version,
                    kind,
                    verbs,
                }
            })
            .collect();
        out.push((
            c.order,
            BuiltinResource {
                singular: kind.to_lowercase(),
                group,
                version,
                resource,
                kind,
                namespaced: c.namespaced,
                verbs,
                short_names,
                categories,
                subresources,
            },
        ));
    }
    out.sort_by_key(|(order, _)| *order);
    out.into_iter().map(|(_, r)| r).collect()
}

#[test]
fn generated_resources_match_the_openapi_document() {
    let path = swagger_path();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read the Kubernetes OpenAPI document {}: {e} (set TETHER_SWAGGER)",
            path.display()
        )
    });
    let swagger: Value = serde_json::from_str(&text).expect("swagger is JSON");
    let generated = generate(&swagger);
    let rendered = serde_json::to_string_pretty(&generated).unwrap() + "\n";
    let target = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/generated/resources.json");
    if std::env::var_os("TETHER_BLESS").is_some() {
        std::fs::write(&target, &rendered).unwrap();
        return;
    }
    assert!(
        builtin_resources() == generated.as_slice(),
        "src/generated/resources.json is stale: run `TETHER_BLESS=1 cargo test -p tether-schema --test generated_resources`"
    );
}

#[test]
fn table_holds_what_the_control_plane_must_serve() {
    let find = |group: &str, resource: &str| {
        builtin_resources()
            .iter()
            .find(|r| r.group == group && r.resource == resource)
            .unwrap_or_else(|| panic!("{group}/{resource} missing"))
    };
    let deployments = find("apps", "deployments");
    assert_eq!(deployments.kind, "Deployment");
    assert!(deployments.namespaced);
    assert_eq!(
        deployments.verbs,
        [
            "create",
            "delete",
            "deletecollection",
            "get",
            "list",
            "patch",
            "update",
            "watch"
        ]
    );
    assert_eq!(deployments.short_names, ["deploy"]);
    let scale = deployments
        .subresources
        .iter()
        .find(|s| s.name == "scale")
        .unwrap();
    assert_eq!(
        (scale.group.as_str(), scale.kind.as_str()),
        ("autoscaling", "Scale")
    );
    let namespaces = find("", "namespaces");
    assert!(!namespaces.namespaced);
    assert_eq!(
        find("autoscaling", "horizontalpodautoscalers").version,
        "v2"
    );
    assert!(!find("rbac.authorization.k8s.io", "clusterroles").namespaced);
    assert_eq!(
        find("apiextensions.k8s.io", "customresourcedefinitions").short_names,
        ["crd", "crds"]
    );
    assert!(
        !builtin_resources()
            .iter()
            .any(|r| r.resource == "tokenreviews" || r.resource == "bindings")
    );
}
