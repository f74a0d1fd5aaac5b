//! Apply conflicts, printed as smd prints them.

use std::fmt;

use crate::fieldpath::{Path, Set};

/// A field another manager owns that a non-forced apply would change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    pub manager: String,
    /// The API version of the conflicting manager's field set (kube-apiserver says
    /// `conflict with "kubectl" using apps/v1`).
    pub api_version: String,
    pub path: Path,
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "conflict with {:?}: {}", self.manager, self.path)
    }
}

/// Every conflict of an apply, sorted by manager, then by path in set order.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct Conflicts(pub Vec<Conflict>);

impl Conflicts {
    pub(crate) fn from_sets<'a>(
        sets: impl IntoIterator<Item = (&'a str, &'a str, &'a Set)>,
    ) -> Self {
        let mut sets: Vec<_> = sets.into_iter().collect();
        sets.sort_by(|a, b| a.0.cmp(b.0));
        let mut out = Vec::new();
        for (manager, api_version, set) in sets {
            for path in set.paths() {
                out.push(Conflict {
                    manager: manager.to_owned(),
                    api_version: api_version.to_owned(),
                    path,
                });
            }
        }
        Conflicts(out)
    }
}

impl fmt::Display for Conflicts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let [one] = self.0.as_slice() {
            return write!(f, "{one}");
        }
        let mut last: Option<&str> = None;
        let mut first = true;
        for c in &self.0 {
            if last != Some(c.manager.as_str()) {
                if !first {
                    f.write_str("\n")?;
                }
                write!(f, "conflicts with {:?}:", c.manager)?;
                last = Some(&c.manager);
            }
            first = false;
            write!(f, "\n- {}", c.path)?;
        }
        Ok(())
    }
}
