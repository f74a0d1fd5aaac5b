//! Bad input fails the build with an error that names the file, line, resource or field, the
//! way kustomize does (each case also fails under `kubectl.1.33 kustomize`, when present), and
//! nothing panics.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use tether_kustomize::{BuildOptions, DiskFs, build};

mod common;
use common::kubectl_133;

fn write(root: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n";

/// Builds `entry` under a tree of `files`; both engines must fail, and tether's message must
/// contain every one of `wanted` (with the temp dir written as `ROOT`).
fn fails(files: &[(&str, &str)], entry: &str, wanted: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap();
    write(&root, files);
    let err = match build(
        Arc::new(DiskFs),
        &root.join(entry),
        &BuildOptions::default(),
    ) {
        Ok(out) => panic!("expected an error, got:\n{}", out.to_yaml()),
        Err(e) => e.to_string().replace(&root.display().to_string(), "ROOT"),
    };
    for w in wanted {
        assert!(err.contains(w), "error lacks {w:?}:\n{err}");
    }
    if let Some(k) = kubectl_133("the error tests' kustomize cross-check") {
        let out = Command::new(k)
            .arg("kustomize")
            .arg(root.join(entry))
            .output()
            .unwrap();
        assert!(
            !out.status.success(),
            "kustomize accepted what tether refused ({err})"
        );
    }
}

#[test]
fn missing_resource_file_is_named() {
    fails(
        &[("kustomization.yaml", "resources:\n- nope.yaml\n")],
        ".",
        &["ROOT/nope.yaml"],
    );
}

#[test]
fn invalid_yaml_names_file_and_line() {
    fails(
        &[
            ("kustomization.yaml", "resources:\n- r.yaml\n"),
            (
                "r.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n   bad: indent\n",
            ),
        ],
        ".",
        &["MalformedYAMLError", "line 5", "in File: ROOT/r.yaml"],
    );
}

#[test]
fn invalid_kustomization_names_the_field() {
    fails(
        &[("kustomization.yaml", "resourcez:\n- r.yaml\n")],
        ".",
        &["resourcez", "kustomization.yaml"],
    );
    fails(
        &[("kustomization.yaml", "resources: 5\n")],
        ".",
        &["invalid Kustomization"],
    );
}

#[test]
fn cycles_between_bases_are_detected() {
    fails(
        &[
            ("a/kustomization.yaml", "resources:\n- ../b\n"),
            ("b/kustomization.yaml", "resources:\n- ../a\n"),
        ],
        "a",
        &["cycle detected: candidate root 'ROOT/a' contains visited root 'ROOT/a'"],
    );
}

#[test]
fn duplicate_ids_are_refused() {
    fails(
        &[
            ("kustomization.yaml", "resources:\n- a.yaml\n- b.yaml\n"),
            ("a.yaml", CM),
            ("b.yaml", CM),
        ],
        ".",
        &["may not add resource with an already registered id: ConfigMap.v1.[noGrp]/cm.[noNs]"],
    );
}

#[test]
fn a_patch_without_target_names_the_missing_id() {
    fails(
        &[
            (
                "kustomization.yaml",
                "resources:\n- a.yaml\npatches:\n- path: p.yaml\n",
            ),
            ("a.yaml", CM),
            (
                "p.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\ndata:\n  a: b\n",
            ),
        ],
        ".",
        &["no matches for Id ConfigMap.v1.[noGrp]/other.[noNs]"],
    );
}

#[test]
fn loads_outside_the_root_are_refused() {
    fails(
        &[
            ("app/kustomization.yaml", "resources:\n- ../cm.yaml\n"),
            ("cm.yaml", CM),
        ],
        "app",
        &["security; file 'ROOT/cm.yaml' is not in or below 'ROOT/app'"],
    );
}

#[test]
fn symlinks_escaping_the_root_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap();
    write(
        &root,
        &[
            ("outside/cm.yaml", CM),
            ("app/kustomization.yaml", "resources:\n- link.yaml\n"),
        ],
    );
    std::os::unix::fs::symlink("../outside/cm.yaml", root.join("app/link.yaml")).unwrap();
    let err = build(
        Arc::new(DiskFs),
        &root.join("app"),
        &BuildOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains(&format!(
            "security; file '{}/app/link.yaml' is not in or below",
            root.display()
        )),
        "{err}"
    );
    // With no restriction the same tree builds.
    let options = BuildOptions {
        load_restrictor: tether_kustomize::LoadRestrictor::None,
        ..Default::default()
    };
    let out = build(Arc::new(DiskFs), &root.join("app"), &options).unwrap();
    assert!(out.to_yaml().contains("name: cm"));
}

#[test]
fn components_and_resources_are_not_interchangeable() {
    fails(
        &[
            ("kustomization.yaml", "resources:\n- comp\n"),
            (
                "comp/kustomization.yaml",
                "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nnamePrefix: c-\n",
            ),
        ],
        ".",
        &["expected kind != 'Component' for path 'ROOT/comp'"],
    );
}

#[test]
fn generators_report_bad_sources() {
    fails(
        &[(
            "kustomization.yaml",
            "configMapGenerator:\n- name: c\n  literals: [novalue]\n",
        )],
        ".",
        &["invalid literal source novalue, expected key=value"],
    );
    fails(
        &[(
            "kustomization.yaml",
            "configMapGenerator:\n- name: c\n  files: [missing.txt]\n",
        )],
        ".",
        &["ROOT/missing.txt"],
    );
}
