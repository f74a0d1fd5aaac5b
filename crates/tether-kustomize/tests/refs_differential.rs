//! Differential tests of name references, vars and replacements: each case is a small
//! kustomization tree built by `kubectl.1.33 kustomize` (kustomize v5.6.0, the reference) and by
//! `tether_kustomize::build`; the outputs must parse to the same documents, or both builds must
//! fail (with the case's error substring, checked against the reference too).
//!
//! A case is text: `#! entry: DIR` and `#! error: TEXT` directives, then files, each after a
//! `=== path` line. Cases live in `refs_cases/` (one per feature file).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use serde_json::Value;
use tether_kustomize::{BuildOptions, DiskFs, build};

#[path = "refs_cases/nameref.rs"]
mod nameref_cases;
#[path = "refs_cases/replacements.rs"]
mod replacement_cases;
#[path = "refs_cases/vars.rs"]
mod var_cases;

/// `kubectl.1.33` beside the target of the `kubectl` dispatcher.
fn reference_kubectl() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let kubectl = std::env::split_paths(&path)
        .map(|d| d.join("kubectl"))
        .find(|p| p.is_file())?;
    let real = std::fs::canonicalize(kubectl).ok()?;
    let pinned = real.parent()?.join("kubectl.1.33");
    pinned.is_file().then_some(pinned)
}

struct Case {
    entry: String,
    error: Option<String>,
    files: Vec<(String, String)>,
}

fn parse_case(text: &str) -> Case {
    let mut case = Case {
        entry: ".".to_owned(),
        error: None,
        files: Vec::new(),
    };
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("#! entry: ") {
            case.entry = rest.trim().to_owned();
        } else if let Some(rest) = line.strip_prefix("#! error: ") {
            case.error = Some(rest.trim().to_owned());
        } else if let Some(path) = line.strip_prefix("=== ") {
            case.files.push((path.trim().to_owned(), String::new()));
        } else if let Some((_, body)) = case.files.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    case
}

/// The documents of a `kustomize build` output.
fn documents(yaml: &str) -> Result<Vec<Value>, String> {
    let mut docs = Vec::new();
    let mut current = String::new();
    for line in yaml.lines().chain(std::iter::once("---")) {
        if line == "---" {
            if !current.trim().is_empty() {
                docs.push(
                    serde_saphyr::from_str::<Value>(&current)
                        .map_err(|e| format!("unparsable output document: {e}\n{current}"))?,
                );
            }
            current.clear();
        } else {
            current.push_str(line);
            current.push('\n');
        }
    }
    Ok(docs)
}

/// Runs one case; `Err` explains the difference.
fn run_case(kubectl: &Path, text: &str) -> Result<(), String> {
    let case = parse_case(text);
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let root = tmp.path().canonicalize().map_err(|e| e.to_string())?;
    for (path, body) in &case.files {
        let file = root.join(path);
        std::fs::create_dir_all(file.parent().ok_or("file without a directory")?)
            .map_err(|e| e.to_string())?;
        std::fs::write(&file, body).map_err(|e| e.to_string())?;
    }
    let dir = root.join(&case.entry);
    let reference = Command::new(kubectl)
        .arg("kustomize")
        .arg(&dir)
        .output()
        .map_err(|e| format!("running {}: {e}", kubectl.display()))?;
    let ours = build(Arc::new(DiskFs), &dir, &BuildOptions::default());
    let reference_err = String::from_utf8_lossy(&reference.stderr).into_owned();
    match (reference.status.success(), ours) {
        (true, Ok(out)) => {
            let want = documents(&String::from_utf8_lossy(&reference.stdout))?;
            let got = documents(&out.to_yaml())?;
            if want == got {
                return Ok(());
            }
            Err(format!(
                "outputs differ\n--- kubectl\n{}\n--- tether\n{}",
                String::from_utf8_lossy(&reference.stdout),
                out.to_yaml()
            ))
        }
        (false, Err(e)) => {
            let Some(wanted) = &case.error else {
                return Ok(());
            };
            if !reference_err.contains(wanted.as_str()) {
                return Err(format!(
                    "the case's error {wanted:?} is not kubectl's: {reference_err}"
                ));
            }
            let ours = e.to_string();
            if ours.contains(wanted.as_str()) {
                Ok(())
            } else {
                Err(format!("tether's error lacks {wanted:?}: {ours}"))
            }
        }
        (true, Err(e)) => Err(format!("tether failed, kubectl did not: {e}")),
        (false, Ok(out)) => Err(format!(
            "kubectl failed ({reference_err}), tether did not:\n{}",
            out.to_yaml()
        )),
    }
}

fn run_all(cases: &[(&str, &str)]) {
    let Some(kubectl) = reference_kubectl() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "kubectl.1.33 (the kustomize v5.6.0 reference) is missing beside kubectl's target"
        );
        eprintln!(
            "!!!!! SKIPPED: kubectl.1.33 not found beside kubectl's target; the differential \
             tests of name references, vars and replacements did not run !!!!!"
        );
        return;
    };
    let mut failures = String::new();
    for (name, text) in cases {
        if let Err(why) = run_case(&kubectl, text) {
            failures.push_str(&format!("\n===== {name}: {why}\n"));
        }
    }
    assert!(failures.is_empty(), "cases differ from kubectl:{failures}");
}

#[test]
fn name_references_match_kubectl() {
    run_all(nameref_cases::CASES);
}

#[test]
fn vars_match_kubectl() {
    run_all(var_cases::CASES);
}

#[test]
fn replacements_match_kubectl() {
    run_all(replacement_cases::CASES);
}

#[test]
fn there_are_enough_cases() {
    let n = nameref_cases::CASES.len() + var_cases::CASES.len() + replacement_cases::CASES.len();
    assert!(n >= 40, "only {n} differential cases");
}
