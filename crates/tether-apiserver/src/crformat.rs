//! The string `format`s a CRD schema may name that kube-apiserver validates (the list in
//! `JSONSchemaProps.format`'s documentation); any other format is ignored, as upstream does.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

use base64::Engine as _;
use regex::Regex;

/// Whether `s` is a valid `format`, or `None` when the format is not one upstream checks.
pub fn valid(format: &str, s: &str) -> Option<bool> {
    Some(match format {
        "bsonobjectid" => s.len() == 24 && s.bytes().all(|b| b.is_ascii_hexdigit()),
        "uri" => uri(s),
        "email" => email(s),
        "hostname" => hostname(s),
        "ipv4" => s.parse::<Ipv4Addr>().is_ok(),
        // Go's net.ParseIP accepts either family for "ipv6" too.
        "ipv6" => s.parse::<Ipv6Addr>().is_ok() || s.parse::<Ipv4Addr>().is_ok(),
        "cidr" => cidr(s),
        "mac" => mac(s),
        "uuid" => matches(&UUID, s),
        "uuid3" => matches(&UUID3, s),
        "uuid4" => matches(&UUID4, s),
        "uuid5" => matches(&UUID5, s),
        "isbn" => isbn10(s) || isbn13(s),
        "isbn10" => isbn10(s),
        "isbn13" => isbn13(s),
        "creditcard" => {
            let digits: String = s.chars().filter(char::is_ascii_digit).collect();
            matches(&CREDIT_CARD, &digits)
        }
        "ssn" => matches(&SSN, s),
        "hexcolor" => matches(&HEX_COLOR, s),
        "rgbcolor" => matches(&RGB_COLOR, s),
        "byte" => base64::engine::general_purpose::STANDARD.decode(s).is_ok(),
        "password" => true,
        "date" => s.len() == 10 && s.parse::<jiff::civil::Date>().is_ok(),
        "datetime" | "date-time" => s.parse::<jiff::Timestamp>().is_ok(),
        "duration" => go_duration(s) || scala_duration(s),
        _ => return None,
    })
}

fn matches(re: &LazyLock<Option<Regex>>, s: &str) -> bool {
    re.as_ref().is_some_and(|re| re.is_match(s))
}

macro_rules! pattern {
    ($name:ident, $re:expr) => {
        // The patterns are constants checked by the tests below; `None` never happens.
        static $name: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new($re).ok());
    };
}

pattern!(
    UUID,
    r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$"
);
pattern!(
    UUID3,
    r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?3[0-9a-f]{3}-?[0-9a-f]{4}-?[0-9a-f]{12}$"
);
pattern!(
    UUID4,
    r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$"
);
pattern!(
    UUID5,
    r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?5[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$"
);
pattern!(
    CREDIT_CARD,
    r"^(?:4[0-9]{12}(?:[0-9]{3})?|5[1-5][0-9]{14}|6(?:011|5[0-9][0-9])[0-9]{12}|3[47][0-9]{13}|3(?:0[0-5]|[68][0-9])[0-9]{11}|(?:2131|1800|35\d{3})\d{11})$"
);
pattern!(SSN, r"^\d{3}[- ]?\d{2}[- ]?\d{4}$");
pattern!(HEX_COLOR, r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$");
pattern!(
    RGB_COLOR,
    r"^rgb\(\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*\)$"
);

/// Go's `url.ParseRequestURI`: an absolute URI (with a scheme) or an absolute path.
fn uri(s: &str) -> bool {
    if s.is_empty() || s.chars().any(|c| c.is_control() || c == ' ') {
        return false;
    }
    if s.starts_with('/') {
        return true;
    }
    let Some((scheme, _)) = s.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// Go's `mail.ParseAddress`, simplified: `local@domain`, optionally as `Name <local@domain>`.
fn email(s: &str) -> bool {
    let address = match (s.rfind('<'), s.strip_suffix('>')) {
        (Some(open), Some(inner)) => &inner[open + 1..],
        _ => s.trim(),
    };
    let Some((local, domain)) = address.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && !address
            .chars()
            .any(|c| c.is_whitespace() || c == '<' || c == '>')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
}

/// RFC 1034 host names: dot-separated labels of letters, digits and inner hyphens.
fn hostname(s: &str) -> bool {
    let s = s.strip_suffix('.').unwrap_or(s);
    !s.is_empty()
        && s.len() <= 255
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

fn cidr(s: &str) -> bool {
    let Some((ip, bits)) = s.split_once('/') else {
        return false;
    };
    let Ok(ip) = ip.parse::<IpAddr>() else {
        return false;
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    !bits.is_empty()
        && bits.bytes().all(|b| b.is_ascii_digit())
        && bits.parse::<u32>().is_ok_and(|b| b <= max)
}

/// Go's `net.ParseMAC`: 6, 8 or 20 octets as `aa:bb:…`, `aa-bb-…` or `aabb.ccdd.…`.
fn mac(s: &str) -> bool {
    let octets = |groups: Vec<&str>, width: usize| {
        groups
            .iter()
            .all(|g| g.len() == width && g.bytes().all(|b| b.is_ascii_hexdigit()))
            .then_some(groups.len() * width / 2)
    };
    let count = if s.contains(':') {
        octets(s.split(':').collect(), 2)
    } else if s.contains('-') {
        octets(s.split('-').collect(), 2)
    } else if s.contains('.') {
        octets(s.split('.').collect(), 4)
    } else {
        None
    };
    matches!(count, Some(6 | 8 | 20))
}

fn isbn_digits(s: &str) -> Vec<char> {
    s.chars().filter(|c| !matches!(c, '-' | ' ')).collect()
}

fn isbn10(s: &str) -> bool {
    let digits = isbn_digits(s);
    if digits.len() != 10 {
        return false;
    }
    let mut sum = 0;
    for (i, c) in digits.iter().enumerate() {
        let value = match c {
            'X' | 'x' if i == 9 => 10,
            c => match c.to_digit(10) {
                Some(d) => d,
                None => return false,
            },
        };
        sum += value * (10 - i as u32);
    }
    sum % 11 == 0
}

fn isbn13(s: &str) -> bool {
    let digits = isbn_digits(s);
    if digits.len() != 13 {
        return false;
    }
    let mut sum = 0;
    for (i, c) in digits.iter().enumerate() {
        let Some(d) = c.to_digit(10) else {
            return false;
        };
        sum += if i % 2 == 0 { d } else { 3 * d };
    }
    sum % 10 == 0
}

/// Go's `time.ParseDuration`: `[-+]` then number-unit pairs (`1h30m`, `1.5s`, `300ms`), or `0`.
fn go_duration(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    if s == "0" {
        return true;
    }
    let mut rest = s;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let number = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (digits, after) = rest.split_at(number);
        if digits.is_empty() || digits == "." || digits.matches('.').count() > 1 {
            return false;
        }
        let unit = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit);
        if !matches!(unit, "ns" | "us" | "µs" | "μs" | "ms" | "s" | "m" | "h") {
            return false;
        }
        rest = next;
    }
    true
}

/// go-openapi's Scala-like durations: a whole number, optional spaces, a unit word.
fn scala_duration(s: &str) -> bool {
    let digits = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    if digits == 0 {
        return false;
    }
    let unit = s[digits..].trim_start();
    matches!(
        unit,
        "ns" | "nano"
            | "nanos"
            | "nanosecond"
            | "nanoseconds"
            | "us"
            | "µs"
            | "micro"
            | "micros"
            | "microsecond"
            | "microseconds"
            | "ms"
            | "milli"
            | "millis"
            | "millisecond"
            | "milliseconds"
            | "s"
            | "sec"
            | "secs"
            | "second"
            | "seconds"
            | "m"
            | "min"
            | "mins"
            | "minute"
            | "minutes"
            | "h"
            | "hr"
            | "hour"
            | "hours"
            | "d"
            | "day"
            | "days"
            | "w"
            | "wk"
            | "week"
            | "weeks"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles() {
        for re in [
            &UUID,
            &UUID3,
            &UUID4,
            &UUID5,
            &CREDIT_CARD,
            &SSN,
            &HEX_COLOR,
            &RGB_COLOR,
        ] {
            assert!(re.is_some());
        }
    }

    #[test]
    fn formats_accept_and_refuse_as_upstream_documents() {
        let cases: &[(&str, &[&str], &[&str])] = &[
            (
                "bsonobjectid",
                &["507f1f77bcf86cd799439011"],
                &["507f1f77", "zz7f1f77bcf86cd799439011"],
            ),
            (
                "uri",
                &["https://example.com/x?y=1", "/abs/path", "mailto:a@b"],
                &["relative/path", "", "http://a b"],
            ),
            (
                "email",
                &["ops@example.com", "Ops <ops@example.com>"],
                &["ops", "@example.com", "ops@", "o ps@example.com"],
            ),
            (
                "hostname",
                &["example.com", "a-b.c", "localhost"],
                &["-bad.com", "a..b", "under_score.com", ""],
            ),
            ("ipv4", &["10.0.0.1"], &["10.0.0", "::1", "300.1.1.1"]),
            ("ipv6", &["::1", "fe80::1", "10.0.0.1"], &["fe80::zz"]),
            (
                "cidr",
                &["10.0.0.0/8", "fd00::/64"],
                &["10.0.0.0", "10.0.0.0/33", "10.0.0.0/x"],
            ),
            (
                "mac",
                &["00:1a:2b:3c:4d:5e", "00-1A-2B-3C-4D-5E", "001a.2b3c.4d5e"],
                &["00:1a:2b:3c:4d", "001a2b3c4d5e"],
            ),
            (
                "uuid",
                &["123E4567-E89B-12D3-A456-426614174000"],
                &["123e4567"],
            ),
            (
                "uuid4",
                &["123e4567-e89b-42d3-a456-426614174000"],
                &["123e4567-e89b-12d3-a456-426614174000"],
            ),
            ("isbn10", &["0321751043"], &["0321751044"]),
            ("isbn13", &["978-0321751041"], &["978-0321751042"]),
            ("isbn", &["0321751043", "978-0321751041"], &["12345"]),
            ("creditcard", &["4111 1111 1111 1111"], &["1234 5678"]),
            ("ssn", &["123-45-6789", "123456789"], &["12-345-6789"]),
            ("hexcolor", &["#FFFFFF", "fff"], &["#GGGGGG", "#FFFF"]),
            (
                "rgbcolor",
                &["rgb(255, 0, 10)"],
                &["rgb(256,0,0)", "rgb(1,2)"],
            ),
            ("byte", &["aGVsbG8=", ""], &["not base64!"]),
            ("password", &["anything at all"], &[]),
            (
                "date",
                &["2006-01-02"],
                &["2006-13-02", "2006-1-2", "yesterday"],
            ),
            (
                "date-time",
                &["2014-12-15T19:30:20.000Z", "2014-12-15T19:30:20+02:00"],
                &["2014-12-15", "2014-12-15 19:30"],
            ),
            (
                "duration",
                &["1h30m", "1.5s", "-300ms", "0", "22 ns", "3 days"],
                &["1x", "h", "1h30", ""],
            ),
        ];
        for (format, good, bad) in cases {
            for s in *good {
                assert_eq!(valid(format, s), Some(true), "{format}: {s:?} should pass");
            }
            for s in *bad {
                assert_eq!(valid(format, s), Some(false), "{format}: {s:?} should fail");
            }
        }
        assert_eq!(valid("int32", "x"), None, "unknown formats are ignored");
        assert_eq!(valid("quantity", "x"), None);
    }
}
