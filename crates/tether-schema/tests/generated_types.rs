//! Regenerates `src/generated/types.json` (the smd model of every built-in type) from the
//! Kubernetes OpenAPI document and fails when the committed file differs.
//! `TETHER_BLESS=1 cargo test -p tether-schema --test generated_types` rewrites it.

use std::path::PathBuf;

use serde_json::{Value, json};
use tether_schema::openapi::{KubeModel, convert_swagger};

fn swagger_path() -> PathBuf {
    std::env::var_os("TETHER_SWAGGER")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../../shared/kubernetes/swagger-1.36.json")
        })
}

/// Defaults of associative-list key fields. The published document drops `default`, but the
/// OpenAPI kube-apiserver builds from its Go types carries these `+default` markers
/// (k8s.io/api core/v1 types.go), and smd keys items that omit the field with them.
fn key_defaults() -> [(&'static str, &'static str, Value); 3] {
    [
        ("io.k8s.api.core.v1.ContainerPort", "protocol", json!("TCP")),
        ("io.k8s.api.core.v1.ServicePort", "protocol", json!("TCP")),
        ("io.k8s.api.core.v1.LocalObjectReference", "name", json!("")),
    ]
}

fn generate() -> KubeModel {
    let path = swagger_path();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read the Kubernetes OpenAPI document {}: {e} (set TETHER_SWAGGER)",
            path.display()
        )
    });
    let swagger: Value = serde_json::from_str(&text).expect("swagger is JSON");
    let mut model = convert_swagger(&swagger).expect("the OpenAPI document converts");
    for (ty, field, default) in key_defaults() {
        let def = model
            .types
            .iter_mut()
            .find(|t| t.name == ty)
            .unwrap_or_else(|| panic!("{ty} missing"));
        let f = def
            .atom
            .map
            .as_mut()
            .and_then(|m| m.fields.iter_mut().find(|f| f.name == field))
            .unwrap_or_else(|| panic!("{ty}.{field} missing"));
        f.default = Some(default);
    }
    model
}

#[test]
fn generated_types_match_the_openapi_document() {
    let model = generate();
    let rendered = serde_json::to_string(&model).unwrap() + "\n";
    let target = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/generated/types.json");
    if std::env::var_os("TETHER_BLESS").is_some() {
        std::fs::write(&target, &rendered).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&target).unwrap();
    assert!(
        committed == rendered,
        "src/generated/types.json is stale: run `TETHER_BLESS=1 cargo test -p tether-schema --test generated_types`"
    );
}
