//! List helpers shared by applying and creating patches: element types, merge-key checks,
//! partitioning, and apimachinery's element-order normalisation (`$setElementOrder` first, then
//! the order in the patch, then the order of the live list).

use serde_json::{Map, Value};

use super::error::{GO_MAP, SmpErrorKind};
use super::gofmt::{GoKind, go_kind, go_slice_stable, go_v};

pub(crate) const DIRECTIVE: &str = "$patch";
pub(crate) const DELETE_PREFIX: &str = "$deleteFromPrimitiveList";
pub(crate) const RETAIN_KEYS: &str = "$retainKeys";
pub(crate) const SET_ORDER_PREFIX: &str = "$setElementOrder";

type KResult<T> = Result<T, SmpErrorKind>;

static NULL: Value = Value::Null;

/// The common element type of the lists (`sliceElementType`).
pub(crate) fn slice_element_type(lists: &[&[Value]]) -> KResult<GoKind> {
    let mut prev = None;
    for list in lists {
        for v in *list {
            let cur = go_kind(v);
            match prev {
                None if cur == GoKind::Slice => return Err(SmpErrorKind::NoListOfLists),
                None => prev = Some(cur),
                Some(p) if p != cur => {
                    let all: Vec<String> = lists
                        .iter()
                        .map(|l| go_v(&Value::Array(l.to_vec())))
                        .collect();
                    return Err(SmpErrorKind::ListElementTypes(format!(
                        "[{}]",
                        all.join(" ")
                    )));
                }
                Some(_) => {}
            }
        }
    }
    prev.ok_or(SmpErrorKind::NoElements)
}

/// What apimachinery's `index` compares: a map's merge-key value (Go's `nil` when absent), or
/// the item itself.
fn identity<'v>(item: &'v Value, merge_key: &str, kind: GoKind) -> &'v Value {
    if kind == GoKind::Map {
        item.as_object()
            .and_then(|m| m.get(merge_key))
            .unwrap_or(&NULL)
    } else {
        item
    }
}

fn index_of(order: &[Value], item: &Value, merge_key: &str, kind: GoKind) -> Option<usize> {
    let id = identity(item, merge_key, kind);
    order
        .iter()
        .position(|o| identity(o, merge_key, kind) == id)
}

/// Stand-ins for a list when only its items' identities matter (an order): `{key: value}` for
/// maps, clones for scalars.
pub(crate) fn order_of(list: &[Value], merge_key: &str, kind: GoKind) -> Vec<Value> {
    if kind != GoKind::Map || merge_key.is_empty() {
        return list.to_vec();
    }
    list.iter()
        .map(|item| match item {
            Value::Object(m) => {
                let mut stub = Map::new();
                if let Some(v) = m.get(merge_key) {
                    stub.insert(merge_key.to_owned(), v.clone());
                }
                Value::Object(stub)
            }
            other => other.clone(),
        })
        .collect()
}

/// `validateMergeKeyInLists`: every item is a map holding the merge key.
pub(crate) fn validate_merge_key(merge_key: &str, lists: &[&[Value]]) -> KResult<()> {
    for list in lists {
        for item in *list {
            let Some(m) = item.as_object() else {
                return Err(SmpErrorKind::bad_arg_type(GO_MAP, item));
            };
            if !m.contains_key(merge_key) {
                return Err(SmpErrorKind::no_merge_key(item, merge_key));
            }
        }
    }
    Ok(())
}

pub(crate) fn is_delete_directive(item: &Value) -> bool {
    item.get(DIRECTIVE).and_then(Value::as_str) == Some("delete")
}

/// `extractToDeleteItems`: the items to keep, and those carrying `$patch: delete`.
pub(crate) fn extract_to_delete_items(list: Vec<Value>) -> KResult<(Vec<Value>, Vec<Value>)> {
    let mut keep = Vec::with_capacity(list.len());
    let mut delete = Vec::new();
    for v in list {
        if !v.is_object() {
            return Err(SmpErrorKind::bad_arg_type(GO_MAP, &v));
        }
        if is_delete_directive(&v) {
            delete.push(v);
        } else {
            keep.push(v);
        }
    }
    Ok((keep, delete))
}

/// `normalizeSliceOrder`: sorts `to_sort` by the positions of its items in `order` (items not
/// in `order` compare as "less" both ways, as upstream's `less` does); deletions go last.
pub(crate) fn normalize_slice_order(
    to_sort: Vec<Value>,
    order: &[Value],
    merge_key: &str,
    kind: GoKind,
) -> KResult<Vec<Value>> {
    let (to_sort, to_delete) = if kind == GoKind::Map {
        validate_merge_key(merge_key, &[&to_sort, order])?;
        extract_to_delete_items(to_sort)?
    } else {
        (to_sort, Vec::new())
    };
    let mut keyed: Vec<(Option<usize>, Value)> = to_sort
        .into_iter()
        .map(|v| (index_of(order, &v, merge_key, kind), v))
        .collect();
    go_slice_stable(&mut keyed, |a, b| match (a.0, b.0) {
        (Some(x), Some(y)) => x < y,
        _ => true,
    });
    let mut out: Vec<Value> = keyed.into_iter().map(|(_, v)| v).collect();
    out.extend(to_delete);
    Ok(out)
}

/// `normalizeElementOrder`: patch items in `patch_order`, server-only items in `server_order`,
/// then interleaved by their positions in `server_order`.
pub(crate) fn normalize_element_order(
    patch: Vec<Value>,
    server_only: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    merge_key: &str,
    kind: GoKind,
) -> KResult<Vec<Value>> {
    let patch = normalize_slice_order(patch, patch_order, merge_key, kind)?;
    let server_only = normalize_slice_order(server_only, server_order, merge_key, kind)?;
    Ok(merge_sorted_slice(
        server_only,
        patch,
        server_order,
        merge_key,
        kind,
    ))
}

/// `mergeSortedSlice`: inserts `left` items into `right`, a left item going first only when
/// both are found in `server_order` and it comes earlier there.
fn merge_sorted_slice(
    left: Vec<Value>,
    right: Vec<Value>,
    server_order: &[Value],
    merge_key: &str,
    kind: GoKind,
) -> Vec<Value> {
    let li: Vec<Option<usize>> = left
        .iter()
        .map(|v| index_of(server_order, v, merge_key, kind))
        .collect();
    let ri: Vec<Option<usize>> = right
        .iter()
        .map(|v| index_of(server_order, v, merge_key, kind))
        .collect();
    let mut out = Vec::with_capacity(left.len() + right.len());
    let mut left = left.into_iter().zip(li).peekable();
    let mut right = right.into_iter().zip(ri).peekable();
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some((_, l)), Some((_, r))) => matches!((l, r), (Some(a), Some(b)) if a < b),
        };
        let next = if take_left { left.next() } else { right.next() };
        if let Some((v, _)) = next {
            out.push(v);
        }
    }
    out
}

/// `partitionPrimitivesByPresentInList`.
pub(crate) fn partition_primitives(
    list: Vec<Value>,
    partition_by: &[Value],
) -> (Vec<Value>, Vec<Value>) {
    list.into_iter().partition(|v| partition_by.contains(v))
}

/// `findMapInSliceBasedOnKeyValue`: the first map whose `key` equals `value`.
pub(crate) fn find_map(list: &[Value], key: &str, value: &Value) -> KResult<Option<usize>> {
    for (i, v) in list.iter().enumerate() {
        let Some(m) = v.as_object() else {
            return Err(SmpErrorKind::NotAMap(i));
        };
        if m.get(key) == Some(value) {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

/// `partitionMapsByPresentInList`.
pub(crate) fn partition_maps(
    list: Vec<Value>,
    partition_by: &[Value],
    merge_key: &str,
) -> KResult<(Vec<Value>, Vec<Value>)> {
    let mut patch = Vec::with_capacity(list.len());
    let mut server_only = Vec::with_capacity(list.len());
    for v in list {
        let Some(m) = v.as_object() else {
            return Err(SmpErrorKind::bad_arg_type(GO_MAP, &v));
        };
        let Some(key_value) = m.get(merge_key) else {
            return Err(SmpErrorKind::no_merge_key(&v, merge_key));
        };
        if find_map(partition_by, merge_key, key_value)?.is_some() {
            patch.push(v);
        } else {
            server_only.push(v);
        }
    }
    Ok((patch, server_only))
}

/// `mergeKeyValueEqual`.
pub(crate) fn merge_key_value_equal(left: &Value, right: &Value, merge_key: &str) -> KResult<bool> {
    if merge_key.is_empty() {
        return Ok(left == right);
    }
    let Some(l) = left.as_object() else {
        return Err(SmpErrorKind::bad_arg_type(GO_MAP, left));
    };
    let Some(r) = right.as_object() else {
        return Err(SmpErrorKind::bad_arg_type(GO_MAP, right));
    };
    let Some(lv) = l.get(merge_key) else {
        return Err(SmpErrorKind::no_merge_key(left, merge_key));
    };
    let Some(rv) = r.get(merge_key) else {
        return Err(SmpErrorKind::no_merge_key(right, merge_key));
    };
    Ok(lv == rv)
}

/// `extractKey`: the field a `$deleteFromPrimitiveList/<field>` or `$setElementOrder/<field>`
/// directive applies to.
pub(crate) fn extract_key(s: &str, prefix: &str) -> KResult<String> {
    match s.split_once('/') {
        Some((p, rest)) if p == prefix => Ok(rest.to_owned()),
        _ if prefix == DELETE_PREFIX => Err(SmpErrorKind::BadPatchFormatForPrimitiveList),
        _ => Err(SmpErrorKind::BadPatchFormatForSetElementOrderList),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn list(v: Value) -> Vec<Value> {
        v.as_array().unwrap().clone()
    }

    #[test]
    fn element_order_prefers_patch_order_then_live_order() {
        let live = list(json!([{"name": "a"}, {"name": "b"}, {"name": "c"}]));
        let patch = list(json!([{"name": "c"}, {"name": "d"}]));
        let server_only = list(json!([{"name": "a"}, {"name": "b"}]));
        let out = normalize_element_order(
            patch.clone(),
            server_only,
            &patch,
            &live,
            "name",
            GoKind::Map,
        )
        .unwrap();
        assert_eq!(
            Value::Array(out),
            json!([{"name": "a"}, {"name": "b"}, {"name": "c"}, {"name": "d"}])
        );
    }

    #[test]
    fn mixed_element_types_are_rejected() {
        let a = list(json!([1, 2]));
        let b = list(json!(["x"]));
        assert_eq!(
            slice_element_type(&[&a, &b]).unwrap_err().to_string(),
            "list element types are not identical: [[1 2] [x]]"
        );
        assert_eq!(
            slice_element_type(&[&[], &[]]).unwrap_err(),
            SmpErrorKind::NoElements
        );
        assert_eq!(
            extract_key("$setElementOrder/containers", SET_ORDER_PREFIX).unwrap(),
            "containers"
        );
        assert!(extract_key("$deleteFromPrimitiveListx", DELETE_PREFIX).is_err());
    }
}
