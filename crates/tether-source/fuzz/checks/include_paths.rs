//! `IncludedFiles::from_artifact` on arbitrary `fromPath`, `toPath` and archive: a value or an
//! error, never a panic. When it succeeds:
//!
//! - neither path was absolute or had a `..` segment, and `to_path` is a clean, non-empty
//!   relative path (no empty, `.` or `..` segments);
//! - every file path is clean, and the files are exactly those `read_artifact_files` finds
//!   below `fromPath`, with the same bytes; a non-empty `fromPath` names at least one.
//!
//! An input is `fromPath\ntoPath\n` then the archive; an archive that is not gzip is taken as
//! a raw tar stream and gzipped here, so the fuzzer explores tar headers rather than deflate,
//! as it is and with every header's checksum rewritten.
//!
//! `fuzz_targets/include_paths.rs` runs it under libFuzzer; `tests/fuzz_seeds.rs` replays the
//! seeds.

use std::collections::BTreeMap;
use std::io::Write;

use tether_source::IncludedFiles;

pub fn check(data: &[u8]) {
    let mut parts = data.splitn(3, |b| *b == b'\n');
    let from = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let to = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let archive = parts.next().unwrap_or_default();
    if archive.starts_with(&[0x1f, 0x8b]) {
        check_include(&from, &to, archive.to_vec());
        return;
    }
    let mut fixed = archive.to_vec();
    fix_checksums(&mut fixed);
    if fixed != archive {
        check_include(&from, &to, gzip(&fixed));
    }
    check_include(&from, &to, gzip(archive));
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).expect("writing to a Vec");
    gz.finish().expect("writing to a Vec")
}

fn check_include(from: &str, to: &str, gz: Vec<u8>) {
    let Ok(included) = IncludedFiles::from_artifact(&gz, from, to) else {
        return;
    };
    for path in [from, to] {
        assert!(
            !path.starts_with('/') && !path.split('/').any(|s| s == ".."),
            "accepted the path {path:?}"
        );
    }
    assert!(clean(&included.to_path), "to_path {:?}", included.to_path);
    assert_eq!(included.to_path, normalise(to), "to_path of {to:?}");
    for path in included.files.keys() {
        assert!(clean(path), "accepted the file {path:?}");
    }

    let all = tether_source::read_artifact_files(&gz).expect("from_artifact read it");
    let from = normalise(from);
    let below: BTreeMap<&str, &Vec<u8>> = all
        .iter()
        .filter_map(|(path, data)| {
            let relative = if from.is_empty() {
                Some(path.as_str())
            } else {
                path.strip_prefix(from.as_str())?.strip_prefix('/')
            };
            relative.filter(|r| !r.is_empty()).map(|r| (r, data))
        })
        .collect();
    let files: BTreeMap<&str, &Vec<u8>> = included
        .files
        .iter()
        .map(|(path, data)| (path.as_str(), data))
        .collect();
    assert_eq!(files, below, "the files below {from:?}");
    assert!(
        from.is_empty() || !files.is_empty(),
        "fromPath {from:?} names nothing"
    );
}

/// Relative, `/`-separated, no empty, `.` or `..` segments.
fn clean(path: &str) -> bool {
    !path.is_empty()
        && path
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != "..")
}

/// `path` without empty and `.` segments.
fn normalise(path: &str) -> String {
    path.split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect::<Vec<_>>()
        .join("/")
}

/// Rewrites the checksum of each header of a raw tar stream, following the sizes.
fn fix_checksums(tar: &mut [u8]) {
    let mut pos = 0usize;
    while let Some(end) = pos.checked_add(512)
        && let Some(block) = tar.get_mut(pos..end)
    {
        if block.iter().all(|b| *b == 0) {
            break;
        }
        block[148..156].fill(b' ');
        let sum: u32 = block.iter().map(|b| u32::from(*b)).sum();
        block[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        let size = tar::Header::from_byte_slice(block)
            .entry_size()
            .unwrap_or(0);
        let data = usize::try_from(size.div_ceil(512))
            .unwrap_or(usize::MAX)
            .saturating_mul(512);
        pos = end.saturating_add(data);
    }
}
