//! The resources the server serves: the built-ins from `tether-schema`'s generated table, plus
//! those that established CustomResourceDefinitions add. Discovery and every request resolve
//! through here.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use tether_schema::builtin_resources;

use crate::status::Qualified;
use crate::validation::NameRule;

/// The `scale` subresource: where replicas and the selector live in the object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaleSpec {
    /// JSON paths like `.spec.replicas`.
    pub spec_replicas_path: String,
    pub status_replicas_path: String,
    pub label_selector_path: Option<String>,
}

/// An `additionalPrinterColumns` entry of a CRD version.
#[derive(Debug, Clone, PartialEq)]
pub struct PrinterColumn {
    pub name: String,
    pub type_: String,
    pub format: String,
    pub description: String,
    pub priority: i64,
    pub json_path: String,
}

#[derive(Debug, Clone)]
pub enum Origin {
    Builtin,
    /// Served because the named CRD is established.
    Custom {
        crd: String,
        printer_columns: Vec<PrinterColumn>,
        /// The version's structural schema, compiled for typing and pruning.
        schema: Arc<tether_schema::ObjectSchema>,
        /// The version's `openAPIV3Schema` as written, for defaults and value validation.
        openapi: Arc<serde_json::Value>,
        /// Whether that schema declares any `default`: reads skip the defaulting walk otherwise.
        declares_defaults: bool,
    },
}

impl Origin {
    pub fn is_builtin(&self) -> bool {
        matches!(self, Origin::Builtin)
    }
}

/// One served group/version/resource.
#[derive(Debug, Clone)]
pub struct Resource {
    pub group: String,
    pub version: String,
    pub resource: String,
    pub singular: String,
    pub kind: String,
    pub list_kind: String,
    pub namespaced: bool,
    pub verbs: Vec<String>,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    pub status_subresource: bool,
    pub scale: Option<ScaleSpec>,
    /// The version objects are stored in; requests for other versions of the same resource
    /// convert by rewriting `apiVersion` (CRD conversion strategy `None`).
    pub storage_version: String,
    pub name_rule: NameRule,
    /// Writes to non-metadata (and, with a status subresource, non-status) fields bump
    /// `metadata.generation`.
    pub tracks_generation: bool,
    /// Field selector keys beyond `metadata.name` and `metadata.namespace`.
    pub field_selectors: Vec<&'static str>,
    pub origin: Origin,
}

impl Resource {
    pub fn api_version(&self) -> String {
        api_version(&self.group, &self.version)
    }

    pub fn storage_api_version(&self) -> String {
        api_version(&self.group, &self.storage_version)
    }

    pub fn qualified(&self) -> Qualified {
        Qualified {
            group: self.group.clone(),
            resource: self.resource.clone(),
        }
    }

    /// Storage keys: `{group}/{resource}/{namespace}/{name}`, cluster-scoped without namespace.
    pub fn key(&self, namespace: Option<&str>, name: &str) -> String {
        match namespace.filter(|_| self.namespaced) {
            Some(ns) => format!("{}/{}/{ns}/{name}", self.group, self.resource),
            None => format!("{}/{}/{name}", self.group, self.resource),
        }
    }

    /// The key prefix of all objects, or of one namespace's.
    pub fn prefix(&self, namespace: Option<&str>) -> String {
        match namespace.filter(|_| self.namespaced) {
            Some(ns) => format!("{}/{}/{ns}/", self.group, self.resource),
            None => format!("{}/{}/", self.group, self.resource),
        }
    }

    pub fn has_verb(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == verb)
    }
}

pub fn api_version(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    }
}

/// Built-in groups in the order kube-apiserver's discovery lists them (aggregator priorities).
const GROUP_ORDER: &[&str] = &[
    "",
    "apiregistration.k8s.io",
    "apps",
    "events.k8s.io",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "networking.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "scheduling.k8s.io",
    "coordination.k8s.io",
    "node.k8s.io",
    "discovery.k8s.io",
    "flowcontrol.apiserver.k8s.io",
    "resource.k8s.io",
];

/// Resources whose status subresource does not make spec writes bump `metadata.generation`
/// (their registry strategies do not set it).
const NO_GENERATION: &[(&str, &str)] = &[
    ("", "namespaces"),
    ("", "nodes"),
    ("", "persistentvolumes"),
    ("", "persistentvolumeclaims"),
    ("", "pods"),
    ("", "services"),
    ("", "resourcequotas"),
    ("certificates.k8s.io", "certificatesigningrequests"),
    ("apiregistration.k8s.io", "apiservices"),
    ("storage.k8s.io", "volumeattachments"),
];

fn builtin_name_rule(group: &str, resource: &str) -> NameRule {
    match (group, resource) {
        ("", "namespaces") => NameRule::Label,
        ("", "services") => NameRule::Dns1035,
        ("rbac.authorization.k8s.io", _) => NameRule::PathSegment,
        _ => NameRule::Subdomain,
    }
}

fn builtin_field_selectors(group: &str, resource: &str) -> Vec<&'static str> {
    match (group, resource) {
        ("", "secrets") => vec!["type"],
        ("", "namespaces") => vec!["status.phase"],
        ("", "nodes") => vec!["spec.unschedulable"],
        ("", "pods") => vec![
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ],
        ("", "events") => vec![
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
        ("events.k8s.io", "events") => vec![
            "regarding.kind",
            "regarding.name",
            "regarding.namespace",
            "reason",
            "type",
        ],
        ("batch", "jobs") => vec!["status.successful"],
        ("apps", "replicasets") => vec!["status.replicas"],
        ("", "replicationcontrollers") => vec!["status.replicas"],
        _ => vec![],
    }
}

fn builtin(entry: &tether_schema::BuiltinResource) -> Resource {
    let status = entry.subresources.iter().any(|s| s.name == "status");
    let scale = entry
        .subresources
        .iter()
        .any(|s| s.name == "scale")
        .then(|| ScaleSpec {
            spec_replicas_path: ".spec.replicas".into(),
            status_replicas_path: ".status.replicas".into(),
            label_selector_path: Some(".status.selector".into()),
        });
    Resource {
        group: entry.group.clone(),
        version: entry.version.clone(),
        resource: entry.resource.clone(),
        singular: entry.singular.clone(),
        kind: entry.kind.clone(),
        list_kind: format!("{}List", entry.kind),
        namespaced: entry.namespaced,
        verbs: entry.verbs.clone(),
        short_names: entry.short_names.clone(),
        categories: entry.categories.clone(),
        status_subresource: status,
        scale,
        storage_version: entry.version.clone(),
        name_rule: builtin_name_rule(&entry.group, &entry.resource),
        tracks_generation: status
            && !NO_GENERATION.contains(&(entry.group.as_str(), entry.resource.as_str())),
        field_selectors: builtin_field_selectors(&entry.group, &entry.resource),
        origin: Origin::Builtin,
    }
}

/// `authorization.k8s.io/v1`'s create-only reviews, which the OpenAPI table leaves out (they
/// have no read paths); [`crate::auth::review`] answers them.
fn access_reviews() -> Vec<Resource> {
    [
        (
            "localsubjectaccessreviews",
            "LocalSubjectAccessReview",
            true,
        ),
        ("selfsubjectaccessreviews", "SelfSubjectAccessReview", false),
        ("selfsubjectrulesreviews", "SelfSubjectRulesReview", false),
        ("subjectaccessreviews", "SubjectAccessReview", false),
    ]
    .into_iter()
    .map(|(resource, kind, namespaced)| Resource {
        group: "authorization.k8s.io".into(),
        version: "v1".into(),
        resource: resource.into(),
        singular: kind.to_ascii_lowercase(),
        kind: kind.into(),
        list_kind: format!("{kind}List"),
        namespaced,
        verbs: vec!["create".into()],
        short_names: vec![],
        categories: vec![],
        status_subresource: false,
        scale: None,
        storage_version: "v1".into(),
        name_rule: NameRule::Subdomain,
        tracks_generation: false,
        field_selectors: vec![],
        origin: Origin::Builtin,
    })
    .collect()
}

type Gvr = (String, String, String);

#[derive(Default)]
struct State {
    resources: BTreeMap<Gvr, Arc<Resource>>,
    /// group → served versions, preferred first.
    versions: BTreeMap<String, Vec<String>>,
}

/// The served resources; cheap to clone.
#[derive(Clone)]
pub struct Registry {
    state: Arc<RwLock<State>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").finish_non_exhaustive()
    }
}

/// A group with its served versions, preferred first.
#[derive(Debug, Clone)]
pub struct GroupVersions {
    pub group: String,
    pub versions: Vec<String>,
}

impl Registry {
    pub fn with_builtins() -> Registry {
        let mut state = State::default();
        for entry in builtin_resources() {
            let resource = builtin(entry);
            state.add(Arc::new(resource));
        }
        for resource in access_reviews() {
            state.add(Arc::new(resource));
        }
        Registry {
            state: Arc::new(RwLock::new(state)),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn get(&self, group: &str, version: &str, resource: &str) -> Option<Arc<Resource>> {
        self.read()
            .resources
            .get(&(group.to_owned(), version.to_owned(), resource.to_owned()))
            .cloned()
    }

    /// The resource serving `kind` in a group version (for ownerReferences, CRD checks).
    pub fn by_kind(&self, group: &str, version: &str, kind: &str) -> Option<Arc<Resource>> {
        self.read()
            .resources
            .values()
            .find(|r| r.group == group && r.version == version && r.kind == kind)
            .cloned()
    }

    /// All versions of one group/resource (to find every stored object of a CRD).
    pub fn versions_of(&self, group: &str, resource: &str) -> Vec<Arc<Resource>> {
        self.read()
            .resources
            .values()
            .filter(|r| r.group == group && r.resource == resource)
            .cloned()
            .collect()
    }

    /// Groups in discovery order: built-ins first in kube-apiserver's order, then custom
    /// groups by name.
    pub fn groups(&self) -> Vec<GroupVersions> {
        let state = self.read();
        let mut groups: Vec<GroupVersions> = state
            .versions
            .iter()
            .map(|(group, versions)| GroupVersions {
                group: group.clone(),
                versions: versions.clone(),
            })
            .collect();
        groups.sort_by_key(|g| {
            let rank = GROUP_ORDER
                .iter()
                .position(|x| *x == g.group)
                .unwrap_or(GROUP_ORDER.len());
            (rank, g.group.clone())
        });
        groups
    }

    /// Resources of one group version, in a stable order (by resource name).
    pub fn resources_in(&self, group: &str, version: &str) -> Vec<Arc<Resource>> {
        self.read()
            .resources
            .values()
            .filter(|r| r.group == group && r.version == version)
            .cloned()
            .collect()
    }

    /// Serves the versions of a CRD, replacing whatever it served before.
    pub fn install_custom(&self, crd: &str, resources: Vec<Resource>) {
        let mut state = self.write();
        state.remove_crd(crd);
        for resource in resources {
            state.add(Arc::new(resource));
        }
    }

    /// Stops serving what a CRD added.
    pub fn remove_custom(&self, crd: &str) {
        self.write().remove_crd(crd);
    }
}

impl State {
    fn add(&mut self, resource: Arc<Resource>) {
        let versions = self.versions.entry(resource.group.clone()).or_default();
        if !versions.contains(&resource.version) {
            versions.push(resource.version.clone());
            versions.sort_by_key(|v| std::cmp::Reverse(version_priority(v)));
        }
        self.resources.insert(
            (
                resource.group.clone(),
                resource.version.clone(),
                resource.resource.clone(),
            ),
            resource,
        );
    }

    fn remove_crd(&mut self, crd: &str) {
        self.resources
            .retain(|_, r| !matches!(&r.origin, Origin::Custom { crd: c, .. } if c == crd));
        let served: Vec<(String, String)> = self
            .resources
            .values()
            .map(|r| (r.group.clone(), r.version.clone()))
            .collect();
        for (group, versions) in self.versions.iter_mut() {
            versions.retain(|v| served.iter().any(|(g, sv)| g == group && sv == v));
        }
        self.versions.retain(|_, v| !v.is_empty());
    }
}

/// Kubernetes version priority: GA > beta > alpha, higher numbers first; non-conforming names
/// last, by name (`k8s.io/apimachinery/pkg/version.CompareKubeAwareVersionStrings`).
pub fn version_priority(version: &str) -> (u8, u32, u32, std::cmp::Reverse<String>) {
    let parse = |v: &str| -> Option<(u8, u32, u32)> {
        let rest = v.strip_prefix('v')?;
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let major: u32 = digits.parse().ok()?;
        let tail = &rest[digits.len()..];
        if tail.is_empty() {
            return Some((3, major, 0));
        }
        for (word, rank) in [("beta", 2u8), ("alpha", 1u8)] {
            if let Some(n) = tail.strip_prefix(word) {
                let minor: u32 = n.parse().ok()?;
                return Some((rank, major, minor));
            }
        }
        None
    };
    match parse(version) {
        Some((rank, major, minor)) => (rank, major, minor, std::cmp::Reverse(String::new())),
        None => (0, 0, 0, std::cmp::Reverse(version.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_are_served() {
        let registry = Registry::with_builtins();
        let deployments = registry.get("apps", "v1", "deployments").unwrap();
        assert!(deployments.status_subresource && deployments.scale.is_some());
        assert!(deployments.tracks_generation);
        assert_eq!(
            deployments.key(Some("demo"), "web"),
            "apps/deployments/demo/web"
        );
        let namespaces = registry.get("", "v1", "namespaces").unwrap();
        assert_eq!(namespaces.key(None, "demo"), "/namespaces/demo");
        assert!(!namespaces.tracks_generation);
        let groups = registry.groups();
        assert_eq!(groups[0].group, "");
        assert_eq!(groups[2].group, "apps");
    }

    #[test]
    fn version_priority_orders_like_kubernetes() {
        let mut versions = vec!["v1alpha1", "foo", "v2", "v1beta2", "v1", "v1beta1", "v10"];
        versions.sort_by_key(|v| std::cmp::Reverse(version_priority(v)));
        assert_eq!(
            versions,
            ["v10", "v2", "v1", "v1beta2", "v1beta1", "v1alpha1", "foo"]
        );
    }
}
