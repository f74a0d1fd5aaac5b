//! Applying a strategic merge patch (apimachinery's `mergeMap` and friends).
//!
//! The same merge also combines the two halves of a three-way patch; [`MergeOptions`] says
//! which: the server applies parallel lists (`$deleteFromPrimitiveList`, `$setElementOrder`,
//! `$retainKeys`) and drops `null`s that delete nothing, while combining patches keeps both.

use serde_json::{Map, Value};

use super::error::{At, GO_SLICE, Loc, SmpError, SmpErrorKind};
use super::gofmt::{GoKind, go_kind, go_v};
use super::list::{
    DELETE_PREFIX, DIRECTIVE, RETAIN_KEYS, SET_ORDER_PREFIX, extract_key, is_delete_directive,
    merge_key_value_equal, normalize_element_order, order_of, partition_maps, partition_primitives,
    slice_element_type,
};
use super::merge_list::{ListMerge, merge_slice_handler};
use super::meta::{LookupPatchMeta, split_strategy};

#[derive(Clone, Copy, Debug)]
pub(crate) struct MergeOptions {
    /// Apply `$deleteFromPrimitiveList`, `$setElementOrder` and `$retainKeys` (server side);
    /// otherwise carry them over (combining two patches).
    pub(crate) merge_parallel_list: bool,
    /// A `null` for a field the original lacks is dropped rather than kept.
    pub(crate) ignore_unmatched_nulls: bool,
}

pub(crate) const APPLY: MergeOptions = MergeOptions {
    merge_parallel_list: true,
    ignore_unmatched_nulls: true,
};

pub(crate) fn strategy_of<'a>(raw: &'a str, loc: &Loc<'_>) -> Result<&'a str, SmpError> {
    split_strategy(raw)
        .map(|(_, s)| s)
        .map_err(SmpErrorKind::UnexpectedPatchStrategy)
        .at(loc)
}

/// `mergeMap`: merges `patch` into `original`.
pub(crate) fn merge_map<M: LookupPatchMeta>(
    mut original: Map<String, Value>,
    mut patch: Map<String, Value>,
    meta: &M,
    opts: MergeOptions,
    loc: &Loc<'_>,
) -> Result<Map<String, Value>, SmpError> {
    if let Some(directive) = patch.get(DIRECTIVE) {
        let directive = directive.clone();
        return handle_directive(&directive, patch).at(loc);
    }
    apply_retain_keys(&mut original, &mut patch, opts).at(loc)?;
    merge_ordered_lists(&mut original, &mut patch, meta, opts, loc)?;

    for (k, patch_v) in patch {
        let (key, is_delete_list) = if k.starts_with(DELETE_PREFIX) {
            if !opts.merge_parallel_list {
                original.insert(k, patch_v);
                continue;
            }
            (extract_key(&k, DELETE_PREFIX).at(&loc.field(&k))?, true)
        } else {
            (k, false)
        };
        let floc = loc.field(&key);

        // null deletes; whether an unmatched null survives depends on the options.
        if patch_v.is_null() {
            original.shift_remove(&key);
            if opts.ignore_unmatched_nulls {
                continue;
            }
        }
        let same_kind = original
            .get(&key)
            .map(|orig| go_kind(orig) == go_kind(&patch_v));
        match same_kind {
            Some(true) => {}
            found => {
                // Absent from the original, or of another type: the patch value replaces it.
                if !is_delete_list {
                    let mut v = patch_v;
                    if opts.ignore_unmatched_nulls {
                        discard_nulls(&mut v);
                    }
                    match remove_directives(v) {
                        Some(v) => {
                            original.insert(key, v);
                        }
                        None if found.is_some() => {
                            original.shift_remove(&key);
                        }
                        None => {}
                    }
                }
                continue;
            }
        }
        let Some(slot) = original.get_mut(&key) else {
            continue;
        };
        match (std::mem::take(slot), patch_v) {
            (Value::Object(o), Value::Object(p)) => {
                let (sub, field) = meta.lookup_struct(&key).at(&floc)?;
                let strategy = strategy_of(field.strategy(), &floc)?;
                *slot = Value::Object(if strategy == "replace" {
                    p
                } else {
                    merge_map(o, p, &sub, opts, &floc)?
                });
            }
            (Value::Array(o), Value::Array(p)) => {
                let (sub, field) = meta.lookup_slice(&key).at(&floc)?;
                let strategy = strategy_of(field.strategy(), &floc)?;
                *slot = Value::Array(merge_slice_handler(
                    o,
                    p,
                    &sub,
                    ListMerge {
                        strategy,
                        merge_key: field.merge_key(),
                        is_delete_list,
                        opts,
                    },
                    None,
                    &floc,
                )?);
            }
            (_, scalar) => *slot = scalar,
        }
    }
    Ok(original)
}

/// `handleDirectiveInMergeMap`: `$patch: replace` keeps the patch alone, `$patch: delete`
/// empties the map.
fn handle_directive(
    directive: &Value,
    mut patch: Map<String, Value>,
) -> Result<Map<String, Value>, SmpErrorKind> {
    match directive.as_str() {
        Some("replace") => {
            patch.shift_remove(DIRECTIVE);
            Ok(patch)
        }
        Some("delete") => Ok(Map::new()),
        _ => Err(SmpErrorKind::BadPatchType {
            directive: go_s(directive),
            map: go_v(&Value::Object(patch)),
        }),
    }
}

/// Go's `%s` of a value that should have been a string.
pub(crate) fn go_s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => format!("%!s({}={})", super::gofmt::go_type(other), go_v(other)),
    }
}

/// `applyRetainKeysDirective`.
fn apply_retain_keys(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
    opts: MergeOptions,
) -> Result<(), SmpErrorKind> {
    let Some(retain) = patch.shift_remove(RETAIN_KEYS) else {
        return Ok(());
    };
    if !opts.merge_parallel_list {
        // Combining patches: both halves must agree.
        match original.get(RETAIN_KEYS) {
            Some(existing) if *existing != retain => {
                return Err(SmpErrorKind::RetainKeysMismatch {
                    original: go_v(existing),
                    patch: go_v(&retain),
                });
            }
            Some(_) => {}
            None => {
                original.insert(RETAIN_KEYS.to_owned(), retain);
            }
        }
        return Ok(());
    }
    let Value::Array(keep) = retain else {
        return Err(SmpErrorKind::BadPatchFormatForRetainKeys);
    };
    let kept = |k: &str| keep.iter().any(|v| v.as_str() == Some(k));
    for (k, v) in patch.iter() {
        if v.is_null() || k.starts_with(DELETE_PREFIX) || k.starts_with(SET_ORDER_PREFIX) {
            continue;
        }
        if !kept(k) {
            return Err(SmpErrorKind::BadPatchFormatForRetainKeys);
        }
    }
    original.retain(|k, _| kept(k));
    Ok(())
}

/// `mergePatchIntoOriginal`: merges each list that has a `$setElementOrder` directive and puts
/// its items in that order.
fn merge_ordered_lists<M: LookupPatchMeta>(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
    meta: &M,
    opts: MergeOptions,
    loc: &Loc<'_>,
) -> Result<(), SmpError> {
    let keys: Vec<String> = patch
        .keys()
        .filter(|k| k.starts_with(SET_ORDER_PREFIX))
        .cloned()
        .collect();
    for key in keys {
        let kloc = loc.field(&key);
        let Some(order_v) = patch.shift_remove(&key) else {
            continue;
        };
        if !opts.merge_parallel_list {
            match original.get(&key) {
                Some(existing) if *existing != order_v => {
                    return Err(kloc.err(SmpErrorKind::BadPatchFormatForSetElementOrderList));
                }
                Some(_) => {}
                None => {
                    original.insert(key.clone(), order_v.clone());
                }
            }
        }
        let Value::Array(order) = order_v else {
            return Err(kloc.err(SmpErrorKind::bad_arg_type(GO_SLICE, &order_v)));
        };
        let field = extract_key(&key, SET_ORDER_PREFIX).at(&kloc)?;
        let floc = loc.field(&field);
        let original_list = match original.get(&field) {
            None => None,
            Some(Value::Array(a)) => Some(a),
            Some(other) => return Err(floc.err(SmpErrorKind::bad_arg_type(GO_SLICE, other))),
        };
        let patch_list = match patch.get(&field) {
            None => None,
            Some(Value::Array(a)) => Some(a),
            Some(other) => return Err(floc.err(SmpErrorKind::bad_arg_type(GO_SLICE, other))),
        };
        let (sub, field_meta) = meta.lookup_slice(&field).at(&floc)?;
        let strategy = strategy_of(field_meta.strategy(), &floc)?;
        let merge_key = field_meta.merge_key();
        validate_patch_with_order(patch_list.map_or(&[][..], |p| p), &order, merge_key)
            .at(&floc)?;
        let kind = slice_element_type(&[
            original_list.map_or(&[][..], |l| l),
            patch_list.map_or(&[][..], |l| l),
        ]);
        let mut server_order = original_list.map_or_else(Vec::new, |l| {
            order_of(l, merge_key, *kind.as_ref().unwrap_or(&GoKind::Nil))
        });

        let original_list = match original.get_mut(&field) {
            Some(Value::Array(a)) => Some(std::mem::take(a)),
            _ => None,
        };
        let patch_list = match patch.shift_remove(&field) {
            Some(Value::Array(a)) => Some(a),
            _ => None,
        };
        let merged = match (original_list, patch_list) {
            (Some(o), None) => o,
            (None, Some(p)) => match remove_directives(Value::Array(p)) {
                Some(Value::Array(a)) => a,
                _ => continue,
            },
            (Some(o), Some(p)) => {
                let how = ListMerge {
                    strategy,
                    merge_key,
                    is_delete_list: false,
                    opts,
                };
                // Upstream merges in place: the live list it orders by afterwards is the
                // merged-over array.
                merge_slice_handler(o, p, &sub, how, Some(&mut server_order), &floc)?
            }
            (None, None) => continue,
        };
        let (patch_items, server_only) = if merge_key.is_empty() {
            partition_primitives(merged, &order)
        } else {
            partition_maps(merged, &order, merge_key).at(&floc)?
        };
        let kind = kind.at(&floc)?;
        let both = normalize_element_order(
            patch_items,
            server_only,
            &order,
            &server_order,
            merge_key,
            kind,
        )
        .at(&floc)?;
        original.insert(field, Value::Array(both));
    }
    Ok(())
}

/// `validatePatchWithSetOrderList`: the patch list's items appear in the `$setElementOrder`
/// list, in the same relative order.
fn validate_patch_with_order(
    patch_list: &[Value],
    order: &[Value],
    merge_key: &str,
) -> Result<(), SmpErrorKind> {
    if order.is_empty() || patch_list.is_empty() {
        return Ok(());
    }
    let non_delete: Vec<&Value> = if merge_key.is_empty() {
        patch_list.iter().collect()
    } else {
        let mut keep = Vec::new();
        for v in patch_list {
            if !v.is_object() {
                return Err(SmpErrorKind::bad_arg_type(super::error::GO_MAP, v));
            }
            if !is_delete_directive(v) {
                keep.push(v);
            }
        }
        keep
    };
    let (mut pi, mut oi) = (0, 0);
    while pi < non_delete.len() && oi < order.len() {
        if non_delete[pi].get(DIRECTIVE).is_some() {
            pi += 1;
            continue;
        }
        if merge_key_value_equal(non_delete[pi], &order[oi], merge_key)? {
            pi += 1;
        }
        oi += 1;
    }
    if pi < non_delete.len() && oi >= order.len() {
        return Err(SmpErrorKind::SetElementOrderMismatch {
            patch: go_v(&Value::Array(patch_list.to_vec())),
            order: go_v(&Value::Array(order.to_vec())),
        });
    }
    Ok(())
}

/// `removeDirectives`: `None` when the value itself is a directive map.
pub(crate) fn remove_directives(v: Value) -> Option<Value> {
    match v {
        Value::Object(m) => {
            if m.contains_key(DIRECTIVE) {
                return None;
            }
            Some(Value::Object(
                m.into_iter()
                    .filter_map(|(k, v)| remove_directives(v).map(|v| (k, v)))
                    .collect(),
            ))
        }
        Value::Array(items) => Some(Value::Array(
            items.into_iter().filter_map(remove_directives).collect(),
        )),
        other => Some(other),
    }
}

/// `discardNullValuesFromPatch`: drops `null` map entries at any depth (list items stay).
fn discard_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, v| !v.is_null());
            for v in m.values_mut() {
                discard_nulls(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(discard_nulls),
        _ => {}
    }
}
