//! The namespace transformer (kustomize's `NamespaceTransformer` and `filters/namespace`):
//! `namespace:` of a kustomization, or a `NamespaceTransformer` entry of `transformers:`.
//!
//! For each resource, in order: its id is recorded as a previous one; `metadata.namespace` is set
//! on every kind not known to be cluster-scoped; RoleBinding and ClusterRoleBinding subjects get
//! the namespace as `setRoleBindingSubjects` says; then the field specs (by default a v1
//! Namespace's own name, an APIService's service and a CRD's conversion webhook service). A
//! resource whose new id equals another's is an error.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::config::TransformerConfig;
use crate::error::{Error, Result};
use crate::fieldspec::{
    CreateKind, FieldSpec, LenientFieldSpec, apply_field_spec, from_lenient, scalar_text,
    wrong_node_kind,
};
use crate::resmap::ResMap;
use crate::resource::{Gvk, ResId, Resource};
use crate::transform::Transformer;

/// Which subjects of (Cluster)RoleBindings get the namespace.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RoleBindingSubjects {
    /// Subjects named `default`, whatever their kind (kustomize's default).
    #[default]
    DefaultOnly,
    /// Subjects of kind ServiceAccount.
    AllServiceAccounts,
    /// None.
    None,
}

impl RoleBindingSubjects {
    /// Parses `setRoleBindingSubjects` (empty means the default).
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "" | "defaultOnly" => Ok(RoleBindingSubjects::DefaultOnly),
            "allServiceAccounts" => Ok(RoleBindingSubjects::AllServiceAccounts),
            "none" => Ok(RoleBindingSubjects::None),
            other => Err(Error::msg(format!(
                "invalid value {other:?} for setRoleBindingSubjects: must be one of \
                 \"defaultOnly\", \"none\" or \"allServiceAccounts\""
            ))),
        }
    }
}

/// Sets the namespace of namespaced resources and of the fields its field specs name.
#[derive(Debug, Clone)]
pub struct NamespaceTransformer {
    namespace: String,
    field_specs: Vec<FieldSpec>,
    unset_only: bool,
    subjects: RoleBindingSubjects,
}

/// The `transformers:` form.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PluginConfig {
    #[serde(default)]
    metadata: PluginMeta,
    #[serde(default)]
    field_specs: Option<Vec<LenientFieldSpec>>,
    #[serde(default)]
    unset_only: bool,
    #[serde(default)]
    set_role_binding_subjects: String,
}

#[derive(Debug, Default, Deserialize)]
struct PluginMeta {
    #[serde(default)]
    namespace: String,
}

const META_NAMESPACE: &str = "metadata/namespace";
const META_NAME: &str = "metadata/name";
const SUBJECTS_NAMESPACE: &str = "subjects/namespace";

impl NamespaceTransformer {
    /// A kustomization's `namespace:` with the configuration's namespace field specs. `None`
    /// when the namespace is empty (kustomize adds no transformer then).
    pub fn new(namespace: &str, tc: &TransformerConfig) -> Option<Self> {
        if namespace.is_empty() {
            return None;
        }
        Some(NamespaceTransformer {
            namespace: namespace.to_owned(),
            field_specs: tc.namespace.clone(),
            unset_only: false,
            subjects: RoleBindingSubjects::DefaultOnly,
        })
    }

    /// A `NamespaceTransformer` of `transformers:` (`metadata.namespace`, `fieldSpecs`,
    /// `unsetOnly`, `setRoleBindingSubjects`). Only its own field specs apply, not the
    /// configuration's.
    pub fn from_plugin_config(config: &Value, _tc: &TransformerConfig) -> Result<Self> {
        let c: PluginConfig = serde_json::from_value(config.clone())
            .map_err(|e| Error::msg(format!("unmarshalling NamespaceTransformer config: {e}")))?;
        Ok(NamespaceTransformer {
            namespace: c.metadata.namespace,
            field_specs: from_lenient(c.field_specs).unwrap_or_default(),
            unset_only: c.unset_only,
            subjects: RoleBindingSubjects::parse(&c.set_role_binding_subjects)?,
        })
    }

    /// Only fill namespaces that are empty.
    pub fn unset_only(mut self, unset_only: bool) -> Self {
        self.unset_only = unset_only;
        self
    }

    pub fn role_binding_subjects(mut self, subjects: RoleBindingSubjects) -> Self {
        self.subjects = subjects;
        self
    }

    /// kyaml's `SetEntry` (or `SetEntryIfEmpty` with `unsetOnly`) of a `!!str` scalar.
    fn set(&self, v: &mut Value) -> Result<()> {
        if self.unset_only && has_existing_value(v) {
            return Ok(());
        }
        match v {
            Value::Object(_) | Value::Array(_) => Err(wrong_node_kind("ScalarNode", v)),
            _ => {
                *v = Value::String(self.namespace.clone());
                Ok(())
            }
        }
    }

    fn transform_one(&self, r: &mut Resource) -> Result<()> {
        let gvk = r.gvk();
        let is_v1 = r.api_version() == "v1";
        if !gvk.is_cluster_scoped() {
            let spec = FieldSpec::new(META_NAMESPACE, true);
            apply_field_spec(&mut r.object, &gvk, &spec, CreateKind::Scalar, &mut |v| {
                self.set(v)
            })?;
        }
        let role_binding = is_role_binding(&gvk.kind);
        if role_binding {
            self.set_subjects(&mut r.object)
                .map_err(|e| e.context("setting namespace on (cluster)role binding subjects"))?;
        }
        for spec in &self.field_specs {
            // metadata.namespace is handled above (never for cluster-scoped kinds), a name only
            // changes on a core v1 Namespace, and binding subjects follow the subjects mode.
            if spec.path == META_NAMESPACE
                || (!is_v1 && spec.path == META_NAME)
                || (role_binding && is_role_binding(&spec.kind) && spec.path == SUBJECTS_NAMESPACE)
            {
                continue;
            }
            apply_field_spec(&mut r.object, &gvk, spec, CreateKind::Scalar, &mut |v| {
                self.set(v)
            })
            .map_err(|e| {
                if e.to_string()
                    .contains("wrong node kind: expected ScalarNode")
                {
                    e.context("namespace field specs must target scalar nodes")
                } else {
                    e.context("namespace transformation failed")
                }
            })?;
        }
        Ok(())
    }

    fn set_subjects(&self, object: &mut Value) -> Result<()> {
        if self.subjects == RoleBindingSubjects::None {
            return Ok(());
        }
        let subjects = match object.get_mut("subjects") {
            None | Some(Value::Null) => return Ok(()),
            Some(Value::Array(items)) => items,
            Some(other) => return Err(wrong_node_kind("SequenceNode", other)),
        };
        let (field, wanted, what) = match self.subjects {
            RoleBindingSubjects::AllServiceAccounts => ("kind", "ServiceAccount", "kind"),
            _ => ("name", "default", "name"),
        };
        for subject in subjects {
            let map = match subject {
                Value::Null => continue,
                Value::Object(map) => map,
                other => {
                    return Err(wrong_node_kind("MappingNode", other).context(format!(
                        "looking up {what} on (cluster)role binding subject"
                    )));
                }
            };
            let matches = map
                .get(field)
                .and_then(scalar_text)
                .is_some_and(|v| v == wanted);
            if matches {
                let ns = map.entry("namespace").or_insert(Value::Null);
                self.set(ns)?;
            }
        }
        Ok(())
    }
}

fn is_role_binding(kind: &str) -> bool {
    kind == "RoleBinding" || kind == "ClusterRoleBinding"
}

/// kustomize's `hasExistingValue` for a scalar: set and not empty.
fn has_existing_value(v: &Value) -> bool {
    match v {
        Value::String(s) => !s.is_empty(),
        Value::Number(_) | Value::Bool(_) => true,
        Value::Null | Value::Object(_) | Value::Array(_) => false,
    }
}

/// The key under which [`ResId::equals`] holds: GVK, name and effective namespace.
fn id_key(id: &ResId) -> (Gvk, String, String) {
    (
        id.gvk.clone(),
        id.name.clone(),
        id.effective_namespace().to_owned(),
    )
}

impl Transformer for NamespaceTransformer {
    fn transform(&self, resources: &mut ResMap) -> Result<()> {
        if self.namespace.is_empty() {
            return Ok(());
        }
        let mut counts: HashMap<(Gvk, String, String), usize> = HashMap::new();
        for r in resources.iter() {
            *counts.entry(id_key(&r.cur_id())).or_default() += 1;
        }
        for i in 0..resources.len() {
            let r = &mut resources.resources[i];
            if is_nil_or_empty(&r.object) {
                continue;
            }
            r.store_previous_id();
            let before = id_key(&r.cur_id());
            self.transform_one(r)?;
            let after_id = r.cur_id();
            let after = id_key(&after_id);
            if after != before {
                if let Some(n) = counts.get_mut(&before) {
                    *n = n.saturating_sub(1);
                }
                *counts.entry(after.clone()).or_default() += 1;
            }
            if counts.get(&after).copied().unwrap_or(0) != 1 {
                let clashing: Vec<String> = resources
                    .iter()
                    .filter(|r| r.cur_id().equals(&after_id))
                    .map(resource_json_for_error)
                    .collect();
                return Err(Error::msg(format!(
                    "namespace transformation produces ID conflict: [{}]",
                    clashing.join(" ")
                )));
            }
        }
        Ok(())
    }
}

fn is_nil_or_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        _ => false,
    }
}

/// A resource as kustomize prints it in errors: JSON with sorted keys and its bookkeeping
/// annotations (`internal.config.kubernetes.io/previous*`, prefixes, suffixes).
pub(crate) fn resource_json_for_error(r: &Resource) -> String {
    let mut object = r.object.clone();
    let mut internal: Vec<(&str, String)> = Vec::new();
    if !r.previous_ids.is_empty() {
        let csv = |f: &dyn Fn(&ResId) -> String| {
            r.previous_ids.iter().map(f).collect::<Vec<_>>().join(",")
        };
        internal.push((
            "internal.config.kubernetes.io/previousKinds",
            csv(&|id| id.gvk.kind.clone()),
        ));
        internal.push((
            "internal.config.kubernetes.io/previousNames",
            csv(&|id| id.name.clone()),
        ));
        internal.push((
            "internal.config.kubernetes.io/previousNamespaces",
            csv(&|id| id.effective_namespace().to_owned()),
        ));
    }
    if !r.prefixes.is_empty() {
        internal.push((
            "internal.config.kubernetes.io/prefixes",
            r.prefixes.join(","),
        ));
    }
    if !r.suffixes.is_empty() {
        internal.push((
            "internal.config.kubernetes.io/suffixes",
            r.suffixes.join(","),
        ));
    }
    if !internal.is_empty()
        && let Some(meta) = object.as_object_mut().map(|o| {
            o.entry("metadata")
                .or_insert_with(|| Value::Object(Map::new()))
        })
        && let Some(meta) = meta.as_object_mut()
    {
        let annotations = meta
            .entry("annotations")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(a) = annotations.as_object_mut() {
            for (k, v) in internal {
                a.insert(k.to_owned(), Value::String(v));
            }
        }
    }
    sorted(&object).to_string()
}

/// A copy with every map's keys sorted, as Go's JSON encoder writes maps.
fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&m[k])))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::defaults::builtin_field_specs;
    use serde_json::json;

    fn resmap(objects: Vec<Value>) -> ResMap {
        ResMap {
            resources: objects.into_iter().map(Resource::new).collect(),
        }
    }

    fn run(t: &NamespaceTransformer, objects: Vec<Value>) -> Result<Vec<Value>> {
        let mut m = resmap(objects);
        t.transform(&mut m)?;
        Ok(m.into_iter().map(|r| r.object).collect())
    }

    fn kustomization(ns: &str) -> NamespaceTransformer {
        NamespaceTransformer::new(ns, &builtin_field_specs()).unwrap()
    }

    #[test]
    fn sets_namespaced_kinds_only() {
        let out = run(
            &kustomization("prod"),
            vec![
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "old"}}),
                json!({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv", "namespace": "x"}}),
                json!({"apiVersion": "x.io/v1", "kind": "Foo", "metadata": {"name": "f"}}),
            ],
        )
        .unwrap();
        assert_eq!(out[0]["metadata"]["namespace"], "prod");
        assert_eq!(out[1]["metadata"]["namespace"], "x");
        assert_eq!(out[2]["metadata"]["namespace"], "prod");
    }

    #[test]
    fn renames_only_core_namespaces() {
        let out = run(
            &kustomization("prod"),
            vec![
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}),
                json!({"apiVersion": "other.io/v1", "kind": "Namespace", "metadata": {"name": "b"}}),
            ],
        )
        .unwrap();
        assert_eq!(out[0]["metadata"], json!({"name": "prod"}));
        assert_eq!(
            out[1]["metadata"],
            json!({"name": "b", "namespace": "prod"})
        );
    }

    #[test]
    fn stores_previous_id_of_every_resource() {
        let mut m = resmap(vec![
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}),
        ]);
        kustomization("prod").transform(&mut m).unwrap();
        let r = &m.resources[0];
        assert_eq!(r.previous_ids.len(), 1);
        assert_eq!(r.previous_ids[0].namespace, "");
        assert_eq!(r.namespace(), "prod");
    }

    #[test]
    fn subjects_default_mode_sets_subjects_named_default() {
        let out = run(
            &kustomization("prod"),
            vec![json!({
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                "metadata": {"name": "b"},
                "subjects": [
                    {"kind": "ServiceAccount", "name": "default"},
                    {"kind": "User", "name": "default", "namespace": "x"},
                    {"kind": "ServiceAccount", "name": "my-default"},
                ]
            })],
        )
        .unwrap();
        let s = &out[0]["subjects"];
        assert_eq!(s[0]["namespace"], "prod");
        assert_eq!(s[1]["namespace"], "prod");
        assert!(s[2].get("namespace").is_none());
        assert!(out[0]["metadata"].get("namespace").is_none());
    }

    #[test]
    fn plugin_all_service_accounts_unset_only() {
        let t = NamespaceTransformer::from_plugin_config(
            &json!({
                "apiVersion": "builtin", "kind": "NamespaceTransformer",
                "metadata": {"name": "n", "namespace": "prod"},
                "setRoleBindingSubjects": "allServiceAccounts", "unsetOnly": true
            }),
            &builtin_field_specs(),
        )
        .unwrap();
        let out = run(
            &t,
            vec![json!({
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                "metadata": {"name": "b", "namespace": "keep"},
                "subjects": [
                    {"kind": "ServiceAccount", "name": "a"},
                    {"kind": "ServiceAccount", "name": "b", "namespace": "x"},
                    {"kind": "ServiceAccount", "name": "c", "namespace": ""},
                    {"kind": "User", "name": "default"},
                ]
            })],
        )
        .unwrap();
        let s = &out[0]["subjects"];
        assert_eq!(out[0]["metadata"]["namespace"], "keep");
        assert_eq!(s[0]["namespace"], "prod");
        assert_eq!(s[1]["namespace"], "x");
        assert_eq!(s[2]["namespace"], "prod");
        assert!(s[3].get("namespace").is_none());
    }

    #[test]
    fn plugin_rejects_unknown_subject_mode() {
        let err = NamespaceTransformer::from_plugin_config(
            &json!({"metadata": {"namespace": "p"}, "setRoleBindingSubjects": "some"}),
            &TransformerConfig::default(),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("invalid value \"some\" for setRoleBindingSubjects")
        );
    }

    #[test]
    fn conflict_is_an_error() {
        let err = run(
            &kustomization("prod"),
            vec![
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "x"}}),
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "y"}}),
            ],
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("namespace transformation produces ID conflict: [{"),
            "{err}"
        );
        assert!(
            err.contains(r#""internal.config.kubernetes.io/previousNamespaces":"y""#),
            "{err}"
        );
    }

    #[test]
    fn field_spec_on_a_map_is_an_error() {
        let err = run(
            &kustomization("prod"),
            vec![json!({
                "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                "metadata": {"name": "a.b"},
                "spec": {"conversion": {"webhook": {"clientConfig": {"service": {"namespace": {"a": "b"}}}}}}
            })],
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("namespace field specs must target scalar nodes: considering field 'spec/conversion/webhook/clientConfig/service/namespace' of object CustomResourceDefinition.v1.apiextensions.k8s.io/a.b.[noNs]: wrong node kind: expected ScalarNode but got MappingNode"), "{err}");
    }
}
