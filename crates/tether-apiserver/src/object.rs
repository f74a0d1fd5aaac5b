//! Reading and writing the metadata of objects held as JSON values.

use serde_json::{Map, Value};

/// Metav1 time now, as Kubernetes writes it (RFC 3339, seconds, UTC).
pub fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

pub fn meta(object: &Value) -> Option<&Map<String, Value>> {
    object.get("metadata").and_then(Value::as_object)
}

/// `metadata`, created when missing (and replacing a non-object).
pub fn meta_mut(object: &mut Value) -> &mut Map<String, Value> {
    if !object.get("metadata").is_some_and(Value::is_object) {
        object["metadata"] = Value::Object(Map::new());
    }
    match object.get_mut("metadata") {
        Some(Value::Object(map)) => map,
        // Just made sure it is an object.
        _ => unreachable!("metadata was set to an object above"),
    }
}

pub fn meta_str<'a>(object: &'a Value, field: &str) -> Option<&'a str> {
    meta(object)
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
}

pub fn name(object: &Value) -> &str {
    meta_str(object, "name").unwrap_or("")
}

pub fn namespace(object: &Value) -> Option<&str> {
    meta_str(object, "namespace").filter(|s| !s.is_empty())
}

pub fn uid(object: &Value) -> &str {
    meta_str(object, "uid").unwrap_or("")
}

pub fn resource_version(object: &Value) -> Option<&str> {
    meta_str(object, "resourceVersion").filter(|s| !s.is_empty())
}

pub fn deletion_timestamp(object: &Value) -> Option<&str> {
    meta_str(object, "deletionTimestamp")
}

pub fn generation(object: &Value) -> i64 {
    meta(object)
        .and_then(|m| m.get("generation"))
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

pub fn finalizers(object: &Value) -> Vec<String> {
    meta(object)
        .and_then(|m| m.get("finalizers"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|f| f.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

pub fn set_finalizers(object: &mut Value, finalizers: &[String]) {
    let meta = meta_mut(object);
    if finalizers.is_empty() {
        meta.remove("finalizers");
    } else {
        meta.insert(
            "finalizers".into(),
            finalizers.iter().cloned().map(Value::String).collect(),
        );
    }
}

pub fn labels(object: &Value) -> Option<&Map<String, Value>> {
    meta(object)
        .and_then(|m| m.get("labels"))
        .and_then(Value::as_object)
}

pub fn annotation<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    meta(object)
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.get(key))
        .and_then(Value::as_str)
}

/// Sets a metadata field, or removes it when `value` is null.
pub fn set_meta(object: &mut Value, field: &str, value: Value) {
    let meta = meta_mut(object);
    if value.is_null() {
        meta.remove(field);
    } else {
        meta.insert(field.to_owned(), value);
    }
}

/// The object without `metadata` and, when `without_status`, without `status`: the part whose
/// change bumps `metadata.generation`.
pub fn spec_equal(a: &Value, b: &Value, without_status: bool) -> bool {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return a == b;
    };
    let skip = |k: &str| k == "metadata" || (without_status && k == "status");
    let a_keys = a.iter().filter(|(k, _)| !skip(k));
    let b_count = b.keys().filter(|k| !skip(k)).count();
    let mut a_count = 0;
    for (k, v) in a_keys {
        a_count += 1;
        if b.get(k) != Some(v) {
            return false;
        }
    }
    a_count == b_count
}

/// Puts `apiVersion` and `kind` first, as Go's structs serialize them, keeping the rest in order.
pub fn with_type_meta(object: Value, api_version: &str, kind: &str) -> Value {
    let Value::Object(map) = object else {
        return object;
    };
    let mut out = Map::with_capacity(map.len() + 2);
    out.insert("apiVersion".into(), Value::String(api_version.to_owned()));
    out.insert("kind".into(), Value::String(kind.to_owned()));
    for (k, v) in map {
        if k != "apiVersion" && k != "kind" {
            out.insert(k, v);
        }
    }
    Value::Object(out)
}

/// A random suffix for `generateName`, from the alphabet upstream uses (no vowels, no
/// look-alike digits).
pub fn random_suffix() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut rng = rand::rng();
    (0..5)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn spec_equality_ignores_metadata_and_optionally_status() {
        let a = json!({"metadata": {"name": "a"}, "spec": {"x": 1}, "status": {"y": 1}});
        let b = json!({"metadata": {"name": "b"}, "spec": {"x": 1}, "status": {"y": 2}});
        assert!(spec_equal(&a, &b, true));
        assert!(!spec_equal(&a, &b, false));
        let c = json!({"metadata": {}, "spec": {"x": 2}});
        assert!(!spec_equal(&a, &c, true));
    }

    #[test]
    fn type_meta_goes_first() {
        let o = with_type_meta(json!({"metadata": {}, "kind": "X"}), "v1", "ConfigMap");
        let keys: Vec<&String> = o.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["apiVersion", "kind", "metadata"]);
    }

    #[test]
    fn generate_name_suffix() {
        let s = random_suffix();
        assert_eq!(s.len(), 5);
        assert!(
            s.bytes()
                .all(|b| b"bcdfghjklmnpqrstvwxz2456789".contains(&b))
        );
    }
}
