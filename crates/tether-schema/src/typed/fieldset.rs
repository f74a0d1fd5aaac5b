//! The field set of a value (smd's `toFieldSetWalker`): every scalar, every list item, atomic
//! containers as a whole, map entries that are not declared struct fields, and fields whose
//! value is null or an empty map. Duplicated list items are owned as a whole.

use serde_json::Value;

use super::{ListIndex, Shape, Shapes, ValidationErrors, invalid_atom};
use crate::fieldpath::{PathElement, Set, SetBuilder};
use crate::schema::{Schema, TypeId};

pub(crate) fn to_field_set(
    schema: &Schema,
    ty: TypeId,
    v: &Value,
) -> Result<Set, ValidationErrors> {
    let mut errs = ValidationErrors::default();
    let (set, _) = walk(schema, ty, v, &mut errs);
    if errs.is_empty() { Ok(set) } else { Err(errs) }
}

/// The paths below `v`, and whether `v` itself is a member.
fn walk(schema: &Schema, ty: TypeId, v: &Value, errs: &mut ValidationErrors) -> (Set, bool) {
    let atom = schema.atom(ty);
    match Shapes::of(atom, Some(v)).handler() {
        Shape::Scalar => (Set::new(), true),
        Shape::List => {
            let Some(list) = &atom.list else {
                return (Set::new(), false);
            };
            if list.is_atomic() {
                return (Set::new(), true);
            }
            let Value::Array(items) = v else {
                return (Set::new(), false);
            };
            let mut node = SetBuilder::default();
            let mut item_errs = ValidationErrors::default();
            let index = ListIndex::build(schema, list, items, &mut item_errs);
            errs.0.extend(item_errs.0);
            let mut duplicated: Vec<&PathElement> = Vec::new();
            if items.len() > 1 {
                for (pe, at) in index.groups() {
                    if at.len() > 1 {
                        node.member(pe.clone());
                        duplicated.push(pe);
                    }
                }
            }
            for (item, pe) in items.iter().zip(&index.elements) {
                let Some(pe) = pe else { continue };
                if duplicated.contains(&pe) {
                    continue;
                }
                let mut child_errs = ValidationErrors::default();
                let (child, _) = walk(schema, list.element, item, &mut child_errs);
                errs.extend_under(pe, child_errs);
                node.member(pe.clone());
                node.child(pe.clone(), child);
            }
            (node.finish(), false)
        }
        Shape::Map => {
            let Some(m) = &atom.map else {
                return (Set::new(), false);
            };
            if m.is_atomic() {
                return (Set::new(), true);
            }
            let Value::Object(map) = v else {
                return (Set::new(), false);
            };
            let mut node = SetBuilder::default();
            for (key, item) in map {
                let field = m.field(key);
                let Some(item_ty) = field.map(|f| f.ty).or(m.element) else {
                    let mut e = ValidationErrors::default();
                    e.push("field not declared in schema");
                    errs.extend_under(&PathElement::field(key), e);
                    break;
                };
                let pe = match field {
                    Some(f) => PathElement::Field(f.name.clone()),
                    None => PathElement::field(key),
                };
                let mut child_errs = ValidationErrors::default();
                let (child, member) = walk(schema, item_ty, item, &mut child_errs);
                if !child_errs.is_empty() {
                    errs.extend_under(&pe, child_errs);
                }
                let empty = match item {
                    Value::Null => true,
                    Value::Object(o) => o.is_empty(),
                    _ => false,
                };
                if member || empty || field.is_none() {
                    node.member(pe.clone());
                }
                node.child(pe, child);
            }
            (node.finish(), false)
        }
        Shape::Invalid => {
            errs.push(invalid_atom(schema, ty));
            (Set::new(), false)
        }
    }
}
