//! The schema model (smd's `schema` package): named types made of atoms (scalar, list, map),
//! compiled from [`SchemaDef`] into an arena where every type reference is a [`TypeId`].
//!
//! Compilation resolves `namedType` references, inlined types and element-relationship
//! overrides once, so that walking a value never looks a name up.

mod def;

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

pub use def::{
    AtomDef, ElementRelationship, FieldDef, ListDef, MapDef, Scalar, SchemaDef, TypeDef,
    TypeRefDef, UNTYPED_ATOMIC, UNTYPED_DEDUCED, common_types,
};

/// A type in a compiled [`Schema`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TypeId(u32);

impl TypeId {
    fn index(self) -> usize {
        self.0 as usize
    }
}

/// The shapes a value of a type may take. Typed Kubernetes fields have exactly one; untyped
/// content has all three and the value decides.
#[derive(Clone, Debug, Default)]
pub struct Atom {
    pub scalar: Option<Scalar>,
    pub list: Option<ListType>,
    pub map: Option<MapType>,
}

/// A list type.
#[derive(Clone, Debug)]
pub struct ListType {
    pub element: TypeId,
    /// `None` when the schema does not say (smd then indexes items by position).
    pub relationship: Option<ElementRelationship>,
    /// Key fields of an associative list of maps; empty for sets of scalars.
    pub keys: Vec<Arc<str>>,
}

impl ListType {
    pub fn is_atomic(&self) -> bool {
        self.relationship == Some(ElementRelationship::Atomic)
    }

    pub fn is_associative(&self) -> bool {
        self.relationship == Some(ElementRelationship::Associative)
    }
}

/// A map or struct type.
#[derive(Clone, Debug)]
pub struct MapType {
    /// Declared fields, sorted by name.
    fields: Vec<StructField>,
    /// Field positions by name, for structs large enough that hashing beats a binary search.
    index: Option<HashMap<Arc<str>, usize, FnvBuild>>,
    /// Type of undeclared entries; `None`: undeclared entries are not allowed.
    pub element: Option<TypeId>,
    pub relationship: Option<ElementRelationship>,
    /// A map of deduced entries without fields (`x-kubernetes-preserve-unknown-fields` content).
    pub(crate) untyped_deduced: bool,
}

impl MapType {
    pub fn is_atomic(&self) -> bool {
        self.relationship == Some(ElementRelationship::Atomic)
    }

    /// The declared field `name`.
    pub fn field(&self, name: &str) -> Option<&StructField> {
        if let Some(index) = &self.index {
            return index.get(name).map(|i| &self.fields[*i]);
        }
        self.fields
            .binary_search_by(|f| f.name.as_bytes().cmp(name.as_bytes()))
            .ok()
            .map(|i| &self.fields[i])
    }

    /// Declared fields, sorted by name.
    pub fn fields(&self) -> &[StructField] {
        &self.fields
    }

    /// The type of entry `key`: its field type, else the element type.
    pub fn entry_type(&self, key: &str) -> Option<TypeId> {
        self.field(key).map(|f| f.ty).or(self.element)
    }
}

/// A declared field of a struct.
#[derive(Clone, Debug)]
pub struct StructField {
    pub name: Arc<str>,
    pub ty: TypeId,
    pub default: Option<Value>,
    pub patch_strategy: Option<String>,
    pub patch_merge_key: Option<String>,
}

/// Why a schema could not be compiled.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("type {from:?} refers to type {name:?}, which the schema does not define")]
    UnknownType { from: String, name: String },
    #[error("type {0:?} is defined twice")]
    DuplicateType(String),
}

/// A compiled schema.
#[derive(Clone, Debug)]
pub struct Schema {
    atoms: Vec<Atom>,
    names: HashMap<String, TypeId>,
    type_names: Vec<Option<Arc<str>>>,
}

impl Schema {
    /// Compiles `def`, adding smd's two untyped types when it lacks them.
    pub fn compile(def: &SchemaDef) -> Result<Schema, SchemaError> {
        Compiler::default().run(def)
    }

    /// The schema of smd's deduced parser: only the untyped types.
    pub fn deduced() -> Schema {
        #[allow(clippy::expect_used)]
        Schema::compile(&SchemaDef::default()).expect("the untyped types compile")
    }

    /// The type named `name`.
    pub fn type_id(&self, name: &str) -> Option<TypeId> {
        self.names.get(name).copied()
    }

    /// The name of `ty`, when it is a named type.
    pub fn type_name(&self, ty: TypeId) -> Option<&str> {
        self.type_names.get(ty.index()).and_then(|n| n.as_deref())
    }

    /// smd's deduced type (`__untyped_deduced_`).
    pub fn deduced_type(&self) -> TypeId {
        self.names[UNTYPED_DEDUCED]
    }

    /// The atom of `ty`.
    pub fn atom(&self, ty: TypeId) -> &Atom {
        &self.atoms[ty.index()]
    }

    /// The map shape of `ty`, if it has one.
    pub fn map(&self, ty: TypeId) -> Option<&MapType> {
        self.atom(ty).map.as_ref()
    }

    /// The list shape of `ty`, if it has one.
    pub fn list(&self, ty: TypeId) -> Option<&ListType> {
        self.atom(ty).list.as_ref()
    }

    /// Follows a path of field names through struct fields, map elements and list elements:
    /// `schema.lookup(deployment, &["spec", "template", "spec", "containers"])`.
    pub fn lookup(&self, ty: TypeId, path: &[&str]) -> Option<TypeId> {
        let mut ty = ty;
        for name in path {
            // Lists are transparent: a field of a list of structs is a field of its items.
            while let (Some(list), None) = (self.list(ty), self.map(ty)) {
                ty = list.element;
            }
            ty = self.map(ty)?.entry_type(name)?;
        }
        Some(ty)
    }

    /// The field `name` of the struct `ty` (through list element types).
    pub fn field(&self, ty: TypeId, name: &str) -> Option<&StructField> {
        let mut ty = ty;
        while let (Some(list), None) = (self.list(ty), self.map(ty)) {
            ty = list.element;
        }
        self.map(ty)?.field(name)
    }

    /// The default value of key field `key` of items of `list` (for associative lists).
    pub(crate) fn key_default(&self, list: &ListType, key: &str) -> Option<&Value> {
        self.map(list.element)?.field(key)?.default.as_ref()
    }
}

/// FNV-1a: field names are short, and SipHash's setup dominates hashing them.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct FnvBuild;

pub(crate) struct Fnv(u64);

impl std::hash::BuildHasher for FnvBuild {
    type Hasher = Fnv;
    fn build_hasher(&self) -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

#[derive(Default)]
struct Compiler {
    atoms: Vec<Atom>,
    names: HashMap<String, TypeId>,
    type_names: Vec<Option<Arc<str>>>,
    /// Element-relationship overrides of named types, created after every named type compiled.
    overrides: Vec<(TypeId, TypeId, ElementRelationship)>,
    override_ids: HashMap<(TypeId, ElementRelationship), TypeId>,
    empty: Option<TypeId>,
}

impl Compiler {
    fn alloc(&mut self, name: Option<&str>) -> TypeId {
        let id = TypeId(self.atoms.len() as u32);
        self.atoms.push(Atom::default());
        self.type_names.push(name.map(Arc::from));
        id
    }

    fn run(mut self, def: &SchemaDef) -> Result<Schema, SchemaError> {
        let common = common_types();
        let mut defs: Vec<&TypeDef> = def.types.iter().collect();
        for c in &common {
            if !def.types.iter().any(|t| t.name == c.name) {
                defs.push(c);
            }
        }
        for t in &defs {
            if self.names.contains_key(&t.name) {
                return Err(SchemaError::DuplicateType(t.name.clone()));
            }
            let id = self.alloc(Some(&t.name));
            self.names.insert(t.name.clone(), id);
        }
        for t in &defs {
            let atom = self.atom(&t.atom, &t.name)?;
            let id = self.names[&t.name];
            self.atoms[id.index()] = atom;
        }
        for (id, base, rel) in std::mem::take(&mut self.overrides) {
            let mut atom = self.atoms[base.index()].clone();
            if let Some(m) = atom.map.as_mut() {
                m.relationship = Some(rel);
            }
            if let Some(l) = atom.list.as_mut() {
                l.relationship = Some(rel);
            }
            self.atoms[id.index()] = atom;
        }
        Ok(Schema {
            atoms: self.atoms,
            names: self.names,
            type_names: self.type_names,
        })
    }

    fn type_ref(&mut self, r: &TypeRefDef, from: &str) -> Result<TypeId, SchemaError> {
        let base = match &r.named_type {
            Some(name) => *self
                .names
                .get(name)
                .ok_or_else(|| SchemaError::UnknownType {
                    from: from.to_owned(),
                    name: name.clone(),
                })?,
            None if r.inlined.is_empty() => match self.empty {
                Some(id) => id,
                None => {
                    let id = self.alloc(None);
                    self.empty = Some(id);
                    id
                }
            },
            None => {
                let atom = self.atom(&r.inlined, from)?;
                let id = self.alloc(None);
                self.atoms[id.index()] = atom;
                id
            }
        };
        let Some(rel) = r.element_relationship else {
            return Ok(base);
        };
        if r.named_type.is_none() {
            // An inlined type is ours alone: override in place.
            let atom = &mut self.atoms[base.index()];
            if let Some(m) = atom.map.as_mut() {
                m.relationship = Some(rel);
            }
            if let Some(l) = atom.list.as_mut() {
                l.relationship = Some(rel);
            }
            return Ok(base);
        }
        if let Some(id) = self.override_ids.get(&(base, rel)) {
            return Ok(*id);
        }
        let id = self.alloc(None);
        self.override_ids.insert((base, rel), id);
        self.overrides.push((id, base, rel));
        Ok(id)
    }

    fn atom(&mut self, a: &AtomDef, from: &str) -> Result<Atom, SchemaError> {
        let list = match &a.list {
            Some(l) => Some(ListType {
                element: self.type_ref(&l.element_type, from)?,
                relationship: l.element_relationship,
                keys: l.keys.iter().map(|k| Arc::from(k.as_str())).collect(),
            }),
            None => None,
        };
        let map = match &a.map {
            Some(m) => {
                let mut fields = Vec::with_capacity(m.fields.len());
                for f in &m.fields {
                    fields.push(StructField {
                        name: Arc::from(f.name.as_str()),
                        ty: self.type_ref(&f.ty, from)?,
                        default: f.default.clone().filter(|d| !d.is_null()),
                        patch_strategy: f.patch_strategy.clone(),
                        patch_merge_key: f.patch_merge_key.clone(),
                    });
                }
                fields.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
                fields.dedup_by(|a, b| a.name == b.name);
                let element = match &m.element_type {
                    Some(r) if !r.is_empty() => Some(self.type_ref(r, from)?),
                    _ => None,
                };
                let untyped_deduced = m.fields.is_empty()
                    && m.element_type.as_ref().is_some_and(|r| {
                        r.named_type.as_deref() == Some(UNTYPED_DEDUCED)
                            || (r.named_type.is_none() && r.inlined.scalar == Some(Scalar::Untyped))
                    });
                let index = (fields.len() > 4).then(|| {
                    fields
                        .iter()
                        .enumerate()
                        .map(|(i, f)| (f.name.clone(), i))
                        .collect()
                });
                Some(MapType {
                    fields,
                    index,
                    element,
                    relationship: m.element_relationship,
                    untyped_deduced,
                })
            }
            None => None,
        };
        Ok(Atom {
            scalar: a.scalar,
            list,
            map,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_inlines_and_overrides_compile() {
        let def: SchemaDef = serde_json::from_value(serde_json::json!({"types": [
            {"name": "root", "map": {"fields": [
                {"name": "m", "type": {"namedType": "strmap", "elementRelationship": "atomic"}},
                {"name": "plain", "type": {"namedType": "strmap"}},
                {"name": "l", "type": {"list": {"elementType": {"scalar": "string"},
                    "elementRelationship": "associative"}}}
            ]}},
            {"name": "strmap", "map": {"elementType": {"scalar": "string"}}}
        ]}))
        .unwrap();
        let schema = Schema::compile(&def).unwrap();
        let root = schema.type_id("root").unwrap();
        let m = schema.map(root).unwrap();
        assert!(schema.map(m.field("m").unwrap().ty).unwrap().is_atomic());
        assert!(
            !schema
                .map(m.field("plain").unwrap().ty)
                .unwrap()
                .is_atomic()
        );
        assert!(
            schema
                .list(m.field("l").unwrap().ty)
                .unwrap()
                .is_associative()
        );
        assert!(schema.type_id(UNTYPED_DEDUCED).is_some());
        let bad: SchemaDef = serde_json::from_value(serde_json::json!({"types": [
            {"name": "root", "map": {"elementType": {"namedType": "missing"}}}
        ]}))
        .unwrap();
        let err = Schema::compile(&bad).unwrap_err();
        assert_eq!(
            err.to_string(),
            "type \"root\" refers to type \"missing\", which the schema does not define"
        );
    }
}
