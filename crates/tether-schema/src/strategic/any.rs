//! One handle type over every source of patch metadata, for callers that pick the source at
//! run time (kustomize: a built-in kind, a kind from its `openapi:` document, or no schema).

use super::go_struct::GoStructPatchMeta;
use super::meta::{JsonMergePatchMeta, LookupError, LookupPatchMeta, PatchMeta, SchemaPatchMeta};
use super::openapi::{OpenApiV2PatchMeta, OpenApiV3PatchMeta};

/// Any [`LookupPatchMeta`] of this crate; lookups stay within the variant they start in.
#[derive(Debug, Clone, Copy)]
pub enum AnyPatchMeta<'a> {
    Schema(SchemaPatchMeta<'a>),
    OpenApiV2(OpenApiV2PatchMeta<'a>),
    OpenApiV3(OpenApiV3PatchMeta<'a>),
    GoStruct(GoStructPatchMeta<'a>),
    /// No schema: JSON merge patch semantics.
    None,
}

fn wrap<'a, 'p, M>(
    found: Result<(M, PatchMeta<'p>), LookupError>,
    variant: impl Fn(M) -> AnyPatchMeta<'a>,
) -> Result<(AnyPatchMeta<'a>, PatchMeta<'p>), LookupError> {
    found.map(|(m, p)| (variant(m), p))
}

impl<'a> LookupPatchMeta for AnyPatchMeta<'a> {
    fn lookup_struct(&self, key: &str) -> Result<(Self, PatchMeta<'_>), LookupError> {
        match self {
            AnyPatchMeta::Schema(m) => wrap(m.lookup_struct(key), AnyPatchMeta::Schema),
            AnyPatchMeta::OpenApiV2(m) => wrap(m.lookup_struct(key), AnyPatchMeta::OpenApiV2),
            AnyPatchMeta::OpenApiV3(m) => wrap(m.lookup_struct(key), AnyPatchMeta::OpenApiV3),
            AnyPatchMeta::GoStruct(m) => wrap(m.lookup_struct(key), AnyPatchMeta::GoStruct),
            AnyPatchMeta::None => wrap(JsonMergePatchMeta.lookup_struct(key), |_| {
                AnyPatchMeta::None
            }),
        }
    }

    fn lookup_slice(&self, key: &str) -> Result<(Self, PatchMeta<'_>), LookupError> {
        match self {
            AnyPatchMeta::Schema(m) => wrap(m.lookup_slice(key), AnyPatchMeta::Schema),
            AnyPatchMeta::OpenApiV2(m) => wrap(m.lookup_slice(key), AnyPatchMeta::OpenApiV2),
            AnyPatchMeta::OpenApiV3(m) => wrap(m.lookup_slice(key), AnyPatchMeta::OpenApiV3),
            AnyPatchMeta::GoStruct(m) => wrap(m.lookup_slice(key), AnyPatchMeta::GoStruct),
            AnyPatchMeta::None => {
                wrap(JsonMergePatchMeta.lookup_slice(key), |_| AnyPatchMeta::None)
            }
        }
    }

    fn name(&self) -> String {
        match self {
            AnyPatchMeta::Schema(m) => m.name(),
            AnyPatchMeta::OpenApiV2(m) => m.name(),
            AnyPatchMeta::OpenApiV3(m) => m.name(),
            AnyPatchMeta::GoStruct(m) => m.name(),
            AnyPatchMeta::None => JsonMergePatchMeta.name(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategic::strategic_merge_patch;
    use serde_json::json;

    #[test]
    fn a_run_time_choice_merges_like_the_chosen_source() {
        let original = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}
        ]}}}});
        let patch = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "b", "image": "b:2"}
        ]}}}});
        let deployment = SchemaPatchMeta::for_gvk("apps", "v1", "Deployment").unwrap();
        let merged = strategic_merge_patch(
            original.clone(),
            patch.clone(),
            &AnyPatchMeta::Schema(deployment),
        )
        .unwrap();
        assert_eq!(
            merged["spec"]["template"]["spec"]["containers"][0]["image"],
            "a:1"
        );
        // Without a schema the list is replaced.
        let replaced = strategic_merge_patch(original, patch.clone(), &AnyPatchMeta::None).unwrap();
        assert_eq!(replaced, patch);
    }
}
