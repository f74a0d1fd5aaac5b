//! Transformer configuration: which fields each built-in transformer touches (kustomize's
//! `builtinconfig.TransformerConfig`), from the built-in defaults merged with the
//! kustomization's `configurations:` files.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::fieldspec::{FieldSpec, merge_field_specs, try_merge_field_specs};
use crate::transform::defaults::sort_field_specs;

/// The fields of one referenced kind that other kinds use to refer to it by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NameBackReferences {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub group: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// Where referrers hold the name (the `kind` of each spec is the referrer's kind).
    #[serde(default, rename = "fieldSpecs")]
    pub referrers: Vec<FieldSpec>,
}

/// Field specs per transformer, as in a `configurations:` file (read strictly: an unknown key
/// is an error, as in kustomize).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TransformerConfig {
    #[serde(default)]
    pub name_prefix: Vec<FieldSpec>,
    #[serde(default)]
    pub name_suffix: Vec<FieldSpec>,
    #[serde(default)]
    pub namespace: Vec<FieldSpec>,
    #[serde(default)]
    pub common_labels: Vec<FieldSpec>,
    #[serde(default)]
    pub template_labels: Vec<FieldSpec>,
    /// Extra field specs for every `labels:` entry (not for `commonLabels`).
    #[serde(default)]
    pub labels: Vec<FieldSpec>,
    #[serde(default)]
    pub common_annotations: Vec<FieldSpec>,
    #[serde(default)]
    pub name_reference: Vec<NameBackReferences>,
    #[serde(default)]
    pub var_reference: Vec<FieldSpec>,
    #[serde(default)]
    pub images: Vec<FieldSpec>,
    #[serde(default)]
    pub replicas: Vec<FieldSpec>,
}

impl TransformerConfig {
    /// kustomize's built-in defaults, built once per process (every kustomization level
    /// merges them).
    pub fn builtin() -> &'static TransformerConfig {
        static BUILTIN: std::sync::LazyLock<TransformerConfig> = std::sync::LazyLock::new(|| {
            let mut config = crate::transform::defaults::builtin_field_specs();
            config.name_reference = crate::nameref::defaults::builtin_name_references();
            config.var_reference = crate::vars::builtin_var_references();
            config
        });
        &BUILTIN
    }

    /// Adds `other`'s specs to this one's (kustomize's `TransformerConfig.Merge`): a spec this
    /// one already has (same path, selected by the incoming GVK) is skipped, one that differs
    /// only in `create` is an error, and every list is sorted by GVK afterwards. Because of the
    /// sort, a spec for all kinds can lose to a kind-specific spec of the same path merged
    /// earlier, as in kustomize.
    pub fn merge(&mut self, other: &TransformerConfig) -> Result<()> {
        let lists: [(&str, &mut Vec<FieldSpec>, &Vec<FieldSpec>); 10] = [
            ("NamePrefix", &mut self.name_prefix, &other.name_prefix),
            ("NameSuffix", &mut self.name_suffix, &other.name_suffix),
            ("NameSpace", &mut self.namespace, &other.namespace),
            (
                "CommonLabels",
                &mut self.common_labels,
                &other.common_labels,
            ),
            (
                "TemplateLabels",
                &mut self.template_labels,
                &other.template_labels,
            ),
            ("Labels", &mut self.labels, &other.labels),
            (
                "CommonAnnotations",
                &mut self.common_annotations,
                &other.common_annotations,
            ),
            (
                "VarReference",
                &mut self.var_reference,
                &other.var_reference,
            ),
            ("Images", &mut self.images, &other.images),
            ("Replicas", &mut self.replicas, &other.replicas),
        ];
        for (name, mine, theirs) in lists {
            try_merge_field_specs(mine, theirs)
                .map_err(|e| e.context(format!("failed to merge {name} fieldSpec")))?;
            sort_field_specs(mine);
        }
        for back in &other.name_reference {
            match self
                .name_reference
                .iter_mut()
                .find(|b| b.group == back.group && b.version == back.version && b.kind == back.kind)
            {
                Some(existing) => merge_field_specs(&mut existing.referrers, &back.referrers),
                None => self.name_reference.push(back.clone()),
            }
        }
        Ok(())
    }
}
