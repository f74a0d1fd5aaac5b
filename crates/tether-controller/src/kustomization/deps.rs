//! `spec.dependsOn`: a Kustomization waits until each dependency is Ready at its latest
//! generation and, when both follow the same source, has applied the revision this one is about
//! to apply (kustomize-controller's `checkDependencies`).

use tether_api::{Kustomization, conditions};

/// Why a dependency holds this Kustomization back; the text is Flux's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DependencyError {
    #[error("dependency '{0}' not found")]
    NotFound(String),
    #[error("dependency '{0}' is not ready")]
    NotReady(String),
    #[error("dependency '{0}' revision is not up to date")]
    RevisionNotUpToDate(String),
}

/// `namespace/name` of each dependency (the Kustomization's namespace when none is given).
pub fn dependency_keys(ks: &Kustomization) -> Vec<(String, String)> {
    let own = ks.metadata.namespace.clone().unwrap_or_default();
    ks.spec
        .depends_on
        .iter()
        .map(|d| {
            let ns = d
                .namespace
                .clone()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| own.clone());
            (ns, d.name.clone())
        })
        .collect()
}

fn same_source(a: &Kustomization, b: &Kustomization) -> bool {
    a.spec.source_ref.kind == b.spec.source_ref.kind
        && a.spec.source_ref.name == b.spec.source_ref.name
        && a.source_namespace() == b.source_namespace()
}

/// Checks every dependency; `lookup` finds a Kustomization by namespace and name, and
/// `source_revision` is the revision of the artifact `ks` is about to apply.
pub fn check(
    ks: &Kustomization,
    source_revision: &str,
    lookup: impl Fn(&str, &str) -> Option<Kustomization>,
) -> Result<(), DependencyError> {
    for (ns, name) in dependency_keys(ks) {
        let key = format!("{ns}/{name}");
        let dep = lookup(&ns, &name).ok_or_else(|| DependencyError::NotFound(key.clone()))?;
        let observed = dep.status.as_ref().map(|s| s.observed_generation);
        let generation = dep.metadata.generation;
        if dep.conditions().is_empty()
            || observed != generation.or(Some(0))
            || !conditions::is_ready(dep.conditions())
        {
            return Err(DependencyError::NotReady(key));
        }
        let applied = dep
            .status
            .as_ref()
            .and_then(|s| s.last_applied_revision.as_deref())
            .unwrap_or("");
        if same_source(ks, &dep) && !tether_api::same_revision(source_revision, applied) {
            return Err(DependencyError::RevisionNotUpToDate(key));
        }
    }
    Ok(())
}
