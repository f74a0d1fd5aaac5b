//! The `crds:` field: OpenAPI definitions of custom kinds (in the `{name: {Schema: ...}}` form
//! kustomize reads) whose `x-kubernetes-*` markers extend the transformer configuration, so
//! name references, labels, annotations and prefixes reach into custom resources.

use serde_json::{Map, Value};

use crate::config::{NameBackReferences, TransformerConfig};
use crate::error::{Error, Result};
use crate::fieldspec::{FieldSpec, merge_field_specs};
use crate::loader::Loader;

/// The configuration the CRD definition files add.
pub fn config_from_crds(loader: &Loader, paths: &[String]) -> Result<TransformerConfig> {
    let mut config = TransformerConfig::default();
    for path in paths {
        let bytes = loader.load(path)?;
        let text = String::from_utf8_lossy(&bytes);
        let doc = tether_yaml::parse_document(&text).map_err(|error| Error::Yaml {
            path: path.clone(),
            error,
        })?;
        let Value::Object(defs) = doc else {
            return Err(Error::msg(format!(
                "{path}: expected a map of OpenAPI definitions"
            )));
        };
        for (name, def) in &defs {
            // Kinds are the definitions other definitions do not merely describe: every
            // definition is walked as a possible kind, as kustomize does.
            let kind = name.rsplit('.').next().unwrap_or(name);
            walk(&defs, def, kind, "", &mut config, 0)?;
        }
    }
    Ok(config)
}

fn walk(
    defs: &Map<String, Value>,
    def: &Value,
    kind: &str,
    path: &str,
    config: &mut TransformerConfig,
    depth: usize,
) -> Result<()> {
    // Definitions may refer to each other in cycles; kustomize's data never nests this deep.
    if depth > 32 {
        return Ok(());
    }
    let Some(props) = def
        .pointer("/Schema/properties")
        .or_else(|| def.get("properties"))
        .and_then(Value::as_object)
    else {
        return Ok(());
    };
    for (prop, schema) in props {
        let field_path = if path.is_empty() {
            prop.clone()
        } else {
            format!("{path}/{prop}")
        };
        let spec = |p: String| FieldSpec {
            kind: kind.to_owned(),
            path: p,
            ..FieldSpec::default()
        };
        if schema.get("x-kubernetes-annotation").is_some() {
            merge_field_specs(&mut config.common_annotations, &[spec(field_path.clone())]);
        }
        if schema.get("x-kubernetes-label-selector").is_some() {
            merge_field_specs(&mut config.common_labels, &[spec(field_path.clone())]);
        }
        if schema.get("x-kubernetes-identity").is_some() {
            merge_field_specs(&mut config.name_prefix, &[spec(field_path.clone())]);
        }
        if let (Some(Value::String(version)), Some(Value::String(ref_kind))) = (
            schema.get("x-kubernetes-object-ref-api-version"),
            schema.get("x-kubernetes-object-ref-kind"),
        ) {
            let (group, version) = match version.split_once('/') {
                Some((g, v)) => (g.to_owned(), v.to_owned()),
                None => (String::new(), version.clone()),
            };
            let back = NameBackReferences {
                group,
                version,
                kind: ref_kind.clone(),
                referrers: vec![spec(format!("{field_path}/name"))],
            };
            let mut extra = TransformerConfig::default();
            extra.name_reference.push(back);
            config.merge(&extra)?;
        }
        if let Some(Value::String(reference)) = schema.get("$ref")
            && let Some(target) = defs.get(reference)
        {
            walk(defs, target, kind, &field_path, config, depth + 1)?;
        }
    }
    Ok(())
}
