//! `tether kustomize build`: remote bases from a real git repository (file:// remote, fetched
//! with git), refused with `--no-remote-bases`; `-o DIR`; unsupported flags refused clearly.
//! Outputs are compared with `kubectl.1.33 kustomize` (kustomize v5.6.0) on the same input.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed assertion.

use std::path::{Path, PathBuf};
use std::process::Command;

fn tether(args: &[&str], cwd: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tether"))
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap()
}

/// The pinned kubectl 1.33 (kustomize v5.6.0), or `None` with a loud notice outside CI.
fn kubectl_133() -> Option<PathBuf> {
    let dispatcher = Command::new("sh")
        .args(["-c", "readlink -f \"$(command -v kubectl)\""])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let path = Path::new(&dispatcher)
        .parent()
        .map(|d| d.join("kubectl.1.33"));
    match path {
        Some(p) if p.exists() => Some(p),
        _ if std::env::var_os("CI").is_some() => panic!("kubectl.1.33 is required (see README)"),
        _ => {
            eprintln!("SKIPPED: kubectl.1.33 not found beside the kubectl dispatcher (see README)");
            None
        }
    }
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .expect("git is required");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A repository whose `base/` holds a Deployment at tag v1 and a changed one on main.
fn repo_with_base(root: &Path) -> PathBuf {
    let repo = root.join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    write(
        &repo.join("base/kustomization.yaml"),
        "resources:\n- deploy.yaml\n",
    );
    let deploy = |image: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: {image}\n"
        )
    };
    write(&repo.join("base/deploy.yaml"), &deploy("web:1"));
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "v1"]);
    git(&repo, &["tag", "v1"]);
    write(&repo.join("base/deploy.yaml"), &deploy("web:2"));
    git(&repo, &["commit", "-q", "-am", "v2"]);
    repo
}

#[test]
fn remote_base_from_a_git_repository_matches_kustomize() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = repo_with_base(tmp.path());
    let overlay = tmp.path().join("overlay");
    write(
        &overlay.join("kustomization.yaml"),
        &format!(
            "resources:\n- file://{}//base?ref=v1\nnamePrefix: prod-\n",
            repo.display()
        ),
    );
    let out = tether(&["kustomize", "build", "overlay"], tmp.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("image: web:1"),
        "the tag's content, not main's:\n{stdout}"
    );
    if let Some(kubectl) = kubectl_133() {
        let reference = Command::new(kubectl)
            .args(["kustomize", "overlay"])
            .current_dir(tmp.path())
            .output()
            .unwrap();
        assert!(
            reference.status.success(),
            "{}",
            String::from_utf8_lossy(&reference.stderr)
        );
        assert_eq!(
            stdout,
            String::from_utf8(reference.stdout).unwrap(),
            "byte for byte"
        );
    }

    let refused = tether(
        &["kustomize", "build", "--no-remote-bases", "overlay"],
        tmp.path(),
    );
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("remote bases are disabled"), "{stderr}");
    assert!(
        stderr.contains(&format!("file://{}//base?ref=v1", repo.display())),
        "{stderr}"
    );
}

#[test]
fn output_directory_gets_one_file_per_resource() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        &tmp.path().join("app/kustomization.yaml"),
        "configMapGenerator:\n- name: settings\n  literals: [mode=prod]\nresources: [svc.yaml]\n",
    );
    write(
        &tmp.path().join("app/svc.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n",
    );
    std::fs::create_dir(tmp.path().join("out")).unwrap();
    let out = tether(&["kustomize", "build", "app", "-o", "out"], tmp.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut names: Vec<String> = std::fs::read_dir(tmp.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    if let Some(kubectl) = kubectl_133() {
        std::fs::create_dir(tmp.path().join("ref")).unwrap();
        let r = Command::new(kubectl)
            .args(["kustomize", "app", "-o", "ref"])
            .current_dir(tmp.path())
            .output()
            .unwrap();
        assert!(r.status.success());
        let mut reference: Vec<String> = std::fs::read_dir(tmp.path().join("ref"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        reference.sort();
        assert_eq!(names, reference);
    }
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn plugins_and_helm_flags_are_refused_with_a_reason() {
    let tmp = tempfile::tempdir().unwrap();
    write(&tmp.path().join("kustomization.yaml"), "resources: []\n");
    for flag in ["--enable-alpha-plugins", "--enable-helm"] {
        let out = tether(&["kustomize", "build", flag, "."], tmp.path());
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(flag) && stderr.contains("not"),
            "{flag}: {stderr}"
        );
    }
}

#[test]
fn a_missing_directory_names_it() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tether(&["kustomize", "build", "nowhere"], tmp.path());
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("nowhere"), "{stderr}");
}
