//! A deterministic `.tar.gz` of a commit's tree, read straight from the object database (no
//! work tree is checked out).
//!
//! Entries are written depth first with names in byte order, a directory before its contents
//! (`dir/`). Headers carry no owner, no user or group name and mtime 0; modes are 0755 for
//! directories and executable files, 0644 for other files (source-controller's defaults). As
//! in source-controller, symbolic links and submodules are left out (only regular files and
//! directories), and every entry is matched on its own against the ignore rules. gzip gets no
//! name and mtime 0. So the same tree and rules always give the same bytes and digest.

use std::io::Write;

use gix::bstr::ByteSlice;
use sha2::{Digest, Sha256};

use crate::ArtifactError;
use crate::ignore_rules::{IGNORE_FILE, IgnoreRules};
use crate::include::IncludedFiles;

enum Kind {
    Dir,
    File {
        oid: gix::ObjectId,
        executable: bool,
    },
    /// A file of an included artifact.
    Included(Vec<u8>),
}

struct Entry {
    path: String,
    kind: Kind,
}

/// The digest (`sha256:<hex>`) and size of what was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Packed {
    pub(crate) digest: String,
    pub(crate) size: u64,
}

struct Counting<W> {
    inner: W,
    hasher: Sha256,
    size: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn git_err(what: impl Into<String>, e: impl std::fmt::Display) -> ArtifactError {
    ArtifactError::Git {
        what: what.into(),
        detail: e.to_string(),
    }
}

/// Every directory and file of `tree`, depth first, names in byte order.
fn walk(repo: &gix::Repository, tree: gix::ObjectId) -> Result<Vec<Entry>, ArtifactError> {
    let mut out = Vec::new();
    walk_into(repo, tree, "", &mut out)?;
    Ok(out)
}

fn walk_into(
    repo: &gix::Repository,
    tree: gix::ObjectId,
    prefix: &str,
    out: &mut Vec<Entry>,
) -> Result<(), ArtifactError> {
    let tree = repo
        .find_tree(tree)
        .map_err(|e| git_err(format!("tree '{prefix}'"), e))?;
    let mut children = Vec::new();
    for entry in tree.iter() {
        let entry = entry.map_err(|e| git_err(format!("tree '{prefix}'"), e))?;
        let name = entry.filename().to_str_lossy().into_owned();
        children.push((name, entry.mode(), entry.oid().to_owned()));
    }
    children.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    for (name, mode, oid) in children {
        let path = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        if mode.is_tree() {
            out.push(Entry {
                path: path.clone(),
                kind: Kind::Dir,
            });
            walk_into(repo, oid, &path, out)?;
        } else if mode.is_blob() {
            out.push(Entry {
                path,
                kind: Kind::File {
                    oid,
                    executable: mode.is_executable(),
                },
            });
        }
        // Symbolic links and submodule commits: left out, as source-controller does.
    }
    Ok(())
}

/// `entries` with each include's directory replaced by its files, in the walk's order (depth
/// first, siblings by name bytes, a directory before its contents): component-wise path order.
fn with_includes(entries: Vec<Entry>, includes: Vec<IncludedFiles>) -> Vec<Entry> {
    let under = |path: &str, dir: &str| path == dir || path.starts_with(&format!("{dir}/"));
    let mut out: Vec<Entry> = entries
        .into_iter()
        .filter(|e| !includes.iter().any(|i| under(&e.path, &i.to_path)))
        .collect();
    let mut dirs: std::collections::BTreeSet<String> = out
        .iter()
        .filter(|e| matches!(e.kind, Kind::Dir))
        .map(|e| e.path.clone())
        .collect();
    for include in includes {
        for (relative, data) in include.files {
            let path = format!("{}/{relative}", include.to_path);
            let mut dir = String::new();
            for segment in path.split('/').take(path.split('/').count() - 1) {
                if !dir.is_empty() {
                    dir.push('/');
                }
                dir.push_str(segment);
                if dirs.insert(dir.clone()) {
                    out.push(Entry {
                        path: dir.clone(),
                        kind: Kind::Dir,
                    });
                }
            }
            out.push(Entry {
                path,
                kind: Kind::Included(data),
            });
        }
    }
    out.sort_by(|a, b| a.path.split('/').cmp(b.path.split('/')));
    out
}

/// Every regular file of `tree`, by path.
pub(crate) fn tree_files(
    repo: &gix::Repository,
    tree: gix::ObjectId,
) -> Result<std::collections::BTreeMap<String, Vec<u8>>, ArtifactError> {
    let mut out = std::collections::BTreeMap::new();
    for entry in walk(repo, tree)? {
        if let Kind::File { oid, .. } = entry.kind {
            let data = blob(repo, oid, &entry.path)?;
            out.insert(entry.path, data);
        }
    }
    Ok(out)
}

fn blob(repo: &gix::Repository, oid: gix::ObjectId, path: &str) -> Result<Vec<u8>, ArtifactError> {
    let object = repo
        .find_object(oid)
        .map_err(|e| git_err(format!("file '{path}'"), e))?;
    Ok(object.detach().data)
}

/// Writes the artifact of `tree` (minus what `spec_ignore` and the tree's `.sourceignore` files
/// exclude) to `out`.
pub(crate) fn pack_tree(
    repo: &gix::Repository,
    tree: gix::ObjectId,
    spec_ignore: Option<&str>,
    includes: Vec<IncludedFiles>,
    out: impl Write,
) -> Result<Packed, ArtifactError> {
    let mut entries = walk(repo, tree)?;
    if !includes.is_empty() {
        entries = with_includes(entries, includes);
    }
    let mut sourceignores = Vec::new();
    for entry in &entries {
        if let Kind::File { oid, .. } = entry.kind {
            let (dir, name) = match entry.path.rsplit_once('/') {
                Some((dir, name)) => (dir, name),
                None => ("", entry.path.as_str()),
            };
            if name == IGNORE_FILE {
                let text = String::from_utf8_lossy(&blob(repo, oid, &entry.path)?).into_owned();
                sourceignores.push((dir.to_owned(), text));
            }
        }
    }
    let rules = IgnoreRules::new(sourceignores, spec_ignore)?;

    let io = |e| ArtifactError::Io {
        what: "writing the artifact",
        path: Default::default(),
        source: e,
    };
    let counting = Counting {
        inner: out,
        hasher: Sha256::new(),
        size: 0,
    };
    let gz = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(counting, flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    tar.mode(tar::HeaderMode::Deterministic);
    for entry in &entries {
        let is_dir = matches!(entry.kind, Kind::Dir);
        if rules.is_ignored(&entry.path, is_dir) {
            continue;
        }
        let mut header = tar::Header::new_gnu();
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        match entry.kind {
            Kind::Dir => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(0o755);
                header.set_size(0);
                tar.append_data(&mut header, format!("{}/", entry.path), std::io::empty())
                    .map_err(io)?;
            }
            Kind::Included(ref data) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(0o644);
                header.set_size(data.len() as u64);
                tar.append_data(&mut header, &entry.path, data.as_slice())
                    .map_err(io)?;
            }
            Kind::File { oid, executable } => {
                let data = blob(repo, oid, &entry.path)?;
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(if executable { 0o755 } else { 0o644 });
                header.set_size(data.len() as u64);
                tar.append_data(&mut header, &entry.path, data.as_slice())
                    .map_err(io)?;
            }
        }
    }
    let gz = tar.into_inner().map_err(io)?;
    let mut counting = gz.finish().map_err(io)?;
    counting.flush().map_err(io)?;
    let digest = counting.hasher.finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    Ok(Packed {
        digest: format!("sha256:{hex}"),
        size: counting.size,
    })
}
