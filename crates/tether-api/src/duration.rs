//! Go durations (`1m0s`, `5m`, `1h30m`, `500ms`) as the Flux APIs write them
//! (`metav1.Duration`): parsed like Go's `time.ParseDuration`, printed like `Duration.String`.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The validation pattern Flux puts on interval, retryInterval and timeout fields.
pub const DURATION_PATTERN: &str = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$";

/// The narrower pattern of `GitRepository.spec.timeout` (no hours).
pub const GIT_TIMEOUT_PATTERN: &str = r"^([0-9]+(\.[0-9]+)?(ms|s|m))+$";

const NANOS_PER_UNIT: [(&str, u64); 8] = [
    ("ns", 1),
    ("us", 1_000),
    ("\u{b5}s", 1_000),
    ("\u{3bc}s", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// Go's limit: a duration is an int64 of nanoseconds.
const MAX_NANOS: u64 = i64::MAX as u64;

/// A non-negative Go duration. Serializes as Go prints it (`90s` becomes `1m30s`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(std::time::Duration);

/// Why a duration string was refused; the message quotes the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("invalid duration {0:?}")]
    Invalid(String),
    #[error("invalid duration {0:?}: missing unit")]
    MissingUnit(String),
    #[error("invalid duration {text:?}: unknown unit {unit:?}")]
    UnknownUnit { text: String, unit: String },
    #[error("invalid duration {0:?}: out of range")]
    Overflow(String),
    #[error("invalid duration {0:?}: negative durations are not allowed")]
    Negative(String),
}

impl Duration {
    pub const ZERO: Duration = Duration(std::time::Duration::ZERO);

    pub const fn from_std(d: std::time::Duration) -> Duration {
        Duration(d)
    }

    pub const fn from_secs(secs: u64) -> Duration {
        Duration(std::time::Duration::from_secs(secs))
    }

    pub const fn as_std(&self) -> std::time::Duration {
        self.0
    }

    /// Parses Go's duration syntax: a sign, then one or more decimal numbers each with a unit
    /// (`ns`, `us`, `µs`, `ms`, `s`, `m`, `h`); `0` alone needs no unit.
    pub fn parse(text: &str) -> Result<Duration, DurationError> {
        let invalid = || DurationError::Invalid(text.to_owned());
        let overflow = || DurationError::Overflow(text.to_owned());
        let (negative, mut rest) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        if rest == "0" {
            return Ok(Duration::ZERO);
        }
        if rest.is_empty() {
            return Err(invalid());
        }
        let mut total: u64 = 0;
        while !rest.is_empty() {
            let first = rest.as_bytes()[0];
            if !(first == b'.' || first.is_ascii_digit()) {
                return Err(invalid());
            }
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            let mut value: u64 = 0;
            for b in rest[..digits].bytes() {
                value = value
                    .checked_mul(10)
                    .and_then(|v| v.checked_add(u64::from(b - b'0')))
                    .filter(|v| *v <= MAX_NANOS)
                    .ok_or_else(overflow)?;
            }
            rest = &rest[digits..];
            // The fraction keeps the digits that fit, like Go's leadingFraction.
            let (mut fraction, mut scale, mut fraction_digits) = (0u64, 1f64, 0usize);
            if let Some(after_dot) = rest.strip_prefix('.') {
                rest = after_dot;
                let mut saturated = false;
                for b in rest.bytes().take_while(u8::is_ascii_digit) {
                    fraction_digits += 1;
                    if saturated {
                        continue;
                    }
                    match fraction
                        .checked_mul(10)
                        .and_then(|v| v.checked_add(u64::from(b - b'0')))
                        .filter(|v| *v <= MAX_NANOS)
                    {
                        Some(v) => {
                            fraction = v;
                            scale *= 10.0;
                        }
                        None => saturated = true,
                    }
                }
                rest = &rest[fraction_digits..];
            }
            if digits == 0 && fraction_digits == 0 {
                return Err(invalid());
            }
            let unit_len = rest
                .find(|c: char| c == '.' || c.is_ascii_digit())
                .unwrap_or(rest.len());
            if unit_len == 0 {
                return Err(DurationError::MissingUnit(text.to_owned()));
            }
            let unit = &rest[..unit_len];
            rest = &rest[unit_len..];
            let Some(&(_, nanos)) = NANOS_PER_UNIT.iter().find(|(name, _)| *name == unit) else {
                return Err(DurationError::UnknownUnit {
                    text: text.to_owned(),
                    unit: unit.to_owned(),
                });
            };
            let mut part = value
                .checked_mul(nanos)
                .filter(|v| *v <= MAX_NANOS)
                .ok_or_else(overflow)?;
            if fraction > 0 {
                // Go converts through float64 here too.
                part = part
                    .checked_add((fraction as f64 * (nanos as f64 / scale)) as u64)
                    .filter(|v| *v <= MAX_NANOS)
                    .ok_or_else(overflow)?;
            }
            total = total
                .checked_add(part)
                .filter(|v| *v <= MAX_NANOS)
                .ok_or_else(overflow)?;
        }
        if negative && total != 0 {
            return Err(DurationError::Negative(text.to_owned()));
        }
        Ok(Duration(std::time::Duration::from_nanos(total)))
    }
}

impl From<std::time::Duration> for Duration {
    fn from(d: std::time::Duration) -> Duration {
        Duration(d)
    }
}

impl From<Duration> for std::time::Duration {
    fn from(d: Duration) -> std::time::Duration {
        d.0
    }
}

impl FromStr for Duration {
    type Err = DurationError;
    fn from_str(s: &str) -> Result<Duration, DurationError> {
        Duration::parse(s)
    }
}

/// Writes `v`'s last `precision` decimal digits as a fraction (trailing zeros dropped, no dot
/// when all are zero) in front of `buf[..end]`; returns the new start and `v` without them.
fn format_fraction(buf: &mut [u8], mut end: usize, mut v: u64, precision: usize) -> (usize, u64) {
    let mut printed = false;
    for _ in 0..precision {
        let digit = (v % 10) as u8;
        printed = printed || digit != 0;
        if printed {
            end -= 1;
            buf[end] = digit + b'0';
        }
        v /= 10;
    }
    if printed {
        end -= 1;
        buf[end] = b'.';
    }
    (end, v)
}

fn format_int(buf: &mut [u8], mut end: usize, mut v: u64) -> usize {
    if v == 0 {
        end -= 1;
        buf[end] = b'0';
        return end;
    }
    while v > 0 {
        end -= 1;
        buf[end] = (v % 10) as u8 + b'0';
        v /= 10;
    }
    end
}

impl fmt::Display for Duration {
    /// Go's `Duration.String`: `0s`, `1.5s`, `1m30s`, `2h0m0s`, `500ms`, `10µs`, `7ns`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nanos = u64::try_from(self.0.as_nanos()).unwrap_or(MAX_NANOS);
        if nanos == 0 {
            return f.write_str("0s");
        }
        let mut buf = [0u8; 40];
        let mut end = buf.len();
        if nanos < 1_000_000_000 {
            let (unit, precision): (&str, usize) = if nanos < 1_000 {
                ("ns", 0)
            } else if nanos < 1_000_000 {
                ("\u{b5}s", 3)
            } else {
                ("ms", 6)
            };
            let (start, whole) = format_fraction(&mut buf, end, nanos, precision);
            let start = format_int(&mut buf, start, whole);
            f.write_str(&String::from_utf8_lossy(&buf[start..]))?;
            return f.write_str(unit);
        }
        end -= 1;
        buf[end] = b's';
        let (start, secs) = format_fraction(&mut buf, end, nanos, 9);
        end = format_int(&mut buf, start, secs % 60);
        let minutes = secs / 60;
        if minutes > 0 {
            end -= 1;
            buf[end] = b'm';
            end = format_int(&mut buf, end, minutes % 60);
            let hours = minutes / 60;
            if hours > 0 {
                end -= 1;
                buf[end] = b'h';
                end = format_int(&mut buf, end, hours);
            }
        }
        f.write_str(&String::from_utf8_lossy(&buf[end..]))
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        let text = Cow::<str>::deserialize(deserializer)?;
        Duration::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Duration {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "string", "pattern": DURATION_PATTERN})
    }
}

/// A duration the controller writes (no pattern: Go prints `µs` and `ns` too).
pub(crate) fn any_duration_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": "string"})
}

/// The schema of `GitRepository.spec.timeout`: hours are not allowed, 60s by default.
pub(crate) fn git_timeout_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": "string", "pattern": GIT_TIMEOUT_PATTERN, "default": "60s"})
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn parse(s: &str) -> std::time::Duration {
        Duration::parse(s).unwrap().as_std()
    }

    #[test]
    fn parses_go_durations() {
        use std::time::Duration as D;
        assert_eq!(parse("1m0s"), D::from_secs(60));
        assert_eq!(parse("5m"), D::from_secs(300));
        assert_eq!(parse("1h30m"), D::from_secs(5400));
        assert_eq!(parse("500ms"), D::from_millis(500));
        assert_eq!(parse("1.5s"), D::from_millis(1500));
        assert_eq!(parse(".5s"), D::from_millis(500));
        assert_eq!(parse("1.s"), D::from_secs(1));
        assert_eq!(parse("0"), D::ZERO);
        assert_eq!(parse("-0"), D::ZERO);
        assert_eq!(parse("+2h"), D::from_secs(7200));
        assert_eq!(parse("10us"), D::from_micros(10));
        assert_eq!(parse("10\u{b5}s"), D::from_micros(10));
        assert_eq!(parse("3ns"), D::from_nanos(3));
        assert_eq!(parse("1h1m1s1ms"), D::from_millis(3_661_001));
        assert_eq!(
            parse("2562047h47m16.854775807s"),
            D::from_nanos(i64::MAX as u64)
        );
    }

    #[test]
    fn errors_name_the_text() {
        let err = |s: &str| Duration::parse(s).unwrap_err().to_string();
        assert_eq!(err("1d"), r#"invalid duration "1d": unknown unit "d""#);
        assert_eq!(err("10"), r#"invalid duration "10": missing unit"#);
        assert_eq!(err(""), r#"invalid duration """#);
        assert_eq!(err("m"), r#"invalid duration "m""#);
        assert_eq!(err(".s"), r#"invalid duration ".s""#);
        assert_eq!(
            err("1m 2s"),
            r#"invalid duration "1m 2s": unknown unit "m ""#
        );
        assert_eq!(
            err("-5s"),
            r#"invalid duration "-5s": negative durations are not allowed"#
        );
        assert_eq!(
            err("2562048h"),
            r#"invalid duration "2562048h": out of range"#
        );
    }

    #[test]
    fn prints_like_go() {
        let show = |d: std::time::Duration| Duration::from(d).to_string();
        use std::time::Duration as D;
        assert_eq!(show(D::ZERO), "0s");
        assert_eq!(show(D::from_secs(60)), "1m0s");
        assert_eq!(show(D::from_secs(90)), "1m30s");
        assert_eq!(show(D::from_secs(3600)), "1h0m0s");
        assert_eq!(show(D::from_secs(5400)), "1h30m0s");
        assert_eq!(show(D::from_millis(1500)), "1.5s");
        assert_eq!(show(D::from_millis(500)), "500ms");
        assert_eq!(show(D::from_micros(1500)), "1.5ms");
        assert_eq!(show(D::from_micros(10)), "10\u{b5}s");
        assert_eq!(show(D::from_nanos(7)), "7ns");
        assert_eq!(show(D::from_millis(3_661_001)), "1h1m1.001s");
        assert_eq!(show(D::from_secs(100 * 3600)), "100h0m0s");
    }

    #[test]
    fn round_trips_through_serde() {
        let d: Duration = serde_json::from_str(r#""90s""#).unwrap();
        assert_eq!(serde_json::to_string(&d).unwrap(), r#""1m30s""#);
        let err = serde_json::from_str::<Duration>(r#""1d""#).unwrap_err();
        assert!(err.to_string().contains(r#"unknown unit "d""#), "{err}");
    }

    #[test]
    fn patterns_accept_what_parses() {
        let flux = regex::Regex::new(DURATION_PATTERN).unwrap();
        let git = regex::Regex::new(GIT_TIMEOUT_PATTERN).unwrap();
        for ok in ["1m0s", "5m", "1h30m", "1.5s", "500ms", "2h0m0s"] {
            assert!(flux.is_match(ok), "{ok}");
            Duration::parse(ok).unwrap();
        }
        for bad in ["1d", "5", "-1m", "1 m", ""] {
            assert!(!flux.is_match(bad), "{bad}");
        }
        assert!(git.is_match("60s") && git.is_match("1m30s") && !git.is_match("1h"));
    }
}
