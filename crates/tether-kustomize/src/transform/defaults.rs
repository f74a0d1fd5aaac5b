//! kustomize's built-in field specs for each transformer (v5.6.0's `builtinpluginconsts`), and
//! the order kustomize keeps field specs in.
//!
//! nameReference and varReference defaults live with their transformers
//! ([`crate::nameref::defaults`], [`crate::vars`]).

use std::cmp::Ordering;

use crate::config::TransformerConfig;
use crate::fieldspec::FieldSpec;

/// One row: group, version, kind, path, create.
type Row = (&'static str, &'static str, &'static str, &'static str, bool);

const NAME: &[Row] = &[("", "", "", "metadata/name", false)];

/// `metadata/labels` of every object and the pod (and claim) templates of workloads: the
/// `templateLabels` list, and the tail of `commonLabels`.
const TEMPLATE_LABELS: &[Row] = &[
    ("", "", "", "metadata/labels", true),
    (
        "",
        "v1",
        "ReplicationController",
        "spec/template/metadata/labels",
        true,
    ),
    ("", "", "Deployment", "spec/template/metadata/labels", true),
    ("", "", "ReplicaSet", "spec/template/metadata/labels", true),
    ("", "", "DaemonSet", "spec/template/metadata/labels", true),
    (
        "apps",
        "",
        "StatefulSet",
        "spec/template/metadata/labels",
        true,
    ),
    (
        "apps",
        "",
        "StatefulSet",
        "spec/volumeClaimTemplates[]/metadata/labels",
        true,
    ),
    ("batch", "", "Job", "spec/template/metadata/labels", true),
    (
        "batch",
        "",
        "CronJob",
        "spec/jobTemplate/metadata/labels",
        true,
    ),
    (
        "batch",
        "",
        "CronJob",
        "spec/jobTemplate/spec/template/metadata/labels",
        true,
    ),
];

/// Selectors (which `commonLabels` and `includeSelectors` also change), before the template
/// rows.
const SELECTORS: &[Row] = &[
    ("", "v1", "Service", "spec/selector", true),
    ("", "v1", "ReplicationController", "spec/selector", true),
    ("", "", "Deployment", "spec/selector/matchLabels", true),
    ("", "", "ReplicaSet", "spec/selector/matchLabels", true),
    ("", "", "DaemonSet", "spec/selector/matchLabels", true),
    ("apps", "", "StatefulSet", "spec/selector/matchLabels", true),
    ("batch", "", "Job", "spec/selector/matchLabels", false),
    (
        "batch",
        "",
        "CronJob",
        "spec/jobTemplate/spec/selector/matchLabels",
        false,
    ),
    (
        "policy",
        "",
        "PodDisruptionBudget",
        "spec/selector/matchLabels",
        false,
    ),
    (
        "networking.k8s.io",
        "",
        "NetworkPolicy",
        "spec/podSelector/matchLabels",
        false,
    ),
    (
        "networking.k8s.io",
        "",
        "NetworkPolicy",
        "spec/ingress/from/podSelector/matchLabels",
        false,
    ),
    (
        "networking.k8s.io",
        "",
        "NetworkPolicy",
        "spec/egress/to/podSelector/matchLabels",
        false,
    ),
];

/// Label selectors inside pod templates (affinity terms, topology spread), only where present.
const POD_SELECTOR_PATHS: &[&str] = &[
    "spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
    "spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
    "spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
    "spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
    "spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels",
];

/// Kinds whose pod templates get [`POD_SELECTOR_PATHS`] (group `apps`).
const POD_SELECTOR_KINDS: &[&str] = &["Deployment", "StatefulSet"];

const ANNOTATIONS: &[Row] = &[
    ("", "", "", "metadata/annotations", true),
    (
        "",
        "v1",
        "ReplicationController",
        "spec/template/metadata/annotations",
        true,
    ),
    (
        "",
        "",
        "Deployment",
        "spec/template/metadata/annotations",
        true,
    ),
    (
        "",
        "",
        "ReplicaSet",
        "spec/template/metadata/annotations",
        true,
    ),
    (
        "",
        "",
        "DaemonSet",
        "spec/template/metadata/annotations",
        true,
    ),
    (
        "",
        "",
        "StatefulSet",
        "spec/template/metadata/annotations",
        true,
    ),
    (
        "batch",
        "",
        "Job",
        "spec/template/metadata/annotations",
        true,
    ),
    (
        "batch",
        "",
        "CronJob",
        "spec/jobTemplate/metadata/annotations",
        true,
    ),
    (
        "batch",
        "",
        "CronJob",
        "spec/jobTemplate/spec/template/metadata/annotations",
        true,
    ),
];

/// Besides `metadata/namespace` (handled by the transformer itself for every namespaced kind).
const NAMESPACE: &[Row] = &[
    ("", "", "Namespace", "metadata/name", true),
    (
        "apiregistration.k8s.io",
        "",
        "APIService",
        "spec/service/namespace",
        true,
    ),
    (
        "apiextensions.k8s.io",
        "",
        "CustomResourceDefinition",
        "spec/conversion/webhook/clientConfig/service/namespace",
        false,
    ),
];

const IMAGES: &[Row] = &[
    ("", "", "", "spec/containers[]/image", true),
    ("", "", "", "spec/initContainers[]/image", true),
    ("", "", "", "spec/template/spec/containers[]/image", true),
    (
        "",
        "",
        "",
        "spec/template/spec/initContainers[]/image",
        true,
    ),
];

const REPLICAS: &[Row] = &[
    ("", "", "Deployment", "spec/replicas", true),
    ("", "", "ReplicationController", "spec/replicas", true),
    ("", "", "ReplicaSet", "spec/replicas", true),
    ("", "", "StatefulSet", "spec/replicas", true),
];

fn specs(rows: &[Row]) -> Vec<FieldSpec> {
    rows.iter()
        .map(|&(group, version, kind, path, create)| FieldSpec {
            group: group.to_owned(),
            version: version.to_owned(),
            kind: kind.to_owned(),
            path: path.to_owned(),
            create,
        })
        .collect()
}

fn common_labels() -> Vec<FieldSpec> {
    let mut out = specs(SELECTORS);
    for kind in POD_SELECTOR_KINDS {
        for path in POD_SELECTOR_PATHS {
            out.push(FieldSpec {
                group: "apps".to_owned(),
                kind: (*kind).to_owned(),
                path: (*path).to_owned(),
                ..FieldSpec::default()
            });
        }
    }
    out.extend(specs(TEMPLATE_LABELS));
    out
}

/// kustomize's default transformer configuration, each list in the order kustomize keeps it
/// (see [`sort_field_specs`]).
pub fn builtin_field_specs() -> TransformerConfig {
    let mut config = TransformerConfig {
        name_prefix: specs(NAME),
        name_suffix: specs(NAME),
        namespace: specs(NAMESPACE),
        common_labels: common_labels(),
        template_labels: specs(TEMPLATE_LABELS),
        common_annotations: specs(ANNOTATIONS),
        images: specs(IMAGES),
        replicas: specs(REPLICAS),
        ..TransformerConfig::default()
    };
    for list in [
        &mut config.name_prefix,
        &mut config.name_suffix,
        &mut config.namespace,
        &mut config.common_labels,
        &mut config.template_labels,
        &mut config.common_annotations,
        &mut config.images,
        &mut config.replicas,
    ] {
        sort_field_specs(list);
    }
    config
}

/// Sorts field specs by GVK as kustomize's `TransformerConfig` does after loading and after each
/// merge (kyaml's `Gvk.IsLessThan`: a fixed kind order first, then the GVK text). The order shows
/// in error messages (the replica transformer lists the GVKs it tried).
pub fn sort_field_specs(specs: &mut [FieldSpec]) {
    specs.sort_by(compare_gvk);
}

fn kind_rank(kind: &str) -> i64 {
    crate::kind_order::rank(kind)
}

/// kyaml's `legacySortString`: `group_version_kind` with `~G`, `~V`, `~K` for empty parts.
fn legacy_sort_key(fs: &FieldSpec) -> String {
    let or = |s: &str, d: &str| {
        if s.is_empty() {
            d.to_owned()
        } else {
            s.to_owned()
        }
    };
    format!(
        "{}_{}_{}",
        or(&fs.group, "~G"),
        or(&fs.version, "~V"),
        or(&fs.kind, "~K")
    )
}

fn compare_gvk(a: &FieldSpec, b: &FieldSpec) -> Ordering {
    kind_rank(&a.kind)
        .cmp(&kind_rank(&b.kind))
        .then_with(|| legacy_sort_key(a).cmp(&legacy_sort_key(b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replicas_in_kustomize_order() {
        let kinds: Vec<String> = builtin_field_specs()
            .replicas
            .into_iter()
            .map(|fs| fs.kind)
            .collect();
        assert_eq!(
            kinds,
            [
                "Deployment",
                "StatefulSet",
                "ReplicaSet",
                "ReplicationController"
            ]
        );
    }

    #[test]
    fn common_labels_cover_selectors_and_templates() {
        let config = builtin_field_specs();
        let has = |kind: &str, path: &str, create: bool| {
            config
                .common_labels
                .iter()
                .any(|fs| fs.kind == kind && fs.path == path && fs.create == create)
        };
        assert!(has("Service", "spec/selector", true));
        assert!(has("Deployment", "spec/selector/matchLabels", true));
        assert!(has("Deployment", "spec/template/metadata/labels", true));
        assert!(has("Job", "spec/selector/matchLabels", false));
        assert!(has(
            "StatefulSet",
            "spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels",
            false
        ));
        assert!(has("", "metadata/labels", true));
        // templateLabels are commonLabels without the selectors.
        assert!(
            config
                .template_labels
                .iter()
                .all(|fs| config.common_labels.contains(fs))
        );
        assert!(
            !config
                .template_labels
                .iter()
                .any(|fs| fs.path.contains("selector"))
        );
    }

    #[test]
    fn unknown_kinds_sort_between_first_and_last() {
        let mk = |kind: &str| FieldSpec {
            kind: kind.to_owned(),
            ..FieldSpec::default()
        };
        let mut list = vec![
            mk("ValidatingWebhookConfiguration"),
            mk("Foo"),
            mk("Namespace"),
            mk(""),
        ];
        sort_field_specs(&mut list);
        let kinds: Vec<&str> = list.iter().map(|f| f.kind.as_str()).collect();
        assert_eq!(
            kinds,
            ["Namespace", "Foo", "", "ValidatingWebhookConfiguration"]
        );
    }
}
