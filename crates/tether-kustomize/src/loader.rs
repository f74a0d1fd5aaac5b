//! Loading files relative to a kustomization root, with kustomize's load restrictor and its
//! cycle check between roots.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::fs::{FileSystem, normalize};

/// Where a kustomization may read files from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LoadRestrictor {
    /// Only files in or below the kustomization's directory (kustomize's default).
    #[default]
    RootOnly,
    /// Anywhere.
    None,
}

impl std::str::FromStr for LoadRestrictor {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "LoadRestrictionsRootOnly" | "rootOnly" => Ok(LoadRestrictor::RootOnly),
            "LoadRestrictionsNone" | "none" => Ok(LoadRestrictor::None),
            other => Err(format!(
                "illegal flag value --load-restrictor {other}; legal values: [LoadRestrictionsNone LoadRestrictionsRootOnly]"
            )),
        }
    }
}

/// Reads files for one kustomization root.
#[derive(Clone)]
pub struct Loader {
    fs: Arc<dyn FileSystem>,
    root: PathBuf,
    restrictor: LoadRestrictor,
    /// The roots that led here, outermost first (for cycle detection).
    referrers: Vec<PathBuf>,
}

impl std::fmt::Debug for Loader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loader").field("root", &self.root).finish()
    }
}

impl Loader {
    /// A loader for the top kustomization directory `root`.
    pub fn new(fs: Arc<dyn FileSystem>, root: &Path, restrictor: LoadRestrictor) -> Result<Loader> {
        let root = confirm_dir(fs.as_ref(), root)?;
        Ok(Loader {
            fs,
            root,
            restrictor,
            referrers: Vec::new(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn restrictor(&self) -> LoadRestrictor {
        self.restrictor
    }

    pub fn fs(&self) -> &dyn FileSystem {
        self.fs.as_ref()
    }

    fn absolute(&self, path: &str) -> PathBuf {
        normalize(&self.root.join(path))
    }

    /// Reads a file; under [`LoadRestrictor::RootOnly`] it must resolve in or below the root.
    pub fn load(&self, path: &str) -> Result<Vec<u8>> {
        let abs = self.absolute(path);
        if self.fs.is_dir(&abs) {
            return Err(Error::msg(format!(
                "'{}' must resolve to a file",
                abs.display()
            )));
        }
        if self.restrictor == LoadRestrictor::RootOnly {
            let real = self.fs.canonicalize(&abs).map_err(|e| Error::Io {
                path: abs.display().to_string(),
                message: e.to_string(),
            })?;
            if !real.starts_with(&self.root) {
                return Err(Error::OutsideRoot {
                    path: abs.display().to_string(),
                    root: self.root.display().to_string(),
                });
            }
        }
        self.fs.read(&abs).map_err(|e| Error::Io {
            path: abs.display().to_string(),
            message: e.to_string(),
        })
    }

    /// A loader for the directory `path` (a base, overlay or component), refusing cycles.
    pub fn child(&self, path: &str) -> Result<Loader> {
        let root = confirm_dir(self.fs.as_ref(), &self.absolute(path))?;
        let mut referrers = self.referrers.clone();
        referrers.push(self.root.clone());
        for visited in &referrers {
            if visited.starts_with(&root) {
                return Err(Error::msg(format!(
                    "cycle detected: candidate root '{}' contains visited root '{}'",
                    root.display(),
                    visited.display()
                )));
            }
        }
        Ok(Loader {
            fs: self.fs.clone(),
            root,
            restrictor: self.restrictor,
            referrers,
        })
    }
}

fn confirm_dir(fs: &dyn FileSystem, path: &Path) -> Result<PathBuf> {
    let real = fs.canonicalize(path).map_err(|e| {
        Error::msg(format!(
            "must build at directory: not a valid directory: evalsymlink failure on '{}' : {e}",
            path.display()
        ))
    })?;
    if !fs.is_dir(&real) {
        return Err(Error::msg(format!(
            "must build at directory: '{}'",
            path.display()
        )));
    }
    Ok(real)
}
