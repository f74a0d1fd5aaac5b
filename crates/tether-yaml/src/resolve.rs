//! Plain-scalar resolution as go-yaml does it: yaml.v3 (YAML 1.2-ish, used when kustomize reads)
//! and yaml.v2 (YAML 1.1 booleans, used to decide whether an emitted string needs quotes).

use crate::gonum::{is_yaml_style_float, parse_float, parse_int, parse_uint};
use crate::timestamp::is_timestamp;

/// What a scalar resolves to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Resolved {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str,
    Timestamp,
}

impl Resolved {
    /// go-yaml's short tag for messages.
    pub(crate) fn tag(self) -> &'static str {
        match self {
            Resolved::Null => "!!null",
            Resolved::Bool(_) => "!!bool",
            Resolved::Int(_) | Resolved::Uint(_) => "!!int",
            Resolved::Float(_) => "!!float",
            Resolved::Str => "!!str",
            Resolved::Timestamp => "!!timestamp",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    V2,
    V3,
}

fn lookup(s: &str, dialect: Dialect) -> Option<Resolved> {
    Some(match s {
        "true" | "True" | "TRUE" => Resolved::Bool(true),
        "false" | "False" | "FALSE" => Resolved::Bool(false),
        "" | "~" | "null" | "Null" | "NULL" => Resolved::Null,
        ".nan" | ".NaN" | ".NAN" => Resolved::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Resolved::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Resolved::Float(f64::NEG_INFINITY),
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" if dialect == Dialect::V2 => {
            Resolved::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" if dialect == Dialect::V2 => {
            Resolved::Bool(false)
        }
        _ => return None,
    })
}

fn int_or_uint(i: Option<i64>, u: impl FnOnce() -> Option<u64>) -> Option<Resolved> {
    match i {
        Some(i) => Some(Resolved::Int(i)),
        None => u().map(Resolved::Uint),
    }
}

/// go-yaml's `resolve("", s)` (or with `!!timestamp` allowed) for a plain scalar.
/// `timestamps` is false when an explicit tag other than `!!timestamp` asked for resolution.
pub(crate) fn resolve(s: &str, dialect: Dialect, timestamps: bool) -> Resolved {
    let hint = match s.as_bytes().first() {
        None => b'N',
        Some(b'+' | b'-') => b'S',
        Some(b'0'..=b'9') => b'D',
        Some(b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~') => b'M',
        Some(b'.') => b'.',
        Some(_) => return Resolved::Str,
    };
    if let Some(r) = lookup(s, dialect) {
        return r;
    }
    match hint {
        b'.' => parse_float(s).map_or(Resolved::Str, Resolved::Float),
        b'D' | b'S' => resolve_number(s, dialect, timestamps).unwrap_or(Resolved::Str),
        _ => Resolved::Str,
    }
}

fn resolve_number(s: &str, dialect: Dialect, timestamps: bool) -> Option<Resolved> {
    if timestamps && is_timestamp(s) {
        return Some(Resolved::Timestamp);
    }
    let owned;
    let plain = if s.contains('_') {
        owned = s.replace('_', "");
        owned.as_str()
    } else {
        s
    };
    if let Some(r) = int_or_uint(parse_int(plain, 0), || parse_uint(plain, 0)) {
        return Some(r);
    }
    if is_yaml_style_float(plain)
        && let Some(f) = parse_float(plain)
    {
        return Some(Resolved::Float(f));
    }
    if let Some(rest) = plain.strip_prefix("0b") {
        if let Some(r) = int_or_uint(parse_int(rest, 2), || parse_uint(rest, 2)) {
            return Some(r);
        }
    } else if let Some(rest) = plain.strip_prefix("-0b") {
        return parse_int(&format!("-{rest}"), 2).map(Resolved::Int);
    }
    if dialect == Dialect::V3 {
        if let Some(rest) = plain.strip_prefix("0o") {
            return int_or_uint(parse_int(rest, 8), || parse_uint(rest, 8));
        } else if let Some(rest) = plain.strip_prefix("-0o") {
            return parse_int(&format!("-{rest}"), 8).map(Resolved::Int);
        }
    }
    None
}

/// yaml.v2's `isBase60Float`: `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`. Such
/// strings are quoted on output for YAML 1.1 readers.
pub(crate) fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if let Some(b'+' | b'-') = b.first() {
        i = 1;
    }
    if !b.get(i).is_some_and(u8::is_ascii_digit) || !s.contains(':') {
        return false;
    }
    i += 1;
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while b.get(i) == Some(&b':') {
        i += 1;
        // `[0-5]?[0-9]`: one digit, or two with the first in 0-5.
        match (b.get(i), b.get(i + 1)) {
            (Some(b'0'..=b'5'), Some(b'0'..=b'9')) => i += 2,
            (Some(b'0'..=b'9'), _) => i += 1,
            _ => return false,
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

/// Whether yaml.v2 may write `s` as a plain scalar: it must read back as a string.
pub(crate) fn v2_plain_is_string(s: &str) -> bool {
    resolve(s, Dialect::V2, true) == Resolved::Str && !is_base60_float(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v3(s: &str) -> Resolved {
        resolve(s, Dialect::V3, true)
    }

    #[test]
    fn v3_scalars() {
        assert_eq!(v3("true"), Resolved::Bool(true));
        assert_eq!(v3("yes"), Resolved::Str);
        assert_eq!(v3("~"), Resolved::Null);
        assert_eq!(v3(""), Resolved::Null);
        assert_eq!(v3("0755"), Resolved::Int(493));
        assert_eq!(v3("0o17"), Resolved::Int(15));
        assert_eq!(v3("0o+7"), Resolved::Int(7));
        assert_eq!(v3("0b+1"), Resolved::Int(1));
        assert_eq!(v3("1_000"), Resolved::Int(1000));
        assert_eq!(v3("08"), Resolved::Float(8.0));
        assert_eq!(v3("1e3"), Resolved::Float(1000.0));
        assert_eq!(v3("1e400"), Resolved::Str);
        assert_eq!(v3("18446744073709551615"), Resolved::Uint(u64::MAX));
        assert_eq!(v3("2001-12-14"), Resolved::Timestamp);
        assert_eq!(v3("<<"), Resolved::Str);
        assert_eq!(v3("0x1FFFFFFFFFFFFFFFFF"), Resolved::Str);
        assert!(matches!(v3(".inf"), Resolved::Float(f) if f.is_infinite()));
    }

    #[test]
    fn v2_quoting() {
        for s in [
            "y",
            "n",
            "yes",
            "on",
            "Off",
            "true",
            "null",
            "",
            "1",
            "0x1F",
            "1e3",
            "1:20",
            "2001-12-14",
            ".5",
            "+1",
        ] {
            assert!(!v2_plain_is_string(s), "{s:?} needs quotes");
        }
        for s in [
            "a",
            "1e400",
            "<<",
            "0x1FFFFFFFFFFFFFFFFF",
            "1:60",
            "abc:1",
            "-",
            "1.2.3",
        ] {
            assert!(v2_plain_is_string(s), "{s:?} can be plain");
        }
    }
}
