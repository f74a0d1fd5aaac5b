//! The inventory Flux keeps in a Kustomization's status: one entry per applied object, with the
//! object's id and API version, and the rule that finds what to prune.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::changeset::ChangeSet;
use crate::object::{ObjectRef, ParseIdError};
use crate::sort::sort_objects;

/// `status.inventory` of a Kustomization (Flux's `ResourceInventory`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    #[serde(default)]
    pub entries: Vec<InventoryEntry>,
}

/// Flux's `ResourceRef`: `id` is `<namespace>_<name>_<group>_<kind>`, `v` the version alone
/// (`v1`, not `apps/v1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryEntry {
    pub id: String,
    pub v: String,
}

impl InventoryEntry {
    pub fn new(object: &ObjectRef) -> InventoryEntry {
        InventoryEntry {
            id: object.id(),
            v: object.version.clone(),
        }
    }

    /// The object, with the entry's version.
    pub fn object(&self) -> Result<ObjectRef, ParseIdError> {
        let mut object = ObjectRef::parse_id(&self.id)?;
        object.version = self.v.clone();
        Ok(object)
    }
}

impl Inventory {
    /// The inventory of everything an apply handled (skipped objects included, as Flux's
    /// `AddChangeSet` does: an object the user told us to ignore is still ours to track).
    pub fn from_change_set(set: &ChangeSet) -> Inventory {
        Inventory {
            entries: set
                .entries
                .iter()
                .map(|e| InventoryEntry::new(&e.object))
                .collect(),
        }
    }

    pub fn from_objects<'a>(objects: impl IntoIterator<Item = &'a ObjectRef>) -> Inventory {
        Inventory {
            entries: objects.into_iter().map(InventoryEntry::new).collect(),
        }
    }

    /// Every object, in Flux's apply order.
    pub fn objects(&self) -> Result<Vec<ObjectRef>, ParseIdError> {
        let mut objects = self
            .entries
            .iter()
            .map(InventoryEntry::object)
            .collect::<Result<Vec<_>, _>>()?;
        sort_objects(&mut objects);
        Ok(objects)
    }

    /// The stale objects: in `self` (the last applied inventory) but not in `new`, compared by
    /// id (group, kind, namespace, name; the version does not count), with the version recorded
    /// in `self`, in Flux's apply order (prune reverses it).
    pub fn diff(&self, new: &Inventory) -> Result<Vec<ObjectRef>, ParseIdError> {
        let keep: HashSet<ObjectRef> = new
            .entries
            .iter()
            .map(InventoryEntry::object)
            .collect::<Result<_, _>>()?;
        let mut seen = HashSet::new();
        let mut stale = vec![];
        for entry in &self.entries {
            let object = entry.object()?;
            if !keep.contains(&object) && seen.insert(object.clone()) {
                stale.push(object);
            }
        }
        sort_objects(&mut stale);
        Ok(stale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::changeset::Action;

    fn inv(ids: &[(&str, &str)]) -> Inventory {
        Inventory {
            entries: ids
                .iter()
                .map(|(id, v)| InventoryEntry {
                    id: (*id).to_owned(),
                    v: (*v).to_owned(),
                })
                .collect(),
        }
    }

    #[test]
    fn diff_finds_stale_objects_by_id_whatever_the_version() {
        let old = inv(&[
            ("_apps__Namespace", "v1"),
            ("apps_web_apps_Deployment", "v1"),
            ("apps_old_autoscaling_HorizontalPodAutoscaler", "v2"),
            ("apps_gone__ConfigMap", "v1"),
        ]);
        let new = inv(&[
            ("_apps__Namespace", "v1"),
            ("apps_web_apps_Deployment", "v1"),
            ("apps_old_autoscaling_HorizontalPodAutoscaler", "v1"),
        ]);
        let stale = old.diff(&new).unwrap();
        assert_eq!(stale.len(), 1);
        assert_eq!(stale[0].to_string(), "ConfigMap/apps/gone");
        assert_eq!(stale[0].version, "v1");
        assert!(new.diff(&old).unwrap().is_empty());
    }

    #[test]
    fn diff_orders_stale_objects_as_flux_applies_them() {
        let old = inv(&[
            ("apps_web_apps_Deployment", "v1"),
            ("_apps__Namespace", "v1"),
            ("apps_cfg__ConfigMap", "v1"),
        ]);
        let stale = old.diff(&Inventory::default()).unwrap();
        let kinds: Vec<&str> = stale.iter().map(|o| o.kind.as_str()).collect();
        assert_eq!(kinds, ["Namespace", "ConfigMap", "Deployment"]);
    }

    #[test]
    fn entries_come_from_a_change_set_with_the_bare_version() {
        let mut cs = ChangeSet::new();
        cs.add(
            ObjectRef::new("apps/v1", "Deployment", "d", "web"),
            Action::Created,
        );
        cs.add(ObjectRef::new("v1", "Namespace", "", "d"), Action::Skipped);
        let inv = Inventory::from_change_set(&cs);
        assert_eq!(
            serde_json::to_value(&inv).unwrap(),
            serde_json::json!({"entries": [
                {"id": "d_web_apps_Deployment", "v": "v1"},
                {"id": "_d__Namespace", "v": "v1"}
            ]})
        );
        assert!(inv.diff(&Inventory::default()).unwrap().len() == 2);
    }

    #[test]
    fn a_bad_id_is_an_error_naming_it() {
        let err = inv(&[("bad", "v1")]).objects().unwrap_err();
        assert_eq!(err.id, "bad");
    }
}
