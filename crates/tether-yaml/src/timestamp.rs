//! go-yaml's timestamp recognition (`parseTimestamp`: Go's `time.Parse` with four layouts) and
//! the RFC 3339 text `encoding/json` prints for the resulting `time.Time`.

use std::fmt::Write as _;

struct Parsed {
    year: u32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
    /// Offset east of UTC in seconds; 0 prints as `Z`.
    offset: i32,
}

/// Go's `getnum(s, fixed=false)`: one or two digits.
fn getnum(s: &[u8]) -> Option<(u32, &[u8])> {
    let d0 = *s.first().filter(|c| c.is_ascii_digit())?;
    match s.get(1).filter(|c| c.is_ascii_digit()) {
        Some(d1) => Some((u32::from(d0 - b'0') * 10 + u32::from(d1 - b'0'), &s[2..])),
        None => Some((u32::from(d0 - b'0'), &s[1..])),
    }
}

fn expect(s: &[u8], c: u8) -> Option<&[u8]> {
    (s.first() == Some(&c)).then(|| &s[1..])
}

fn two_digits(s: &[u8]) -> Option<i32> {
    match s {
        [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => {
            Some(i32::from(a - b'0') * 10 + i32::from(b - b'0'))
        }
        _ => None,
    }
}

fn days_in(month: u32, year: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `2006-1-2` and the rest of one layout; `sep` is `T`, `t` or ` `, `None` for date only.
fn parse_layout(s: &[u8], sep: Option<u8>, zone: bool) -> Option<Parsed> {
    // Year: exactly four digits (the caller checked them and the dash).
    let year = s[..4]
        .iter()
        .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
    let s = expect(&s[4..], b'-')?;
    let (month, s) = getnum(s)?;
    let s = expect(s, b'-')?;
    let (day, s) = getnum(s)?;
    let mut p = Parsed {
        year,
        month,
        day,
        hour: 0,
        minute: 0,
        second: 0,
        nanos: 0,
        offset: 0,
    };
    let mut s = s;
    if let Some(sep) = sep {
        s = expect(s, sep)?;
        let (hour, rest) = getnum(s)?;
        let rest = expect(rest, b':')?;
        let (minute, rest) = getnum(rest)?;
        let rest = expect(rest, b':')?;
        let (second, rest) = getnum(rest)?;
        if hour >= 24 || minute >= 60 || second >= 60 {
            return None;
        }
        (p.hour, p.minute, p.second) = (hour, minute, second);
        s = rest;
        // Fractional seconds: `.` or `,` and any number of digits, only the first nine count.
        if s.len() >= 2 && (s[0] == b'.' || s[0] == b',') && s[1].is_ascii_digit() {
            let n = s[1..].iter().take_while(|c| c.is_ascii_digit()).count();
            let mut nanos = 0u32;
            for i in 0..9 {
                nanos = nanos * 10
                    + s.get(1 + i)
                        .filter(|_| i < n)
                        .map_or(0, |d| u32::from(d - b'0'));
            }
            p.nanos = nanos;
            s = &s[1 + n..];
        }
        if zone {
            if s.first() == Some(&b'Z') {
                s = &s[1..];
            } else {
                if s.len() < 6 || s[3] != b':' {
                    return None;
                }
                let (hr, mm) = (two_digits(&s[1..3])?, two_digits(&s[4..6])?);
                if hr > 24 || mm > 60 {
                    return None;
                }
                let off = (hr * 60 + mm) * 60;
                p.offset = match s[0] {
                    b'+' => off,
                    b'-' => -off,
                    _ => return None,
                };
                s = &s[6..];
            }
        }
    }
    if !s.is_empty()
        || !(1..=12).contains(&p.month)
        || p.day < 1
        || p.day > days_in(p.month, p.year)
    {
        return None;
    }
    Some(p)
}

fn parse(s: &str) -> Option<Parsed> {
    let b = s.as_bytes();
    // Quick check, as go-yaml does: all formats start with YYYY-.
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return None;
    }
    parse_layout(b, Some(b'T'), true)
        .or_else(|| parse_layout(b, Some(b't'), true))
        .or_else(|| parse_layout(b, Some(b' '), false))
        .or_else(|| parse_layout(b, None, false))
}

/// Whether go-yaml resolves the plain scalar `s` as a `!!timestamp`.
pub(crate) fn is_timestamp(s: &str) -> bool {
    parse(s).is_some()
}

/// The timestamp as `time.Time.MarshalJSON` prints it (RFC 3339 with nanoseconds, trailing
/// zeros trimmed, `Z` for a zero offset), or `None` when `s` is not a go-yaml timestamp.
/// `Some(Err)` when Go parses it but cannot print it: an offset of 24 hours or more.
pub(crate) fn to_rfc3339(s: &str) -> Option<Result<String, &'static str>> {
    let p = parse(s)?;
    if p.offset.unsigned_abs() >= 24 * 3600 {
        return Some(Err(
            "Time.MarshalJSON: timezone hour outside of range [0,23]",
        ));
    }
    let mut out = String::with_capacity(35);
    let _ = write!(
        out,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        p.year, p.month, p.day, p.hour, p.minute, p.second
    );
    if p.nanos != 0 {
        let frac = format!("{:09}", p.nanos);
        out.push('.');
        out.push_str(frac.trim_end_matches('0'));
    }
    if p.offset == 0 {
        out.push('Z');
    } else {
        let zone = p.offset / 60;
        out.push(if zone < 0 { '-' } else { '+' });
        let zone = zone.unsigned_abs();
        let _ = write!(out, "{:02}:{:02}", zone / 60, zone % 60);
    }
    Some(Ok(out))
}

#[cfg(test)]
mod tests {
    use super::to_rfc3339;

    #[test]
    fn go_layouts() {
        let t = |s| to_rfc3339(s).and_then(Result::ok);
        assert_eq!(t("2001-12-14").as_deref(), Some("2001-12-14T00:00:00Z"));
        assert_eq!(
            t("2001-12-14t21:59:43.10-05:00").as_deref(),
            Some("2001-12-14T21:59:43.1-05:00")
        );
        assert_eq!(
            t("2001-12-14 21:59:43.10").as_deref(),
            Some("2001-12-14T21:59:43.1Z")
        );
        assert_eq!(
            t("2001-1-2T3:4:5Z").as_deref(),
            Some("2001-01-02T03:04:05Z")
        );
        assert_eq!(
            t("2001-12-14T21:59:43,5+00:00").as_deref(),
            Some("2001-12-14T21:59:43.5Z")
        );
        assert_eq!(
            t("2001-12-14T21:59:43.1234567891Z").as_deref(),
            Some("2001-12-14T21:59:43.123456789Z")
        );
        assert_eq!(
            t("2001-12-14T01:02:03-23:59").as_deref(),
            Some("2001-12-14T01:02:03-23:59")
        );
        assert_eq!(
            t("2001-12-14T01:02:03+05:60").as_deref(),
            Some("2001-12-14T01:02:03+06:00")
        );
        assert!(to_rfc3339("2001-12-14T01:02:03+23:60").is_some_and(|r| r.is_err()));
        assert_eq!(t("2001-02-30"), None);
        assert_eq!(t("2000-02-29").as_deref(), Some("2000-02-29T00:00:00Z"));
        assert_eq!(t("1900-02-29"), None);
        assert_eq!(t("2001-12-14 21:59:43.10 -5"), None);
        assert_eq!(t("2001-12-14T21:59:43"), None);
        assert_eq!(t("2001-13-01"), None);
        assert_eq!(t("2001-012-01"), None);
        assert_eq!(t("12001-01-01"), None);
    }
}
