//! Creating a strategic merge patch from two documents (apimachinery's `diffMaps` and
//! friends).

use serde_json::{Map, Value};

use super::error::{At, GO_MAP, Loc, SmpError, SmpErrorKind};
use super::gofmt::{GoKind, deduplicate_scalars, go_kind, go_sort_by_text, go_v, sort_scalars};
use super::list::{
    DELETE_PREFIX, DIRECTIVE, RETAIN_KEYS, SET_ORDER_PREFIX, merge_key_value_equal,
    normalize_slice_order, slice_element_type,
};
use super::meta::{LookupPatchMeta, split_strategy};

#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct DiffOptions {
    /// Emit `$setElementOrder/<field>` lists.
    pub(crate) set_element_order: bool,
    /// Leave out additions and changes (the deletions half of a three-way patch).
    pub(crate) ignore_changes_and_additions: bool,
    /// Leave out deletions (the changes half of a three-way patch).
    pub(crate) ignore_deletions: bool,
    /// Emit `$retainKeys` for this map (its field has the `retainKeys` strategy).
    pub(crate) build_retain_keys_directive: bool,
}

/// `diffMaps`: the patch that turns `original` into `modified`.
pub(crate) fn diff_maps<M: LookupPatchMeta>(
    original: &Map<String, Value>,
    modified: &Map<String, Value>,
    meta: &M,
    opts: DiffOptions,
    loc: &Loc<'_>,
) -> Result<Map<String, Value>, SmpError> {
    let mut patch = Map::new();
    let mut retain_keys = Vec::new();
    for (key, modified_v) in modified {
        if opts.build_retain_keys_directive && !modified_v.is_null() {
            retain_keys.push(Value::String(key.clone()));
        }
        let Some(original_v) = original.get(key) else {
            if !opts.ignore_changes_and_additions {
                patch.insert(key.clone(), modified_v.clone());
            }
            continue;
        };
        if key == DIRECTIVE {
            let (Some(o), Some(m)) = (original_v.as_str(), modified_v.as_str()) else {
                return Err(loc.field(key).err(SmpErrorKind::BadDirectiveValue));
            };
            if o != m {
                patch.insert(key.clone(), modified_v.clone());
            }
            continue;
        }
        if go_kind(original_v) != go_kind(modified_v) {
            if !opts.ignore_changes_and_additions {
                patch.insert(key.clone(), modified_v.clone());
            }
            continue;
        }
        match (original_v, modified_v) {
            (Value::Object(o), Value::Object(m)) => {
                diff_map_field(key, o, m, &mut patch, meta, opts, loc)?
            }
            (Value::Array(o), Value::Array(m)) => {
                diff_list_field(key, o, m, &mut patch, meta, opts, loc)?
            }
            _ => replace_if_not_equal(key, original_v, modified_v, &mut patch, opts),
        }
    }
    if !opts.ignore_deletions {
        for key in original.keys() {
            if !modified.contains_key(key) {
                patch.insert(key.clone(), Value::Null);
            }
        }
    }
    // $retainKeys only when something changes or a field must be cleared.
    if !retain_keys.is_empty() && (!patch.is_empty() || has_additional_field(original, modified)) {
        patch.insert(
            RETAIN_KEYS.to_owned(),
            Value::Array(sort_scalars(retain_keys)),
        );
    }
    Ok(patch)
}

fn has_additional_field(original: &Map<String, Value>, modified: &Map<String, Value>) -> bool {
    original
        .iter()
        .any(|(k, v)| !v.is_null() && !modified.contains_key(k))
}

fn replace_if_not_equal(
    key: &str,
    original: &Value,
    modified: &Value,
    patch: &mut Map<String, Value>,
    opts: DiffOptions,
) {
    if !opts.ignore_changes_and_additions && original != modified {
        patch.insert(key.to_owned(), modified.clone());
    }
}

/// `handleMapDiff`.
fn diff_map_field<M: LookupPatchMeta>(
    key: &str,
    original: &Map<String, Value>,
    modified: &Map<String, Value>,
    patch: &mut Map<String, Value>,
    meta: &M,
    opts: DiffOptions,
    loc: &Loc<'_>,
) -> Result<(), SmpError> {
    let floc = loc.field(key);
    let (sub, field) = match meta.lookup_struct(key) {
        Ok(found) => found,
        // Without metadata, identical values still need no patch.
        Err(_) if original == modified => return Ok(()),
        Err(e) => return Err(floc.err(e)),
    };
    let (retain, strategy) = split_strategy(field.strategy())
        .map_err(SmpErrorKind::UnexpectedPatchStrategy)
        .at(&floc)?;
    let opts = DiffOptions {
        build_retain_keys_directive: retain,
        ..opts
    };
    if strategy == "replace" {
        if !opts.ignore_changes_and_additions {
            patch.insert(key.to_owned(), Value::Object(modified.clone()));
        }
        return Ok(());
    }
    let value = diff_maps(original, modified, &sub, opts, &floc)?;
    if !value.is_empty() {
        patch.insert(key.to_owned(), Value::Object(value));
    }
    Ok(())
}

/// `handleSliceDiff`.
fn diff_list_field<M: LookupPatchMeta>(
    key: &str,
    original: &[Value],
    modified: &[Value],
    patch: &mut Map<String, Value>,
    meta: &M,
    opts: DiffOptions,
    loc: &Loc<'_>,
) -> Result<(), SmpError> {
    let floc = loc.field(key);
    let (sub, field) = match meta.lookup_slice(key) {
        Ok(found) => found,
        Err(_) if original == modified => return Ok(()),
        Err(e) => return Err(floc.err(e)),
    };
    let (retain, strategy) = split_strategy(field.strategy())
        .map_err(SmpErrorKind::UnexpectedPatchStrategy)
        .at(&floc)?;
    if strategy != "merge" {
        if !opts.ignore_changes_and_additions && original != modified {
            patch.insert(key.to_owned(), Value::Array(modified.to_vec()));
        }
        return Ok(());
    }
    let opts = DiffOptions {
        build_retain_keys_directive: retain,
        ..opts
    };
    let lists = diff_lists(original, modified, &sub, field.merge_key(), opts, &floc)?;
    if !lists.patch.is_empty() {
        patch.insert(key.to_owned(), Value::Array(lists.patch));
    }
    if !lists.deletions.is_empty() {
        patch.insert(
            format!("{DELETE_PREFIX}/{key}"),
            Value::Array(lists.deletions),
        );
    }
    if !lists.order.is_empty() {
        patch.insert(
            format!("{SET_ORDER_PREFIX}/{key}"),
            Value::Array(lists.order),
        );
    }
    Ok(())
}

struct ListDiff {
    patch: Vec<Value>,
    deletions: Vec<Value>,
    order: Vec<Value>,
}

/// `diffLists`: the patch list, the deletion list of primitives and the `$setElementOrder`
/// list of a merging list.
fn diff_lists<M: LookupPatchMeta>(
    original: &[Value],
    modified: &[Value],
    meta: &M,
    merge_key: &str,
    opts: DiffOptions,
    loc: &Loc<'_>,
) -> Result<ListDiff, SmpError> {
    let mut out = ListDiff {
        patch: Vec::new(),
        deletions: Vec::new(),
        order: Vec::new(),
    };
    if original.is_empty() {
        if !modified.is_empty() && !opts.ignore_changes_and_additions {
            out.patch = modified.to_vec();
        }
        return Ok(out);
    }
    let kind = slice_element_type(&[original, modified]).at(loc)?;
    match kind {
        GoKind::Map => {
            let (patch, deletions) =
                diff_lists_of_maps(original, modified, meta, merge_key, opts, loc)?;
            let mut patch = normalize_slice_order(patch, modified, merge_key, kind).at(loc)?;
            let order_same = is_order_same(original, modified, merge_key).at(loc)?;
            patch.extend(deletions);
            let changed = !patch.is_empty();
            if opts.set_element_order
                && ((!opts.ignore_changes_and_additions && (changed || !order_same))
                    || (!opts.ignore_deletions && changed))
            {
                out.order = modified
                    .iter()
                    .map(|v| {
                        let mut m = Map::new();
                        m.insert(
                            merge_key.to_owned(),
                            v.get(merge_key).cloned().unwrap_or(Value::Null),
                        );
                        Value::Object(m)
                    })
                    .collect();
            }
            out.patch = patch;
        }
        GoKind::Slice => return Err(loc.err(SmpErrorKind::NoListOfLists)),
        _ => {
            let (add, deletions, sorted_original) = diff_lists_of_scalars(original, modified, opts);
            out.patch = normalize_slice_order(add, modified, merge_key, kind).at(loc)?;
            // Upstream sorts `original` in place before this comparison, so an unchanged list
            // that is not in sorted order still gets a $setElementOrder.
            if opts.set_element_order
                && ((!opts.ignore_deletions && !deletions.is_empty())
                    || (!opts.ignore_changes_and_additions && sorted_original != modified))
            {
                out.order = modified.to_vec();
            }
            out.deletions = deletions;
        }
    }
    Ok(out)
}

fn is_order_same(
    original: &[Value],
    modified: &[Value],
    merge_key: &str,
) -> Result<bool, SmpErrorKind> {
    if original.len() != modified.len() {
        return Ok(false);
    }
    for (o, m) in original.iter().zip(modified) {
        if !merge_key_value_equal(o, m, merge_key)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `diffListsOfScalars`: additions and deletions by `%v` text; also returns `original` sorted.
fn diff_lists_of_scalars(
    original: &[Value],
    modified: &[Value],
    opts: DiffOptions,
) -> (Vec<Value>, Vec<Value>, Vec<Value>) {
    let original_sorted = sort_scalars(original.to_vec());
    let modified_sorted = sort_scalars(modified.to_vec());
    let o_text: Vec<String> = original_sorted.iter().map(go_v).collect();
    let m_text: Vec<String> = modified_sorted.iter().map(go_v).collect();
    let (mut oi, mut mi) = (0, 0);
    let mut add = Vec::new();
    let mut delete = Vec::new();
    while oi < original_sorted.len() || mi < modified_sorted.len() {
        let o_in = oi < original_sorted.len();
        let m_in = mi < modified_sorted.len();
        if o_in && m_in && o_text[oi] == m_text[mi] {
            oi += 1;
            mi += 1;
        } else if !o_in || (m_in && o_text[oi] > m_text[mi]) {
            if !opts.ignore_changes_and_additions {
                add.push(modified_sorted[mi].clone());
            }
            mi += 1;
        } else {
            if !opts.ignore_deletions {
                delete.push(original_sorted[oi].clone());
            }
            oi += 1;
        }
    }
    (add, deduplicate_scalars(delete), original_sorted)
}

/// `diffListsOfMaps`: both lists sorted by the `%v` text of the merge key, then walked
/// together; changed items become patches carrying their merge key, removed ones
/// `$patch: delete` items.
fn diff_lists_of_maps<M: LookupPatchMeta>(
    original: &[Value],
    modified: &[Value],
    meta: &M,
    merge_key: &str,
    opts: DiffOptions,
    loc: &Loc<'_>,
) -> Result<(Vec<Value>, Vec<Value>), SmpError> {
    let original = sorted_by_merge_key(original, merge_key).at(loc)?;
    let modified = sorted_by_merge_key(modified, merge_key).at(loc)?;
    let mut patch = Vec::with_capacity(modified.len());
    let mut deletions = Vec::new();
    let (mut oi, mut mi) = (0, 0);
    while oi < original.len() || mi < modified.len() {
        let o = original.get(oi);
        let m = modified.get(mi);
        match (o, m) {
            (Some(o), Some(m)) if o.text == m.text => {
                let item_loc = loc.item(merge_key, m.key);
                let mut value = diff_maps(o.map, m.map, meta, opts, &item_loc)?;
                if !value.is_empty() {
                    value.insert(merge_key.to_owned(), m.key.clone());
                    patch.push(Value::Object(value));
                }
                oi += 1;
                mi += 1;
            }
            (None, Some(m)) => {
                if !opts.ignore_changes_and_additions {
                    patch.push(Value::Object(m.map.clone()));
                }
                mi += 1;
            }
            (Some(o), Some(m)) if o.text > m.text => {
                if !opts.ignore_changes_and_additions {
                    patch.push(Value::Object(m.map.clone()));
                }
                mi += 1;
            }
            (Some(o), _) => {
                if !opts.ignore_deletions {
                    let mut d = Map::new();
                    d.insert(merge_key.to_owned(), o.key.clone());
                    d.insert(DIRECTIVE.to_owned(), Value::String("delete".to_owned()));
                    deletions.push(Value::Object(d));
                }
                oi += 1;
            }
            (None, None) => break,
        }
    }
    Ok((patch, deletions))
}

struct Keyed<'v> {
    map: &'v Map<String, Value>,
    key: &'v Value,
    text: String,
}

/// A list of maps sorted by the `%v` text of their merge key (`sortMergeListsByNameArray`
/// without recursion); every item must be a map holding the key.
fn sorted_by_merge_key<'v>(
    list: &'v [Value],
    merge_key: &str,
) -> Result<Vec<Keyed<'v>>, SmpErrorKind> {
    let mut sorted: Vec<&Value> = list.iter().collect();
    go_sort_by_text(&mut sorted, |v| {
        go_v(
            v.as_object()
                .and_then(|m| m.get(merge_key))
                .unwrap_or(&Value::Null),
        )
    });
    sorted
        .into_iter()
        .map(|v| {
            let map = v
                .as_object()
                .ok_or_else(|| SmpErrorKind::bad_arg_type(GO_MAP, v))?;
            let key = map
                .get(merge_key)
                .ok_or_else(|| SmpErrorKind::no_merge_key(v, merge_key))?;
            Ok(Keyed {
                map,
                key,
                text: go_v(key),
            })
        })
        .collect()
}
