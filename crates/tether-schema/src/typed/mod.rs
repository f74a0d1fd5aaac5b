//! Values typed by a schema (smd's `typed` package): validation, field sets, merge, comparison,
//! removal and extraction of items, reconciliation of field sets with schema changes, and the
//! unknown-field checks of the API server's `fieldValidation`.
//!
//! Every walker follows smd's rules: the schema atom is narrowed by the value's shape (a value
//! of untyped content is a scalar, a list or a map), maps are visited before scalars before
//! lists, and empty or null containers on both sides are treated as leaves so the difference
//! between `{}` and `null` survives a merge.

mod compare;
mod fieldset;
mod merge;
mod reconcile;
mod remove;
mod unknown;
mod validate;

use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use crate::fieldpath::{PathElement, Set};
use crate::schema::{Atom, ListType, Schema, TypeId};

pub use compare::Comparison;
pub use reconcile::reconcile_field_set_with_schema;
pub use unknown::{prune_unknown_fields, unknown_fields};

/// One problem in a value, at a path in smd's string form (`.spec.containers[name="a"].image`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidationError {
    pub path: String,
    pub message: String,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Every problem found in a value.
#[derive(Clone, Debug, Default, PartialEq, Eq, thiserror::Error)]
pub struct ValidationErrors(pub Vec<ValidationError>);

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let [one] = self.0.as_slice() {
            return write!(f, "{one}");
        }
        f.write_str("errors:")?;
        for e in &self.0 {
            write!(f, "\n  {e}")?;
        }
        Ok(())
    }
}

impl ValidationErrors {
    fn push(&mut self, message: impl Into<String>) {
        self.0.push(ValidationError {
            path: String::new(),
            message: message.into(),
        });
    }

    /// Appends `other`, whose paths are relative to the child `pe`.
    fn extend_under(&mut self, pe: &dyn fmt::Display, other: ValidationErrors) {
        for mut e in other.0 {
            e.path = format!("{pe}{}", e.path);
            self.0.push(e);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn into_result(self) -> Result<(), ValidationErrors> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }
}

/// A value of a type of a schema.
#[derive(Clone, Debug)]
pub struct TypedValue<'s> {
    pub schema: &'s Schema,
    pub ty: TypeId,
    pub value: Value,
}

/// How strictly [`TypedValue::validate`] checks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ValidationOptions {
    /// Accept associative-list items with equal keys (live objects written before validation
    /// forbade them; kube-apiserver types live and updated objects this way).
    pub allow_duplicates: bool,
}

impl<'s> TypedValue<'s> {
    /// Pairs `value` with `ty` without checking it.
    pub fn new(schema: &'s Schema, ty: TypeId, value: Value) -> Self {
        TypedValue { schema, ty, value }
    }

    /// Pairs `value` with `ty` after checking that it conforms.
    pub fn validated(
        schema: &'s Schema,
        ty: TypeId,
        value: Value,
        options: ValidationOptions,
    ) -> Result<Self, ValidationErrors> {
        let tv = TypedValue { schema, ty, value };
        tv.validate(options)?;
        Ok(tv)
    }

    /// Checks that the value conforms to its type: scalar kinds, list and map shapes, declared
    /// fields, keys of associative lists and (unless allowed) duplicate items.
    pub fn validate(&self, options: ValidationOptions) -> Result<(), ValidationErrors> {
        validate::validate(self.schema, self.ty, &self.value, options.allow_duplicates)
            .into_result()
    }

    /// Every leaf field and list or map item the value mentions.
    pub fn to_field_set(&self) -> Result<Set, ValidationErrors> {
        fieldset::to_field_set(self.schema, self.ty, &self.value)
    }

    /// `self` with `other` merged on top: leaves of `other` win, nothing is removed, lists and
    /// maps merge by their element relationship.
    pub fn merge(&self, other: &TypedValue<'_>) -> Result<TypedValue<'s>, ValidationErrors> {
        let value = merge::merge(self.schema, self.ty, &self.value, &other.value)?;
        Ok(TypedValue {
            schema: self.schema,
            ty: self.ty,
            value,
        })
    }

    /// The fields added, removed and modified from `self` to `other`.
    pub fn compare(&self, other: &TypedValue<'_>) -> Result<Comparison, ValidationErrors> {
        compare::compare(self.schema, self.ty, &self.value, &other.value)
    }

    /// The value without the given fields and items.
    pub fn remove_items(&self, items: &Set) -> TypedValue<'s> {
        self.with_value(remove::remove_items(
            self.schema,
            self.ty,
            &self.value,
            items,
            false,
        ))
    }

    /// Only the given fields and items of the value (list items reduced to their keys).
    pub fn extract_items(&self, items: &Set) -> TypedValue<'s> {
        self.with_value(remove::remove_items(
            self.schema,
            self.ty,
            &self.value,
            items,
            true,
        ))
    }

    fn with_value(&self, value: Value) -> TypedValue<'s> {
        TypedValue {
            schema: self.schema,
            ty: self.ty,
            value,
        }
    }
}

/// Which shape of an atom a value takes (smd's `deduceAtom`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Shapes {
    scalar: bool,
    list: bool,
    map: bool,
}

/// The handler smd dispatches to for a set of shapes: map, then scalar, then list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    Map,
    Scalar,
    List,
    Invalid,
}

impl Shapes {
    pub(crate) fn of(atom: &Atom, v: Option<&Value>) -> Shapes {
        let full = Shapes {
            scalar: atom.scalar.is_some(),
            list: atom.list.is_some(),
            map: atom.map.is_some(),
        };
        let only = |scalar, list, map| Shapes { scalar, list, map };
        match v {
            Some(Value::Bool(_) | Value::Number(_) | Value::String(_)) if full.scalar => {
                only(true, false, false)
            }
            Some(Value::Array(_)) if full.list => only(false, true, false),
            Some(Value::Object(_)) if full.map => only(false, false, true),
            _ => full,
        }
    }

    pub(crate) fn handler(self) -> Shape {
        if self.map {
            Shape::Map
        } else if self.scalar {
            Shape::Scalar
        } else if self.list {
            Shape::List
        } else {
            Shape::Invalid
        }
    }
}

pub(crate) fn invalid_atom(schema: &Schema, ty: TypeId) -> String {
    match schema.type_name(ty) {
        Some(name) => format!("schema error: invalid atom: named type: {name}"),
        None => "schema error: invalid atom: inlined".to_owned(),
    }
}

/// The path element of item `index` of a list (smd's `listItemToPathElement`): keys for
/// associative lists of maps (missing keys take their default, or are left out), the value for
/// sets, the index otherwise.
pub(crate) fn list_item_element(
    schema: &Schema,
    list: &ListType,
    index: usize,
    item: &Value,
) -> Result<PathElement, String> {
    if !list.is_associative() {
        return Ok(PathElement::Index(index));
    }
    if list.keys.is_empty() {
        return match item {
            Value::Object(_) => {
                Err("associative list without keys has an element that's a map type".to_owned())
            }
            Value::Array(_) => {
                Err("not supported: associative list with lists as elements".to_owned())
            }
            Value::Null => Err(
                "associative list without keys has an element that's an explicit null".to_owned(),
            ),
            v => Ok(PathElement::Value(v.clone())),
        };
    }
    let map = match item {
        Value::Null => {
            return Err("associative list with keys may not have a null element".to_owned());
        }
        Value::Object(map) => map,
        _ => return Err("associative list with keys may not have non-map elements".to_owned()),
    };
    let mut fields: Vec<(Arc<str>, Value)> = Vec::with_capacity(list.keys.len());
    for key in &list.keys {
        if let Some(v) = map.get(&**key) {
            fields.push((key.clone(), v.clone()));
        } else {
            if schema.map(list.element).is_none() {
                return Err(format!(
                    "couldn't find default value for {key}: associative list may not have non-map types"
                ));
            }
            if let Some(default) = schema.key_default(list, key) {
                fields.push((key.clone(), default.clone()));
            }
        }
    }
    fields.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    Ok(PathElement::Key(fields))
}

/// The field element for map key `key`, sharing the schema's name when it is a declared field.
pub(crate) fn field_element(map: Option<&crate::schema::MapType>, key: &str) -> PathElement {
    match map.and_then(|m| m.field(key)) {
        Some(f) => PathElement::Field(f.name.clone()),
        None => PathElement::field(key),
    }
}

/// Whether `v` is atomic under `ty` (scalars always are).
pub(crate) fn is_atomic(schema: &Schema, ty: TypeId, v: &Value) -> bool {
    let atom = schema.atom(ty);
    match Shapes::of(atom, Some(v)).handler() {
        Shape::Map => atom.map.as_ref().is_some_and(|m| m.is_atomic()),
        Shape::List => atom.list.as_ref().is_some_and(|l| l.is_atomic()),
        _ => true,
    }
}

/// Groups the path elements of list items: for each distinct element, the indexes of the items
/// carrying it, in list order. Items whose element cannot be built are reported in `errors`.
pub(crate) struct ListIndex {
    /// Element of each item, `None` when it could not be built.
    pub elements: Vec<Option<PathElement>>,
    /// Indexes of items with an element, sorted by element (stable: list order among equals).
    sorted: Vec<usize>,
}

impl ListIndex {
    pub(crate) fn build(
        schema: &Schema,
        list: &ListType,
        items: &[Value],
        errors: &mut ValidationErrors,
    ) -> ListIndex {
        let mut elements = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match list_item_element(schema, list, i, item) {
                Ok(pe) => elements.push(Some(pe)),
                Err(e) => {
                    errors.push(format!("element {i}: {e}"));
                    elements.push(None);
                }
            }
        }
        let mut sorted: Vec<usize> = (0..elements.len())
            .filter(|i| elements[*i].is_some())
            .collect();
        if sorted.len() > 1 {
            sorted.sort_by(|a, b| elements[*a].cmp(&elements[*b]));
        }
        ListIndex { elements, sorted }
    }

    fn pe(&self, i: usize) -> Option<&PathElement> {
        self.elements[i].as_ref()
    }

    /// The indexes of items whose element is `pe`, in list order.
    pub(crate) fn find(&self, pe: &PathElement) -> &[usize] {
        let start = self.sorted.partition_point(|i| self.pe(*i) < Some(pe));
        let end = start + self.sorted[start..].partition_point(|i| self.pe(*i) == Some(pe));
        &self.sorted[start..end]
    }

    /// Distinct elements with the indexes of their items.
    pub(crate) fn groups(&self) -> Vec<(&PathElement, &[usize])> {
        let mut out = Vec::new();
        let mut start = 0;
        while start < self.sorted.len() {
            let Some(pe) = self.pe(self.sorted[start]) else {
                start += 1;
                continue;
            };
            let mut end = start + 1;
            while end < self.sorted.len() && self.pe(self.sorted[end]) == Some(pe) {
                end += 1;
            }
            out.push((pe, &self.sorted[start..end]));
            start = end;
        }
        out
    }
}
