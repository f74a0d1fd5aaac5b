//! Value semantics of structured-merge-diff on `serde_json::Value`: numeric equality across
//! int and float, the total order used to sort path elements, and Go's text forms (`%v` for
//! paths in messages, encoding/json for FieldsV1 keys), so output matches kube-apiserver's bytes.

use std::cmp::Ordering;
use std::fmt::Write as _;

use serde_json::{Number, Value};

/// A number as smd sees it: an integer (int64) or a float64.
#[derive(Clone, Copy)]
enum Num {
    Int(i128),
    Float(f64),
}

fn num(n: &Number) -> Num {
    if let Some(i) = n.as_i64() {
        Num::Int(i128::from(i))
    } else if let Some(u) = n.as_u64() {
        Num::Int(i128::from(u))
    } else {
        Num::Float(n.as_f64().unwrap_or(0.0))
    }
}

fn float_cmp(a: f64, b: f64) -> Ordering {
    a.partial_cmp(&b).unwrap_or(Ordering::Equal)
}

fn num_cmp(a: Num, b: Num) -> Ordering {
    match (a, b) {
        (Num::Int(a), Num::Int(b)) => a.cmp(&b),
        (Num::Int(a), Num::Float(b)) => float_cmp(a as f64, b),
        (Num::Float(a), Num::Int(b)) => float_cmp(a, b as f64),
        (Num::Float(a), Num::Float(b)) => float_cmp(a, b),
    }
}

/// smd's `value.Equals`: ints and floats compare numerically, maps ignore key order.
pub(crate) fn equals(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(a), Value::Number(b)) => num_cmp(num(a), num(b)) == Ordering::Equal,
        (Value::String(a), Value::String(b)) => a == b,
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::Null, Value::Null) => true,
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| equals(a, b))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, v)| b.get(k).is_some_and(|other| equals(v, other)))
        }
        _ => false,
    }
}

fn rank(v: &Value) -> u8 {
    match v {
        Value::Number(_) => 0,
        Value::String(_) => 1,
        Value::Bool(_) => 2,
        Value::Array(_) => 3,
        Value::Object(_) => 4,
        Value::Null => 5,
    }
}

/// smd's `value.Compare`: a total order (numbers < strings < booleans < lists < maps < null).
pub(crate) fn compare(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Number(a), Value::Number(b)) => num_cmp(num(a), num(b)),
        (Value::String(a), Value::String(b)) => a.as_bytes().cmp(b.as_bytes()),
        (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
        (Value::Array(a), Value::Array(b)) => {
            for (x, y) in a.iter().zip(b) {
                let c = compare(x, y);
                if c != Ordering::Equal {
                    return c;
                }
            }
            a.len().cmp(&b.len())
        }
        (Value::Object(a), Value::Object(b)) => {
            let mut ak: Vec<&String> = a.keys().collect();
            let mut bk: Vec<&String> = b.keys().collect();
            ak.sort();
            bk.sort();
            for (x, y) in ak.iter().zip(&bk) {
                let c = x.as_bytes().cmp(y.as_bytes());
                if c != Ordering::Equal {
                    return c;
                }
                let c = compare(&a[x.as_str()], &b[y.as_str()]);
                if c != Ordering::Equal {
                    return c;
                }
            }
            ak.len().cmp(&bk.len())
        }
        _ => rank(a).cmp(&rank(b)),
    }
}

/// Go's `%v` for a float64 (`strconv.FormatFloat(f, 'g', -1, 64)`): shortest digits, exponent
/// form when the decimal exponent is below -4 or at least 6.
pub(crate) fn go_float_v(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    let (neg, digits, exp) = shortest_digits(f);
    let sign = if neg { "-" } else { "" };
    if !(-4..6).contains(&exp) {
        // %e form: d.ddde±XX with at least two exponent digits.
        let mut mantissa = digits[..1].to_owned();
        if digits.len() > 1 {
            mantissa.push('.');
            mantissa.push_str(&digits[1..]);
        }
        let (esign, eabs) = if exp < 0 { ('-', -exp) } else { ('+', exp) };
        format!("{sign}{mantissa}e{esign}{eabs:02}")
    } else {
        format!("{sign}{}", place_point(&digits, exp))
    }
}

/// Shortest round-trip decimal digits of `f` and its decimal exponent (`d.ddd × 10^exp`).
fn shortest_digits(f: f64) -> (bool, String, i32) {
    let text = format!("{:e}", f.abs());
    let (mantissa, exp) = text.split_once('e').unwrap_or((text.as_str(), "0"));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    (f < 0.0, digits, exp.parse().unwrap_or(0))
}

/// Writes `digits` (d.ddd × 10^exp) in plain decimal notation.
fn place_point(digits: &str, exp: i32) -> String {
    if exp < 0 {
        let zeros = "0".repeat((-exp - 1) as usize);
        format!("0.{zeros}{digits}")
    } else {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            format!("{digits}{}", "0".repeat(int_len - digits.len()))
        } else {
            format!("{}.{}", &digits[..int_len], &digits[int_len..])
        }
    }
}

/// Go's encoding/json form of a float64: plain decimal between 1e-6 and 1e21, else exponent form
/// with the shortest exponent (`1e+21`, `1e-7`).
fn go_json_float(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let (neg, digits, exp) = shortest_digits(f);
        let mut mantissa = digits[..1].to_owned();
        if digits.len() > 1 {
            mantissa.push('.');
            mantissa.push_str(&digits[1..]);
        }
        let sign = if neg { "-" } else { "" };
        let esign = if exp < 0 { "-" } else { "+" };
        format!("{sign}{mantissa}e{esign}{}", exp.abs())
    } else if f == 0.0 {
        "0".to_owned()
    } else {
        let (neg, digits, exp) = shortest_digits(f);
        format!(
            "{}{}",
            if neg { "-" } else { "" },
            place_point(&digits, exp)
        )
    }
}

fn write_number(out: &mut String, n: &Number, json: bool) {
    match num(n) {
        Num::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Num::Float(f) => out.push_str(&if json {
            go_json_float(f)
        } else {
            go_float_v(f)
        }),
    }
}

/// smd's `value.ToString`, used in path strings: strings Go-quoted, numbers as Go prints them.
pub(crate) fn go_string(v: &Value) -> String {
    let mut out = String::new();
    write_go_string(&mut out, v);
    out
}

fn write_go_string(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => {
            let _ = write!(out, "{b}");
        }
        Value::Number(n) => write_number(out, n, false),
        Value::String(s) => write_go_quoted(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go_string(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(';');
                }
                out.push_str(k);
                out.push('=');
                write_go_string(out, &map[k.as_str()]);
            }
            out.push('}');
        }
    }
}

/// Go's `%q` (`strconv.Quote`) for a string.
pub(crate) fn write_go_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Writes `v` as Go's encoding/json (and jsoniter's standard-compatible mode) does: map keys
/// sorted, `<`, `>`, `&`, U+2028 and U+2029 escaped.
pub fn write_go_json(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(out, n, true),
        Value::String(s) => write_go_json_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go_json(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go_json_string(out, k);
                out.push(':');
                write_go_json(out, &map[k.as_str()]);
            }
            out.push('}');
        }
    }
}

/// A JSON string literal as Go's encoding/json writes it with HTML escaping.
pub(crate) fn write_go_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A short description of a value's kind, for error messages.
pub(crate) fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "map",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn ints_and_floats_are_equal_numerically() {
        assert!(equals(&json!(2), &json!(2.0)));
        assert!(!equals(&json!(2), &json!("2")));
        assert_eq!(compare(&json!(1.5), &json!(2)), Ordering::Less);
        assert!(equals(
            &json!({"a": 1, "b": [1.0]}),
            &json!({"b": [1], "a": 1.0})
        ));
    }

    #[test]
    fn order_follows_smd_kinds() {
        let ordered = [
            json!(3),
            json!("a"),
            json!(false),
            json!([1]),
            json!({}),
            json!(null),
        ];
        for pair in ordered.windows(2) {
            assert_eq!(compare(&pair[0], &pair[1]), Ordering::Less, "{pair:?}");
        }
    }

    #[test]
    fn go_text_forms() {
        assert_eq!(go_string(&json!(2.0)), "2");
        assert_eq!(go_string(&json!(1.5)), "1.5");
        assert_eq!(go_string(&json!(1_000_000.0)), "1e+06");
        assert_eq!(go_string(&json!(123_456.0)), "123456");
        assert_eq!(go_string(&json!(0.00001)), "1e-05");
        assert_eq!(go_string(&json!("a\"b")), r#""a\"b""#);
        let mut out = String::new();
        write_go_json(
            &mut out,
            &json!({"b": "<&>", "a": 2.0, "c": 1e21, "d": 1e-7}),
        );
        assert_eq!(
            out,
            r#"{"a":2,"b":"\u003c\u0026\u003e","c":1e+21,"d":1e-7}"#
        );
    }
}
