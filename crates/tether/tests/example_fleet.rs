//! `examples/fleet` as files: every kustomization in it builds with tether's kustomize byte for
//! byte as `kubectl.1.33 kustomize` builds it, and every directory's README is reachable by
//! links from the fleet's top README.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed assertion.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

const FLEET: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/fleet");

/// Every directory under `dir` (itself included).
fn dirs(dir: &Path, out: &mut Vec<PathBuf>) {
    out.push(dir.to_path_buf());
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    entries.sort();
    for sub in entries {
        dirs(&sub, out);
    }
}

fn fleet() -> PathBuf {
    let root = std::fs::canonicalize(FLEET).unwrap_or_else(|e| panic!("{FLEET}: {e}"));
    assert!(
        root.join("clusters").is_dir(),
        "{} has no clusters/",
        root.display()
    );
    root
}

#[test]
fn every_kustomization_builds_like_kubectl_kustomize() {
    let root = fleet();
    let mut all = Vec::new();
    dirs(&root, &mut all);
    let kustomizations: Vec<&PathBuf> = all
        .iter()
        .filter(|d| d.join("kustomization.yaml").is_file())
        .collect();
    // 3 clusters and their tether-system, crds, 3 infrastructure overlays and 3 bases, 3 app
    // overlays, the web base and 2 components.
    assert!(
        kustomizations.len() >= 19,
        "only {} kustomizations",
        kustomizations.len()
    );
    let kubectl = common::kubectl();
    let mut built = 0;
    for dir in kustomizations {
        let rel = dir.strip_prefix(&root).unwrap().display().to_string();
        let text = std::fs::read_to_string(dir.join("kustomization.yaml")).unwrap();
        if text.contains("kind: Component") {
            // A Component builds only as part of a kustomization (the overlays cover them).
            continue;
        }
        let theirs = Command::new(&kubectl)
            .arg("kustomize")
            .arg(dir)
            .output()
            .unwrap();
        assert!(
            theirs.status.success(),
            "kubectl kustomize {rel}: {}",
            String::from_utf8_lossy(&theirs.stderr)
        );
        let ours = Command::new(env!("CARGO_BIN_EXE_tether"))
            .args(["kustomize", "build"])
            .arg(dir)
            .output()
            .unwrap();
        assert!(
            ours.status.success(),
            "tether kustomize build {rel}: {}",
            String::from_utf8_lossy(&ours.stderr)
        );
        assert!(!ours.stdout.is_empty(), "{rel} built nothing");
        if ours.stdout != theirs.stdout {
            let a = String::from_utf8_lossy(&theirs.stdout);
            let b = String::from_utf8_lossy(&ours.stdout);
            let first = a
                .lines()
                .zip(b.lines())
                .position(|(x, y)| x != y)
                .unwrap_or(a.lines().count().min(b.lines().count()));
            panic!(
                "{rel}: tether's build differs from kubectl's at line {}:\nkubectl: {:?}\ntether:  {:?}",
                first + 1,
                a.lines().nth(first),
                b.lines().nth(first)
            );
        }
        built += 1;
    }
    assert!(built >= 17, "only {built} kustomizations compared");
}

#[test]
fn cluster_paths_hold_the_bootstrap_layout_and_ordered_kustomizations() {
    let root = fleet();
    for cluster in ["local", "staging", "production"] {
        let dir = root.join("clusters").join(cluster);
        for file in [
            "tether-system/components.yaml",
            "tether-system/sync.yaml",
            "tether-system/kustomization.yaml",
        ] {
            assert!(
                dir.join(file).is_file(),
                "clusters/{cluster}/{file} missing"
            );
        }
        let sync = std::fs::read_to_string(dir.join("tether-system/sync.yaml")).unwrap();
        assert!(
            sync.contains(&format!("path: ./clusters/{cluster}\n")),
            "clusters/{cluster}/tether-system/sync.yaml: {sync}"
        );
        let apps = std::fs::read_to_string(dir.join("apps.yaml")).unwrap();
        assert!(
            apps.contains("dependsOn:\n  - name: infrastructure\n"),
            "clusters/{cluster}/apps.yaml does not depend on infrastructure"
        );
        assert!(apps.contains(&format!("path: ./apps/{cluster}\n")));
        assert!(apps.contains(&format!("cluster_name: {cluster}\n")));
        let infra = std::fs::read_to_string(dir.join("infrastructure.yaml")).unwrap();
        assert!(infra.contains("dependsOn:\n  - name: infra-crds\n"));
        assert!(infra.contains(&format!("path: ./infrastructure/{cluster}\n")));
    }
    // components.yaml is what `tether install --export` prints.
    let export = Command::new(env!("CARGO_BIN_EXE_tether"))
        .args(["install", "--export"])
        .output()
        .unwrap();
    assert!(export.status.success());
    let local = std::fs::read(root.join("clusters/local/tether-system/components.yaml")).unwrap();
    assert!(
        local == export.stdout,
        "clusters/local/tether-system/components.yaml differs from `tether install --export`; \
         regenerate it (and staging's, production's) with `tether install --export > …`"
    );
}

/// The README.md files linked (relatively) from `readme`.
fn linked_readmes(readme: &Path) -> Vec<PathBuf> {
    let text = std::fs::read_to_string(readme).unwrap();
    let dir = readme.parent().unwrap();
    text.split("](")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
        .map(|target| target.split('#').next().unwrap_or(""))
        .filter(|t| t.ends_with("README.md") && !t.contains("://"))
        .filter_map(|t| std::fs::canonicalize(dir.join(t)).ok())
        .collect()
}

#[test]
fn every_directory_has_a_readme_linked_from_the_top() {
    let root = fleet();
    let mut all = Vec::new();
    dirs(&root, &mut all);
    let mut reached = BTreeSet::new();
    let mut todo = vec![root.join("README.md")];
    while let Some(readme) = todo.pop() {
        if !readme.starts_with(&root) || !reached.insert(readme.clone()) {
            continue;
        }
        todo.extend(linked_readmes(&readme));
    }
    for dir in all {
        let readme = dir.join("README.md");
        assert!(readme.is_file(), "{} has no README.md", dir.display());
        assert!(
            reached.contains(&std::fs::canonicalize(&readme).unwrap()),
            "{} is not linked from examples/fleet/README.md (directly or through other READMEs)",
            readme.display()
        );
    }
}
