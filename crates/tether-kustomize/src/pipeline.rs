//! The transformer and generator stages of one kustomization level, in kustomize's order,
//! and the built-in plugins that `generators:`, `transformers:` and `validators:` configure.

use std::borrow::Cow;

use serde_json::Value;

use crate::accumulate::{Accumulator, Target, resources_from_bytes};
use crate::config::TransformerConfig;
use crate::error::{Error, Result};
use crate::generators::{GeneratedKind, generate};
use crate::kustomization::GeneratorArgs;
use crate::patches::{PatchTransformer, json6902_entry, strategic_merge_entries};
use crate::replacements::ReplacementTransformer;
use crate::resmap::ResMap;
use crate::resource::Resource;
use crate::transform::Transformer;
use crate::transform::annotations::AnnotationsTransformer;
use crate::transform::images::{ImageTagTransformer, parse_images};
use crate::transform::labels::LabelTransformer;
use crate::transform::namespace::NamespaceTransformer;
use crate::transform::prefix_suffix::PrefixSuffixTransformer;
use crate::transform::replicas::{ReplicaCountTransformer, parse_replicas};

/// The built-in transformers configured by kustomization fields, in kustomize's order, then
/// `transformers:` entries, then `validators:` (kustomize's `runTransformers` and
/// `runValidators`).
pub fn run_transformers(target: &Target, acc: &mut Accumulator) -> Result<()> {
    let k = &target.kustomization;
    let tc = acc.config.clone();
    let mut steps: Vec<(Cow<'static, str>, Box<dyn Transformer>)> = Vec::new();
    let schema = target.current_schema();
    for t in strategic_merge_entries(&target.loader, &k.patches_strategic_merge, &schema)? {
        steps.push(("PatchStrategicMergeTransformer".into(), Box::new(t)));
    }
    for p in &k.patches {
        let t = PatchTransformer::new(
            &target.loader,
            &p.path,
            &p.patch,
            p.target.clone(),
            &p.options,
            schema.clone(),
        )?;
        steps.push(("PatchTransformer".into(), Box::new(t)));
    }
    if let Some(t) = NamespaceTransformer::new(&k.namespace, &tc) {
        steps.push(("NamespaceTransformer".into(), Box::new(t)));
    }
    if let Some(t) = PrefixSuffixTransformer::prefix(&k.name_prefix, &tc) {
        steps.push(("PrefixTransformer".into(), Box::new(t)));
    }
    if let Some(t) = PrefixSuffixTransformer::suffix(&k.name_suffix, &tc) {
        steps.push(("SuffixTransformer".into(), Box::new(t)));
    }
    for label in &k.labels {
        let t = LabelTransformer::labels_entry(
            &label.pairs,
            label.include_selectors,
            label.include_templates,
            &label.fields,
            &tc.labels,
            &tc,
        )?;
        steps.push(("LabelTransformer".into(), Box::new(t)));
    }
    if !k.common_labels.is_empty() {
        steps.push((
            "LabelTransformer".into(),
            Box::new(LabelTransformer::common_labels(&k.common_labels, &tc)),
        ));
    }
    if !k.common_annotations.is_empty() {
        steps.push((
            "AnnotationsTransformer".into(),
            Box::new(AnnotationsTransformer::common_annotations(
                &k.common_annotations,
                &tc,
            )),
        ));
    }
    for p in &k.patches_json6902 {
        let t = json6902_entry(&target.loader, p.target.clone(), &p.path, &p.patch)?;
        steps.push(("PatchJson6902Transformer".into(), Box::new(t)));
    }
    for replica in parse_replicas(&k.replicas)? {
        steps.push((
            "ReplicaCountTransformer".into(),
            Box::new(ReplicaCountTransformer::new(replica, &tc)),
        ));
    }
    for image in parse_images(&k.images)? {
        steps.push((
            "ImageTagTransformer".into(),
            Box::new(ImageTagTransformer::new(image, &tc)),
        ));
    }
    if !k.replacements.is_empty() {
        let fields = k
            .replacements
            .iter()
            .map(|v| serde_json::from_value(v.clone()))
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| Error::Kustomization {
                message: format!("replacements: {e}"),
            })?;
        let t = ReplacementTransformer::from_fields(fields, &mut |p| load_text(target, p))?;
        steps.push(("ReplacementTransformer".into(), Box::new(t)));
    }
    for (config, _) in plugin_configs(target, &k.transformers)? {
        let kind = builtin_kind(&config)?.to_owned();
        let t = if let Some(t) = patch_from_plugin(target, &config, &kind, &schema)? {
            t
        } else if kind == "ReplacementTransformer" {
            Box::new(ReplacementTransformer::from_plugin_config(
                &config,
                &mut |p| load_text(target, p),
            )?)
        } else {
            transformer_from_plugin(&config, &kind, &tc)?
        };
        steps.push((kind.into(), t));
    }
    for (kind, step) in steps {
        step.transform(&mut acc.resources)?;
        acc.resources
            .iter_mut()
            .for_each(Resource::propagate_shared_scalars);
        target.record_transformation(acc, &kind);
    }
    // kustomize has no built-in validators: every validator is an external plugin.
    if let Some((config, _)) = plugin_configs(target, &k.validators)?.first() {
        let kind = config.get("kind").and_then(Value::as_str).unwrap_or("");
        return Err(Error::msg(format!(
            "validators: {kind} is an external plugin; tether runs no external plugins"
        )));
    }
    Ok(())
}

/// A file of the kustomization's directory, as text (replacement `path:` entries).
fn load_text(target: &Target, path: &str) -> Result<String> {
    let bytes = target.loader.load(path)?;
    String::from_utf8(bytes).map_err(|_| Error::msg(format!("{path}: not valid UTF-8")))
}

/// The patch transformers of `transformers:` entries: PatchTransformer (`path`, `patch`,
/// `target`, `options`), PatchJson6902Transformer (`target`, `path`, `jsonOp`) and
/// PatchStrategicMergeTransformer (`paths`, `patches`).
fn patch_from_plugin(
    target: &Target,
    config: &Value,
    kind: &str,
    schema: &crate::patch::PatchSchema,
) -> Result<Option<Box<dyn Transformer>>> {
    let text = |field: &str| {
        config
            .get(field)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let selector = || -> Result<Option<crate::selector::Selector>> {
        match config.get("target") {
            None | Some(Value::Null) => Ok(None),
            Some(t) => serde_json::from_value(t.clone())
                .map(Some)
                .map_err(|e| Error::msg(format!("{kind}: invalid target: {e}"))),
        }
    };
    let t: Box<dyn Transformer> = match kind {
        "PatchTransformer" => {
            let options: std::collections::BTreeMap<String, bool> = match config.get("options") {
                Some(o) if !o.is_null() => serde_json::from_value(o.clone())
                    .map_err(|e| Error::msg(format!("{kind}: invalid options: {e}")))?,
                _ => Default::default(),
            };
            Box::new(PatchTransformer::new(
                &target.loader,
                &text("path"),
                &text("patch"),
                selector()?,
                &options,
                schema.clone(),
            )?)
        }
        "PatchJson6902Transformer" => Box::new(json6902_entry(
            &target.loader,
            selector()?,
            &text("path"),
            &text("jsonOp"),
        )?),
        "PatchStrategicMergeTransformer" => {
            let mut entries: Vec<String> = config
                .get("paths")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|p| p.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            let inline = text("patches");
            if !inline.trim().is_empty() {
                entries.push(inline);
            }
            if entries.is_empty() {
                return Err(Error::msg(
                    "PatchStrategicMergeTransformer: empty file path and empty patch content",
                ));
            }
            let all = strategic_merge_entries(&target.loader, &entries, schema)?;
            Box::new(Sequence(all))
        }
        _ => return Ok(None),
    };
    Ok(Some(t))
}

/// Several transformers run as one step.
#[derive(Debug)]
struct Sequence<T>(Vec<T>);

impl<T: Transformer> Transformer for Sequence<T> {
    fn transform(&self, resources: &mut ResMap) -> Result<()> {
        self.0.iter().try_for_each(|t| t.transform(resources))
    }
}

/// A built-in transformer configured by a `transformers:` entry.
fn transformer_from_plugin(
    config: &Value,
    kind: &str,
    tc: &TransformerConfig,
) -> Result<Box<dyn Transformer>> {
    let t: Box<dyn Transformer> = match kind {
        "NamespaceTransformer" => Box::new(NamespaceTransformer::from_plugin_config(config, tc)?),
        "PrefixSuffixTransformer" | "PrefixTransformer" | "SuffixTransformer" => {
            Box::new(PrefixSuffixTransformer::from_plugin_config(config, tc)?)
        }
        "LabelTransformer" => Box::new(LabelTransformer::from_plugin_config(config, tc)?),
        "AnnotationsTransformer" => {
            Box::new(AnnotationsTransformer::from_plugin_config(config, tc)?)
        }
        "ImageTagTransformer" => Box::new(ImageTagTransformer::from_plugin_config(config, tc)?),
        "ReplicaCountTransformer" => {
            Box::new(ReplicaCountTransformer::from_plugin_config(config, tc)?)
        }
        other => {
            return Err(Error::msg(format!(
                "{other} is not a built-in transformer tether knows; tether runs no external plugins"
            )));
        }
    };
    Ok(t)
}

/// The configs of `generators:`/`transformers:`/`validators:` entries: each entry is inline
/// YAML of one or more configs, or a path to a file (or a kustomization directory) holding them.
/// Each config comes with the file it was read from (`None` when inline).
pub fn plugin_configs(target: &Target, entries: &[String]) -> Result<Vec<(Value, Option<String>)>> {
    let mut configs = Vec::new();
    let mut paths = Vec::new();
    for entry in entries {
        match resources_from_bytes(entry.as_bytes(), "inline plugin config") {
            Ok(inline) if !inline.is_empty() => {
                configs.extend(inline.into_iter().map(|r| (r.object, None)));
            }
            _ => paths.push(entry.clone()),
        }
    }
    for path in paths {
        let resources: ResMap = match target.loader.load(&path) {
            Ok(bytes) => resources_from_bytes(&bytes, &path)?,
            Err(file_err) => {
                let child = target
                    .loader
                    .child(&path)
                    .map_err(|e| e.context(format!("accumulation err='{file_err}'")))?;
                let mut warnings = Vec::new();
                crate::accumulate::accumulate_directory(
                    Accumulator::new(),
                    child,
                    false,
                    None,
                    target.remote.clone(),
                    target.schema.clone(),
                    &mut warnings,
                )?
                .resources
            }
        };
        configs.extend(
            resources
                .into_iter()
                .map(|r| (r.object, Some(path.clone()))),
        );
    }
    Ok(configs)
}

/// The kind of a built-in plugin config; other API versions are external plugins, which
/// tether does not run.
pub fn builtin_kind(config: &Value) -> Result<&str> {
    let api_version = config
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    let kind = config.get("kind").and_then(Value::as_str).unwrap_or("");
    if api_version == "builtin" {
        Ok(kind)
    } else {
        Err(Error::msg(format!(
            "plugin {kind}.{api_version} is not a built-in plugin: tether runs no external (exec, Go or container) plugins"
        )))
    }
}

/// Runs the `generators:` entries of a kustomization.
pub fn run_generator_entries(
    target: &Target,
    acc: &mut Accumulator,
    entries: &[String],
) -> Result<()> {
    for (config, source) in plugin_configs(target, entries)? {
        let kind = builtin_kind(&config)?;
        let generated = match kind {
            "ConfigMapGenerator" => GeneratedKind::ConfigMap,
            "SecretGenerator" => GeneratedKind::Secret,
            "IAMPolicyGenerator" => {
                let mut r = crate::generators::iam_policy_service_account(&config)?;
                let plugin_name = config
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                r.origin = target.plugin_origin(kind, plugin_name, source.as_deref());
                acc.absorb(r)
                    .map_err(|e| e.context(format!("merging from generator {kind}")))?;
                continue;
            }
            other => {
                return Err(Error::msg(format!(
                    "{other} is not a built-in generator (ConfigMapGenerator, SecretGenerator, IAMPolicyGenerator)"
                )));
            }
        };
        let args = generator_args_from_plugin(&config)?;
        let mut resource = generate(generated, &args, None, &target.loader)?;
        let plugin_name = config
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        resource.origin = target.plugin_origin(kind, plugin_name, source.as_deref());
        acc.absorb(resource)
            .map_err(|e| e.context(format!("merging from generator {kind}")))?;
    }
    Ok(())
}

/// A generator plugin config: the generator's fields at the top level; `metadata.name` and
/// `metadata.namespace` stand in for a missing `name` and `namespace`.
fn generator_args_from_plugin(config: &Value) -> Result<GeneratorArgs> {
    let mut fields = config.as_object().cloned().unwrap_or_default();
    let metadata = fields.shift_remove("metadata");
    fields.shift_remove("apiVersion");
    fields.shift_remove("kind");
    let mut args: GeneratorArgs = serde_json::from_value(Value::Object(fields))
        .map_err(|e| Error::msg(format!("invalid generator config: {e}")))?;
    let meta = |k: &str| {
        metadata
            .as_ref()
            .and_then(|m| m.get(k))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    if args.name.is_empty() {
        args.name = meta("name");
    }
    if args.namespace.is_empty() {
        args.namespace = meta("namespace");
    }
    Ok(args)
}
