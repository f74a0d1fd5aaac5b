//! Name prefixes and suffixes (kustomize's `PrefixTransformer`, `SuffixTransformer` and
//! `PrefixSuffixTransformer`): `namePrefix:` and `nameSuffix:` of a kustomization (two
//! transformers, prefix first), or those kinds in `transformers:`.
//!
//! CustomResourceDefinitions, APIServices and Namespaces keep their names. For each other
//! resource and each field spec selecting its original GVK: a `metadata/name` spec records the
//! affixes on the resource (name references and the hash suffix read them) and, when an affix is
//! not empty, the current id as a previous one; then the field gets `prefix + value + suffix`.

use serde::Deserialize;
use serde_json::Value;

use crate::config::TransformerConfig;
use crate::error::{Error, Result};
use crate::fieldspec::{
    CreateKind, FieldSpec, LenientFieldSpec, apply_field_spec, from_lenient, scalar_text,
    set_scalar_keeping_style, wrong_node_kind,
};
use crate::resmap::ResMap;
use crate::resource::Gvk;
use crate::transform::Transformer;

/// Adds a prefix and/or a suffix to the fields its field specs name.
#[derive(Debug, Clone)]
pub struct PrefixSuffixTransformer {
    prefix: String,
    suffix: String,
    field_specs: Vec<FieldSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PluginConfig {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    prefix: String,
    #[serde(default)]
    suffix: String,
    #[serde(default)]
    field_specs: Option<Vec<LenientFieldSpec>>,
}

const META_NAME: &str = "metadata/name";

impl PrefixSuffixTransformer {
    /// A kustomization's `namePrefix:` with the configuration's `namePrefix` field specs; `None`
    /// when empty (kustomize adds no transformer then).
    pub fn prefix(prefix: &str, tc: &TransformerConfig) -> Option<Self> {
        (!prefix.is_empty()).then(|| PrefixSuffixTransformer {
            prefix: prefix.to_owned(),
            suffix: String::new(),
            field_specs: tc.name_prefix.clone(),
        })
    }

    /// A kustomization's `nameSuffix:` with the configuration's `nameSuffix` field specs; `None`
    /// when empty. kustomize runs it after the prefix transformer, as a separate step (the
    /// name between the two is recorded as a previous id).
    pub fn suffix(suffix: &str, tc: &TransformerConfig) -> Option<Self> {
        (!suffix.is_empty()).then(|| PrefixSuffixTransformer {
            prefix: String::new(),
            suffix: suffix.to_owned(),
            field_specs: tc.name_suffix.clone(),
        })
    }

    /// A `PrefixSuffixTransformer` (`prefix`, `suffix`), `PrefixTransformer` (`prefix`) or
    /// `SuffixTransformer` (`suffix`) of `transformers:`, by the config's `kind`. `fieldSpecs`
    /// is required; the configuration's specs do not apply.
    pub fn from_plugin_config(config: &Value, _tc: &TransformerConfig) -> Result<Self> {
        let c: PluginConfig = serde_json::from_value(config.clone())
            .map_err(|e| Error::msg(format!("unmarshalling {} config: {e}", kind_of(config))))?;
        let field_specs = from_lenient(c.field_specs)
            .ok_or_else(|| Error::msg("fieldSpecs is not expected to be nil"))?;
        let (prefix, suffix) = match c.kind.as_str() {
            "PrefixTransformer" => (c.prefix, String::new()),
            "SuffixTransformer" => (String::new(), c.suffix),
            _ => (c.prefix, c.suffix),
        };
        Ok(PrefixSuffixTransformer {
            prefix,
            suffix,
            field_specs,
        })
    }

    fn affix(&self, v: &mut Value) -> Result<()> {
        let text = scalar_text(v).ok_or_else(|| wrong_node_kind("ScalarNode", v))?;
        set_scalar_keeping_style(v, format!("{}{text}{}", self.prefix, self.suffix));
        Ok(())
    }
}

fn kind_of(config: &Value) -> &str {
    config
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("PrefixSuffixTransformer")
}

/// Kinds whose names never get affixes (any group for CRDs and Namespaces).
fn skipped(gvk: &Gvk) -> bool {
    gvk.kind == "CustomResourceDefinition"
        || gvk.kind == "Namespace"
        || (gvk.kind == "APIService" && gvk.group == "apiregistration.k8s.io")
}

impl Transformer for PrefixSuffixTransformer {
    fn transform(&self, resources: &mut ResMap) -> Result<()> {
        let renames = !self.prefix.is_empty() || !self.suffix.is_empty();
        for r in resources.iter_mut() {
            // kustomize selects by the original id, but walks fields by the current GVK.
            let org_gvk = match r.previous_ids.first() {
                Some(id) => id.gvk.clone(),
                None => r.gvk(),
            };
            if skipped(&org_gvk) {
                continue;
            }
            let gvk = r.gvk();
            for spec in &self.field_specs {
                if !spec.applies_to(&org_gvk) {
                    continue;
                }
                if spec.path == META_NAME {
                    if !self.prefix.is_empty() {
                        r.prefixes.push(self.prefix.clone());
                    }
                    if !self.suffix.is_empty() {
                        r.suffixes.push(self.suffix.clone());
                    }
                    if renames {
                        r.store_previous_id();
                    }
                }
                apply_field_spec(&mut r.object, &gvk, spec, CreateKind::Scalar, &mut |v| {
                    self.affix(v)
                })?;
            }
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

    fn resmap(objects: Vec<Value>) -> ResMap {
        ResMap {
            resources: objects.into_iter().map(Resource::new).collect(),
        }
    }

    #[test]
    fn prefix_then_suffix_records_affixes_and_ids() {
        let tc = builtin_field_specs();
        let mut m = resmap(vec![
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}}),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns"}}),
            json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "a.b"}}),
        ]);
        PrefixSuffixTransformer::prefix("p-", &tc)
            .unwrap()
            .transform(&mut m)
            .unwrap();
        PrefixSuffixTransformer::suffix("-s", &tc)
            .unwrap()
            .transform(&mut m)
            .unwrap();
        let cm = &m.resources[0];
        assert_eq!(cm.name(), "p-cm-s");
        assert_eq!(cm.prefixes, ["p-"]);
        assert_eq!(cm.suffixes, ["-s"]);
        let names: Vec<&str> = cm.previous_ids.iter().map(|id| id.name.as_str()).collect();
        assert_eq!(names, ["cm", "p-cm"]);
        assert_eq!(m.resources[1].name(), "ns");
        assert_eq!(m.resources[2].name(), "a.b");
        assert!(m.resources[1].previous_ids.is_empty());
    }

    #[test]
    fn empty_affixes_make_no_transformer() {
        let tc = builtin_field_specs();
        assert!(PrefixSuffixTransformer::prefix("", &tc).is_none());
        assert!(PrefixSuffixTransformer::suffix("", &tc).is_none());
    }

    #[test]
    fn plugin_forms() {
        let tc = TransformerConfig::default();
        let t = PrefixSuffixTransformer::from_plugin_config(
            &json!({"kind": "PrefixSuffixTransformer", "prefix": "a-", "suffix": "-z",
                    "fieldSpecs": [{"path": "metadata/name"}, {"kind": "Foo", "path": "spec/ref"}]}),
            &tc,
        )
        .unwrap();
        let mut m = resmap(vec![
            json!({"apiVersion": "x/v1", "kind": "Foo", "metadata": {"name": "f"}, "spec": {"ref": "r"}}),
        ]);
        t.transform(&mut m).unwrap();
        assert_eq!(m.resources[0].object["metadata"]["name"], "a-f-z");
        assert_eq!(m.resources[0].object["spec"]["ref"], "a-r-z");

        let t = PrefixSuffixTransformer::from_plugin_config(
            &json!({"kind": "SuffixTransformer", "prefix": "ignored-", "suffix": "-z",
                    "fieldSpecs": [{"path": "metadata/name"}]}),
            &tc,
        )
        .unwrap();
        let mut m = resmap(vec![
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}),
        ]);
        t.transform(&mut m).unwrap();
        assert_eq!(m.resources[0].name(), "s-z");

        let err = PrefixSuffixTransformer::from_plugin_config(
            &json!({"kind": "PrefixTransformer", "prefix": "a-"}),
            &tc,
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "fieldSpecs is not expected to be nil");
    }

    #[test]
    fn numeric_names_keep_their_type() {
        let tc = builtin_field_specs();
        let mut m = resmap(vec![
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": 123}}),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "456"}}),
        ]);
        PrefixSuffixTransformer::suffix("0", &tc)
            .unwrap()
            .transform(&mut m)
            .unwrap();
        assert_eq!(m.resources[0].object["metadata"]["name"], json!(1230));
        assert_eq!(m.resources[1].object["metadata"]["name"], json!("4560"));
    }
}
