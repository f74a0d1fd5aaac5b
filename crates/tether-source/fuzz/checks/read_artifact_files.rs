//! `read_artifact_files` on arbitrary bytes: files or an error, never a panic. When it accepts
//! an archive, every path is relative and clean (no empty, `.` or `..` segments), no entry of
//! the archive (as the `tar` crate lists it) had an absolute name or a `..` segment, and the
//! paths are exactly the archive's regular files.
//!
//! An input that is not gzip is taken as a raw tar stream and gzipped here, so the fuzzer
//! explores tar headers rather than deflate; it is tried as it is and with every header's
//! checksum rewritten, or nearly every mutated header would stop at its checksum.
//!
//! `fuzz_targets/read_artifact_files.rs` runs it under libFuzzer; `tests/fuzz_seeds.rs` replays
//! the seeds.

use std::collections::BTreeSet;
use std::io::{Read, Write};

pub fn check(data: &[u8]) {
    if !data.starts_with(&[0x1f, 0x8b]) {
        let mut fixed = data.to_vec();
        fix_checksums(&mut fixed);
        if fixed != data {
            check_archive(&fixed);
        }
    }
    check_archive(data);
}

fn check_archive(data: &[u8]) {
    let (gz, tar) = gz_and_tar(data);
    let Ok(files) = tether_source::read_artifact_files(&gz) else {
        return;
    };
    for path in files.keys() {
        assert!(clean(path), "accepted the path {path:?}");
    }
    let Some(tar) = tar else {
        return;
    };
    let mut regular = BTreeSet::new();
    let mut archive = tar::Archive::new(&tar[..]);
    for entry in archive.entries().expect("read_artifact_files read it") {
        let entry = entry.expect("read_artifact_files read it");
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        assert!(
            !name.starts_with('/') && !name.split('/').any(|s| s == ".."),
            "accepted the entry {name:?}"
        );
        if entry.header().entry_type() == tar::EntryType::Regular {
            regular.insert(normalise(&name));
        }
    }
    let keys: BTreeSet<String> = files.into_keys().collect();
    assert_eq!(
        keys, regular,
        "the files are not the archive's regular files"
    );
}

/// The gzipped input (as is when it is gzip already) and the tar stream inside, when readable.
fn gz_and_tar(data: &[u8]) -> (Vec<u8>, Option<Vec<u8>>) {
    if data.starts_with(&[0x1f, 0x8b]) {
        let mut tar = Vec::new();
        let readable = flate2::read::GzDecoder::new(data)
            .read_to_end(&mut tar)
            .is_ok();
        return (data.to_vec(), readable.then_some(tar));
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).expect("writing to a Vec");
    (gz.finish().expect("writing to a Vec"), Some(data.to_vec()))
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
