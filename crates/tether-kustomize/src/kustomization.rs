//! The kustomization file (`kustomization.yaml`, kind Kustomization or Component), read
//! strictly: unknown fields and wrong types are errors, as in kustomize.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::fieldspec::FieldSpec;
use crate::selector::Selector;

/// The file names kustomize recognizes, in its order.
pub const FILE_NAMES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

pub const KUSTOMIZATION_KIND: &str = "Kustomization";
pub const COMPONENT_KIND: &str = "Component";
pub const KUSTOMIZATION_VERSION: &str = "kustomize.config.k8s.io/v1beta1";
pub const COMPONENT_VERSION: &str = "kustomize.config.k8s.io/v1alpha1";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Kustomization {
    #[serde(default)]
    pub api_version: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub metadata: Option<Value>,
    #[serde(default, rename = "openapi")]
    pub open_api: BTreeMap<String, String>,
    #[serde(default)]
    pub name_prefix: String,
    #[serde(default)]
    pub name_suffix: String,
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub common_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub labels: Vec<Label>,
    #[serde(default)]
    pub common_annotations: BTreeMap<String, String>,
    #[serde(default)]
    pub patches_strategic_merge: Vec<String>,
    #[serde(default, rename = "patchesJson6902")]
    pub patches_json6902: Vec<Patch>,
    #[serde(default)]
    pub patches: Vec<Patch>,
    #[serde(default)]
    pub images: Vec<Value>,
    #[serde(default)]
    pub image_tags: Vec<Value>,
    #[serde(default)]
    pub replacements: Vec<Value>,
    #[serde(default)]
    pub replicas: Vec<Value>,
    #[serde(default)]
    pub vars: Vec<Value>,
    #[serde(default)]
    pub sort_options: Option<SortOptions>,
    #[serde(default)]
    pub resources: Vec<String>,
    #[serde(default)]
    pub crds: Vec<String>,
    #[serde(default)]
    pub bases: Vec<String>,
    #[serde(default)]
    pub components: Vec<String>,
    #[serde(default)]
    pub config_map_generator: Vec<GeneratorArgs>,
    #[serde(default)]
    pub secret_generator: Vec<GeneratorArgs>,
    #[serde(default)]
    pub helm_globals: Option<Value>,
    #[serde(default)]
    pub helm_charts: Vec<Value>,
    #[serde(default)]
    pub helm_chart_inflation_generator: Vec<Value>,
    #[serde(default)]
    pub generator_options: Option<GeneratorOptions>,
    #[serde(default)]
    pub configurations: Vec<String>,
    #[serde(default)]
    pub generators: Vec<String>,
    #[serde(default)]
    pub transformers: Vec<String>,
    #[serde(default)]
    pub validators: Vec<String>,
    #[serde(default)]
    pub build_metadata: Vec<String>,
    /// Deprecated fields present in the file (even empty), for kustomize's warnings.
    #[serde(skip)]
    pub deprecated_present: Vec<&'static str>,
}

/// Deprecated fields, their successors, and a note kustomize adds.
const DEPRECATED: [(&str, &str, &str); 6] = [
    ("bases", "resources", ""),
    ("commonLabels", "labels", ""),
    ("imageTags", "images", ""),
    ("patchesJson6902", "patches", ""),
    ("patchesStrategicMerge", "patches", ""),
    ("vars", "replacements", " [EXPERIMENTAL]"),
];

/// An entry of `labels:`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Label {
    #[serde(default)]
    pub pairs: BTreeMap<String, String>,
    #[serde(default)]
    pub include_selectors: bool,
    #[serde(default)]
    pub include_templates: bool,
    #[serde(default)]
    pub fields: Vec<FieldSpec>,
}

/// An entry of `patches:` or `patchesJson6902:`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Patch {
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub patch: String,
    #[serde(default)]
    pub target: Option<Selector>,
    #[serde(default)]
    pub options: BTreeMap<String, bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SortOptions {
    #[serde(default)]
    pub order: String,
    #[serde(default)]
    pub legacy_sort_options: Option<LegacySortOptions>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LegacySortOptions {
    #[serde(default)]
    pub order_first: Vec<String>,
    #[serde(default)]
    pub order_last: Vec<String>,
}

/// `configMapGenerator` and `secretGenerator` entries.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GeneratorArgs {
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub behavior: String,
    #[serde(default)]
    pub literals: Vec<String>,
    #[serde(default)]
    pub files: Vec<String>,
    #[serde(default)]
    pub envs: Vec<String>,
    /// Deprecated single `env`, folded into `envs`.
    #[serde(default)]
    pub env: String,
    #[serde(default)]
    pub options: Option<GeneratorOptions>,
    /// Secrets only.
    #[serde(default, rename = "type")]
    pub secret_type: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GeneratorOptions {
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    #[serde(default)]
    pub disable_name_suffix_hash: Option<bool>,
    #[serde(default)]
    pub immutable: bool,
}

impl GeneratorOptions {
    /// Entry options over the kustomization's `generatorOptions` (kustomize's
    /// `MergeGlobalOptionsIntoLocal`): maps are unioned with local values winning, the hash
    /// switch is local when set.
    pub fn merged(
        local: Option<&GeneratorOptions>,
        global: Option<&GeneratorOptions>,
    ) -> GeneratorOptions {
        let mut out = global.cloned().unwrap_or_default();
        if let Some(local) = local {
            out.labels.extend(local.labels.clone());
            out.annotations.extend(local.annotations.clone());
            // A global `disableNameSuffixHash: true` cannot be turned off per generator.
            if out.disable_name_suffix_hash != Some(true) {
                out.disable_name_suffix_hash = local.disable_name_suffix_hash;
            }
            out.immutable |= local.immutable;
        }
        out
    }
}

impl Kustomization {
    /// Parses a kustomization file's text; `path` names it in errors.
    pub fn parse(text: &str, path: &str) -> Result<Kustomization> {
        let value =
            tether_yaml::parse_document_last_key_wins(text).map_err(|error| Error::Yaml {
                path: path.to_owned(),
                error,
            })?;
        if value.is_null() {
            return Err(Error::msg("kustomization.yaml is empty"));
        }
        let mut value = value;
        canonicalize_keys(&mut value);
        let present: Vec<&'static str> = DEPRECATED
            .iter()
            .map(|(field, _, _)| *field)
            .filter(|f| value.get(f).is_some_and(|v| !v.is_null()))
            .collect();
        // kustomize renamed `imageTags` to `images` before reading.
        if let Some(map) = value.as_object_mut()
            && let Some(tags) = map.shift_remove("imageTags")
            && !map.contains_key("images")
        {
            map.insert("images".into(), tags);
        }
        let mut k: Kustomization =
            serde_json::from_value(value).map_err(|e| Error::Kustomization {
                message: format!("{e} in {path}"),
            })?;
        k.deprecated_present = present;
        Ok(k)
    }

    /// Deprecation warnings kustomize prints to stderr for this kustomization.
    pub fn deprecation_warnings(&self) -> Vec<String> {
        DEPRECATED
            .iter()
            .filter(|(field, _, _)| self.deprecated_present.contains(field))
            .map(|(field, successor, note)| {
                format!(
                    "# Warning: '{field}' is deprecated. Please use '{successor}' instead.{note} Run 'kustomize edit fix' to update your Kustomization automatically."
                )
            })
            .collect()
    }

    /// kustomize's `FixKustomization` and `EnforceFields`: defaults and deprecated fields folded
    /// into their successors, then the checks.
    pub fn fix_and_check(&mut self, root: &str) -> Result<()> {
        if self.kind.is_empty() {
            self.kind = KUSTOMIZATION_KIND.to_owned();
        }
        if self.api_version.is_empty() {
            self.api_version = if self.kind == COMPONENT_KIND {
                COMPONENT_VERSION.to_owned()
            } else {
                KUSTOMIZATION_VERSION.to_owned()
            };
        }
        let bases = std::mem::take(&mut self.bases);
        self.resources.extend(bases);
        for g in self
            .config_map_generator
            .iter_mut()
            .chain(self.secret_generator.iter_mut())
        {
            if !g.env.is_empty() {
                g.envs.push(std::mem::take(&mut g.env));
            }
        }
        let bare = Kustomization {
            api_version: self.api_version.clone(),
            kind: self.kind.clone(),
            deprecated_present: self.deprecated_present.clone(),
            ..Kustomization::default()
        };
        if *self == bare {
            return Err(Error::msg("kustomization.yaml is empty"));
        }
        let mut errs = Vec::new();
        if self.kind != KUSTOMIZATION_KIND && self.kind != COMPONENT_KIND {
            errs.push(format!(
                "kind should be {KUSTOMIZATION_KIND} or {COMPONENT_KIND}"
            ));
        }
        if self.kind == COMPONENT_KIND && self.api_version != COMPONENT_VERSION {
            errs.push(format!(
                "apiVersion for {COMPONENT_KIND} should be {COMPONENT_VERSION}"
            ));
        }
        if self.kind == KUSTOMIZATION_KIND && self.api_version != KUSTOMIZATION_VERSION {
            errs.push(format!(
                "apiVersion for {KUSTOMIZATION_KIND} should be {KUSTOMIZATION_VERSION}"
            ));
        }
        if let Some(sort) = &self.sort_options {
            match sort.order.as_str() {
                "legacy" => {}
                "fifo" => {
                    if sort.legacy_sort_options.is_some() {
                        errs.push(
                            "the field 'sortOptions.legacySortOptions' is set but the selected sort order is 'fifo', not 'legacy'"
                                .to_owned(),
                        );
                    }
                }
                _ => errs
                    .push("the field 'sortOptions.order' must be one of [fifo, legacy]".to_owned()),
            }
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(Error::msg(format!(
                "Failed to read kustomization file under {root}:\n{}",
                errs.join("\n")
            )))
        }
    }
}

/// The JSON names of the kustomization's fields, and of the fields of its nested objects.
const TOP_FIELDS: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "openapi",
    "namePrefix",
    "nameSuffix",
    "namespace",
    "commonLabels",
    "labels",
    "commonAnnotations",
    "patchesStrategicMerge",
    "patchesJson6902",
    "patches",
    "images",
    "imageTags",
    "replacements",
    "replicas",
    "vars",
    "sortOptions",
    "resources",
    "crds",
    "bases",
    "components",
    "configMapGenerator",
    "secretGenerator",
    "helmGlobals",
    "helmCharts",
    "helmChartInflationGenerator",
    "generatorOptions",
    "configurations",
    "generators",
    "transformers",
    "validators",
    "buildMetadata",
];
const GENERATOR_FIELDS: &[&str] = &[
    "namespace",
    "name",
    "behavior",
    "literals",
    "files",
    "envs",
    "env",
    "options",
    "type",
];
const OPTION_FIELDS: &[&str] = &[
    "labels",
    "annotations",
    "disableNameSuffixHash",
    "immutable",
];
const PATCH_FIELDS: &[&str] = &["path", "patch", "target", "options"];
const SELECTOR_FIELDS: &[&str] = &[
    "group",
    "version",
    "kind",
    "name",
    "namespace",
    "labelSelector",
    "annotationSelector",
];
const LABEL_FIELDS: &[&str] = &["pairs", "includeSelectors", "includeTemplates", "fields"];
const SORT_FIELDS: &[&str] = &["order", "legacySortOptions"];

/// Go's `encoding/json` matches field names case-insensitively (kustomize accepts
/// `nameprefix:`); rename such keys to their canonical spelling before strict reading.
fn canonicalize_keys(value: &mut Value) {
    rename(value, TOP_FIELDS);
    let Some(top) = value.as_object_mut() else {
        return;
    };
    for field in ["configMapGenerator", "secretGenerator"] {
        for g in top
            .get_mut(field)
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            rename(g, GENERATOR_FIELDS);
            if let Some(o) = g.get_mut("options") {
                rename(o, OPTION_FIELDS);
            }
        }
    }
    if let Some(o) = top.get_mut("generatorOptions") {
        rename(o, OPTION_FIELDS);
    }
    for field in ["patches", "patchesJson6902"] {
        for p in top
            .get_mut(field)
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            rename(p, PATCH_FIELDS);
            if let Some(t) = p.get_mut("target") {
                rename(t, SELECTOR_FIELDS);
            }
        }
    }
    for l in top
        .get_mut("labels")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        rename(l, LABEL_FIELDS);
    }
    if let Some(o) = top.get_mut("sortOptions") {
        rename(o, SORT_FIELDS);
    }
}

fn rename(value: &mut Value, names: &[&str]) {
    let Some(map) = value.as_object_mut() else {
        return;
    };
    let wrong: Vec<(String, &str)> = map
        .keys()
        .filter(|k| !names.contains(&k.as_str()))
        .filter_map(|k| {
            names
                .iter()
                .find(|n| n.eq_ignore_ascii_case(k))
                .map(|n| (k.clone(), *n))
        })
        .collect();
    for (from, to) in wrong {
        // An exact spelling present already wins, as in Go.
        if let Some(v) = map.shift_remove(&from)
            && !map.contains_key(to)
        {
            map.insert(to.to_owned(), v);
        }
    }
}
