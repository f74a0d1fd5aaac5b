//! Fields a type does not declare, for the API server's `fieldValidation` (`Strict` reports them,
//! `Warn` and `Ignore` drop them as kube-apiserver's decoder does).
//!
//! Paths address list items by position (`spec.containers[0].foo` in
//! [`Path::to_kube_string`](crate::fieldpath::Path::to_kube_string)), as Kubernetes words these
//! errors.

use serde_json::Value;

use super::{Shape, Shapes};
use crate::fieldpath::{Path, PathElement};
use crate::schema::{Schema, TypeId};

/// The paths of every map entry that `ty` does not declare, in document order.
pub fn unknown_fields(schema: &Schema, ty: TypeId, value: &Value) -> Vec<Path> {
    let mut out = Vec::new();
    let mut path = Vec::new();
    let mut copy = value.clone();
    walk(schema, ty, &mut copy, &mut path, &mut out, false);
    out
}

/// Removes every map entry that `ty` does not declare; returns their paths in document order.
pub fn prune_unknown_fields(schema: &Schema, ty: TypeId, value: &mut Value) -> Vec<Path> {
    let mut out = Vec::new();
    let mut path = Vec::new();
    walk(schema, ty, value, &mut path, &mut out, true);
    out
}

fn walk(
    schema: &Schema,
    ty: TypeId,
    value: &mut Value,
    path: &mut Vec<PathElement>,
    out: &mut Vec<Path>,
    prune: bool,
) {
    let atom = schema.atom(ty);
    match (Shapes::of(atom, Some(value)).handler(), value) {
        (Shape::Map, Value::Object(map)) => {
            let Some(m) = &atom.map else { return };
            let mut unknown = Vec::new();
            for (key, item) in map.iter_mut() {
                path.push(PathElement::field(key));
                match m.entry_type(key) {
                    Some(item_ty) => walk(schema, item_ty, item, path, out, prune),
                    None => {
                        out.push(Path(path.clone()));
                        unknown.push(key.clone());
                    }
                }
                path.pop();
            }
            if prune {
                for key in unknown {
                    map.shift_remove(&key);
                }
            }
        }
        (Shape::List, Value::Array(items)) => {
            let Some(l) = &atom.list else { return };
            for (i, item) in items.iter_mut().enumerate() {
                path.push(PathElement::Index(i));
                walk(schema, l.element, item, path, out, prune);
                path.pop();
            }
        }
        _ => {}
    }
}
