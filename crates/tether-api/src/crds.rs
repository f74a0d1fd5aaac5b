//! The CustomResourceDefinitions of the APIs tether serves, generated from the Rust types.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;
use serde_json::Value;

use crate::{GitRepository, Kustomization, Receiver};

/// The CRDs, in a stable order: GitRepository, Kustomization, Receiver.
pub fn crds() -> Vec<CustomResourceDefinition> {
    vec![
        tidy(GitRepository::crd()),
        tidy(Kustomization::crd()),
        tidy(Receiver::crd()),
    ]
}

/// [`crds`] as one YAML stream (what `crates/tether-api/crds/crds.yaml` holds).
pub fn crds_yaml() -> String {
    crds()
        .iter()
        .map(|crd| {
            let value = serde_json::to_value(crd).unwrap_or(Value::Null);
            tether_yaml::to_yaml(&value)
        })
        .collect::<Vec<_>>()
        .join("---\n")
}

/// Brings the derived CRD closer to Flux's: no `nullable` (Flux's schemas have none), and the
/// status defaulted to `{observedGeneration: -1}` like Flux's.
fn tidy(crd: CustomResourceDefinition) -> CustomResourceDefinition {
    let Ok(mut value) = serde_json::to_value(&crd) else {
        return crd;
    };
    if let Some(versions) = value
        .pointer_mut("/spec/versions")
        .and_then(Value::as_array_mut)
    {
        for version in versions {
            if let Some(schema) = version.pointer_mut("/schema/openAPIV3Schema") {
                strip_nullable(schema);
                if let Some(status) = schema.pointer_mut("/properties/status")
                    && let Some(map) = status.as_object_mut()
                {
                    map.insert(
                        "default".into(),
                        serde_json::json!({"observedGeneration": -1}),
                    );
                }
            }
        }
    }
    serde_json::from_value(value).unwrap_or(crd)
}

fn strip_nullable(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            map.shift_remove("nullable");
            for v in map.values_mut() {
                strip_nullable(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip_nullable),
        _ => {}
    }
}
