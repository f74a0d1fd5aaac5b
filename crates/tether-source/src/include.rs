//! GitRepository `include`: files of another GitRepository's artifact placed at a directory of
//! this one's. The directory's own content from Git is replaced (as source-controller does), the
//! included files keep their bytes and get mode 0644, and this artifact's ignore rules apply to
//! them like to every other entry.

use std::collections::BTreeMap;

use crate::ArtifactError;
use crate::client::read_artifact_files;

/// Files from another artifact to place under `to_path` of this one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncludedFiles {
    /// Directory of this artifact, relative, normalised (no `.`, `..` or empty segments).
    pub to_path: String,
    /// Files by path relative to `to_path`.
    pub files: BTreeMap<String, Vec<u8>>,
}

impl IncludedFiles {
    /// The files under `from_path` of the `.tar.gz` artifact `tar_gz`, to go to `to_path`.
    /// `from_path` empty (or `.`) takes the whole artifact; one that names nothing is an error.
    pub fn from_artifact(
        tar_gz: &[u8],
        from_path: &str,
        to_path: &str,
    ) -> Result<IncludedFiles, ArtifactError> {
        let to = normalise(to_path, "toPath")?;
        if to.is_empty() {
            return Err(ArtifactError::BadInclude(
                "toPath must name a directory below the artifact root".into(),
            ));
        }
        let from = normalise(from_path, "fromPath")?;
        let mut files = BTreeMap::new();
        for (path, data) in read_artifact_files(tar_gz)? {
            let relative = if from.is_empty() {
                Some(path.as_str())
            } else {
                path.strip_prefix(&from).and_then(|r| r.strip_prefix('/'))
            };
            if let Some(relative) = relative.filter(|r| !r.is_empty()) {
                files.insert(relative.to_owned(), data);
            }
        }
        if files.is_empty() && !from.is_empty() {
            return Err(ArtifactError::BadInclude(format!(
                "fromPath '{from_path}' names no file of the included artifact"
            )));
        }
        Ok(IncludedFiles { to_path: to, files })
    }
}

/// `path` without `./`, empty segments and trailing `/`; `..` and absolute paths refused.
fn normalise(path: &str, field: &str) -> Result<String, ArtifactError> {
    if path.starts_with('/') {
        return Err(ArtifactError::BadInclude(format!(
            "{field} '{path}' must be relative"
        )));
    }
    let mut parts = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                return Err(ArtifactError::BadInclude(format!(
                    "{field} '{path}' may not contain '..'"
                )));
            }
            p => parts.push(p),
        }
    }
    Ok(parts.join("/"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn tar_gz(files: &[(&str, &str)]) -> Vec<u8> {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        let mut tar = tar::Builder::new(gz);
        for (path, text) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(text.len() as u64);
            header.set_mode(0o644);
            header.set_entry_type(tar::EntryType::Regular);
            tar.append_data(&mut header, path, text.as_bytes()).unwrap();
        }
        tar.into_inner().unwrap().finish().unwrap()
    }

    #[test]
    fn takes_the_subtree_of_from_path() {
        let artifact = tar_gz(&[
            ("base/a.yaml", "a"),
            ("base/x/b.yaml", "b"),
            ("other.yaml", "o"),
        ]);
        let inc = IncludedFiles::from_artifact(&artifact, "./base/", "shared/base").unwrap();
        assert_eq!(inc.to_path, "shared/base");
        assert_eq!(inc.files.keys().collect::<Vec<_>>(), ["a.yaml", "x/b.yaml"]);
        let whole = IncludedFiles::from_artifact(&artifact, "", "lib").unwrap();
        assert_eq!(whole.files.len(), 3);
    }

    #[test]
    fn bad_paths_are_refused_naming_the_field() {
        let artifact = tar_gz(&[("a.yaml", "a")]);
        for (from, to, expected) in [
            ("", "../up", "toPath '../up' may not contain '..'"),
            ("/abs", "x", "fromPath '/abs' must be relative"),
            ("missing", "x", "fromPath 'missing' names no file"),
            ("", ".", "toPath must name a directory"),
        ] {
            let err = IncludedFiles::from_artifact(&artifact, from, to).unwrap_err();
            assert!(err.to_string().contains(expected), "{err}");
        }
    }
}
