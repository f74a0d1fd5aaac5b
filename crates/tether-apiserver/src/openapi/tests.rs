use std::path::PathBuf;

use serde_json::{Value, json};

use super::*;

const SWAGGER: &str = "../../../shared/kubernetes/swagger-1.36.json";

fn widget_crd(version_schema: Value) -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "names": {"kind": "Widget", "listKind": "WidgetList", "plural": "widgets", "singular": "widget"},
            "scope": "Namespaced",
            "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": version_schema}}],
        },
    })
}

fn widget_schema(size_description: &str) -> Value {
    json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
        "size": {"type": "integer", "description": size_description},
    }}}})
}

fn install(registry: &Registry, crd: &Value) {
    registry.install_custom("widgets.example.com", crate::crd::resources(crd));
}

fn doc(api: &OpenApi, group: &str, version: &str) -> Value {
    let built = api.v3(group, version).unwrap();
    serde_json::from_slice(&built.json).unwrap()
}

#[test]
fn definitions_json_is_the_swagger_documents_definitions() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(SWAGGER);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let swagger: Value = serde_json::from_str(&text).unwrap();
    let wanted = swagger["definitions"].as_object().unwrap();
    if std::env::var_os("TETHER_BLESS").is_some() {
        let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/openapi/definitions.json");
        std::fs::write(&out, serde_json::to_string(wanted).unwrap() + "\n").unwrap();
        return;
    }
    assert!(
        &definitions::builtin().schemas == wanted,
        "src/openapi/definitions.json is stale: regenerate it with TETHER_BLESS=1"
    );
}

#[test]
fn root_lists_each_group_version_with_its_hash() {
    let api = OpenApi::new(Registry::with_builtins());
    let root = api.v3_root();
    let apps = root["paths"]["apis/apps/v1"]["serverRelativeURL"]
        .as_str()
        .unwrap();
    let hash = api.v3("apps", "v1").unwrap().hash.clone();
    assert_eq!(apps, format!("/openapi/v3/apis/apps/v1?hash={hash}"));
    assert!(root["paths"]["api/v1"]["serverRelativeURL"].is_string());
    // Every served group version has a document.
    for (group, version) in api.group_versions() {
        let path = document::gv_prefix(&group, &version);
        assert!(
            root["paths"].get(path.trim_start_matches('/')).is_some(),
            "{path} missing from the root"
        );
    }
}

#[test]
fn builtin_document_has_schemas_descriptions_and_patch_extensions() {
    let api = OpenApi::new(Registry::with_builtins());
    let apps = doc(&api, "apps", "v1");
    assert_eq!(apps["openapi"], "3.0.0");
    let schemas = &apps["components"]["schemas"];
    let deployment = &schemas["io.k8s.api.apps.v1.Deployment"];
    assert_eq!(
        deployment["x-kubernetes-group-version-kind"],
        json!([{"group": "apps", "kind": "Deployment", "version": "v1"}])
    );
    assert_eq!(
        deployment["properties"]["spec"]["$ref"],
        "#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec"
    );
    let replicas = &schemas["io.k8s.api.apps.v1.DeploymentSpec"]["properties"]["replicas"];
    assert_eq!(replicas["type"], "integer");
    assert!(
        replicas["description"]
            .as_str()
            .unwrap()
            .contains("desired pods")
    );
    // Referenced schemas come along (PodSpec through the template), unrelated ones do not.
    assert!(schemas.get("io.k8s.api.core.v1.PodSpec").is_some());
    assert!(schemas.get("io.k8s.api.batch.v1.Job").is_none());
    // No reference points outside the document.
    let mut refs = vec![];
    definitions::collect_refs(&apps, &mut refs);
    for r in refs {
        assert!(schemas.get(&r).is_some(), "dangling reference {r}");
    }
    let patch = &apps["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
    assert_eq!(
        patch["x-kubernetes-group-version-kind"],
        json!({"group": "apps", "kind": "Deployment", "version": "v1"})
    );
    let params: Vec<&str> = patch["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["in"] == "query")
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(params.contains(&"fieldValidation"), "{params:?}");
    assert!(
        patch["requestBody"]["content"]
            .get("application/strategic-merge-patch+json")
            .is_some()
    );
}

#[test]
fn crd_documents_follow_crd_changes() {
    let registry = Registry::with_builtins();
    let api = OpenApi::new(registry.clone());
    assert!(api.v3_root()["paths"].get("apis/example.com/v1").is_none());
    assert!(api.v3("example.com", "v1").is_none());

    install(&registry, &widget_crd(widget_schema("how big")));
    let root = api.v3_root();
    let first = root["paths"]["apis/example.com/v1"]["serverRelativeURL"]
        .as_str()
        .unwrap()
        .to_owned();
    let widgets = doc(&api, "example.com", "v1");
    let schemas = &widgets["components"]["schemas"];
    let widget = &schemas["com.example.v1.Widget"];
    assert_eq!(
        widget["x-kubernetes-group-version-kind"],
        json!([{"group": "example.com", "kind": "Widget", "version": "v1"}])
    );
    assert_eq!(
        widget["properties"]["metadata"]["$ref"],
        "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    );
    assert_eq!(
        widget["properties"]["spec"]["properties"]["size"]["description"],
        "how big"
    );
    assert!(
        schemas
            .get("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")
            .is_some()
    );
    let patch =
        &widgets["paths"]["/apis/example.com/v1/namespaces/{namespace}/widgets/{name}"]["patch"];
    assert_eq!(patch["x-kubernetes-group-version-kind"]["kind"], "Widget");
    assert!(
        patch["requestBody"]["content"]
            .get("application/strategic-merge-patch+json")
            .is_none()
    );

    // Same CRD reinstalled with another schema: new hash. Built-ins keep theirs.
    let apps = api.v3("apps", "v1").unwrap().hash.clone();
    install(&registry, &widget_crd(widget_schema("how large")));
    let second = api.v3_root()["paths"]["apis/example.com/v1"]["serverRelativeURL"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(first, second);
    assert_eq!(api.v3("apps", "v1").unwrap().hash, apps);
    assert_eq!(
        doc(&api, "example.com", "v1")["components"]["schemas"]["com.example.v1.Widget"]["properties"]
            ["spec"]["properties"]["size"]["description"],
        "how large"
    );

    registry.remove_custom("widgets.example.com");
    assert!(api.v3_root()["paths"].get("apis/example.com/v1").is_none());
    assert!(api.v3("example.com", "v1").is_none());
}

/// A minimal protobuf reader: the fields of one message as (number, payload) pairs, payloads of
/// length-delimited fields only (everything the checks below read).
fn fields(mut buf: &[u8]) -> Vec<(u32, &[u8])> {
    fn varint(buf: &mut &[u8]) -> u64 {
        let mut v = 0u64;
        let mut shift = 0;
        loop {
            let b = buf[0];
            *buf = &buf[1..];
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return v;
            }
            shift += 7;
        }
    }
    let mut out = vec![];
    while !buf.is_empty() {
        let key = varint(&mut buf);
        match key & 7 {
            0 => {
                varint(&mut buf);
            }
            1 => buf = &buf[8..],
            2 => {
                let len = varint(&mut buf) as usize;
                out.push(((key >> 3) as u32, &buf[..len]));
                buf = &buf[len..];
            }
            other => panic!("unexpected wire type {other}"),
        }
    }
    out
}

fn field(buf: &[u8], number: u32) -> Vec<&[u8]> {
    fields(buf)
        .into_iter()
        .filter(|(n, _)| *n == number)
        .map(|(_, v)| v)
        .collect()
}

fn text(buf: &[u8], number: u32) -> String {
    field(buf, number)
        .first()
        .map(|b| String::from_utf8(b.to_vec()).unwrap())
        .unwrap_or_default()
}

#[test]
fn v2_protobuf_carries_definitions_paths_and_patch_extensions() {
    let registry = Registry::with_builtins();
    install(&registry, &widget_crd(widget_schema("how big")));
    let api = OpenApi::new(registry);
    let built = api.v2();
    let bytes = proto::encode(built.value.as_ref().unwrap());
    assert_eq!(text(&bytes, 1), "2.0");

    // definitions (9) → NamedSchema (1) { name 1, Schema 2 }
    let definitions = field(&bytes, 9)[0];
    let named: Vec<&[u8]> = field(definitions, 1);
    let by_name = |name: &str| {
        named
            .iter()
            .find(|n| text(n, 1) == name)
            .map(|n| field(n, 2)[0])
            .unwrap_or_else(|| panic!("no definition {name}"))
    };
    let spec = by_name("io.k8s.api.apps.v1.DeploymentSpec");
    // properties (25) → NamedSchema (1)
    let replicas = field(field(spec, 25)[0], 1)
        .into_iter()
        .find(|n| text(n, 1) == "replicas")
        .map(|n| field(n, 2)[0])
        .unwrap();
    assert_eq!(text(field(replicas, 22)[0], 1), "integer");
    assert_eq!(text(replicas, 2), "int32");
    assert!(text(replicas, 4).contains("desired pods"));
    let widget = by_name("com.example.v1.Widget");
    let extension = field(widget, 31)
        .into_iter()
        .find(|n| text(n, 1) == "x-kubernetes-group-version-kind")
        .unwrap();
    let yaml: Value = serde_json::from_str(&text(field(extension, 2)[0], 2)).unwrap();
    assert_eq!(yaml[0]["kind"], "Widget");

    // paths (8) → NamedPathItem (2) { name 1, PathItem 2 { patch 8 } }
    let paths = field(field(&bytes, 8)[0], 2);
    let item = paths
        .iter()
        .find(|p| text(p, 1) == "/apis/example.com/v1/namespaces/{namespace}/widgets/{name}")
        .map(|p| field(p, 2)[0])
        .unwrap();
    let patch = field(item, 8)[0];
    let gvk = field(patch, 13)
        .into_iter()
        .find(|n| text(n, 1) == "x-kubernetes-group-version-kind")
        .unwrap();
    let gvk: Value = serde_json::from_str(&text(field(gvk, 2)[0], 2)).unwrap();
    assert_eq!(
        gvk,
        json!({"group": "example.com", "kind": "Widget", "version": "v1"})
    );
    // parameters (8) → ParametersItem { Parameter 1 { NonBodyParameter 2 { query 3 { name 4 } } } }
    let query_names: Vec<String> = field(patch, 8)
        .into_iter()
        .filter_map(|p| field(p, 1).first().copied())
        .filter_map(|p| field(p, 2).first().copied())
        .filter_map(|p| field(p, 3).first().copied())
        .map(|q| text(q, 4))
        .collect();
    assert!(
        query_names.contains(&"fieldValidation".to_owned()),
        "{query_names:?}"
    );
}

#[test]
fn digests_differ_with_content() {
    assert_eq!(digest(b"abc"), digest(b"abc"));
    assert_ne!(digest(b"abc"), digest(b"abd"));
    assert_eq!(digest(b"").len(), 32);
}

#[test]
fn every_builtin_patch_names_its_kind_and_takes_field_validation() {
    let registry = Registry::with_builtins();
    install(&registry, &widget_crd(widget_schema("how big")));
    let api = OpenApi::new(registry.clone());
    for (group, version) in api.group_versions() {
        let doc = doc(&api, &group, &version);
        let schemas = &doc["components"]["schemas"];
        let mut refs = vec![];
        definitions::collect_refs(&doc, &mut refs);
        for r in refs {
            assert!(
                schemas.get(&r).is_some(),
                "{group}/{version}: dangling reference {r}"
            );
        }
        for r in registry.resources_in(&group, &version) {
            if !r.has_verb("patch") {
                continue;
            }
            let kind = json!({"group": r.group, "kind": r.kind, "version": r.version});
            let patch = doc["paths"]
                .as_object()
                .unwrap()
                .values()
                .filter_map(|item| item.get("patch"))
                .find(|op| op["x-kubernetes-group-version-kind"] == kind)
                .unwrap_or_else(|| panic!("{group}/{version} {}: no patch operation", r.kind));
            assert!(
                patch["parameters"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|p| p["name"] == "fieldValidation" && p["in"] == "query"),
                "{group}/{version} {}: patch takes no fieldValidation",
                r.kind
            );
            let schema = schemas.as_object().unwrap().values().find(|s| {
                s["x-kubernetes-group-version-kind"]
                    .as_array()
                    .is_some_and(|l| l.contains(&kind))
            });
            assert!(schema.is_some(), "{group}/{version} {}: no schema", r.kind);
        }
    }
}

#[test]
fn v2_document_references_only_its_definitions() {
    let registry = Registry::with_builtins();
    install(&registry, &widget_crd(widget_schema("how big")));
    let api = OpenApi::new(registry);
    let built = api.v2();
    let doc = built.value.as_ref().unwrap();
    let mut refs = vec![];
    definitions::collect_refs(doc, &mut refs);
    for r in refs {
        assert!(
            doc["definitions"].get(&r).is_some(),
            "dangling reference {r}"
        );
    }
}
