//! Replays the fuzz targets' seed inputs (and any crash reproducers saved beside them) on
//! stable, so CI keeps them passing without libFuzzer. The checks live in `fuzz/checks/`, their
//! libFuzzer harnesses in `fuzz/fuzz_targets/` (run them with `cargo +nightly fuzz run <target>`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed assertion.

#[path = "../fuzz/checks/request.rs"]
mod request_target;

#[path = "../fuzz/checks/protobuf_decode.rs"]
mod protobuf_target;

#[path = "../fuzz/checks/body_decode.rs"]
mod body_target;

fn inputs(target: &str) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/seeds")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no seeds in {}", dir.display());
    files
        .into_iter()
        .map(|f| (f.clone(), std::fs::read(&f).unwrap()))
        .collect()
}

#[test]
fn request_target_seeds_replay() {
    for (file, data) in inputs("request") {
        eprintln!("replaying {}", file.display());
        request_target::check(&data);
    }
}

#[test]
fn protobuf_target_seeds_replay() {
    for (file, data) in inputs("protobuf_decode") {
        eprintln!("replaying {}", file.display());
        protobuf_target::check(&data);
    }
}

#[test]
fn body_decode_target_seeds_replay() {
    for (file, data) in inputs("body_decode") {
        eprintln!("replaying {}", file.display());
        body_target::check(&data);
    }
}
