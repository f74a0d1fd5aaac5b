//! Every case of `shared/conformance/kustomize` (kustomize's own krusty tests, outputs checked
//! against kustomize v5.6.0): builds `<case>/<entry>` and compares byte for byte, or checks the
//! error substrings.
//!
//! Cases not yet passing are listed in `tests/conformance_known_failures.txt`; the test fails
//! when a listed case passes (remove it from the list) or an unlisted case fails.
//! `TETHER_BLESS=1 cargo test -p tether-kustomize --test conformance` rewrites the list.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tether_kustomize::{BuildOptions, DiskFs, LoadRestrictor, build};

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/kustomize/cases")
}

/// Runs one case; `Err` says how it failed.
fn run_case(dir: &Path) -> Result<(), String> {
    let entry = std::fs::read_to_string(dir.join("entry")).map_err(|e| format!("entry: {e}"))?;
    let case: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("case.json")).map_err(|e| format!("case.json: {e}"))?,
    )
    .map_err(|e| format!("case.json: {e}"))?;
    let mut options = BuildOptions::default();
    for flag in case["flags"].as_array().into_iter().flatten() {
        match flag.as_str() {
            Some("--load-restrictor=LoadRestrictionsNone") => {
                options.load_restrictor = LoadRestrictor::None
            }
            other => return Err(format!("unknown flag {other:?}")),
        }
    }
    let root = dir.canonicalize().map_err(|e| e.to_string())?;
    let result = build(Arc::new(DiskFs), &root.join(entry.trim()), &options);
    if let Ok(expected) = std::fs::read_to_string(dir.join("expected.yaml")) {
        let out = result.map_err(|e| format!("build failed: {e}"))?.to_yaml();
        if out == expected {
            Ok(())
        } else {
            Err(format!(
                "output differs:\n--- expected\n{expected}\n--- got\n{out}"
            ))
        }
    } else {
        let wanted = std::fs::read_to_string(dir.join("expected-error.txt"))
            .map_err(|_| "neither expected.yaml nor expected-error.txt".to_owned())?;
        let message = match result {
            Ok(out) => return Err(format!("expected an error, got:\n{}", out.to_yaml())),
            Err(e) => e.to_string().replace(&root.display().to_string(), ""),
        };
        for line in wanted.lines().filter(|l| !l.trim().is_empty()) {
            if !message.contains(line) {
                return Err(format!("error {message:?} lacks {line:?}"));
            }
        }
        Ok(())
    }
}

#[test]
fn conformance_cases() {
    let dir = cases_dir();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("conformance cases missing at {}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names.len(),
        164,
        "expected the 164 kustomize conformance cases"
    );

    let list_path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance_known_failures.txt");
    let known: Vec<String> = std::fs::read_to_string(&list_path)
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();

    let mut failing = Vec::new();
    let mut report = String::new();
    for name in &names {
        // A panic is a failure of that case, reported like any other.
        let outcome = std::panic::catch_unwind(|| run_case(&dir.join(name)))
            .unwrap_or_else(|_| Err("panicked".to_owned()));
        if let Err(why) = outcome {
            failing.push(name.clone());
            if !known.contains(name) {
                report.push_str(&format!("\n=== {name}: {why}\n"));
            }
        }
    }
    let passed = names.len() - failing.len();
    eprintln!("kustomize conformance: {passed}/{} cases pass", names.len());

    if std::env::var_os("TETHER_BLESS").is_some() {
        let mut text =
            String::from("# Conformance cases that do not pass yet (see tests/conformance.rs).\n");
        for f in &failing {
            text.push_str(f);
            text.push('\n');
        }
        std::fs::write(&list_path, text).unwrap();
        return;
    }
    let now_passing: Vec<&String> = known.iter().filter(|k| !failing.contains(k)).collect();
    assert!(
        report.is_empty() && now_passing.is_empty(),
        "unexpected failures:{report}\nlisted as failing but passing now (remove them): {now_passing:?}"
    );
}
