//! `vars`: `$(NAME)` references resolved from fields of other resources (kustomize's
//! deprecated vars, `ResAccumulator.MergeVars` / `ResolveVars` and the `refvar` filter).
//!
//! How a build uses this module, level by level as kustomize does:
//!
//! 1. after a kustomization's transformers ran, [`merge_vars`] tags the one resource whose
//!    *original* id each declared var names (in [`Resource::ref_var_names`]) and adds the vars
//!    to the level's [`VarSet`] (a name already there is an error);
//! 2. a parent absorbs each child's set with [`VarSet::merge_set`] (same error);
//! 3. at the top, after hash suffixes and name references, [`resolve_vars`] reads each var's
//!    field from its tagged resource (current values, so renames show) and substitutes it in
//!    the `varReference` fields of every resource.
//!
//! Substitution follows kustomize's expansion: `$(NAME)` of a known var is replaced; a string
//! that is exactly `$(NAME)` takes the var's type (number, bool), inside a longer string the
//! value is formatted as Go's `%v`; `$$` is a literal `$`; unknown names, and vars whose value
//! is a map or list, stay as written. Only string scalars, string values of maps and lists of
//! strings are expanded (a list holding a non-string is an error).

use base64::Engine as _;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::fieldspec::FieldSpec;
use crate::nameref::path;
use crate::resmap::ResMap;
use crate::resource::{Gvk, ResId, Resource};

/// The field a var reads when `fieldref` names none.
pub const DEFAULT_FIELD_PATH: &str = "metadata.name";

/// One `vars:` entry. Keys are matched as kustomize's JSON decoding does for the spellings
/// people use (`fieldpath` and `fieldPath`, `objref` and `objRef`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Var {
    pub name: String,
    #[serde(alias = "objRef")]
    pub objref: VarTarget,
    #[serde(default, alias = "fieldRef")]
    pub fieldref: FieldRef,
}

/// The object a var reads (kustomize's `types.Target`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VarTarget {
    #[serde(
        default,
        rename = "apiVersion",
        alias = "apiversion",
        skip_serializing_if = "String::is_empty"
    )]
    pub api_version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub group: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
}

/// The field a var reads, a dotted path (`spec.ports[0].port`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldRef {
    #[serde(default, alias = "fieldPath", skip_serializing_if = "String::is_empty")]
    pub fieldpath: String,
}

impl VarTarget {
    /// The GVK: `apiVersion`, when given, overrides `group` and `version`.
    pub fn gvk(&self) -> Gvk {
        let mut gvk = Gvk::new(self.group.clone(), self.version.clone(), self.kind.clone());
        if !self.api_version.is_empty() {
            let parts: Vec<&str> = self.api_version.split('/').collect();
            match parts.as_slice() {
                [g, v] => (gvk.group, gvk.version) = ((*g).to_owned(), (*v).to_owned()),
                [v] => gvk.version = (*v).to_owned(),
                _ => {}
            }
        }
        gvk
    }
}

impl Var {
    /// The field path, defaulted to `metadata.name`.
    pub fn field_path(&self) -> &str {
        if self.fieldref.fieldpath.is_empty() {
            DEFAULT_FIELD_PATH
        } else {
            &self.fieldref.fieldpath
        }
    }
}

impl std::fmt::Display for Var {
    /// Go's `%v` of kustomize's defaulted `Var`: `{NAME Kind.version.group {field.path}}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{{{} {} {{{}}}}}",
            self.name,
            self.objref.gvk(),
            self.field_path()
        )
    }
}

/// Vars by name (kustomize's `VarSet`), iterated in name order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VarSet {
    vars: BTreeMap<String, Var>,
}

impl VarSet {
    pub fn new() -> Self {
        VarSet::default()
    }

    pub fn len(&self) -> usize {
        self.vars.len()
    }

    pub fn is_empty(&self) -> bool {
        self.vars.is_empty()
    }

    pub fn get(&self, name: &str) -> Option<&Var> {
        self.vars.get(name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Var> {
        self.vars.values()
    }

    /// Adds one var; a name already present is an error.
    pub fn merge(&mut self, var: Var) -> Result<()> {
        if self.vars.contains_key(&var.name) {
            return Err(Error::msg(format!(
                "var '{}' already encountered",
                var.name
            )));
        }
        self.vars.insert(var.name.clone(), var);
        Ok(())
    }

    /// Adds the vars of a kustomization (kustomize's `MergeSlice`).
    pub fn merge_slice(&mut self, incoming: &[Var]) -> Result<()> {
        incoming.iter().try_for_each(|v| self.merge(v.clone()))
    }

    /// Absorbs a child kustomization's vars (kustomize's `MergeSet`).
    pub fn merge_set(&mut self, other: VarSet) -> Result<()> {
        other.vars.into_values().try_for_each(|v| self.merge(v))
    }
}

/// The original id as kustomize rebuilds it from its annotations: first previous kind, name and
/// namespace, under the current apiVersion.
fn original_id(r: &Resource) -> ResId {
    let cur = r.cur_id();
    match r.previous_ids.first() {
        Some(first) => ResId::new(
            Gvk::new(cur.gvk.group, cur.gvk.version, first.gvk.kind.clone()),
            &first.name,
            &first.namespace,
        ),
        None => cur,
    }
}

/// Declares a kustomization's vars (kustomize's `ResAccumulator.MergeVars`): tags the resource
/// each var names, by original id, then adds the vars to `set`.
///
/// A var without a namespace (of a namespaced kind) matches that name in any namespace; more
/// than one match is an error. A var matching nothing is still added; [`resolve_vars`] then
/// fails with kustomize's "cannot be mapped" error.
pub fn merge_vars(resources: &mut ResMap, set: &mut VarSet, incoming: &[Var]) -> Result<()> {
    if incoming.is_empty() {
        return Ok(());
    }
    // kustomize's GetMatchingResourcesByAnyId: the original, any previous or the current id
    // (previous ids under the current apiVersion, as kustomize rebuilds them).
    let ids: Vec<Vec<ResId>> = resources
        .iter()
        .map(|r| {
            let cur = r.cur_id();
            let mut ids = vec![original_id(r)];
            ids.extend(r.previous_ids.iter().map(|p| {
                ResId::new(
                    Gvk::new(
                        cur.gvk.group.clone(),
                        cur.gvk.version.clone(),
                        p.gvk.kind.clone(),
                    ),
                    &p.name,
                    &p.namespace,
                )
            }));
            ids.push(cur);
            ids
        })
        .collect();
    for v in incoming {
        let target = ResId::new(v.objref.gvk(), &v.objref.name, &v.objref.namespace);
        let any_namespace = target.namespace.is_empty() && !target.gvk.is_cluster_scoped();
        let matched: Vec<usize> = ids
            .iter()
            .enumerate()
            .filter(|(_, ids)| {
                ids.iter().any(|id| {
                    id.name == target.name
                        && id.gvk == target.gvk
                        && (any_namespace || id.ns_equals(&target))
                })
            })
            .map(|(i, _)| i)
            .collect();
        if matched.len() > 1 {
            // kustomize prints the var before its field path is defaulted.
            return Err(Error::msg(format!(
                "found {} resId matches for var {{{} {} {{{}}}}} (unable to disambiguate)",
                matched.len(),
                v.name,
                target.gvk,
                v.fieldref.fieldpath
            )));
        }
        if let Some(&i) = matched.first() {
            resources.resources[i].ref_var_names.push(v.name.clone());
        }
    }
    set.merge_slice(incoming)
}

/// A var's value as kustomize reads it: scalars keep their type, maps and lists cannot be
/// substituted.
#[derive(Debug, Clone, PartialEq)]
enum VarValue {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Unusable,
}

/// Substitutes vars in the `var_refs` fields of every resource (kustomize's
/// `ResAccumulator.ResolveVars`). Returns the names of vars that were never substituted
/// (kustomize logs them as "well-defined vars that were never replaced").
pub fn resolve_vars(
    resources: &mut ResMap,
    vars: &VarSet,
    var_refs: &[FieldSpec],
) -> Result<Vec<String>> {
    let mut values: HashMap<&str, VarValue> = HashMap::new();
    for v in vars.iter() {
        let holder = resources
            .iter()
            .find(|r| r.ref_var_names.contains(&v.name))
            .ok_or_else(|| {
                Error::msg(format!(
                    "var '{v}' cannot be mapped to a field in the set of known resources"
                ))
            })?;
        let value = field_value(&holder.object, v.field_path()).ok_or_else(|| {
            Error::msg(format!(
                "field specified in var '{v}' not found in corresponding resource"
            ))
        })?;
        values.insert(v.name.as_str(), value);
    }
    if values.is_empty() {
        return Ok(Vec::new());
    }
    let specs: Vec<(&FieldSpec, Vec<String>)> =
        var_refs.iter().map(|s| (s, path::split(&s.path))).collect();
    let mut used: BTreeSet<&str> = BTreeSet::new();
    for r in resources.iter_mut() {
        let gvk = r.gvk();
        for (spec, segments) in &specs {
            if !spec.applies_to(&gvk) {
                continue;
            }
            path::walk(&mut r.object, segments, &mut |node| {
                substitute_node(node, &values, &mut used)
            })
            .map_err(|e| {
                e.context(format!(
                    "replacing vars in '{}' field of '{}'",
                    spec.path,
                    r.cur_id()
                ))
            })?;
        }
        r.propagate_shared_scalars();
    }
    Ok(values
        .keys()
        .filter(|k| !used.contains(*k))
        .map(|k| (*k).to_owned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect())
}

/// Reads a dotted field path (`spec.ports[0].port`, `spec.containers.0.image`,
/// `spec.containers.[name=web].image`) as kustomize's `GetFieldValue` does; a missing or
/// null field is `None`.
fn field_value(object: &Value, field_path: &str) -> Option<VarValue> {
    let mut node = object;
    for part in field_path
        .split('.')
        .flat_map(split_index)
        .filter(|p| !p.trim().is_empty())
    {
        let part = part.trim();
        // kyaml's PathGetter: integers and "-" index lists, "[k=v]" matches an element
        // exactly, anything else is a map key.
        let index = part.parse::<i64>().ok();
        let element = part.strip_prefix('[').and_then(|p| p.strip_suffix(']'));
        node = match (node, index, element) {
            (Value::Array(items), Some(i), _) => items.get(usize::try_from(i).ok()?)?,
            (Value::Array(items), None, _) if part == "-" => items.last()?,
            (Value::Array(items), None, Some(inner)) => {
                let (key, want) = inner.split_once('=')?;
                items.iter().find(|item| {
                    let field = if key.is_empty() {
                        Some(*item)
                    } else {
                        item.get(key)
                    };
                    field.and_then(scalar_text).as_deref() == Some(want)
                })?
            }
            (Value::Object(map), None, None) if part != "-" => map.get(part)?,
            _ => return None,
        };
    }
    Some(match node {
        Value::Null => return None,
        Value::String(s) => VarValue::Str(s.clone()),
        Value::Bool(b) => VarValue::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => VarValue::Int(i),
            None => VarValue::Float(n.as_f64().unwrap_or_default()),
        },
        Value::Array(_) | Value::Object(_) => VarValue::Unusable,
    })
}

/// `ports[0]` is two path parts, `ports` and `0`.
fn split_index(part: &str) -> Vec<&str> {
    if let Some(open) = part.rfind('[')
        && let Some(digits) = part[open + 1..].strip_suffix(']')
        && !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
    {
        let head = &part[..open];
        if head.is_empty() {
            return vec![digits];
        }
        return vec![head, digits];
    }
    vec![part]
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn substitute_node<'a>(
    node: &mut Value,
    values: &HashMap<&'a str, VarValue>,
    used: &mut BTreeSet<&'a str>,
) -> Result<()> {
    match node {
        Value::String(s) => {
            if let Some(new) = expand(s, values, used) {
                *node = new;
            }
            Ok(())
        }
        Value::Object(map) => {
            for v in map.values_mut() {
                if let Value::String(s) = v
                    && let Some(new) = expand(s, values, used)
                {
                    *v = new;
                }
            }
            Ok(())
        }
        Value::Array(items) => {
            for item in items {
                let Value::String(s) = item else {
                    return Err(Error::msg("invalid value type expect a string"));
                };
                if let Some(new) = expand(s, values, used) {
                    *item = new;
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Expands `$(NAME)` references in `input`; `None` when the text has no `$` at all.
fn expand<'a>(
    input: &str,
    values: &HashMap<&'a str, VarValue>,
    used: &mut BTreeSet<&'a str>,
) -> Option<Value> {
    if !input.contains('$') {
        return None;
    }
    let bytes = input.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(input.len());
    let mut checkpoint = 0;
    let mut cursor = 0;
    while cursor < bytes.len() {
        if bytes[cursor] == b'$' && cursor + 1 < bytes.len() {
            out.extend_from_slice(&bytes[checkpoint..cursor]);
            let rest = &input[cursor + 1..];
            let advance = match bytes[cursor + 1] {
                b'$' => {
                    out.push(b'$');
                    1
                }
                b'(' => match rest.find(')') {
                    Some(close) => {
                        let name = &rest[1..close];
                        let mapped = lookup(name, values, used);
                        if input.len() == close + 2 && cursor == 0 {
                            // The whole value is one reference: keep the var's type.
                            return Some(mapped.into_value(name));
                        }
                        out.extend_from_slice(mapped.as_text(name).as_bytes());
                        close + 1
                    }
                    None => {
                        out.extend_from_slice(b"$(");
                        1
                    }
                },
                other => {
                    // Go converts the lone byte to a rune, as kustomize's expansion does.
                    out.push(b'$');
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(char::from(other).encode_utf8(&mut buf).as_bytes());
                    1
                }
            };
            cursor += advance;
            checkpoint = cursor + 1;
        }
        cursor += 1;
    }
    out.extend_from_slice(&bytes[checkpoint.min(bytes.len())..]);
    Some(Value::String(match String::from_utf8(out) {
        Ok(text) => text,
        // The byte-to-rune conversion above can split a multi-byte character. kustomize prints
        // such a string, which is not UTF-8, as the base64 of its bytes (its YAML encoder tags it
        // `!!binary` and the JSON round trip of the output drops the tag), so tether does too.
        Err(invalid) => base64::engine::general_purpose::STANDARD.encode(invalid.as_bytes()),
    }))
}

/// What a reference expands to.
enum Mapped<'v> {
    Found(&'v VarValue),
    Unknown,
}

fn lookup<'v, 'a>(
    name: &str,
    values: &'v HashMap<&'a str, VarValue>,
    used: &mut BTreeSet<&'a str>,
) -> Mapped<'v> {
    match values.get_key_value(name) {
        Some((key, value)) if *value != VarValue::Unusable => {
            used.insert(key);
            Mapped::Found(value)
        }
        _ => Mapped::Unknown,
    }
}

impl Mapped<'_> {
    fn into_value(self, name: &str) -> Value {
        match self {
            Mapped::Found(VarValue::Str(s)) => Value::String(s.clone()),
            Mapped::Found(VarValue::Int(i)) => Value::from(*i),
            Mapped::Found(VarValue::Float(f)) => {
                serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number)
            }
            Mapped::Found(VarValue::Bool(b)) => Value::Bool(*b),
            _ => Value::String(format!("$({name})")),
        }
    }

    fn as_text(&self, name: &str) -> String {
        match self {
            Mapped::Found(VarValue::Str(s)) => s.clone(),
            Mapped::Found(VarValue::Int(i)) => i.to_string(),
            Mapped::Found(VarValue::Float(f)) => go_float(*f),
            Mapped::Found(VarValue::Bool(b)) => b.to_string(),
            _ => format!("$({name})"),
        }
    }
}

/// Go's `%v` of a float64 (`strconv.FormatFloat(f, 'g', -1, 64)`): shortest digits, with an
/// exponent when it is below -4 or at least 6.
fn go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.into();
    }
    // Rust's `{:e}` gives the shortest round-tripping digits, as Go's -1 precision does.
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    // strconv uses precision 6 for this decision when formatting the shortest digits.
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    } else {
        format!("{f}")
    }
}

/// kustomize's built-in `varReference` field specs.
pub fn builtin_var_references() -> Vec<FieldSpec> {
    const HOLDERS: &[(&str, &str, &str)] = &[
        // kind, pod spec path, nfs volume path (CronJob's misses a "spec/", as upstream's)
        (
            "CronJob",
            "spec/jobTemplate/spec/template/spec",
            "spec/jobTemplate/spec/template/volumes/nfs/server",
        ),
        (
            "DaemonSet",
            "spec/template/spec",
            "spec/template/spec/volumes/nfs/server",
        ),
        (
            "Deployment",
            "spec/template/spec",
            "spec/template/spec/volumes/nfs/server",
        ),
        (
            "Job",
            "spec/template/spec",
            "spec/template/spec/volumes/nfs/server",
        ),
        ("Pod", "spec", "spec/volumes/nfs/server"),
        (
            "ReplicaSet",
            "spec/template/spec",
            "spec/template/spec/volumes/nfs/server",
        ),
        (
            "StatefulSet",
            "spec/template/spec",
            "spec/volumeClaimTemplates/spec/nfs/server",
        ),
    ];
    const CONTAINER_FIELDS: &[&str] = &["args", "command", "env/value", "volumeMounts/mountPath"];
    const OTHERS: &[(&str, &str)] = &[
        ("Deployment", "spec/template/metadata/annotations"),
        ("Ingress", "spec/rules/host"),
        ("Ingress", "spec/tls/hosts"),
        ("Ingress", "spec/tls/secretName"),
        ("Service", "spec/ports/port"),
        ("Service", "spec/ports/targetPort"),
        ("PersistentVolume", "spec/nfs/server"),
        ("", "metadata/labels"),
        ("", "metadata/annotations"),
    ];
    let spec = |kind: &str, path: String| FieldSpec {
        kind: kind.to_owned(),
        path,
        ..FieldSpec::default()
    };
    let mut specs = Vec::new();
    for (kind, pod_spec, nfs) in HOLDERS {
        for containers in ["containers", "initContainers"] {
            for field in CONTAINER_FIELDS {
                specs.push(spec(kind, format!("{pod_spec}/{containers}/{field}")));
            }
        }
        specs.push(spec(kind, (*nfs).to_owned()));
    }
    specs.extend(OTHERS.iter().map(|(k, p)| spec(k, (*p).to_owned())));
    specs
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn values(pairs: &[(&'static str, VarValue)]) -> HashMap<&'static str, VarValue> {
        pairs.iter().cloned().collect()
    }

    fn run(input: &str, vals: &HashMap<&'static str, VarValue>) -> (Value, Vec<&'static str>) {
        let mut used = BTreeSet::new();
        let out = expand(input, vals, &mut used).unwrap_or_else(|| json!(input));
        (out, used.into_iter().collect())
    }

    #[test]
    fn expansion_follows_kustomize() {
        let vals = values(&[
            ("S", VarValue::Str("svc".into())),
            ("N", VarValue::Int(8080)),
            ("F", VarValue::Float(1.5)),
            ("B", VarValue::Bool(true)),
            ("M", VarValue::Unusable),
        ]);
        assert_eq!(run("$(N)", &vals).0, json!(8080));
        assert_eq!(run("$(B)", &vals).0, json!(true));
        assert_eq!(run("$(F)", &vals).0, json!(1.5));
        assert_eq!(run("x$(N)y", &vals).0, json!("x8080y"));
        assert_eq!(run("$(S)-$(S)", &vals).0, json!("svc-svc"));
        assert_eq!(run("$(M)", &vals), (json!("$(M)"), vec![]));
        assert_eq!(run("a$(M)", &vals).0, json!("a$(M)"));
        assert_eq!(run("$(NOPE)", &vals), (json!("$(NOPE)"), vec![]));
        assert_eq!(run("$$(S)", &vals), (json!("$(S)"), vec![]));
        assert_eq!(run("$(S", &vals).0, json!("$(S"));
        assert_eq!(run("$$", &vals).0, json!("$"));
        assert_eq!(run("$x", &vals).0, json!("$x"));
        assert_eq!(run("end$", &vals).0, json!("end$"));
        // `$` takes the first byte of a multi-byte character as a rune; the rest is not UTF-8.
        assert_eq!(run("$é", &vals).0, json!("JMODqQ=="));
        assert_eq!(run("5$ €", &vals).0, json!("5$ €"));
        assert_eq!(run("$(S)$(N)", &vals), (json!("svc8080"), vec!["N", "S"]));
    }

    #[test]
    fn go_float_formatting() {
        assert_eq!(go_float(1.5), "1.5");
        assert_eq!(go_float(1.0), "1");
        assert_eq!(go_float(100000.0), "100000");
        assert_eq!(go_float(1e6), "1e+06");
        assert_eq!(go_float(1234567.5), "1.2345675e+06");
        assert_eq!(go_float(1e21), "1e+21");
        assert_eq!(go_float(0.0001), "0.0001");
        assert_eq!(go_float(0.00001), "1e-05");
    }

    #[test]
    fn field_paths_with_indexes() {
        let obj = json!({"spec": {"ports": [{"port": 80, "name": "http"}, {"port": 81}],
            "selector": {"a": "b"}, "empty": null}});
        assert_eq!(
            field_value(&obj, "spec.ports[0].port"),
            Some(VarValue::Int(80))
        );
        assert_eq!(
            field_value(&obj, "spec.ports.1.port"),
            Some(VarValue::Int(81))
        );
        assert_eq!(
            field_value(&obj, "spec.ports.[name=http].port"),
            Some(VarValue::Int(80))
        );
        assert_eq!(field_value(&obj, "spec.selector"), Some(VarValue::Unusable));
        assert_eq!(field_value(&obj, "spec.empty"), None);
        assert_eq!(field_value(&obj, "spec.ports[5].port"), None);
    }

    #[test]
    fn set_rejects_duplicate_names() {
        let mut set = VarSet::new();
        let v = Var {
            name: "X".into(),
            ..Var::default()
        };
        set.merge_slice(std::slice::from_ref(&v)).unwrap();
        let err = set.merge_slice(&[v]).unwrap_err();
        assert_eq!(err.to_string(), "var 'X' already encountered");
    }

    #[test]
    fn display_is_gos_struct_format() {
        let v: Var = serde_json::from_value(json!({
            "name": "X",
            "objref": {"kind": "ConfigMap", "name": "src"},
            "fieldref": {"fieldPath": "data.v"}
        }))
        .unwrap();
        assert_eq!(v.to_string(), "{X ConfigMap.[noVer].[noGrp] {data.v}}");
        let v: Var = serde_json::from_value(json!({
            "name": "Y", "objref": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "d"}
        }))
        .unwrap();
        assert_eq!(v.to_string(), "{Y Deployment.v1.apps {metadata.name}}");
    }

    fn resmap(yaml: &str) -> ResMap {
        let mut m = ResMap::new();
        for doc in tether_yaml::parse_documents(yaml).unwrap() {
            m.append(Resource::new(doc.value)).unwrap();
        }
        m
    }

    fn var(name: &str, kind: &str, res: &str, path: &str) -> Var {
        serde_json::from_value(json!({
            "name": name,
            "objref": {"apiVersion": "v1", "kind": kind, "name": res},
            "fieldref": {"fieldpath": path},
        }))
        .unwrap()
    }

    const SVC_AND_POD: &str = r#"
apiVersion: v1
kind: Service
metadata:
  name: svc
  namespace: a
spec:
  ports:
  - port: 8080
---
apiVersion: v1
kind: Pod
metadata:
  name: pod
spec:
  containers:
  - name: c
    command: ["serve", "--addr=$(SVC):$(PORT)", "$(PORT)"]
    args: ["$(UNKNOWN)"]
"#;

    #[test]
    fn vars_read_current_values_of_their_original_resource() {
        let mut m = resmap(SVC_AND_POD);
        let mut set = VarSet::new();
        let vars = [
            var("SVC", "Service", "svc", ""),
            var("PORT", "Service", "svc", "spec.ports[0].port"),
            var("NEVER_USED", "Service", "svc", "metadata.namespace"),
        ];
        merge_vars(&mut m, &mut set, &vars).unwrap();
        // Renamed after the vars were declared: the var still finds it, and reads the new name.
        let svc = &mut m.resources[0];
        svc.store_previous_id();
        svc.set_name("p-svc");
        let unused = resolve_vars(&mut m, &set, &builtin_var_references()).unwrap();
        assert_eq!(unused, ["NEVER_USED"]);
        let c = m.resources[1].object.pointer("/spec/containers/0").unwrap();
        assert_eq!(c["command"], json!(["serve", "--addr=p-svc:8080", 8080]));
        assert_eq!(c["args"], json!(["$(UNKNOWN)"]));
    }

    #[test]
    fn var_errors_name_the_var() {
        let mut m = resmap(SVC_AND_POD);
        let mut set = VarSet::new();
        let missing = var("X", "Service", "nope", "");
        merge_vars(&mut m, &mut set, &[missing]).unwrap();
        let err = resolve_vars(&mut m, &set, &builtin_var_references()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "var '{X Service.v1.[noGrp] {metadata.name}}' cannot be mapped to a field in the set of known resources"
        );

        let mut m = resmap(SVC_AND_POD);
        let mut set = VarSet::new();
        merge_vars(&mut m, &mut set, &[var("Y", "Service", "svc", "spec.nope")]).unwrap();
        let err = resolve_vars(&mut m, &set, &builtin_var_references()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "field specified in var '{Y Service.v1.[noGrp] {spec.nope}}' not found in corresponding resource"
        );
    }

    #[test]
    fn a_var_without_namespace_matching_two_resources_is_ambiguous() {
        let mut m = resmap(&format!(
            "{SVC_AND_POD}\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: svc\n  namespace: b\n"
        ));
        let mut set = VarSet::new();
        let err = merge_vars(&mut m, &mut set, &[var("S", "Service", "svc", "")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "found 2 resId matches for var {S Service.v1.[noGrp] {}} (unable to disambiguate)"
        );
        let mut with_ns = var("S", "Service", "svc", "");
        with_ns.objref.namespace = "b".into();
        merge_vars(&mut m, &mut set, &[with_ns]).unwrap();
        assert_eq!(m.resources[2].ref_var_names, ["S"]);
    }

    #[test]
    fn lists_of_non_strings_are_rejected() {
        let mut m = resmap(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n    a: $(S)\nspec:\n  containers:\n  - name: c\n    args: [1, \"$(S)\"]\n",
        );
        let mut set = VarSet::new();
        merge_vars(&mut m, &mut set, &[var("S", "Pod", "p", "")]).unwrap();
        let err = resolve_vars(&mut m, &set, &builtin_var_references()).unwrap_err();
        assert!(
            err.to_string()
                .contains("invalid value type expect a string"),
            "{err}"
        );
    }
}
