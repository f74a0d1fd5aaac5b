//! A whole build from arbitrary bytes: the input is cut at `\n%%\n` lines into the files of an
//! in-memory tree — `kustomization.yaml`, `resource.yaml`, `patch.yaml`, `base/kustomization.yaml`,
//! `base/resource.yaml` — so the fuzzer reaches the kustomization reader, the YAML reader, the
//! patch parsers and every transformer. A build must succeed or fail with an error: never panic,
//! overflow its stack or hang.
//!
//! `fuzz_targets/whole_build.rs` runs it under libFuzzer; `tests/fuzz_seeds.rs` replays the seeds.

use std::path::Path;
use std::sync::Arc;

const FILES: [&str; 5] = [
    "kustomization.yaml",
    "resource.yaml",
    "patch.yaml",
    "base/kustomization.yaml",
    "base/resource.yaml",
];

pub fn check(data: &[u8]) {
    let mut fs = tether_kustomize::MemFs::new();
    fs.add_dir("/work");
    let mut rest = data;
    for name in FILES {
        let (part, next) = match find(rest, b"\n%%\n") {
            Some(i) => (&rest[..i], &rest[i + 4..]),
            None => (rest, &b""[..]),
        };
        fs.add_file(Path::new("/work").join(name), part.to_vec());
        rest = next;
    }
    let options = tether_kustomize::BuildOptions::default();
    if let Ok(output) = tether_kustomize::build(Arc::new(fs), Path::new("/work"), &options) {
        // Whatever builds must print.
        let _ = output.to_yaml();
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
