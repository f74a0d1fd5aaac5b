//! Merging one list of a strategic merge patch (apimachinery's `mergeSlice` and friends):
//! primitives as a set, maps by merge key with `$patch` items, then the order normalised.

use serde_json::Value;

use super::apply::{MergeOptions, go_s, merge_map};
use super::error::{At, Loc, SmpError, SmpErrorKind};
use super::gofmt::{GoKind, deduplicate_in_place, go_decoded_cap, go_v};
use super::list::{
    DIRECTIVE, find_map, normalize_element_order, order_of, partition_maps, partition_primitives,
    slice_element_type,
};
use super::meta::LookupPatchMeta;

/// How a list merges.
#[derive(Clone, Copy)]
pub(crate) struct ListMerge<'a> {
    pub(crate) strategy: &'a str,
    pub(crate) merge_key: &'a str,
    pub(crate) is_delete_list: bool,
    pub(crate) opts: MergeOptions,
}

/// What apimachinery's caller still sees of a list that `mergeSlice` merged in place: Go
/// deletes by shifting within the array and appends into its spare capacity, so a caller that
/// orders by the original list afterwards (`mergePatchIntoOriginal`) sees those writes.
/// `view` holds the caller's items (as identities), `len` and `cap` the merge's slice.
struct Backing<'v> {
    view: &'v mut Vec<Value>,
    len: usize,
    cap: usize,
    aliased: bool,
}

impl Backing<'_> {
    fn delete(&mut self, i: usize) {
        if !self.aliased {
            return;
        }
        for k in i..self.len.saturating_sub(1) {
            if k + 1 < self.view.len() {
                self.view[k] = self.view[k + 1].clone();
            }
        }
        self.len = self.len.saturating_sub(1);
    }

    fn push(&mut self, item: &Value, merge_key: &str) {
        if !self.aliased {
            return;
        }
        if self.len >= self.cap {
            // append reallocates: later writes go to a new array.
            self.aliased = false;
            return;
        }
        if self.len < self.view.len() {
            self.view[self.len] = order_of(std::slice::from_ref(item), merge_key, GoKind::Map)
                .pop()
                .unwrap_or(Value::Null);
        }
        self.len += 1;
    }
}

/// `mergeSliceHandler`: lists merge only with the `merge` strategy (deletion lists always).
/// `view`: the caller's view of `original`, updated as Go's in-place merge would.
pub(crate) fn merge_slice_handler<M: LookupPatchMeta>(
    original: Vec<Value>,
    patch: Vec<Value>,
    meta: &M,
    how: ListMerge<'_>,
    view: Option<&mut Vec<Value>>,
    loc: &Loc<'_>,
) -> Result<Vec<Value>, SmpError> {
    if how.strategy == "merge" || how.is_delete_list {
        merge_slice(original, patch, meta, how, view, loc)
    } else {
        Ok(patch)
    }
}

/// `mergeSlice`: scalars as a set, maps by merge key, then the order normalised.
fn merge_slice<M: LookupPatchMeta>(
    original: Vec<Value>,
    patch: Vec<Value>,
    meta: &M,
    how: ListMerge<'_>,
    view: Option<&mut Vec<Value>>,
    loc: &Loc<'_>,
) -> Result<Vec<Value>, SmpError> {
    let merge_key = how.merge_key;
    if original.is_empty() && patch.is_empty() {
        return Ok(original);
    }
    let kind = slice_element_type(&[&original, &patch]).at(loc)?;
    let cap = go_decoded_cap(original.len());
    if kind != GoKind::Map {
        if how.opts.merge_parallel_list && how.is_delete_list {
            let mut kept = original;
            kept.retain(|v| !patch.contains(v));
            return Ok(kept);
        }
        let n = original.len();
        // Upstream appends the patch to the original; when that fits the original's
        // capacity, the deduplication's writes land in the original too.
        let in_place = n + patch.len() <= cap;
        let mut both = original;
        both.extend(patch.iter().cloned());
        let untouched = (!in_place).then(|| both[..n].to_vec());
        let len = deduplicate_in_place(&mut both);
        let server_order = untouched.unwrap_or_else(|| both[..n].to_vec());
        if let (true, Some(view)) = (in_place, view) {
            *view = both[..n].to_vec();
        }
        both.truncate(len);
        let merged = both;
        let (patch_items, server_only) = partition_primitives(merged, &patch);
        return normalize_element_order(
            patch_items,
            server_only,
            &patch,
            &server_order,
            merge_key,
            kind,
        )
        .at(loc);
    }
    if merge_key.is_empty() {
        return Err(loc.err(SmpErrorKind::NoMergeKeyForList(meta.name())));
    }
    let mut backing = view.map(|view| Backing {
        len: original.len(),
        view,
        cap,
        aliased: true,
    });
    let (original, patch) =
        apply_list_directives(original, patch, merge_key, &mut backing).at(loc)?;
    let server_order = order_of(&original, merge_key, kind);
    let patch_order = order_of(&patch, merge_key, kind);
    let merged = merge_items(original, patch, meta, how, &mut backing, loc)?;
    let (patch_items, server_only) = partition_maps(merged, &patch_order, merge_key).at(loc)?;
    normalize_element_order(
        patch_items,
        server_only,
        &patch_order,
        &server_order,
        merge_key,
        kind,
    )
    .at(loc)
}

/// `mergeSliceWithSpecialElements`: `$patch: delete` items remove matching items,
/// `$patch: replace` makes the rest of the patch the list.
fn apply_list_directives(
    mut original: Vec<Value>,
    patch: Vec<Value>,
    merge_key: &str,
    backing: &mut Option<Backing<'_>>,
) -> Result<(Vec<Value>, Vec<Value>), SmpErrorKind> {
    let mut plain = Vec::with_capacity(patch.len());
    let mut replace = false;
    for v in patch {
        let Some(directive) = v.get(DIRECTIVE) else {
            plain.push(v);
            continue;
        };
        match directive.as_str() {
            Some("delete") => {
                let Some(key_value) = v.get(merge_key) else {
                    return Err(SmpErrorKind::no_merge_key(&v, merge_key));
                };
                while let Some(i) = find_map(&original, merge_key, key_value)? {
                    original.remove(i);
                    if let Some(b) = backing.as_mut() {
                        b.delete(i);
                    }
                }
            }
            Some("replace") => replace = true,
            Some("merge") => return Err(SmpErrorKind::MergeListDirective),
            _ => {
                return Err(SmpErrorKind::BadPatchType {
                    directive: go_s(directive),
                    map: go_v(&v),
                });
            }
        }
    }
    if replace {
        if let Some(b) = backing.as_mut() {
            b.aliased = false;
        }
        Ok((plain, Vec::new()))
    } else {
        Ok((original, plain))
    }
}

/// `mergeSliceWithoutSpecialElements`: each patch item merges into the first item with its
/// merge key, or is appended.
fn merge_items<M: LookupPatchMeta>(
    mut original: Vec<Value>,
    patch: Vec<Value>,
    meta: &M,
    how: ListMerge<'_>,
    backing: &mut Option<Backing<'_>>,
    loc: &Loc<'_>,
) -> Result<Vec<Value>, SmpError> {
    let merge_key = how.merge_key;
    for v in patch {
        let Some(key_value) = v.get(merge_key).cloned() else {
            return Err(loc.err(SmpErrorKind::no_merge_key(&v, merge_key)));
        };
        match find_map(&original, merge_key, &key_value).at(loc)? {
            Some(i) => {
                let item_loc = loc.item(merge_key, &key_value);
                let (Value::Object(o), Value::Object(p)) = (std::mem::take(&mut original[i]), v)
                else {
                    continue;
                };
                original[i] = Value::Object(merge_map(o, p, meta, how.opts, &item_loc)?);
            }
            None => {
                if let Some(b) = backing.as_mut() {
                    b.push(&v, merge_key);
                }
                original.push(v);
            }
        }
    }
    Ok(original)
}
