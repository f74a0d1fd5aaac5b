//! Transformer configuration: which fields each built-in transformer touches (kustomize's
//! `builtinconfig.TransformerConfig`), from the built-in defaults merged with the
//! kustomization's `configurations:` files.

use serde::{Deserialize, Serialize};

use crate::fieldspec::{FieldSpec, merge_field_specs};

/// The fields of one referenced kind that other kinds use to refer to it by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
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

/// Field specs per transformer, as in a `configurations:` file.
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
    /// kustomize's built-in defaults.
    pub fn builtin() -> TransformerConfig {
        let mut config = crate::transform::defaults::builtin_field_specs();
        config.name_reference = crate::nameref::defaults::builtin_name_references();
        config.var_reference = crate::vars::builtin_var_references();
        config
    }

    /// Adds `other`'s specs to this one's, skipping duplicates (kustomize's `Merge`).
    pub fn merge(&mut self, other: &TransformerConfig) {
        merge_field_specs(&mut self.name_prefix, &other.name_prefix);
        merge_field_specs(&mut self.name_suffix, &other.name_suffix);
        merge_field_specs(&mut self.namespace, &other.namespace);
        merge_field_specs(&mut self.common_labels, &other.common_labels);
        merge_field_specs(&mut self.template_labels, &other.template_labels);
        merge_field_specs(&mut self.labels, &other.labels);
        merge_field_specs(&mut self.common_annotations, &other.common_annotations);
        merge_field_specs(&mut self.var_reference, &other.var_reference);
        merge_field_specs(&mut self.images, &other.images);
        merge_field_specs(&mut self.replicas, &other.replicas);
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
    }
}
