//! Merging a partial object onto another (smd's `mergingWalker` with the keep-RHS rule).
//!
//! Leaves (scalars, atomic containers, containers empty on both sides) take the right-hand
//! value. Maps merge entry by entry. Associative lists merge item by item: items of the right
//! side keep their relative order, left-only items stay where they were, and an item the left
//! side holds more than once is replaced as a whole by the right side's item.

use serde_json::{Map, Value};

use super::validate::validate_scalar;
use super::{ListIndex, Shape, Shapes, ValidationErrors, invalid_atom};
use crate::fieldpath::PathElement;
use crate::schema::{ListType, MapType, Schema, TypeId};

pub(crate) fn merge(
    schema: &Schema,
    ty: TypeId,
    lhs: &Value,
    rhs: &Value,
) -> Result<Value, ValidationErrors> {
    let mut errs = ValidationErrors::default();
    let out = merge_value(schema, ty, Some(lhs), Some(rhs), &mut errs);
    if errs.is_empty() {
        Ok(out.unwrap_or(Value::Null))
    } else {
        Err(errs)
    }
}

fn merge_value(
    schema: &Schema,
    ty: TypeId,
    lhs: Option<&Value>,
    rhs: Option<&Value>,
    errs: &mut ValidationErrors,
) -> Option<Value> {
    if lhs.is_none() && rhs.is_none() {
        errs.push("at least one of lhs and rhs must be provided");
        return None;
    }
    let atom = schema.atom(ty);
    let alhs = Shapes::of(atom, lhs);
    let arhs = Shapes::of(atom, rhs);
    // A missing side is a wildcard that takes the other side's shape.
    if rhs.is_none() {
        handle(schema, ty, alhs.handler(), lhs, rhs, errs)
    } else if lhs.is_none() || alhs == arhs {
        handle(schema, ty, arhs.handler(), lhs, rhs, errs)
    } else {
        // The shape changed (deduced content): walk the old shape for its errors only.
        let _ = handle(schema, ty, alhs.handler(), lhs, rhs, errs);
        handle(schema, ty, arhs.handler(), lhs, rhs, errs)
    }
}

fn keep_rhs(lhs: Option<&Value>, rhs: Option<&Value>) -> Option<Value> {
    rhs.or(lhs).cloned()
}

fn handle(
    schema: &Schema,
    ty: TypeId,
    shape: Shape,
    lhs: Option<&Value>,
    rhs: Option<&Value>,
    errs: &mut ValidationErrors,
) -> Option<Value> {
    let atom = schema.atom(ty);
    match (shape, &atom.map, atom.scalar, &atom.list) {
        (Shape::Map, Some(m), _, _) => merge_map(schema, m, lhs, rhs, errs),
        (Shape::Scalar, _, Some(s), _) => {
            let mut failed = false;
            for (side, v) in [("lhs", lhs), ("rhs", rhs)] {
                if let Some(v) = v
                    && let Err(e) = validate_scalar(s, v)
                {
                    errs.push(format!("{side}: {e}"));
                    failed = true;
                }
            }
            if failed { None } else { keep_rhs(lhs, rhs) }
        }
        (Shape::List, _, _, Some(l)) => merge_list(schema, l, lhs, rhs, errs),
        _ => {
            errs.push(invalid_atom(schema, ty));
            None
        }
    }
}

fn merge_map(
    schema: &Schema,
    m: &MapType,
    lhs: Option<&Value>,
    rhs: Option<&Value>,
    errs: &mut ValidationErrors,
) -> Option<Value> {
    let lmap = lhs.and_then(Value::as_object);
    let rmap = rhs.and_then(Value::as_object);
    let empty = lmap.is_none_or(Map::is_empty) && rmap.is_none_or(Map::is_empty);
    if m.is_atomic() || empty {
        return keep_rhs(lhs, rhs);
    }
    let mut out = Map::with_capacity(lmap.map_or(0, Map::len) + rmap.map_or(0, Map::len));
    let mut item = |key: &String, l: Option<&Value>, r: Option<&Value>| {
        let Some(item_ty) = m.entry_type(key) else {
            let mut e = ValidationErrors::default();
            e.push("field not declared in schema");
            errs.extend_under(&PathElement::field(key), e);
            return None;
        };
        let mut child_errs = ValidationErrors::default();
        let merged = merge_value(schema, item_ty, l, r, &mut child_errs);
        if !child_errs.is_empty() {
            errs.extend_under(&PathElement::field(key), child_errs);
        }
        merged
    };
    if let Some(lmap) = lmap {
        for (key, l) in lmap {
            let merged = match rmap.and_then(|r| r.get(key)) {
                // Entries the partial object does not mention stay as they are.
                None => Some(l.clone()),
                r => item(key, Some(l), r),
            };
            if let Some(v) = merged {
                out.insert(key.clone(), v);
            }
        }
    }
    if let Some(rmap) = rmap {
        for (key, r) in rmap {
            if lmap.is_none_or(|l| !l.contains_key(key))
                && let Some(v) = item(key, None, Some(r))
            {
                out.insert(key.clone(), v);
            }
        }
    }
    if out.is_empty() {
        None
    } else {
        Some(Value::Object(out))
    }
}

fn merge_list(
    schema: &Schema,
    l: &ListType,
    lhs: Option<&Value>,
    rhs: Option<&Value>,
    errs: &mut ValidationErrors,
) -> Option<Value> {
    let llist = lhs.and_then(Value::as_array).map(Vec::as_slice);
    let rlist = rhs.and_then(Value::as_array).map(Vec::as_slice);
    let empty = llist.is_none_or(<[Value]>::is_empty) && rlist.is_none_or(<[Value]>::is_empty);
    if l.is_atomic() || empty {
        return keep_rhs(lhs, rhs);
    }
    let litems = llist.unwrap_or_default();
    let ritems = rlist.unwrap_or_default();

    let mut index_errs = ValidationErrors::default();
    let rindex = ListIndex::build(schema, l, ritems, &mut index_errs);
    for (pe, at) in rindex.groups() {
        if at.len() > 1 {
            index_errs.push(format!("duplicate entries for key {pe}"));
        }
    }
    let lindex = ListIndex::build(schema, l, litems, &mut index_errs);
    if !index_errs.is_empty() {
        errs.0.extend(index_errs.0);
        return None;
    }
    // Every element exists on both sides now (no index errors).
    let lpes: Vec<&PathElement> = lindex.elements.iter().flatten().collect();
    let rpes: Vec<&PathElement> = rindex.elements.iter().flatten().collect();

    // The left item for `pe`, or None when the left side lacks it or holds it more than once.
    let lchild = |pe: &PathElement| match lindex.find(pe) {
        [one] => Some(&litems[*one]),
        _ => None,
    };
    let rchild = |pe: &PathElement| rindex.find(pe).first().map(|i| &ritems[*i]);
    let in_rhs = |pe: &PathElement| !rindex.find(pe).is_empty();

    // Items present on both sides, in right-side order: they are merged in that order.
    let shared: Vec<&PathElement> = rpes
        .iter()
        .copied()
        .filter(|pe| !lindex.find(pe).is_empty())
        .collect();
    let mut shared_at = 0;
    let mut merged_rhs = vec![false; rpes.len()];
    let rpos = |pe: &PathElement| rindex.find(pe).first().copied();

    let (mut li, mut ri) = (0, 0);
    let elem = l.element;
    let mut out = Vec::with_capacity(litems.len().max(ritems.len()));
    let merge_item = |pe: &PathElement,
                      lv: Option<&Value>,
                      rv: Option<&Value>,
                      out: &mut Vec<Value>,
                      errs: &mut ValidationErrors| {
        let mut child_errs = ValidationErrors::default();
        let merged = merge_value(schema, elem, lv, rv, &mut child_errs);
        errs.extend_under(pe, child_errs);
        if let Some(v) = merged {
            out.push(v);
        }
    };
    while li < lpes.len() || ri < rpes.len() {
        if li < lpes.len() && ri < rpes.len() {
            let pe = lpes[li];
            if pe == rpes[ri] {
                merged_rhs[ri] = true;
                merge_item(pe, lchild(pe), rchild(pe), &mut out, errs);
                li += 1;
                ri += 1;
                shared_at += 1;
                continue;
            }
            let next_shared = shared.get(shared_at);
            if in_rhs(pe) && next_shared.is_some_and(|s| *s != pe) {
                // A shared item, but not the one to merge in this round.
                li += 1;
                continue;
            }
        }
        if li < lpes.len() {
            let pe = lpes[li];
            if !in_rhs(pe) {
                // The item itself, even when the left side holds `pe` more than once.
                merge_item(pe, Some(&litems[li]), None, &mut out, errs);
                li += 1;
                continue;
            }
            if rpos(pe).is_some_and(|at| merged_rhs[at]) {
                li += 1;
                continue;
            }
        }
        if ri < rpes.len() {
            let pe = rpes[ri];
            merged_rhs[ri] = true;
            merge_item(pe, lchild(pe), rchild(pe), &mut out, errs);
            ri += 1;
            if shared.get(shared_at).is_some_and(|s| *s == pe) {
                shared_at += 1;
            }
        }
    }
    if out.is_empty() {
        None
    } else {
        Some(Value::Array(out))
    }
}
