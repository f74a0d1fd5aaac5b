//! Label and annotation keys, finalizer and field manager names Flux's controllers use, so a
//! cluster can move between Flux and tether without re-creating objects.

/// Label naming the Kustomization that applied an object.
pub const OWNER_NAME_LABEL: &str = "kustomize.toolkit.fluxcd.io/name";
/// Label naming that Kustomization's namespace.
pub const OWNER_NAMESPACE_LABEL: &str = "kustomize.toolkit.fluxcd.io/namespace";

/// Annotation whose new value asks for a reconciliation now.
pub const RECONCILE_REQUESTED_AT_ANNOTATION: &str = "reconcile.fluxcd.io/requestedAt";
/// Label or annotation on a ConfigMap or Secret: reconcile its users when it changes.
pub const WATCH_LABEL: &str = "reconcile.fluxcd.io/watch";

/// Label or annotation choosing how an object is applied: [`SSA_OVERRIDE`] (default),
/// [`SSA_MERGE`], [`SSA_IF_NOT_PRESENT`], [`SSA_IGNORE`].
pub const SSA_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/ssa";
/// Label or annotation: [`DISABLED_VALUE`] keeps the object out of pruning.
pub const PRUNE_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/prune";
/// Label or annotation: [`ENABLED_VALUE`] recreates the object on immutable-field changes.
pub const FORCE_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/force";
/// Label or annotation: [`DISABLED_VALUE`] skips post-build substitution for the object.
pub const SUBSTITUTE_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/substitute";
/// Label or annotation: [`DISABLED_VALUE`] stops applying and pruning the object.
pub const RECONCILE_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/reconcile";
/// Annotation: [`DISABLED_VALUE`] leaves the object encrypted.
pub const DECRYPT_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/decrypt";

pub const ENABLED_VALUE: &str = "enabled";
pub const DISABLED_VALUE: &str = "disabled";
pub const SSA_OVERRIDE: &str = "override";
pub const SSA_MERGE: &str = "merge";
pub const SSA_IF_NOT_PRESENT: &str = "ifnotpresent";
pub const SSA_IGNORE: &str = "ignore";

/// Annotation tether's Kustomization controller writes on each object it creates or changes:
/// the source revision it applied (`main@sha1:<sha>`). Objects a revision leaves unchanged are
/// not written, so it names the revision that last changed the object (`tether trace` prints it;
/// see `docs/trace.md`). Not compared when deciding whether an object changed.
pub const LAST_CHANGED_REVISION_ANNOTATION: &str = "tether.dev/last-changed-revision";

/// The finalizer on GitRepositories and Kustomizations.
pub const FINALIZER: &str = "finalizers.fluxcd.io";

/// Field manager of the Kustomization reconciler's server-side applies.
pub const KUSTOMIZE_FIELD_MANAGER: &str = "kustomize-controller";
/// Field manager of the source reconciler.
pub const SOURCE_FIELD_MANAGER: &str = "source-controller";

/// Whether a label or annotation value means `expected` (Flux compares case-insensitively:
/// `Disabled` and `disabled` are the same).
pub fn value_is(actual: &str, expected: &str) -> bool {
    actual.eq_ignore_ascii_case(expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_compare_without_case() {
        assert!(value_is("Disabled", DISABLED_VALUE));
        assert!(value_is("IfNotPresent", SSA_IF_NOT_PRESENT));
        assert!(!value_is("disable", DISABLED_VALUE));
    }
}
