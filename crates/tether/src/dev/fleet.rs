//! The repositories `tether dev` syncs: the example fleet embedded in the binary, published as
//! a local bare Git repository, or the user's own repository, looked at through a shallow clone.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use include_dir::{Dir, include_dir};
use serde_json::{Value, json};

/// `examples/fleet` of the source tree, so `tether dev` works from any directory.
static FLEET: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../../examples/fleet");

/// The cluster path of the example fleet that `tether dev` bootstraps.
pub const LOCAL_PATH: &str = "clusters/local";

/// Runs `git` in `dir`; its stdout, or an error with its stderr.
fn git(dir: &Path, args: &[&str]) -> anyhow::Result<String> {
    crate::git::run(dir, args, &[])
}

/// Writes every file of the embedded fleet under `root`.
pub fn write_fleet(root: &Path) -> anyhow::Result<usize> {
    fn walk(dir: &Dir<'_>, root: &Path, count: &mut usize) -> anyhow::Result<()> {
        for file in dir.files() {
            let path = root.join(file.path());
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create {}", parent.display()))?;
            }
            std::fs::write(&path, file.contents())
                .with_context(|| format!("cannot write {}", path.display()))?;
            *count += 1;
        }
        for sub in dir.dirs() {
            walk(sub, root, count)?;
        }
        Ok(())
    }
    let mut count = 0;
    walk(&FLEET, root, &mut count)?;
    Ok(count)
}

/// The `file://` URL of a local directory.
pub fn file_url(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// A bare repository at `bare` whose `main` holds the example fleet as one commit. An existing
/// repository is left as it is: it may hold the user's own pushes.
pub fn local_remote(bare: &Path) -> anyhow::Result<bool> {
    if bare.join("HEAD").is_file() {
        return Ok(false);
    }
    std::fs::create_dir_all(bare).with_context(|| format!("cannot create {}", bare.display()))?;
    git(bare, &["init", "-q", "--bare", "-b", "main"])?;
    let work = tempfile::Builder::new()
        .prefix("tether-fleet-")
        .tempdir()
        .context("cannot create a temporary directory")?;
    write_fleet(work.path())?;
    git(work.path(), &["init", "-q", "-b", "main"])?;
    git(work.path(), &["add", "-A"])?;
    git(
        work.path(),
        &[
            "-c",
            "user.name=tether",
            "-c",
            "user.email=tether@users.noreply.localhost",
            "-c",
            "commit.gpgsign=false",
            "commit",
            "-q",
            "-m",
            "The example fleet",
        ],
    )?;
    let url = file_url(bare);
    git(work.path(), &["push", "-q", &url, "HEAD:refs/heads/main"])
        .with_context(|| format!("cannot push the example fleet to {url}"))?;
    Ok(true)
}

/// A shallow clone of `branch` of `url`, to read the cluster paths and sync files from.
pub struct Clone {
    dir: tempfile::TempDir,
}

impl Clone {
    pub fn fetch(url: &str, branch: &str) -> anyhow::Result<Clone> {
        let dir = tempfile::Builder::new()
            .prefix("tether-dev-")
            .tempdir()
            .context("cannot create a temporary directory")?;
        // `--depth` needs a URL for a local repository; a plain path becomes file://.
        let url = if url.contains("://") || url.contains('@') {
            url.to_owned()
        } else {
            let path = std::fs::canonicalize(url)
                .with_context(|| format!("--repo {url}: no such repository"))?;
            file_url(&path)
        };
        git(
            dir.path(),
            &[
                "clone", "-q", "--depth", "1", "--branch", branch, "--", &url, "repo",
            ],
        )
        .with_context(|| format!("cannot clone branch '{branch}' of {url}"))?;
        Ok(Clone { dir })
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    /// Every directory under `clusters/`, as `clusters/<name>`, sorted.
    pub fn cluster_paths(&self) -> anyhow::Result<Vec<String>> {
        let clusters = self.root().join("clusters");
        let entries = std::fs::read_dir(&clusters)
            .with_context(|| "the repository has no clusters/ directory (pass --path)")?;
        let mut paths: Vec<String> = entries
            .filter_map(Result::ok)
            .filter(|e| e.path().is_dir())
            .filter_map(|e| e.file_name().to_str().map(|n| format!("clusters/{n}")))
            .collect();
        paths.sort();
        if paths.is_empty() {
            bail!("the repository's clusters/ directory is empty (pass --path)");
        }
        Ok(paths)
    }

    /// Whether `path` is a directory of the repository.
    pub fn has_dir(&self, path: &str) -> bool {
        self.root().join(path).is_dir()
    }

    /// The sync objects a bootstrap left at `path`, if any.
    pub fn sync_names(&self, path: &str) -> SyncNames {
        SyncNames::detect(&self.root().join(path))
    }
}

/// Namespace and names of the GitRepository and Kustomization that sync a cluster path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncNames {
    pub namespace: String,
    pub source: String,
    pub kustomization: String,
}

impl Default for SyncNames {
    fn default() -> Self {
        SyncNames {
            namespace: "tether-system".into(),
            source: "tether-system".into(),
            kustomization: "tether-system".into(),
        }
    }
}

impl SyncNames {
    /// The names in `<dir>/tether-system/sync.yaml` (tether's bootstrap) or
    /// `<dir>/flux-system/gotk-sync.yaml` (Flux's); tether's defaults otherwise. Syncing the path
    /// under other names would make its sync objects a second, competing copy.
    pub fn detect(dir: &Path) -> SyncNames {
        for file in ["tether-system/sync.yaml", "flux-system/gotk-sync.yaml"] {
            let Ok(text) = std::fs::read_to_string(dir.join(file)) else {
                continue;
            };
            let Ok(docs) = tether_yaml::parse_documents(&text) else {
                continue;
            };
            let find = |kind: &str| {
                docs.iter()
                    .map(|d| &d.value)
                    .find(|v| v["kind"] == kind)
                    .cloned()
            };
            let (Some(source), Some(ks)) = (find("GitRepository"), find("Kustomization")) else {
                continue;
            };
            let name = |v: &Value| v["metadata"]["name"].as_str().map(str::to_owned);
            let (Some(source_name), Some(ks_name)) = (name(&source), name(&ks)) else {
                continue;
            };
            let namespace = source["metadata"]["namespace"]
                .as_str()
                .unwrap_or("tether-system")
                .to_owned();
            return SyncNames {
                namespace,
                source: source_name,
                kustomization: ks_name,
            };
        }
        SyncNames::default()
    }

    /// The GitRepository following `branch` of `url`.
    pub fn source(&self, url: &str, branch: &str) -> Value {
        json!({
            "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
            "metadata": {"name": self.source, "namespace": self.namespace},
            "spec": {"interval": "1m", "ref": {"branch": branch}, "url": url},
        })
    }

    /// The Kustomization applying `path`. Its patches pin the sync objects the path itself
    /// holds to this repository, branch and path (no secret), so applying them does not point
    /// the cluster at the remote the repository names for real clusters.
    pub fn kustomization(&self, url: &str, branch: &str, path: &str) -> Value {
        let path = format!("./{}", path.trim_start_matches("./").trim_end_matches('/'));
        let source_patch = tether_yaml::to_yaml(&json!({
            "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
            "metadata": {"name": self.source, "namespace": self.namespace},
            "spec": {"url": url, "ref": {"branch": branch}, "secretRef": null},
        }));
        let ks_patch = tether_yaml::to_yaml(&json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": self.kustomization, "namespace": self.namespace},
            "spec": {"path": path},
        }));
        json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": self.kustomization, "namespace": self.namespace},
            "spec": {
                "interval": "10m0s",
                "path": path,
                "prune": true,
                "sourceRef": {"kind": "GitRepository", "name": self.source},
                "patches": [
                    {"patch": source_patch, "target": {"kind": "GitRepository", "name": self.source, "namespace": self.namespace}},
                    {"patch": ks_patch, "target": {"kind": "Kustomization", "name": self.kustomization, "namespace": self.namespace}},
                ],
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_fleet_has_every_cluster_and_its_sync_files() {
        for cluster in ["local", "staging", "production"] {
            for file in ["components.yaml", "sync.yaml", "kustomization.yaml"] {
                let path = format!("clusters/{cluster}/tether-system/{file}");
                assert!(FLEET.get_file(&path).is_some(), "{path} is not embedded");
            }
        }
    }

    #[test]
    fn sync_names_come_from_the_bootstrap_files() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(SyncNames::detect(dir.path()), SyncNames::default());
        std::fs::create_dir_all(dir.path().join("flux-system")).unwrap();
        std::fs::write(
            dir.path().join("flux-system/gotk-sync.yaml"),
            "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: fleet\n  namespace: flux-system\n---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: fleet-sync\n  namespace: flux-system\n",
        )
        .unwrap();
        assert_eq!(
            SyncNames::detect(dir.path()),
            SyncNames {
                namespace: "flux-system".into(),
                source: "fleet".into(),
                kustomization: "fleet-sync".into(),
            }
        );
    }
}
