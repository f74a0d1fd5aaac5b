//! The annotations transformer (kustomize's `AnnotationsTransformer`): `commonAnnotations:` or an
//! `AnnotationsTransformer` entry of `transformers:`. Works as the label transformer does: each
//! annotation goes, as a string, into every map the field specs name (by default
//! `metadata/annotations` and the pod templates of workloads), created where missing.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::config::TransformerConfig;
use crate::error::{Error, Result};
use crate::fieldspec::{LenientFieldSpec, from_lenient};
use crate::resmap::ResMap;
use crate::transform::Transformer;
use crate::transform::labels::MapEntries;

/// Adds annotations to the maps its field specs name.
#[derive(Debug, Clone)]
pub struct AnnotationsTransformer {
    entries: MapEntries,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PluginConfig {
    #[serde(default)]
    annotations: Option<BTreeMap<String, String>>,
    #[serde(default)]
    field_specs: Option<Vec<LenientFieldSpec>>,
}

impl AnnotationsTransformer {
    /// A kustomization's `commonAnnotations:` with the configuration's `commonAnnotations` specs.
    pub fn common_annotations(
        annotations: &BTreeMap<String, String>,
        tc: &TransformerConfig,
    ) -> Self {
        AnnotationsTransformer {
            entries: MapEntries::new(annotations, tc.common_annotations.clone()),
        }
    }

    /// An `AnnotationsTransformer` of `transformers:` (`annotations`, `fieldSpecs`).
    pub fn from_plugin_config(config: &Value, _tc: &TransformerConfig) -> Result<Self> {
        let c: PluginConfig = serde_json::from_value(config.clone())
            .map_err(|e| Error::msg(format!("unmarshalling AnnotationsTransformer config: {e}")))?;
        Ok(AnnotationsTransformer {
            entries: MapEntries::new(
                &c.annotations.unwrap_or_default(),
                from_lenient(c.field_specs).unwrap_or_default(),
            ),
        })
    }
}

impl Transformer for AnnotationsTransformer {
    fn transform(&self, resources: &mut ResMap) -> Result<()> {
        self.entries.apply(resources)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::Resource;
    use crate::transform::defaults::builtin_field_specs;
    use serde_json::json;

    #[test]
    fn common_annotations_reach_pod_templates() {
        let annotations: BTreeMap<String, String> =
            [("team".to_owned(), "a".to_owned())].into_iter().collect();
        let t = AnnotationsTransformer::common_annotations(&annotations, &builtin_field_specs());
        let mut m = ResMap {
            resources: vec![
                Resource::new(json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
                    "metadata": {"name": "s", "annotations": {"team": "old", "x": "y"}},
                    "spec": {"volumeClaimTemplates": [{"metadata": {"name": "v"}}]}})),
                Resource::new(
                    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc"},
                    "spec": {"template": {}}}),
                ),
            ],
        };
        t.transform(&mut m).unwrap();
        let s = &m.resources[0].object;
        assert_eq!(s["metadata"]["annotations"], json!({"team": "a", "x": "y"}));
        assert_eq!(
            s["spec"]["template"]["metadata"]["annotations"],
            json!({"team": "a"})
        );
        assert!(
            s["spec"]["volumeClaimTemplates"][0]["metadata"]
                .get("annotations")
                .is_none()
        );
        let svc = &m.resources[1].object;
        assert_eq!(svc["metadata"]["annotations"], json!({"team": "a"}));
        assert_eq!(svc["spec"]["template"], json!({}));
    }

    #[test]
    fn plugin_without_annotations_changes_nothing() {
        let t = AnnotationsTransformer::from_plugin_config(
            &json!({"kind": "AnnotationsTransformer", "fieldSpecs": [{"path": "metadata/annotations", "create": true}]}),
            &TransformerConfig::default(),
        )
        .unwrap();
        let before = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc"}});
        let mut m = ResMap {
            resources: vec![Resource::new(before.clone())],
        };
        t.transform(&mut m).unwrap();
        assert_eq!(m.resources[0].object, before);
    }
}
