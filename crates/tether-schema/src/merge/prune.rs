//! Removal of fields an applier no longer applies (smd's `prune`, `addBackOwnedItems`,
//! `addBackDanglingItems`): a field, list item or map entry goes away only when the applier
//! applied it last time, does not apply it now, and no other manager owns it.

use std::collections::BTreeMap;

use super::{ConversionError, ManagedFields, MergeError, Updater, VersionedSet};
use crate::fieldpath::{PathElement, Set};
use crate::schema::{Schema, TypeId};
use crate::typed::TypedValue;

impl Updater<'_> {
    pub(super) fn prune<'s>(
        &self,
        merged: TypedValue<'s>,
        managers: &ManagedFields,
        applier: &str,
        last: Option<&VersionedSet>,
    ) -> Result<TypedValue<'s>, MergeError> {
        let Some(last) = last.filter(|l| !l.set.is_empty()) else {
            return Ok(merged);
        };
        let version = last.api_version.as_str();
        let converted = match self.convert(&merged, version) {
            Ok(c) => c.into_owned(),
            Err(ConversionError::MissingVersion(_)) => return Ok(merged),
            Err(source) => return Err(conversion(version, source)),
        };
        let last_set = ensure_named_fields_are_members(&last.set, converted.schema, converted.ty);
        let pruned = converted.remove_items(&last_set);
        let pruned = self.add_back_owned_items(&converted, pruned, version, managers)?;
        let pruned = self.add_back_dangling_items(&converted, pruned, last)?;
        let target = managers
            .get(applier)
            .map(|m| m.api_version.as_str())
            .unwrap_or(version);
        match self.convert(&pruned, target) {
            Ok(c) => Ok(c.into_owned()),
            Err(source) => Err(conversion(target, source)),
        }
    }

    /// Puts back what pruning removed but some manager (the applier's new set included) owns,
    /// version by version, the pruned version first so fields that conversions rely on return
    /// before any conversion.
    fn add_back_owned_items<'s>(
        &self,
        merged: &TypedValue<'s>,
        pruned: TypedValue<'s>,
        pruned_version: &str,
        managers: &ManagedFields,
    ) -> Result<TypedValue<'s>, MergeError> {
        let mut at_version: BTreeMap<&str, Set> = BTreeMap::new();
        for owned in managers.values() {
            let entry = at_version.entry(owned.api_version.as_str()).or_default();
            *entry = entry.union(&owned.set);
        }
        let mut order: Vec<(&str, Set)> = Vec::with_capacity(at_version.len());
        if let Some(set) = at_version.remove(pruned_version) {
            order.push((pruned_version, set));
        }
        order.extend(at_version);
        let mut merged = merged.clone();
        let mut pruned = pruned;
        for (version, managed) in order {
            let m = match self.convert(&merged, version) {
                Ok(c) => c.into_owned(),
                Err(ConversionError::MissingVersion(_)) => continue,
                Err(source) => return Err(conversion(version, source)),
            };
            let p = match self.convert(&pruned, version) {
                Ok(c) => c.into_owned(),
                Err(ConversionError::MissingVersion(_)) => continue,
                Err(source) => return Err(conversion(version, source)),
            };
            let merged_set = m.to_field_set().map_err(MergeError::FieldSet)?;
            let pruned_set = p.to_field_set().map_err(MergeError::FieldSet)?;
            let (schema, ty) = (m.schema, m.ty);
            let keep = ensure_named_fields_are_members(&pruned_set, schema, ty)
                .union(&ensure_named_fields_are_members(&managed, schema, ty));
            let remove = ensure_named_fields_are_members(&merged_set, schema, ty).difference(&keep);
            pruned = m.remove_items(&remove);
            merged = m;
        }
        Ok(pruned)
    }

    /// Puts back what pruning removed that the applier did not own last time (unowned fields,
    /// fields of updaters).
    fn add_back_dangling_items<'s>(
        &self,
        merged: &TypedValue<'s>,
        pruned: TypedValue<'s>,
        last: &VersionedSet,
    ) -> Result<TypedValue<'s>, MergeError> {
        let converted = match self.convert(&pruned, &last.api_version) {
            Ok(c) => c,
            Err(ConversionError::MissingVersion(_)) => return Ok(merged.clone()),
            Err(source) => return Err(conversion(&last.api_version, source)),
        };
        let pruned_set = converted.to_field_set().map_err(MergeError::FieldSet)?;
        let merged_set = merged.to_field_set().map_err(MergeError::FieldSet)?;
        let (schema, ty) = (merged.schema, merged.ty);
        let pruned_set = ensure_named_fields_are_members(&pruned_set, schema, ty);
        let merged_set = ensure_named_fields_are_members(&merged_set, schema, ty);
        let last_set = ensure_named_fields_are_members(&last.set, schema, ty);
        Ok(merged.remove_items(&merged_set.difference(&pruned_set).intersection(&last_set)))
    }
}

fn conversion(version: &str, source: ConversionError) -> MergeError {
    MergeError::Conversion {
        version: version.to_owned(),
        source,
    }
}

/// `set` plus every declared struct field that has members below it (smd's
/// `EnsureNamedFieldsAreMembers`): removing `.spec.replicas` then removes an emptied `.spec`.
pub fn ensure_named_fields_are_members(set: &Set, schema: &Schema, ty: TypeId) -> Set {
    ensure(set, schema, Some(ty))
}

fn ensure(set: &Set, schema: &Schema, ty: Option<TypeId>) -> Set {
    let atom = ty.map(|t| schema.atom(t));
    let map = atom.and_then(|a| a.map.as_ref());
    let list = atom.and_then(|a| a.list.as_ref());
    let mut members = set.members().to_vec();
    let mut children = Vec::with_capacity(set.children().len());
    for (pe, child) in set.children() {
        let child_ty = match (pe, map, list) {
            (PathElement::Field(name), Some(m), _) => {
                if m.field(name).is_some() && !members.contains(pe) {
                    members.push(pe.clone());
                }
                m.entry_type(name)
            }
            (PathElement::Key(_), _, Some(l)) => Some(l.element),
            _ => None,
        };
        children.push((pe.clone(), ensure(child, schema, child_ty)));
    }
    members.sort();
    Set::from_parts(members, children)
}
