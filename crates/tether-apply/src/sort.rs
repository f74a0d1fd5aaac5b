//! Flux's apply order and stages (`ssa.ReconcileOrder`, `SortableUnstructureds` and
//! `ApplyAllStaged` of fluxcd/pkg ssa v0.77).
//!
//! Objects are ordered by the rank of their kind (the listed kinds first, in list order; the
//! webhook configurations last; every other kind in between with rank 0), then by group, kind,
//! namespace and name, so the order does not depend on the input's.

use std::cmp::Ordering;

use crate::object::ObjectRef;

/// Kinds applied first, in this order.
const FIRST: &[&str] = &[
    "CustomResourceDefinition",
    "Namespace",
    "ClusterRole",
    "ClusterClass",
    "RuntimeClass",
    "PriorityClass",
    "StorageClass",
    "VolumeSnapshotClass",
    "IngressClass",
    "GatewayClass",
    "ClusterRoleBinding",
    "ResourceQuota",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "ConfigMap",
    "Secret",
    "Service",
    "LimitRange",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
];

/// Kinds applied last, in this order (a webhook must not block the objects it guards).
const LAST: &[&str] = &[
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// The rank of a kind: negative for the kinds applied first (in their order), positive for the
/// webhook configurations applied last, 0 otherwise.
pub fn kind_rank(kind: &str) -> i32 {
    let len = |l: &[&str]| i32::try_from(l.len()).unwrap_or(i32::MAX);
    if let Some(i) = FIRST.iter().position(|k| *k == kind) {
        return i32::try_from(i).unwrap_or(0) - len(FIRST);
    }
    if let Some(i) = LAST.iter().position(|k| *k == kind) {
        return i32::try_from(i).unwrap_or(0) + 1;
    }
    0
}

/// Flux's `less`: kind rank, group, kind, namespace, name.
pub fn compare(a: &ObjectRef, b: &ObjectRef) -> Ordering {
    kind_rank(&a.kind)
        .cmp(&kind_rank(&b.kind))
        .then_with(|| a.group.cmp(&b.group))
        .then_with(|| a.kind.cmp(&b.kind))
        .then_with(|| a.namespace.cmp(&b.namespace))
        .then_with(|| a.name.cmp(&b.name))
}

pub fn sort_objects(objects: &mut [ObjectRef]) {
    objects.sort_by(compare);
}

/// The stages of a staged apply, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// CustomResourceDefinitions, Namespaces and ClusterRoles; waited for before the next stage
    /// (CRDs Established), and discovery is refreshed after it.
    ClusterDefinitions,
    /// Every kind whose name ends in `Class` (StorageClass, IngressClass, custom classes); waited
    /// for before the next stage.
    Classes,
    /// Everything else.
    Resources,
}

impl Stage {
    pub fn of(object: &ObjectRef) -> Stage {
        let is = |group: &str, kind: &str| object.group == group && object.kind == kind;
        // Flux matches the core Namespace on apiVersion `v1` only.
        let core_namespace = is("", "Namespace") && object.version == "v1";
        if is("apiextensions.k8s.io", "CustomResourceDefinition")
            || core_namespace
            || is("rbac.authorization.k8s.io", "ClusterRole")
        {
            Stage::ClusterDefinitions
        } else if object.kind.ends_with("Class") {
            Stage::Classes
        } else {
            Stage::Resources
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Stage::ClusterDefinitions => "cluster definitions",
            Stage::Classes => "classes",
            Stage::Resources => "resources",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(api_version: &str, kind: &str, ns: &str, name: &str) -> ObjectRef {
        ObjectRef::new(api_version, kind, ns, name)
    }

    #[test]
    fn sorts_in_flux_order() {
        let mut objects = vec![
            o(
                "admissionregistration.k8s.io/v1",
                "ValidatingWebhookConfiguration",
                "",
                "v",
            ),
            o("example.com/v1", "Widget", "b", "w"),
            o("apps/v1", "Deployment", "b", "web"),
            o("v1", "Service", "b", "web"),
            o("batch/v1", "Job", "a", "j"),
            o("v1", "ConfigMap", "b", "c2"),
            o("v1", "ConfigMap", "a", "c1"),
            o("v1", "Namespace", "", "b"),
            o(
                "apiextensions.k8s.io/v1",
                "CustomResourceDefinition",
                "",
                "widgets.example.com",
            ),
            o(
                "admissionregistration.k8s.io/v1",
                "MutatingWebhookConfiguration",
                "",
                "m",
            ),
            o("rbac.authorization.k8s.io/v1", "ClusterRole", "", "r"),
        ];
        sort_objects(&mut objects);
        let got: Vec<String> = objects.iter().map(ToString::to_string).collect();
        assert_eq!(
            got,
            [
                "CustomResourceDefinition/widgets.example.com",
                "Namespace/b",
                "ClusterRole/r",
                "ConfigMap/a/c1",
                "ConfigMap/b/c2",
                "Service/b/web",
                "Deployment/b/web",
                // Rank 0 kinds: by group, then kind.
                "Job/a/j",
                "Widget/b/w",
                "MutatingWebhookConfiguration/m",
                "ValidatingWebhookConfiguration/v",
            ]
        );
    }

    #[test]
    fn stages() {
        let cases = [
            (
                o(
                    "apiextensions.k8s.io/v1",
                    "CustomResourceDefinition",
                    "",
                    "x",
                ),
                Stage::ClusterDefinitions,
            ),
            (o("v1", "Namespace", "", "x"), Stage::ClusterDefinitions),
            (
                o("rbac.authorization.k8s.io/v1", "ClusterRole", "", "x"),
                Stage::ClusterDefinitions,
            ),
            (o("example.com/v1", "Namespace", "", "x"), Stage::Resources),
            (
                o("storage.k8s.io/v1", "StorageClass", "", "x"),
                Stage::Classes,
            ),
            (
                o("karpenter.k8s.aws/v1", "EC2NodeClass", "", "x"),
                Stage::Classes,
            ),
            (
                o(
                    "rbac.authorization.k8s.io/v1",
                    "ClusterRoleBinding",
                    "",
                    "x",
                ),
                Stage::Resources,
            ),
            (o("apps/v1", "Deployment", "d", "x"), Stage::Resources),
        ];
        for (object, stage) in cases {
            assert_eq!(Stage::of(&object), stage, "{object}");
        }
    }
}
