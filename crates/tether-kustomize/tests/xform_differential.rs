//! Differential tests of the field-spec transformers against kustomize v5.6.0
//! (`kubectl.1.33 kustomize`): each case writes a kustomization (resources plus the fields under
//! test) to a temporary directory, builds it with kubectl, and compares the documents with the
//! input resources run through our transformers in kustomize's order (namespace, prefix, suffix,
//! labels, commonLabels, commonAnnotations, replicas, images, then `transformers:`). When kubectl
//! fails, ours must fail too, with a message kubectl's error contains.
//!
//! Cases avoid renamed cross-references: kubectl also runs the name-reference fixer, which is
//! not under test here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use tether_kustomize::config::TransformerConfig;
use tether_kustomize::fieldspec::{FieldSpec, try_merge_field_specs};
use tether_kustomize::transform::Transformer;
use tether_kustomize::transform::annotations::AnnotationsTransformer;
use tether_kustomize::transform::defaults::{builtin_field_specs, sort_field_specs};
use tether_kustomize::transform::images::{ImageTagTransformer, parse_images};
use tether_kustomize::transform::labels::LabelTransformer;
use tether_kustomize::transform::namespace::NamespaceTransformer;
use tether_kustomize::transform::prefix_suffix::PrefixSuffixTransformer;
use tether_kustomize::transform::replicas::{ReplicaCountTransformer, parse_replicas};
use tether_kustomize::{ResMap, Resource};

#[path = "xform_cases/mod.rs"]
mod cases;

/// One case: the resources (`resources.yaml`), the rest of the kustomization, other files.
pub struct Case {
    pub name: &'static str,
    pub resources: &'static str,
    pub kustomization: &'static str,
    pub files: &'static [(&'static str, &'static str)],
}

fn kubectl() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let dispatcher = std::env::split_paths(&path)
        .map(|dir| dir.join("kubectl"))
        .find(|p| p.is_file())?;
    let real = std::fs::canonicalize(dispatcher).ok()?;
    let candidate = real.parent()?.join("kubectl.1.33");
    candidate.is_file().then_some(candidate)
}

fn parse_stream(text: &str) -> Vec<Value> {
    text.split("\n---\n")
        .filter(|doc| !doc.trim().is_empty())
        .map(|doc| {
            serde_saphyr::from_str::<Value>(doc)
                .unwrap_or_else(|e| panic!("kubectl printed bad YAML ({e}):\n{doc}"))
        })
        .collect()
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    let mut cur = v;
    for p in path {
        match cur.get(p) {
            Some(next) => cur = next,
            None => return "",
        }
    }
    cur.as_str().unwrap_or("")
}

/// Documents in a canonical order (kubectl sorts its output; we compare as sets).
fn sorted(mut docs: Vec<Value>) -> Vec<Value> {
    docs.sort_by_key(|d| {
        (
            str_at(d, &["kind"]).to_owned(),
            str_at(d, &["apiVersion"]).to_owned(),
            str_at(d, &["metadata", "namespace"]).to_owned(),
            d.get("metadata")
                .and_then(|m| m.get("name"))
                .map(|n| n.to_string())
                .unwrap_or_default(),
        )
    });
    docs
}

fn read_yaml_docs(dir: &Path, file: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(dir.join(file))
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.join(file).display()));
    tether_yaml::parse_documents(&text)
        .unwrap_or_else(|e| panic!("parsing {file}: {e}"))
        .into_iter()
        .map(|d| d.value)
        .collect()
}

fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn list<'a>(k: &'a Value, field: &str) -> &'a [Value] {
    k.get(field)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// The field-spec lists of a transformer configuration, with kustomize's names for errors.
fn lists(tc: &mut TransformerConfig) -> [(&mut Vec<FieldSpec>, &'static str); 8] {
    [
        (&mut tc.name_prefix, "NamePrefix"),
        (&mut tc.name_suffix, "NameSuffix"),
        (&mut tc.namespace, "NameSpace"),
        (&mut tc.common_labels, "CommonLabels"),
        (&mut tc.template_labels, "TemplateLabels"),
        (&mut tc.common_annotations, "CommonAnnotations"),
        (&mut tc.images, "Images"),
        (&mut tc.replicas, "Replicas"),
    ]
}

/// kustomize's `TransformerConfig.Merge`: each list `MergeAll`ed, then sorted. `labels` (the
/// `labels:` list `TransformerConfig` does not hold) rides along as the second element.
fn merge(
    base: (TransformerConfig, Vec<FieldSpec>),
    incoming: &(TransformerConfig, Vec<FieldSpec>),
) -> Result<(TransformerConfig, Vec<FieldSpec>), String> {
    let (mut tc, mut labels) = base;
    let mut extra = incoming.0.clone();
    for ((list, what), (more, _)) in lists(&mut tc).into_iter().zip(lists(&mut extra)) {
        try_merge_field_specs(list, more)
            .map_err(|e| format!("failed to merge {what} fieldSpec: {e}"))?;
        sort_field_specs(list);
    }
    try_merge_field_specs(&mut labels, &incoming.1)
        .map_err(|e| format!("failed to merge Labels fieldSpec: {e}"))?;
    sort_field_specs(&mut labels);
    Ok((tc, labels))
}

/// The configuration the transformers of a kustomization get, as kustomize builds it: the
/// `configurations:` files merged one by one into an empty config, the defaults merged with
/// that, and the result merged once more into the accumulator's empty config. The last merge
/// walks the sorted list, so a spec for all kinds that sorts after a kind-specific spec of the
/// same path is dropped (`commonLabels: [{path: metadata/labels, kind: Foo}]` in a
/// configuration file takes the labels off every other kind's metadata).
fn load_config(dir: &Path, k: &Value) -> Result<(TransformerConfig, Vec<FieldSpec>), String> {
    let mut user = (TransformerConfig::default(), Vec::new());
    let files = list(k, "configurations");
    for file in files {
        let file = file.as_str().unwrap_or_default();
        for mut doc in read_yaml_docs(dir, file) {
            let labels = match doc.as_object_mut().and_then(|m| m.shift_remove("labels")) {
                Some(l) => serde_json::from_value(l).map_err(|e| e.to_string())?,
                None => Vec::new(),
            };
            let tc: TransformerConfig = serde_json::from_value(doc).map_err(|e| e.to_string())?;
            user = merge(user, &(tc, labels))?;
        }
    }
    let defaults = (builtin_field_specs(), Vec::new());
    let own = if files.is_empty() {
        defaults
    } else {
        merge(defaults, &user)?
    };
    merge((TransformerConfig::default(), Vec::new()), &own)
}

/// The transformers a kustomization asks for, in kustomize's order.
fn transformers(dir: &Path, k: &Value) -> Result<Vec<Box<dyn Transformer>>, String> {
    let (tc, config_labels) = load_config(dir, k)?;
    let err = |e: tether_kustomize::Error| e.to_string();
    let mut out: Vec<Box<dyn Transformer>> = Vec::new();
    let field = |name: &str| str_at(k, &[name]).to_owned();
    if let Some(t) = NamespaceTransformer::new(&field("namespace"), &tc) {
        out.push(Box::new(t));
    }
    if let Some(t) = PrefixSuffixTransformer::prefix(&field("namePrefix"), &tc) {
        out.push(Box::new(t));
    }
    if let Some(t) = PrefixSuffixTransformer::suffix(&field("nameSuffix"), &tc) {
        out.push(Box::new(t));
    }
    for entry in list(k, "labels") {
        let fields: Vec<FieldSpec> = match entry.get("fields") {
            Some(f) => serde_json::from_value(f.clone()).map_err(|e| e.to_string())?,
            None => Vec::new(),
        };
        let flag = |name: &str| entry.get(name).and_then(Value::as_bool).unwrap_or(false);
        out.push(Box::new(
            LabelTransformer::labels_entry(
                &string_map(entry.get("pairs")),
                flag("includeSelectors"),
                flag("includeTemplates"),
                &fields,
                &config_labels,
                &tc,
            )
            .map_err(err)?,
        ));
    }
    let common_labels = string_map(k.get("commonLabels"));
    if !common_labels.is_empty() {
        out.push(Box::new(LabelTransformer::common_labels(
            &common_labels,
            &tc,
        )));
    }
    let common_annotations = string_map(k.get("commonAnnotations"));
    if !common_annotations.is_empty() {
        out.push(Box::new(AnnotationsTransformer::common_annotations(
            &common_annotations,
            &tc,
        )));
    }
    for replica in parse_replicas(list(k, "replicas")).map_err(err)? {
        out.push(Box::new(ReplicaCountTransformer::new(replica, &tc)));
    }
    for image in parse_images(list(k, "images")).map_err(err)? {
        out.push(Box::new(ImageTagTransformer::new(image, &tc)));
    }
    for file in list(k, "transformers") {
        for config in read_yaml_docs(dir, file.as_str().unwrap_or_default()) {
            let t: Box<dyn Transformer> = match str_at(&config, &["kind"]) {
                "NamespaceTransformer" => {
                    Box::new(NamespaceTransformer::from_plugin_config(&config, &tc).map_err(err)?)
                }
                "PrefixSuffixTransformer" | "PrefixTransformer" | "SuffixTransformer" => Box::new(
                    PrefixSuffixTransformer::from_plugin_config(&config, &tc).map_err(err)?,
                ),
                "LabelTransformer" => {
                    Box::new(LabelTransformer::from_plugin_config(&config, &tc).map_err(err)?)
                }
                "AnnotationsTransformer" => {
                    Box::new(AnnotationsTransformer::from_plugin_config(&config, &tc).map_err(err)?)
                }
                "ImageTagTransformer" => {
                    Box::new(ImageTagTransformer::from_plugin_config(&config, &tc).map_err(err)?)
                }
                "ReplicaCountTransformer" => Box::new(
                    ReplicaCountTransformer::from_plugin_config(&config, &tc).map_err(err)?,
                ),
                other => return Err(format!("case uses an unknown transformer kind {other}")),
            };
            out.push(t);
        }
    }
    Ok(out)
}

fn ours(dir: &Path) -> Result<Vec<Value>, String> {
    let k = read_yaml_docs(dir, "kustomization.yaml")
        .into_iter()
        .next()
        .unwrap_or(Value::Null);
    let mut resources = ResMap::new();
    for object in read_yaml_docs(dir, "resources.yaml") {
        resources
            .append(Resource::new(object))
            .map_err(|e| e.to_string())?;
    }
    for t in transformers(dir, &k)? {
        t.transform(&mut resources).map_err(|e| e.to_string())?;
    }
    Ok(resources.into_iter().map(|r| r.object).collect())
}

fn run_case(kubectl: &Path, case: &Case) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let write = |name: &str, text: &str| {
        std::fs::write(dir.path().join(name), text).map_err(|e| format!("writing {name}: {e}"))
    };
    write("resources.yaml", case.resources)?;
    write(
        "kustomization.yaml",
        &format!("resources:\n- resources.yaml\n{}", case.kustomization),
    )?;
    for (name, text) in case.files {
        write(name, text)?;
    }
    let output = Command::new(kubectl)
        .arg("kustomize")
        .arg(dir.path())
        .output()
        .map_err(|e| format!("running {}: {e}", kubectl.display()))?;
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let mine = ours(dir.path());
    if !output.status.success() {
        return match mine {
            Ok(docs) => Err(format!(
                "kubectl failed ({stderr}) but ours succeeded with {}",
                serde_json::to_string_pretty(&docs).unwrap_or_default()
            )),
            // kyaml prints nodes in their source style; compare up to the node.
            Err(e) if stderr.contains(e.split("node contents:").next().unwrap_or(&e)) => Ok(()),
            Err(e) => Err(format!(
                "both failed, with different messages:\n kubectl: {stderr}\n ours:    {e}"
            )),
        };
    }
    let want = sorted(parse_stream(&String::from_utf8_lossy(&output.stdout)));
    let got = sorted(mine.map_err(|e| format!("kubectl succeeded but ours failed: {e}"))?);
    if want == got {
        return Ok(());
    }
    Err(format!(
        "outputs differ\n--- kubectl\n{}\n--- ours\n{}",
        serde_json::to_string_pretty(&want).unwrap_or_default(),
        serde_json::to_string_pretty(&got).unwrap_or_default()
    ))
}

#[test]
fn transformers_match_kubectl_kustomize() {
    let Some(kubectl) = kubectl() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "kubectl.1.33 (beside the kubectl dispatcher on PATH) is required in CI"
        );
        eprintln!(
            "\n!!! SKIPPED transformers_match_kubectl_kustomize: kubectl.1.33 not found beside \
             the kubectl dispatcher on PATH !!!\n"
        );
        return;
    };
    let cases = cases::all();
    assert!(cases.len() >= 40, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        if let Err(e) = run_case(&kubectl, case) {
            failures.push(format!("case {}: {e}", case.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from kubectl:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}
