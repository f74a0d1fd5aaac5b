//! The serialized schema model: smd's schema YAML format (`types:` with `scalar`, `list`, `map`,
//! `namedType` references), extended with the strategic-merge-patch metadata of each field.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Kinds of scalar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scalar {
    Numeric,
    String,
    Boolean,
    /// Any scalar (int-or-string, quantities, timestamps, unknown content).
    Untyped,
}

/// How the items of a list or map relate to each other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ElementRelationship {
    /// The container is one value: owned, merged and replaced as a whole.
    Atomic,
    /// List items are identified by key fields (or by value for scalars) and owned separately.
    Associative,
    /// Map entries are independent (the default for maps).
    Separable,
}

/// A schema: a list of named types.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SchemaDef {
    pub types: Vec<TypeDef>,
}

/// A named type.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TypeDef {
    pub name: String,
    #[serde(flatten)]
    pub atom: AtomDef,
}

/// The possible shapes of a value of a type; more than one for untyped content.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AtomDef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scalar: Option<Scalar>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list: Option<Box<ListDef>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map: Option<Box<MapDef>>,
}

impl AtomDef {
    pub fn is_empty(&self) -> bool {
        self.scalar.is_none() && self.list.is_none() && self.map.is_none()
    }
}

/// A reference to a named type, or an inlined type, with an optional override of the element
/// relationship of the referenced map or list.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TypeRefDef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub named_type: Option<String>,
    #[serde(flatten)]
    pub inlined: AtomDef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub element_relationship: Option<ElementRelationship>,
}

impl TypeRefDef {
    pub fn named(name: impl Into<String>) -> Self {
        TypeRefDef {
            named_type: Some(name.into()),
            ..Default::default()
        }
    }

    pub fn scalar(s: Scalar) -> Self {
        TypeRefDef {
            inlined: AtomDef {
                scalar: Some(s),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    /// True for the empty reference (no element type).
    pub fn is_empty(&self) -> bool {
        self.named_type.is_none() && self.inlined.is_empty()
    }
}

/// A list type.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListDef {
    #[serde(default)]
    pub element_type: TypeRefDef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub element_relationship: Option<ElementRelationship>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<String>,
}

/// A map or struct type.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MapDef {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldDef>,
    /// The type of entries that are not declared fields; absent: undeclared keys are errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub element_type: Option<TypeRefDef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub element_relationship: Option<ElementRelationship>,
}

/// A declared field of a struct.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldDef {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: TypeRefDef,
    /// Used for associative-list keys missing from an item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    /// `x-kubernetes-patch-strategy` (strategic merge patch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch_strategy: Option<String>,
    /// `x-kubernetes-patch-merge-key` (strategic merge patch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch_merge_key: Option<String>,
}

/// Name of smd's atomic untyped type: any scalar, list or map, each a single value.
pub const UNTYPED_ATOMIC: &str = "__untyped_atomic_";
/// Name of smd's deduced type: scalars, atomic lists, and maps of deduced entries.
pub const UNTYPED_DEDUCED: &str = "__untyped_deduced_";

/// The two untyped types every converted schema carries (kube-openapi's `addCommonTypes`).
pub fn common_types() -> [TypeDef; 2] {
    let untyped = |elem: &str, rel| AtomDef {
        scalar: Some(Scalar::Untyped),
        list: Some(Box::new(ListDef {
            element_type: TypeRefDef::named(UNTYPED_ATOMIC),
            element_relationship: Some(ElementRelationship::Atomic),
            keys: vec![],
        })),
        map: Some(Box::new(MapDef {
            fields: vec![],
            element_type: Some(TypeRefDef::named(elem)),
            element_relationship: Some(rel),
        })),
    };
    [
        TypeDef {
            name: UNTYPED_ATOMIC.to_owned(),
            atom: untyped(UNTYPED_ATOMIC, ElementRelationship::Atomic),
        },
        TypeDef {
            name: UNTYPED_DEDUCED.to_owned(),
            atom: untyped(UNTYPED_DEDUCED, ElementRelationship::Separable),
        },
    ]
}
