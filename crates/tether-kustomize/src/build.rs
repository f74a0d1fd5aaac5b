//! `kustomize build`: the top-level steps after accumulation, and the output.

use std::path::Path;

use serde_json::Value;
use std::sync::Arc;

use crate::accumulate::{Accumulator, Target};
use crate::error::{Error, Result};
use crate::fs::FileSystem;
use crate::kind_order::{ORDER_FIRST, ORDER_LAST, rank_in};
use crate::kustomization::SortOptions;
use crate::loader::{LoadRestrictor, Loader};
use crate::remote::RemoteFetcher;
use crate::resmap::ResMap;
use crate::resource::Resource;

/// Options of a build (the flags of `kustomize build` that apply).
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    pub load_restrictor: LoadRestrictor,
    /// Fetches git URLs in `resources:`; `None` refuses them (the controller's default).
    pub remote: Option<Arc<dyn RemoteFetcher>>,
}

/// The result of a build: resources in output order, and warnings for stderr.
#[derive(Debug, Clone, Default)]
pub struct BuildOutput {
    pub resources: ResMap,
    pub warnings: Vec<String>,
}

impl BuildOutput {
    /// The YAML stream `kustomize build` prints.
    pub fn to_yaml(&self) -> String {
        let mut out = String::new();
        for (i, r) in self.resources.iter().enumerate() {
            if i > 0 {
                out.push_str("---\n");
            }
            out.push_str(&tether_yaml::to_yaml(&r.object));
        }
        out
    }
}

/// Builds the kustomization in directory `dir` of `fs`.
pub fn build(fs: Arc<dyn FileSystem>, dir: &Path, options: &BuildOptions) -> Result<BuildOutput> {
    let loader = Loader::new(fs, dir, options.load_restrictor)?;
    let mut target = Target::load(loader)?;
    // Unknown buildMetadata options are ignored, as kustomize does.
    let metadata = target.kustomization.build_metadata.clone();
    if !metadata.is_empty() {
        target.origin = Some(String::new());
    }
    target.remote = options.remote.clone();
    target.apply_openapi(true)?;
    let mut warnings = Vec::new();
    let mut acc = target.accumulate(Accumulator::new(), &mut warnings)?;
    add_hash_suffixes(&mut acc.resources)?;
    crate::nameref::fix_back_references(&mut acc.resources, &acc.config.name_reference)?;
    let unused =
        crate::vars::resolve_vars(&mut acc.resources, &acc.vars, &acc.config.var_reference)?;
    if !unused.is_empty() {
        warnings.push(format!(
            "well-defined vars that were never replaced: {}",
            unused.join(",")
        ));
    }
    acc.resources.resources.retain(|r| !r.is_local_config());
    for r in acc.resources.iter_mut() {
        stringify_annotations(r);
    }
    sort(
        &mut acc.resources,
        target.kustomization.sort_options.as_ref(),
    )?;
    let has = |o: &str| metadata.iter().any(|m| m == o);
    for r in acc.resources.iter_mut() {
        if has("managedByLabel") {
            set_label(r, "app.kubernetes.io/managed-by", MANAGED_BY);
        }
        if has("transformerAnnotations") && !r.transformations.is_empty() {
            let mut text = String::new();
            for t in &r.transformations {
                for (i, line) in t.to_annotation().lines().enumerate() {
                    text.push_str(if i == 0 { "- " } else { "  " });
                    text.push_str(line);
                    text.push('\n');
                }
            }
            r.set_annotation("alpha.config.kubernetes.io/transformations", Some(&text));
        }
        if has("originAnnotations")
            && let Some(origin) = r.origin.clone()
        {
            r.set_annotation("config.kubernetes.io/origin", Some(&origin.to_annotation()));
        }
        // kustomize rewrites annotations when it removes its build annotations: anything but
        // a non-empty map (an empty map, null, a scalar a JSON patch left) disappears.
        if let Some(Value::Object(meta)) = r.object.get_mut("metadata")
            && meta
                .get("annotations")
                .is_some_and(|a| a.as_object().is_none_or(|m| m.is_empty()))
        {
            meta.shift_remove("annotations");
        }
    }
    Ok(BuildOutput {
        resources: acc.resources,
        warnings,
    })
}

/// The `app.kubernetes.io/managed-by` value; `kubectl kustomize` (our reference) reports its
/// embedded kustomize as a development build.
const MANAGED_BY: &str = "kustomize-(devel)";

fn set_label(r: &mut Resource, key: &str, value: &str) {
    let meta = crate::resource::ensure_map(&mut r.object)
        .entry("metadata")
        .or_insert_with(|| serde_json::Value::Object(Default::default()));
    let labels = crate::resource::ensure_map(meta)
        .entry("labels")
        .or_insert_with(|| serde_json::Value::Object(Default::default()));
    crate::resource::ensure_map(labels)
        .insert(key.to_owned(), serde_json::Value::String(value.to_owned()));
}

/// kustomize ends by rewriting every resource's annotations (to drop its build annotations)
/// as a string map: a number or boolean a var or replacement put there prints quoted.
fn stringify_annotations(r: &mut Resource) {
    crate::resource::rewrite_annotation_values(&mut r.object, |v| match v {
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some(String::new()),
        _ => None,
    });
}

fn add_hash_suffixes(resources: &mut ResMap) -> Result<()> {
    for r in resources.iter_mut() {
        if r.needs_hash {
            let h = crate::hash::hash(r)?;
            r.store_previous_id();
            let name = format!("{}-{h}", r.name());
            r.set_name(&name);
        }
    }
    Ok(())
}

/// kustomize's output order: `legacy` (by kind priority, then GVK, namespace and name) unless
/// the kustomization asks for `fifo`.
fn sort(resources: &mut ResMap, options: Option<&SortOptions>) -> Result<()> {
    let (first, last): (Vec<&str>, Vec<&str>) = match options {
        Some(o) if o.order == "fifo" => return Ok(()),
        Some(o) if o.order != "legacy" => {
            return Err(Error::msg(
                "the field 'sortOptions.order' must be one of [fifo, legacy]",
            ));
        }
        Some(SortOptions {
            legacy_sort_options: Some(l),
            ..
        }) => (
            l.order_first.iter().map(String::as_str).collect(),
            l.order_last.iter().map(String::as_str).collect(),
        ),
        _ => (ORDER_FIRST.to_vec(), ORDER_LAST.to_vec()),
    };
    let rank = |kind: &str| rank_in(kind, &first, &last);
    let mut keyed: Vec<(i64, String, String, Resource)> = std::mem::take(&mut resources.resources)
        .into_iter()
        .map(|r| {
            let id = r.cur_id();
            let gvk_key = format!(
                "{}_{}_{}",
                or(&id.gvk.group, "~G"),
                or(&id.gvk.version, "~V"),
                or(&id.gvk.kind, "~K")
            );
            let id_key = format!(
                "{}|{}|{}",
                id.gvk,
                or(&id.namespace, "~X"),
                or(&id.name, "~N")
            );
            (rank(&id.gvk.kind), gvk_key, id_key, r)
        })
        .collect();
    keyed.sort_by(|a, b| {
        if a.1 != b.1 {
            a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1))
        } else {
            a.2.cmp(&b.2)
        }
    });
    resources.resources = keyed.into_iter().map(|(_, _, _, r)| r).collect();
    Ok(())
}

fn or<'a>(s: &'a str, default: &'a str) -> &'a str {
    if s.is_empty() { default } else { s }
}
