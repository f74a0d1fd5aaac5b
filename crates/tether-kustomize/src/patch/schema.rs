//! Patch metadata as kyaml's walker sees it: which lists merge by key (`x-kubernetes-patch-strategy`
//! containing `merge`), with which keys (`x-kubernetes-list-map-keys`, else
//! `x-kubernetes-patch-merge-key`, else none: a set of scalars such as `finalizers`).
//!
//! kustomize v5.6.0 uses the Kubernetes 1.21.2 OpenAPI document compiled into kyaml, or, when the
//! kustomization names one with `openapi: path:`, that document *instead* (the built-in types
//! then have no schema at all). tether's built-in types come from the 1.36 document through
//! `tether_schema`; kinds and fields that 1.21 did not have are hidden so that lists merge as
//! kustomize merges them.

use std::collections::HashMap;

use serde_json::{Map, Value};
use tether_schema::{Scalar, StructField, TypeId, builtin_schema, type_for_gvk};

use super::smp::text::key_text;

/// Where the strategic merge engine finds the patch metadata of a resource's fields.
#[derive(Debug, Clone, Default)]
pub enum PatchSchema {
    /// kustomize's default: the built-in Kubernetes kinds (as kyaml 1.21.2 knows them); any
    /// other kind has no schema, so its lists are replaced, never merged.
    #[default]
    Builtin,
    /// The document of a kustomization's `openapi: path:` field, which replaces the built-in
    /// kinds (a Deployment's containers no longer merge by name unless the document says so).
    Custom(OpenApiSchema),
    /// No schema: maps merge, every list is replaced.
    None,
}

impl PatchSchema {
    /// The schema of the object `apiVersion`/`kind`, if this schema knows the type.
    pub(crate) fn for_type(&self, api_version: &str, kind: &str) -> Option<Sch<'_>> {
        match self {
            PatchSchema::Builtin => {
                builtin_type(api_version, kind).map(|ty| Sch::Builtin { ty, field: None })
            }
            PatchSchema::Custom(doc) => doc.for_type(api_version, kind),
            PatchSchema::None => None,
        }
    }

    /// The schema of a map that names its own type (kyaml looks a type up wherever it has no
    /// schema and finds `apiVersion` and `kind`).
    pub(crate) fn for_object(&self, object: &Map<String, Value>) -> Option<Sch<'_>> {
        let api_version = key_text(object.get("apiVersion"));
        let kind = key_text(object.get("kind"));
        if api_version.is_empty() || kind.is_empty() {
            return None;
        }
        self.for_type(&api_version, &kind)
    }
}

/// How a list merges: by the values of `keys` in its elements, or, with no keys, as a set of
/// scalars.
#[derive(Debug)]
pub(crate) struct MergeList<'a> {
    pub(crate) keys: Vec<&'a str>,
}

/// A position in a schema: an object type, a field's type, or a list's element type.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Sch<'a> {
    /// A type of `tether_schema::builtin_schema()`; `field` is the struct field it was reached
    /// through, which carries the patch strategy of lists.
    Builtin {
        ty: TypeId,
        field: Option<&'static StructField>,
    },
    /// A schema object of a custom OpenAPI document, `$ref`s resolved.
    Custom {
        doc: &'a OpenApiSchema,
        node: &'a Map<String, Value>,
    },
}

impl<'a> Sch<'a> {
    /// kyaml's `ResourceSchema.Field`: a declared property, else the map's value schema.
    pub(crate) fn field(self, key: &str) -> Option<Sch<'a>> {
        match self {
            Sch::Builtin { ty, .. } => {
                let schema = builtin_schema();
                let atom = schema.atom(ty);
                if atom.scalar == Some(Scalar::Untyped) {
                    return None;
                }
                let map = atom.map.as_ref()?;
                if let Some(field) = map.field(key) {
                    // The field name first: it rules out almost every lookup cheaply.
                    let newer = NEWER_THAN_KYAML
                        .iter()
                        .any(|(owner, name)| *name == key && schema.type_name(ty) == Some(*owner));
                    if newer {
                        return None;
                    }
                    return Some(Sch::Builtin {
                        ty: field.ty,
                        field: Some(field),
                    });
                }
                map.element.map(|ty| Sch::Builtin { ty, field: None })
            }
            Sch::Custom { doc, node } => {
                let property = node
                    .get("properties")
                    .and_then(Value::as_object)
                    .and_then(|p| p.get(key))
                    .or_else(|| node.get("additionalProperties").filter(|a| a.is_object()))?;
                if let Some(ty) = doc.builtin_ref(property) {
                    return Some(Sch::Builtin { ty, field: None });
                }
                doc.resolve(property).map(|node| Sch::Custom { doc, node })
            }
        }
    }

    /// kyaml's `ResourceSchema.Elements`: the schema of a list's items.
    pub(crate) fn elements(self) -> Option<Sch<'a>> {
        match self {
            Sch::Builtin { ty, .. } => {
                let atom = builtin_schema().atom(ty);
                if atom.scalar == Some(Scalar::Untyped) {
                    return None;
                }
                atom.list.as_ref().map(|list| Sch::Builtin {
                    ty: list.element,
                    field: None,
                })
            }
            Sch::Custom { doc, node } => {
                let is_array = match node.get("type") {
                    Some(Value::String(t)) => t == "array",
                    Some(Value::Array(ts)) => ts.len() == 1 && ts[0] == "array",
                    _ => false,
                };
                if !is_array {
                    return None;
                }
                let items = node.get("items").filter(|i| i.is_object())?;
                if let Some(ty) = doc.builtin_ref(items) {
                    return Some(Sch::Builtin { ty, field: None });
                }
                doc.resolve(items).map(|node| Sch::Custom { doc, node })
            }
        }
    }

    /// How the list at this position merges, or `None` when it is replaced (kyaml's
    /// `IsAssociative` and `PatchStrategyAndKeyList`).
    pub(crate) fn merge_list(self) -> Option<MergeList<'a>> {
        match self {
            Sch::Builtin { ty, field } => {
                let field = field?;
                if !has_merge(field.patch_strategy.as_deref().unwrap_or("")) {
                    return None;
                }
                let list_keys = builtin_schema().list(ty).map(|l| l.keys.as_slice());
                let keys = match (list_keys, field.patch_merge_key.as_deref()) {
                    (Some(keys), _) if !keys.is_empty() => keys.iter().map(|k| &**k).collect(),
                    (_, Some(key)) if !key.is_empty() => vec![key],
                    _ => Vec::new(),
                };
                Some(MergeList { keys })
            }
            Sch::Custom { node, .. } => {
                let strategy = node.get("x-kubernetes-patch-strategy")?.as_str()?;
                if !has_merge(strategy) {
                    return None;
                }
                if let Some(keys) = node
                    .get("x-kubernetes-list-map-keys")
                    .and_then(Value::as_array)
                {
                    return Some(MergeList {
                        keys: keys.iter().filter_map(Value::as_str).collect(),
                    });
                }
                let keys = match node
                    .get("x-kubernetes-patch-merge-key")
                    .and_then(Value::as_str)
                {
                    Some(key) => vec![key],
                    None => Vec::new(),
                };
                Some(MergeList { keys })
            }
        }
    }
}

fn has_merge(strategy: &str) -> bool {
    strategy.split(',').any(|s| s == "merge")
}

/// An OpenAPI v2 document given to kustomize with `openapi: path:` (JSON or YAML, parsed by the
/// caller): its `definitions`, indexed by `x-kubernetes-group-version-kind`.
#[derive(Debug, Clone)]
pub struct OpenApiSchema {
    definitions: Map<String, Value>,
    /// (apiVersion, kind) → definition name.
    types: HashMap<(String, String), String>,
    /// The built-in definitions stay in force beneath this document (see
    /// [`OpenApiSchema::over_builtin`]).
    over_builtin: bool,
}

/// Why a document cannot serve as a kustomize `openapi:` schema.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenApiSchemaError {
    #[error("the OpenAPI document has no `definitions` map")]
    NoDefinitions,
}

impl OpenApiSchema {
    /// Reads the `definitions` of a Swagger 2.0 document.
    pub fn from_document(mut document: Value) -> Result<OpenApiSchema, OpenApiSchemaError> {
        let Some(Value::Object(definitions)) = document
            .as_object_mut()
            .and_then(|d| d.remove("definitions"))
        else {
            return Err(OpenApiSchemaError::NoDefinitions);
        };
        let mut types = HashMap::new();
        for (name, definition) in &definitions {
            let Some(gvks) = definition
                .get("x-kubernetes-group-version-kind")
                .and_then(Value::as_array)
            else {
                continue;
            };
            for gvk in gvks {
                let text = |k: &str| gvk.get(k).and_then(Value::as_str);
                let (Some(version), Some(kind)) = (text("version"), text("kind")) else {
                    continue;
                };
                let api_version = match text("group") {
                    Some(group) if !group.is_empty() => format!("{group}/{version}"),
                    _ => version.to_owned(),
                };
                // The first definition claiming a type wins (kyaml's pick is map order).
                types
                    .entry((api_version, kind.to_owned()))
                    .or_insert_with(|| name.clone());
            }
        }
        Ok(OpenApiSchema {
            definitions,
            types,
            over_builtin: false,
        })
    }

    /// The document added to the built-in definitions instead of replacing them. kyaml adds a
    /// custom document's definitions to its global schema; when a kustomization below the top
    /// (a base or component) brings the document, the built-in definitions were loaded already,
    /// so the document's `$ref`s to built-in types (`io.k8s.api.core.v1.PodTemplateSpec`) and
    /// the built-in kinds keep working. At the top, the document comes first and stands alone.
    pub fn over_builtin(mut self) -> OpenApiSchema {
        self.over_builtin = true;
        self
    }

    fn for_type(&self, api_version: &str, kind: &str) -> Option<Sch<'_>> {
        let Some(name) = self.types.get(&(api_version.to_owned(), kind.to_owned())) else {
            return if self.over_builtin {
                builtin_type(api_version, kind).map(|ty| Sch::Builtin { ty, field: None })
            } else {
                None
            };
        };
        let node = self.definitions.get(name)?.as_object()?;
        Some(Sch::Custom { doc: self, node })
    }

    /// A `$ref` this document does not define, resolved among the built-in types when the
    /// document sits over them.
    fn builtin_ref(&self, schema: &Value) -> Option<TypeId> {
        if !self.over_builtin {
            return None;
        }
        let name = schema
            .get("$ref")?
            .as_str()?
            .strip_prefix("#/definitions/")?;
        if self.definitions.contains_key(name) {
            return None;
        }
        builtin_schema().type_id(name)
    }

    /// Follows `$ref`s (`#/definitions/NAME`) to the schema object they name; `None` when one
    /// does not resolve (kyaml then has no schema for the field).
    fn resolve<'a>(&'a self, mut schema: &'a Value) -> Option<&'a Map<String, Value>> {
        // Bounds a cycle of references, which a valid document never has.
        for _ in 0..64 {
            let object = schema.as_object()?;
            let Some(reference) = object.get("$ref") else {
                return Some(object);
            };
            let name = reference.as_str()?.strip_prefix("#/definitions/")?;
            let name = name.replace("~1", "/").replace("~0", "~");
            schema = self.definitions.get(&name)?;
        }
        None
    }
}

/// The built-in type of `apiVersion`/`kind`, restricted to the kinds kyaml's 1.21.2 document
/// has. A kind 1.36 only has in a newer version (`batch/v1beta1` CronJob) uses that version's
/// type: the patch metadata did not change.
fn builtin_type(api_version: &str, kind: &str) -> Option<TypeId> {
    if !KYAML_KINDS.contains(&(api_version, kind)) {
        return None;
    }
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    type_for_gvk(group, version, kind)
        .or_else(|| type_for_gvk(group, "v1", kind))
        .or_else(|| match (group, kind) {
            ("extensions", "Ingress") => type_for_gvk("networking.k8s.io", "v1", "Ingress"),
            _ => None,
        })
}

/// Fields with a merge strategy in the 1.36 document that kyaml's 1.21.2 document lacks: kyaml
/// has no schema for them, so their lists are replaced.
const NEWER_THAN_KYAML: &[(&str, &str)] = &[
    (
        "io.k8s.api.admissionregistration.v1.MutatingWebhook",
        "matchConditions",
    ),
    (
        "io.k8s.api.admissionregistration.v1.ValidatingWebhook",
        "matchConditions",
    ),
    ("io.k8s.api.core.v1.PodSpec", "resourceClaims"),
    ("io.k8s.api.core.v1.PodSpec", "schedulingGates"),
    ("io.k8s.api.core.v1.PodStatus", "hostIPs"),
    ("io.k8s.api.core.v1.PodStatus", "resourceClaimStatuses"),
    (
        "io.k8s.api.core.v1.ContainerStatus",
        "allocatedResourcesStatus",
    ),
    ("io.k8s.api.core.v1.ContainerStatus", "volumeMounts"),
    (
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps",
        "x-kubernetes-validations",
    ),
];

/// The resource kinds of kyaml's built-in Kubernetes 1.21.2 document (the types it indexes by
/// `x-kubernetes-group-version-kind` that have API paths), as (apiVersion, kind).
const KYAML_KINDS: &[(&str, &str)] = &[
    (
        "admissionregistration.k8s.io/v1",
        "MutatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io/v1",
        "ValidatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io/v1beta1",
        "MutatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io/v1beta1",
        "ValidatingWebhookConfiguration",
    ),
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
    ("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition"),
    ("apiregistration.k8s.io/v1", "APIService"),
    ("apiregistration.k8s.io/v1beta1", "APIService"),
    ("apps/v1", "ControllerRevision"),
    ("apps/v1", "DaemonSet"),
    ("apps/v1", "Deployment"),
    ("apps/v1", "ReplicaSet"),
    ("apps/v1", "StatefulSet"),
    ("autoscaling/v1", "HorizontalPodAutoscaler"),
    ("autoscaling/v1", "Scale"),
    ("autoscaling/v2beta1", "HorizontalPodAutoscaler"),
    ("autoscaling/v2beta2", "HorizontalPodAutoscaler"),
    ("batch/v1", "CronJob"),
    ("batch/v1", "Job"),
    ("batch/v1beta1", "CronJob"),
    ("certificates.k8s.io/v1", "CertificateSigningRequest"),
    ("certificates.k8s.io/v1beta1", "CertificateSigningRequest"),
    ("coordination.k8s.io/v1", "Lease"),
    ("coordination.k8s.io/v1beta1", "Lease"),
    ("discovery.k8s.io/v1", "EndpointSlice"),
    ("discovery.k8s.io/v1beta1", "EndpointSlice"),
    ("events.k8s.io/v1", "Event"),
    ("events.k8s.io/v1beta1", "Event"),
    ("extensions/v1beta1", "Ingress"),
    ("flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema"),
    (
        "flowcontrol.apiserver.k8s.io/v1beta1",
        "PriorityLevelConfiguration",
    ),
    ("networking.k8s.io/v1", "Ingress"),
    ("networking.k8s.io/v1", "IngressClass"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
    ("networking.k8s.io/v1beta1", "Ingress"),
    ("networking.k8s.io/v1beta1", "IngressClass"),
    ("node.k8s.io/v1", "RuntimeClass"),
    ("node.k8s.io/v1beta1", "RuntimeClass"),
    ("policy/v1", "PodDisruptionBudget"),
    ("policy/v1beta1", "PodDisruptionBudget"),
    ("policy/v1beta1", "PodSecurityPolicy"),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
    ("rbac.authorization.k8s.io/v1", "Role"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"),
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRoleBinding"),
    ("rbac.authorization.k8s.io/v1beta1", "Role"),
    ("rbac.authorization.k8s.io/v1beta1", "RoleBinding"),
    ("scheduling.k8s.io/v1", "PriorityClass"),
    ("scheduling.k8s.io/v1beta1", "PriorityClass"),
    ("storage.k8s.io/v1", "CSIDriver"),
    ("storage.k8s.io/v1", "CSINode"),
    ("storage.k8s.io/v1", "StorageClass"),
    ("storage.k8s.io/v1", "VolumeAttachment"),
    ("storage.k8s.io/v1beta1", "CSIDriver"),
    ("storage.k8s.io/v1beta1", "CSINode"),
    ("storage.k8s.io/v1beta1", "CSIStorageCapacity"),
    ("storage.k8s.io/v1beta1", "StorageClass"),
    ("storage.k8s.io/v1beta1", "VolumeAttachment"),
    ("v1", "ComponentStatus"),
    ("v1", "ConfigMap"),
    ("v1", "Endpoints"),
    ("v1", "Event"),
    ("v1", "LimitRange"),
    ("v1", "Namespace"),
    ("v1", "Node"),
    ("v1", "PersistentVolume"),
    ("v1", "PersistentVolumeClaim"),
    ("v1", "Pod"),
    ("v1", "PodTemplate"),
    ("v1", "ReplicationController"),
    ("v1", "ResourceQuota"),
    ("v1", "Secret"),
    ("v1", "Service"),
    ("v1", "ServiceAccount"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn keys_at(
        schema: &PatchSchema,
        api_version: &str,
        kind: &str,
        path: &[&str],
    ) -> Option<Vec<String>> {
        let mut sch = schema.for_type(api_version, kind)?;
        for (i, seg) in path.iter().enumerate() {
            sch = if *seg == "[]" {
                sch.elements()?
            } else {
                sch.field(seg)?
            };
            if i + 1 == path.len() {
                return sch
                    .merge_list()
                    .map(|m| m.keys.iter().map(|k| (*k).to_owned()).collect());
            }
        }
        None
    }

    #[test]
    fn builtin_lists_merge_by_kyaml_keys() {
        let b = PatchSchema::Builtin;
        let pod = ["spec", "template", "spec"];
        let at = |rest: &[&str]| {
            let path: Vec<&str> = pod.iter().chain(rest).copied().collect();
            keys_at(&b, "apps/v1", "Deployment", &path)
        };
        assert_eq!(at(&["containers"]), Some(vec!["name".to_owned()]));
        assert_eq!(
            at(&["containers", "[]", "ports"]),
            Some(vec!["containerPort".to_owned(), "protocol".to_owned()])
        );
        assert_eq!(at(&["volumes"]), Some(vec!["name".to_owned()]));
        assert_eq!(at(&["tolerations"]), None);
        assert_eq!(at(&["containers", "[]", "args"]), None);
        // Newer than kyaml's document: replaced, as kustomize does.
        assert_eq!(at(&["schedulingGates"]), None);
        assert_eq!(
            keys_at(&b, "apps/v1", "Deployment", &["metadata", "finalizers"]),
            Some(vec![])
        );
        assert_eq!(
            keys_at(&b, "v1", "Service", &["spec", "ports"]),
            Some(vec!["port".to_owned(), "protocol".to_owned()])
        );
        // Only in kyaml's document as an older version.
        assert_eq!(
            keys_at(
                &b,
                "batch/v1beta1",
                "CronJob",
                &[
                    "spec",
                    "jobTemplate",
                    "spec",
                    "template",
                    "spec",
                    "containers"
                ]
            ),
            Some(vec!["name".to_owned()])
        );
        // Unknown to kyaml 1.21.
        assert!(
            b.for_type("autoscaling/v2", "HorizontalPodAutoscaler")
                .is_none()
        );
        assert!(b.for_type("example.com/v1", "Foo").is_none());
    }

    #[test]
    fn custom_documents_resolve_references_and_read_extensions() {
        let doc = json!({"definitions": {
            "my.Crd": {
                "type": "object",
                "x-kubernetes-group-version-kind": [{"group": "example.com", "version": "v1", "kind": "Crd"}],
                "properties": {"spec": {"$ref": "#/definitions/my.Spec"}},
            },
            "my.Spec": {"properties": {
                "items": {"type": "array", "items": {"$ref": "#/definitions/my.Item"},
                          "x-kubernetes-patch-strategy": "merge", "x-kubernetes-patch-merge-key": "id"},
                "pairs": {"type": "array", "items": {"type": "object"},
                          "x-kubernetes-patch-strategy": "merge",
                          "x-kubernetes-list-map-keys": ["a", "b"]},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            }},
            "my.Item": {"properties": {"id": {"type": "string"}}},
        }});
        let s = PatchSchema::Custom(OpenApiSchema::from_document(doc).unwrap());
        assert_eq!(
            keys_at(&s, "example.com/v1", "Crd", &["spec", "items"]),
            Some(vec!["id".to_owned()])
        );
        assert_eq!(
            keys_at(&s, "example.com/v1", "Crd", &["spec", "pairs"]),
            Some(vec!["a".to_owned(), "b".to_owned()])
        );
        let spec = s
            .for_type("example.com/v1", "Crd")
            .unwrap()
            .field("spec")
            .unwrap();
        assert!(spec.field("labels").unwrap().field("anything").is_some());
        assert!(
            spec.field("items")
                .unwrap()
                .elements()
                .unwrap()
                .field("id")
                .is_some()
        );
        // A custom document replaces the built-in kinds.
        assert!(s.for_type("apps/v1", "Deployment").is_none());
        assert_eq!(
            OpenApiSchema::from_document(json!({"swagger": "2.0"})).unwrap_err(),
            OpenApiSchemaError::NoDefinitions
        );
    }
}
