//! The patch transformers: `patches:` (PatchTransformer), `patchesStrategicMerge:` and
//! `patchesJson6902:`, on top of the engines in [`crate::patch`].

use serde_json::Value;

use crate::error::{Error, Result};
use crate::loader::Loader;
use crate::patch::{
    PatchSchema, SmpOptions, SmpOutcome, apply_json6902, apply_strategic_merge_resource,
};
use crate::resmap::ResMap;
use crate::resource::Resource;
use crate::selector::Selector;
use crate::transform::Transformer;

/// What a patch is, once its text is read.
#[derive(Debug, Clone)]
enum Body {
    /// A strategic merge patch: one or more objects (each names its target when there is no
    /// selector).
    Strategic(Vec<Value>),
    /// RFC 6902 operations.
    Json6902(Value),
}

/// One `patches:` entry (or a PatchTransformer plugin config).
#[derive(Debug, Clone)]
pub struct PatchTransformer {
    body: Body,
    text: String,
    target: Option<Selector>,
    allow_name_change: bool,
    allow_kind_change: bool,
    schema: PatchSchema,
}

impl PatchTransformer {
    /// From `path` or inline `patch` (exactly one), a target selector and options.
    pub fn new(
        loader: &Loader,
        path: &str,
        patch: &str,
        target: Option<Selector>,
        options: &std::collections::BTreeMap<String, bool>,
        schema: PatchSchema,
    ) -> Result<PatchTransformer> {
        let inline = patch.trim();
        let text = match (inline.is_empty(), path.is_empty()) {
            (true, true) => return Err(Error::msg("must specify one of patch and path")),
            (false, false) => {
                return Err(Error::msg("patch and path can't be set at the same time"));
            }
            (false, true) => inline.to_owned(),
            (true, false) => String::from_utf8_lossy(&loader.load(path)?).into_owned(),
        };
        let body = parse_body(&text)?;
        Ok(PatchTransformer {
            body,
            text,
            target,
            allow_name_change: options.get("allowNameChange").copied().unwrap_or(false),
            allow_kind_change: options.get("allowKindChange").copied().unwrap_or(false),
            schema,
        })
    }
}

fn parse_body(text: &str) -> Result<Body> {
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return Err(Error::msg("empty patch"));
    }
    let docs = tether_yaml::parse_documents(text).map_err(|e| {
        Error::msg(format!(
            "unable to parse SM or JSON patch from [{text}]: {e}"
        ))
    })?;
    let values: Vec<Value> = docs.into_iter().map(|d| d.value).collect();
    match values.as_slice() {
        [Value::Array(_)] => Ok(Body::Json6902(
            values.into_iter().next().unwrap_or(Value::Null),
        )),
        // A strategic merge patch is read as resources: each needs a kind.
        v if !v.is_empty()
            && v.iter().all(|p| {
                p.get("kind")
                    .and_then(Value::as_str)
                    .is_some_and(|k| !k.is_empty())
            }) =>
        {
            Ok(Body::Strategic(values))
        }
        _ => Err(Error::msg(format!(
            "unable to parse SM or JSON patch from [{text}]"
        ))),
    }
}

impl Transformer for PatchTransformer {
    fn transform(&self, resources: &mut ResMap) -> Result<()> {
        match (&self.body, &self.target) {
            (Body::Json6902(ops), None) => {
                let _ = ops;
                Err(Error::msg(format!(
                    "must specify a target for patch {}",
                    self.text
                )))
            }
            (Body::Json6902(ops), Some(target)) => {
                let selected = target.compile()?.select(resources);
                for i in selected {
                    let r = &mut resources.resources[i];
                    r.store_previous_id();
                    apply_json6902(&mut r.object, ops).map_err(|e| Error::msg(e.to_string()))?;
                    // kustomize rebuilds the object from JSON: no field shares a node any more.
                    r.shared_scalars.clear();
                }
                Ok(())
            }
            (Body::Strategic(patches), None) => {
                for patch in patches {
                    let index = unique_target(resources, patch)?;
                    apply_smp_at(resources, index, patch, self, false)?;
                }
                Ok(())
            }
            (Body::Strategic(patches), Some(target)) => {
                let selected = target.compile()?.select(resources);
                for patch in patches {
                    // Later indexes first, so removals keep earlier indexes valid.
                    for &i in selected.iter().rev() {
                        apply_smp_at(resources, i, patch, self, true)?;
                    }
                }
                Ok(())
            }
        }
    }
}

/// The one resource a targetless strategic merge patch names (kustomize's `GetById`).
fn unique_target(resources: &ResMap, patch: &Value) -> Result<usize> {
    let id = Resource::new(patch.clone()).cur_id();
    let matches = resources.matching_any_id(&id);
    match matches.as_slice() {
        [one] => Ok(*one),
        [] => Err(Error::msg(format!(
            "no matches for Id {id}; failed to find unique target for patch {id}"
        ))),
        _ => Err(Error::msg(format!(
            "multiple matches for Id {id}; failed to find unique target for patch {id}"
        ))),
    }
}

/// Applies one strategic merge patch to resource `index` (the engine keeps its name, kind and
/// namespace unless the options allow a change), removing it on `$patch: delete`.
fn apply_smp_at(
    resources: &mut ResMap,
    index: usize,
    patch: &Value,
    options: &PatchTransformer,
    targeted: bool,
) -> Result<()> {
    let r = &mut resources.resources[index];
    if options.allow_name_change || options.allow_kind_change {
        r.store_previous_id();
    }
    let smp_options = SmpOptions {
        allow_name_change: options.allow_name_change,
        allow_kind_change: options.allow_kind_change,
        targeted,
    };
    let outcome =
        apply_strategic_merge_resource(&mut r.object, patch, &options.schema, smp_options)
            .map_err(|e| Error::msg(e.to_string()))?;
    if outcome == SmpOutcome::Deleted || r.object.as_object().is_none_or(|m| m.is_empty()) {
        resources.remove(index);
    } else {
        // merge2 copies patched scalars into the existing nodes, shared ones included.
        r.propagate_shared_scalars();
    }
    Ok(())
}

/// `patchesStrategicMerge:` entries: each a file or inline YAML of one or more patches, each
/// applied to the resource it names.
pub fn strategic_merge_entries(
    loader: &Loader,
    entries: &[String],
    schema: &PatchSchema,
) -> Result<Vec<PatchTransformer>> {
    let mut out = Vec::new();
    for entry in entries {
        let text = match loader.load(entry) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(load_err) => {
                // Not a file: inline YAML, when it parses as objects.
                match tether_yaml::parse_documents(entry) {
                    Ok(docs) if !docs.is_empty() && docs.iter().all(|d| d.value.is_object()) => {
                        entry.clone()
                    }
                    _ => return Err(load_err),
                }
            }
        };
        let docs = tether_yaml::parse_documents(&text).map_err(|error| Error::Yaml {
            path: entry.clone(),
            error,
        })?;
        let patches: Vec<Value> = docs.into_iter().map(|d| d.value).collect();
        if patches.is_empty() {
            return Err(Error::msg(format!("patch appears to be empty; {entry}")));
        }
        out.push(PatchTransformer {
            body: Body::Strategic(patches),
            text,
            target: None,
            allow_name_change: false,
            allow_kind_change: false,
            schema: schema.clone(),
        });
    }
    Ok(out)
}

/// A `patchesJson6902:` entry: a target (with a name) and operations from `path` or `patch`.
pub fn json6902_entry(
    loader: &Loader,
    target: Option<Selector>,
    path: &str,
    patch: &str,
) -> Result<PatchTransformer> {
    let target = target.ok_or_else(|| Error::msg("must specify a target for patch"))?;
    if target.name.is_empty() {
        return Err(Error::msg("must specify the target name"));
    }
    let text = if path.is_empty() {
        patch.to_owned()
    } else {
        String::from_utf8_lossy(&loader.load(path)?).into_owned()
    };
    if text.trim().is_empty() {
        return Err(Error::msg("empty file"));
    }
    let ops = tether_yaml::parse_document(&text).map_err(|error| Error::Yaml {
        path: path.to_owned(),
        error,
    })?;
    if !ops.is_array() {
        return Err(Error::msg(format!(
            "json patch must be a list of operations: {text}"
        )));
    }
    Ok(PatchTransformer {
        body: Body::Json6902(ops),
        text,
        target: Some(target),
        allow_name_change: false,
        allow_kind_change: false,
        schema: PatchSchema::default(),
    })
}
