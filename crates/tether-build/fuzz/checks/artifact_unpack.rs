//! `Artifact::from_tar_gz` on arbitrary bytes: an artifact or an error, never a panic. What it
//! accepts must be safe to hand to the build:
//!
//! - every file and directory path is relative, `/`-separated, without empty, `.` or `..`
//!   segments or backslashes, and its parent directories are directories of the artifact;
//! - walking `children` from the root reaches exactly the files `files` lists;
//! - no entry of the archive (as the `tar` crate lists it) had an absolute name or a `..`
//!   segment, and no symbolic link pointed above the root: those must be refused.
//!
//! An input that is not gzip is taken as a raw tar stream and gzipped here, so the fuzzer
//! explores tar headers rather than deflate; then `from_tar` on the raw stream must agree with
//! `from_tar_gz` on the gzipped one. The stream is tried as it is and with every header's
//! checksum rewritten, or nearly every mutated header would stop at its checksum.
//!
//! `fuzz_targets/artifact_unpack.rs` runs it under libFuzzer; `tests/fuzz_seeds.rs` replays the
//! seeds.

use std::collections::BTreeSet;
use std::io::{Read, Write};

use tether_build::Artifact;

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];

pub fn check(data: &[u8]) {
    if !data.starts_with(GZIP_MAGIC) {
        let mut fixed = data.to_vec();
        fix_checksums(&mut fixed);
        if fixed != data {
            check_raw(&fixed);
        }
    }
    check_raw(data);
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

fn check_raw(data: &[u8]) {
    if data.starts_with(GZIP_MAGIC) {
        let result = Artifact::from_tar_gz(data);
        if let Ok(artifact) = &result {
            check_tree(artifact);
            let mut tar = Vec::new();
            if flate2::read::GzDecoder::new(data)
                .read_to_end(&mut tar)
                .is_ok()
            {
                check_entries(&tar);
            }
        }
        return;
    }
    let raw = Artifact::from_tar(data);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).expect("writing to a Vec");
    let gzipped = Artifact::from_tar_gz(&gz.finish().expect("writing to a Vec"));
    match (&raw, &gzipped) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "from_tar and from_tar_gz disagree"),
        (Err(_), Err(_)) => {}
        _ => panic!("from_tar gave {raw:?} but from_tar_gz {gzipped:?}"),
    }
    if let Ok(artifact) = &raw {
        check_tree(artifact);
        check_entries(data);
    }
}

fn clean(path: &str) -> bool {
    !path.starts_with('/')
        && !path.contains('\\')
        && path
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != "..")
}

fn parent(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..i])
}

fn check_tree(artifact: &Artifact) {
    assert!(artifact.is_dir(""), "the root is a directory");
    let files: BTreeSet<&str> = artifact.files().map(|(p, _)| p).collect();
    for file in &files {
        assert!(clean(file), "file path {file:?} is not clean");
        assert!(!artifact.is_dir(file), "{file:?} is a file and a directory");
        let mut dir = parent(file);
        loop {
            assert!(artifact.is_dir(dir), "{file:?} has no directory {dir:?}");
            if dir.is_empty() {
                break;
            }
            dir = parent(dir);
        }
    }
    // Depth first from the root: every directory reached is clean and a directory, every file
    // reached is listed by `files`, and nothing listed is unreachable.
    let mut reached = BTreeSet::new();
    let mut pending = vec![String::new()];
    while let Some(dir) = pending.pop() {
        for (name, is_dir) in artifact.children(&dir) {
            let path = if dir.is_empty() {
                name.to_owned()
            } else {
                format!("{dir}/{name}")
            };
            assert!(clean(&path), "child path {path:?} is not clean");
            if is_dir {
                assert!(artifact.is_dir(&path), "child {path:?} is not a directory");
                pending.push(path);
            } else {
                assert!(
                    artifact.file(&path).is_some(),
                    "child {path:?} is not a file"
                );
                reached.insert(path);
            }
        }
    }
    let reached: BTreeSet<&str> = reached.iter().map(String::as_str).collect();
    assert_eq!(reached, files, "children() and files() disagree");
}

/// Lexically resolves `target` from directory `dir`; `None` when it climbs above the root.
fn resolves_inside(dir: &str, target: &str) -> bool {
    let mut depth = 0usize;
    for segment in dir.split('/').chain(target.split('/')) {
        match segment {
            "" | "." => {}
            ".." => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return false,
            },
            _ => depth += 1,
        }
    }
    true
}

/// Every entry of an accepted tar stream had a safe name, and its links a safe target.
fn check_entries(tar: &[u8]) {
    let mut archive = tar::Archive::new(tar);
    let Ok(entries) = archive.entries() else {
        return;
    };
    for entry in entries {
        let Ok(entry) = entry else {
            return;
        };
        let kind = entry.header().entry_type();
        if matches!(
            kind,
            tar::EntryType::XGlobalHeader | tar::EntryType::XHeader
        ) {
            continue;
        }
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        assert!(
            !name.starts_with('/') && !name.split('/').any(|s| s == ".."),
            "accepted the entry {name:?}"
        );
        if kind == tar::EntryType::Symlink {
            let target = entry
                .link_name_bytes()
                .map(|t| String::from_utf8_lossy(&t).into_owned())
                .unwrap_or_default();
            assert!(
                !target.starts_with('/') && resolves_inside(parent(&name), &target),
                "accepted the link {name:?} -> {target:?}, which leaves the root"
            );
        }
    }
}
