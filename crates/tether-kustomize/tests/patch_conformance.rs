//! kustomize's own patch tests (`shared/conformance/kustomize/cases`) that need nothing but
//! resources and patches, built by a small driver around the patch engines and compared with
//! the recorded `expected.yaml`. Unlike `patch_differential.rs` this needs no kubectl.
//!
//! `TETHER_KUSTOMIZE_CASES` overrides the cases directory (default: `../shared/...` beside the
//! repository). A listed case that is missing is a failure.

// Helpers outside #[test] fns: a panic there is a failed test too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use tether_kustomize::patch::{
    OpenApiSchema, PatchSchema, SmpOptions, SmpOutcome, apply_json6902,
    apply_strategic_merge_resource,
};

/// Cases whose kustomizations use only `resources` (files or bases of the same kind),
/// `patches` (name/kind/group/version/`k=v` label targets), `patchesStrategicMerge`,
/// `patchesJson6902`
/// and `openapi: path:`.
const CASES: &[&str] = &[
    "TestChangeKind",
    "TestCustomOpenApiFieldWithTwoGvks",
    "TestCustomOpenApiFieldYaml",
    "TestExtendedPatchGvkSelector",
    "TestExtendedPatchInlineJSON",
    "TestExtendedPatchMultiplePatchOverlapping",
    "TestExtendedPatchNameGvkSelector",
    "TestExtendedPatchWithoutTarget",
    "TestJSONPatchInline",
    "TestKeepOriginalGVKN",
    "TestMergeEnvFrom",
    "TestPatchAddNewServicePort",
    "TestPatchesInOneFile__1",
    "TestPatchesInOneFile__2",
    "TestPathWithCronJobV1",
    "TestRemoveEmptyDirWithNullFieldInSmp",
    "TestSimple1",
    "TestSmpWithDifferentKeysOnDifferentPorts",
    "TestStrategicMergePatchInline",
];

fn cases_dir() -> PathBuf {
    std::env::var_os("TETHER_KUSTOMIZE_CASES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../../shared/conformance/kustomize/cases")
        })
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn documents(text: &str) -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(text)
        .unwrap()
        .into_iter()
        .filter(|d| !d.is_null())
        .collect()
}

/// kustomize's loader: annotation values become strings, an empty map disappears.
fn load(mut document: Value) -> Value {
    if let Some(meta) = document.get_mut("metadata").and_then(Value::as_object_mut) {
        let strings: Map<String, Value> = match meta.get("annotations") {
            Some(Value::Object(m)) => m
                .iter()
                .map(|(k, v)| {
                    let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                    (k.clone(), Value::String(text))
                })
                .collect(),
            _ => Map::new(),
        };
        meta.remove("annotations");
        if !strings.is_empty() {
            meta.insert("annotations".to_owned(), Value::Object(strings));
        }
    }
    document
}

fn text_at<'v>(v: &'v Value, path: &[&str]) -> &'v str {
    path.iter()
        .try_fold(v, |v, k| v.get(k))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// A patch's text: a file of the kustomization, or the inline patch itself.
fn patch_text(dir: &Path, entry: &Value) -> String {
    match entry {
        Value::String(s) if dir.join(s).is_file() => read(&dir.join(s)),
        Value::String(s) => s.clone(),
        _ => match (
            entry.get("path").and_then(Value::as_str),
            entry.get("patch"),
        ) {
            (Some(path), _) => read(&dir.join(path)),
            (None, Some(Value::String(inline))) => inline.clone(),
            _ => panic!("unsupported patch entry {entry}"),
        },
    }
}

fn matches_target(resource: &Value, target: &Value) -> bool {
    let api_version = text_at(resource, &["apiVersion"]);
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let wanted = |field: &str, actual: &str| {
        target
            .get(field)
            .and_then(Value::as_str)
            .is_none_or(|w| w == actual)
    };
    let labels_match = target
        .get("labelSelector")
        .and_then(Value::as_str)
        .is_none_or(|selector| {
            selector.split(',').all(|term| {
                let (k, v) = term
                    .split_once('=')
                    .expect("only k=v selectors are supported");
                text_at(resource, &["metadata", "labels", k.trim()]) == v.trim()
            })
        });
    labels_match
        && wanted("kind", text_at(resource, &["kind"]))
        && wanted("name", text_at(resource, &["metadata", "name"]))
        && wanted("group", group)
        && wanted("version", version)
}

/// Applies strategic merge patches without a target: each names its resource.
fn apply_by_name(resources: &mut Vec<Value>, patch: &Value, schema: &PatchSchema) {
    let same = |r: &Value| {
        text_at(r, &["apiVersion"]) == text_at(patch, &["apiVersion"])
            && text_at(r, &["kind"]) == text_at(patch, &["kind"])
            && text_at(r, &["metadata", "name"]) == text_at(patch, &["metadata", "name"])
    };
    let index = resources
        .iter()
        .position(same)
        .unwrap_or_else(|| panic!("no resource for patch {patch}"));
    let outcome =
        apply_strategic_merge_resource(&mut resources[index], patch, schema, SmpOptions::default())
            .unwrap();
    if outcome == SmpOutcome::Deleted {
        resources.remove(index);
    }
}

fn apply_to_targets(
    resources: &mut Vec<Value>,
    target: &Value,
    options: SmpOptions,
    schema: &PatchSchema,
    apply: &dyn Fn(&mut Value, SmpOptions, &PatchSchema) -> SmpOutcome,
) {
    let mut kept = Vec::with_capacity(resources.len());
    for mut r in resources.drain(..) {
        if !matches_target(&r, target) || apply(&mut r, options, schema) == SmpOutcome::Patched {
            kept.push(r);
        }
    }
    *resources = kept;
}

fn build(dir: &Path) -> Vec<Value> {
    let kustomization = documents(&read(&dir.join("kustomization.yaml"))).remove(0);
    let mut resources = Vec::new();
    for entry in kustomization["resources"].as_array().into_iter().flatten() {
        let path = dir.join(entry.as_str().unwrap());
        if path.is_dir() {
            resources.extend(build(&path));
        } else {
            resources.extend(documents(&read(&path)).into_iter().map(load));
        }
    }
    let schema = match kustomization.get("openapi").and_then(|o| o.get("path")) {
        Some(path) => {
            let doc = documents(&read(&dir.join(path.as_str().unwrap()))).remove(0);
            PatchSchema::Custom(OpenApiSchema::from_document(doc).unwrap())
        }
        None => PatchSchema::Builtin,
    };
    for entry in kustomization["patchesStrategicMerge"]
        .as_array()
        .into_iter()
        .flatten()
    {
        for patch in documents(&patch_text(dir, entry)).into_iter().map(load) {
            apply_by_name(&mut resources, &patch, &schema);
        }
    }
    for entry in kustomization["patches"].as_array().into_iter().flatten() {
        let text = patch_text(dir, entry);
        let options = SmpOptions {
            allow_name_change: entry["options"]["allowNameChange"] == true,
            allow_kind_change: entry["options"]["allowKindChange"] == true,
            targeted: entry.get("target").is_some(),
        };
        let parsed = documents(&text);
        if let [ops @ Value::Array(_)] = parsed.as_slice() {
            let json = |r: &mut Value, _: SmpOptions, _: &PatchSchema| {
                apply_json6902(r, ops).unwrap();
                SmpOutcome::Patched
            };
            apply_to_targets(&mut resources, &entry["target"], options, &schema, &json);
            continue;
        }
        for patch in parsed.into_iter().map(load) {
            if !options.targeted {
                apply_by_name(&mut resources, &patch, &schema);
                continue;
            }
            let smp = |r: &mut Value, o: SmpOptions, s: &PatchSchema| {
                apply_strategic_merge_resource(r, &patch, s, o).unwrap()
            };
            apply_to_targets(&mut resources, &entry["target"], options, &schema, &smp);
        }
    }
    for entry in kustomization["patchesJson6902"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let ops = documents(&patch_text(dir, entry)).remove(0);
        let json = |r: &mut Value, _: SmpOptions, _: &PatchSchema| {
            apply_json6902(r, &ops).unwrap();
            SmpOutcome::Patched
        };
        let options = SmpOptions::default();
        apply_to_targets(&mut resources, &entry["target"], options, &schema, &json);
    }
    resources
}

fn identity(v: &Value) -> (String, String, String) {
    (
        text_at(v, &["apiVersion"]).to_owned(),
        text_at(v, &["kind"]).to_owned(),
        text_at(v, &["metadata", "name"]).to_owned(),
    )
}

#[test]
fn kustomize_patch_cases() {
    let root = cases_dir();
    let mut failures = Vec::new();
    for name in CASES {
        let case = root.join(name);
        let entry = read(&case.join("entry"));
        let mut ours = build(&case.join(entry.trim()));
        let mut expected = documents(&read(&case.join("expected.yaml")));
        ours.sort_by_key(identity);
        expected.sort_by_key(identity);
        if ours != expected {
            failures.push(format!(
                "{name}:\n--- expected\n{}\n--- ours\n{}",
                serde_json::to_string_pretty(&expected).unwrap(),
                serde_json::to_string_pretty(&ours).unwrap()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n\n")
    );
}
