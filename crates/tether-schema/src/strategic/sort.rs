//! Sorting merging lists into a canonical order (apimachinery's `sortMergeListsByName`), so
//! documents whose merging lists differ only in order compare equal.

use serde_json::{Map, Value};

use super::apply::strategy_of;
use super::error::{At, GO_MAP, Loc, SmpError, SmpErrorKind};
use super::gofmt::{GoKind, deduplicate_and_sort_scalars, go_sort_by_text, go_v, sort_scalars};
use super::list::{DELETE_PREFIX, DIRECTIVE, RETAIN_KEYS, SET_ORDER_PREFIX, slice_element_type};
use super::meta::LookupPatchMeta;

pub(crate) fn sort_map<M: LookupPatchMeta>(
    map: &Map<String, Value>,
    meta: &M,
    loc: &Loc<'_>,
) -> Result<Map<String, Value>, SmpError> {
    let mut out = Map::new();
    for (k, v) in map {
        let floc = loc.field(k);
        let sorted = if k == RETAIN_KEYS {
            let Value::Array(items) = v else {
                return Err(floc.err(SmpErrorKind::BadPatchFormatForRetainKeys));
            };
            Value::Array(sort_scalars(items.clone()))
        } else if k.starts_with(DELETE_PREFIX) {
            let Value::Array(items) = v else {
                return Err(floc.err(SmpErrorKind::BadPatchFormatForPrimitiveList));
            };
            Value::Array(sort_scalars(items.clone()))
        } else if k.starts_with(SET_ORDER_PREFIX) {
            if !v.is_array() {
                return Err(floc.err(SmpErrorKind::BadPatchFormatForSetElementOrderList));
            }
            v.clone()
        } else if k == DIRECTIVE {
            v.clone()
        } else {
            match v {
                Value::Object(m) => {
                    let (sub, _) = meta.lookup_struct(k).at(&floc)?;
                    Value::Object(sort_map(m, &sub, &floc)?)
                }
                Value::Array(items) => {
                    let (sub, field) = meta.lookup_slice(k).at(&floc)?;
                    if strategy_of(field.strategy(), &floc)? == "merge" {
                        Value::Array(sort_list(items, &sub, field.merge_key(), &floc)?)
                    } else {
                        v.clone()
                    }
                }
                other => other.clone(),
            }
        };
        out.insert(k.clone(), sorted);
    }
    Ok(out)
}

fn sort_list<M: LookupPatchMeta>(
    list: &[Value],
    meta: &M,
    merge_key: &str,
    loc: &Loc<'_>,
) -> Result<Vec<Value>, SmpError> {
    if list.is_empty() {
        return Ok(Vec::new());
    }
    if slice_element_type(&[list]).at(loc)? != GoKind::Map {
        return Ok(deduplicate_and_sort_scalars(list.to_vec()));
    }
    let mut out = Vec::with_capacity(list.len());
    for item in list {
        let Value::Object(m) = item else {
            return Err(loc.err(SmpErrorKind::bad_arg_type(GO_MAP, item)));
        };
        out.push(Value::Object(sort_map(m, meta, loc)?));
    }
    go_sort_by_text(&mut out, |v| go_v(v.get(merge_key).unwrap_or(&Value::Null)));
    Ok(out)
}
