//! Post-build substitution as Flux documents it (kustomize-controller's "Post build variable
//! substitution" section): defaults, precedence, opt-out, `$$` escaping, numbers and booleans,
//! when substitution runs at all, strict mode; and common metadata after it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use serde_json::{Value, json};
use support::{artifact, spec};
use tether_api::{CommonMetadata, PostBuild};
use tether_build::{BuildOptions, Error, VarSource, build, merge_variables};

fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn with_post_build(path: &str) -> tether_api::KustomizationSpec {
    let mut s = spec(path);
    s.post_build = Some(PostBuild::default());
    s
}

fn by_kind<'a>(objects: &'a [Value], kind: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {objects:?}"))
}

const NAMESPACE: &str = "apiVersion: v1
kind: Namespace
metadata:
  name: apps
  labels:
    environment: ${cluster_env:=dev}
    region: \"${cluster_region}\"
";

#[test]
fn documented_example_with_defaults_and_precedence() {
    let a = artifact(&[("apps/ns.yaml", NAMESPACE)]);
    let cm: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": "cluster-vars"},
        "data": {"cluster_region": "us-east-1", "cluster_env": "staging"},
    }))
    .unwrap();
    // Inline values override the ConfigMap's.
    let inline = vars(&[("cluster_region", "eu-central-1")]);
    let merged = merge_variables([VarSource::ConfigMap(&cm)], &inline);
    let built = build(
        &a,
        &with_post_build("apps"),
        &merged,
        &BuildOptions::default(),
    )
    .unwrap();
    assert_eq!(
        built.objects[0]["metadata"]["labels"],
        json!({"environment": "staging", "region": "eu-central-1"})
    );
    // Without a value the default applies.
    let built = build(
        &a,
        &with_post_build("apps"),
        &vars(&[("cluster_region", "eu-central-1")]),
        &BuildOptions::default(),
    )
    .unwrap();
    assert_eq!(
        built.objects[0]["metadata"]["labels"]["environment"],
        json!("dev")
    );
}

#[test]
fn opt_out_escaping_and_types() {
    let a = artifact(&[
        (
            "apps/script.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: script\ndata:\n  run.sh: |\n    echo $${HOME} $HOME ${greeting}\n",
        ),
        (
            "apps/skipped.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: skipped\n  annotations:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\ndata:\n  x: ${greeting}\n",
        ),
        (
            "apps/skipped-by-label.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: skipped\n  labels:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\nstringData:\n  x: ${greeting}\n",
        ),
        (
            "apps/deploy.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  annotations:\n    id: ${quote}${id}${quote}\n    enabled: ${quote}${enabled}${quote}\nspec:\n  replicas: ${replicas}\n  paused: ${enabled}\n",
        ),
    ]);
    let v = vars(&[
        ("greeting", "hello"),
        ("quote", "\""),
        ("id", "123"),
        ("enabled", "true"),
        ("replicas", "3"),
    ]);
    let built = build(&a, &with_post_build("apps"), &v, &BuildOptions::default()).unwrap();
    let objects = &built.objects;
    let script = objects
        .iter()
        .find(|o| o["metadata"]["name"] == "script")
        .unwrap();
    assert_eq!(
        script["data"]["run.sh"],
        json!("echo ${HOME} $HOME hello\n")
    );
    let skipped = objects
        .iter()
        .find(|o| o["kind"] == "ConfigMap" && o["metadata"]["name"] == "skipped")
        .unwrap();
    assert_eq!(skipped["data"]["x"], json!("${greeting}"));
    assert_eq!(
        by_kind(objects, "Secret")["stringData"]["x"],
        json!("${greeting}")
    );
    let deploy = by_kind(objects, "Deployment");
    // Unquoted, a substituted number or boolean is read as one; quoted it stays a string.
    assert_eq!(deploy["spec"]["replicas"], json!(3));
    assert_eq!(deploy["spec"]["paused"], json!(true));
    assert_eq!(
        deploy["metadata"]["annotations"],
        json!({"id": "123", "enabled": "true"})
    );
}

#[test]
fn substitution_needs_post_build_and_at_least_one_variable() {
    let a = artifact(&[("apps/ns.yaml", NAMESPACE)]);
    // No variables at all: defaults are not applied either, as Flux documents.
    let built = build(
        &a,
        &with_post_build("apps"),
        &vars(&[]),
        &BuildOptions::default(),
    )
    .unwrap();
    assert_eq!(
        built.objects[0]["metadata"]["labels"]["environment"],
        json!("${cluster_env:=dev}")
    );
    // Variables without spec.postBuild: nothing is substituted.
    let v = vars(&[("cluster_region", "x")]);
    let built = build(&a, &spec("apps"), &v, &BuildOptions::default()).unwrap();
    assert_eq!(
        built.objects[0]["metadata"]["labels"]["region"],
        json!("${cluster_region}")
    );
    // An unrelated variable switches substitution on: undefined ones become empty. The
    // source's quotes around "${cluster_region}" are gone in kustomize's output, which is
    // what Flux substitutes into, so the empty value reads back as null there too.
    let built = build(
        &a,
        &with_post_build("apps"),
        &vars(&[("enabled", "1")]),
        &BuildOptions::default(),
    )
    .unwrap();
    assert_eq!(
        built.objects[0]["metadata"]["labels"],
        json!({"environment": "dev", "region": null})
    );
}

#[test]
fn strict_mode_names_the_object_and_the_variable() {
    let a = artifact(&[("apps/ns.yaml", NAMESPACE)]);
    let strict = BuildOptions {
        strict_substitution: true,
    };
    let err = build(
        &a,
        &with_post_build("apps"),
        &vars(&[("other", "1")]),
        &strict,
    )
    .unwrap_err();
    assert_eq!(
        err,
        Error::Substitution {
            object: "Namespace/apps".into(),
            message:
                r#"variable substitution failed: variable not set (strict mode): "cluster_region""#
                    .into(),
        }
    );
    assert_eq!(
        err.to_string(),
        r#"post build failed for 'Namespace/apps': variable substitution failed: variable not set (strict mode): "cluster_region""#
    );
    // With a value the default-less variable passes; the defaulted one needs none.
    let built = build(
        &a,
        &with_post_build("apps"),
        &vars(&[("cluster_region", "eu")]),
        &strict,
    )
    .unwrap();
    assert_eq!(
        built.objects[0]["metadata"]["labels"]["environment"],
        json!("dev")
    );
}

#[test]
fn invalid_names_and_syntax_are_errors_naming_the_object() {
    let a = artifact(&[(
        "apps/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: apps\ndata:\n  a: ${ok}\n",
    )]);
    let err = build(
        &a,
        &with_post_build("apps"),
        &vars(&[("bad-name", "x")]),
        &BuildOptions::default(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "post build failed for 'ConfigMap/apps/settings': 'bad-name' var name is invalid, must match '^[_[:alpha:]][_[:alpha:][:digit:]]*$'"
    );
    let a = artifact(&[(
        "apps/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: ${ok-dash}\n",
    )]);
    let err = build(
        &a,
        &with_post_build("apps"),
        &vars(&[("ok", "x")]),
        &BuildOptions::default(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "post build failed for 'ConfigMap/settings': variable substitution failed: missing closing brace"
    );
}

#[test]
fn common_metadata_is_set_after_substitution() {
    let a = artifact(&[("apps/ns.yaml", NAMESPACE)]);
    let mut s = with_post_build("apps");
    s.common_metadata = Some(CommonMetadata {
        labels: [
            ("environment".to_owned(), "override".to_owned()),
            ("team".to_owned(), "${cluster_env}".to_owned()),
        ]
        .into(),
        annotations: [("owner".to_owned(), "platform".to_owned())].into(),
    });
    let built = build(
        &a,
        &s,
        &vars(&[("cluster_env", "prod")]),
        &BuildOptions::default(),
    )
    .unwrap();
    let meta = &built.objects[0]["metadata"];
    assert_eq!(meta["labels"]["environment"], json!("override"));
    assert_eq!(
        meta["labels"]["team"],
        json!("${cluster_env}"),
        "not substituted"
    );
    assert_eq!(meta["annotations"], json!({"owner": "platform"}));
}
