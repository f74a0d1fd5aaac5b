//! Build errors say what is wrong and where: the path, the file and line, the entry.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;

use support::{Entry, artifact, spec, tar_gz};
use tether_build::{Artifact, BuildOptions, Error, build, kustomize};

fn build_err(a: &std::sync::Arc<Artifact>, path: &str) -> String {
    build(a, &spec(path), &BTreeMap::new(), &BuildOptions::default())
        .unwrap_err()
        .to_string()
}

#[test]
fn missing_path() {
    let a = artifact(&[(
        "apps/a.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n",
    )]);
    assert_eq!(
        build_err(&a, "./invalid"),
        "kustomization path not found: ./invalid"
    );
    assert_eq!(
        build_err(&a, "./apps/a.yaml"),
        "kustomization path is not a directory: ./apps/a.yaml"
    );
    // `..` cannot climb out: it stays at the root, which exists.
    assert!(kustomize(&a, &spec("../../apps")).is_ok());
}

#[test]
fn bad_yaml_while_generating_names_file_and_line() {
    let a = artifact(&[
        (
            "apps/good.yaml",
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n",
        ),
        (
            "apps/nested/bad.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [oops\n",
        ),
    ]);
    let err = build_err(&a, "apps");
    assert!(
        err == "failed to decode Kubernetes YAML from apps/nested/bad.yaml: yaml: line 4: unclosed bracket '['",
        "{err}"
    );
    let a = artifact(&[("apps/list.yaml", "- a\n- b\n")]);
    assert_eq!(
        build_err(&a, "apps"),
        "failed to decode Kubernetes YAML from apps/list.yaml: the document at line 1 is a list, not a mapping"
    );
}

#[test]
fn bad_yaml_in_a_listed_resource_names_file_and_line() {
    let a = artifact(&[
        ("app/kustomization.yaml", "resources:\n- deploy.yaml\n"),
        (
            "app/deploy.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {a: b\n",
        ),
    ]);
    let err = build_err(&a, "app");
    assert!(err.starts_with("kustomize build failed: "), "{err}");
    assert!(
        err.ends_with(
            "MalformedYAMLError: yaml: line 5: unclosed bracket '{' in File: /app/deploy.yaml"
        ),
        "names the file and line: {err}"
    );
}

#[test]
fn bad_kustomization_file_names_it() {
    let a = artifact(&[("app/kustomization.yaml", "resources: [a.yaml\n")]);
    let err = build_err(&a, "app");
    assert!(
        err.starts_with("app/kustomization.yaml: yaml: line "),
        "{err}"
    );
    let a = artifact(&[("app/kustomization.yaml", "- a.yaml\n")]);
    assert_eq!(
        build_err(&a, "app"),
        "app/kustomization.yaml: expected a mapping at the top, found a list"
    );
}

#[test]
fn remote_components_and_bases_are_refused() {
    let a = artifact(&[(
        "app/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
    )]);
    let mut s = spec("app");
    s.components = vec!["https://github.com/org/repo//components/x".into()];
    let err = kustomize(&a, &s).unwrap_err();
    assert_eq!(
        err,
        Error::ComponentPath("https://github.com/org/repo//components/x".into())
    );
    assert_eq!(
        err.to_string(),
        "component path 'https://github.com/org/repo//components/x' must be local and relative"
    );
    let a = artifact(&[(
        "app/kustomization.yaml",
        "resources:\n- https://github.com/kubernetes-sigs/kustomize//examples/helloWorld?ref=v5.6.0\n",
    )]);
    let err = build_err(&a, "app");
    assert!(err.starts_with("kustomize build failed: "), "{err}");
    assert!(err.contains("remote bases are disabled"), "{err}");
}

#[test]
fn objects_need_api_version_kind_and_name() {
    let a = artifact(&[
        ("app/kustomization.yaml", "resources:\n- cm.yaml\n"),
        (
            "app/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels:\n    a: b\n",
        ),
    ]);
    let err = build_err(&a, "app");
    assert!(err.starts_with("kustomize build failed: "), "{err}");
    assert!(
        err.contains("/app/cm.yaml: line 1: missing metadata.name"),
        "{err}"
    );
    let a = artifact(&[("app/cm.yaml", "kind: ConfigMap\nmetadata:\n  name: a\n")]);
    assert_eq!(
        build_err(&a, "app"),
        r#"failed to decode Kubernetes apiVersion, kind and name from: {"kind":"ConfigMap","metadata":{"name":"a"}}"#
    );
}

#[test]
fn tar_with_parent_entry_is_refused_by_name() {
    let bytes = tar_gz(&[
        Entry::File("apps/a.yaml", "a: 1\n"),
        Entry::RawName("../x", "evil"),
    ]);
    let err = Artifact::from_tar_gz(&bytes).unwrap_err();
    assert_eq!(
        err,
        Error::Entry {
            entry: "../x".into(),
            reason: "path leaves the artifact root ('..')".into(),
        }
    );
}
