//! Running the reference, `kubectl.1.33 kustomize`, on resources written to a temp dir.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

const KUBECTL: &str = "kubectl.1.33";

/// `kubectl.1.33` from `PATH`, or beside the real `kubectl` (the gcloud SDK ships the versions
/// side by side). `None` when it is missing: a test then fails under `CI`, and otherwise says
/// loudly that it skips.
pub fn kubectl() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join(KUBECTL);
        if candidate.is_file() {
            return Some(candidate);
        }
    }
    for dir in std::env::split_paths(&path) {
        let kubectl = dir.join("kubectl");
        if let Ok(real) = std::fs::canonicalize(&kubectl) {
            let candidate = real.parent()?.join(KUBECTL);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

/// The reference binary, or `None` after printing a skip notice (outside CI).
pub fn kubectl_or_skip(test: &str) -> Option<PathBuf> {
    match kubectl() {
        Some(k) => Some(k),
        None if std::env::var_os("CI").is_some() => {
            panic!("{KUBECTL} not found (on PATH or beside kubectl): {test} needs it under CI")
        }
        None => {
            eprintln!("\n*** SKIPPING {test}: {KUBECTL} not found on PATH or beside kubectl ***\n");
            None
        }
    }
}

/// Runs `kubectl kustomize` on a directory holding `stream` as its only resource file, listed
/// in first-in-first-out order. Returns stdout on success, stderr on failure.
pub fn kustomize(kubectl: &Path, stream: &str) -> Result<String, String> {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("r.yaml"), stream).expect("write r.yaml");
    std::fs::write(
        dir.path().join("kustomization.yaml"),
        "resources:\n- r.yaml\nsortOptions:\n  order: fifo\n",
    )
    .expect("write kustomization.yaml");
    let out = Command::new(kubectl)
        .arg("kustomize")
        .arg(dir.path())
        .output()
        .expect("run kubectl kustomize");
    if out.status.success() {
        Ok(String::from_utf8(out.stdout).expect("utf-8 output"))
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// What tether-yaml prints for the stream: every document parsed and printed, joined the way
/// kustomize joins resources.
pub fn ours(stream: &str) -> Result<String, tether_yaml::Error> {
    let docs = tether_yaml::parse_documents(stream)?;
    Ok(docs
        .iter()
        .map(|d| tether_yaml::to_yaml(&d.value))
        .collect::<Vec<_>>()
        .join("---\n"))
}

/// Splits printed output into documents (a `---` line at column 0 separates them).
pub fn split_docs(out: &str) -> Vec<String> {
    let mut docs = vec![String::new()];
    for line in out.split_inclusive('\n') {
        if line == "---\n" {
            docs.push(String::new());
        } else if let Some(last) = docs.last_mut() {
            last.push_str(line);
        }
    }
    docs
}

/// Compares our output with kustomize's and explains the first difference.
pub fn assert_same(stream: &str, expected: &str, actual: &str) {
    if expected == actual {
        return;
    }
    let e = split_docs(expected);
    let a = split_docs(actual);
    let inputs = split_docs(stream);
    for i in 0..e.len().max(a.len()) {
        let (ed, ad) = (e.get(i), a.get(i));
        if ed != ad {
            let line = ed
                .zip(ad)
                .and_then(|(ed, ad)| ed.lines().zip(ad.lines()).position(|(x, y)| x != y))
                .map_or(String::new(), |n| {
                    format!(" (first differing line {})", n + 1)
                });
            panic!(
                "document {i} differs{line}\n--- input (document {i} of the stream, if split alike):\n{}\n--- kustomize:\n{}\n--- tether-yaml:\n{}",
                inputs.get(i).map_or("?", String::as_str),
                ed.map_or("<none>", String::as_str),
                ad.map_or("<none>", String::as_str),
            );
        }
    }
    panic!("outputs differ but no document does: {expected:?} vs {actual:?}");
}

/// A resource around a body given as YAML lines (already indented for the top level).
pub fn resource(name: &str, body: &str) -> String {
    format!("apiVersion: example.com/v1\nkind: Thing\nmetadata:\n  name: {name}\n{body}")
}
