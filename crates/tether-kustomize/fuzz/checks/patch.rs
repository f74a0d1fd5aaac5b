//! The patch engines on arbitrary input: the bytes are cut at the first `\n%%\n` into a
//! resource and a patch (both YAML); the patch is applied as a strategic merge patch (with the
//! built-in schema, targeted and not) and, when it is a list, as JSON 6902 operations. Each
//! must return a result or an error, never panic.
//!
//! `fuzz_targets/patch.rs` runs it under libFuzzer; `tests/fuzz_seeds.rs` replays the seeds.

use tether_kustomize::patch::{
    PatchSchema, SmpOptions, apply_json6902, apply_strategic_merge_resource,
};

pub fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (resource, patch) = text.split_once("\n%%\n").unwrap_or((text, ""));
    let (Ok(resource), Ok(patch)) = (
        tether_yaml::parse_document(resource),
        tether_yaml::parse_document(patch),
    ) else {
        return;
    };
    for targeted in [false, true] {
        let mut target = resource.clone();
        let options = SmpOptions {
            targeted,
            ..SmpOptions::default()
        };
        let _ = apply_strategic_merge_resource(&mut target, &patch, &PatchSchema::Builtin, options);
        let _ = tether_yaml::to_yaml(&target);
    }
    if patch.is_array() {
        let mut target = resource;
        let _ = apply_json6902(&mut target, &patch);
        let _ = tether_yaml::to_yaml(&target);
    }
}
