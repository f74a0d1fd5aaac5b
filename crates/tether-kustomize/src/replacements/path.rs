//! kyaml field paths as replacements use them: `spec.template.spec.containers.[name=web].image`.
//!
//! - [`split`] is kyaml's `SmarterPathSplitter`: `.` separates parts, `\.` is a literal dot,
//!   `[...]` groups holding `=` stay whole, other bracketed groups lose their brackets
//!   (`metadata.annotations.[a.b/c]`).
//! - [`lookup`] is `PathGetter` (sources): integers and `-` index lists, `[k=v]` picks the first
//!   element whose `k` is exactly `v`, anything else is a map key; null counts as missing.
//! - [`visit`] is `PathMatcher` (targets): `[k=v]` matches every element whose `k` matches the
//!   *unanchored* regular expression `v`, `*` every element, and with `create` missing fields,
//!   list entries and `index == len` elements are added.

use regex::Regex;
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// kyaml's `SmarterPathSplitter(path, ".")`.
pub fn split(path: &str) -> Vec<String> {
    let mut escaped: Vec<String> = Vec::new();
    for piece in path.split('.') {
        match escaped.last_mut() {
            Some(last) if last.ends_with('\\') => {
                last.pop();
                last.push('.');
                last.push_str(piece);
            }
            _ => escaped.push(piece.to_owned()),
        }
    }
    let mut result = Vec::new();
    let mut i = 0;
    while i < escaped.len() {
        let elem = &escaped[i];
        if elem.starts_with('[') && !elem.ends_with(']') {
            let mut group = vec![elem.as_str()];
            while i < escaped.len() - 1 {
                i += 1;
                group.push(&escaped[i]);
                if escaped[i].ends_with(']') {
                    break;
                }
            }
            let joined = group.join(".");
            if joined.contains('=') {
                result.push(joined);
            } else {
                result.push(joined.trim_matches(['[', ']']).to_owned());
            }
        } else {
            result.push(elem.clone());
        }
        i += 1;
    }
    result
}

fn is_index(part: &str) -> Option<usize> {
    part.parse::<i64>()
        .ok()
        .and_then(|i| usize::try_from(i).ok())
}

fn is_list_entry(part: &str) -> bool {
    part.starts_with('[') && part.ends_with(']')
}

/// `[k=v]` → (`k`, `v`).
fn entry_key_value(part: &str) -> Result<(&str, &str)> {
    let inner = &part[1..part.len() - 1];
    inner.split_once('=').ok_or_else(|| {
        Error::msg("list path element must contain fieldName=fieldValue for element to match")
    })
}

fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Object(_) => "MappingNode",
        Value::Array(_) => "SequenceNode",
        _ => "ScalarNode",
    }
}

fn wrong_kind(expected: &str, node: &Value) -> Error {
    Error::msg(format!(
        "wrong node kind: expected {expected} but got {}: node contents:\n{}",
        kind_name(node),
        tether_yaml::to_yaml(node).trim_end()
    ))
}

/// The text kyaml matches list-entry expressions against.
fn match_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_owned(),
        other => tether_yaml::to_yaml(other).trim().to_owned(),
    }
}

/// kyaml's `PathGetter`: the node at `path`, `None` when missing or null.
pub fn lookup<'a>(node: &'a Value, path: &[String]) -> Result<Option<&'a Value>> {
    let mut node = node;
    for part in path.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        let next = if let Ok(i) = part.parse::<i64>() {
            if i < 0 {
                return Err(Error::msg(format!("array index {i} cannot be negative")));
            }
            match node {
                Value::Array(items) => usize::try_from(i).ok().and_then(|i| items.get(i)),
                Value::Null => None,
                other => return Err(wrong_kind("SequenceNode", other)),
            }
        } else if part == "-" {
            match node {
                Value::Array(items) => items.last(),
                Value::Null => None,
                other => return Err(wrong_kind("SequenceNode", other)),
            }
        } else if is_list_entry(part) {
            let (key, want) = entry_key_value(part)?;
            match node {
                Value::Array(items) => items.iter().find(|item| {
                    if key.is_empty() {
                        !item.is_object() && !item.is_array() && match_text(item) == want
                    } else {
                        item.get(key).is_some_and(|f| match_text(f) == want)
                    }
                }),
                Value::Null => None,
                other => return Err(wrong_kind("SequenceNode", other)),
            }
        } else {
            match node {
                Value::Object(map) => map.get(part),
                Value::Null => None,
                other => return Err(wrong_kind("MappingNode", other)),
            }
        };
        match next {
            None | Some(Value::Null) => return Ok(None),
            Some(n) => node = n,
        }
    }
    Ok(Some(node))
}

/// What a missing leaf is created as (the kind of the value to be written).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Create {
    Scalar,
    Map,
    List,
}

impl Create {
    pub fn for_value(v: &Value) -> Create {
        match v {
            Value::Object(_) => Create::Map,
            Value::Array(_) => Create::List,
            _ => Create::Scalar,
        }
    }
}

/// kyaml's `getPathPartKind`: what to create for a part followed by `next`.
fn node_for(next: Option<&String>, create: Create) -> Value {
    match next {
        Some(n) if is_list_entry(n) || is_index(n).is_some() => Value::Array(Vec::new()),
        Some(_) => Value::Object(Map::new()),
        None => match create {
            Create::Map => Value::Object(Map::new()),
            Create::List => Value::Array(Vec::new()),
            Create::Scalar => Value::Null,
        },
    }
}

/// A matched node; `created` when the node is a scalar placeholder made by `create` (it has no
/// YAML tag yet, so whatever text lands in it resolves as a plain scalar).
pub type Leaf<'f> = dyn FnMut(&mut Value, bool) -> Result<()> + 'f;

/// kyaml's `PathMatcher`: calls `leaf` on every node matching `path`.
pub fn visit(
    node: &mut Value,
    path: &[String],
    create: Option<Create>,
    leaf: &mut Leaf<'_>,
) -> Result<()> {
    visit_at(node, path, create, false, leaf)
}

fn visit_at(
    node: &mut Value,
    path: &[String],
    create: Option<Create>,
    created: bool,
    leaf: &mut Leaf<'_>,
) -> Result<()> {
    let Some((part, rest)) = path.split_first() else {
        return leaf(node, created);
    };
    if let Some(index) = is_index(part) {
        visit_index(node, index, path, create, leaf)
    } else if is_list_entry(part) {
        visit_entries(node, part, rest, create, leaf)
    } else if part == "*" {
        match node {
            Value::Array(items) => items
                .iter_mut()
                .try_for_each(|item| visit_at(item, rest, create, false, leaf)),
            Value::Null => Ok(()),
            other => Err(wrong_kind("SequenceNode", other)),
        }
    } else {
        visit_field(node, part, rest, create, leaf)
    }
}

fn visit_field(
    node: &mut Value,
    part: &str,
    rest: &[String],
    create: Option<Create>,
    leaf: &mut Leaf<'_>,
) -> Result<()> {
    if part.is_empty() {
        return Err(Error::msg("must specify field name"));
    }
    if node.is_null() {
        if create.is_none() {
            return Ok(());
        }
        *node = Value::Object(Map::new());
    }
    let Value::Object(map) = node else {
        return Err(wrong_kind("MappingNode", node));
    };
    if let Some(child) = map.get_mut(part) {
        return visit_at(child, rest, create, false, leaf);
    }
    let Some(kind) = create else {
        return Ok(());
    };
    let child = map
        .entry(part.to_owned())
        .or_insert(node_for(rest.first(), kind));
    visit_at(child, rest, create, rest.is_empty(), leaf)
}

fn visit_index(
    node: &mut Value,
    index: usize,
    path: &[String],
    create: Option<Create>,
    leaf: &mut Leaf<'_>,
) -> Result<()> {
    if node.is_null() && create.is_some() && index == 0 {
        *node = Value::Array(Vec::new());
    }
    let items = match node {
        Value::Array(items) => items,
        Value::Null => {
            return Err(Error::msg(format!(
                "index {index} specified but only 0 elements found"
            )));
        }
        other => return Err(wrong_kind("SequenceNode", other)),
    };
    let rest = &path[1..];
    let mut created = false;
    if let Some(kind) = create
        && items.len() == index
    {
        items.push(node_for(rest.first(), kind));
        created = rest.is_empty();
    }
    let len = items.len();
    match items.get_mut(index) {
        Some(item) => visit_at(item, rest, create, created, leaf),
        None => Err(Error::msg(format!(
            "index {index} specified but only {len} elements found"
        ))),
    }
}

fn visit_entries(
    node: &mut Value,
    part: &str,
    rest: &[String],
    create: Option<Create>,
    leaf: &mut Leaf<'_>,
) -> Result<()> {
    let (key, pattern) = entry_key_value(part)?;
    let re = Regex::new(pattern).map_err(|e| Error::msg(format!("error parsing regexp: {e}")))?;
    let primitive = key.is_empty();
    let mut matched = 0usize;
    if let Value::Array(items) = node {
        for item in items.iter_mut() {
            if primitive {
                // kyaml returns a matching scalar element itself, ignoring the rest of the path.
                if !item.is_object() && !item.is_array() && re.is_match(&match_text(item)) {
                    matched += 1;
                    leaf(item, false)?;
                }
                continue;
            }
            let hit = item
                .get(key)
                .filter(|v| !v.is_null())
                .is_some_and(|v| re.is_match(&match_text(v)));
            if hit {
                let mut counting = |n: &mut Value, c: bool| {
                    matched += 1;
                    leaf(n, c)
                };
                visit_at(item, rest, create, false, &mut counting)?;
            }
        }
    } else if !node.is_null() {
        return Err(wrong_kind("SequenceNode", node));
    }
    if matched > 0 {
        return Ok(());
    }
    if create.is_none() {
        return Ok(());
    }
    // Nothing matched: append an element that will (its values untagged, so they resolve as
    // plain scalars), then search again, without creating more.
    let value = super::scalar::resolve(pattern).1;
    let element = if primitive {
        value
    } else {
        let mut m = Map::new();
        m.insert(key.to_owned(), value);
        Value::Object(m)
    };
    if node.is_null() {
        *node = Value::Array(Vec::new());
    }
    if let Value::Array(items) = node {
        items.push(element);
        if primitive {
            // The new element is an untagged scalar: it is the leaf itself.
            if let Some(last) = items.last_mut()
                && re.is_match(&match_text(last))
            {
                return leaf(last, true);
            }
            return Ok(());
        }
        if let Some(last) = items.last_mut()
            && last.get(key).is_some_and(|v| re.is_match(&match_text(v)))
        {
            return visit_at(last, rest, create, false, leaf);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn s(parts: &[&str]) -> Vec<String> {
        parts.iter().map(|p| (*p).to_owned()).collect()
    }

    #[test]
    fn smarter_split() {
        assert_eq!(split("spec.replicas"), s(&["spec", "replicas"]));
        assert_eq!(
            split("spec.data.[name=f.i.r.s.t.].key"),
            s(&["spec", "data", "[name=f.i.r.s.t.]", "key"])
        );
        assert_eq!(split(r"spec\.replicas"), s(&["spec.replicas"]));
        assert_eq!(
            split("metadata.annotations.[a.b.c/d.e.f-g.]"),
            s(&["metadata", "annotations", "a.b.c/d.e.f-g."])
        );
        assert_eq!(
            split("spec.data.[name=f.i.[r.s.t..key"),
            s(&["spec", "data", "[name=f.i.[r.s.t..key"])
        );
        // A one-part bracket group keeps its brackets (and is then a list entry).
        assert_eq!(split("a.[b]"), s(&["a", "[b]"]));
    }

    #[test]
    fn lookup_is_exact() {
        let v = json!({"spec": {"containers": [{"name": "nginx-x", "image": "a"},
            {"name": "nginx", "image": "b"}], "args": ["x", "y"]}});
        let get = |p: &str| lookup(&v, &split(p)).unwrap().cloned();
        assert_eq!(get("spec.containers.[name=nginx].image"), Some(json!("b")));
        assert_eq!(get("spec.containers.1.image"), Some(json!("b")));
        assert_eq!(get("spec.containers.-.image"), Some(json!("b")));
        assert_eq!(get("spec.args.[=y]"), Some(json!("y")));
        assert_eq!(get("spec.containers.5.image"), None);
        assert_eq!(get("spec.nope"), None);
        let err = lookup(&v, &split("spec.containers.image")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("wrong node kind: expected MappingNode but got SequenceNode")
        );
    }

    fn matches(v: &mut Value, p: &str, create: Option<Create>) -> Result<Vec<(Value, bool)>> {
        let mut out = Vec::new();
        visit(v, &split(p), create, &mut |n, c| {
            out.push((n.clone(), c));
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn visit_matches_unanchored_regexes_and_wildcards() {
        let mut v = json!({"c": [{"name": "nginx", "env": [{"name": "A", "value": 1}]},
            {"name": "sidecar", "env": [{"name": "AB", "value": 2}]}]});
        let found = matches(&mut v, "c.[name=ng].name", None).unwrap();
        assert_eq!(found, vec![(json!("nginx"), false)]);
        let found = matches(&mut v, "c.*.env.[name=A].value", None).unwrap();
        assert_eq!(found, vec![(json!(1), false), (json!(2), false)]);
        assert!(
            matches(&mut v, "c.[name=zzz].name", None)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn visit_creates_what_is_missing() {
        let mut v = json!({"metadata": {"annotations": null}, "idx": [{"a": 1}]});
        let found = matches(&mut v, "metadata.annotations.x", Some(Create::Scalar)).unwrap();
        assert_eq!(found, vec![(json!(null), true)]);
        matches(&mut v, "spec.list.[name=n1].value", Some(Create::Scalar)).unwrap();
        matches(&mut v, "idx.1.a", Some(Create::Scalar)).unwrap();
        let found = matches(&mut v, "spec.prims.[=80]", Some(Create::Scalar)).unwrap();
        assert_eq!(found, vec![(json!(80), true)]);
        assert_eq!(
            v,
            json!({"metadata": {"annotations": {"x": null}},
                "idx": [{"a": 1}, {"a": null}],
                "spec": {"list": [{"name": "n1", "value": null}], "prims": [80]}})
        );
        let err = matches(&mut v, "idx.5.a", Some(Create::Scalar)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "index 5 specified but only 2 elements found"
        );
    }

    #[test]
    fn visit_reports_wrong_kinds() {
        let mut v = json!({"m": {"a": 1}, "s": "str"});
        let err = matches(&mut v, "m.*", None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "wrong node kind: expected SequenceNode but got MappingNode: node contents:\na: 1"
        );
        let err = matches(&mut v, "s.x", None).unwrap_err();
        assert!(
            err.to_string()
                .contains("expected MappingNode but got ScalarNode")
        );
    }
}
