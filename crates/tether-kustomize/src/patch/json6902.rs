//! JSON 6902 patches as kustomize v5.6.0 applies them: with `gopkg.in/evanphx/json-patch.v4`,
//! whose semantics differ from RFC 6902 (and from the `json-patch` crate) where users notice:
//!
//! - `replace` of a missing object key adds it; `replace` of the root with a scalar does
//!   nothing;
//! - array indices may be negative (from the end; `add` at `-1` appends), and may have a sign or
//!   leading zeros (`+1`, `01`);
//! - an operation without `value` uses `null`;
//! - a path without its leading `/` addresses the last segment in the root (`a/b` is `/b`);
//! - walking through a `null` or a scalar is "missing path";
//! - the resource goes through `float64`: integers beyond 2^53 lose precision.
//!
//! Error messages are evanphx's, prefixed with the operation's index and path.

use serde_json::{Map, Number, Value};

use super::error::PatchError;

/// Applies the JSON 6902 operations `ops` (the parsed patch: a list of maps) to `target`.
///
/// On error `target` may hold the result of the operations before the failing one; kustomize
/// stops the build then.
pub fn apply_json6902(target: &mut Value, ops: &Value) -> Result<(), PatchError> {
    let Value::Array(ops) = ops else {
        return Err(PatchError::InvalidJsonPatch(format!(
            "expected a list of operations, got {}",
            describe(ops)
        )));
    };
    for (index, op) in ops.iter().enumerate() {
        let op = match op {
            Value::Object(op) => Some(op),
            Value::Null => None,
            other => {
                return Err(PatchError::InvalidJsonPatch(format!(
                    "operation {index} is {}, not a map",
                    describe(other)
                )));
            }
        };
        let operation = Operation { op };
        operation
            .apply(target)
            .map_err(|message| PatchError::JsonPatchOperation {
                index,
                op: operation.kind().to_owned(),
                path: operation.path().unwrap_or_default().to_owned(),
                message,
            })?;
    }
    if !target.is_object() {
        return Err(PatchError::NotAnObject(describe(target)));
    }
    round_trip_numbers(target);
    Ok(())
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

const MISSING: &str = "missing value";
const INVALID_INDEX: &str = "invalid index referenced";
const TEST_FAILED: &str = "test failed";

struct Operation<'a> {
    op: Option<&'a Map<String, Value>>,
}

impl<'a> Operation<'a> {
    fn kind(&self) -> &'a str {
        self.op
            .and_then(|o| o.get("op"))
            .and_then(Value::as_str)
            .unwrap_or("unknown")
    }

    fn string_field(&self, field: &str, missing: &str) -> Result<&'a str, String> {
        match self.op.and_then(|o| o.get(field)) {
            None | Some(Value::Null) => Err(format!("{missing}: {MISSING}")),
            Some(Value::String(s)) => Ok(s),
            Some(other) => Err(format!(
                "json: cannot unmarshal {} into Go value of type string",
                go_json_type(other)
            )),
        }
    }

    fn path(&self) -> Result<&'a str, String> {
        self.string_field("path", "operation missing path field")
    }

    fn from(&self) -> Result<&'a str, String> {
        self.string_field("from", "operation, missing from field")
    }

    /// The operation's value; `None` when it has no `value` field (evanphx then uses `null`).
    fn value(&self) -> Option<&'a Value> {
        self.op.and_then(|o| o.get("value"))
    }

    fn value_or_null(&self) -> Value {
        self.value().cloned().unwrap_or(Value::Null)
    }

    fn apply(&self, doc: &mut Value) -> Result<(), String> {
        match self.kind() {
            "add" => self.add(doc),
            "remove" => self.remove(doc),
            "replace" => self.replace(doc),
            "move" => self.move_(doc),
            "test" => self.test(doc),
            "copy" => self.copy(doc),
            other => Err(format!("Unexpected kind: {other}")),
        }
    }

    fn add(&self, doc: &mut Value) -> Result<(), String> {
        let path = self
            .path()
            .map_err(|_| format!("add operation failed to decode path: {MISSING}"))?;
        let (container, key) = find_object(doc, path).ok_or_else(|| {
            format!("add operation does not apply: doc is missing path: \"{path}\": {MISSING}")
        })?;
        add(container, &key, self.value_or_null())
            .map_err(|e| format!("error in add for path: '{path}': {e}"))
    }

    fn remove(&self, doc: &mut Value) -> Result<(), String> {
        let path = self
            .path()
            .map_err(|_| format!("remove operation failed to decode path: {MISSING}"))?;
        let (container, key) = find_object(doc, path).ok_or_else(|| {
            format!("remove operation does not apply: doc is missing path: \"{path}\": {MISSING}")
        })?;
        remove(container, &key)
            .map(drop)
            .map_err(|e| format!("error in remove for path: '{path}': {e}"))
    }

    fn replace(&self, doc: &mut Value) -> Result<(), String> {
        let path = self
            .path()
            .map_err(|e| format!("replace operation failed to decode path: {e}"))?;
        if path.is_empty() {
            // evanphx wraps a nil error here, so a scalar value is silently ignored.
            match self.value() {
                Some(value @ (Value::Object(_) | Value::Array(_))) => *doc = value.clone(),
                Some(_) => {}
                None => {
                    return Err(
                        "replace operation value must be object or array: missing value".to_owned(),
                    );
                }
            }
            return Ok(());
        }
        let (container, key) = find_object(doc, path).ok_or_else(|| {
            format!("replace operation does not apply: doc is missing path: {path}: {MISSING}")
        })?;
        if get(container, &key).is_err() {
            return Err(format!(
                "replace operation does not apply: doc is missing key: {path}: {MISSING}"
            ));
        }
        set(container, &key, self.value_or_null())
            .map_err(|e| format!("error in remove for path: '{path}': {e}"))
    }

    fn move_(&self, doc: &mut Value) -> Result<(), String> {
        let from = self
            .from()
            .map_err(|e| format!("move operation failed to decode from: {e}"))?;
        let (container, key) = find_object(doc, from).ok_or_else(|| {
            format!("move operation does not apply: doc is missing from path: {from}: {MISSING}")
        })?;
        get(container, &key).map_err(|e| format!("error in move for path: '{key}': {e}"))?;
        let value =
            remove(container, &key).map_err(|e| format!("error in move for path: '{key}': {e}"))?;
        let path = self
            .path()
            .map_err(|e| format!("move operation failed to decode path: {e}"))?;
        let (container, key) = find_object(doc, path).ok_or_else(|| {
            format!(
                "move operation does not apply: doc is missing destination path: {path}: {MISSING}"
            )
        })?;
        add(container, &key, value).map_err(|e| format!("error in move for path: '{path}': {e}"))
    }

    fn test(&self, doc: &mut Value) -> Result<(), String> {
        let path = self
            .path()
            .map_err(|e| format!("test operation failed to decode path: {e}"))?;
        let failed = || format!("testing value {path} failed: {TEST_FAILED}");
        if path.is_empty() {
            return match self.value() {
                Some(expected) if json_equal(doc, expected) => Ok(()),
                _ => Err(failed()),
            };
        }
        let (container, key) = find_object(doc, path).ok_or_else(|| {
            format!("test operation does not apply: is missing path: {path}: {MISSING}")
        })?;
        let actual =
            get(container, &key).map_err(|e| format!("error in test for path: '{path}': {e}"))?;
        match (actual, self.value()) {
            // A missing or null value matches an explicit `value: null`.
            (None, Some(Value::Null)) => Ok(()),
            (Some(actual), Some(expected)) if json_equal(actual, expected) => Ok(()),
            _ => Err(failed()),
        }
    }

    fn copy(&self, doc: &mut Value) -> Result<(), String> {
        let from = self
            .from()
            .map_err(|e| format!("copy operation failed to decode from: {e}"))?;
        let (container, key) = find_object(doc, from).ok_or_else(|| {
            format!("copy operation does not apply: doc is missing from path: {from}: {MISSING}")
        })?;
        let value = get(container, &key)
            .map_err(|e| format!("error in copy for from: '{from}': {e}"))?
            .cloned()
            .unwrap_or(Value::Null);
        let path = self
            .path()
            .map_err(|_| format!("copy operation failed to decode path: {MISSING}"))?;
        let (container, key) = find_object(doc, path).ok_or_else(|| {
            format!(
                "copy operation does not apply: doc is missing destination path: {path}: {MISSING}"
            )
        })?;
        add(container, &key, value)
            .map_err(|e| format!("error while adding value during copy: {e}"))
    }
}

fn go_json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn decode_key(part: &str) -> String {
    part.replace("~1", "/").replace("~0", "~")
}

/// Go's `strconv.Atoi`, with its error text.
fn atoi(key: &str) -> Result<i64, String> {
    key.parse::<i64>().map_err(|e| {
        let reason = match e.kind() {
            std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow => {
                "value out of range"
            }
            _ => "invalid syntax",
        };
        format!("strconv.Atoi: parsing {key:?}: {reason}")
    })
}

fn invalid_index(index: i64) -> String {
    format!("Unable to access invalid index: {index}: {INVALID_INDEX}")
}

/// evanphx's `findObject`: the container of the path's last segment, and that segment. Every
/// segment before it must name a map or a list.
fn find_object<'d>(doc: &'d mut Value, path: &str) -> Option<(&'d mut Value, String)> {
    let segments: Vec<&str> = path.split('/').collect();
    let (last, parents) = segments.split_last()?;
    if parents.is_empty() {
        return None;
    }
    let mut container = doc;
    for part in &parents[1..] {
        let part = decode_key(part);
        let next = match container {
            Value::Object(map) => map.get_mut(&part)?,
            Value::Array(items) => {
                let index = resolve_index(atoi(&part).ok()?, items.len())?;
                items.get_mut(index)?
            }
            _ => return None,
        };
        if !matches!(next, Value::Object(_) | Value::Array(_)) {
            return None;
        }
        container = next;
    }
    Some((container, decode_key(last)))
}

/// A possibly negative index into a list of `len` items, if it names one.
fn resolve_index(index: i64, len: usize) -> Option<usize> {
    let signed_len = i64::try_from(len).ok()?;
    let index = if index < 0 { index + signed_len } else { index };
    usize::try_from(index).ok().filter(|&i| i < len)
}

fn get<'c>(container: &'c Value, key: &str) -> Result<Option<&'c Value>, String> {
    match container {
        Value::Object(map) => Ok(map.get(key).filter(|v| !v.is_null())),
        Value::Array(items) => {
            let index = atoi(key)?;
            let i = resolve_index(index, items.len()).ok_or_else(|| invalid_index(index))?;
            Ok(items.get(i).filter(|v| !v.is_null()))
        }
        _ => Ok(None),
    }
}

fn set(container: &mut Value, key: &str, value: Value) -> Result<(), String> {
    match container {
        Value::Object(map) => {
            map.insert(key.to_owned(), value);
            Ok(())
        }
        Value::Array(items) => {
            let index = atoi(key)?;
            let i = resolve_index(index, items.len()).ok_or_else(|| invalid_index(index))?;
            items[i] = value;
            Ok(())
        }
        _ => Ok(()),
    }
}

fn add(container: &mut Value, key: &str, value: Value) -> Result<(), String> {
    match container {
        Value::Object(map) => {
            map.insert(key.to_owned(), value);
            Ok(())
        }
        Value::Array(items) => {
            if key == "-" {
                items.push(value);
                return Ok(());
            }
            let index = atoi(key)
                .map_err(|e| format!("value was not a proper array index: '{key}': {e}"))?;
            // One past the end is allowed, and negative indices count from there.
            let i = resolve_index(index, items.len() + 1).ok_or_else(|| invalid_index(index))?;
            items.insert(i, value);
            Ok(())
        }
        _ => Ok(()),
    }
}

fn remove(container: &mut Value, key: &str) -> Result<Value, String> {
    match container {
        Value::Object(map) => map
            .shift_remove(key)
            .ok_or_else(|| format!("Unable to remove nonexistent key: {key}: {MISSING}")),
        Value::Array(items) => {
            let index = atoi(key)?;
            let i = resolve_index(index, items.len()).ok_or_else(|| invalid_index(index))?;
            Ok(items.remove(i))
        }
        _ => Err(format!(
            "Unable to remove nonexistent key: {key}: {MISSING}"
        )),
    }
}

/// evanphx's structural equality; numbers compare by value, as their JSON texts do after Go
/// re-encodes them.
fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_equal(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

/// kustomize reads the patched JSON back into Go `float64`s: integers beyond 2^53 round.
fn round_trip_numbers(value: &mut Value) {
    const EXACT: u64 = 1 << 53;
    match value {
        Value::Number(n) => {
            let big = n
                .as_i64()
                .map(|i| i.unsigned_abs() > EXACT)
                .or_else(|| n.as_u64().map(|u| u > EXACT))
                .unwrap_or(false);
            if big && let Some(f) = n.as_f64() {
                // Go prints the float in its shortest form, which reads back as this integer.
                let text = f.to_string();
                *n = text
                    .parse::<i64>()
                    .map(Number::from)
                    .or_else(|_| text.parse::<u64>().map(Number::from))
                    .ok()
                    .or_else(|| Number::from_f64(f))
                    .unwrap_or_else(|| n.clone());
            }
        }
        Value::Array(items) => items.iter_mut().for_each(round_trip_numbers),
        Value::Object(map) => map.values_mut().for_each(round_trip_numbers),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn apply(doc: Value, ops: Value) -> Result<Value, PatchError> {
        let mut doc = doc;
        apply_json6902(&mut doc, &ops)?;
        Ok(doc)
    }

    fn message(err: PatchError) -> String {
        match err {
            PatchError::JsonPatchOperation { message, .. } => message,
            other => panic!("unexpected error {other:?}"),
        }
    }

    #[test]
    fn adds_insert_append_and_count_from_the_end() {
        let doc = json!({"l": [1, 2, 3]});
        let ops = json!([
            {"op": "add", "path": "/l/-", "value": 4},
            {"op": "add", "path": "/l/0", "value": 0},
            {"op": "add", "path": "/l/-1", "value": 5},
            {"op": "add", "path": "/l/01", "value": 9},
        ]);
        assert_eq!(
            apply(doc, ops).unwrap(),
            json!({"l": [0, 9, 1, 2, 3, 4, 5]})
        );
    }

    #[test]
    fn replace_adds_missing_keys_and_value_defaults_to_null() {
        let doc = json!({"a": 1});
        let ops = json!([
            {"op": "replace", "path": "/b", "value": 2},
            {"op": "add", "path": "/c"},
            {"op": "replace", "path": "", "value": "ignored"},
        ]);
        assert_eq!(apply(doc, ops).unwrap(), json!({"a": 1, "b": 2, "c": null}));
    }

    #[test]
    fn errors_use_evanphx_wording() {
        let doc = json!({"data": {"a": "x"}, "l": [1]});
        let e = apply(doc.clone(), json!([{"op": "remove", "path": "/data/zz"}])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "JSON patch operation 0 (remove \"/data/zz\"): error in remove for path: '/data/zz': \
             Unable to remove nonexistent key: zz: missing value"
        );
        let e = apply(
            doc.clone(),
            json!([{"op": "add", "path": "/nope/x", "value": 1}]),
        );
        assert_eq!(
            message(e.unwrap_err()),
            "add operation does not apply: doc is missing path: \"/nope/x\": missing value"
        );
        let e = apply(
            doc.clone(),
            json!([{"op": "add", "path": "/l/5", "value": 1}]),
        );
        assert_eq!(
            message(e.unwrap_err()),
            "error in add for path: '/l/5': Unable to access invalid index: 5: invalid index referenced"
        );
        let e = apply(
            doc.clone(),
            json!([{"op": "test", "path": "/data/a", "value": "y"}]),
        );
        assert_eq!(
            message(e.unwrap_err()),
            "testing value /data/a failed: test failed"
        );
        let e = apply(doc.clone(), json!([{"op": "bogus", "path": "/a"}]));
        assert_eq!(message(e.unwrap_err()), "Unexpected kind: bogus");
        let e = apply(doc, json!({"op": "add"})).unwrap_err();
        assert!(matches!(e, PatchError::InvalidJsonPatch(_)));
    }

    #[test]
    fn move_copy_and_test() {
        let doc = json!({"a": {"b": 1}, "l": [{"x": 1}, {"x": 2}]});
        let ops = json!([
            {"op": "test", "path": "/a/b", "value": 1.0},
            {"op": "copy", "from": "/a", "path": "/c"},
            {"op": "move", "from": "/l/0", "path": "/l/-"},
            {"op": "test", "path": "/missing", "value": null},
            {"op": "test", "path": "/l", "value": [{"x": 2}, {"x": 1}]},
        ]);
        assert_eq!(
            apply(doc, ops).unwrap(),
            json!({"a": {"b": 1}, "l": [{"x": 2}, {"x": 1}], "c": {"b": 1}})
        );
    }

    #[test]
    fn big_integers_round_through_float64() {
        let doc = json!({"n": 12345678901234567_i64, "m": 9007199254740993_i64, "k": 80});
        let out = apply(doc, json!([])).unwrap();
        assert_eq!(
            out,
            json!({"n": 12345678901234568_i64, "m": 9007199254740992_i64, "k": 80})
        );
    }
}
