//! Post-build substitution (`tether_build::envsubst::eval`) on arbitrary text and variables.
//! Besides never panicking:
//!
//! - parse errors do not depend on the mode: non-strict fails only where strict fails the
//!   same way, and strict fails besides only with `NotSet`; where both succeed they agree;
//! - text without `${` comes back unchanged but for `$$` → `$` (so a result without `$` is a
//!   fixed point: substituting it again changes nothing);
//! - for each variable with a valid name, `${name}` is its value verbatim (never re-expanded),
//!   `${#name}` its length in bytes, `${name:0}` the value, `$${name}` the literal `${name}`;
//! - `${name:=d}`, `${name=d}`, `${name:-d}`, `${name:+d}`, `${name:?d}` write the value, or the
//!   literal default `d` when the variable is empty or unset, in strict mode too;
//! - `${name#p}` and `${name##p}` leave a suffix of the value, `##` no longer than `#`
//!   (`%`, `%%`: a prefix), and a pattern without glob characters is removed literally.
//!
//! An input is the text, then `\0`-separated `name=value` variables.
//!
//! `fuzz_targets/envsubst.rs` runs it under libFuzzer; `tests/fuzz_seeds.rs` replays the seeds.

use std::collections::BTreeMap;

use tether_build::envsubst::{EnvsubstError, eval};

pub fn check(data: &[u8]) {
    let input = String::from_utf8_lossy(data);
    let mut parts = input.split('\0');
    let text = parts.next().unwrap_or_default();
    let vars: BTreeMap<String, String> = parts
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let none = BTreeMap::new();

    for vars in [&vars, &none] {
        let lax = eval(text, vars, false);
        let strict = eval(text, vars, true);
        match (&strict, &lax) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "strict and non-strict disagree on {text:?}"),
            (Err(EnvsubstError::NotSet(_)), Ok(_)) => {}
            (Err(a), Err(b)) => {
                assert_eq!(a, b, "{text:?}");
                assert!(!matches!(b, EnvsubstError::NotSet(_)), "{text:?}: {b}");
            }
            _ => panic!("{text:?}: strict gave {strict:?}, non-strict {lax:?}"),
        }
        if !text.contains("${") {
            assert_eq!(
                lax.as_deref(),
                Ok(unescape(text).as_str()),
                "text without substitutions"
            );
        }
        if let Ok(out) = &lax
            && !out.contains('$')
        {
            assert_eq!(
                eval(out, vars, true).as_ref(),
                Ok(out),
                "second pass of {text:?}"
            );
        }
    }

    // A literal default: what is left of the text without `$` and `}` (non-empty).
    let default: String = text.chars().filter(|c| !matches!(c, '$' | '}')).collect();
    let plain: String = text.chars().filter(|c| *c != '$').collect();
    for (name, value) in &vars {
        if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let sub = |t: &str| eval(t, &vars, true);
        assert_eq!(
            sub(&format!("{plain}${{{name}}}{plain}")),
            Ok(format!("{plain}{value}{plain}")),
            "${{{name}}} with {value:?}"
        );
        assert_eq!(sub(&format!("${{#{name}}}")), Ok(value.len().to_string()));
        assert_eq!(sub(&format!("${{{name}:0}}")).as_ref(), Ok(value));
        assert_eq!(
            sub(&format!("$${{{name}}}")),
            Ok(format!("${{{name}}}")),
            "$$ escapes"
        );
        if default.is_empty() {
            continue;
        }
        // `#`/`##` remove a prefix, `%`/`%%` a suffix, the longest form at least as much; a
        // pattern without glob characters is a literal.
        for (op, from_start) in [('#', true), ('%', false)] {
            if default.starts_with(op) {
                continue; // it would read as the longest form
            }
            let short = sub(&format!("${{{name}{op}{default}}}")).expect("a valid trim");
            let long = sub(&format!("${{{name}{op}{op}{default}}}")).expect("a valid trim");
            for kept in [&short, &long] {
                let inside = if from_start {
                    value.ends_with(kept.as_str())
                } else {
                    value.starts_with(kept.as_str())
                };
                assert!(inside, "{name}{op}{default} on {value:?} gave {kept:?}");
            }
            assert!(
                long.len() <= short.len(),
                "{name}{op}{op}{default} on {value:?}"
            );
            if !default.contains(['*', '?', '[', '\\']) {
                let literal = if from_start {
                    value.strip_prefix(default.as_str())
                } else {
                    value.strip_suffix(default.as_str())
                };
                let expected = literal.unwrap_or(value);
                assert_eq!((short.as_str(), long.as_str()), (expected, expected));
            }
        }
        for op in [":=", "=", ":-", ":+", ":?"] {
            let template = format!("${{{name}{op}{default}}}");
            let expected = if value.is_empty() { &default } else { value };
            assert_eq!(sub(&template).as_ref(), Ok(expected), "{template}");
            assert_eq!(
                eval(&template, &BTreeMap::new(), true).as_ref(),
                Ok(&default),
                "{template} unset"
            );
        }
    }
}

/// `$$` → `$`, left to right.
fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek() == Some(&'$') {
            chars.next();
        }
        out.push(c);
    }
    out
}
