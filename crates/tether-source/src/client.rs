//! The consumer side: download an artifact, check its digest, read its files.

use std::collections::BTreeMap;
use std::io::Read;

use sha2::{Digest, Sha256};

use crate::ArtifactError;

/// `sha256:<hex>` of `bytes`.
pub fn digest(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// Downloads the artifact at `url` and checks that its bytes have `expected_digest`
/// (`sha256:<hex>`, as in `status.artifact.digest`).
pub async fn fetch_artifact(
    url: &str,
    expected_digest: &str,
) -> Result<bytes::Bytes, ArtifactError> {
    let download = |detail: String| ArtifactError::Download {
        url: url.to_owned(),
        detail,
    };
    let response = reqwest::get(url)
        .await
        .map_err(|e| download(e.to_string()))?;
    let status = response.status();
    if !status.is_success() {
        return Err(download(format!("HTTP {status}")));
    }
    let bytes = response
        .bytes()
        .await
        .map_err(|e| download(e.to_string()))?;
    let actual = digest(&bytes);
    if actual != expected_digest {
        return Err(ArtifactError::DigestMismatch {
            url: url.to_owned(),
            expected: expected_digest.to_owned(),
            actual,
        });
    }
    Ok(bytes)
}

/// The regular files of an artifact, by relative path (normalised: no empty or `.` segments).
/// Entries that would land outside the tree (absolute paths, `..`) and regular files without
/// a name are errors; directories, links and other kinds are skipped.
pub fn read_artifact_files(tar_gz: &[u8]) -> Result<BTreeMap<String, Vec<u8>>, ArtifactError> {
    let bad = |entry: &str, detail: String| ArtifactError::BadArchive {
        entry: entry.to_owned(),
        detail,
    };
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(tar_gz));
    let mut files = BTreeMap::new();
    let entries = archive
        .entries()
        .map_err(|e| bad("(archive)", e.to_string()))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| bad("(archive)", e.to_string()))?;
        let path = entry
            .path()
            .map_err(|e| bad("(name)", e.to_string()))?
            .to_string_lossy()
            .into_owned();
        if path.starts_with('/') || path.split('/').any(|p| p == "..") {
            return Err(bad(&path, "the path leaves the artifact".into()));
        }
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        // One spelling per file, as extracting it would: `./a/`, `a//b` and `a/./b` are `a`,
        // `a/b`; a file named `./` is no file (it was the key "", found by fuzz/).
        let name = path
            .split('/')
            .filter(|p| !p.is_empty() && *p != ".")
            .collect::<Vec<_>>()
            .join("/");
        if name.is_empty() {
            return Err(bad(&path, "a regular file without a name".into()));
        }
        let mut data = Vec::new();
        entry
            .read_to_end(&mut data)
            .map_err(|e| bad(&path, e.to_string()))?;
        files.insert(name, data);
    }
    Ok(files)
}
