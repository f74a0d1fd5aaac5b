//! The kustomization a Flux Kustomization builds: the one at `spec.path`, or one generated from
//! the manifests found there, with the spec's overlay (targetNamespace, namePrefix, nameSuffix,
//! patches, components, images) written into it, as kustomize-controller's generator does.

use std::sync::LazyLock;

use serde_json::{Map, Value, json};
use tether_api::{Image, KustomizationSpec, Patch};
use tether_kustomize::kustomization::{
    FILE_NAMES, KUSTOMIZATION_KIND, KUSTOMIZATION_VERSION, Kustomization,
};

use crate::artifact::Artifact;
use crate::error::Error;

/// The kustomization file a build reads, after Flux's rewrite.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedKustomization {
    /// The kustomization's directory in the artifact (`""` for the root).
    pub dir: String,
    /// Its file name: the existing file's (`kustomization.yaml`, `kustomization.yml` or
    /// `Kustomization`), or `kustomization.yaml` when generated.
    pub file_name: String,
    /// Whether it was generated (the path held no kustomization file).
    pub generated: bool,
    /// The kustomization as written.
    pub kustomization: Value,
    /// Its YAML text.
    pub yaml: String,
}

impl PreparedKustomization {
    /// Path of the file in the artifact.
    pub fn path(&self) -> String {
        join(&self.dir, &self.file_name)
    }
}

/// The top-level fields kustomize's `Kustomization` type has (Flux reads the file into that
/// type, so other fields are dropped).
static KNOWN_FIELDS: LazyLock<Vec<String>> =
    LazyLock::new(|| match serde_json::to_value(Kustomization::default()) {
        Ok(Value::Object(map)) => map.keys().cloned().collect(),
        _ => Vec::new(),
    });

/// `spec.path` inside the artifact: `.` and `..` resolved lexically and kept under the root,
/// as Flux's secure join does.
pub(crate) fn resolve_path(path: Option<&str>) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.unwrap_or("").split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

/// The existing kustomization file directly in `dir`, in kustomize's order of names.
fn kustomization_file(artifact: &Artifact, dir: &str) -> Option<&'static str> {
    FILE_NAMES
        .iter()
        .copied()
        .find(|name| artifact.is_file(&join(dir, name)))
}

/// Finds or generates the kustomization for `spec.path` and applies the spec's overlay.
pub fn prepare(
    artifact: &Artifact,
    spec: &KustomizationSpec,
) -> Result<PreparedKustomization, Error> {
    let shown = spec.path.clone().unwrap_or_else(|| "./".into());
    let dir = resolve_path(spec.path.as_deref());
    if artifact.is_file(&dir) {
        return Err(Error::PathNotDirectory { path: shown });
    }
    if !artifact.is_dir(&dir) {
        return Err(Error::PathNotFound { path: shown });
    }
    let (file_name, generated, mut kustomization) = match kustomization_file(artifact, &dir) {
        Some(name) => (name, false, read_existing(artifact, &join(&dir, name))?),
        None => (FILE_NAMES[0], true, generate(artifact, &dir)?),
    };
    overlay(&mut kustomization, spec, artifact, &dir, generated)?;
    let yaml = tether_yaml::to_yaml(&Value::Object(kustomization.clone()));
    Ok(PreparedKustomization {
        dir,
        file_name: file_name.to_owned(),
        generated,
        kustomization: Value::Object(kustomization),
        yaml,
    })
}

/// Reads a kustomization file as Flux does (through kustomize's Go type with
/// sigs.k8s.io/yaml): YAML 1.1 scalars, a repeated key's last value, field names matched
/// without regard to case, unknown top-level fields dropped, apiVersion and kind defaulted.
fn read_existing(artifact: &Artifact, path: &str) -> Result<Map<String, Value>, Error> {
    let fail = |message: String| Error::KustomizationFile {
        file: path.to_owned(),
        message,
    };
    let bytes = artifact.file(path).unwrap_or_default();
    let text = std::str::from_utf8(bytes).map_err(|e| fail(format!("not UTF-8: {e}")))?;
    let value = tether_yaml::parse_document_last_key_wins(text).map_err(|e| fail(e.to_string()))?;
    let fields = match value {
        Value::Null => Map::new(),
        Value::Object(map) => map,
        other => {
            return Err(fail(format!(
                "expected a mapping at the top, found {}",
                json_type(&other)
            )));
        }
    };
    let mut out = Map::new();
    out.insert("apiVersion".into(), json!(KUSTOMIZATION_VERSION));
    out.insert("kind".into(), json!(KUSTOMIZATION_KIND));
    for (key, value) in fields {
        // encoding/json prefers the exact field name, else one equal without regard to case.
        let known = KNOWN_FIELDS
            .iter()
            .find(|f| **f == key)
            .or_else(|| KNOWN_FIELDS.iter().find(|f| f.eq_ignore_ascii_case(&key)));
        if let Some(field) = known {
            out.insert(field.clone(), value);
        }
    }
    Ok(out)
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// A kustomization listing the manifests under `dir`: every `.yaml`/`.yml` file, walking
/// directories in name order, except that a directory holding a kustomization file is listed
/// itself and not entered. Each manifest must be YAML of mappings.
fn generate(artifact: &Artifact, dir: &str) -> Result<Map<String, Value>, Error> {
    let mut resources = Vec::new();
    scan(artifact, dir, dir, &mut resources)?;
    let mut k = Map::new();
    k.insert("apiVersion".into(), json!(KUSTOMIZATION_VERSION));
    k.insert("kind".into(), json!(KUSTOMIZATION_KIND));
    if resources.is_empty() {
        // kustomize refuses an empty kustomization; Flux sets a placeholder namespace.
        k.insert("namespace".into(), json!("_placeholder"));
    } else {
        k.insert("resources".into(), Value::Array(resources));
    }
    Ok(k)
}

fn scan(artifact: &Artifact, base: &str, dir: &str, out: &mut Vec<Value>) -> Result<(), Error> {
    for (name, is_dir) in artifact.children(dir) {
        let path = join(dir, name);
        let relative = format!("./{}", path[base.len()..].trim_start_matches('/'));
        if is_dir {
            if kustomization_file(artifact, &path).is_some() {
                out.push(Value::String(relative));
            } else {
                scan(artifact, base, &path, out)?;
            }
            continue;
        }
        // Go's filepath.Ext: from the last dot of the name (`.yaml` alone counts).
        let ext = name.rfind('.').map_or("", |i| &name[i..]);
        if ext != ".yaml" && ext != ".yml" {
            continue;
        }
        check_manifest(artifact, &path)?;
        out.push(Value::String(relative));
    }
    Ok(())
}

fn check_manifest(artifact: &Artifact, path: &str) -> Result<(), Error> {
    let fail = |message: String| Error::ManifestDecode {
        file: path.to_owned(),
        message,
    };
    let bytes = artifact.file(path).unwrap_or_default();
    let text = std::str::from_utf8(bytes).map_err(|e| fail(format!("not UTF-8: {e}")))?;
    let docs = tether_yaml::parse_documents(text).map_err(|e| fail(e.to_string()))?;
    for doc in docs {
        if !doc.value.is_object() {
            return Err(fail(format!(
                "the document at line {} is {}, not a mapping",
                doc.line,
                json_type(&doc.value)
            )));
        }
    }
    Ok(())
}

/// Writes the spec's fields into the kustomization, as kustomize-controller does.
fn overlay(
    k: &mut Map<String, Value>,
    spec: &KustomizationSpec,
    artifact: &Artifact,
    dir: &str,
    generated: bool,
) -> Result<(), Error> {
    let resources_empty = k
        .get("resources")
        .is_none_or(|r| r.as_array().is_none_or(Vec::is_empty));
    if !generated && resources_empty {
        // Flux keeps a kustomization without resources from being "empty" this way, which
        // also makes kustomize annotate the objects with their origin.
        k.insert("buildMetadata".into(), json!(["originAnnotations"]));
    }
    let non_empty = |s: &Option<String>| s.as_deref().filter(|s| !s.is_empty()).map(str::to_owned);
    if let Some(ns) = non_empty(&spec.target_namespace) {
        k.insert("namespace".into(), Value::String(ns));
    }
    if let Some(prefix) = non_empty(&spec.name_prefix) {
        k.insert("namePrefix".into(), Value::String(prefix));
    }
    if let Some(suffix) = non_empty(&spec.name_suffix) {
        k.insert("nameSuffix".into(), Value::String(suffix));
    }
    if !spec.patches.is_empty() {
        let mut list = take_array(k, "patches");
        list.extend(spec.patches.iter().map(patch_entry));
        k.insert("patches".into(), Value::Array(list));
    }
    let mut components = Vec::new();
    for component in &spec.components {
        if !is_local_relative(component) {
            return Err(Error::ComponentPath(component.clone()));
        }
        if spec.ignore_missing_components && !exists_from(artifact, dir, component) {
            continue;
        }
        components.push(Value::String(component.clone()));
    }
    if !components.is_empty() {
        let mut list = take_array(k, "components");
        list.extend(components);
        k.insert("components".into(), Value::Array(list));
    }
    if !spec.images.is_empty() {
        let mut list = take_array(k, "images");
        for image in &spec.images {
            let entry = image_entry(image);
            match list
                .iter_mut()
                .find(|e| e.get("name").and_then(Value::as_str) == Some(image.name.as_str()))
            {
                Some(existing) => *existing = entry,
                None => list.push(entry),
            }
        }
        k.insert("images".into(), Value::Array(list));
    }
    Ok(())
}

/// The list at `field` (empty when absent or not a list), to be put back with `insert`,
/// which keeps the key's place.
fn take_array(k: &mut Map<String, Value>, field: &str) -> Vec<Value> {
    match k.get_mut(field) {
        Some(Value::Array(list)) => std::mem::take(list),
        _ => Vec::new(),
    }
}

fn patch_entry(p: &Patch) -> Value {
    let mut entry = Map::new();
    entry.insert("patch".into(), Value::String(p.patch.clone()));
    if let Some(t) = &p.target {
        let mut target = Map::new();
        for (key, value) in [
            ("group", &t.group),
            ("version", &t.version),
            ("kind", &t.kind),
            ("name", &t.name),
            ("namespace", &t.namespace),
            ("annotationSelector", &t.annotation_selector),
            ("labelSelector", &t.label_selector),
        ] {
            if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                target.insert(key.into(), Value::String(v.to_owned()));
            }
        }
        entry.insert("target".into(), Value::Object(target));
    }
    Value::Object(entry)
}

fn image_entry(image: &Image) -> Value {
    let mut entry = Map::new();
    entry.insert("name".into(), Value::String(image.name.clone()));
    for (key, value) in [
        ("newName", &image.new_name),
        ("newTag", &image.new_tag),
        ("digest", &image.digest),
    ] {
        if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
            entry.insert(key.into(), Value::String(v.to_owned()));
        }
    }
    Value::Object(entry)
}

/// Flux's `IsLocalRelativePath`: not a remote URL and not absolute.
fn is_local_relative(path: &str) -> bool {
    const REMOTE: [&str; 8] = [
        "git::",
        "gh:",
        "ssh://",
        "https://",
        "http://",
        "git@",
        "github.com:",
        "github.com/",
    ];
    let lower = path.to_ascii_lowercase();
    if REMOTE
        .iter()
        .any(|p| p.len() < path.len() && lower.starts_with(p))
    {
        return false;
    }
    !(path.starts_with('/') || lower.trim_start_matches("file://").starts_with('/'))
}

/// Whether `relative` (from `dir`) exists in the artifact; a path climbing above the root
/// does not.
fn exists_from(artifact: &Artifact, dir: &str, relative: &str) -> bool {
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in relative.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return false;
                }
            }
            p => parts.push(p),
        }
    }
    let path = parts.join("/");
    artifact.is_dir(&path) || artifact.is_file(&path)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn paths_stay_under_the_root() {
        assert_eq!(resolve_path(None), "");
        assert_eq!(resolve_path(Some("./apps/prod/")), "apps/prod");
        assert_eq!(resolve_path(Some("../../apps")), "apps");
        assert_eq!(resolve_path(Some("/apps/../infra")), "infra");
    }

    #[test]
    fn local_relative_paths() {
        for ok in ["../ingress", "components/tls", "./x", "file://relative"] {
            assert!(is_local_relative(ok), "{ok}");
        }
        for remote in [
            "https://github.com/org/repo//c",
            "github.com/org/repo",
            "git@github.com:org/repo",
            "GIT::https://x",
            "/abs",
            "file:///abs",
        ] {
            assert!(!is_local_relative(remote), "{remote}");
        }
    }

    #[test]
    fn existing_files_read_like_fluxs_go_type() {
        let artifact = Artifact::from_files([(
            "app/Kustomization",
            "Resources:\n- a.yaml\nnamespace: one\nNamespace: two\nextra: dropped\nnamePrefix: x-\nnamePrefix: y-\n",
        )])
        .unwrap();
        // At the root, the directory with its own kustomization file is listed whole.
        let root = prepare(&artifact, &tether_api::KustomizationSpec::default()).unwrap();
        assert!(root.generated);
        assert_eq!(root.kustomization["resources"], json!(["./app"]));
        let spec = tether_api::KustomizationSpec {
            path: Some("app".into()),
            ..Default::default()
        };
        let prepared = prepare(&artifact, &spec).unwrap();
        assert_eq!(prepared.path(), "app/Kustomization");
        assert_eq!(
            prepared.kustomization,
            json!({
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "resources": ["a.yaml"],
                // The later of two keys equal without case wins, as does a repeated key.
                "namespace": "two",
                "namePrefix": "y-",
            })
        );
    }

    #[test]
    fn known_fields_come_from_the_engine() {
        for f in [
            "resources",
            "namePrefix",
            "patchesJson6902",
            "openapi",
            "buildMetadata",
        ] {
            assert!(KNOWN_FIELDS.iter().any(|k| k == f), "{f}");
        }
        assert!(!KNOWN_FIELDS.iter().any(|k| k == "deprecatedPresent"));
    }
}
