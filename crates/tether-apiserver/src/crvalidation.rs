//! Defaulting and value validation of custom resources against their CRD version's
//! `openAPIV3Schema`, as kube-apiserver's apiextensions server does it.
//!
//! Defaulting (on create and update): a property missing from an object, or null where the
//! schema is not `nullable`, takes the schema's `default`; other nulls of non-nullable properties
//! are dropped. Defaults apply inside defaulted values too.
//!
//! Validation: `type` (with `x-kubernetes-int-or-string` and `nullable`), `enum`, `pattern`,
//! `minLength`/`maxLength`, `minimum`/`maximum` (and their exclusive forms),
//! `multipleOf`, `minItems`/`maxItems`, `minProperties`/`maxProperties`, `required`, the string
//! `format`s upstream checks ([`crate::crformat`]), uniqueness of `x-kubernetes-list-type: set`
//! items and `map` keys, and `allOf`/`anyOf`/`oneOf`/`not`, through `properties`,
//! `additionalProperties` and `items`. Causes carry upstream's reasons and messages
//! (`spec.interval: Invalid value: "1d": spec.interval in body should match '…'`). On update,
//! an error at a path whose value did not change is not reported (CRD validation ratcheting,
//! on by default since Kubernetes 1.30), so an object stored before a stricter schema can
//! still have its status written.
//!
//! Not checked: CEL `x-kubernetes-validations` (structural schemas forbid `uniqueItems: true`).
//! `metadata` is left to the generic metadata validation.

use serde_json::{Map, Value};

use crate::jsonpath;
use crate::status::Cause;

/// Applies the schema's defaults to `object` (a whole custom resource).
pub fn apply_defaults(schema: &Value, object: &mut Value) {
    default_node(schema, object);
}

/// Whether `schema` declares a `default` anywhere [`apply_defaults`] looks (properties,
/// `additionalProperties`, `items`), computed once per CRD version.
pub fn declares_defaults(schema: &Value) -> bool {
    schema.get("default").is_some()
        || schema
            .get("properties")
            .and_then(Value::as_object)
            .is_some_and(|p| p.values().any(declares_defaults))
        || ["additionalProperties", "items"]
            .iter()
            .filter_map(|key| schema.get(*key).filter(|s| s.is_object()))
            .any(declares_defaults)
}

/// Whether [`apply_defaults`] would add a default to `object`: a stored object written before
/// its schema gained a default is defaulted when read, as upstream's storage decoder does. A
/// read-only walk, so objects that need nothing are served without a copy.
pub fn needs_defaults(schema: &Value, value: &Value) -> bool {
    match value {
        Value::Object(map) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties").filter(|s| s.is_object());
            let lacks = |property: &Value, present: Option<&Value>| match present {
                None => property.get("default").is_some(),
                Some(Value::Null) if !nullable(property) => property.get("default").is_some(),
                Some(value) => needs_defaults(property, value),
            };
            properties.is_some_and(|p| {
                p.iter()
                    .any(|(name, property)| lacks(property, map.get(name)))
            }) || additional.is_some_and(|property| {
                map.iter()
                    .filter(|(k, _)| properties.is_none_or(|p| !p.contains_key(*k)))
                    .any(|(_, value)| lacks(property, Some(value)))
            })
        }
        Value::Array(items) => schema
            .get("items")
            .filter(|s| s.is_object())
            .is_some_and(|item| {
                items.iter().any(|value| {
                    (value.is_null() && !nullable(item) && item.get("default").is_some())
                        || needs_defaults(item, value)
                })
            }),
        _ => false,
    }
}

fn nullable(schema: &Value) -> bool {
    schema.get("nullable").and_then(Value::as_bool) == Some(true)
}

fn default_node(schema: &Value, value: &mut Value) {
    match value {
        Value::Object(map) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            if let Some(properties) = properties {
                for (name, property) in properties {
                    default_property(property, name, map);
                }
            }
            if let Some(additional) = schema.get("additionalProperties").filter(|s| s.is_object()) {
                let keys: Vec<String> = map
                    .keys()
                    .filter(|k| properties.is_none_or(|p| !p.contains_key(*k)))
                    .cloned()
                    .collect();
                for key in keys {
                    default_property(additional, &key, map);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item) = schema.get("items").filter(|s| s.is_object()) {
                for value in items {
                    if value.is_null()
                        && !nullable(item)
                        && let Some(default) = item.get("default")
                    {
                        *value = default.clone();
                    }
                    default_node(item, value);
                }
            }
        }
        _ => {}
    }
}

fn default_property(schema: &Value, name: &str, map: &mut Map<String, Value>) {
    let missing = match map.get(name) {
        None => true,
        Some(Value::Null) => !nullable(schema),
        Some(_) => false,
    };
    if missing {
        match schema.get("default") {
            Some(default) => {
                map.insert(name.to_owned(), default.clone());
            }
            None => {
                // Upstream prunes nulls of non-nullable fields that have no default.
                map.remove(name);
            }
        }
    }
    if let Some(value) = map.get_mut(name) {
        default_node(schema, value);
    }
}

/// Validation of a create (`old` is `None`) or update of a custom resource.
pub fn validate(schema: &Value, old: Option<&Value>, new: &Value) -> Vec<Cause> {
    let mut found = Vec::new();
    if let (Some(properties), Some(map)) = (
        schema.get("properties").and_then(Value::as_object),
        new.as_object(),
    ) {
        // The root's apiVersion, kind and metadata are the generic validation's business.
        for (name, property) in properties {
            if matches!(name.as_str(), "apiVersion" | "kind" | "metadata") {
                continue;
            }
            if let Some(value) = map.get(name) {
                check(
                    property,
                    value,
                    name,
                    &format!("/{}", escape(name)),
                    &mut found,
                );
            }
        }
        check_required(schema, map, "", "", &mut found);
    }
    found
        .into_iter()
        // Ratcheting: an unchanged value keeps its old (perhaps now invalid) state.
        .filter(|v| old.is_none_or(|old| old.pointer(&v.pointer) != new.pointer(&v.pointer)))
        .map(|v| v.cause)
        .collect()
}

struct Violation {
    /// JSON pointer to the value whose change re-validates it.
    pointer: String,
    cause: Cause,
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn child(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

/// A value as Go's `field.Error` shows it: strings quoted, scalars bare.
fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{s:?}"),
        Value::Null => "null".into(),
        Value::Bool(_) | Value::Number(_) => jsonpath::print(value),
        Value::Array(_) | Value::Object(_) => value.to_string(),
    }
}

fn push(found: &mut Vec<Violation>, pointer: &str, reason: &str, path: &str, message: String) {
    found.push(Violation {
        pointer: pointer.to_owned(),
        cause: Cause::new(reason, path, message),
    });
}

fn invalid(found: &mut Vec<Violation>, pointer: &str, path: &str, value: &Value, detail: String) {
    let message = format!("Invalid value: {}: {detail}", shown(value));
    push(found, pointer, "FieldValueInvalid", path, message);
}

/// go-openapi's name of a JSON value's type.
fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if is_integer(n) => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn is_integer(n: &serde_json::Number) -> bool {
    n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
}

fn has_type(schema: &Value, value: &Value) -> bool {
    if value.is_null() {
        return nullable(schema);
    }
    if schema
        .get("x-kubernetes-int-or-string")
        .and_then(Value::as_bool)
        == Some(true)
    {
        return value.is_string() || matches!(value, Value::Number(n) if is_integer(n));
    }
    match schema.get("type").and_then(Value::as_str) {
        None | Some("") => true,
        Some("object") => value.is_object(),
        Some("array") => value.is_array(),
        Some("string") => value.is_string(),
        Some("boolean") => value.is_boolean(),
        Some("number") => value.is_number(),
        Some("integer") => matches!(value, Value::Number(n) if is_integer(n)),
        Some(_) => true,
    }
}

fn int_at(schema: &Value, key: &str) -> Option<u64> {
    schema.get(key).and_then(Value::as_u64)
}

fn check(schema: &Value, value: &Value, path: &str, pointer: &str, found: &mut Vec<Violation>) {
    if !has_type(schema, value) {
        let want = if schema.get("x-kubernetes-int-or-string").is_some() {
            "integer,string"
        } else {
            schema.get("type").and_then(Value::as_str).unwrap_or("")
        };
        let message = format!(
            "Invalid value: {}: {path} in body must be of type {want}: {:?}",
            shown(value),
            type_name(value)
        );
        push(found, pointer, "FieldValueTypeInvalid", path, message);
        return;
    }
    if value.is_null() {
        return;
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        let supported: Vec<String> = allowed
            .iter()
            .map(|v| format!("{:?}", jsonpath::print(v)))
            .collect();
        let message = format!(
            "Unsupported value: {}: supported values: {}",
            shown(value),
            supported.join(", ")
        );
        push(found, pointer, "FieldValueNotSupported", path, message);
    }
    check_combinators(schema, value, path, pointer, found);
    match value {
        Value::String(s) => check_string(schema, value, s, path, pointer, found),
        Value::Number(n) => check_number(schema, value, n, path, pointer, found),
        Value::Array(items) => {
            let len = items.len() as u64;
            if let Some(min) = int_at(schema, "minItems").filter(|m| len < *m) {
                let detail = format!("{path} in body should have at least {min} items");
                invalid(found, pointer, path, value, detail);
            }
            if let Some(max) = int_at(schema, "maxItems").filter(|m| len > *m) {
                let message = format!("Too many: {len}: must have at most {max} items");
                push(found, pointer, "FieldValueTooMany", path, message);
            }
            check_list_uniqueness(schema, items, path, pointer, found);
            if let Some(item) = schema.get("items").filter(|s| s.is_object()) {
                for (i, value) in items.iter().enumerate() {
                    check(
                        item,
                        value,
                        &format!("{path}[{i}]"),
                        &format!("{pointer}/{i}"),
                        found,
                    );
                }
            }
        }
        Value::Object(map) => {
            let len = map.len() as u64;
            if let Some(min) = int_at(schema, "minProperties").filter(|m| len < *m) {
                let detail = format!("{path} in body should have at least {min} properties");
                invalid(found, pointer, path, value, detail);
            }
            if let Some(max) = int_at(schema, "maxProperties").filter(|m| len > *m) {
                let message = format!("Too many: {len}: must have at most {max} items");
                push(found, pointer, "FieldValueTooMany", path, message);
            }
            let properties = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties").filter(|s| s.is_object());
            for (key, value) in map {
                let sub = match properties.and_then(|p| p.get(key)) {
                    Some(s) => s,
                    None => match additional {
                        Some(s) => s,
                        None => continue,
                    },
                };
                let pointer = format!("{pointer}/{}", escape(key));
                check(sub, value, &child(path, key), &pointer, found);
            }
            check_required(schema, map, path, pointer, found);
        }
        Value::Bool(_) | Value::Null => {}
    }
}

/// `allOf`, `anyOf`, `oneOf` and `not`, with go-openapi's messages for the last three.
fn check_combinators(
    schema: &Value,
    value: &Value,
    path: &str,
    pointer: &str,
    found: &mut Vec<Violation>,
) {
    let branches = |key: &str| {
        schema
            .get(key)
            .and_then(Value::as_array)
            .map(|b| b.as_slice())
            .unwrap_or_default()
    };
    let passes = |branch: &Value| {
        let mut inner = Vec::new();
        check(branch, value, path, pointer, &mut inner);
        inner.is_empty()
    };
    for branch in branches("allOf") {
        check(branch, value, path, pointer, found);
    }
    let any = branches("anyOf");
    if !any.is_empty() && !any.iter().any(passes) {
        let detail = format!("{path} in body must validate at least one schema (anyOf)");
        invalid(found, pointer, path, value, detail);
    }
    let one = branches("oneOf");
    if !one.is_empty() && one.iter().filter(|b| passes(b)).count() != 1 {
        let detail = format!("{path} in body must validate one and only one schema (oneOf)");
        invalid(found, pointer, path, value, detail);
    }
    if let Some(not) = schema.get("not").filter(|s| s.is_object())
        && passes(not)
    {
        let detail = format!("{path} in body must not validate the schema (not)");
        invalid(found, pointer, path, value, detail);
    }
}

/// `x-kubernetes-list-type: set` items and `map` keys must be unique (`Duplicate value`).
fn check_list_uniqueness(
    schema: &Value,
    items: &[Value],
    path: &str,
    pointer: &str,
    found: &mut Vec<Violation>,
) {
    let keys: Vec<&str> = schema
        .get("x-kubernetes-list-map-keys")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let identity = |item: &Value| -> Option<Value> {
        match schema.get("x-kubernetes-list-type").and_then(Value::as_str) {
            Some("set") => Some(item.clone()),
            Some("map") if !keys.is_empty() => {
                let fields = keys
                    .iter()
                    .filter_map(|k| Some(((*k).to_owned(), item.get(*k)?.clone())))
                    .collect();
                Some(Value::Object(fields))
            }
            _ => None,
        }
    };
    let mut seen: Vec<Value> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Some(id) = identity(item) else {
            return;
        };
        if seen.contains(&id) {
            let described = match &id {
                // Go prints a map-list key as the map it is.
                Value::Object(fields) => {
                    let pairs: Vec<String> = fields
                        .iter()
                        .map(|(k, v)| format!("{k:?}:{}", shown(v)))
                        .collect();
                    format!("map[string]interface {{}}{{{}}}", pairs.join(", "))
                }
                other => shown(other),
            };
            push(
                found,
                &format!("{pointer}/{i}"),
                "FieldValueDuplicate",
                &format!("{path}[{i}]"),
                format!("Duplicate value: {described}"),
            );
        } else {
            seen.push(id);
        }
    }
}

fn check_required(
    schema: &Value,
    map: &Map<String, Value>,
    path: &str,
    pointer: &str,
    found: &mut Vec<Violation>,
) {
    for name in schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if !map.contains_key(name) {
            // Ratcheted on the object that lacks the field.
            push(
                found,
                pointer,
                "FieldValueRequired",
                &child(path, name),
                "Required value".into(),
            );
        }
    }
}

fn check_string(
    schema: &Value,
    value: &Value,
    s: &str,
    path: &str,
    pointer: &str,
    found: &mut Vec<Violation>,
) {
    let chars = s.chars().count() as u64;
    if let Some(max) = int_at(schema, "maxLength").filter(|m| chars > *m) {
        let message = format!("Too long: may not be more than {max} bytes");
        push(found, pointer, "FieldValueTooLong", path, message);
    }
    if let Some(min) = int_at(schema, "minLength").filter(|m| chars < *m) {
        let detail = format!("{path} in body should be at least {min} chars long");
        invalid(found, pointer, path, value, detail);
    }
    if let Some(format) = schema.get("format").and_then(Value::as_str)
        && crate::crformat::valid(format, s) == Some(false)
    {
        let detail = format!("{path} in body must be of type {format}: {s:?}");
        invalid(found, pointer, path, value, detail);
    }
    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
        // A pattern that does not compile was refused when the CRD was validated; here it
        // matches nothing, as go-openapi reports it.
        let matched = regex::Regex::new(pattern).is_ok_and(|re| re.is_match(s));
        if !matched {
            let detail = format!("{path} in body should match '{pattern}'");
            invalid(found, pointer, path, value, detail);
        }
    }
}

fn check_number(
    schema: &Value,
    value: &Value,
    n: &serde_json::Number,
    path: &str,
    pointer: &str,
    found: &mut Vec<Violation>,
) {
    let Some(x) = n.as_f64() else {
        return;
    };
    let exclusive = |key: &str| schema.get(key).and_then(Value::as_bool) == Some(true);
    if let Some(min) = schema.get("minimum").and_then(Value::as_f64) {
        let shown_min = jsonpath::print(&Value::from(min));
        let shown_min = trim_float(&shown_min);
        if exclusive("exclusiveMinimum") && x <= min {
            let detail = format!("{path} in body should be greater than {shown_min}");
            invalid(found, pointer, path, value, detail);
        } else if x < min {
            let detail = format!("{path} in body should be greater than or equal to {shown_min}");
            invalid(found, pointer, path, value, detail);
        }
    }
    if let Some(factor) = schema
        .get("multipleOf")
        .and_then(Value::as_f64)
        .filter(|f| *f > 0.0)
    {
        let ratio = x / factor;
        if (ratio - ratio.round()).abs() > 1e-9 {
            let shown_factor = jsonpath::print(&Value::from(factor));
            let detail = format!(
                "{path} in body should be a multiple of {}",
                trim_float(&shown_factor)
            );
            invalid(found, pointer, path, value, detail);
        }
    }
    if let Some(max) = schema.get("maximum").and_then(Value::as_f64) {
        let shown_max = jsonpath::print(&Value::from(max));
        let shown_max = trim_float(&shown_max);
        if exclusive("exclusiveMaximum") && x >= max {
            let detail = format!("{path} in body should be less than {shown_max}");
            invalid(found, pointer, path, value, detail);
        } else if x > max {
            let detail = format!("{path} in body should be less than or equal to {shown_max}");
            invalid(found, pointer, path, value, detail);
        }
    }
}

/// Go prints a whole float64 without a fraction (`1`, not `1.0`).
fn trim_float(s: &str) -> &str {
    s.strip_suffix(".0").unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn schema() -> Value {
        json!({"type": "object", "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": {"type": "object", "required": ["interval", "sourceRef"], "properties": {
                "interval": {"type": "string", "pattern": "^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"},
                "timeout": {"type": "string", "default": "60s"},
                "mode": {"type": "string", "enum": ["Merge", "Replace"]},
                "name": {"type": "string", "minLength": 1, "maxLength": 5},
                "replicas": {"type": "integer", "minimum": 1, "maximum": 10},
                "ratio": {"type": "number", "exclusiveMinimum": true, "minimum": 0},
                "port": {"x-kubernetes-int-or-string": true},
                "note": {"type": "string", "nullable": true},
                "tags": {"type": "array", "maxItems": 2, "items": {"type": "string", "minLength": 2}},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "sourceRef": {"type": "object", "required": ["kind"], "properties": {
                    "kind": {"type": "string", "default": "GitRepository"},
                    "namespace": {"type": "string"},
                }},
                "retry": {"type": "object", "default": {}, "properties": {
                    "limit": {"type": "integer", "default": 3},
                }},
                "items": {"type": "array", "items": {"type": "object", "properties": {
                    "weight": {"type": "integer", "default": 1},
                }}},
            }},
        }})
    }

    fn messages(causes: &[Cause]) -> Vec<String> {
        causes
            .iter()
            .map(|c| format!("{}: {}", c.field, c.message))
            .collect()
    }

    #[test]
    fn defaults_fill_missing_and_null_fields() {
        let mut o = json!({"spec": {"interval": "1m", "sourceRef": {"kind": null},
            "note": null, "name": null, "items": [{}, {"weight": 5}]}});
        apply_defaults(&schema(), &mut o);
        assert_eq!(
            o["spec"],
            json!({"interval": "1m", "sourceRef": {"kind": "GitRepository"}, "note": null,
                "items": [{"weight": 1}, {"weight": 5}], "timeout": "60s", "retry": {"limit": 3}})
        );
        assert!(validate(&schema(), None, &o).is_empty());
    }

    #[test]
    fn needs_defaults_agrees_with_apply_defaults() {
        for o in [
            json!({"spec": {"interval": "1m", "sourceRef": {"kind": "Git"}, "timeout": "1s",
                "retry": {"limit": 1}, "items": [{"weight": 2}]}}),
            json!({"spec": {"interval": "1m", "sourceRef": {"kind": "Git"}, "timeout": "1s",
                "retry": {}}}),
            json!({"spec": {"interval": "1m", "sourceRef": {"kind": "Git"}, "timeout": "1s",
                "retry": {"limit": 1}, "items": [{}]}}),
            json!({"spec": {"interval": "1m", "sourceRef": {}, "timeout": "1s",
                "retry": {"limit": 1}}}),
            json!({"metadata": {"name": "x"}}),
        ] {
            let mut defaulted = o.clone();
            apply_defaults(&schema(), &mut defaulted);
            assert_eq!(needs_defaults(&schema(), &o), defaulted != o, "{o}");
        }
        assert!(declares_defaults(&schema()));
        let plain = json!({"type": "object", "properties": {"spec": {"type": "object",
            "properties": {"items": {"type": "array", "items": {"type": "string"}}}}}});
        assert!(!declares_defaults(&plain));
    }

    #[test]
    fn violations_read_like_kube_apiserver() {
        let o = json!({"spec": {"interval": "1d", "mode": "Patch", "name": "toolong",
            "replicas": 11, "ratio": 0, "port": true, "tags": ["a", "bb", "cc"],
            "labels": {"x": 1}, "sourceRef": {}, "items": "no"}});
        assert_eq!(
            messages(&validate(&schema(), None, &o)),
            [
                r#"spec.interval: Invalid value: "1d": spec.interval in body should match '^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$'"#,
                r#"spec.mode: Unsupported value: "Patch": supported values: "Merge", "Replace""#,
                "spec.name: Too long: may not be more than 5 bytes",
                "spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10",
                "spec.ratio: Invalid value: 0: spec.ratio in body should be greater than 0",
                r#"spec.port: Invalid value: true: spec.port in body must be of type integer,string: "boolean""#,
                "spec.tags: Too many: 3: must have at most 2 items",
                r#"spec.tags[0]: Invalid value: "a": spec.tags[0] in body should be at least 2 chars long"#,
                r#"spec.labels.x: Invalid value: 1: spec.labels.x in body must be of type string: "integer""#,
                "spec.sourceRef.kind: Required value",
                r#"spec.items: Invalid value: "no": spec.items in body must be of type array: "string""#,
            ]
        );
        let causes = validate(&schema(), None, &o);
        let reasons: Vec<&str> = causes
            .iter()
            .map(|c| match c.reason.as_str() {
                "FieldValueInvalid" => "Invalid",
                "FieldValueNotSupported" => "NotSupported",
                "FieldValueTooLong" => "TooLong",
                "FieldValueTooMany" => "TooMany",
                "FieldValueTypeInvalid" => "TypeInvalid",
                "FieldValueRequired" => "Required",
                _ => "other",
            })
            .collect();
        assert_eq!(
            reasons,
            [
                "Invalid",
                "NotSupported",
                "TooLong",
                "Invalid",
                "Invalid",
                "TypeInvalid",
                "TooMany",
                "Invalid",
                "TypeInvalid",
                "Required",
                "TypeInvalid"
            ]
        );
        let empty = json!({"spec": {}});
        assert_eq!(
            messages(&validate(&schema(), None, &empty)),
            [
                "spec.interval: Required value",
                "spec.sourceRef: Required value"
            ]
        );
    }

    #[test]
    fn formats_multiples_list_uniqueness_and_combinators() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object",
        "properties": {
            "ip": {"type": "string", "format": "ipv4"},
            "when": {"type": "string", "format": "date-time"},
            "free": {"type": "string", "format": "not-a-checked-format"},
            "step": {"type": "integer", "multipleOf": 5},
            "tags": {"type": "array", "x-kubernetes-list-type": "set",
                "items": {"type": "string"}},
            "ports": {"type": "array", "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["name"],
                "items": {"type": "object", "properties": {
                    "name": {"type": "string"}, "port": {"type": "integer"}}}},
            "either": {"anyOf": [{"type": "integer"}, {"type": "string", "pattern": "^[a-z]+$"}],
                "x-kubernetes-int-or-string": true},
            "exactly": {"type": "object", "oneOf": [{"required": ["a"]}, {"required": ["b"]}]},
            "never": {"type": "string", "not": {"enum": ["forbidden"]}},
            "both": {"type": "string", "allOf": [{"minLength": 2}, {"maxLength": 3}]},
        }}}});
        let good = json!({"spec": {"ip": "10.0.0.1", "when": "2024-01-02T03:04:05Z",
            "free": "anything", "step": 10, "tags": ["a", "b"],
            "ports": [{"name": "http", "port": 80}, {"name": "https", "port": 443}],
            "either": "abc", "exactly": {"a": 1}, "never": "fine", "both": "ab"}});
        assert_eq!(
            messages(&validate(&schema, None, &good)),
            Vec::<String>::new()
        );
        let bad = json!({"spec": {"ip": "10.0.0", "when": "tomorrow", "free": "?", "step": 7,
            "tags": ["a", "b", "a"],
            "ports": [{"name": "http", "port": 80}, {"name": "http", "port": 8080}],
            "either": "ABC", "exactly": {"a": 1, "b": 2}, "never": "forbidden", "both": "abcd"}});
        assert_eq!(
            messages(&validate(&schema, None, &bad)),
            [
                r#"spec.ip: Invalid value: "10.0.0": spec.ip in body must be of type ipv4: "10.0.0""#,
                r#"spec.when: Invalid value: "tomorrow": spec.when in body must be of type date-time: "tomorrow""#,
                "spec.step: Invalid value: 7: spec.step in body should be a multiple of 5",
                r#"spec.tags[2]: Duplicate value: "a""#,
                r#"spec.ports[1]: Duplicate value: map[string]interface {}{"name":"http"}"#,
                r#"spec.either: Invalid value: "ABC": spec.either in body must validate at least one schema (anyOf)"#,
                r#"spec.exactly: Invalid value: {"a":1,"b":2}: spec.exactly in body must validate one and only one schema (oneOf)"#,
                r#"spec.never: Invalid value: "forbidden": spec.never in body must not validate the schema (not)"#,
                r#"spec.both: Too long: may not be more than 3 bytes"#,
            ]
        );
    }

    #[test]
    fn unchanged_invalid_values_are_ratcheted_on_update() {
        let old = json!({"spec": {"interval": "1d", "sourceRef": {"kind": "GitRepository"}},
            "status": {"ready": false}});
        let mut status_only = old.clone();
        status_only["status"]["ready"] = json!(true);
        assert!(validate(&schema(), Some(&old), &status_only).is_empty());
        let mut changed = old.clone();
        changed["spec"]["interval"] = json!("2d");
        assert_eq!(
            messages(&validate(&schema(), Some(&old), &changed)),
            [
                r#"spec.interval: Invalid value: "2d": spec.interval in body should match '^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$'"#
            ]
        );
        assert_eq!(validate(&schema(), None, &old).len(), 1);
    }
}
