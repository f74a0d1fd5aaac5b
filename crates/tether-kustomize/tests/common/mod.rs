//! Helpers shared by the tests that compare tether with `kubectl.1.33 kustomize`: finding the
//! reference binary, comparing two build outcomes, and a readable line diff.

#![allow(dead_code)] // Each test binary uses a subset.

use std::path::PathBuf;

/// A build's stdout, or its error.
pub type Outcome = Result<String, String>;

/// `kubectl.1.33` from `TETHER_KUBECTL_DIR`, `PATH`, or beside the `kubectl` on `PATH`
/// (the gcloud dispatcher layout); `None` with a loud notice outside CI.
pub fn kubectl_133(what: &str) -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(dir) = std::env::var_os("TETHER_KUBECTL_DIR") {
        candidates.push(PathBuf::from(dir).join("kubectl.1.33"));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        candidates.push(dir.join("kubectl.1.33"));
        let kubectl = dir.join("kubectl");
        if let Ok(real) = std::fs::canonicalize(&kubectl)
            && let Some(parent) = real.parent()
        {
            candidates.push(parent.join("kubectl.1.33"));
        }
    }
    if let Some(found) = candidates.into_iter().find(|c| c.is_file()) {
        return Some(found);
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "kubectl.1.33 is required for {what} (looked in TETHER_KUBECTL_DIR, PATH and \
             beside kubectl)"
        );
    }
    eprintln!(
        "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
         SKIPPED {what}: kubectl.1.33 not found (TETHER_KUBECTL_DIR, PATH, or\n\
         beside kubectl). Nothing was compared.\n\
         !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
    );
    None
}

/// Compares the two outcomes; `Err` explains the difference.
pub fn compare(tether: &Outcome, kubectl: &Outcome) -> Result<(), String> {
    match (tether, kubectl) {
        (Ok(t), Ok(k)) if t == k => Ok(()),
        (Ok(t), Ok(k)) => Err(format!(
            "output differs (- kubectl, + tether):\n{}",
            line_diff(k, t)
        )),
        (Err(_), Err(_)) => Ok(()),
        (Err(t), Ok(k)) => Err(format!(
            "tether failed, kubectl succeeded\n--- tether error\n{t}\n--- kubectl output\n{k}"
        )),
        (Ok(t), Err(k)) => Err(format!(
            "kubectl failed, tether succeeded\n--- kubectl error\n{k}\n--- tether output\n{t}"
        )),
    }
}

/// A line diff (longest common subsequence) with two lines of context around each change.
pub fn line_diff(a: &str, b: &str) -> String {
    let a: Vec<&str> = a.split_inclusive('\n').collect();
    let b: Vec<&str> = b.split_inclusive('\n').collect();
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut ops: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            ops.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            ops.push(('-', a[i]));
            i += 1;
        } else {
            ops.push(('+', b[j]));
            j += 1;
        }
    }
    let near_change = |k: usize| {
        let lo = k.saturating_sub(2);
        let hi = (k + 2).min(ops.len() - 1);
        (lo..=hi).any(|x| ops[x].0 != ' ')
    };
    let mut out = String::new();
    let mut skipped = false;
    for (k, (op, line)) in ops.iter().enumerate() {
        if near_change(k) {
            if skipped {
                out.push_str("  ...\n");
                skipped = false;
            }
            out.push(*op);
            out.push(' ');
            out.push_str(line);
            if !line.ends_with('\n') {
                out.push_str("\n\\ no newline at end\n");
            }
        } else {
            skipped = true;
        }
    }
    out
}
