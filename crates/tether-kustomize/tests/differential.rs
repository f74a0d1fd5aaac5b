//! Differential corpus: every case under `tests/corpus/<name>/` is built by tether and by
//! `kubectl.1.33 kustomize` (kustomize v5.6.0); the outputs must be identical bytes, or both
//! builds must fail.
//!
//! A case is a directory tree. Its entry point is the case directory itself, or the subdirectory
//! named by a file `entry`. An optional file `flags` holds `kustomize build` flags, one a line
//! (only `--load-restrictor=LoadRestrictionsNone` is understood).
//!
//! Cases that differ today are listed in `tests/differential_known_failures.txt` (a name, then
//! optionally `# cause`); the test fails when a listed case passes (remove it) or an unlisted
//! case differs. `TETHER_BLESS=1 cargo test -p tether-kustomize --test differential` rewrites
//! the list, keeping the causes of names still listed.
//!
//! kubectl runs in parallel threads (one process is ~50 ms, mostly start-up). Without
//! `kubectl.1.33` the test fails when `CI` is set and otherwise skips with a loud notice.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed assertion.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use tether_kustomize::{BuildOptions, DiskFs, LoadRestrictor, build};

mod common;
use common::{Outcome, compare, kubectl_133, line_diff};

/// The corpus must not shrink by accident (a deleted directory would silently drop coverage).
const MIN_CASES: usize = 150;
const KUBECTL_THREADS: usize = 8;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn list_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/differential_known_failures.txt")
}

/// One corpus case: where to build and with which options.
struct Case {
    name: String,
    entry: PathBuf,
    flags: Vec<String>,
}

fn load_case(name: &str) -> Case {
    let dir = corpus_dir().join(name).canonicalize().unwrap();
    let entry = match std::fs::read_to_string(dir.join("entry")) {
        Ok(sub) => dir.join(sub.trim()),
        Err(_) => dir.clone(),
    };
    let flags = std::fs::read_to_string(dir.join("flags"))
        .map(|t| {
            t.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    Case {
        name: name.to_owned(),
        entry,
        flags,
    }
}

/// What one tool produced: stdout on success, the error text on failure.
fn run_tether(case: &Case) -> Outcome {
    let mut options = BuildOptions::default();
    for flag in &case.flags {
        match flag.as_str() {
            "--load-restrictor=LoadRestrictionsNone" => {
                options.load_restrictor = LoadRestrictor::None
            }
            other => panic!("case {}: unknown flag {other:?}", case.name),
        }
    }
    let entry = case.entry.clone();
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        build(Arc::new(DiskFs), &entry, &options)
            .map(|out| out.to_yaml())
            .map_err(|e| e.to_string())
    }))
    .unwrap_or_else(|_| Err("tether panicked".to_owned()))
}

fn run_kubectl(kubectl: &Path, case: &Case) -> Outcome {
    let out = Command::new(kubectl)
        .arg("kustomize")
        .args(&case.flags)
        .arg(&case.entry)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", kubectl.display()));
    if out.status.success() {
        Ok(String::from_utf8(out.stdout).expect("kubectl printed non-UTF-8"))
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Runs kubectl on every case from a pool of threads; results by case name.
fn run_kubectl_all(kubectl: &Path, cases: &[Case]) -> BTreeMap<String, Outcome> {
    let next = Mutex::new(0usize);
    let results = Mutex::new(BTreeMap::new());
    std::thread::scope(|scope| {
        for _ in 0..KUBECTL_THREADS {
            scope.spawn(|| {
                loop {
                    let i = {
                        let mut n = next.lock().unwrap();
                        let i = *n;
                        *n += 1;
                        i
                    };
                    let Some(case) = cases.get(i) else { break };
                    let outcome = run_kubectl(kubectl, case);
                    results.lock().unwrap().insert(case.name.clone(), outcome);
                }
            });
        }
    });
    results.into_inner().unwrap()
}

/// Known failures: name → cause comment (possibly empty).
fn read_known() -> BTreeMap<String, String> {
    std::fs::read_to_string(list_path())
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| match l.split_once('#') {
            Some((name, cause)) => (name.trim().to_owned(), cause.trim().to_owned()),
            None => (l.to_owned(), String::new()),
        })
        .collect()
}

fn write_known(failing: &[String], known: &BTreeMap<String, String>) {
    let mut text = String::from(
        "# Corpus cases where tether and kubectl.1.33 kustomize differ today (see tests/differential.rs).\n\
         # One case a line, optionally followed by `# cause`.\n",
    );
    for name in failing {
        text.push_str(name);
        if let Some(cause) = known.get(name).filter(|c| !c.is_empty()) {
            text.push_str("  # ");
            text.push_str(cause);
        }
        text.push('\n');
    }
    std::fs::write(list_path(), text).unwrap();
}

#[test]
fn corpus_matches_kubectl_kustomize() {
    let Some(kubectl) = kubectl_133("the differential kustomize corpus") else {
        return;
    };
    let dir = corpus_dir();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus missing at {}: {e}", dir.display()))
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(
        names.len() >= MIN_CASES,
        "expected at least {MIN_CASES} corpus cases in {}, found {}",
        dir.display(),
        names.len()
    );
    let cases: Vec<Case> = names.iter().map(|n| load_case(n)).collect();

    // kubectl in the background threads while tether builds on this one.
    let (reference, ours) = std::thread::scope(|scope| {
        let reference = scope.spawn(|| run_kubectl_all(&kubectl, &cases));
        let ours: Vec<Outcome> = cases.iter().map(run_tether).collect();
        (reference.join().unwrap(), ours)
    });

    let known = read_known();
    let mut failing = Vec::new();
    let mut report = String::new();
    for (case, tether) in cases.iter().zip(&ours) {
        if let Err(why) = compare(tether, &reference[&case.name]) {
            failing.push(case.name.clone());
            if !known.contains_key(&case.name) {
                report.push_str(&format!("\n=== {}: {why}\n", case.name));
            }
        }
    }
    let both_failed = cases
        .iter()
        .zip(&ours)
        .filter(|(c, t)| t.is_err() && reference[&c.name].is_err())
        .count();
    eprintln!(
        "kustomize differential corpus: {}/{} cases identical ({both_failed} of them errors in both)",
        cases.len() - failing.len(),
        cases.len()
    );

    if std::env::var_os("TETHER_BLESS").is_some() {
        write_known(&failing, &known);
        return;
    }
    let unknown_listed: Vec<&String> = known.keys().filter(|k| !names.contains(k)).collect();
    let now_passing: Vec<&String> = known
        .keys()
        .filter(|k| names.contains(k) && !failing.contains(k))
        .collect();
    assert!(
        report.is_empty() && now_passing.is_empty() && unknown_listed.is_empty(),
        "unexpected differences:{report}\n\
         listed as failing but identical now (remove them): {now_passing:?}\n\
         listed but not in the corpus: {unknown_listed:?}"
    );
}

#[test]
fn line_diff_marks_changed_lines_only() {
    let d = line_diff("a\nb\nc\nd\ne\nf\ng\nh\n", "a\nb\nc\nd\nX\nf\ng\nh\n");
    assert_eq!(d, "  ...\n  c\n  d\n- e\n+ X\n  f\n  g\n");
}

/// Compares one directory outside the corpus, for turning a random tree into a case:
/// `TETHER_DIFF_DIR=/abs/path cargo test -p tether-kustomize --test differential -- --ignored one_dir`.
#[test]
#[ignore = "a tool: needs TETHER_DIFF_DIR"]
fn one_dir() {
    let dir = std::env::var("TETHER_DIFF_DIR").expect("TETHER_DIFF_DIR names the directory");
    let kubectl = kubectl_133("the differential kustomize corpus").expect("kubectl.1.33");
    let case = Case {
        name: dir.clone(),
        // cargo runs tests in the crate directory: a relative path is relative to it.
        entry: Path::new(&dir)
            .canonicalize()
            .unwrap_or_else(|e| panic!("TETHER_DIFF_DIR {dir}: {e} (give an absolute path)")),
        flags: Vec::new(),
    };
    let (t, k) = (run_tether(&case), run_kubectl(&kubectl, &case));
    if let Err(why) = compare(&t, &k) {
        panic!("{why}");
    }
    eprintln!(
        "identical: {}",
        if t.is_ok() { "outputs" } else { "both failed" }
    );
}
