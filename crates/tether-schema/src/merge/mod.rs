//! Server-side apply (smd's `merge.Updater`): ownership of fields by managers, conflicts, and
//! the merge of an applied configuration into the live object.
//!
//! * [`Updater::update`] records a non-apply write: the fields it changed move to the writer.
//! * [`Updater::apply`] merges a configuration: conflicts with other managers fail the apply
//!   unless forced (then their ownership moves to the applier); fields the applier applied
//!   before, no longer applies, and nobody else owns are removed from the object.

mod conflict;
mod prune;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use crate::fieldpath::{Path, Set};
use crate::typed::{Comparison, TypedValue, ValidationErrors, reconcile_field_set_with_schema};

pub use conflict::{Conflict, Conflicts};
pub use prune::ensure_named_fields_are_members;

/// The fields one manager owns, in the API version it last wrote them with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionedSet {
    pub set: Set,
    pub api_version: String,
    /// Whether the manager's last write was an apply.
    pub applied: bool,
}

/// Managers and what they own. A manager never holds an empty set.
pub type ManagedFields = BTreeMap<String, VersionedSet>;

/// Why a conversion between versions failed.
#[derive(Debug, thiserror::Error)]
pub enum ConversionError {
    /// The version no longer exists: managers at that version are dropped, as smd does.
    #[error("version {0:?} is not served")]
    MissingVersion(String),
    #[error("{0}")]
    Failed(String),
}

/// Converts objects between the API versions managers wrote them in.
pub trait Converter {
    /// `object` in `version`, or `None` when it is already in that form.
    fn convert<'s>(
        &self,
        object: &TypedValue<'s>,
        version: &str,
    ) -> Result<Option<TypedValue<'s>>, ConversionError>;
}

/// The converter for a single version: every object is already in every form.
#[derive(Clone, Copy, Debug, Default)]
pub struct IdentityConverter;

impl Converter for IdentityConverter {
    fn convert<'s>(
        &self,
        _object: &TypedValue<'s>,
        version: &str,
    ) -> Result<Option<TypedValue<'s>>, ConversionError> {
        if version.is_empty() {
            return Err(ConversionError::Failed(
                "cannot convert to an empty API version".to_owned(),
            ));
        }
        Ok(None)
    }
}

/// Fields whose ownership is never recorded for writes in a version.
#[derive(Clone, Debug)]
pub enum Filter {
    /// Ignore these fields and everything below them (kube-apiserver: `status` on the main
    /// resource, `spec` and friends on `/status`).
    Exclude(Set),
    /// Ignore everything except paths starting with one of these prefixes.
    IncludePrefixes(Vec<Path>),
}

impl Filter {
    pub fn apply(&self, set: &Set) -> Set {
        match self {
            Filter::Exclude(excluded) => set.recursive_difference(excluded),
            Filter::IncludePrefixes(prefixes) => set.filter_prefixes(prefixes),
        }
    }

    fn apply_comparison(&self, c: Comparison) -> Comparison {
        Comparison {
            added: self.apply(&c.added),
            modified: self.apply(&c.modified),
            removed: self.apply(&c.removed),
        }
    }
}

/// Why an update or apply failed.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// A non-forced apply would change fields other managers own; nothing was changed.
    #[error(transparent)]
    Conflicts(#[from] Conflicts),
    #[error("failed to merge the applied configuration: {0}")]
    Merge(ValidationErrors),
    #[error("failed to compare objects: {0}")]
    Compare(ValidationErrors),
    #[error("failed to compute the field set: {0}")]
    FieldSet(ValidationErrors),
    #[error("failed to convert to {version}: {source}")]
    Conversion {
        version: String,
        #[source]
        source: ConversionError,
    },
}

/// Computes ownership changes and applies configurations.
pub struct Updater<'c> {
    converter: &'c dyn Converter,
    ignored: HashMap<String, Filter>,
}

impl std::fmt::Debug for Updater<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Updater")
            .field("ignored", &self.ignored)
            .finish_non_exhaustive()
    }
}

const IDENTITY: IdentityConverter = IdentityConverter;

impl Default for Updater<'static> {
    fn default() -> Self {
        Updater::new(&IDENTITY)
    }
}

impl<'c> Updater<'c> {
    pub fn new(converter: &'c dyn Converter) -> Self {
        Updater {
            converter,
            ignored: HashMap::new(),
        }
    }

    /// Never records ownership of `filter`'s fields for writes in `version`.
    pub fn with_ignored(mut self, version: impl Into<String>, filter: Filter) -> Self {
        self.ignored.insert(version.into(), filter);
        self
    }

    fn convert<'a, 's>(
        &self,
        object: &'a TypedValue<'s>,
        version: &str,
    ) -> Result<Cow<'a, TypedValue<'s>>, ConversionError> {
        Ok(match self.converter.convert(object, version)? {
            Some(converted) => Cow::Owned(converted),
            None => Cow::Borrowed(object),
        })
    }

    fn filter(&self, version: &str, c: Comparison) -> Comparison {
        match self.ignored.get(version) {
            Some(f) => f.apply_comparison(c),
            None => c,
        }
    }

    /// Records a non-apply write of `new` over `live` by `manager` in `version` (`managers` are
    /// the managers before the write): fields it
    /// added or changed become its own (taken from other managers), removed fields are dropped
    /// from everybody. Returns the new managed fields.
    pub fn update(
        &self,
        live: &TypedValue<'_>,
        new: &TypedValue<'_>,
        version: &str,
        managers: ManagedFields,
        manager: &str,
    ) -> Result<ManagedFields, MergeError> {
        let mut managers = self.reconcile_with_schema(live, managers)?;
        let compare = self.update_managers(live, new, version, &mut managers, manager, true)?;
        let previous = managers.remove(manager).map(|v| v.set).unwrap_or_default();
        let mut set = previous
            .difference(&compare.removed)
            .union(&compare.modified)
            .union(&compare.added);
        if let Some(f) = self.ignored.get(version) {
            set = f.apply(&set);
        }
        if !set.is_empty() {
            managers.insert(
                manager.to_owned(),
                VersionedSet {
                    set,
                    api_version: version.to_owned(),
                    applied: false,
                },
            );
        }
        Ok(managers)
    }

    /// Applies `config` by `manager` in `version` to `live`. Returns the new object and the new
    /// managed fields. Without `force`, changing fields other managers own fails with
    /// [`MergeError::Conflicts`] and changes nothing.
    pub fn apply(
        &self,
        live: &TypedValue<'_>,
        config: &TypedValue<'_>,
        version: &str,
        managers: ManagedFields,
        manager: &str,
        force: bool,
    ) -> Result<(Value, ManagedFields), MergeError> {
        let mut managers = self.reconcile_with_schema(live, managers)?;
        let merged = live.merge(config).map_err(MergeError::Merge)?;
        let last = managers.get(manager).cloned();
        let mut set = config.to_field_set().map_err(MergeError::FieldSet)?;
        if let Some(f) = self.ignored.get(version) {
            set = f.apply(&set);
        }
        managers.insert(
            manager.to_owned(),
            VersionedSet {
                set,
                api_version: version.to_owned(),
                applied: true,
            },
        );
        // Nothing can be pruned when every path applied last time is applied again in the same
        // version: the new set keeps all of it (and the list items and map entries above it).
        let reapplied = last.as_ref().is_none_or(|l| {
            l.api_version == version && l.set.difference(&managers[manager].set).is_empty()
        });
        let new = if reapplied {
            merged
        } else {
            self.prune(merged, &managers, manager, last.as_ref())?
        };
        self.update_managers(live, &new, version, &mut managers, manager, force)?;
        Ok((new.value, managers))
    }

    /// Moves ownership after a write from `old` to `new` by `workflow`: other managers lose
    /// fields that were removed, and (forced) fields that were changed; without force, changed
    /// fields they own are conflicts. Returns the comparison in `version`, filtered.
    fn update_managers(
        &self,
        old: &TypedValue<'_>,
        new: &TypedValue<'_>,
        version: &str,
        managers: &mut ManagedFields,
        workflow: &str,
        force: bool,
    ) -> Result<Comparison, MergeError> {
        let compare = self.filter(version, old.compare(new).map_err(MergeError::Compare)?);
        let mut versions: HashMap<String, Comparison> = HashMap::new();
        let mut conflicts: Vec<(String, Set)> = Vec::new();
        let mut removed: Vec<(String, Set)> = Vec::new();
        let mut dropped: Vec<String> = Vec::new();
        for (name, owned) in managers.iter() {
            if name == workflow {
                continue;
            }
            let cmp = if owned.api_version == version {
                &compare
            } else {
                if !versions.contains_key(&owned.api_version) {
                    let at = &owned.api_version;
                    let converted = self
                        .convert(old, at)
                        .and_then(|o| self.convert(new, at).map(|n| (o, n)));
                    let (o, n) = match converted {
                        Ok(pair) => pair,
                        Err(ConversionError::MissingVersion(_)) => {
                            dropped.push(name.clone());
                            continue;
                        }
                        Err(source) => {
                            return Err(MergeError::Conversion {
                                version: at.clone(),
                                source,
                            });
                        }
                    };
                    let c = o.compare(&n).map_err(MergeError::Compare)?;
                    versions.insert(at.clone(), self.filter(at, c));
                }
                &versions[&owned.api_version]
            };
            let conflict = owned.set.intersection(&cmp.modified.union(&cmp.added));
            if !conflict.is_empty() {
                conflicts.push((name.clone(), conflict));
            }
            if !cmp.removed.is_empty() {
                removed.push((name.clone(), cmp.removed.clone()));
            }
        }
        for name in dropped {
            managers.remove(&name);
        }
        if !force && !conflicts.is_empty() {
            return Err(Conflicts::from_sets(
                conflicts
                    .iter()
                    .map(|(m, s)| (m.as_str(), managers[m].api_version.as_str(), s)),
            )
            .into());
        }
        for (name, set) in conflicts.iter().chain(&removed) {
            if let Some(owned) = managers.get_mut(name) {
                owned.set = owned.set.difference(set);
            }
        }
        managers.retain(|_, owned| !owned.set.is_empty());
        Ok(compare)
    }

    /// Adapts every manager's set to schema changes since it was written (smd's
    /// `reconcileManagedFieldsWithSchemaChanges`).
    fn reconcile_with_schema(
        &self,
        live: &TypedValue<'_>,
        mut managers: ManagedFields,
    ) -> Result<ManagedFields, MergeError> {
        let mut dropped = Vec::new();
        for (name, owned) in managers.iter_mut() {
            let converted = match self.convert(live, &owned.api_version) {
                Ok(c) => c,
                Err(ConversionError::MissingVersion(_)) => {
                    dropped.push(name.clone());
                    continue;
                }
                Err(source) => {
                    return Err(MergeError::Conversion {
                        version: owned.api_version.clone(),
                        source,
                    });
                }
            };
            if let Some(set) =
                reconcile_field_set_with_schema(&owned.set, converted.schema, converted.ty)
            {
                owned.set = set;
            }
        }
        for name in dropped {
            managers.remove(&name);
        }
        Ok(managers)
    }
}

/// The fields kube-apiserver never records as owned: type meta and the object metadata the
/// server sets (its `stripMetaManager` set).
pub fn kube_server_fields() -> Set {
    let mut set = Set::new();
    for path in [
        &["apiVersion"][..],
        &["kind"],
        &["metadata"],
        &["metadata", "name"],
        &["metadata", "namespace"],
        &["metadata", "creationTimestamp"],
        &["metadata", "selfLink"],
        &["metadata", "uid"],
        &["metadata", "clusterName"],
        &["metadata", "generation"],
        &["metadata", "managedFields"],
        &["metadata", "resourceVersion"],
    ] {
        set.insert(&Path::fields(path.iter().copied()).0);
    }
    set
}

/// Removes [`kube_server_fields`] from `manager`'s set after an apply or update, dropping the
/// manager when nothing is left, as kube-apiserver does.
pub fn strip_kube_server_fields(managers: &mut ManagedFields, manager: &str) {
    if let Some(owned) = managers.get_mut(manager) {
        owned.set = owned.set.difference(&kube_server_fields());
        if owned.set.is_empty() {
            managers.remove(manager);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::builtin::{builtin_schema, type_for_gvk};

    #[test]
    fn apply_prunes_what_the_applier_dropped_and_ignores_status() {
        let schema = builtin_schema();
        let ty = type_for_gvk("apps", "v1", "Deployment").unwrap();
        let status = Set::from_paths([&Path::fields(["status"])]);
        let updater = Updater::default().with_ignored("apps/v1", Filter::Exclude(status));
        let config = |containers: Value| {
            json!({"spec": {"replicas": 1, "template": {"spec": {"containers": containers}}},
                   "status": {"replicas": 1}})
        };
        let two = config(json!([{"name": "a", "image": "a"}, {"name": "b", "image": "b"}]));
        let (object, managers) = updater
            .apply(
                &TypedValue::new(schema, ty, Value::Null),
                &TypedValue::new(schema, ty, two),
                "apps/v1",
                ManagedFields::new(),
                "m",
                false,
            )
            .unwrap();
        assert!(!managers["m"].set.to_fields_v1_json().contains("status"));
        let one = config(json!([{"name": "a", "image": "a"}]));
        let (object, managers) = updater
            .apply(
                &TypedValue::new(schema, ty, object),
                &TypedValue::new(schema, ty, one),
                "apps/v1",
                managers,
                "m",
                false,
            )
            .unwrap();
        assert_eq!(
            object["spec"]["template"]["spec"]["containers"],
            json!([{"name": "a", "image": "a"}])
        );
        assert_eq!(
            managers["m"].set.to_fields_v1_json(),
            r#"{"f:spec":{"f:replicas":{},"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"a\"}":{".":{},"f:image":{},"f:name":{}}}}}}}"#
        );
    }
}
