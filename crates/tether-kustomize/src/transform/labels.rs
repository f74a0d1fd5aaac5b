//! The label transformer (kustomize's `LabelTransformer` and `filters/labels`): `commonLabels:`,
//! each entry of `labels:`, or a `LabelTransformer` entry of `transformers:`.
//!
//! Every label goes, as a string, into each map its field specs name, replacing a label of the
//! same key. A missing map is created when the spec says `create`; an existing null map is left
//! alone unless created. Which specs apply:
//! - `commonLabels`: the configuration's `commonLabels` (metadata, selectors, templates);
//! - a `labels:` entry: its `fields`, the configuration's `labels`, then with `includeSelectors`
//!   the `commonLabels` specs, else (`includeTemplates` adding the `templateLabels` specs) just
//!   `metadata/labels`. A spec given twice with different `create` is an error.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::config::TransformerConfig;
use crate::error::{Error, Result};
use crate::fieldspec::{
    CreateKind, FieldSpec, LenientFieldSpec, apply_field_spec, from_lenient, try_merge_field_specs,
    wrong_node_kind,
};
use crate::resmap::ResMap;
use crate::shared_scalars::{creation_mark, resolve_creation_marks};
use crate::transform::Transformer;

/// Adds labels to the maps its field specs name.
#[derive(Debug, Clone)]
pub struct LabelTransformer {
    entries: MapEntries,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PluginConfig {
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    field_specs: Option<Vec<LenientFieldSpec>>,
}

impl LabelTransformer {
    /// A kustomization's `commonLabels:` with the configuration's `commonLabels` specs.
    pub fn common_labels(labels: &BTreeMap<String, String>, tc: &TransformerConfig) -> Self {
        LabelTransformer {
            entries: MapEntries::new(labels, tc.common_labels.clone()),
        }
    }

    /// One entry of a kustomization's `labels:`. `config_labels` is the configuration's
    /// `labels:` list of field specs (`configurations:` files may have one; it applies to every
    /// `labels:` entry and not to `commonLabels`).
    pub fn labels_entry(
        pairs: &BTreeMap<String, String>,
        include_selectors: bool,
        include_templates: bool,
        fields: &[FieldSpec],
        config_labels: &[FieldSpec],
        tc: &TransformerConfig,
    ) -> Result<Self> {
        let merge_err = |e: Error| e.context("failed to merge labels");
        let mut specs = fields.to_vec();
        try_merge_field_specs(&mut specs, config_labels).map_err(merge_err)?;
        if include_selectors {
            try_merge_field_specs(&mut specs, &tc.common_labels).map_err(merge_err)?;
        } else {
            if include_templates {
                try_merge_field_specs(&mut specs, &tc.template_labels)
                    .map_err(|e| e.context("failed to merge template fieldSpec"))?;
            }
            try_merge_field_specs(&mut specs, &[FieldSpec::new("metadata/labels", true)])
                .map_err(merge_err)?;
        }
        Ok(LabelTransformer {
            entries: MapEntries::new(pairs, specs),
        })
    }

    /// A `LabelTransformer` of `transformers:` (`labels`, `fieldSpecs`).
    pub fn from_plugin_config(config: &Value, _tc: &TransformerConfig) -> Result<Self> {
        let c: PluginConfig = serde_json::from_value(config.clone())
            .map_err(|e| Error::msg(format!("unmarshalling LabelTransformer config: {e}")))?;
        Ok(LabelTransformer {
            entries: MapEntries::new(
                &c.labels.unwrap_or_default(),
                from_lenient(c.field_specs).unwrap_or_default(),
            ),
        })
    }
}

impl Transformer for LabelTransformer {
    fn transform(&self, resources: &mut ResMap) -> Result<()> {
        self.entries.apply(resources)
    }
}

/// String entries set into maps at field specs: the shared work of the label and annotation
/// transformers.
#[derive(Debug, Clone)]
pub(crate) struct MapEntries {
    /// Sorted by key, as kustomize sets them.
    pairs: Vec<(String, Value)>,
    field_specs: Vec<FieldSpec>,
}

impl MapEntries {
    pub(crate) fn new(pairs: &BTreeMap<String, String>, field_specs: Vec<FieldSpec>) -> Self {
        MapEntries {
            pairs: pairs
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
            field_specs,
        }
    }

    /// Sets every pair into the map `v`. A key the map lacks gets a creation mark, so `apply`
    /// can record the fields that share its value (see [`crate::shared_scalars`]).
    fn set(&self, v: &mut Value, created: &mut bool) -> Result<()> {
        match v {
            // Only reached for a null that was not to be created: kustomize leaves it.
            Value::Null => Ok(()),
            Value::Object(map) => {
                for (index, (k, val)) in self.pairs.iter().enumerate() {
                    match map.get_mut(k) {
                        Some(slot) => *slot = val.clone(),
                        None => {
                            map.insert(k.clone(), creation_mark(index));
                            *created = true;
                        }
                    }
                }
                Ok(())
            }
            other => Err(wrong_node_kind("MappingNode", other)),
        }
    }

    pub(crate) fn apply(&self, resources: &mut ResMap) -> Result<()> {
        if self.pairs.is_empty() {
            return Ok(());
        }
        let values: Vec<Value> = self.pairs.iter().map(|(_, v)| v.clone()).collect();
        for r in resources.iter_mut() {
            let gvk = r.gvk();
            let mut created = false;
            for spec in &self.field_specs {
                apply_field_spec(&mut r.object, &gvk, spec, CreateKind::Map, &mut |v| {
                    self.set(v, &mut created)
                })?;
            }
            let new_groups = if created {
                resolve_creation_marks(&mut r.object, &values)
            } else {
                Vec::new()
            };
            r.propagate_shared_scalars();
            r.shared_scalars.extend(new_groups);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::Resource;
    use crate::transform::defaults::builtin_field_specs;
    use serde_json::json;

    fn pairs(p: &[(&str, &str)]) -> BTreeMap<String, String> {
        p.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn run(t: &LabelTransformer, objects: Vec<Value>) -> Result<Vec<Value>> {
        let mut m = ResMap {
            resources: objects.into_iter().map(Resource::new).collect(),
        };
        t.transform(&mut m)?;
        Ok(m.into_iter().map(|r| r.object).collect())
    }

    fn deployment() -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "labels": {"app": "old"}},
               "spec": {"template": {"spec": {}}}})
    }

    #[test]
    fn common_labels_reach_selectors_and_templates() {
        let t = LabelTransformer::common_labels(&pairs(&[("app", "web")]), &builtin_field_specs());
        let out = run(&t, vec![deployment()]).unwrap();
        assert_eq!(out[0]["metadata"]["labels"], json!({"app": "web"}));
        assert_eq!(
            out[0]["spec"]["selector"]["matchLabels"],
            json!({"app": "web"})
        );
        assert_eq!(
            out[0]["spec"]["template"]["metadata"]["labels"],
            json!({"app": "web"})
        );
    }

    #[test]
    fn labels_entry_modes() {
        let tc = builtin_field_specs();
        let plain =
            LabelTransformer::labels_entry(&pairs(&[("a", "1")]), false, false, &[], &[], &tc)
                .unwrap();
        let out = run(&plain, vec![deployment()]).unwrap();
        assert_eq!(
            out[0]["metadata"]["labels"],
            json!({"app": "old", "a": "1"})
        );
        assert!(out[0]["spec"].get("selector").is_none());
        assert!(out[0]["spec"]["template"].get("metadata").is_none());

        let templates =
            LabelTransformer::labels_entry(&pairs(&[("a", "1")]), false, true, &[], &[], &tc)
                .unwrap();
        let out = run(&templates, vec![deployment()]).unwrap();
        assert_eq!(
            out[0]["spec"]["template"]["metadata"]["labels"],
            json!({"a": "1"})
        );
        assert!(out[0]["spec"].get("selector").is_none());
    }

    #[test]
    fn labels_entry_conflicts() {
        let tc = builtin_field_specs();
        let no_create = [FieldSpec::new("metadata/labels", false)];
        let err = LabelTransformer::labels_entry(&pairs(&[]), false, false, &no_create, &[], &tc)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "failed to merge labels: conflicting fieldspecs"
        );
        let err = LabelTransformer::labels_entry(&pairs(&[]), false, true, &no_create, &[], &tc)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "failed to merge template fieldSpec: conflicting fieldspecs"
        );
        let err = LabelTransformer::labels_entry(&pairs(&[]), true, false, &no_create, &[], &tc)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "failed to merge labels: conflicting fieldspecs"
        );
    }

    #[test]
    fn null_maps_are_created_only_when_allowed() {
        let t = LabelTransformer::common_labels(&pairs(&[("a", "b")]), &builtin_field_specs());
        let out = run(
            &t,
            vec![
                json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                        "metadata": {"name": "n", "labels": null},
                        "spec": {"podSelector": {"matchLabels": null}}}),
            ],
        )
        .unwrap();
        assert_eq!(out[0]["metadata"]["labels"], json!({"a": "b"}));
        assert_eq!(out[0]["spec"]["podSelector"]["matchLabels"], Value::Null);
    }

    #[test]
    fn labels_on_a_scalar_are_an_error() {
        let t = LabelTransformer::common_labels(&pairs(&[("a", "b")]), &builtin_field_specs());
        let err = run(
            &t,
            vec![
                json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
                        "spec": {"selector": "x"}}),
            ],
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("considering field 'spec/selector' of object Service.v1.[noGrp]/s.[noNs]: wrong node kind: expected MappingNode but got ScalarNode"), "{err}");
    }

    #[test]
    fn plugin_config() {
        let t = LabelTransformer::from_plugin_config(
            &json!({"apiVersion": "builtin", "kind": "LabelTransformer", "metadata": {"name": "x"},
                    "labels": {"k": "v"}, "fieldSpecs": [{"path": "spec/extra", "create": true}]}),
            &TransformerConfig::default(),
        )
        .unwrap();
        let out = run(&t, vec![json!({"kind": "Foo", "metadata": {"name": "f"}})]).unwrap();
        assert_eq!(out[0]["spec"]["extra"], json!({"k": "v"}));
        assert!(out[0]["metadata"].get("labels").is_none());
    }
}
