//! kyaml compares list elements by the text of YAML scalar nodes, not by typed values: `80` and
//! `"80"` are the same key. These helpers give a JSON value the text its YAML node would have.

use std::borrow::Cow;

use serde_json::{Map, Number, Value};

/// `map[key]`, scanning small maps instead of hashing: Kubernetes objects have a handful of
/// fields, and SipHash costs more than comparing them.
pub(crate) fn field<'m>(map: &'m Map<String, Value>, key: &str) -> Option<&'m Value> {
    if map.len() <= 8 {
        map.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v)
    } else {
        map.get(key)
    }
}

/// The `Value` of the YAML node (`yaml.Node.Value`): the scalar's text, `""` for maps and lists.
/// A null is taken to have been written `null`.
pub(crate) fn node_text(value: &Value) -> Cow<'_, str> {
    match value {
        Value::String(s) => Cow::Borrowed(s),
        Value::Number(n) => Cow::Owned(n.to_string()),
        Value::Bool(true) => Cow::Borrowed("true"),
        Value::Bool(false) => Cow::Borrowed("false"),
        Value::Null => Cow::Borrowed("null"),
        Value::Object(_) | Value::Array(_) => Cow::Borrowed(""),
    }
}

/// The value kyaml reads for a merge key (`ElementValuesList`): empty for a null, an empty map
/// or an empty list (`IsNilOrEmpty`), the node text otherwise.
pub(crate) fn key_text(field: Option<&Value>) -> Cow<'_, str> {
    match field {
        None | Some(Value::Null) => Cow::Borrowed(""),
        Some(Value::Object(m)) if m.is_empty() => Cow::Borrowed(""),
        Some(Value::Array(a)) if a.is_empty() => Cow::Borrowed(""),
        Some(v) => node_text(v),
    }
}

/// The value of an untagged plain scalar written `text` (kyaml creates such nodes when it puts a
/// merge key back on an element; kustomize prints them plain, so they read back typed).
pub(crate) fn plain_scalar(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(i) = text.parse::<i64>() {
            return Value::Number(i.into());
        }
        if let Ok(u) = text.parse::<u64>() {
            return Value::Number(u.into());
        }
    }
    let looks_float = digits.bytes().any(|b| b.is_ascii_digit())
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'));
    if looks_float
        && let Ok(f) = text.parse::<f64>()
        && let Some(n) = Number::from_f64(f)
    {
        return Value::Number(n);
    }
    Value::String(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scalars_compare_by_their_yaml_text() {
        assert_eq!(node_text(&json!(80)), "80");
        assert_eq!(node_text(&json!("80")), "80");
        assert_eq!(node_text(&json!(true)), "true");
        assert_eq!(node_text(&json!({"a": 1})), "");
        assert_eq!(key_text(Some(&json!(null))), "");
        assert_eq!(key_text(Some(&json!({}))), "");
        assert_eq!(key_text(Some(&json!([]))), "");
        assert_eq!(key_text(Some(&json!("TCP"))), "TCP");
        assert_eq!(key_text(None), "");
    }

    #[test]
    fn plain_scalars_resolve_like_yaml() {
        assert_eq!(plain_scalar("80"), json!(80));
        assert_eq!(plain_scalar("-3"), json!(-3));
        assert_eq!(plain_scalar("1.5"), json!(1.5));
        assert_eq!(plain_scalar("true"), json!(true));
        assert_eq!(plain_scalar("null"), json!(null));
        assert_eq!(plain_scalar("TCP"), json!("TCP"));
        assert_eq!(plain_scalar("1.2.3"), json!("1.2.3"));
        assert_eq!(plain_scalar("e"), json!("e"));
    }
}
