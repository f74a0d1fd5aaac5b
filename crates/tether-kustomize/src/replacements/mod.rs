//! `replacements`: copy a field of one resource into fields of others (kustomize's
//! ReplacementTransformer and `filters/replacement`).
//!
//! Each replacement, in order, against the resources as the previous one left them:
//!
//! 1. the source is the one resource any of whose ids (current or previous, so both the
//!    original and the renamed name work) the source selector picks, exactly; none or several
//!    is an error. Its `fieldPath` (default `metadata.name`) must hold a non-empty value,
//!    optionally cut with `delimiter`/`index`;
//! 2. each target selects resources by id (any id, exact match), label and annotation
//!    selectors; a `reject` entry drops a resource when it picks *any* of its ids or its labels;
//! 3. in each selected resource, every `fieldPaths` entry (default `metadata.name`) is matched
//!    with kyaml's path syntax (see [`path`]); no match is an error unless `create` made one.
//!    A scalar target keeps its type and takes the source's text; other targets are replaced by
//!    a copy of the source value. With `delimiter`, the text is spliced into the target's
//!    `index`-th part (before the first when negative, after the last when past the end).

mod path;
mod scalar;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::resmap::ResMap;
use crate::resource::{Gvk, ResId, Resource};
use crate::selector::Selector;
use crate::transform::Transformer;

/// The field read or written when a selector names none.
pub const DEFAULT_FIELD_PATH: &str = "metadata.name";

/// One replacement: a source value and where to write it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Replacement {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceSelector>,
    /// `None` (absent or null) is an error; an empty list does nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<TargetSelector>>,
}

/// A `replacements:` entry of a kustomization (or of a ReplacementTransformer config): a
/// replacement inline, or the `path` of a file holding one or a list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplacementField {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceSelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<TargetSelector>>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path: String,
}

/// Which resource and field to read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SourceSelector {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub group: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub field_path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<FieldOptions>,
}

/// Which resources and fields to write.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TargetSelector {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub select: Option<Selector>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reject: Vec<Selector>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub field_paths: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<FieldOptions>,
}

/// How to cut the source value or splice it into the target.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldOptions {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub delimiter: String,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub index: i64,
    /// Accepted and ignored, as kustomize does.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub encoding: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub create: bool,
}

fn is_zero(i: &i64) -> bool {
    *i == 0
}

fn selector_id(group: &str, version: &str, kind: &str, name: &str, namespace: &str) -> ResId {
    ResId::new(Gvk::new(group, version, kind), name, namespace)
}

impl SourceSelector {
    pub fn res_id(&self) -> ResId {
        selector_id(
            &self.group,
            &self.version,
            &self.kind,
            &self.name,
            &self.namespace,
        )
    }
}

impl std::fmt::Display for SourceSelector {
    /// kustomize's `SourceSelector.String()`: id, field path and options joined by `:`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.res_id())?;
        if !self.field_path.is_empty() {
            write!(f, ":{}", self.field_path)?;
        }
        if let Some(o) = &self.options
            && (!o.delimiter.is_empty() || o.create)
        {
            write!(f, ":{}({}), create={}", o.delimiter, o.index, o.create)?;
        }
        Ok(())
    }
}

fn selector_res_id(s: &Selector) -> ResId {
    selector_id(&s.group, &s.version, &s.kind, &s.name, &s.namespace)
}

fn is_empty_id(id: &ResId) -> bool {
    id.name.is_empty()
        && id.namespace.is_empty()
        && id.gvk.group.is_empty()
        && id.gvk.version.is_empty()
        && id.gvk.kind.is_empty()
}

/// The ReplacementTransformer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplacementTransformer {
    pub replacements: Vec<Replacement>,
}

impl ReplacementTransformer {
    pub fn new(replacements: Vec<Replacement>) -> Self {
        ReplacementTransformer { replacements }
    }

    /// From a kustomization's `replacements:` entries; `load` reads a `path:` file (relative
    /// to the kustomization, with its load restrictions).
    pub fn from_fields(
        fields: Vec<ReplacementField>,
        load: &mut dyn FnMut(&str) -> Result<String>,
    ) -> Result<Self> {
        let mut replacements = Vec::new();
        for field in fields {
            if field.path.is_empty() {
                replacements.push(Replacement {
                    source: field.source,
                    targets: field.targets,
                });
                continue;
            }
            if field.source.is_some() || field.targets.as_ref().is_some_and(|t| !t.is_empty()) {
                return Err(Error::msg(
                    "cannot specify both path and inline replacement",
                ));
            }
            let text = load(&field.path)?;
            replacements.extend(
                parse_replacements_file(&text)
                    .map_err(|e| e.context(format!("loading replacements from {}", field.path)))?,
            );
        }
        Ok(ReplacementTransformer { replacements })
    }

    /// From a `transformers:` entry of kind ReplacementTransformer. Like kustomize, unknown
    /// fields in a plugin config are ignored.
    pub fn from_plugin_config(
        config: &Value,
        load: &mut dyn FnMut(&str) -> Result<String>,
    ) -> Result<Self> {
        let entries = match config.get("replacements") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| lenient::<ReplacementField>(v, lenient::FIELD))
                .collect::<Result<Vec<_>>>()?,
            Some(_) => {
                return Err(Error::msg(
                    "ReplacementTransformer: 'replacements' must be a list",
                ));
            }
        };
        Self::from_fields(entries, load)
    }
}

/// A replacements file: one replacement or a list of them (unknown fields ignored).
pub fn parse_replacements_file(text: &str) -> Result<Vec<Replacement>> {
    let doc = tether_yaml::parse_document(text)
        .map_err(|e| Error::msg(format!("invalid replacements file: {e}")))?;
    match &doc {
        Value::Array(items) => items
            .iter()
            .map(|v| lenient::<Replacement>(v, lenient::REPLACEMENT))
            .collect(),
        Value::Null => Ok(Vec::new()),
        single => Ok(vec![lenient::<Replacement>(single, lenient::REPLACEMENT)?]),
    }
}

/// Decoding that drops unknown keys first, as Go's `encoding/json` does by default.
mod lenient {
    use serde::de::DeserializeOwned;
    use serde_json::{Map, Value};

    use crate::error::{Error, Result};

    /// Known keys, and the shape of the value under each.
    pub type Shape = &'static [(&'static str, Kind)];

    #[derive(Clone, Copy)]
    pub enum Kind {
        Leaf,
        Object(Shape),
        List(Shape),
    }

    const ID: [(&str, Kind); 5] = [
        ("group", Kind::Leaf),
        ("version", Kind::Leaf),
        ("kind", Kind::Leaf),
        ("name", Kind::Leaf),
        ("namespace", Kind::Leaf),
    ];
    const OPTIONS: Shape = &[
        ("delimiter", Kind::Leaf),
        ("index", Kind::Leaf),
        ("encoding", Kind::Leaf),
        ("create", Kind::Leaf),
    ];
    const SELECTOR: Shape = &[
        ID[0],
        ID[1],
        ID[2],
        ID[3],
        ID[4],
        ("labelSelector", Kind::Leaf),
        ("annotationSelector", Kind::Leaf),
    ];
    const SOURCE: Shape = &[
        ID[0],
        ID[1],
        ID[2],
        ID[3],
        ID[4],
        ("fieldPath", Kind::Leaf),
        ("options", Kind::Object(OPTIONS)),
    ];
    const TARGET: Shape = &[
        ("select", Kind::Object(SELECTOR)),
        ("reject", Kind::List(SELECTOR)),
        ("fieldPaths", Kind::Leaf),
        ("options", Kind::Object(OPTIONS)),
    ];
    pub const REPLACEMENT: Shape = &[
        ("source", Kind::Object(SOURCE)),
        ("targets", Kind::List(TARGET)),
    ];
    pub const FIELD: Shape = &[
        ("source", Kind::Object(SOURCE)),
        ("targets", Kind::List(TARGET)),
        ("path", Kind::Leaf),
    ];

    fn prune(v: &Value, shape: Shape) -> Value {
        let Value::Object(map) = v else {
            return v.clone();
        };
        let mut out = Map::new();
        for (key, value) in map {
            // encoding/json matches keys case-insensitively.
            let Some((name, kind)) = shape.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)) else {
                continue;
            };
            let value = match (kind, value) {
                (Kind::Object(s), v) => prune(v, s),
                (Kind::List(s), Value::Array(items)) => {
                    Value::Array(items.iter().map(|i| prune(i, s)).collect())
                }
                (_, v) => v.clone(),
            };
            out.insert((*name).to_owned(), value);
        }
        Value::Object(out)
    }

    pub fn lenient<T: DeserializeOwned>(v: &Value, shape: Shape) -> Result<T> {
        serde_json::from_value(prune(v, shape))
            .map_err(|e| Error::msg(format!("invalid replacement: {e}")))
    }
}

use lenient::lenient;

impl Transformer for ReplacementTransformer {
    fn transform(&self, resources: &mut ResMap) -> Result<()> {
        let mut ids: Vec<Ids> = resources.iter().map(Ids::of).collect();
        for r in &self.replacements {
            apply(r, resources, &mut ids)?;
        }
        Ok(())
    }
}

/// The ids of a resource as kustomize's `MakeResIds` gives them: current, then previous ones
/// (under the current apiVersion), each with its effective namespace. Built once per transform
/// and rebuilt for a resource a replacement wrote to, since reading them from the object for
/// every resource and target dominated the run time.
struct Ids {
    group: String,
    version: String,
    /// (kind, name, effective namespace)
    ids: Vec<(String, String, String)>,
}

impl Ids {
    fn of(r: &Resource) -> Ids {
        let cur = r.cur_id();
        let (group, version) = (cur.gvk.group.clone(), cur.gvk.version.clone());
        let entry = |id: ResId| {
            let ns = id.effective_namespace().to_owned();
            (id.gvk.kind, id.name, ns)
        };
        let mut ids = vec![entry(cur)];
        for p in &r.previous_ids {
            let gvk = Gvk::new(group.clone(), version.clone(), p.gvk.kind.clone());
            ids.push(entry(ResId::new(gvk, &p.name, &p.namespace)));
        }
        Ids {
            group,
            version,
            ids,
        }
    }

    /// Whether `sel` (empty fields match anything) picks any of these ids.
    fn selected_by(&self, sel: &IdSelector) -> bool {
        let id = &sel.id;
        if (!id.gvk.group.is_empty() && id.gvk.group != self.group)
            || (!id.gvk.version.is_empty() && id.gvk.version != self.version)
        {
            return false;
        }
        self.ids.iter().any(|(kind, name, ns)| {
            (id.gvk.kind.is_empty() || id.gvk.kind == *kind)
                && (id.name.is_empty() || id.name == *name)
                && sel.namespace.as_ref().is_none_or(|want| want == ns)
        })
    }
}

/// A selector's id, with the effective namespace it asks for (`None`: any).
struct IdSelector {
    id: ResId,
    namespace: Option<String>,
}

impl IdSelector {
    fn new(id: ResId) -> IdSelector {
        let namespace = (!id.namespace.is_empty()).then(|| id.effective_namespace().to_owned());
        IdSelector { id, namespace }
    }
}

/// The value to write: the node, and its text for scalar targets.
struct Source {
    node: Value,
    text: String,
}

fn apply(r: &Replacement, resources: &mut ResMap, ids: &mut [Ids]) -> Result<()> {
    let (Some(source), Some(targets)) = (&r.source, &r.targets) else {
        return Err(Error::msg(
            "replacements must specify a source and at least one target",
        ));
    };
    let value = source_value(source, resources, ids)?;
    for target in targets {
        apply_target(target, &value, resources, ids)?;
    }
    Ok(())
}

fn source_value(selector: &SourceSelector, resources: &ResMap, ids: &[Ids]) -> Result<Source> {
    let want = IdSelector::new(selector.res_id());
    let mut found: Option<&Resource> = None;
    for (r, ids) in resources.iter().zip(ids) {
        if ids.selected_by(&want) {
            if found.is_some() {
                return Err(Error::msg(format!(
                    "multiple matches for selector {selector}"
                )));
            }
            found = Some(r);
        }
    }
    let Some(resource) = found else {
        return Err(Error::msg(format!("nothing selected by {selector}")));
    };
    let field_path = if selector.field_path.is_empty() {
        DEFAULT_FIELD_PATH
    } else {
        &selector.field_path
    };
    let node = path::lookup(&resource.object, &path::split(field_path))?;
    let node = match node {
        Some(n) if !is_empty_node(n) => n,
        _ => {
            return Err(Error::msg(format!(
                "fieldPath `{field_path}` is missing for replacement source {}",
                want.id
            )));
        }
    };
    let text = scalar::text(node);
    let Some(options) = selector
        .options
        .as_ref()
        .filter(|o| !o.delimiter.is_empty())
    else {
        return Ok(Source {
            node: node.clone(),
            text,
        });
    };
    if node.is_object() || node.is_array() {
        return Err(Error::msg(
            "delimiter option can only be used with scalar nodes",
        ));
    }
    let parts: Vec<&str> = text.split(options.delimiter.as_str()).collect();
    let part = usize::try_from(options.index)
        .ok()
        .and_then(|i| parts.get(i))
        .ok_or_else(|| {
            Error::msg(format!(
                "options.index {} is out of bounds for value {text}",
                options.index
            ))
        })?;
    // The cut keeps the source's tag; when it no longer fits (a number cut to ""), kustomize
    // would only fail if it printed that node, so fall back to the text.
    let node = scalar::decode(scalar::Tag::of(node), part)
        .unwrap_or_else(|_| Value::String((*part).to_owned()));
    Ok(Source {
        node,
        text: (*part).to_owned(),
    })
}

/// kyaml's `IsNilOrEmpty` for a found node: null, `{}` and `[]` count as missing.
fn is_empty_node(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn apply_target(
    target: &TargetSelector,
    value: &Source,
    resources: &mut ResMap,
    ids: &mut [Ids],
) -> Result<()> {
    let Some(select) = &target.select else {
        return Err(Error::msg("target must specify resources to select"));
    };
    let select_id = IdSelector::new(selector_res_id(select));
    let select_meta = if select.label_selector.is_empty() && select.annotation_selector.is_empty() {
        None
    } else {
        Some(meta_selector(select)?)
    };
    let mut reject_ids = Vec::new();
    let mut reject_meta = Vec::new();
    for reject in &target.reject {
        let id = selector_res_id(reject);
        if !is_empty_id(&id) {
            reject_ids.push(IdSelector::new(id));
        }
        if !reject.label_selector.is_empty() || !reject.annotation_selector.is_empty() {
            reject_meta.push(meta_selector(reject)?);
        }
    }
    let default_paths = [DEFAULT_FIELD_PATH.to_owned()];
    let field_paths: &[String] = if target.field_paths.is_empty() {
        &default_paths
    } else {
        &target.field_paths
    };
    let split_paths: Vec<Vec<String>> = field_paths.iter().map(|p| path::split(p)).collect();
    let options = target.options.as_ref();
    for (r, ids) in resources.iter_mut().zip(ids.iter_mut()) {
        let selected = ids.selected_by(&select_id)
            && !reject_ids.iter().any(|rej| ids.selected_by(rej))
            && select_meta.as_ref().is_none_or(|s| s.matches(r))
            && !reject_meta.iter().any(|s| s.matches(r));
        if !selected {
            continue;
        }
        for (raw, segments) in field_paths.iter().zip(&split_paths) {
            copy_to_field(r, raw, segments, value, options)?;
        }
        // The replacement may have renamed it.
        *ids = Ids::of(r);
    }
    Ok(())
}

/// A selector for the label and annotation parts only.
fn meta_selector(s: &Selector) -> Result<crate::selector::CompiledSelector> {
    Selector {
        label_selector: s.label_selector.clone(),
        annotation_selector: s.annotation_selector.clone(),
        ..Selector::default()
    }
    .compile()
}

fn copy_to_field(
    r: &mut Resource,
    raw_path: &str,
    segments: &[String],
    value: &Source,
    options: Option<&FieldOptions>,
) -> Result<()> {
    let create = options
        .filter(|o| o.create)
        .map(|_| path::Create::for_value(&value.node));
    let retrieval = |e: Option<Error>| {
        let what = if create.is_some() {
            "find or create"
        } else {
            "find"
        };
        let msg = format!("unable to {what} field \"{raw_path}\" in replacement target");
        match e {
            Some(e) => Error::msg(format!("{msg}: {e}")),
            None => Error::msg(msg),
        }
    };
    let id = r.cur_id();
    let mut count = 0usize;
    let mut set_failed = false;
    // kustomize prints annotations by their node's text, so an annotation this creates keeps
    // the copied text even where reading it plain would retype it (`0755`, `1.10`, `~`).
    let annotation =
        segments.len() == 3 && segments[0] == "metadata" && segments[1] == "annotations";
    let walked = path::visit(&mut r.object, segments, create, &mut |node, created| {
        count += 1;
        if created && annotation && !value.node.is_object() && !value.node.is_array() {
            *node = Value::String(value.text.clone());
            return Ok(());
        }
        set_field(node, created, value, options).map_err(|e| {
            set_failed = true;
            e.context(format!(
                "replacing field \"{raw_path}\" of replacement target {id}"
            ))
        })
    });
    match walked {
        Err(e) if set_failed => Err(e),
        Err(e) => Err(retrieval(Some(e))),
        Ok(()) if count == 0 => Err(retrieval(None)),
        Ok(()) => Ok(()),
    }
}

/// kustomize's `setFieldValue`.
fn set_field(
    target: &mut Value,
    created: bool,
    value: &Source,
    options: Option<&FieldOptions>,
) -> Result<()> {
    let is_scalar = !target.is_object() && !target.is_array();
    let mut text = value.text.clone();
    let mut node = value.node.clone();
    if let Some(o) = options.filter(|o| !o.delimiter.is_empty()) {
        if !is_scalar {
            return Err(Error::msg(
                "delimiter option can only be used with scalar nodes",
            ));
        }
        let current = scalar::text(target);
        let mut parts: Vec<&str> = current.split(o.delimiter.as_str()).collect();
        match usize::try_from(o.index) {
            Err(_) => parts.insert(0, &value.text),
            Ok(i) if i >= parts.len() => parts.push(&value.text),
            Ok(i) => parts[i] = &value.text,
        }
        text = parts.join(&o.delimiter);
        // A non-scalar value written whole would carry no text; scalars keep their tag.
        if !node.is_object() && !node.is_array() {
            node = scalar::decode(scalar::Tag::of(&node), &text)
                .unwrap_or_else(|_| Value::String(text.clone()));
        }
    }
    if is_scalar {
        let tag = if created {
            scalar::Tag::Plain
        } else {
            scalar::Tag::of(target)
        };
        *target = scalar::decode(tag, &text).map_err(Error::msg)?;
    } else {
        *target = node;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
