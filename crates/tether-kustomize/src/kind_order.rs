//! kustomize's fixed kind order (kyaml's `Gvk.IsLessThan`, the legacy output order, the order
//! of field specs): kinds it installs first, every other kind, then webhooks.

/// Kinds ordered first, in this order.
pub const ORDER_FIRST: &[&str] = &[
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
];

/// Kinds ordered last, in this order.
pub const ORDER_LAST: &[&str] = &[
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// A kind's rank under `first`/`last` lists: negative for the first ones, 0 for any other kind,
/// positive for the last ones (kustomize's `typeOrders`).
pub fn rank_in(kind: &str, first: &[&str], last: &[&str]) -> i64 {
    if let Some(i) = first.iter().position(|k| *k == kind) {
        return i as i64 - first.len() as i64;
    }
    if let Some(i) = last.iter().position(|k| *k == kind) {
        return i as i64 + 1;
    }
    0
}

/// A kind's rank under the default lists.
pub fn rank(kind: &str) -> i64 {
    rank_in(kind, ORDER_FIRST, ORDER_LAST)
}
