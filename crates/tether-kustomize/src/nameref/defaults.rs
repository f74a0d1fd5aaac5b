//! kustomize v5.6.0's built-in name references (`nameReference` of its default transformer
//! configuration): for each referenced kind, the fields through which other kinds name it.
//!
//! Written as tables: pod-spec references are expanded over the workload kinds that embed a
//! pod template, the rest are listed one by one.

use crate::config::NameBackReferences;
use crate::fieldspec::FieldSpec;

/// A referrer: `group/version/kind` (empty parts match anything) and the field path.
type Referrer = (&'static str, &'static str, &'static str, &'static str);

/// Kinds embedding a pod spec, with the path to it. Only `Pod` pins a version (`v1`).
const POD_SPEC_HOLDERS: &[(&str, &str, &str)] = &[
    ("v1", "Pod", "spec"),
    ("", "PodTemplate", "template/spec"),
    ("", "Deployment", "spec/template/spec"),
    ("", "ReplicaSet", "spec/template/spec"),
    ("", "DaemonSet", "spec/template/spec"),
    ("", "StatefulSet", "spec/template/spec"),
    ("", "Job", "spec/template/spec"),
    ("", "CronJob", "spec/jobTemplate/spec/template/spec"),
];

/// Pod-spec fields naming a ConfigMap.
const POD_CONFIGMAP_FIELDS: &[&str] = &[
    "volumes/configMap/name",
    "containers/env/valueFrom/configMapKeyRef/name",
    "initContainers/env/valueFrom/configMapKeyRef/name",
    "containers/envFrom/configMapRef/name",
    "initContainers/envFrom/configMapRef/name",
    "volumes/projected/sources/configMap/name",
];

/// Pod-spec fields naming a Secret.
const POD_SECRET_FIELDS: &[&str] = &[
    "volumes/secret/secretName",
    "containers/env/valueFrom/secretKeyRef/name",
    "initContainers/env/valueFrom/secretKeyRef/name",
    "containers/envFrom/secretRef/name",
    "initContainers/envFrom/secretRef/name",
    "imagePullSecrets/name",
    "volumes/projected/sources/secret/name",
];

/// Kinds whose pod template names a ServiceAccount, PVC or PriorityClass (a different set:
/// ReplicationController instead of ReplicaSet and PodTemplate).
const WORKLOADS: &[(&str, &str)] = &[
    ("Pod", "spec"),
    ("StatefulSet", "spec/template/spec"),
    ("Deployment", "spec/template/spec"),
    ("ReplicationController", "spec/template/spec"),
    ("CronJob", "spec/jobTemplate/spec/template/spec"),
    ("Job", "spec/template/spec"),
    ("DaemonSet", "spec/template/spec"),
];

const RBAC: &str = "rbac.authorization.k8s.io";

const CONFIGMAP_OTHERS: &[Referrer] = &[
    ("", "", "Node", "spec/configSource/configMap"),
    ("", "", "Role", "rules/resourceNames"),
    ("", "", "ClusterRole", "rules/resourceNames"),
    (
        "",
        "",
        "Ingress",
        "metadata/annotations/nginx.ingress.kubernetes.io\\/fastcgi-params-configmap",
    ),
];

const SECRET_OTHERS: &[Referrer] = &[
    ("", "", "Ingress", "spec/tls/secretName"),
    (
        "",
        "",
        "Ingress",
        "metadata/annotations/ingress.kubernetes.io\\/auth-secret",
    ),
    (
        "",
        "",
        "Ingress",
        "metadata/annotations/nginx.ingress.kubernetes.io\\/auth-secret",
    ),
    (
        "",
        "",
        "Ingress",
        "metadata/annotations/nginx.ingress.kubernetes.io\\/auth-tls-secret",
    ),
    ("", "", "ServiceAccount", "imagePullSecrets/name"),
    ("", "", "StorageClass", "parameters/secretName"),
    ("", "", "StorageClass", "parameters/adminSecretName"),
    ("", "", "StorageClass", "parameters/userSecretName"),
    ("", "", "StorageClass", "parameters/secretRef"),
    ("", "", "Role", "rules/resourceNames"),
    ("", "", "ClusterRole", "rules/resourceNames"),
    (
        "serving.knative.dev",
        "v1",
        "Service",
        "spec/template/spec/containers/env/valueFrom/secretKeyRef/name",
    ),
    ("", "", "PersistentVolume", "spec/azureFile/secretName"),
];

const SERVICE_REFERRERS: &[Referrer] = &[
    ("apps", "", "StatefulSet", "spec/serviceName"),
    (
        "",
        "",
        "Ingress",
        "spec/rules/http/paths/backend/serviceName",
    ),
    ("", "", "Ingress", "spec/backend/serviceName"),
    (
        "",
        "",
        "Ingress",
        "spec/rules/http/paths/backend/service/name",
    ),
    ("", "", "Ingress", "spec/defaultBackend/service/name"),
    (
        "apiregistration.k8s.io",
        "",
        "APIService",
        "spec/service/name",
    ),
    (
        "admissionregistration.k8s.io",
        "",
        "ValidatingWebhookConfiguration",
        "webhooks/clientConfig/service",
    ),
    (
        "admissionregistration.k8s.io",
        "",
        "MutatingWebhookConfiguration",
        "webhooks/clientConfig/service",
    ),
];

const HPA_TARGET: &str = "spec/scaleTargetRef/name";

fn spec(group: &str, version: &str, kind: &str, path: &str) -> FieldSpec {
    FieldSpec {
        group: group.to_owned(),
        version: version.to_owned(),
        kind: kind.to_owned(),
        path: path.to_owned(),
        create: false,
    }
}

fn back_ref(
    group: &str,
    version: &str,
    kind: &str,
    referrers: Vec<FieldSpec>,
) -> NameBackReferences {
    NameBackReferences {
        group: group.to_owned(),
        version: version.to_owned(),
        kind: kind.to_owned(),
        referrers,
    }
}

fn listed(referrers: &[Referrer]) -> impl Iterator<Item = FieldSpec> + '_ {
    referrers.iter().map(|(g, v, k, p)| spec(g, v, k, p))
}

fn pod_spec_fields(fields: &'static [&'static str]) -> impl Iterator<Item = FieldSpec> {
    POD_SPEC_HOLDERS
        .iter()
        .flat_map(move |(version, kind, prefix)| {
            fields
                .iter()
                .map(move |f| spec("", version, kind, &format!("{prefix}/{f}")))
        })
}

fn workload_fields(field: &'static str) -> impl Iterator<Item = FieldSpec> {
    WORKLOADS
        .iter()
        .map(move |(kind, prefix)| spec("", "", kind, &format!("{prefix}/{field}")))
}

/// kustomize's built-in `nameReference` configuration.
pub fn builtin_name_references() -> Vec<NameBackReferences> {
    let hpa = || vec![spec("", "", "HorizontalPodAutoscaler", HPA_TARGET)];
    let secret = pod_spec_fields(POD_SECRET_FIELDS)
        .chain(listed(SECRET_OTHERS))
        .collect();
    vec![
        back_ref("", "", "Deployment", hpa()),
        back_ref("", "", "ReplicationController", hpa()),
        back_ref("", "", "ReplicaSet", hpa()),
        back_ref("", "", "StatefulSet", hpa()),
        back_ref(
            "",
            "v1",
            "ConfigMap",
            pod_spec_fields(POD_CONFIGMAP_FIELDS)
                .chain(listed(CONFIGMAP_OTHERS))
                .collect(),
        ),
        back_ref("", "v1", "Secret", secret),
        back_ref("", "v1", "Service", listed(SERVICE_REFERRERS).collect()),
        back_ref(
            RBAC,
            "",
            "Role",
            vec![spec(RBAC, "", "RoleBinding", "roleRef/name")],
        ),
        back_ref(
            RBAC,
            "",
            "ClusterRole",
            vec![
                spec(RBAC, "", "RoleBinding", "roleRef/name"),
                spec(RBAC, "", "ClusterRoleBinding", "roleRef/name"),
            ],
        ),
        back_ref(
            "",
            "v1",
            "ServiceAccount",
            [
                spec(RBAC, "", "RoleBinding", "subjects"),
                spec(RBAC, "", "ClusterRoleBinding", "subjects"),
            ]
            .into_iter()
            .chain(workload_fields("serviceAccountName"))
            .collect(),
        ),
        back_ref(
            "",
            "v1",
            "PersistentVolumeClaim",
            workload_fields("volumes/persistentVolumeClaim/claimName").collect(),
        ),
        back_ref(
            "",
            "v1",
            "PersistentVolume",
            vec![
                spec("", "", "PersistentVolumeClaim", "spec/volumeName"),
                spec("", "", "ClusterRole", "rules/resourceNames"),
            ],
        ),
        back_ref(
            "storage.k8s.io",
            "v1",
            "StorageClass",
            vec![
                spec("", "", "PersistentVolume", "spec/storageClassName"),
                spec("", "", "PersistentVolumeClaim", "spec/storageClassName"),
                spec(
                    "",
                    "",
                    "StatefulSet",
                    "spec/volumeClaimTemplates/spec/storageClassName",
                ),
            ],
        ),
        back_ref(
            "scheduling.k8s.io",
            "v1",
            "PriorityClass",
            workload_fields("priorityClassName").collect(),
        ),
        // kustomize spells the group "networking.k8s.io/v1" here, so no real IngressClass
        // (group "networking.k8s.io") is ever selected: Ingress references never follow.
        back_ref(
            "networking.k8s.io/v1",
            "v1",
            "IngressClass",
            vec![spec("", "", "Ingress", "spec/ingressClassName")],
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn referrers_of(kind: &str) -> Vec<FieldSpec> {
        builtin_name_references()
            .into_iter()
            .find(|b| b.kind == kind)
            .map(|b| b.referrers)
            .unwrap_or_default()
    }

    #[test]
    fn every_pod_spec_holder_names_configmaps_and_secrets() {
        let cms = referrers_of("ConfigMap");
        let secrets = referrers_of("Secret");
        for (_, kind, _) in POD_SPEC_HOLDERS {
            assert_eq!(cms.iter().filter(|s| s.kind == *kind).count(), 6, "{kind}");
            assert_eq!(
                secrets.iter().filter(|s| s.kind == *kind).count(),
                7,
                "{kind}"
            );
        }
        assert!(cms.iter().any(|s| s.kind == "CronJob"
            && s.path
                == "spec/jobTemplate/spec/template/spec/volumes/projected/sources/configMap/name"));
        assert!(cms.iter().any(|s| s.kind == "Pod" && s.version == "v1"));
    }

    #[test]
    fn role_refs_are_rbac_scoped() {
        let roles = referrers_of("ClusterRole");
        assert!(
            roles
                .iter()
                .all(|s| s.group == RBAC && s.path == "roleRef/name")
        );
        assert_eq!(roles.len(), 2);
        let sa = referrers_of("ServiceAccount");
        assert_eq!(sa.iter().filter(|s| s.path == "subjects").count(), 2);
        assert_eq!(sa.len(), 9);
    }

    #[test]
    fn targets_are_distinct() {
        let refs = builtin_name_references();
        for (i, a) in refs.iter().enumerate() {
            for b in &refs[i + 1..] {
                assert!(
                    (a.group.as_str(), a.version.as_str(), a.kind.as_str())
                        != (b.group.as_str(), b.version.as_str(), b.kind.as_str())
                );
            }
        }
        assert_eq!(refs.len(), 15);
    }
}
