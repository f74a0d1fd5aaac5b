//! Inventory entry ids: `<namespace>_<name>_<group>_<kind>` (cli-utils' `ObjMetadata`), with a
//! `:` in the name written `__` (RBAC names such as `system:controller`).

use std::fmt;

use crate::kustomize::ResourceRef;

/// The object an inventory entry names.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InventoryId {
    /// Empty for cluster-scoped objects.
    pub namespace: String,
    pub name: String,
    /// Empty for the core group.
    pub group: String,
    pub kind: String,
}

/// Why an inventory id could not be read; the message quotes it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid inventory id {id:?}: {reason}")]
pub struct InventoryIdError {
    pub id: String,
    pub reason: &'static str,
}

impl InventoryId {
    pub fn new(
        namespace: impl Into<String>,
        name: impl Into<String>,
        group: impl Into<String>,
        kind: impl Into<String>,
    ) -> InventoryId {
        InventoryId {
            namespace: namespace.into(),
            name: name.into(),
            group: group.into(),
            kind: kind.into(),
        }
    }

    /// Reads an id back, as cli-utils' `ParseObjMetadata` does.
    pub fn parse(id: &str) -> Result<InventoryId, InventoryIdError> {
        let err = |reason| InventoryIdError {
            id: id.to_owned(),
            reason,
        };
        let (namespace, rest) = id.split_once('_').ok_or_else(|| err("too few fields"))?;
        let (rest, kind) = rest.rsplit_once('_').ok_or_else(|| err("too few fields"))?;
        let (name, group) = rest.rsplit_once('_').ok_or_else(|| err("too few fields"))?;
        let name = name.replace("__", ":");
        if name.contains('_') {
            return Err(err("too many fields"));
        }
        if name.is_empty() || kind.is_empty() {
            return Err(err("empty name or kind"));
        }
        Ok(InventoryId::new(namespace, name, group, kind))
    }

    /// The inventory entry of this object applied with `version` (`v1`, `v1beta1`, …).
    pub fn entry(&self, version: impl Into<String>) -> ResourceRef {
        ResourceRef {
            id: self.to_string(),
            v: version.into(),
        }
    }
}

impl fmt::Display for InventoryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}_{}_{}_{}",
            self.namespace,
            self.name.replace(':', "__"),
            self.group,
            self.kind
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn formats_and_parses_fluxs_ids() {
        let cases = [
            (
                InventoryId::new("default", "podinfo", "", "Service"),
                "default_podinfo__Service",
            ),
            (
                InventoryId::new("default", "podinfo", "apps", "Deployment"),
                "default_podinfo_apps_Deployment",
            ),
            (
                InventoryId::new("", "apps", "", "Namespace"),
                "_apps__Namespace",
            ),
            (
                InventoryId::new(
                    "",
                    "system:controller",
                    "rbac.authorization.k8s.io",
                    "ClusterRole",
                ),
                "_system__controller_rbac.authorization.k8s.io_ClusterRole",
            ),
        ];
        for (id, text) in cases {
            assert_eq!(id.to_string(), text);
            assert_eq!(InventoryId::parse(text).unwrap(), id);
        }
        let entry = InventoryId::new("default", "web", "apps", "Deployment").entry("v1");
        assert_eq!(
            (entry.id.as_str(), entry.v.as_str()),
            ("default_web_apps_Deployment", "v1")
        );
    }

    #[test]
    fn refuses_malformed_ids() {
        assert_eq!(
            InventoryId::parse("default_web").unwrap_err().to_string(),
            r#"invalid inventory id "default_web": too few fields"#
        );
        assert_eq!(
            InventoryId::parse("ns_a_b_apps_Deployment")
                .unwrap_err()
                .reason,
            "too many fields"
        );
    }
}
