//! Replays the fuzz targets' seed inputs (and any crash reproducers saved beside them) on
//! stable, so CI keeps them passing without libFuzzer. The checks live in `fuzz/checks/`, their
//! libFuzzer harnesses in `fuzz/fuzz_targets/` (run them with `cargo +nightly fuzz run <target>`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed assertion.

#[path = "../fuzz/checks/read_artifact_files.rs"]
mod read_artifact_files_target;

#[path = "../fuzz/checks/include_paths.rs"]
mod include_paths_target;

#[path = "../fuzz/checks/ignore_rules.rs"]
mod ignore_rules_target;

#[path = "../fuzz/checks/semver_range.rs"]
mod semver_range_target;

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
fn read_artifact_files_target_seeds_replay() {
    for (file, data) in inputs("read_artifact_files") {
        eprintln!("replaying {}", file.display());
        read_artifact_files_target::check(&data);
    }
}

#[test]
fn include_paths_target_seeds_replay() {
    for (file, data) in inputs("include_paths") {
        eprintln!("replaying {}", file.display());
        include_paths_target::check(&data);
    }
}

#[test]
fn ignore_rules_target_seeds_replay() {
    for (file, data) in inputs("ignore_rules") {
        eprintln!("replaying {}", file.display());
        ignore_rules_target::check(&data);
    }
}

#[test]
fn semver_range_target_seeds_replay() {
    for (file, data) in inputs("semver_range") {
        eprintln!("replaying {}", file.display());
        semver_range_target::check(&data);
    }
}

/// The archive seeds stay what their names say, so the replay above covers both outcomes.
#[test]
fn artifact_seeds_are_accepted_or_refused_as_named() {
    use std::io::Write;
    for (file, data) in inputs("read_artifact_files") {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let gz = if name.ends_with(".gz") {
            data
        } else {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(&data).unwrap();
            gz.finish().unwrap()
        };
        match tether_source::read_artifact_files(&gz) {
            Ok(files) => {
                assert!(name.starts_with("valid"), "{name} was accepted");
                let paths: Vec<&str> = files.keys().map(String::as_str).collect();
                assert_eq!(
                    paths,
                    ["README.md", "base/app.yaml", "base/nested/b.yaml"],
                    "{name}"
                );
            }
            Err(e) => assert!(!name.starts_with("valid"), "{name} was refused: {e}"),
        }
    }
}
