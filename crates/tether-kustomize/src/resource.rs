//! One resource of a build and its identity (kustomize's `resource.Resource` and `resid`).

use serde_json::{Map, Value};

use crate::shared_scalars::SharedScalar;

/// Group, version and kind. An empty field in a selector matches anything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Gvk {
    pub group: String,
    pub version: String,
    pub kind: String,
}

impl Gvk {
    pub fn new(
        group: impl Into<String>,
        version: impl Into<String>,
        kind: impl Into<String>,
    ) -> Self {
        Gvk {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
        }
    }

    /// Splits an `apiVersion` into group and version (`v1` has no group).
    pub fn from_api_version(api_version: &str, kind: &str) -> Self {
        match api_version.split_once('/') {
            Some((g, v)) => Gvk::new(g, v, kind),
            None if api_version == "builtin" => Gvk::new("builtin", "", kind),
            None => Gvk::new("", api_version, kind),
        }
    }

    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Whether `selector` (empty fields are wildcards) selects this GVK.
    pub fn is_selected_by(&self, selector: &Gvk) -> bool {
        (selector.group.is_empty() || selector.group == self.group)
            && (selector.version.is_empty() || selector.version == self.version)
            && (selector.kind.is_empty() || selector.kind == self.kind)
    }

    /// Whether the kind is certainly cluster-scoped (built-in kinds known to the schema).
    pub fn is_cluster_scoped(&self) -> bool {
        crate::scope::is_cluster_scoped(self)
    }
}

impl std::fmt::Display for Gvk {
    /// kustomize's `Gvk.String()`: `Kind.version.group` with placeholders for empty parts.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let or = |s: &str, d: &'static str| {
            if s.is_empty() {
                d.to_owned()
            } else {
                s.to_owned()
            }
        };
        write!(
            f,
            "{}.{}.{}",
            or(&self.kind, "[noKind]"),
            or(&self.version, "[noVer]"),
            or(&self.group, "[noGrp]")
        )
    }
}

/// A resource's identity: GVK, name and namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ResId {
    pub gvk: Gvk,
    pub name: String,
    pub namespace: String,
}

impl ResId {
    pub fn new(gvk: Gvk, name: impl Into<String>, namespace: impl Into<String>) -> Self {
        ResId {
            gvk,
            name: name.into(),
            namespace: namespace.into(),
        }
    }

    /// The namespace used for equality: cluster-scoped kinds have none, "" means "default".
    pub fn effective_namespace(&self) -> &str {
        if self.gvk.is_cluster_scoped() {
            "_non_namespaceable_"
        } else if self.namespace.is_empty() {
            "default"
        } else {
            &self.namespace
        }
    }

    /// Same GVK, name and effective namespace (kustomize's `ResId.Equals`).
    pub fn equals(&self, other: &ResId) -> bool {
        self.name == other.name && self.gvk == other.gvk && self.ns_equals(other)
    }

    pub fn ns_equals(&self, other: &ResId) -> bool {
        self.effective_namespace() == other.effective_namespace()
    }

    /// Whether `selector` selects this id (empty selector fields are wildcards).
    pub fn is_selected_by(&self, selector: &ResId) -> bool {
        (selector.name.is_empty() || selector.name == self.name)
            && (selector.namespace.is_empty() || selector.ns_equals(self))
            && self.gvk.is_selected_by(&selector.gvk)
    }
}

impl std::fmt::Display for ResId {
    /// kustomize's `ResId.String()`: `Kind.version.group/name.namespace`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ns = if self.namespace.is_empty() {
            "[noNs]"
        } else {
            &self.namespace
        };
        let name = if self.name.is_empty() {
            "[noName]"
        } else {
            &self.name
        };
        write!(f, "{}/{}.{}", self.gvk, name, ns)
    }
}

/// How a generated resource combines with an existing one of the same id.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Behavior {
    #[default]
    Create,
    Merge,
    Replace,
}

impl Behavior {
    pub fn parse(s: &str) -> Option<Behavior> {
        match s {
            "" | "create" => Some(Behavior::Create),
            "merge" => Some(Behavior::Merge),
            "replace" => Some(Behavior::Replace),
            _ => None,
        }
    }
}

/// One Kubernetes object in a build, with the bookkeeping kustomize keeps in internal
/// annotations (`internal.config.kubernetes.io/previous*`, `kustomize.config.k8s.io/needs-hash`,
/// `.../behavior`), kept here as fields so they never leak into output.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// The object; always a JSON map.
    pub object: Value,
    /// Ids this resource had before renames by prefix/suffix, namespace, patches or hashes,
    /// oldest first (kustomize's previousNames/Kinds/Namespaces annotations).
    pub previous_ids: Vec<ResId>,
    /// Prefixes and suffixes applied to the name, in application order (kustomize's
    /// `internal.config.kubernetes.io/prefixes` and `/suffixes`).
    pub prefixes: Vec<String>,
    pub suffixes: Vec<String>,
    /// The resource asks for a content-hash name suffix (generated ConfigMaps and Secrets).
    pub needs_hash: bool,
    /// Generator behavior when it meets a resource of the same id.
    pub behavior: Behavior,
    /// Where the resource came from (`config.kubernetes.io/origin` with buildMetadata).
    pub origin: Option<Origin>,
    /// Names of the vars this resource's fields reference (for `vars` bookkeeping).
    pub ref_var_names: Vec<String>,
    /// Transformers that ran over it (buildMetadata `transformerAnnotations`).
    pub transformations: Vec<Origin>,
    /// Fields that share one scalar, as kustomize's label and annotation transformers make them.
    pub shared_scalars: Vec<SharedScalar>,
}

/// Where a resource was defined (`config.kubernetes.io/origin` with buildMetadata
/// `originAnnotations`; kustomize's `resource.Origin`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Origin {
    /// The file it was read from, relative to the top kustomization's directory.
    pub path: String,
    /// For generated resources: the kustomization file that configured the generator.
    pub configured_in: String,
    /// For generated resources: the generator's kind and, for `generators:` entries, its name.
    pub configured_by: Option<(String, String)>,
}

impl Origin {
    /// The annotation's YAML text.
    pub fn to_annotation(&self) -> String {
        let mut out = String::new();
        if !self.path.is_empty() {
            out.push_str(&format!("path: {}\n", self.path));
        }
        if !self.configured_in.is_empty() {
            out.push_str(&format!("configuredIn: {}\n", self.configured_in));
        }
        if let Some((kind, name)) = &self.configured_by {
            out.push_str(&format!(
                "configuredBy:\n  apiVersion: builtin\n  kind: {kind}\n"
            ));
            if !name.is_empty() {
                out.push_str(&format!("  name: {name}\n"));
            }
        }
        out
    }
}

/// Joins origin paths like Go's `filepath.Join` (cleaned, `/`-separated).
pub fn join_origin(dir: &str, path: &str) -> String {
    let joined = if dir.is_empty() {
        path.to_owned()
    } else {
        format!("{dir}/{path}")
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

impl Resource {
    /// Wraps an object read from a file or produced by a generator.
    pub fn new(object: Value) -> Self {
        Resource {
            object,
            previous_ids: Vec::new(),
            prefixes: Vec::new(),
            suffixes: Vec::new(),
            needs_hash: false,
            behavior: Behavior::Create,
            origin: None,
            ref_var_names: Vec::new(),
            transformations: Vec::new(),
            shared_scalars: Vec::new(),
        }
    }

    /// Copies a value written into one field of a shared scalar to the fields sharing it.
    pub fn propagate_shared_scalars(&mut self) {
        if !self.shared_scalars.is_empty() {
            crate::shared_scalars::propagate(&mut self.object, &mut self.shared_scalars);
        }
    }

    pub fn map(&self) -> Option<&Map<String, Value>> {
        self.object.as_object()
    }

    fn str_at(&self, path: &[&str]) -> &str {
        let mut v = &self.object;
        for p in path {
            match v.get(p) {
                Some(next) => v = next,
                None => return "",
            }
        }
        v.as_str().unwrap_or("")
    }

    pub fn api_version(&self) -> &str {
        self.str_at(&["apiVersion"])
    }

    pub fn kind(&self) -> &str {
        self.str_at(&["kind"])
    }

    pub fn name(&self) -> &str {
        self.str_at(&["metadata", "name"])
    }

    pub fn namespace(&self) -> &str {
        self.str_at(&["metadata", "namespace"])
    }

    pub fn gvk(&self) -> Gvk {
        Gvk::from_api_version(self.api_version(), self.kind())
    }

    /// The current id.
    pub fn cur_id(&self) -> ResId {
        ResId::new(self.gvk(), self.name(), self.namespace())
    }

    /// The id the resource had when first loaded (kustomize's `OrgId`).
    pub fn org_id(&self) -> ResId {
        self.previous_ids
            .first()
            .cloned()
            .unwrap_or_else(|| self.cur_id())
    }

    /// Every id the resource has had, current last.
    pub fn all_ids(&self) -> Vec<ResId> {
        let mut ids = self.previous_ids.clone();
        ids.push(self.cur_id());
        ids
    }

    /// Records the current id as a previous one before a rename (kustomize's
    /// `StorePreviousId`).
    pub fn store_previous_id(&mut self) {
        let id = self.cur_id();
        self.previous_ids.push(id);
    }

    fn metadata_mut(&mut self) -> &mut Map<String, Value> {
        let obj = ensure_map(&mut self.object);
        ensure_map(
            obj.entry("metadata")
                .or_insert_with(|| Value::Object(Map::new())),
        )
    }

    pub fn set_name(&mut self, name: &str) {
        self.metadata_mut()
            .insert("name".into(), Value::String(name.to_owned()));
    }

    pub fn set_namespace(&mut self, namespace: &str) {
        self.metadata_mut()
            .insert("namespace".into(), Value::String(namespace.to_owned()));
    }

    pub fn set_kind(&mut self, kind: &str) {
        ensure_map(&mut self.object).insert("kind".into(), Value::String(kind.to_owned()));
    }

    /// `metadata.labels` (or `metadata.annotations`) as string pairs; non-string values are
    /// skipped.
    pub fn string_map(&self, field: &str) -> Vec<(String, String)> {
        self.object
            .get("metadata")
            .and_then(|m| m.get(field))
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn labels(&self) -> Vec<(String, String)> {
        self.string_map("labels")
    }

    pub fn annotations(&self) -> Vec<(String, String)> {
        self.string_map("annotations")
    }

    /// Sets or removes (`None`) one annotation; an emptied map is removed.
    pub fn set_annotation(&mut self, key: &str, value: Option<&str>) {
        let meta = self.metadata_mut();
        match value {
            Some(v) => {
                let annotations = ensure_map(
                    meta.entry("annotations")
                        .or_insert_with(|| Value::Object(Map::new())),
                );
                annotations.insert(key.to_owned(), Value::String(v.to_owned()));
            }
            None => {
                if let Some(Value::Object(a)) = meta.get_mut("annotations") {
                    a.shift_remove(key);
                    if a.is_empty() {
                        meta.shift_remove("annotations");
                    }
                }
            }
        }
    }

    /// Whether the object carries `config.kubernetes.io/local-config: "true"`.
    pub fn is_local_config(&self) -> bool {
        self.annotations()
            .iter()
            .any(|(k, v)| k == "config.kubernetes.io/local-config" && v == "true")
    }
}

/// Rewrites the values of `metadata.annotations` (when it is a map) that `text` turns into a
/// string, as kustomize's annotation rewrites do (each caller says which values become what).
pub fn rewrite_annotation_values(object: &mut Value, text: impl Fn(&Value) -> Option<String>) {
    let Some(Value::Object(annotations)) = object.pointer_mut("/metadata/annotations") else {
        return;
    };
    for value in annotations.values_mut() {
        if let Some(t) = text(value) {
            *value = Value::String(t);
        }
    }
}

/// Turns `v` into a map if it is not one (callers only do this on objects they own).
pub fn ensure_map(v: &mut Value) -> &mut Map<String, Value> {
    if !v.is_object() {
        *v = Value::Object(Map::new());
    }
    match v {
        Value::Object(m) => m,
        // Unreachable: set to an object just above.
        _ => unreachable!("value was just made an object"),
    }
}
