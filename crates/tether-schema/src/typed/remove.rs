//! Removing or extracting the fields and items of a set from a value (smd's `removingWalker`).
//!
//! As in smd, a container that ends up with no entries becomes null, and null, empty or atomic
//! containers are not entered.

use serde_json::{Map, Value};

use super::{Shape, Shapes, is_atomic, list_item_element};
use crate::fieldpath::{PathElement, Set};
use crate::schema::{Schema, TypeId};

/// `value` without the members of `set` (or, with `extract`, only them).
pub(crate) fn remove_items(
    schema: &Schema,
    ty: TypeId,
    value: &Value,
    set: &Set,
    extract: bool,
) -> Value {
    let atom = schema.atom(ty);
    match Shapes::of(atom, Some(value)).handler() {
        Shape::Scalar => value.clone(),
        Shape::List => {
            let (Some(list), Value::Array(items)) = (&atom.list, value) else {
                return Value::Null;
            };
            if items.is_empty() || list.is_atomic() {
                return Value::Null;
            }
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let Ok(pe) = list_item_element(schema, list, i, item) else {
                    if !extract {
                        out.push(item.clone());
                    }
                    continue;
                };
                if set.has_member(&pe) {
                    if extract {
                        out.push(keys_only(schema, list.element, &list.keys, item));
                    }
                    continue;
                }
                match set.child(&pe) {
                    Some(sub) if !sub.is_empty() => {
                        out.push(remove_items(schema, list.element, item, sub, extract));
                    }
                    _ if extract => {}
                    _ => out.push(item.clone()),
                }
            }
            if out.is_empty() {
                Value::Null
            } else {
                Value::Array(out)
            }
        }
        Shape::Map => {
            let (Some(m), Value::Object(map)) = (&atom.map, value) else {
                return Value::Null;
            };
            if map.is_empty() || m.is_atomic() {
                return Value::Null;
            }
            let mut out = Map::new();
            for (key, item) in map {
                let pe = PathElement::field(key);
                let item_ty = m.entry_type(key);
                if set.has_member(&pe) {
                    if extract {
                        let keep = match item_ty {
                            Some(t) if !is_atomic(schema, t, item) => {
                                if item.is_object() || item.is_array() {
                                    Value::Null
                                } else {
                                    item.clone()
                                }
                            }
                            _ => item.clone(),
                        };
                        out.insert(key.clone(), keep);
                    }
                    continue;
                }
                match (set.child(&pe), item_ty) {
                    (Some(sub), Some(t)) if !sub.is_empty() => {
                        out.insert(key.clone(), remove_items(schema, t, item, sub, extract));
                    }
                    (Some(sub), None) if !sub.is_empty() => {
                        // No type to walk with: smd's walker fails and yields null.
                        out.insert(key.clone(), Value::Null);
                    }
                    _ if extract => {}
                    _ => {
                        out.insert(key.clone(), item.clone());
                    }
                }
            }
            if out.is_empty() {
                Value::Null
            } else {
                Value::Object(out)
            }
        }
        Shape::Invalid => Value::Null,
    }
}

/// An extracted list item: only its key fields, unless the item is atomic.
fn keys_only(schema: &Schema, ty: TypeId, keys: &[std::sync::Arc<str>], item: &Value) -> Value {
    match item {
        Value::Object(map) if !is_atomic(schema, ty, item) => Value::Object(
            map.iter()
                .filter(|(k, _)| keys.iter().any(|key| **key == **k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}
