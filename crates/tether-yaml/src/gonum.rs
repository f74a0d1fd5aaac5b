//! Go's `strconv` number syntax and float formatting, as far as go-yaml and `encoding/json` use
//! them: which texts `ParseInt`/`ParseUint`/`ParseFloat` accept, and how `FormatFloat` and
//! `json.Marshal` print a float64.

use std::fmt::Write as _;

/// `strconv.ParseUint(s, base, 64)`; `base` 0 means Go's prefixed syntax (`0x`, `0o`, `0b`, `0`).
/// Underscores are accepted only with base 0, where Go allows them between digits.
pub(crate) fn parse_uint(s: &str, base: u32) -> Option<u64> {
    let b = s.as_bytes();
    if b.is_empty() {
        return None;
    }
    let base0 = base == 0;
    let (mut base, mut digits) = (base, b);
    if base0 {
        base = 10;
        if b[0] == b'0' {
            match b.get(1).map(u8::to_ascii_lowercase) {
                Some(b'b') if b.len() >= 3 => (base, digits) = (2, &b[2..]),
                Some(b'o') if b.len() >= 3 => (base, digits) = (8, &b[2..]),
                Some(b'x') if b.len() >= 3 => (base, digits) = (16, &b[2..]),
                _ => (base, digits) = (8, &b[1..]),
            }
        }
    }
    let mut n: u64 = 0;
    let mut underscores = false;
    for &c in digits {
        let d = match c {
            b'_' if base0 => {
                underscores = true;
                continue;
            }
            b'0'..=b'9' => c - b'0',
            _ if c.is_ascii_alphabetic() => c.to_ascii_lowercase() - b'a' + 10,
            _ => return None,
        };
        if u32::from(d) >= base {
            return None;
        }
        n = n.checked_mul(u64::from(base))?.checked_add(u64::from(d))?;
    }
    if underscores && !underscore_ok(s) {
        return None;
    }
    Some(n)
}

/// `strconv.ParseInt(s, base, 64)`.
pub(crate) fn parse_int(s: &str, base: u32) -> Option<i64> {
    let (neg, rest) = match s.as_bytes().first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        Some(_) => (false, s),
        None => return None,
    };
    let un = parse_uint(rest, base)?;
    if neg {
        if un > 1 << 63 {
            None
        } else {
            Some((un as i64).wrapping_neg())
        }
    } else {
        i64::try_from(un).ok()
    }
}

/// Go's `underscoreOK`: underscores only between digits (a base prefix counts as a digit).
fn underscore_ok(s: &str) -> bool {
    let mut b = s.as_bytes();
    if let Some(b'+' | b'-') = b.first() {
        b = &b[1..];
    }
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if b.len() >= 2 && b[0] == b'0' && matches!(b[1].to_ascii_lowercase(), b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = b[1].eq_ignore_ascii_case(&b'x');
    }
    while i < b.len() {
        let c = b[i];
        i += 1;
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
            continue;
        }
        if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
            continue;
        }
        if saw == b'_' {
            return false;
        }
        saw = b'!';
    }
    saw != b'_'
}

/// `strconv.ParseFloat(s, 64)` for decimal syntax (the only kind go-yaml hands it: texts that
/// start with `.` or match its float pattern). `None` on syntax errors and on overflow to ±Inf,
/// which Go reports as a range error.
pub(crate) fn parse_float(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = 0;
    if let Some(b'+' | b'-') = b.first() {
        i = 1;
    }
    let mut underscores = false;
    let mut saw_dot = false;
    let mut saw_digits = false;
    while i < b.len() {
        match b[i] {
            b'_' => underscores = true,
            b'.' if !saw_dot => saw_dot = true,
            b'0'..=b'9' => saw_digits = true,
            _ => break,
        }
        i += 1;
    }
    if !saw_digits {
        return None;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if let Some(b'+' | b'-') = b.get(i) {
            i += 1;
        }
        if !b.get(i).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            underscores |= b[i] == b'_';
            i += 1;
        }
    }
    if i != b.len() || (underscores && !underscore_ok(s)) {
        return None;
    }
    let f: f64 = if underscores {
        s.replace('_', "").parse().ok()?
    } else {
        s.parse().ok()?
    };
    f.is_finite().then_some(f)
}

/// go-yaml's `yamlStyleFloat`: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
pub(crate) fn is_yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if let Some(b'+' | b'-') = b.first() {
        i = 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if let Some(b'e' | b'E') = b.get(i) {
        i += 1;
        if let Some(b'+' | b'-') = b.get(i) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// The shortest decimal digits of a finite, non-zero `|f|` and its decimal point position:
/// `|f| = 0.d1d2… × 10^dp`.
fn shortest_digits(f: f64) -> (String, i32) {
    let mut s = String::with_capacity(32);
    // Rust's `{:e}` prints the shortest round-tripping digits, as Go's `-1` precision does.
    let _ = write!(s, "{:e}", f.abs());
    let (mantissa, exp) = s.split_once('e').unwrap_or((s.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    (digits, exp + 1)
}

/// `strconv.FormatFloat(f, 'e', -1, 64)` or `'f'`, for a finite `f`, appended to `out`.
fn format_ef(out: &mut String, f: f64, exp_form: bool) {
    if f.is_sign_negative() {
        out.push('-');
    }
    if f == 0.0 {
        out.push_str(if exp_form { "0e+00" } else { "0" });
        return;
    }
    let (digits, dp) = shortest_digits(f);
    if exp_form {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let exp = dp - 1;
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let exp = exp.unsigned_abs();
        if exp < 10 {
            out.push('0');
        }
        let _ = write!(out, "{exp}");
    } else if dp <= 0 {
        out.push_str("0.");
        for _ in dp..0 {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let dp = dp as usize;
        if digits.len() <= dp {
            out.push_str(&digits);
            for _ in digits.len()..dp {
                out.push('0');
            }
        } else {
            out.push_str(&digits[..dp]);
            out.push('.');
            out.push_str(&digits[dp..]);
        }
    }
}

/// `strconv.FormatFloat(f, 'g', -1, 64)` with go-yaml's spellings of the infinities and NaN.
pub(crate) fn format_g(out: &mut String, f: f64) {
    if f.is_nan() {
        out.push_str(".nan");
    } else if f.is_infinite() {
        out.push_str(if f > 0.0 { ".inf" } else { "-.inf" });
    } else if f == 0.0 {
        out.push_str(if f.is_sign_negative() { "-0" } else { "0" });
    } else {
        let (_, dp) = shortest_digits(f);
        let exp = dp - 1;
        // Shortest formatting decides with precision 6, like `%v`.
        format_ef(out, f, !(-4..6).contains(&exp));
    }
}

/// `encoding/json`'s text for a float64: `'f'` form, `'e'` form outside [1e-6, 1e21) with
/// `e-07` cleaned to `e-7`.
pub(crate) fn json_float(f: f64) -> String {
    let mut out = String::with_capacity(24);
    let abs = f.abs();
    let exp_form = abs != 0.0 && !(1e-6..1e21).contains(&abs);
    format_ef(&mut out, f, exp_form);
    if exp_form {
        let b = out.as_bytes();
        let n = b.len();
        if n >= 4 && b[n - 4] == b'e' && b[n - 3] == b'-' && b[n - 2] == b'0' {
            out.remove(n - 2);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(f: f64) -> String {
        let mut s = String::new();
        format_g(&mut s, f);
        s
    }

    #[test]
    fn go_int_syntax() {
        assert_eq!(parse_int("0755", 0), Some(493));
        assert_eq!(parse_int("0x1F", 0), Some(31));
        assert_eq!(parse_int("0b101", 0), Some(5));
        assert_eq!(parse_int("0o17", 0), Some(15));
        assert_eq!(parse_int("-0x10", 0), Some(-16));
        assert_eq!(parse_int("0", 0), Some(0));
        assert_eq!(parse_int("-0", 0), Some(0));
        assert_eq!(parse_int("08", 0), None);
        assert_eq!(parse_int("0x", 0), None);
        assert_eq!(parse_int("+-1", 0), None);
        assert_eq!(parse_int("9223372036854775807", 0), Some(i64::MAX));
        assert_eq!(parse_int("-9223372036854775808", 0), Some(i64::MIN));
        assert_eq!(parse_int("9223372036854775808", 0), None);
        assert_eq!(parse_uint("9223372036854775808", 0), Some(1 << 63));
        assert_eq!(parse_uint("18446744073709551616", 0), None);
        assert_eq!(parse_int("+1", 2), Some(1));
        assert_eq!(parse_int("1_000", 0), Some(1000));
        assert_eq!(parse_int("1__000", 0), None);
    }

    #[test]
    fn go_float_syntax() {
        assert_eq!(parse_float(".5"), Some(0.5));
        assert_eq!(parse_float(".5_5"), Some(0.55));
        assert_eq!(parse_float("._5"), None);
        assert_eq!(parse_float("."), None);
        assert_eq!(parse_float("1e400"), None);
        assert_eq!(parse_float("1e-400"), Some(0.0));
        assert_eq!(parse_float("08"), Some(8.0));
        assert!(is_yaml_style_float("1e3"));
        assert!(is_yaml_style_float("-1."));
        assert!(is_yaml_style_float(".5E+3"));
        assert!(!is_yaml_style_float("1e"));
        assert!(!is_yaml_style_float("0x1p3"));
        assert!(!is_yaml_style_float("."));
    }

    #[test]
    fn go_float_formatting() {
        assert_eq!(g(1.5), "1.5");
        assert_eq!(g(1e21), "1e+21");
        assert_eq!(g(1e20), "1e+20");
        assert_eq!(g(1e-7), "1e-07");
        assert_eq!(g(0.0001), "0.0001");
        assert_eq!(g(0.00001), "1e-05");
        assert_eq!(g(123456.5), "123456.5");
        assert_eq!(g(1234567.5), "1.2345675e+06");
        assert_eq!(g(-0.0), "-0");
        assert_eq!(json_float(1e-7), "1e-7");
        assert_eq!(json_float(1e21), "1e+21");
        assert_eq!(json_float(1e20), "100000000000000000000");
        assert_eq!(json_float(-0.0), "-0");
        assert_eq!(json_float(0.000001), "0.000001");
        assert_eq!(json_float(9.223372036854776e18), "9223372036854776000");
    }
}
