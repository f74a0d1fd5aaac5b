//! The artifact store: a directory laid out as source-controller's
//! (`gitrepository/<namespace>/<name>/<commit>.tar.gz`).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::ArtifactError;
use crate::fetch::Checkout;
use crate::include::IncludedFiles;
use crate::pack;

/// The kind segment of artifact paths and URLs.
pub const KIND: &str = "gitrepository";

/// What `status.artifact` holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// Relative to the store: `gitrepository/<namespace>/<name>/<commit>.tar.gz`.
    pub path: String,
    /// `http://<advertised host>/<path>`.
    pub url: String,
    /// `main@sha1:<commit>` and the like.
    pub revision: String,
    /// `sha256:<hex>` of the `.tar.gz` bytes.
    pub digest: String,
    /// Size of the `.tar.gz` in bytes.
    pub size: u64,
    pub last_update_time: jiff::Timestamp,
}

/// A directory of artifacts. Writers write a temporary file beside the target and rename it
/// into place, so readers (the HTTP server, other processes) never see a partial artifact and
/// need no lock.
#[derive(Debug, Clone)]
pub struct ArtifactStore {
    root: PathBuf,
    advertised_host: String,
}

/// A path segment from a Kubernetes name: non-empty, no `/`, not `.` or `..`.
fn segment<'a>(what: &str, value: &'a str) -> Result<&'a str, ArtifactError> {
    if value.is_empty() || value.contains('/') || value.contains('\\') || value.starts_with('.') {
        return Err(ArtifactError::BadPath(format!("{what} '{value}'")));
    }
    Ok(value)
}

impl ArtifactStore {
    /// A store in `root` (created if missing) whose URLs name `advertised_host` (`host:port`),
    /// as source-controller's `--storage-adv-addr`.
    pub fn new(
        root: impl Into<PathBuf>,
        advertised_host: impl Into<String>,
    ) -> Result<Self, ArtifactError> {
        let root = root.into();
        std::fs::create_dir_all(&root).map_err(|e| ArtifactError::io("creating", &root, e))?;
        Ok(ArtifactStore {
            root,
            advertised_host: advertised_host.into(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn advertised_host(&self) -> &str {
        &self.advertised_host
    }

    /// `gitrepository/<namespace>/<name>`: the directory of one object's artifacts.
    pub fn object_dir(&self, namespace: &str, name: &str) -> Result<String, ArtifactError> {
        Ok(format!(
            "{KIND}/{}/{}",
            segment("namespace", namespace)?,
            segment("name", name)?
        ))
    }

    /// `gitrepository/<namespace>/<name>/<commit>.tar.gz`.
    pub fn artifact_path(
        &self,
        namespace: &str,
        name: &str,
        commit: &str,
    ) -> Result<String, ArtifactError> {
        Ok(format!(
            "{}/{}.tar.gz",
            self.object_dir(namespace, name)?,
            segment("commit", commit)?
        ))
    }

    /// `http://<advertised host>/<path>`.
    pub fn url_for(&self, path: &str) -> String {
        format!("http://{}/{}", self.advertised_host, path)
    }

    /// The file of a relative artifact path; `..`, absolute paths and hidden names are refused.
    pub fn local_path(&self, path: &str) -> Result<PathBuf, ArtifactError> {
        let mut out = self.root.clone();
        for part in path.split('/') {
            if part.is_empty() || part == "." || part == ".." || part.starts_with('.') {
                return Err(ArtifactError::BadPath(path.to_owned()));
            }
            out.push(part);
        }
        Ok(out)
    }

    /// Whether the artifact's file is still there (the controller re-packs when it is not).
    pub fn exists(&self, artifact: &Artifact) -> bool {
        self.local_path(&artifact.path)
            .ok()
            .and_then(|p| std::fs::symlink_metadata(p).ok())
            .is_some_and(|m| m.is_file())
    }

    /// Packs `checkout` (minus ignored files) into the store, atomically. Runs on a blocking
    /// thread.
    pub async fn archive(
        &self,
        namespace: &str,
        name: &str,
        checkout: &Checkout,
        spec_ignore: Option<&str>,
    ) -> Result<Artifact, ArtifactError> {
        self.archive_with_includes(namespace, name, checkout, spec_ignore, Vec::new())
            .await
    }

    /// [`archive`](Self::archive) with other artifacts' files placed in it (GitRepository
    /// `include`).
    pub async fn archive_with_includes(
        &self,
        namespace: &str,
        name: &str,
        checkout: &Checkout,
        spec_ignore: Option<&str>,
        includes: Vec<IncludedFiles>,
    ) -> Result<Artifact, ArtifactError> {
        let store = self.clone();
        let namespace = namespace.to_owned();
        let name = name.to_owned();
        let repo = checkout.repo.clone();
        let tree = checkout.tree;
        let commit = checkout.commit.to_string();
        let revision = checkout.revision.clone();
        let ignore = spec_ignore.map(str::to_owned);
        let submodules = checkout.submodule_trees();
        tokio::task::spawn_blocking(move || {
            let mut includes = includes;
            includes.splice(0..0, crate::submodule::files(&submodules)?);
            store.archive_tree(
                &namespace,
                &name,
                &repo.to_thread_local(),
                tree,
                &commit,
                &revision,
                ignore.as_deref(),
                includes,
            )
        })
        .await
        .map_err(|e| ArtifactError::Task(e.to_string()))?
    }

    /// The blocking half of [`archive`](Self::archive).
    pub fn archive_blocking(
        &self,
        namespace: &str,
        name: &str,
        checkout: &Checkout,
        spec_ignore: Option<&str>,
    ) -> Result<Artifact, ArtifactError> {
        self.archive_tree(
            namespace,
            name,
            &checkout.repo.to_thread_local(),
            checkout.tree,
            &checkout.commit.to_string(),
            &checkout.revision,
            spec_ignore,
            crate::submodule::files(&checkout.submodule_trees())?,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn archive_tree(
        &self,
        namespace: &str,
        name: &str,
        repo: &gix::Repository,
        tree: gix::ObjectId,
        commit: &str,
        revision: &str,
        spec_ignore: Option<&str>,
        includes: Vec<IncludedFiles>,
    ) -> Result<Artifact, ArtifactError> {
        let path = self.artifact_path(namespace, name, commit)?;
        let target = self.local_path(&path)?;
        let dir = target
            .parent()
            .ok_or_else(|| ArtifactError::BadPath(path.clone()))?
            .to_owned();
        std::fs::create_dir_all(&dir).map_err(|e| ArtifactError::io("creating", &dir, e))?;
        // A hidden name: never served, never collected as an artifact.
        let tmp = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempfile_in(&dir)
            .map_err(|e| ArtifactError::io("creating a temporary file in", &dir, e))?;
        let file = std::io::BufWriter::new(
            tmp.as_file()
                .try_clone()
                .map_err(|e| ArtifactError::io("opening", tmp.path(), e))?,
        );
        let packed =
            pack::pack_tree(repo, tree, spec_ignore, includes, file).map_err(|e| match e {
                // The packer writes to a stream; name the file here.
                ArtifactError::Io { what, path, source } if path.as_os_str().is_empty() => {
                    ArtifactError::Io {
                        what,
                        path: target.clone(),
                        source,
                    }
                }
                other => other,
            })?;
        tmp.as_file()
            .sync_all()
            .map_err(|e| ArtifactError::io("syncing", tmp.path(), e))?;
        tmp.persist(&target)
            .map_err(|e| ArtifactError::io("renaming into place", &target, e.error))?;
        Ok(Artifact {
            url: self.url_for(&path),
            path,
            revision: revision.to_owned(),
            digest: packed.digest,
            size: packed.size,
            last_update_time: jiff::Timestamp::now(),
        })
    }

    /// Deletes all but the `keep` newest artifacts of one object (by modification time), never
    /// the one at `current` (the artifact in status). Returns the deleted files. As
    /// source-controller's `--artifact-retention-records` (default 2).
    pub fn garbage_collect(
        &self,
        namespace: &str,
        name: &str,
        keep: usize,
        current: Option<&str>,
    ) -> Result<Vec<PathBuf>, ArtifactError> {
        let dir = self.local_path(&self.object_dir(namespace, name)?)?;
        let current = current.and_then(|p| self.local_path(p).ok());
        let mut files: Vec<(SystemTime, PathBuf)> = Vec::new();
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(ArtifactError::io("listing", &dir, e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| ArtifactError::io("listing", &dir, e))?;
            let path = entry.path();
            let is_artifact = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(".tar.gz") && !n.starts_with('.'));
            let meta = entry
                .metadata()
                .map_err(|e| ArtifactError::io("reading", &path, e))?;
            if !is_artifact || !meta.is_file() {
                continue;
            }
            let mtime = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            files.push((mtime, path));
        }
        files.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| b.1.cmp(&a.1)));
        let mut deleted = Vec::new();
        for (_, path) in files.into_iter().skip(keep) {
            if Some(&path) == current.as_ref() {
                continue;
            }
            std::fs::remove_file(&path).map_err(|e| ArtifactError::io("deleting", &path, e))?;
            deleted.push(path);
        }
        Ok(deleted)
    }

    /// Deletes every artifact of one object (the GitRepository is gone); returns how many files
    /// went.
    pub fn remove_all(&self, namespace: &str, name: &str) -> Result<usize, ArtifactError> {
        let dir = self.local_path(&self.object_dir(namespace, name)?)?;
        let count = match std::fs::read_dir(&dir) {
            Ok(entries) => entries.count(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(ArtifactError::io("listing", &dir, e)),
        };
        std::fs::remove_dir_all(&dir).map_err(|e| ArtifactError::io("deleting", &dir, e))?;
        Ok(count)
    }
}
