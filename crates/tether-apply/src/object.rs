//! Object identity: Flux's `ObjMetadata` (group, kind, namespace, name) with the version carried
//! alongside, its inventory id format, and small readers of an object's metadata.

use std::collections::BTreeMap;
use std::fmt;
use std::hash::{Hash, Hasher};

use serde_json::Value;

/// Separates the fields of an inventory id.
const FIELD_SEPARATOR: char = '_';
/// A `:` in a name (RBAC objects) is written as `__` in an inventory id, as cli-utils does.
const COLON_TRANSCODED: &str = "__";

/// One object: its group, kind, namespace (empty when cluster-scoped) and name, plus the API
/// version used to reach it.
///
/// Identity (`==`, hashing, ordering, the inventory id) is group, kind, namespace and name, as
/// Flux's `ObjMetadata`; the version only says which version to request it in.
#[derive(Debug, Clone, Default)]
pub struct ObjectRef {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

/// An inventory id that does not have the four fields of `<namespace>_<name>_<group>_<kind>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid inventory id {id:?}: {reason}")]
pub struct ParseIdError {
    pub id: String,
    pub reason: &'static str,
}

impl ObjectRef {
    pub fn new(api_version: &str, kind: &str, namespace: &str, name: &str) -> ObjectRef {
        let (group, version) = split_api_version(api_version);
        ObjectRef {
            group: group.to_owned(),
            version: version.to_owned(),
            kind: kind.to_owned(),
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        }
    }

    /// The identity of a manifest or a live object (`apiVersion`, `kind`, `metadata`).
    pub fn from_object(object: &Value) -> ObjectRef {
        let s = |pointer: &str| {
            object
                .pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or("")
        };
        ObjectRef::new(
            s("/apiVersion"),
            s("/kind"),
            s("/metadata/namespace"),
            s("/metadata/name"),
        )
    }

    /// `group/version`, or `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Flux's inventory id: `<namespace>_<name>_<group>_<kind>`; empty fields stay empty
    /// (`_ns1__Namespace`), a `:` in the name becomes `__`.
    pub fn id(&self) -> String {
        format!(
            "{}_{}_{}_{}",
            self.namespace,
            self.name.replace(':', COLON_TRANSCODED),
            self.group,
            self.kind
        )
    }

    /// Parses an inventory id the way cli-utils' `ParseObjMetadata` does: the namespace is up to
    /// the first `_`, the kind after the last, the group before that, and the rest is the name.
    /// The version is left empty.
    pub fn parse_id(id: &str) -> Result<ObjectRef, ParseIdError> {
        let err = |reason| ParseIdError {
            id: id.to_owned(),
            reason,
        };
        let (namespace, rest) = id
            .split_once(FIELD_SEPARATOR)
            .ok_or_else(|| err("no field separator"))?;
        let (rest, kind) = rest
            .rsplit_once(FIELD_SEPARATOR)
            .ok_or_else(|| err("no kind field"))?;
        let (name, group) = rest
            .rsplit_once(FIELD_SEPARATOR)
            .ok_or_else(|| err("no group field"))?;
        let name = name.replace(COLON_TRANSCODED, ":");
        if name.contains(FIELD_SEPARATOR) {
            return Err(err("too many fields"));
        }
        if name.is_empty() || kind.is_empty() {
            return Err(err("empty name or kind"));
        }
        Ok(ObjectRef {
            group: group.to_owned(),
            version: String::new(),
            kind: kind.to_owned(),
            namespace: namespace.to_owned(),
            name,
        })
    }

    fn key(&self) -> (&str, &str, &str, &str) {
        (&self.group, &self.kind, &self.namespace, &self.name)
    }
}

/// Flux's subject format: `Kind/namespace/name`, or `Kind/name` when cluster-scoped.
impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{}/{}", self.kind, self.name)
        } else {
            write!(f, "{}/{}/{}", self.kind, self.namespace, self.name)
        }
    }
}

impl PartialEq for ObjectRef {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for ObjectRef {}

impl Hash for ObjectRef {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}

/// `(group, version)` of an `apiVersion`: `apps/v1` → `("apps", "v1")`, `v1` → `("", "v1")`.
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    api_version.rsplit_once('/').unwrap_or(("", api_version))
}

/// The string map at `/metadata/<field>` (labels or annotations); empty when absent.
pub fn string_map(object: &Value, field: &str) -> BTreeMap<String, String> {
    object
        .get("metadata")
        .and_then(|m| m.get(field))
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

pub fn label<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    object.pointer("/metadata/labels")?.get(key)?.as_str()
}

pub fn annotation<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    object.pointer("/metadata/annotations")?.get(key)?.as_str()
}

/// Whether any of `selector`'s pairs is among the object's labels or annotations, values compared
/// case-insensitively (Flux's `AnyInMetadata`: `Ignore`, `ignore` and `IGNORE` all match).
pub fn any_in_metadata(object: &Value, selector: &BTreeMap<String, String>) -> bool {
    selector.iter().any(|(key, want)| {
        [label(object, key), annotation(object, key)]
            .into_iter()
            .flatten()
            .any(|have| !have.is_empty() && have.eq_ignore_ascii_case(want))
    })
}

pub fn uid(object: &Value) -> &str {
    object
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn inventory_ids_round_trip() {
        let cases = [
            (
                ObjectRef::new("v1", "Namespace", "", "ns1"),
                "_ns1__Namespace",
            ),
            (
                ObjectRef::new("apps/v1", "Deployment", "default", "web"),
                "default_web_apps_Deployment",
            ),
            (
                ObjectRef::new(
                    "rbac.authorization.k8s.io/v1",
                    "ClusterRole",
                    "",
                    "system:controller:web",
                ),
                "_system__controller__web_rbac.authorization.k8s.io_ClusterRole",
            ),
        ];
        for (object, id) in cases {
            assert_eq!(object.id(), id);
            let parsed = ObjectRef::parse_id(id).unwrap();
            assert_eq!(parsed, object);
            assert_eq!(parsed.name, object.name);
            assert_eq!(parsed.namespace, object.namespace);
            assert_eq!(parsed.group, object.group);
            assert_eq!(parsed.kind, object.kind);
        }
    }

    #[test]
    fn malformed_ids_are_refused() {
        for id in [
            "",
            "nope",
            "a_b",
            "ns_na_me_apps_Deployment",
            "ns__apps_Deployment",
        ] {
            let err = ObjectRef::parse_id(id).unwrap_err();
            assert_eq!(err.id, id);
        }
    }

    #[test]
    fn display_is_flux_subject() {
        assert_eq!(
            ObjectRef::new("apps/v1", "Deployment", "default", "web").to_string(),
            "Deployment/default/web"
        );
        assert_eq!(
            ObjectRef::new("v1", "Namespace", "", "a").to_string(),
            "Namespace/a"
        );
    }

    #[test]
    fn identity_ignores_version() {
        let a = ObjectRef::new("autoscaling/v1", "HorizontalPodAutoscaler", "d", "x");
        let b = ObjectRef::new("autoscaling/v2", "HorizontalPodAutoscaler", "d", "x");
        assert_eq!(a, b);
        assert_eq!(a.api_version(), "autoscaling/v1");
    }

    #[test]
    fn selectors_match_labels_or_annotations_case_insensitively() {
        let o = json!({"metadata": {
            "labels": {"a": "Enabled"},
            "annotations": {"kustomize.toolkit.fluxcd.io/ssa": "ignore", "e": ""}
        }});
        let sel = |k: &str, v: &str| BTreeMap::from([(k.to_owned(), v.to_owned())]);
        assert!(any_in_metadata(&o, &sel("a", "enabled")));
        assert!(any_in_metadata(
            &o,
            &sel("kustomize.toolkit.fluxcd.io/ssa", "Ignore")
        ));
        assert!(!any_in_metadata(
            &o,
            &sel("kustomize.toolkit.fluxcd.io/ssa", "Merge")
        ));
        assert!(!any_in_metadata(&o, &sel("e", "")));
        assert!(!any_in_metadata(&json!({}), &sel("a", "Enabled")));
    }
}
