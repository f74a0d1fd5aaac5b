//! Replays the fuzz targets' seed inputs (and any crash reproducers saved beside them) on
//! stable, so CI keeps them passing without libFuzzer. The checks live in `fuzz/checks/`, their
//! libFuzzer harnesses in `fuzz/fuzz_targets/` (run them with `cargo +nightly fuzz run <target>`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed assertion.

#[path = "../fuzz/checks/artifact_unpack.rs"]
mod artifact_unpack_target;

#[path = "../fuzz/checks/envsubst.rs"]
mod envsubst_target;

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
fn artifact_unpack_target_seeds_replay() {
    for (file, data) in inputs("artifact_unpack") {
        eprintln!("replaying {}", file.display());
        artifact_unpack_target::check(&data);
    }
}

#[test]
fn envsubst_target_seeds_replay() {
    for (file, data) in inputs("envsubst") {
        eprintln!("replaying {}", file.display());
        envsubst_target::check(&data);
    }
}

/// The archive seeds stay what their names say, so the replay above covers both outcomes.
#[test]
fn artifact_seeds_are_accepted_or_refused_as_named() {
    let seeds = inputs("artifact_unpack");
    for (file, data) in &seeds {
        let name = file.file_name().unwrap().to_string_lossy();
        let result = if name.ends_with(".gz") {
            tether_build::Artifact::from_tar_gz(data)
        } else {
            tether_build::Artifact::from_tar(&data[..])
        };
        match result {
            Ok(artifact) => {
                assert!(name.starts_with("valid"), "{name} was accepted");
                let files: Vec<&str> = artifact.files().map(|(p, _)| p).collect();
                // The links (apps/alias.yaml, base -> apps) and the hard link became copies.
                assert_eq!(
                    files,
                    [
                        "apps/alias.yaml",
                        "apps/app.yaml",
                        "base/alias.yaml",
                        "base/app.yaml",
                        "copy.yaml",
                        "kustomization.yaml"
                    ],
                    "{name}"
                );
            }
            Err(e) => assert!(!name.starts_with("valid"), "{name} was refused: {e}"),
        }
    }
}
