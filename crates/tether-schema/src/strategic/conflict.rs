//! Conflict detection between two patches (apimachinery's `MergingMapsHaveConflicts`): used by
//! three-way patches to refuse overwriting changes made to the live object since the last
//! apply.

use serde_json::{Map, Value};

use super::apply::strategy_of;
use super::error::{At, Loc, SmpError, SmpErrorKind};
use super::gofmt::{GoKind, deduplicate_and_sort_scalars, go_type, go_v};
use super::list::{DIRECTIVE, RETAIN_KEYS, slice_element_type};
use super::meta::LookupPatchMeta;

/// Whether `left` and `right` change a field differently.
pub(crate) fn maps_have_conflicts<M: LookupPatchMeta>(
    left: &Map<String, Value>,
    right: &Map<String, Value>,
    meta: &M,
    loc: &Loc<'_>,
) -> Result<bool, SmpError> {
    for (key, left_v) in left {
        if key == DIRECTIVE || key == RETAIN_KEYS {
            continue;
        }
        let Some(right_v) = right.get(key) else {
            continue;
        };
        let floc = loc.field(key);
        let conflict = match left_v {
            Value::Array(_) => {
                let (sub, field) = meta.lookup_slice(key).at(&floc)?;
                let strategy = strategy_of(field.strategy(), &floc)?;
                fields_conflict(left_v, right_v, &sub, strategy, field.merge_key(), &floc)?
            }
            Value::Object(_) => {
                let (sub, field) = meta.lookup_struct(key).at(&floc)?;
                let strategy = strategy_of(field.strategy(), &floc)?;
                fields_conflict(left_v, right_v, &sub, strategy, field.merge_key(), &floc)?
            }
            _ => fields_conflict(left_v, right_v, meta, "", "", &floc)?,
        };
        if conflict {
            return Ok(true);
        }
    }
    Ok(false)
}

/// `mergingMapFieldsHaveConflicts`.
fn fields_conflict<M: LookupPatchMeta>(
    left: &Value,
    right: &Value,
    meta: &M,
    strategy: &str,
    merge_key: &str,
    loc: &Loc<'_>,
) -> Result<bool, SmpError> {
    match left {
        Value::Object(l) => {
            let Value::Object(r) = right else {
                return Ok(true);
            };
            let (lm, rm) = (l.get(DIRECTIVE), r.get(DIRECTIVE));
            // A directive acts on the whole map: both sides must carry the same one.
            if (lm.is_some() || rm.is_some()) && lm != rm {
                return Ok(true);
            }
            if strategy == "replace" {
                return Ok(false);
            }
            maps_have_conflicts(l, r, meta, loc)
        }
        Value::Array(l) => {
            let Value::Array(r) = right else {
                return Ok(true);
            };
            slices_conflict(l, r, meta, strategy, merge_key, loc)
        }
        _ => Ok(left != right),
    }
}

fn slices_conflict<M: LookupPatchMeta>(
    left: &[Value],
    right: &[Value],
    meta: &M,
    strategy: &str,
    merge_key: &str,
    loc: &Loc<'_>,
) -> Result<bool, SmpError> {
    let kind = slice_element_type(&[left, right]).at(loc)?;
    if strategy == "merge" {
        // Merging lists of scalars cannot conflict; maps conflict item by item.
        if kind != GoKind::Map {
            return Ok(false);
        }
        let l = by_merge_key(left, merge_key).at(loc)?;
        let r = by_merge_key(right, merge_key).at(loc)?;
        for (key, lv) in &l {
            if let Some((_, rv)) = r.iter().find(|(k, _)| k == key)
                && fields_conflict(lv, rv, meta, "", "", loc)?
            {
                return Ok(true);
            }
        }
        return Ok(false);
    }
    if left.len() != right.len() {
        return Ok(true);
    }
    let (left, right) = if kind != GoKind::Map {
        (
            deduplicate_and_sort_scalars(left.to_vec()),
            deduplicate_and_sort_scalars(right.to_vec()),
        )
    } else {
        (left.to_vec(), right.to_vec())
    };
    for (l, r) in left.iter().zip(&right) {
        if fields_conflict(l, r, meta, "", "", loc)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// `sliceOfMapsToMapOfMaps`: items by the `%s` text of their merge key (later items win).
fn by_merge_key<'v>(
    list: &'v [Value],
    merge_key: &str,
) -> Result<Vec<(String, &'v Value)>, SmpErrorKind> {
    let mut out: Vec<(String, &Value)> = Vec::with_capacity(list.len());
    for v in list {
        let Some(m) = v.as_object() else {
            return Err(SmpErrorKind::BadMergingListElement(go_v(&Value::Array(
                list.to_vec(),
            ))));
        };
        let Some(key) = m.get(merge_key) else {
            return Err(SmpErrorKind::MergeKeyMissingInElement {
                key: merge_key.to_owned(),
                element: go_v(v),
            });
        };
        let text = match key {
            Value::String(s) => s.clone(),
            other => format!("%!s({}={})", go_type(other), go_v(other)),
        };
        match out.iter_mut().find(|(k, _)| *k == text) {
            Some(slot) => slot.1 = v,
            None => out.push((text, v)),
        }
    }
    Ok(out)
}
