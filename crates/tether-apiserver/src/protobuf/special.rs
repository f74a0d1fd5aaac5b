//! The JSON forms Go gives types with their own `MarshalJSON`: times, durations, floats.

use serde_json::Value;

use super::error::Problem;

const SECONDS_PER_DAY: i64 = 86_400;
/// Go's zero `time.Time` (January 1, year 1, UTC) as Unix seconds.
const GO_ZERO_TIME: i64 = -62_135_596_800;

/// `metav1.Time` (`2006-01-02T15:04:05Z`) or `metav1.MicroTime` (`…05.000000Z`) from a proto
/// Timestamp. `None` for Go's zero time, which Go writes as `null`.
pub fn time(seconds: i64, nanos: i64, micro: bool) -> Result<Option<String>, Problem> {
    let out_of_range = || Problem::TimeOutOfRange { seconds, nanos };
    // time.Unix(sec, nsec) carries whole seconds out of nsec.
    let seconds = seconds
        .checked_add(nanos.div_euclid(1_000_000_000))
        .ok_or_else(out_of_range)?;
    let nanos = nanos.rem_euclid(1_000_000_000);
    if seconds == GO_ZERO_TIME && nanos == 0 {
        return Ok(None);
    }
    let days = seconds.div_euclid(SECONDS_PER_DAY);
    let secs = seconds.rem_euclid(SECONDS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    if !(1..=9999).contains(&year) {
        return Err(out_of_range());
    }
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut out = format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}");
    if micro {
        out.push_str(&format!(".{:06}", nanos / 1000));
    }
    out.push('Z');
    Ok(Some(out))
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Go's `time.Duration.String()`: `1h2m3.5s`, `1.5ms`, `0s`.
pub fn duration(nanos: i64) -> String {
    let negative = nanos < 0;
    let mut u = nanos.unsigned_abs();
    let mut out = String::new();
    if u < 1_000_000_000 {
        let (unit, prec) = match u {
            0 => return "0s".into(),
            1..1_000 => ("ns", 0),
            1_000..1_000_000 => ("µs", 3),
            _ => ("ms", 6),
        };
        let (frac, whole) = fraction(u, prec);
        out = format!("{whole}{frac}{unit}");
    } else {
        let (frac, whole) = fraction(u, 9);
        u = whole;
        let secs = u % 60;
        u /= 60;
        if u > 0 {
            let mins = u % 60;
            u /= 60;
            if u > 0 {
                out.push_str(&format!("{u}h"));
            }
            out.push_str(&format!("{mins}m"));
        }
        out.push_str(&format!("{secs}{frac}s"));
    }
    if negative {
        out.insert(0, '-');
    }
    out
}

/// Go's `fmtFrac`: the fraction of `v / 10^prec` without trailing zeros (and without the dot
/// when it is zero), and the integer part.
fn fraction(v: u64, prec: u32) -> (String, u64) {
    let scale = 10u64.pow(prec);
    let (whole, frac) = (v / scale, v % scale);
    if frac == 0 {
        return (String::new(), whole);
    }
    let digits = format!("{frac:0width$}", width = prec as usize);
    (format!(".{}", digits.trim_end_matches('0')), whole)
}

/// A float64 as a JSON number, integral values as integers the way Go prints them (`1`, not
/// `1.0`); NaN and infinities have no JSON form (Go's encoder refuses them too).
pub fn float(v: f64) -> Result<Value, Problem> {
    if !v.is_finite() {
        return Err(Problem::NotFinite(v));
    }
    // 2^53: every integral float below it is exact as an i64.
    if v.fract() == 0.0 && v.abs() < 9_007_199_254_740_992.0 {
        return Ok(Value::from(v as i64));
    }
    serde_json::Number::from_f64(v)
        .map(Value::Number)
        .ok_or(Problem::NotFinite(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_format_like_go() {
        assert_eq!(
            time(1_700_000_000, 123_456_789, false).unwrap().unwrap(),
            "2023-11-14T22:13:20Z"
        );
        assert_eq!(
            time(1_700_000_000, 123_456_789, true).unwrap().unwrap(),
            "2023-11-14T22:13:20.123456Z"
        );
        assert_eq!(time(0, 0, false).unwrap().unwrap(), "1970-01-01T00:00:00Z");
        // A leap day and the last second of 9999.
        assert_eq!(
            time(951_782_400, 0, false).unwrap().unwrap(),
            "2000-02-29T00:00:00Z"
        );
        assert_eq!(
            time(253_402_300_799, 0, false).unwrap().unwrap(),
            "9999-12-31T23:59:59Z"
        );
        // Negative nanos borrow a second, as time.Unix does.
        assert_eq!(
            time(10, -1, true).unwrap().unwrap(),
            "1970-01-01T00:00:09.999999Z"
        );
        assert_eq!(time(GO_ZERO_TIME, 0, false).unwrap(), None);
        assert!(matches!(
            time(253_402_300_800, 0, false),
            Err(Problem::TimeOutOfRange { .. })
        ));
        assert!(time(i64::MAX, i64::MAX, false).is_err());
        assert!(time(i64::MIN, i64::MIN, false).is_err());
    }

    #[test]
    fn durations_format_like_go() {
        for (nanos, want) in [
            (0, "0s"),
            (1, "1ns"),
            (1_100, "1.1µs"),
            (2_200_000, "2.2ms"),
            (1_000_000_000, "1s"),
            (1_500_000_000, "1.5s"),
            (60_000_000_000, "1m0s"),
            (3_600_000_000_000, "1h0m0s"),
            (3_723_000_000_001, "1h2m3.000000001s"),
            (-90_000_000_000, "-1m30s"),
            (i64::MIN, "-2562047h47m16.854775808s"),
        ] {
            assert_eq!(duration(nanos), want, "{nanos}");
        }
    }

    #[test]
    fn floats_print_like_go() {
        assert_eq!(float(1.0).unwrap().to_string(), "1");
        assert_eq!(float(-3.0).unwrap().to_string(), "-3");
        assert_eq!(float(0.5).unwrap().to_string(), "0.5");
        assert!(float(f64::NAN).is_err());
        assert!(float(f64::INFINITY).is_err());
    }
}
