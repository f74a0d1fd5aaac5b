//! Strategic merge patches on arbitrary documents and patches, for a handful of built-in kinds
//! with merge keys, `patchStrategy` and `x-kubernetes-list-type` of every flavour. Merging gives
//! a document or an error, never a panic, and:
//!
//! - the same inputs give the same answer (no hidden state);
//! - an empty patch `{}` leaves an object document as it is;
//! - a successful merge of plain data (no `$` directives, no nulls) is an object, and
//!   applying the two-way patch from the original to that result gives the result again, when
//!   the two-way patch can be computed.
//!
//! An input is a kind selector byte, then `original` and `patch` as JSON separated by `\0`.
//!
//! `fuzz_targets/patches.rs` runs it under libFuzzer; `tests/fuzz_seeds.rs` replays the seeds.

use serde_json::Value;
use tether_schema::{SchemaPatchMeta, create_two_way_merge_patch, strategic_merge_patch_json};

const KINDS: [(&str, &str, &str); 6] = [
    ("apps", "v1", "Deployment"),
    ("", "v1", "Pod"),
    ("", "v1", "Service"),
    ("", "v1", "ConfigMap"),
    ("networking.k8s.io", "v1", "NetworkPolicy"),
    ("rbac.authorization.k8s.io", "v1", "ClusterRole"),
];

pub fn check(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let (group, version, kind) = KINDS[usize::from(selector) % KINDS.len()];
    let meta = SchemaPatchMeta::for_gvk(group, version, kind).expect("a built-in kind");
    let mut parts = rest.splitn(2, |b| *b == 0);
    let original = parts.next().unwrap_or_default();
    let patch = parts.next().unwrap_or_default();

    let first = strategic_merge_patch_json(original, patch, &meta);
    let again = strategic_merge_patch_json(original, patch, &meta);
    assert_eq!(
        first.as_ref().map_err(ToString::to_string),
        again.as_ref().map_err(ToString::to_string),
        "the same merge answered differently"
    );

    let Ok(original_value) = serde_json::from_slice::<Value>(original) else {
        return;
    };
    if original_value.is_object() {
        let unchanged = strategic_merge_patch_json(original, b"{}", &meta);
        if let Ok(bytes) = unchanged {
            let value: Value = serde_json::from_slice(&bytes).expect("the merge wrote JSON");
            assert_eq!(value, original_value, "an empty patch changed the document");
        }
    }

    let Ok(merged) = first else { return };
    let merged: Value = serde_json::from_slice(&merged).expect("the merge wrote JSON");
    assert!(merged.is_object(), "a merge gave a non-object: {merged}");
    let plain = |v: &Value| !has_directive_or_null(v);
    let Ok(patch_value) = serde_json::from_slice::<Value>(patch) else {
        return;
    };
    if !(plain(&original_value) && plain(&patch_value) && original_value.is_object()) {
        return;
    }
    let Ok(two_way) = create_two_way_merge_patch(&original_value, &merged, &meta) else {
        return;
    };
    let two_way_bytes = serde_json::to_vec(&two_way).expect("JSON");
    let replayed = strategic_merge_patch_json(original, &two_way_bytes, &meta)
        .unwrap_or_else(|e| panic!("the two-way patch {two_way} does not apply: {e}"));
    let replayed: Value = serde_json::from_slice(&replayed).expect("the merge wrote JSON");
    assert_eq!(
        replayed, merged,
        "original + two-way patch {two_way} is not the merged document"
    );
}

fn has_directive_or_null(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(items) => items.iter().any(has_directive_or_null),
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| k.starts_with('$') || has_directive_or_null(v)),
        _ => false,
    }
}
