use serde_json::json;

use super::*;

fn resmap(yaml: &str) -> ResMap {
    let mut m = ResMap::new();
    for doc in tether_yaml::parse_documents(yaml).unwrap() {
        m.append(Resource::new(doc.value)).unwrap();
    }
    m
}

fn transformer(yaml: &str) -> ReplacementTransformer {
    let fields: Vec<ReplacementField> =
        serde_json::from_value(tether_yaml::parse_document(yaml).unwrap()).unwrap();
    ReplacementTransformer::from_fields(fields, &mut |p| panic!("unexpected load of {p}")).unwrap()
}

fn object<'a>(m: &'a ResMap, name: &str) -> &'a Value {
    &m.iter()
        .find(|r| r.name() == name)
        .unwrap_or_else(|| panic!("no {name}"))
        .object
}

const RESOURCES: &str = r#"
apiVersion: v1
kind: ConfigMap
metadata:
  name: src
data:
  v: "007"
  image: registry/app:1.2.3
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  template:
    spec:
      containers:
      - name: nginx
        image: nginx:1.0
        env:
        - name: A
          value: a
      - name: sidecar
        image: side:1.0
        env:
        - name: AB
          value: ab
"#;

#[test]
fn scalar_targets_keep_their_type() {
    let mut m = resmap(RESOURCES);
    transformer(
        r#"
- source: {kind: ConfigMap, name: src, fieldPath: data.v}
  targets:
  - select: {kind: Deployment}
    fieldPaths:
    - spec.replicas
    - spec.template.spec.containers.[name=ng].image
    - spec.template.spec.containers.*.env.[name=A].value
    - spec.template.metadata.annotations.new
    options: {create: true}
"#,
    )
    .transform(&mut m)
    .unwrap();
    let d = object(&m, "web");
    // An int stays an int; a string stays a string; a created field resolves its text.
    assert_eq!(d["spec"]["replicas"], json!(7));
    let containers = &d["spec"]["template"]["spec"]["containers"];
    assert_eq!(containers[0]["image"], json!("007"));
    assert_eq!(containers[1]["image"], json!("side:1.0"));
    assert_eq!(containers[0]["env"][0]["value"], json!("007"));
    assert_eq!(containers[1]["env"][0]["value"], json!("007"));
    assert_eq!(
        d["spec"]["template"]["metadata"]["annotations"]["new"],
        json!(7)
    );
}

#[test]
fn delimiters_cut_sources_and_splice_targets() {
    let mut m = resmap(RESOURCES);
    transformer(
        r#"
- source:
    kind: ConfigMap
    name: src
    fieldPath: data.image
    options: {delimiter: ":", index: 1}
  targets:
  - select: {name: web}
    fieldPaths: [spec.template.spec.containers.0.image]
    options: {delimiter: ":", index: 1}
  - select: {name: web}
    fieldPaths: [spec.template.spec.containers.1.image]
    options: {delimiter: ":", index: -1}
"#,
    )
    .transform(&mut m)
    .unwrap();
    let containers = &object(&m, "web")["spec"]["template"]["spec"]["containers"];
    assert_eq!(containers[0]["image"], json!("nginx:1.2.3"));
    assert_eq!(containers[1]["image"], json!("1.2.3:side:1.0"));
}

#[test]
fn renamed_resources_are_selected_by_any_id_and_rejected_by_any_id() {
    let mut m = resmap(RESOURCES);
    for r in m.iter_mut() {
        r.store_previous_id();
        let name = format!("p-{}", r.name());
        r.set_name(&name);
    }
    transformer(
        r#"
- source: {kind: ConfigMap, name: src, fieldPath: data.v}
  targets:
  - select: {name: web}
    reject: [{name: p-web}]
    fieldPaths: [spec.replicas]
- source: {kind: ConfigMap, name: p-src}
  targets:
  - select: {name: web}
    fieldPaths: [metadata.annotations.from]
    options: {create: true}
"#,
    )
    .transform(&mut m)
    .unwrap();
    let d = object(&m, "p-web");
    assert_eq!(d["spec"]["replicas"], json!(1));
    assert_eq!(d["metadata"]["annotations"]["from"], json!("p-src"));
}

#[test]
fn source_selection_errors() {
    let mut m = resmap(RESOURCES);
    let err = transformer("- source: {name: nope, fieldPath: data.v}\n  targets: []\n")
        .transform(&mut m)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "nothing selected by [noKind].[noVer].[noGrp]/nope.[noNs]:data.v"
    );
    let err = transformer("- source: {version: v1}\n  targets: []\n")
        .transform(&mut m)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "multiple matches for selector [noKind].v1.[noGrp]/[noName].[noNs]"
    );
    let err = transformer("- source: {name: src, fieldPath: data.none}\n  targets: []\n")
        .transform(&mut m)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "fieldPath `data.none` is missing for replacement source [noKind].[noVer].[noGrp]/src.[noNs]"
    );
    let err = transformer("- source: {name: src}\n")
        .transform(&mut m)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "replacements must specify a source and at least one target"
    );
}

#[test]
fn target_errors() {
    let mut m = resmap(RESOURCES);
    let err = transformer(
        "- source: {name: src, fieldPath: data.v}\n  targets:\n  - select: {name: web}\n    fieldPaths: [spec.missing]\n",
    )
    .transform(&mut m)
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "unable to find field \"spec.missing\" in replacement target"
    );
    let err = transformer(
        "- source: {name: src, fieldPath: data.image}\n  targets:\n  - select: {name: web}\n    fieldPaths: [spec.replicas]\n",
    )
    .transform(&mut m)
    .unwrap_err();
    assert!(
        err.to_string()
            .ends_with("yaml: cannot decode !!str `registry/app:1.2.3` as a !!int"),
        "{err}"
    );
    let err = transformer("- source: {name: src}\n  targets:\n  - fieldPaths: [x]\n")
        .transform(&mut m)
        .unwrap_err();
    assert_eq!(err.to_string(), "target must specify resources to select");
}

#[test]
fn non_scalar_values_are_copied_whole() {
    let mut m = resmap(RESOURCES);
    transformer(
        r#"
- source: {name: web, fieldPath: "spec.template.spec.containers.[name=nginx].env"}
  targets:
  - select: {name: src}
    fieldPaths: [data.env]
    options: {create: true}
"#,
    )
    .transform(&mut m)
    .unwrap();
    assert_eq!(
        object(&m, "src")["data"]["env"],
        json!([{"name": "A", "value": "a"}])
    );
}

#[test]
fn label_selectors_and_label_rejects() {
    let mut m = resmap(
        r#"
apiVersion: v1
kind: ConfigMap
metadata:
  name: src
data:
  v: x
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: a
  labels: {team: x}
data: {v: old}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: b
  labels: {team: x, frozen: "true"}
data: {v: old}
"#,
    );
    transformer(
        r#"
- source: {name: src, fieldPath: data.v}
  targets:
  - select: {labelSelector: team=x}
    reject: [{labelSelector: frozen}]
    fieldPaths: [data.v]
"#,
    )
    .transform(&mut m)
    .unwrap();
    assert_eq!(object(&m, "a")["data"]["v"], json!("x"));
    assert_eq!(object(&m, "b")["data"]["v"], json!("old"));
}

#[test]
fn path_entries_load_files_and_plugin_configs_are_lenient() {
    let config = json!({
        "apiVersion": "builtin",
        "kind": "ReplacementTransformer",
        "metadata": {"name": "r"},
        "unknown": 1,
        "replacements": [
            {"path": "repl.yaml"},
            {"source": {"name": "src", "fieldPath": "data.v", "extra": true},
             "targets": [{"select": {"name": "web"}, "fieldPaths": ["spec.replicas"]}]}
        ]
    });
    let mut loaded = Vec::new();
    let t = ReplacementTransformer::from_plugin_config(&config, &mut |p| {
        loaded.push(p.to_owned());
        Ok("source: {name: src, bogus: 1}\ntargets: [{select: {name: web}, fieldPaths: [metadata.annotations.x], options: {create: true}}]\n".to_owned())
    })
    .unwrap();
    assert_eq!(loaded, ["repl.yaml"]);
    assert_eq!(t.replacements.len(), 2);
    let mut m = resmap(RESOURCES);
    t.transform(&mut m).unwrap();
    assert_eq!(
        object(&m, "web")["metadata"]["annotations"]["x"],
        json!("src")
    );
    assert_eq!(object(&m, "web")["spec"]["replicas"], json!(7));

    let both = vec![ReplacementField {
        path: "f".into(),
        source: Some(SourceSelector::default()),
        targets: None,
    }];
    let err = ReplacementTransformer::from_fields(both, &mut |_| Ok(String::new())).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot specify both path and inline replacement"
    );
}
