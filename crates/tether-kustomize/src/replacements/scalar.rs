//! Scalar typing as kustomize's output sees it. A replacement copies only the *text* into an
//! existing scalar, which keeps its YAML tag; kustomize then prints through JSON, decoding
//! the text under that tag (yaml.v3's `resolve`). A scalar the replacement created has no tag
//! and resolves like any plain scalar: `"007"` copied into a new field prints as `7`.

use serde_json::{Number, Value};

/// The YAML tag a scalar carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    Str,
    Int,
    Float,
    Bool,
    Null,
    /// No tag: created by the replacement, resolved from the text.
    Plain,
}

impl Tag {
    pub fn of(v: &Value) -> Tag {
        match v {
            Value::String(_) => Tag::Str,
            Value::Number(n) if n.is_f64() => Tag::Float,
            Value::Number(_) => Tag::Int,
            Value::Bool(_) => Tag::Bool,
            _ => Tag::Null,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Tag::Str | Tag::Plain => "!!str",
            Tag::Int => "!!int",
            Tag::Float => "!!float",
            Tag::Bool => "!!bool",
            Tag::Null => "!!null",
        }
    }
}

/// The text of a scalar as YAML holds it (maps and lists have none).
pub fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

/// The value `text` decodes to under `tag`, or yaml.v3's "cannot decode" error.
pub fn decode(tag: Tag, text: &str) -> Result<Value, String> {
    if tag == Tag::Str {
        return Ok(Value::String(text.to_owned()));
    }
    let (resolved, value) = resolve(text);
    let value = match (tag, resolved) {
        (Tag::Plain, _) => value,
        (t, r) if t == r => value,
        (Tag::Float, Tag::Int) => value
            .as_f64()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .unwrap_or(value),
        (t, r) => {
            return Err(format!(
                "yaml: cannot decode {} `{text}` as a {}",
                r.name(),
                t.name()
            ));
        }
    };
    Ok(value)
}

/// yaml.v3's `resolve` for an untagged plain scalar.
pub fn resolve(text: &str) -> (Tag, Value) {
    match text {
        "true" | "True" | "TRUE" => return (Tag::Bool, Value::Bool(true)),
        "false" | "False" | "FALSE" => return (Tag::Bool, Value::Bool(false)),
        "" | "~" | "null" | "Null" | "NULL" => return (Tag::Null, Value::Null),
        // NaN and infinities have no JSON form; kustomize's output step rejects them too.
        ".nan" | ".NaN" | ".NAN" | ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF"
        | "-.inf" | "-.Inf" | "-.INF" => return (Tag::Float, Value::String(text.to_owned())),
        _ => {}
    }
    let string = || (Tag::Str, Value::String(text.to_owned()));
    match text.as_bytes()[0] {
        b'.' => text
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map_or_else(string, |n| (Tag::Float, Value::Number(n))),
        b'0'..=b'9' | b'+' | b'-' => {
            let plain = text.replace('_', "");
            if let Some(n) = parse_go_int(&plain) {
                return (Tag::Int, n);
            }
            if is_yaml_float(&plain)
                && let Some(n) = plain.parse::<f64>().ok().and_then(Number::from_f64)
            {
                return (Tag::Float, Value::Number(n));
            }
            string()
        }
        _ => string(),
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)`, then `ParseUint`: optional sign, `0x`/`0o`/`0b`
/// prefixes, and a leading `0` for octal.
fn parse_go_int(s: &str) -> Option<Value> {
    let (negative, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = digits.to_ascii_lowercase();
    let (radix, body) = if let Some(b) = lower.strip_prefix("0x") {
        (16, b)
    } else if let Some(b) = lower.strip_prefix("0o") {
        (8, b)
    } else if let Some(b) = lower.strip_prefix("0b") {
        (2, b)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if body.is_empty() || body.starts_with(['+', '-']) {
        return None;
    }
    let magnitude = u64::from_str_radix(body, radix).ok()?;
    if negative {
        let n = 0i64.checked_sub_unsigned(magnitude)?;
        Some(Value::from(n))
    } else if let Ok(n) = i64::try_from(magnitude) {
        Some(Value::from(n))
    } else {
        Some(Value::from(magnitude))
    }
}

/// yaml.v3's `yamlStyleFloat`: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_float(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (number, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let number_ok = match number.split_once('.') {
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && (frac.is_empty() || digits(frac)),
        None => digits(number),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)));
    number_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plain_scalars_resolve_like_yaml_v3() {
        assert_eq!(resolve("7").1, json!(7));
        assert_eq!(resolve("007").1, json!(7));
        assert_eq!(resolve("08").1, json!(8.0));
        assert_eq!(resolve("0x1F").1, json!(31));
        assert_eq!(resolve("-0o17").1, json!(-15));
        assert_eq!(resolve("1_000").1, json!(1000));
        assert_eq!(resolve("1.5e3").1, json!(1500.0));
        assert_eq!(resolve(".5").1, json!(0.5));
        assert_eq!(resolve("True").1, json!(true));
        assert_eq!(resolve("yes").1, json!("yes"));
        assert_eq!(resolve("~").1, json!(null));
        assert_eq!(resolve("1.2.3").1, json!("1.2.3"));
        assert_eq!(resolve("-").1, json!("-"));
        assert_eq!(
            resolve("18446744073709551615").1,
            json!(18446744073709551615u64)
        );
        assert_eq!(resolve("2024-01-01").0, Tag::Str);
    }

    #[test]
    fn tags_decide_what_text_becomes() {
        assert_eq!(decode(Tag::Str, "7"), Ok(json!("7")));
        assert_eq!(decode(Tag::Int, "7"), Ok(json!(7)));
        assert_eq!(decode(Tag::Float, "7"), Ok(json!(7.0)));
        assert_eq!(decode(Tag::Plain, "true"), Ok(json!(true)));
        assert_eq!(decode(Tag::Null, "null"), Ok(json!(null)));
        assert_eq!(
            decode(Tag::Int, "x"),
            Err("yaml: cannot decode !!str `x` as a !!int".to_owned())
        );
        assert_eq!(
            decode(Tag::Null, "7"),
            Err("yaml: cannot decode !!int `7` as a !!null".to_owned())
        );
    }
}
