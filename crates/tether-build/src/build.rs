//! The build proper: kustomize on the prepared tree, then the post-build steps.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use tether_api::KustomizationSpec;

use crate::artifact::{Artifact, BuildFs};
use crate::error::Error;
use crate::generate::prepare;
use crate::substitute::substitute_object;

/// Switches of the build that are controller flags in Flux, not Kustomization fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct BuildOptions {
    /// Fail on `${var}` without a value or default (Flux's `StrictPostBuildSubstitutions`
    /// feature gate; off by default there too).
    pub strict_substitution: bool,
}

/// The output of kustomize for one artifact and the kustomize-related spec fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Kustomized {
    /// The objects in kustomize's output order.
    pub objects: Vec<Value>,
    /// kustomize's warnings (deprecated fields, …).
    pub warnings: Vec<String>,
}

/// The objects to apply.
#[derive(Debug, Clone, PartialEq)]
pub struct Built {
    /// In kustomize's output order, substituted, with the common metadata.
    pub objects: Arc<Vec<Value>>,
    /// `sha256:<hex>` of the objects as a kustomize YAML stream: equal objects, equal digest.
    pub digest: String,
    /// kustomize's warnings, and fields of the spec tether accepts but ignores.
    pub warnings: Arc<Vec<String>>,
}

/// Runs kustomize on `spec.path` of the artifact (steps 1–4 of the crate docs).
pub fn kustomize(artifact: &Arc<Artifact>, spec: &KustomizationSpec) -> Result<Kustomized, Error> {
    let prepared = prepare(artifact, spec)?;
    let fs = BuildFs {
        artifact: artifact.clone(),
        overlay: BTreeMap::from([(prepared.path(), prepared.yaml.clone().into_bytes())]),
    };
    let dir = PathBuf::from(format!("/{}", prepared.dir));
    // Flux builds with no load restrictions inside the artifact and, here, no remote bases.
    let options = tether_kustomize::BuildOptions {
        load_restrictor: tether_kustomize::LoadRestrictor::None,
        remote: None,
    };
    let output = tether_kustomize::build(Arc::new(fs), &dir, &options)
        .map_err(|e| Error::Kustomize(e.to_string()))?;
    let objects: Vec<Value> = output
        .resources
        .resources
        .into_iter()
        .map(|r| r.object)
        .collect();
    for object in &objects {
        let has = |p: &str| {
            object
                .pointer(p)
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty())
        };
        if !(has("/apiVersion") && has("/kind") && has("/metadata/name")) {
            return Err(Error::ObjectIdentity(object.to_string()));
        }
    }
    Ok(Kustomized {
        objects,
        warnings: output.warnings,
    })
}

/// Substitutes variables (when `spec.postBuild` is set and `vars` is not empty, as in Flux)
/// and sets `spec.commonMetadata` on every object (step 5–6 of the crate docs).
pub fn post_build(
    kustomized: &Kustomized,
    spec: &KustomizationSpec,
    vars: &BTreeMap<String, String>,
    options: &BuildOptions,
) -> Result<Built, Error> {
    let substitute = spec.post_build.is_some() && !vars.is_empty();
    let mut objects = Vec::with_capacity(kustomized.objects.len());
    for object in &kustomized.objects {
        let mut object = if substitute {
            substitute_object(object, vars, options.strict_substitution)?
        } else {
            object.clone()
        };
        if let Some(common) = &spec.common_metadata {
            set_metadata(&mut object, "labels", &common.labels);
            set_metadata(&mut object, "annotations", &common.annotations);
        }
        objects.push(object);
    }
    let mut warnings = kustomized.warnings.clone();
    if spec.decryption.is_some() {
        warnings.push(
            "spec.decryption is not supported yet: Secrets are applied as they are built".into(),
        );
    }
    let digest = digest(&objects);
    Ok(Built {
        objects: Arc::new(objects),
        digest,
        warnings: Arc::new(warnings),
    })
}

/// [`kustomize`] then [`post_build`].
pub fn build(
    artifact: &Arc<Artifact>,
    spec: &KustomizationSpec,
    vars: &BTreeMap<String, String>,
    options: &BuildOptions,
) -> Result<Built, Error> {
    post_build(&kustomize(artifact, spec)?, spec, vars, options)
}

/// Labels or annotations override equal keys (Flux's `SetCommonMetadata`).
fn set_metadata(object: &mut Value, field: &str, values: &BTreeMap<String, String>) {
    if values.is_empty() {
        return;
    }
    let Some(root) = object.as_object_mut() else {
        return;
    };
    let meta = root
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(meta) = meta.as_object_mut() else {
        return;
    };
    let slot = meta
        .entry(field)
        .or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    if let Some(map) = slot.as_object_mut() {
        for (k, v) in values {
            map.insert(k.clone(), Value::String(v.clone()));
        }
    }
}

/// `sha256:<hex>` of the objects printed as `kustomize build` prints them.
pub fn digest(objects: &[Value]) -> String {
    let mut hasher = Sha256::new();
    for (i, object) in objects.iter().enumerate() {
        if i > 0 {
            hasher.update(b"---\n");
        }
        hasher.update(tether_yaml::to_yaml(object).as_bytes());
    }
    format!("sha256:{:x}", hasher.finalize())
}
