//! kyaml's merge of an associative list (`walkAssociativeSequence`,
//! `setAssociativeSequenceElements`, `appendListNode`, `ElementSetter`), reproduced step by step
//! because its quirks decide the output: the patch's elements come first, elements are found by
//! the *text* of their keys, `{}` and `null` elements are dropped whenever an element is set, an
//! element without its key resets the list, and with several keys the resource's elements are
//! moved behind the patch's.
//!
//! kyaml works on shared YAML nodes: the merged list refers to the resource's own element
//! nodes, and a later step can swap one node for another. Elements therefore live in an arena
//! and the lists hold indices; a node listed twice is cloned only when the result is built.

use std::borrow::Cow;

use serde_json::Value;

use super::text::{field, key_text, node_text, plain_scalar};
use super::{Merger, Walked};
use crate::patch::error::{NodeKind, PatchError};
use crate::patch::schema::Sch;

/// Where the elements merged into the resource's list come from.
pub(super) enum Origin<'p> {
    /// Nowhere: the patch does not mention the list (kyaml still rebuilds it).
    None,
    /// The list itself: new content from the patch, walked against itself.
    Same,
    /// The patch's list.
    Patch(&'p [Value]),
}

struct Node {
    value: Value,
}

impl Node {
    /// `null` and `{}` elements are invalid for kyaml's `ElementSetter`, which drops them.
    fn is_void(&self) -> bool {
        match &self.value {
            Value::Null => true,
            Value::Object(m) => m.is_empty(),
            _ => false,
        }
    }
}

struct Arena {
    nodes: Vec<Node>,
}

impl<'s> Merger<'s> {
    /// Merges `origin` into the resource list `list` (kyaml's `walkAssociativeSequence` after
    /// `VisitList`), by `keys`, or as a set of scalars when `keys` is empty.
    pub(super) fn merge_list(
        &self,
        list: &mut Vec<Value>,
        origin: Origin<'_>,
        keys: &[&str],
        elements: Option<Sch<'s>>,
    ) -> Result<(), PatchError> {
        if matches!(origin, Origin::None) && is_plain(list, keys) {
            // The rebuild leaves such a list as it is; only its elements are walked.
            for (i, element) in list.iter_mut().enumerate() {
                self.normalize(element, elements)
                    .map_err(|e| e.within(&format!("[{i}]")))?;
            }
            return Ok(());
        }
        let primitive = keys.is_empty();
        let keys: Vec<&str> = if primitive { vec![""] } else { keys.to_vec() };
        let mut arena = Arena {
            nodes: list.drain(..).map(|value| Node { value }).collect(),
        };
        let mut dest: Vec<usize> = (0..arena.nodes.len()).collect();

        let mut values = element_values(&arena, &dest, &origin, &keys, primitive);
        if keys.len() > 1 {
            merge_values(&mut values);
        }
        // Keys that some element has a value for (`validateKeys` over the whole list).
        let present: Vec<bool> = (0..keys.len())
            .map(|i| {
                values
                    .iter()
                    .any(|v| v.get(i).is_some_and(|s| !s.is_empty()))
            })
            .collect();

        let mut items: Vec<usize> = Vec::new();
        let mut last_keys: Vec<&str> = keys.clone();
        for value in &values {
            if value.is_empty() {
                continue;
            }
            let (valid_keys, valid_values) = validate_keys(&keys, value, &present);
            last_keys.clone_from(&valid_keys);
            let (find_keys, find_values) = lookup_keys(&valid_keys, &valid_values);
            let here = |e: PatchError| e.within(&element_segment(&find_keys, &find_values));
            let in_dest = dest
                .iter()
                .copied()
                .find(|&i| matches(&arena.nodes[i].value, &find_keys, &find_values));
            let val = match origin {
                Origin::Same => match in_dest {
                    Some(i) => {
                        let keep = self
                            .walk_same(&mut arena.nodes[i].value, elements)
                            .map_err(here)?;
                        keep.then_some(i)
                    }
                    None => None,
                },
                Origin::None | Origin::Patch(_) => {
                    let in_patch = match origin {
                        Origin::Patch(patch) => {
                            patch.iter().find(|p| matches(p, &find_keys, &find_values))
                        }
                        _ => None,
                    };
                    let dest_node = in_dest.map(|i| &mut arena.nodes[i].value);
                    match self.walk(dest_node, in_patch, elements).map_err(here)? {
                        Walked::InPlace => in_dest,
                        Walked::New(v) => Some(arena.push(v)),
                        // kyaml keeps a resource null only as a map field.
                        Walked::KeptNull | Walked::Gone => None,
                    }
                }
            };

            let mut removed = false;
            for (i, key) in valid_keys.iter().enumerate() {
                let Some(v) = val.filter(|&v| !arena.nodes[v].is_void()) else {
                    arena.set_element(&mut dest, None, &valid_keys, &valid_values)?;
                    removed = true;
                    break;
                };
                if !has_field(&arena.nodes[v].value, key) && !valid_values[i].is_empty() {
                    arena.put_key(v, key, &valid_values[i])?;
                }
            }
            if removed {
                continue;
            }
            arena.set_element(&mut items, val, &valid_keys, &valid_values)?;
        }

        let result = if values.is_empty() {
            dest
        } else {
            // kustomize merges with "prepend": the resource's elements are set into the
            // merged ones, which keeps the patch's order first.
            arena.append_list(&mut items, &dest, &last_keys)?;
            items
        };
        *list = arena.into_values(&result);
        Ok(())
    }
}

impl Arena {
    fn push(&mut self, value: Value) -> usize {
        self.nodes.push(Node { value });
        self.nodes.len() - 1
    }

    /// kyaml's `ElementSetter`: replaces every element of `list` whose `keys` have `values` by
    /// `element`, or removes them when `element` is `None`, and appends `element` when none
    /// matched. Drops `{}` and `null` elements on the way.
    fn set_element(
        &self,
        list: &mut Vec<usize>,
        element: Option<usize>,
        keys: &[&str],
        values: &[String],
    ) -> Result<(), PatchError> {
        let keys: &[&str] = if keys.is_empty() { &[""] } else { keys };
        let mapping_setter = !keys[0].is_empty() && values.first().is_some_and(|v| !v.is_empty());
        let mut matched = false;
        let mut kept = Vec::with_capacity(list.len() + 1);
        for &index in list.iter() {
            let node = &self.nodes[index];
            if node.is_void() {
                continue;
            }
            if !node.value.is_object() && mapping_setter {
                kept.push(index);
                continue;
            }
            // As in kyaml, a key without a value reuses the previous key's verdict.
            let mut found = false;
            for (j, key) in keys.iter().enumerate() {
                if let Some(value) = values.get(j) {
                    found = field_matches(&node.value, key, value)?;
                }
                if !found {
                    break;
                }
            }
            if !found {
                if !values.is_empty() {
                    kept.push(index);
                }
                continue;
            }
            matched = true;
            if let Some(element) = element {
                kept.push(element);
            }
        }
        *list = kept;
        if let Some(element) = element
            && !matched
            && !self.nodes[element].value.is_null()
        {
            list.push(element);
        }
        Ok(())
    }

    /// kyaml's `appendListNode(items, dest, keys)`: sets each of the resource's remaining
    /// elements into the merged list.
    fn append_list(
        &self,
        items: &mut Vec<usize>,
        dest: &[usize],
        keys: &[&str],
    ) -> Result<(), PatchError> {
        for &element in dest {
            let node = &self.nodes[element];
            if keys[0].is_empty() {
                let text = node_text(&node.value).into_owned();
                self.set_element(items, Some(element), &[""], &[text])?;
                continue;
            }
            let mut values = Vec::with_capacity(keys.len());
            for key in keys {
                if node.value.is_null() {
                    items.push(element);
                    continue;
                }
                let Some(map) = node.value.as_object() else {
                    return Err(PatchError::wrong_kind(NodeKind::Mapping, &node.value));
                };
                match field(map, key) {
                    Some(field) => values.push(node_text(field).into_owned()),
                    // kyaml appends the element as is, once per missing key.
                    None => items.push(element),
                }
            }
            if keys.len() > 1 {
                // With several keys kyaml removes the match first, moving the element last.
                self.set_element(items, None, keys, &values)?;
            }
            self.set_element(items, Some(element), keys, &values)?;
        }
        Ok(())
    }

    /// kyaml putting a missing merge key back on a merged element.
    fn put_key(&mut self, index: usize, key: &str, text: &str) -> Result<(), PatchError> {
        let node = &mut self.nodes[index];
        if key.is_empty() {
            // A scalar of a set is rewritten with its own text: nothing changes.
            return match node.value {
                Value::Object(_) | Value::Array(_) => {
                    Err(PatchError::wrong_kind(NodeKind::Scalar, &node.value))
                }
                _ => Ok(()),
            };
        }
        match &mut node.value {
            Value::Object(map) => {
                map.insert(key.to_owned(), plain_scalar(text));
                Ok(())
            }
            other => Err(PatchError::wrong_kind(NodeKind::Mapping, other)),
        }
    }

    fn into_values(mut self, order: &[usize]) -> Vec<Value> {
        let mut uses = vec![0usize; self.nodes.len()];
        for &i in order {
            uses[i] += 1;
        }
        order
            .iter()
            .map(|&i| {
                uses[i] -= 1;
                if uses[i] == 0 {
                    std::mem::take(&mut self.nodes[i].value)
                } else {
                    self.nodes[i].value.clone()
                }
            })
            .collect()
    }
}

/// The key values of every element, the patch's first (kyaml's `elementValues` and
/// `elementPrimitiveValues` with prepend), without repeats.
fn element_values(
    arena: &Arena,
    dest: &[usize],
    origin: &Origin<'_>,
    keys: &[&str],
    primitive: bool,
) -> Vec<Vec<String>> {
    let tuple = |element: &Value| -> Vec<String> {
        if primitive {
            vec![node_text(element).into_owned()]
        } else {
            let map = element.as_object();
            keys.iter()
                .map(|k| key_text(map.and_then(|m| field(m, k))).into_owned())
                .collect()
        }
    };
    let mut values: Vec<Vec<String>> = Vec::new();
    let mut add = |t: Vec<String>| {
        if !t.is_empty() && !values.contains(&t) {
            values.push(t);
        }
    };
    if let Origin::Patch(patch) = origin {
        for element in patch.iter() {
            add(tuple(element));
        }
    }
    for &i in dest {
        add(tuple(&arena.nodes[i].value));
    }
    values
}

/// kyaml's `mergeValues`: key tuples that agree where both have a value are made equal, so a
/// port without a protocol meets the port with one.
fn merge_values(values: &mut [Vec<String>]) {
    for i in 0..values.len() {
        let first = values[i].clone();
        for j in 0..values.len() {
            if let Some(merged) = agree(&first, &values[j]) {
                values[i].clone_from(&merged);
                values[j] = merged;
            }
        }
    }
}

fn agree(a: &[String], b: &[String]) -> Option<Vec<String>> {
    if a.len() != b.len() {
        return None;
    }
    let mut common = false;
    let mut merged = Vec::with_capacity(a.len());
    for (x, y) in a.iter().zip(b) {
        if x == y {
            common = true;
            merged.push(x.clone());
        } else if !x.is_empty() && !y.is_empty() {
            return None;
        } else if !x.is_empty() {
            merged.push(x.clone());
        } else {
            merged.push(y.clone());
        }
    }
    common.then_some(merged)
}

/// kyaml's `validateKeys` with the whole list: the keys some element has a value for.
fn validate_keys<'k>(
    keys: &[&'k str],
    values: &[String],
    present: &[bool],
) -> (Vec<&'k str>, Vec<String>) {
    if !present.iter().any(|p| *p) {
        return (keys.to_vec(), values.to_vec());
    }
    let mut valid_keys = Vec::with_capacity(keys.len());
    let mut valid_values = Vec::with_capacity(keys.len());
    for (i, key) in keys.iter().enumerate() {
        if present[i] {
            valid_keys.push(*key);
            valid_values.push(values.get(i).cloned().unwrap_or_default());
        }
    }
    (valid_keys, valid_values)
}

/// kyaml's `validateKeys` with one tuple, used to find elements: keys without a value are left
/// out unless all are empty.
fn lookup_keys<'k>(keys: &[&'k str], values: &[String]) -> (Vec<&'k str>, Vec<String>) {
    if values.iter().all(String::is_empty) {
        return (keys.to_vec(), values.to_vec());
    }
    keys.iter()
        .zip(values)
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (*k, v.clone()))
        .unzip()
}

/// kyaml's `ElementMatcher`: an element whose key fields have these texts (for scalars: whose
/// text is `values[0]`).
fn matches(element: &Value, keys: &[&str], values: &[String]) -> bool {
    if keys.first().is_none_or(|k| k.is_empty()) {
        return values
            .first()
            .is_some_and(|v| node_text(element) == v.as_str());
    }
    let Some(map) = element.as_object() else {
        return false;
    };
    keys.iter()
        .zip(values)
        .all(|(key, value)| field(map, key).is_some_and(|f| node_text(f) == value.as_str()))
}

/// kyaml's `FieldMatcher{Name, StringValue}` on a list element.
fn field_matches(element: &Value, key: &str, value: &str) -> Result<bool, PatchError> {
    if key.is_empty() {
        if matches!(element, Value::Object(_) | Value::Array(_)) {
            return Err(PatchError::wrong_kind(NodeKind::Scalar, element));
        }
        return Ok(node_text(element) == value);
    }
    let Some(map) = element.as_object() else {
        return Err(PatchError::wrong_kind(NodeKind::Mapping, element));
    };
    Ok(match field(map, key) {
        None => false,
        Some(_) if value.is_empty() => true,
        Some(field) => node_text(field) == value,
    })
}

fn has_field(element: &Value, key: &str) -> bool {
    element.as_object().is_some_and(|m| field(m, key).is_some())
}

/// Whether kyaml's rebuild of a list the patch does not mention leaves it as it is: scalars
/// with distinct texts, or maps that all have every key (scalar, non-empty), with distinct key
/// tuples.
fn is_plain(list: &[Value], keys: &[&str]) -> bool {
    fn key_of<'v>(element: &'v Value, key: &str) -> Option<Cow<'v, str>> {
        let value = field(element.as_object()?, key)?;
        match value {
            Value::String(_) | Value::Number(_) | Value::Bool(_) => {
                Some(node_text(value)).filter(|t| !t.is_empty())
            }
            _ => None,
        }
    }
    match keys {
        [] | [_] => {
            let mut seen: Vec<Cow<'_, str>> = Vec::with_capacity(list.len());
            for element in list {
                let text = match keys.first() {
                    None if !matches!(
                        element,
                        Value::Null | Value::Object(_) | Value::Array(_)
                    ) =>
                    {
                        node_text(element)
                    }
                    None => return false,
                    Some(key) => match key_of(element, key) {
                        Some(text) => text,
                        None => return false,
                    },
                };
                if seen.contains(&text) {
                    return false;
                }
                seen.push(text);
            }
            true
        }
        _ => {
            let mut seen: Vec<Vec<Cow<'_, str>>> = Vec::with_capacity(list.len());
            for element in list {
                let Some(tuple) = keys
                    .iter()
                    .map(|k| key_of(element, k))
                    .collect::<Option<Vec<_>>>()
                else {
                    return false;
                };
                if seen.contains(&tuple) {
                    return false;
                }
                seen.push(tuple);
            }
            true
        }
    }
}

fn element_segment(keys: &[&str], values: &[String]) -> String {
    let pairs: Vec<String> = keys
        .iter()
        .zip(values)
        .map(|(k, v)| {
            if k.is_empty() {
                format!("={v}")
            } else {
                format!("{k}={v}")
            }
        })
        .collect();
    format!("[{}]", pairs.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| (*x).to_owned()).collect()
    }

    #[test]
    fn values_agree_where_one_side_is_empty() {
        let mut values = vec![s(&["80", "UDP"]), s(&["80", ""]), s(&["443", ""])];
        merge_values(&mut values);
        assert_eq!(
            values,
            vec![s(&["80", "UDP"]), s(&["80", "UDP"]), s(&["443", ""])]
        );
        assert_eq!(agree(&s(&["80", "TCP"]), &s(&["80", "UDP"])), None);
        assert_eq!(agree(&s(&["", ""]), &s(&["", ""])), Some(s(&["", ""])));
    }

    #[test]
    fn lookups_drop_empty_keys_unless_all_are_empty() {
        let keys = ["containerPort", "protocol"];
        assert_eq!(
            lookup_keys(&keys, &s(&["80", ""])),
            (vec!["containerPort"], s(&["80"]))
        );
        assert_eq!(
            lookup_keys(&keys, &s(&["", ""])),
            (keys.to_vec(), s(&["", ""]))
        );
        assert_eq!(
            validate_keys(&keys, &s(&["80", ""]), &[true, false]),
            (vec!["containerPort"], s(&["80"]))
        );
        assert_eq!(
            validate_keys(&keys, &s(&["80", ""]), &[true, true]),
            (keys.to_vec(), s(&["80", ""]))
        );
    }
}
