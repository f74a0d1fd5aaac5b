//! Validation of a value against its type (smd's `validatingObjectWalker`).

use serde_json::Value;

use super::{Shape, Shapes, ValidationErrors, invalid_atom, list_item_element};
use crate::fieldpath::PathElement;
use crate::schema::{ListType, MapType, Scalar, Schema, TypeId};
use crate::value::kind_of;

pub(crate) fn validate(
    schema: &Schema,
    ty: TypeId,
    v: &Value,
    allow_dups: bool,
) -> ValidationErrors {
    let mut errs = ValidationErrors::default();
    let atom = schema.atom(ty);
    match Shapes::of(atom, Some(v)).handler() {
        Shape::Map => {
            if let Some(m) = &atom.map {
                validate_map(schema, m, v, allow_dups, &mut errs);
            }
        }
        Shape::Scalar => {
            if let Some(s) = atom.scalar
                && let Err(e) = validate_scalar(s, v)
            {
                errs.push(e);
            }
        }
        Shape::List => {
            if let Some(l) = &atom.list {
                validate_list(schema, l, v, allow_dups, &mut errs);
            }
        }
        Shape::Invalid => errs.push(invalid_atom(schema, ty)),
    }
    errs
}

/// smd's `validateScalar`: null is a valid value of every scalar type.
pub(crate) fn validate_scalar(s: Scalar, v: &Value) -> Result<(), String> {
    let ok = matches!(
        (s, v),
        (_, Value::Null)
            | (Scalar::Numeric, Value::Number(_))
            | (Scalar::String, Value::String(_))
            | (Scalar::Boolean, Value::Bool(_))
            | (
                Scalar::Untyped,
                Value::Number(_) | Value::String(_) | Value::Bool(_)
            )
    );
    if ok {
        return Ok(());
    }
    let expected = match s {
        Scalar::Numeric => "numeric (int or float)",
        Scalar::String => "string",
        Scalar::Boolean => "boolean",
        Scalar::Untyped => "any scalar",
    };
    Err(format!("expected {expected}, got {}", describe(v)))
}

/// A value in an error message: scalars as JSON, containers by kind.
pub(crate) fn describe(v: &Value) -> String {
    match v {
        Value::Array(_) | Value::Object(_) => kind_of(v).to_owned(),
        other => format!("{} {other}", kind_of(other)),
    }
}

fn validate_list(
    schema: &Schema,
    l: &ListType,
    v: &Value,
    allow_dups: bool,
    errs: &mut ValidationErrors,
) {
    let items = match v {
        Value::Null => return,
        Value::Array(items) => items,
        other => {
            errs.push(format!("expected list, got {}", describe(other)));
            return;
        }
    };
    let mut seen: Vec<PathElement> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let pe = match list_item_element(schema, l, i, item) {
            Ok(pe) => pe,
            Err(e) => {
                // Without an element the item's errors cannot be placed: stop here, as smd does.
                errs.push(format!("element {i}: {e}"));
                return;
            }
        };
        if l.is_associative() {
            match seen.binary_search(&pe) {
                Ok(_) if !allow_dups => errs.push(format!("duplicate entries for key {pe}")),
                Ok(_) => {}
                Err(at) => seen.insert(at, pe.clone()),
            }
        }
        let child = validate(schema, l.element, item, allow_dups);
        errs.extend_under(&pe, child);
    }
}

fn validate_map(
    schema: &Schema,
    m: &MapType,
    v: &Value,
    allow_dups: bool,
    errs: &mut ValidationErrors,
) {
    let map = match v {
        Value::Null => return,
        Value::Object(map) => map,
        other => {
            errs.push(format!("expected map, got {}", describe(other)));
            return;
        }
    };
    for (key, item) in map {
        let Some(ty) = m.entry_type(key) else {
            let mut e = ValidationErrors::default();
            e.push("field not declared in schema");
            errs.extend_under(&PathElement::field(key), e);
            return;
        };
        let child = validate(schema, ty, item, allow_dups);
        if !child.is_empty() {
            errs.extend_under(&PathElement::field(key), child);
        }
    }
}
