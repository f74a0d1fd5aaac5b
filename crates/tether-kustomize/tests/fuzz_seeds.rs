//! Replays the fuzz seeds (`fuzz/seeds/<target>`) through the fuzz checks on stable, so CI
//! keeps them passing without libFuzzer. The checks live in `fuzz/checks/`.

#![allow(clippy::unwrap_used)]

#[path = "../fuzz/checks/whole_build.rs"]
mod build_check;
#[path = "../fuzz/checks/patch.rs"]
mod patch_check;

#[test]
fn build_seeds_never_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/whole_build");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        build_check::check(&data);
        count += 1;
    }
    assert!(count >= 3, "seeds missing in {}", dir.display());
}

/// Bytes that are not kustomizations at all, and truncations of the seeds.
#[test]
fn garbage_and_truncated_inputs_never_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/whole_build");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        for cut in (0..data.len()).step_by(7) {
            build_check::check(&data[..cut]);
        }
    }
    for garbage in [
        &b"\xff\xfe"[..],
        b"[[[[[[[[",
        b"{a: *x}",
        b"- - - -",
        b"resources: 5",
        b"\x00\n%%\n\x00",
    ] {
        build_check::check(garbage);
    }
}

#[test]
fn patch_seeds_and_their_truncations_never_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/patch");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        for cut in (0..=data.len()).step_by(5) {
            patch_check::check(&data[..cut]);
        }
        count += 1;
    }
    assert!(count >= 2, "seeds missing in {}", dir.display());
}
