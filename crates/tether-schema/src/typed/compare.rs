//! Comparing two values of a type (smd's `compareWalker`): which fields were added, removed or
//! modified. Leaves are compared by value; a container present on one side only is itself
//! added or removed. An item an associative list holds more than once is compared as one
//! atomic entry: changing any of its copies modifies it, and turning one item into several (or
//! back) removes the old entry and adds the new one.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::validate::validate_scalar;
use super::{ListIndex, Shape, Shapes, ValidationErrors, field_element, invalid_atom};
use crate::fieldpath::{PathElement, Set, SetBuilder};
use crate::schema::{ListType, MapType, Schema, TypeId};
use crate::value;

/// The result of [`super::TypedValue::compare`]. No path is in more than one set unless an item
/// turned from single into duplicated or back (then it is both removed and added).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Comparison {
    pub added: Set,
    pub modified: Set,
    pub removed: Set,
}

impl Comparison {
    /// True when nothing changed.
    pub fn is_same(&self) -> bool {
        self.added.is_empty() && self.modified.is_empty() && self.removed.is_empty()
    }
}

pub(crate) fn compare(
    schema: &Schema,
    ty: TypeId,
    lhs: &Value,
    rhs: &Value,
) -> Result<Comparison, ValidationErrors> {
    let mut errs = ValidationErrors::default();
    let out = compare_value(schema, ty, Some(lhs), Some(rhs), &mut errs);
    if !errs.is_empty() {
        return Err(errs);
    }
    // The root itself is never tracked.
    Ok(Comparison {
        added: out.added.finish(),
        modified: out.modified.finish(),
        removed: out.removed.finish(),
    })
}

/// What changed at and below one item.
#[derive(Default)]
struct Item {
    added: SetBuilder,
    modified: SetBuilder,
    removed: SetBuilder,
    self_added: bool,
    self_modified: bool,
    self_removed: bool,
}

impl Item {
    fn attach(&mut self, pe: &PathElement, child: Item) {
        for (flag, builder, set) in [
            (child.self_added, &mut self.added, child.added.finish()),
            (
                child.self_modified,
                &mut self.modified,
                child.modified.finish(),
            ),
            (
                child.self_removed,
                &mut self.removed,
                child.removed.finish(),
            ),
        ] {
            if flag {
                builder.member(pe.clone());
            }
            if !set.is_empty() {
                builder.child(pe.clone(), set);
            }
        }
    }

    fn leaf(&mut self, lhs: Option<&Value>, rhs: Option<&Value>) {
        match (lhs, rhs) {
            (None, _) => self.self_added = true,
            (_, None) => self.self_removed = true,
            (Some(l), Some(r)) => {
                if !value::equals(l, r) {
                    self.self_modified = true;
                }
            }
        }
    }
}

fn compare_value(
    schema: &Schema,
    ty: TypeId,
    lhs: Option<&Value>,
    rhs: Option<&Value>,
    errs: &mut ValidationErrors,
) -> Item {
    let mut out = Item::default();
    if lhs.is_none() && rhs.is_none() {
        errs.push("at least one of lhs and rhs must be provided");
        return out;
    }
    let atom = schema.atom(ty);
    let alhs = Shapes::of(atom, lhs);
    let arhs = Shapes::of(atom, rhs);
    let in_leaf = if rhs.is_none() {
        handle(schema, ty, alhs.handler(), lhs, rhs, &mut out, errs)
    } else if lhs.is_none() || alhs == arhs {
        handle(schema, ty, arhs.handler(), lhs, rhs, &mut out, errs)
    } else {
        handle(schema, ty, alhs.handler(), lhs, rhs, &mut out, errs);
        handle(schema, ty, arhs.handler(), lhs, rhs, &mut out, errs)
    };
    if !in_leaf {
        if lhs.is_none() {
            out.self_added = true;
        } else if rhs.is_none() {
            out.self_removed = true;
        }
    }
    out
}

/// Visits `lhs`/`rhs` as `shape`; true when they were compared as a leaf.
fn handle(
    schema: &Schema,
    ty: TypeId,
    shape: Shape,
    lhs: Option<&Value>,
    rhs: Option<&Value>,
    out: &mut Item,
    errs: &mut ValidationErrors,
) -> bool {
    let atom = schema.atom(ty);
    match (shape, &atom.map, atom.scalar, &atom.list) {
        (Shape::Map, Some(m), _, _) => compare_map(schema, m, lhs, rhs, out, errs),
        (Shape::Scalar, _, Some(s), _) => {
            let lerr = lhs.and_then(|v| validate_scalar(s, v).err());
            let rerr = rhs.and_then(|v| validate_scalar(s, v).err());
            if let (Some(l), Some(r)) = (lerr, rerr) {
                errs.push(format!("lhs: {l}"));
                errs.push(format!("rhs: {r}"));
                return false;
            }
            out.leaf(lhs, rhs);
            true
        }
        (Shape::List, _, _, Some(l)) => compare_list(schema, l, lhs, rhs, out, errs),
        _ => {
            errs.push(invalid_atom(schema, ty));
            false
        }
    }
}

fn compare_map(
    schema: &Schema,
    m: &MapType,
    lhs: Option<&Value>,
    rhs: Option<&Value>,
    out: &mut Item,
    errs: &mut ValidationErrors,
) -> bool {
    let lmap = lhs.and_then(Value::as_object);
    let rmap = rhs.and_then(Value::as_object);
    let empty = lmap.is_none_or(Map::is_empty) && rmap.is_none_or(Map::is_empty);
    if m.is_atomic() || empty {
        out.leaf(lhs, rhs);
        return true;
    }
    let mut entry = |key: &String, l: Option<&Value>, r: Option<&Value>| {
        // Equal subtrees hold no change; comparing values is much cheaper than walking them.
        if let (Some(l), Some(r)) = (l, r)
            && value::equals(l, r)
        {
            return;
        }
        let Some(item_ty) = m.entry_type(key) else {
            let mut e = ValidationErrors::default();
            e.push(invalid_atom_for_missing());
            errs.extend_under(&PathElement::field(key), e);
            return;
        };
        let mut child_errs = ValidationErrors::default();
        let child = compare_value(schema, item_ty, l, r, &mut child_errs);
        let pe = field_element(Some(m), key);
        if !child_errs.is_empty() {
            errs.extend_under(&pe, child_errs);
        }
        out.attach(&pe, child);
    };
    if let Some(lmap) = lmap {
        for (key, l) in lmap {
            entry(key, Some(l), rmap.and_then(|r| r.get(key)));
        }
    }
    if let Some(rmap) = rmap {
        for (key, r) in rmap {
            if lmap.is_none_or(|l| !l.contains_key(key)) {
                entry(key, None, Some(r));
            }
        }
    }
    false
}

fn invalid_atom_for_missing() -> &'static str {
    "field not declared in schema"
}

fn compare_list(
    schema: &Schema,
    l: &ListType,
    lhs: Option<&Value>,
    rhs: Option<&Value>,
    out: &mut Item,
    errs: &mut ValidationErrors,
) -> bool {
    let llist = lhs.and_then(Value::as_array).map(Vec::as_slice);
    let rlist = rhs.and_then(Value::as_array).map(Vec::as_slice);
    let empty = llist.is_none_or(<[Value]>::is_empty) && rlist.is_none_or(<[Value]>::is_empty);
    if l.is_atomic() || empty {
        out.leaf(lhs, rhs);
        return true;
    }
    let litems = llist.unwrap_or_default();
    let ritems = rlist.unwrap_or_default();
    let lindex = ListIndex::build(schema, l, litems, errs);
    let rindex = ListIndex::build(schema, l, ritems, errs);
    let lgroups = lindex.groups();
    let rgroups = rindex.groups();
    let (mut i, mut j) = (0, 0);
    while i < lgroups.len() || j < rgroups.len() {
        let order = match (lgroups.get(i), rgroups.get(j)) {
            (Some(a), Some(b)) => a.0.cmp(b.0),
            (Some(_), None) => Ordering::Less,
            _ => Ordering::Greater,
        };
        let (pe, lat, rat): (&PathElement, &[usize], &[usize]) = match order {
            Ordering::Less => {
                i += 1;
                (lgroups[i - 1].0, lgroups[i - 1].1, &[])
            }
            Ordering::Greater => {
                j += 1;
                (rgroups[j - 1].0, &[], rgroups[j - 1].1)
            }
            Ordering::Equal => {
                i += 1;
                j += 1;
                (lgroups[i - 1].0, lgroups[i - 1].1, rgroups[j - 1].1)
            }
        };
        let litem = lat.first().map(|at| &litems[*at]);
        let ritem = rat.first().map(|at| &ritems[*at]);
        let mut child_errs = ValidationErrors::default();
        if lat.len() <= 1 && rat.len() <= 1 {
            if let (Some(l), Some(r)) = (litem, ritem)
                && value::equals(l, r)
            {
                continue;
            }
            let child = compare_value(schema, l.element, litem, ritem, &mut child_errs);
            out.attach(pe, child);
        } else if lat.len() > 1 && rat.len() > 1 {
            let same = lat.len() == rat.len()
                && lat
                    .iter()
                    .zip(rat)
                    .all(|(a, b)| value::equals(&litems[*a], &ritems[*b]));
            if !same {
                out.modified.member(pe.clone());
            }
        } else if lat.len() > 1 {
            // Duplicates became one item (or none): the duplicated entry is removed and the
            // single item, if any, is added with its fields.
            out.removed.member(pe.clone());
            if ritem.is_some() {
                let child = compare_value(schema, l.element, None, ritem, &mut child_errs);
                out.attach(pe, child);
            }
        } else {
            out.added.member(pe.clone());
            if litem.is_some() {
                let child = compare_value(schema, l.element, litem, None, &mut child_errs);
                out.attach(pe, child);
            }
        }
        errs.extend_under(pe, child_errs);
    }
    false
}
