//! Replays the patch fuzz target's seeds (and any crash reproducers saved beside them) on stable,
//! so CI keeps them passing without libFuzzer. The check lives in `fuzz/checks/patches.rs`, its
//! libFuzzer harness in `fuzz/fuzz_targets/` (`cargo +nightly fuzz run patches`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed assertion.

#[path = "../fuzz/checks/patches.rs"]
mod patches_target;

#[test]
fn patches_target_seeds_replay() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/patches");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 5, "too few seeds in {}", dir.display());
    for file in files {
        eprintln!("replaying {}", file.display());
        patches_target::check(&std::fs::read(&file).unwrap());
    }
}
