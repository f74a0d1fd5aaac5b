//! Which kinds are certainly cluster-scoped, as kustomize decides it: by exact apiVersion and
//! kind in its built-in OpenAPI data. Unknown kinds (custom resources) count as namespaced.

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::resource::Gvk;

/// Cluster-scoped kinds of API versions that kustomize's embedded (Kubernetes 1.21) schema
/// still knows but that swagger 1.36 no longer serves.
const REMOVED_CLUSTER_SCOPED: &[(&str, &str, &str)] = &[
    (
        "apiextensions.k8s.io",
        "v1beta1",
        "CustomResourceDefinition",
    ),
    (
        "admissionregistration.k8s.io",
        "v1beta1",
        "MutatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io",
        "v1beta1",
        "ValidatingWebhookConfiguration",
    ),
    ("apiregistration.k8s.io", "v1beta1", "APIService"),
    (
        "certificates.k8s.io",
        "v1beta1",
        "CertificateSigningRequest",
    ),
    ("extensions", "v1beta1", "PodSecurityPolicy"),
    ("flowcontrol.apiserver.k8s.io", "v1alpha1", "FlowSchema"),
    (
        "flowcontrol.apiserver.k8s.io",
        "v1alpha1",
        "PriorityLevelConfiguration",
    ),
    ("flowcontrol.apiserver.k8s.io", "v1beta1", "FlowSchema"),
    (
        "flowcontrol.apiserver.k8s.io",
        "v1beta1",
        "PriorityLevelConfiguration",
    ),
    ("networking.k8s.io", "v1beta1", "IngressClass"),
    ("node.k8s.io", "v1alpha1", "RuntimeClass"),
    ("node.k8s.io", "v1beta1", "RuntimeClass"),
    ("policy", "v1beta1", "PodSecurityPolicy"),
    ("rbac.authorization.k8s.io", "v1alpha1", "ClusterRole"),
    (
        "rbac.authorization.k8s.io",
        "v1alpha1",
        "ClusterRoleBinding",
    ),
    ("rbac.authorization.k8s.io", "v1beta1", "ClusterRole"),
    ("rbac.authorization.k8s.io", "v1beta1", "ClusterRoleBinding"),
    ("scheduling.k8s.io", "v1alpha1", "PriorityClass"),
    ("scheduling.k8s.io", "v1beta1", "PriorityClass"),
    ("storage.k8s.io", "v1alpha1", "VolumeAttachment"),
    ("storage.k8s.io", "v1beta1", "CSIDriver"),
    ("storage.k8s.io", "v1beta1", "CSINode"),
    ("storage.k8s.io", "v1beta1", "StorageClass"),
    ("storage.k8s.io", "v1beta1", "VolumeAttachment"),
];

/// Kind → the (group, version) pairs in which it is cluster-scoped.
static CLUSTER_SCOPED: LazyLock<HashMap<String, Vec<(String, String)>>> = LazyLock::new(|| {
    let mut map: HashMap<String, Vec<(String, String)>> = HashMap::new();
    let builtin = tether_schema::builtin_resources()
        .iter()
        .filter(|r| !r.namespaced)
        .map(|r| (r.group.as_str(), r.version.as_str(), r.kind.as_str()));
    for (g, v, k) in builtin.chain(REMOVED_CLUSTER_SCOPED.iter().copied()) {
        map.entry(k.to_owned())
            .or_default()
            .push((g.to_owned(), v.to_owned()));
    }
    map
});

pub fn is_cluster_scoped(gvk: &Gvk) -> bool {
    CLUSTER_SCOPED.get(&gvk.kind).is_some_and(|gvs| {
        gvs.iter()
            .any(|(g, v)| *g == gvk.group && *v == gvk.version)
    })
}
