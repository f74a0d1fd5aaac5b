//! Scalars that kustomize shares between fields of one resource.
//!
//! kustomize's label and annotation transformers build one YAML scalar node per key and resource
//! and append that same node to every map where the key was missing (kyaml's `SetEntry` with a
//! `FieldSetter` that appends when the field is absent). Later writes that copy a value into an
//! existing field (`FieldSetter` on a present key: strategic merge patches, replacements, vars,
//! another label transformer) overwrite that node in place, so every field sharing it changes.
//! Example: a base adds `sel: base` with `includeSelectors`; an overlay's plain `labels:` pair
//! `sel: top` (metadata only) also rewrites the selector and template labels.
//!
//! tether keeps values, not nodes, so it records the fields that share a node as a group with
//! the value they last had, and after each step copies a changed value to the rest of the group.
//! A field that disappears leaves its group; JSON 6902 patches rebuild the object from JSON, as
//! kustomize's do, which ends all sharing in that resource.

use serde_json::Value;

/// One step of a path into a resource's object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathStep {
    Key(String),
    Index(usize),
}

/// Fields of one resource that hold one shared scalar.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedScalar {
    paths: Vec<Vec<PathStep>>,
    value: Value,
}

/// Marks a map entry a transformer is creating, so the fields that got it can be found after all
/// field specs ran. The NUL bytes keep it apart from text read from YAML (which cannot hold a raw
/// NUL and practically never an escaped pair of them around this word).
const MARK_PREFIX: &str = "\u{0}\u{1}tether-shared-scalar\u{1}";

pub fn creation_mark(index: usize) -> Value {
    Value::String(format!("{MARK_PREFIX}{index}"))
}

/// Replaces the creation marks in `object` by `values[index]` and returns one group per index
/// whose value went into two fields or more.
pub fn resolve_creation_marks(object: &mut Value, values: &[Value]) -> Vec<SharedScalar> {
    let mut found: Vec<Vec<Vec<PathStep>>> = vec![Vec::new(); values.len()];
    let mut path = Vec::new();
    replace_marks(object, values, &mut path, &mut found);
    found
        .into_iter()
        .zip(values)
        .filter(|(paths, _)| paths.len() > 1)
        .map(|(paths, value)| SharedScalar {
            paths,
            value: value.clone(),
        })
        .collect()
}

fn replace_marks(
    v: &mut Value,
    values: &[Value],
    path: &mut Vec<PathStep>,
    found: &mut [Vec<Vec<PathStep>>],
) {
    match v {
        Value::String(s) => {
            let Some(index) = s
                .strip_prefix(MARK_PREFIX)
                .and_then(|i| i.parse::<usize>().ok())
                .filter(|&i| i < values.len())
            else {
                return;
            };
            *v = values[index].clone();
            found[index].push(path.clone());
        }
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                path.push(PathStep::Key(k.clone()));
                replace_marks(child, values, path, found);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter_mut().enumerate() {
                path.push(PathStep::Index(i));
                replace_marks(child, values, path, found);
                path.pop();
            }
        }
        _ => {}
    }
}

fn get<'a>(object: &'a Value, path: &[PathStep]) -> Option<&'a Value> {
    path.iter().try_fold(object, |v, step| match step {
        PathStep::Key(k) => v.as_object()?.get(k),
        PathStep::Index(i) => v.as_array()?.get(*i),
    })
}

fn get_mut<'a>(object: &'a mut Value, path: &[PathStep]) -> Option<&'a mut Value> {
    path.iter().try_fold(object, |v, step| match step {
        PathStep::Key(k) => v.as_object_mut()?.get_mut(k),
        PathStep::Index(i) => v.as_array_mut()?.get_mut(*i),
    })
}

/// Copies a value written into one field of a group to the other fields, as kustomize's in-place
/// node writes do. Fields that are gone, or no longer scalars, leave their group.
pub fn propagate(object: &mut Value, groups: &mut Vec<SharedScalar>) {
    for group in groups.iter_mut() {
        group.paths.retain(|p| {
            get(object, p).is_some_and(|v| !matches!(v, Value::Object(_) | Value::Array(_)))
        });
        let changed = group
            .paths
            .iter()
            .filter_map(|p| get(object, p))
            .find(|v| **v != group.value)
            .cloned();
        if let Some(new) = changed {
            for p in &group.paths {
                if let Some(slot) = get_mut(object, p) {
                    *slot = new.clone();
                }
            }
            group.value = new;
        }
    }
    groups.retain(|g| g.paths.len() > 1);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn marks_become_groups_and_writes_spread() {
        let mut o = json!({
            "metadata": {"labels": {"a": creation_mark(0), "b": creation_mark(1)}},
            "spec": {"selector": {"a": creation_mark(0)}, "list": [{"a": creation_mark(0)}]},
        });
        let mut groups = resolve_creation_marks(&mut o, &[json!("x"), json!("y")]);
        assert_eq!(groups.len(), 1, "b went into one field only");
        assert_eq!(o["spec"]["list"][0]["a"], json!("x"));
        assert_eq!(o["metadata"]["labels"]["b"], json!("y"));

        o["metadata"]["labels"]["a"] = json!("z");
        propagate(&mut o, &mut groups);
        assert_eq!(o["spec"]["selector"]["a"], json!("z"));
        assert_eq!(o["spec"]["list"][0]["a"], json!("z"));

        // A removed field leaves; a group of one is no group.
        o["spec"]["selector"].as_object_mut().unwrap().remove("a");
        o["spec"]["list"] = json!([]);
        propagate(&mut o, &mut groups);
        assert!(groups.is_empty());
        o["metadata"]["labels"]["a"] = json!("w");
        propagate(&mut o, &mut groups);
        assert_eq!(o["metadata"]["labels"]["a"], json!("w"));
    }

    #[test]
    fn unchanged_groups_write_nothing() {
        let mut o = json!({"m": {"a": creation_mark(0)}, "n": {"a": creation_mark(0)}});
        let mut groups = resolve_creation_marks(&mut o, &[json!("v")]);
        let before = o.clone();
        propagate(&mut o, &mut groups);
        assert_eq!(o, before);
        assert_eq!(groups.len(), 1);
    }
}
