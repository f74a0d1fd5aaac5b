//! In-process `kustomize build`: `cargo bench -p tether-kustomize --bench build`.
//!
//! - `tree_*`: the generated tree of `tether bench kustomize` at a tenth of its size (10 bases,
//!   420 resources, three overlay levels with patches, generators and replacements), from memory
//!   and from disk, YAML output included.
//! - `conformance`: a few of the larger conformance cases (`shared/conformance/kustomize`),
//!   from disk.
//!
//! Whole-process figures against kubectl come from `tether bench kustomize` (BENCHMARKS.md).

// A benchmark panics on a broken fixture like a test does.
#![allow(clippy::unwrap_used)]

// The generator is shared with `tether bench kustomize`, whose crate owns it.
#[path = "../../tether/src/bench_kustomize/tree.rs"]
#[allow(dead_code)]
mod tree;

use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

use tether_kustomize::{BuildOptions, DiskFs, FileSystem, MemFs, build};

fn main() {
    divan::main();
}

const BASES: usize = 10;

/// The tree in memory under `/tree`, and on disk in a directory kept for the whole run.
struct Fixture {
    mem: Arc<dyn FileSystem>,
    disk: tempfile::TempDir,
    entry: &'static str,
}

static TREE: LazyLock<Fixture> = LazyLock::new(|| {
    let tree = tree::generate(BASES);
    let mut mem = MemFs::new();
    for (path, text) in &tree.files {
        mem.add_file(Path::new("/tree").join(path), text.as_bytes());
    }
    let disk = tempfile::tempdir().unwrap();
    tree.write_to(disk.path()).unwrap();
    let fixture = Fixture {
        mem: Arc::new(mem),
        disk,
        entry: tree.entry,
    };
    // A build that fails or loses resources would make the figures meaningless.
    let out = build_yaml(fixture.mem.clone(), &Path::new("/tree").join(fixture.entry));
    assert_eq!(
        out.matches("\n---\n").count() + 1,
        tree::Tree::resources(BASES)
    );
    fixture
});

fn build_yaml(fs: Arc<dyn FileSystem>, dir: &Path) -> String {
    build(fs, dir, &BuildOptions::default())
        .unwrap_or_else(|e| panic!("building {}: {e}", dir.display()))
        .to_yaml()
}

#[divan::bench]
fn tree_memfs(bencher: divan::Bencher) {
    let fixture = &*TREE;
    let dir = Path::new("/tree").join(fixture.entry);
    bencher.bench(|| build_yaml(fixture.mem.clone(), &dir));
}

#[divan::bench]
fn tree_diskfs(bencher: divan::Bencher) {
    let fixture = &*TREE;
    let dir = fixture
        .disk
        .path()
        .canonicalize()
        .unwrap()
        .join(fixture.entry);
    bencher.bench(|| build_yaml(Arc::new(DiskFs), &dir));
}

/// Larger cases that build without flags.
const CASES: &[&str] = &[
    "TestIssue3489",
    "TestMediumOverlay",
    "TestMultibasesNoConflict",
    "TestPatchesInOneFile__4",
];

/// The directory to build and the expected output of a case.
fn case(name: &str) -> (PathBuf, String) {
    let case = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/conformance/kustomize/cases")
        .join(name);
    let read = |file: &str| {
        let path = case.join(file);
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("conformance case file {}: {e}", path.display()))
    };
    let dir = case.canonicalize().unwrap().join(read("entry").trim());
    (dir, read("expected.yaml"))
}

#[divan::bench(args = CASES)]
fn conformance(bencher: divan::Bencher, name: &str) {
    let (dir, expected) = case(name);
    // Benchmark only what is right.
    assert_eq!(build_yaml(Arc::new(DiskFs), &dir), expected, "case {name}");
    bencher.bench(|| build_yaml(Arc::new(DiskFs), &dir));
}
