//! `recurseSubmodules`: the submodules a fetched commit records (`.gitmodules` plus the commit
//! its tree pins at each path), fetched with the same credentials at that commit, recursively,
//! and packed in place of their gitlinks. As with `git submodule update --init --recursive`,
//! a `.gitmodules` entry without a gitlink in the tree is skipped, and relative URLs
//! (`../lib.git`) resolve against the superproject's URL.

use std::collections::BTreeMap;

use gix::bstr::ByteSlice;

use crate::ArtifactError;
use crate::include::IncludedFiles;

/// Nesting beyond this is refused: it is almost surely a cycle of repositories.
pub(crate) const MAX_DEPTH: usize = 8;

/// A submodule to fetch: where it sits, from where, at which commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pinned {
    pub(crate) path: String,
    pub(crate) url: String,
    pub(crate) commit: String,
}

/// A fetched submodule's tree (and its own submodules), cheap to clone into a packing task.
#[derive(Clone)]
pub(crate) struct SubmoduleTree {
    pub(crate) path: String,
    pub(crate) repo: gix::ThreadSafeRepository,
    pub(crate) tree: gix::ObjectId,
    pub(crate) nested: Vec<SubmoduleTree>,
}

/// The submodules `tree` pins, or a message naming what is wrong with `.gitmodules`.
pub(crate) fn pinned(
    repo: &gix::Repository,
    tree: gix::ObjectId,
    superproject_url: &str,
) -> Result<Vec<Pinned>, String> {
    let tree = repo
        .find_tree(tree)
        .map_err(|e| format!("reading the tree: {e}"))?;
    let Some(entry) = tree
        .lookup_entry_by_path(".gitmodules")
        .map_err(|e| format!("reading .gitmodules: {e}"))?
    else {
        return Ok(Vec::new());
    };
    let blob = entry
        .object()
        .map_err(|e| format!("reading .gitmodules: {e}"))?;
    let text =
        std::str::from_utf8(&blob.data).map_err(|_| ".gitmodules is not UTF-8".to_owned())?;
    let config: gix::config::File = text.parse().map_err(|e| format!(".gitmodules: {e}"))?;
    let mut out = Vec::new();
    for section in config.sections_by_name("submodule").into_iter().flatten() {
        let name = section
            .header()
            .subsection_name()
            .map(|n| n.to_str_lossy().into_owned())
            .unwrap_or_default();
        let (Some(path), Some(url)) = (section.value("path"), section.value("url")) else {
            return Err(format!(
                ".gitmodules: submodule '{name}' needs both path and url"
            ));
        };
        let path = path.to_str_lossy().trim_end_matches('/').to_owned();
        if path.starts_with('/') || path.split('/').any(|p| p == "..") {
            return Err(format!(
                ".gitmodules: submodule '{name}' has path '{path}' outside the repository"
            ));
        }
        let Some(gitlink) = tree
            .lookup_entry_by_path(&path)
            .map_err(|e| format!("reading the tree at '{path}': {e}"))?
            .filter(|e| e.mode().is_commit())
        else {
            continue;
        };
        out.push(Pinned {
            url: resolve_url(superproject_url, &url.to_str_lossy())?,
            commit: gitlink.oid().to_string(),
            path,
        });
    }
    Ok(out)
}

/// `url` of a submodule, resolved against the superproject's when relative (`./`, `../`).
pub(crate) fn resolve_url(superproject: &str, url: &str) -> Result<String, String> {
    if !(url.starts_with("./") || url.starts_with("../")) {
        return Ok(url.to_owned());
    }
    let mut base = superproject.trim_end_matches('/').to_owned();
    let mut rest = url;
    loop {
        if let Some(r) = rest.strip_prefix("./") {
            rest = r;
        } else if let Some(r) = rest.strip_prefix("../") {
            rest = r;
            let cut = base
                .rfind('/')
                .filter(|i| !base[..*i].ends_with('/') && !base[..*i].is_empty())
                .ok_or_else(|| {
                    format!(
                        "submodule URL '{url}' climbs above the superproject URL '{superproject}'"
                    )
                })?;
            base.truncate(cut);
        } else {
            break;
        }
    }
    Ok(format!("{base}/{rest}"))
}

/// Every regular file of the submodules, as includes at their paths.
pub(crate) fn files(submodules: &[SubmoduleTree]) -> Result<Vec<IncludedFiles>, ArtifactError> {
    let mut out = Vec::new();
    for sub in submodules {
        let repo = sub.repo.to_thread_local();
        let mut all: BTreeMap<String, Vec<u8>> = crate::pack::tree_files(&repo, sub.tree)?;
        for nested in files(&sub.nested)? {
            for (path, data) in nested.files {
                all.insert(format!("{}/{path}", nested.to_path), data);
            }
        }
        out.push(IncludedFiles {
            to_path: sub.path.clone(),
            files: all,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_urls_resolve_against_the_superproject() {
        let base = "https://git.example.com/org/fleet.git";
        assert_eq!(
            resolve_url(base, "../lib.git").as_deref(),
            Ok("https://git.example.com/org/lib.git")
        );
        assert_eq!(
            resolve_url(base, "../../other/lib.git").as_deref(),
            Ok("https://git.example.com/other/lib.git")
        );
        assert_eq!(
            resolve_url(base, "./sub.git").as_deref(),
            Ok("https://git.example.com/org/fleet.git/sub.git")
        );
        assert_eq!(
            resolve_url(base, "ssh://git@h/x.git").as_deref(),
            Ok("ssh://git@h/x.git")
        );
        assert!(resolve_url(base, "../../../../up.git").is_err());
    }
}
