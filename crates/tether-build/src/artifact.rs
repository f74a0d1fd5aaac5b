//! A source artifact unpacked in memory: files and directories by relative path, with
//! symbolic links that stay inside the artifact replaced by what they point to.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use crate::error::Error;

/// Links followed while resolving one path, as Linux's `ELOOP` limit.
const MAX_LINK_HOPS: usize = 40;
/// Entries the tree may hold once directory links are expanded (a guard against link bombs).
const MAX_ENTRIES: usize = 1_000_000;
/// Bytes reserved up front for one file's content.
const MAX_RESERVE: u64 = 1 << 20;

/// An unpacked artifact. Paths are relative, `/`-separated, without `.` or `..`; the root
/// directory is `""`. Immutable and cheap to share behind an `Arc`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Artifact {
    files: BTreeMap<String, Arc<[u8]>>,
    dirs: BTreeSet<String>,
}

#[derive(Clone)]
enum Raw {
    File(Arc<[u8]>),
    Dir,
    Link(String),
}

impl Artifact {
    /// Unpacks a gzip-compressed tar stream (what the source reconciler stores).
    ///
    /// Regular files and directories are kept; a symbolic link whose target stays inside the
    /// artifact becomes a copy of the target (a dangling one is dropped). Refused, with an error
    /// naming the entry: absolute paths, `..` components, backslashes, links leaving the root,
    /// link cycles, and devices or FIFOs. A pax global header (`git archive` writes one) is
    /// skipped.
    pub fn from_tar_gz(bytes: &[u8]) -> Result<Artifact, Error> {
        Artifact::from_tar(flate2::read::GzDecoder::new(bytes))
    }

    /// Unpacks an uncompressed tar stream; see [`Artifact::from_tar_gz`].
    pub fn from_tar(reader: impl Read) -> Result<Artifact, Error> {
        let mut raw = BTreeMap::new();
        raw.insert(String::new(), Raw::Dir);
        let mut archive = tar::Archive::new(reader);
        let entries = archive
            .entries()
            .map_err(|e| Error::Archive(e.to_string()))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| Error::Archive(e.to_string()))?;
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let kind = entry.header().entry_type();
            if matches!(
                kind,
                tar::EntryType::XGlobalHeader | tar::EntryType::XHeader
            ) {
                continue;
            }
            let path = entry_path(&name)?;
            let value = match kind {
                tar::EntryType::Regular | tar::EntryType::Continuous => {
                    // The header's size is untrusted (a 512-byte entry can claim 2^62 bytes):
                    // reserve a little, `read_to_end` grows to what is really there.
                    let reserve = entry.size().min(MAX_RESERVE);
                    let mut content = Vec::with_capacity(reserve as usize);
                    entry.read_to_end(&mut content).map_err(|e| Error::Entry {
                        entry: name.clone(),
                        reason: format!("cannot read: {e}"),
                    })?;
                    Raw::File(content.into())
                }
                tar::EntryType::Directory => Raw::Dir,
                tar::EntryType::Symlink => {
                    let target = entry
                        .link_name_bytes()
                        .map(|t| String::from_utf8_lossy(&t).into_owned())
                        .unwrap_or_default();
                    check_link(&name, &path, &target)?;
                    Raw::Link(target)
                }
                tar::EntryType::Link => {
                    let target = entry
                        .link_name_bytes()
                        .map(|t| String::from_utf8_lossy(&t).into_owned())
                        .unwrap_or_default();
                    let target_path = entry_path(&target)?;
                    match raw.get(&target_path) {
                        Some(Raw::File(content)) => Raw::File(content.clone()),
                        _ => {
                            return Err(Error::Entry {
                                entry: name,
                                reason: format!(
                                    "hard link to {target:?}, which is not a file before it"
                                ),
                            });
                        }
                    }
                }
                other => {
                    return Err(Error::Entry {
                        entry: name,
                        reason: format!("unsupported entry type {other:?}"),
                    });
                }
            };
            if path.is_empty() {
                continue; // `./` itself
            }
            insert(&mut raw, &name, path, value)?;
        }
        Artifact::materialize(&raw)
    }

    /// An artifact of the given files (paths relative, `/`-separated; checked as tar entries).
    pub fn from_files<P: AsRef<str>, C: Into<Vec<u8>>>(
        files: impl IntoIterator<Item = (P, C)>,
    ) -> Result<Artifact, Error> {
        let mut raw = BTreeMap::new();
        raw.insert(String::new(), Raw::Dir);
        for (name, content) in files {
            let name = name.as_ref();
            let path = entry_path(name)?;
            insert(&mut raw, name, path, Raw::File(content.into().into()))?;
        }
        Artifact::materialize(&raw)
    }

    /// Expands links into copies, depth first from the root.
    fn materialize(raw: &BTreeMap<String, Raw>) -> Result<Artifact, Error> {
        let mut children: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
        for path in raw.keys().filter(|p| !p.is_empty()) {
            let (parent, name) = split_parent(path);
            children.entry(parent).or_default().push((name, path));
        }
        let mut out = Artifact::default();
        out.dirs.insert(String::new());
        let mut stack = vec![String::new()];
        expand(raw, &children, "", "", &mut stack, &mut out)?;
        Ok(out)
    }

    /// The content of file `path`.
    pub fn file(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(|c| &c[..])
    }

    pub fn is_file(&self, path: &str) -> bool {
        self.files.contains_key(path)
    }

    /// Whether `path` is a directory (`""` is the root).
    pub fn is_dir(&self, path: &str) -> bool {
        self.dirs.contains(path)
    }

    /// Every file, by path.
    pub fn files(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.files.iter().map(|(p, c)| (p.as_str(), &c[..]))
    }

    /// The entries directly in directory `dir`, sorted by name (byte order, as Go lists a
    /// directory): `(name, is_dir)`.
    pub fn children(&self, dir: &str) -> Vec<(&str, bool)> {
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        fn direct<'a>(p: &'a str, prefix: &str) -> Option<&'a str> {
            p.strip_prefix(prefix)
                .filter(|rest| !rest.is_empty() && !rest.contains('/'))
        }
        let mut out: Vec<(&str, bool)> = self
            .files
            .range(prefix.clone()..)
            .take_while(|(p, _)| p.starts_with(prefix.as_str()))
            .filter_map(|(p, _)| direct(p, &prefix).map(|n| (n, false)))
            .chain(
                self.dirs
                    .range(prefix.clone()..)
                    .take_while(|p| p.starts_with(prefix.as_str()))
                    .filter_map(|p| direct(p, &prefix).map(|n| (n, true))),
            )
            .collect();
        out.sort_unstable();
        out
    }
}

/// Checks a tar entry name and returns its normalized relative path.
fn entry_path(name: &str) -> Result<String, Error> {
    let refuse = |reason: &str| Error::Entry {
        entry: name.to_owned(),
        reason: reason.to_owned(),
    };
    if name.starts_with('/') {
        return Err(refuse("absolute path"));
    }
    if name.contains('\\') {
        return Err(refuse("backslash in path"));
    }
    let mut parts = Vec::new();
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(refuse("path leaves the artifact root ('..')")),
            p => parts.push(p),
        }
    }
    Ok(parts.join("/"))
}

/// A symbolic link must point inside the artifact.
fn check_link(name: &str, path: &str, target: &str) -> Result<(), Error> {
    let refuse = |reason: String| Error::Entry {
        entry: name.to_owned(),
        reason,
    };
    if target.is_empty() {
        return Err(refuse("symlink without a target".into()));
    }
    if target.starts_with('/') {
        return Err(refuse(format!(
            "symlink to absolute path {target:?} leaves the artifact root"
        )));
    }
    let (parent, _) = split_parent(path);
    let mut depth = parent.split('/').filter(|p| !p.is_empty()).count();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." if depth == 0 => {
                return Err(refuse(format!(
                    "symlink to {target:?} leaves the artifact root"
                )));
            }
            ".." => depth -= 1,
            _ => depth += 1,
        }
    }
    Ok(())
}

/// Records an entry; its parent directories exist implicitly. A later entry replaces an
/// earlier one of the same path, as extracting the archive would.
fn insert(
    raw: &mut BTreeMap<String, Raw>,
    name: &str,
    path: String,
    value: Raw,
) -> Result<(), Error> {
    let mut parent = split_parent(&path).0;
    loop {
        match raw.get(parent) {
            Some(Raw::Dir) => {}
            Some(_) => {
                return Err(Error::Entry {
                    entry: name.to_owned(),
                    reason: format!("{parent:?} is a file or symlink, not a directory"),
                });
            }
            None => {
                raw.insert(parent.to_owned(), Raw::Dir);
            }
        }
        if parent.is_empty() {
            break;
        }
        parent = split_parent(parent).0;
    }
    if let (Raw::Dir, Some(Raw::Dir)) = (&value, raw.get(&path)) {
        return Ok(());
    }
    raw.insert(path, value);
    Ok(())
}

fn split_parent(path: &str) -> (&str, &str) {
    match path.rfind('/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => ("", path),
    }
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

/// Copies directory `real` (links resolved) to `virtual_dir` in `out`.
fn expand(
    raw: &BTreeMap<String, Raw>,
    children: &BTreeMap<&str, Vec<(&str, &str)>>,
    real: &str,
    virtual_dir: &str,
    stack: &mut Vec<String>,
    out: &mut Artifact,
) -> Result<(), Error> {
    let Some(entries) = children.get(real) else {
        return Ok(());
    };
    for (name, real_child) in entries {
        if out.files.len() + out.dirs.len() > MAX_ENTRIES {
            return Err(Error::Entry {
                entry: (*real_child).to_owned(),
                reason: format!("more than {MAX_ENTRIES} entries once symlinks are followed"),
            });
        }
        let virtual_child = join(virtual_dir, name);
        let (target, resolved) = match raw.get(*real_child) {
            Some(Raw::Link(_)) => match resolve(raw, real_child)? {
                Some(found) => found,
                None => continue, // dangling: nothing to copy
            },
            Some(other) => ((*real_child).to_owned(), other.clone()),
            None => continue,
        };
        match resolved {
            Raw::File(content) => {
                out.files.insert(virtual_child, content);
            }
            Raw::Dir => {
                if stack.contains(&target) {
                    return Err(Error::Entry {
                        entry: (*real_child).to_owned(),
                        reason: format!("symlink cycle through {target:?}"),
                    });
                }
                out.dirs.insert(virtual_child.clone());
                stack.push(target.clone());
                expand(raw, children, &target, &virtual_child, stack, out)?;
                stack.pop();
            }
            Raw::Link(_) => {}
        }
    }
    Ok(())
}

/// Follows the links in every component of `path` to a file or directory; `None` when it
/// dangles.
fn resolve(raw: &BTreeMap<String, Raw>, path: &str) -> Result<Option<(String, Raw)>, Error> {
    let mut pending: Vec<String> = path.split('/').rev().map(str::to_owned).collect();
    let mut current: Vec<String> = Vec::new();
    let mut hops = 0;
    while let Some(part) = pending.pop() {
        match part.as_str() {
            "" | "." => continue,
            ".." => {
                if current.pop().is_none() {
                    return Err(Error::Entry {
                        entry: path.to_owned(),
                        reason: "symlink leaves the artifact root".into(),
                    });
                }
                continue;
            }
            _ => {}
        }
        let candidate = join(&current.join("/"), &part);
        match raw.get(&candidate) {
            None => return Ok(None),
            Some(Raw::Link(target)) => {
                hops += 1;
                if hops > MAX_LINK_HOPS {
                    return Err(Error::Entry {
                        entry: path.to_owned(),
                        reason: "too many levels of symbolic links".into(),
                    });
                }
                pending.extend(target.split('/').rev().map(str::to_owned));
            }
            Some(Raw::File(_)) if !pending.iter().all(|p| p.is_empty() || p == ".") => {
                return Ok(None);
            }
            Some(_) => current.push(part),
        }
    }
    let found = current.join("/");
    Ok(raw.get(&found).cloned().map(|kind| (found, kind)))
}

/// The artifact as a kustomize file system rooted at `/`, with files replaced or added by
/// the build (the rewritten kustomization) laid over it.
pub(crate) struct BuildFs {
    pub artifact: Arc<Artifact>,
    pub overlay: BTreeMap<String, Vec<u8>>,
}

impl BuildFs {
    fn relative(path: &Path) -> Option<String> {
        let normalized = tether_kustomize::fs::normalize(path);
        let text = normalized.to_str()?;
        Some(text.trim_start_matches('/').to_owned())
    }
}

impl tether_kustomize::FileSystem for BuildFs {
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        let not_found =
            || std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or directory");
        let rel = BuildFs::relative(path).ok_or_else(not_found)?;
        if let Some(content) = self.overlay.get(&rel) {
            return Ok(content.clone());
        }
        match self.artifact.file(&rel) {
            Some(content) => Ok(content.to_vec()),
            None if self.artifact.is_dir(&rel) => Err(std::io::Error::other("is a directory")),
            None => Err(not_found()),
        }
    }

    fn is_dir(&self, path: &Path) -> bool {
        BuildFs::relative(path).is_some_and(|rel| self.artifact.is_dir(&rel))
    }

    fn exists(&self, path: &Path) -> bool {
        BuildFs::relative(path).is_some_and(|rel| {
            self.overlay.contains_key(&rel)
                || self.artifact.is_file(&rel)
                || self.artifact.is_dir(&rel)
        })
    }

    fn canonicalize(&self, path: &Path) -> std::io::Result<std::path::PathBuf> {
        if self.exists(path) {
            Ok(tether_kustomize::fs::normalize(path))
        } else {
            Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no such file or directory",
            ))
        }
    }
}
