//! The order yaml.v2 writes mapping keys in: `keyList.Less` for string keys, a "natural" order
//! in which, at the first differing character, non-letters sort before letters, letters compare
//! by code point, and runs of digits compare by numeric value.

// Unicode 15.0 tables, as in Go 1.24 (kubectl 1.33).
use unicode_general_category::{GeneralCategory as G, get_general_category};

/// Go's `unicode.IsLetter` (categories Lu, Ll, Lt, Lm, Lo).
fn is_letter(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphabetic();
    }
    matches!(
        get_general_category(c),
        G::UppercaseLetter
            | G::LowercaseLetter
            | G::TitlecaseLetter
            | G::ModifierLetter
            | G::OtherLetter
    )
}

/// Go's `unicode.IsDigit` (category Nd).
fn is_digit(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_digit();
    }
    get_general_category(c) == G::DecimalNumber
}

/// `keyList.Less(a, b)` for two strings.
pub(crate) fn key_less(a: &str, b: &str) -> bool {
    // Most keys differ early and are ASCII: compare bytes until the first difference, then
    // switch to the rune-wise rules from the start of that character.
    let common = a
        .as_bytes()
        .iter()
        .zip(b.as_bytes())
        .take_while(|(x, y)| x == y)
        .count();
    // Back up to a character boundary of both (they share the prefix bytes).
    let mut start = common;
    while !a.is_char_boundary(start) || !b.is_char_boundary(start) {
        start -= 1;
    }
    let prefix = &a[..start];
    let (Some(ac), Some(bc)) = (a[start..].chars().next(), b[start..].chars().next()) else {
        return a.chars().count() < b.chars().count();
    };
    differing_less(prefix, ac, a[start..].chars(), bc, b[start..].chars())
}

/// The rule at the first differing characters `ac` ≠ `bc`, which start `arest` and `brest`;
/// `prefix` is what both strings share before them.
fn differing_less(
    prefix: &str,
    ac: char,
    arest: std::str::Chars<'_>,
    bc: char,
    brest: std::str::Chars<'_>,
) -> bool {
    let al = is_letter(ac);
    let bl = is_letter(bc);
    if al && bl {
        return ac < bc;
    }
    if al || bl {
        return bl;
    }
    let mut an: i64 = 0;
    let mut bn: i64 = 0;
    if ac == '0' || bc == '0' {
        // A zero after a non-zero digit run of the prefix is significant.
        for c in prefix.chars().rev() {
            if !is_digit(c) {
                break;
            }
            if c != '0' {
                an = 1;
                bn = 1;
                break;
            }
        }
    }
    // Go accumulates `rune - '0'` in an int64, wrapping, for any Unicode digit.
    let run = |n: &mut i64, rest: std::str::Chars<'_>| {
        let mut len = 0usize;
        for c in rest.take_while(|&c| is_digit(c)) {
            *n = n
                .wrapping_mul(10)
                .wrapping_add(i64::from(c as u32) - i64::from(b'0'));
            len += 1;
        }
        len
    };
    let alen = run(&mut an, arest);
    let blen = run(&mut bn, brest);
    if an != bn {
        return an < bn;
    }
    if alen != blen {
        return alen < blen;
    }
    ac < bc
}

/// Sorts `items` by `key_less` on their keys. A stable merge sort of our own, because the
/// order may not be a strict weak order for odd keys (e.g. overflowing digit runs), where
/// Go's result depends on its random map order anyway and the standard sort may panic.
pub(crate) fn sort_keys<T>(items: &mut Vec<(&str, T)>) {
    if items.len() < 2 {
        return;
    }
    if items.len() <= 12 {
        // Insertion sort, as Go's sort.Sort does for short slices.
        for i in 1..items.len() {
            let mut j = i;
            while j > 0 && key_less(items[j].0, items[j - 1].0) {
                items.swap(j, j - 1);
                j -= 1;
            }
        }
        return;
    }
    let mid = items.len() / 2;
    let mut right = items.split_off(mid);
    sort_keys(items);
    sort_keys(&mut right);
    let left = std::mem::take(items);
    items.reserve(left.len() + right.len());
    let mut l = left.into_iter().peekable();
    let mut r = right.into_iter().peekable();
    loop {
        let take_right = match (l.peek(), r.peek()) {
            (Some(a), Some(b)) => key_less(b.0, a.0),
            (Some(_), None) => false,
            (None, Some(_)) => true,
            (None, None) => break,
        };
        let next = if take_right { r.next() } else { l.next() };
        if let Some(item) = next {
            items.push(item);
        }
    }
}

/// An `Ordering` view of `key_less`, for tests and callers that want one.
#[cfg(test)]
fn key_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    if key_less(a, b) {
        Ordering::Less
    } else if key_less(b, a) {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering;

    #[test]
    fn natural_order() {
        let mut keys: Vec<(&str, ())> = [
            "a10", "a9", "A", "_x", "z", "a", "", "0", "10", "9", "09", "01", "é", "a-b", "a_b",
            "aB", "ab", "a0", "a00", "b1", "b01", "x.10", "x.9",
        ]
        .into_iter()
        .map(|k| (k, ()))
        .collect();
        sort_keys(&mut keys);
        let got: Vec<&str> = keys.iter().map(|k| k.0).collect();
        assert_eq!(
            got,
            [
                "", "_x", "0", "01", "9", "09", "10", "A", "a", "a-b", "a_b", "a0", "a00", "a9",
                "a10", "aB", "ab", "b1", "b01", "x.9", "x.10", "z", "é"
            ]
        );
        assert_eq!(key_cmp("a", "a"), Ordering::Equal);
    }

    #[test]
    fn intransitive_keys_still_sort() {
        // 1a < 01 < 9 < 09 < 10 < 1a: Go's order then depends on its random map order; we
        // only promise a permutation and no panic.
        let mut keys: Vec<(&str, ())> = ["10", "1a", "01", "9", "09"]
            .into_iter()
            .map(|k| (k, ()))
            .collect();
        keys.extend(["x"; 20].map(|k| (k, ())));
        sort_keys(&mut keys);
        assert_eq!(keys.len(), 25);
        assert!(
            key_less("1a", "01")
                && key_less("01", "9")
                && key_less("09", "10")
                && key_less("10", "1a")
        );
    }

    #[test]
    fn multibyte_prefix() {
        // Shared first byte, different characters.
        assert!(key_less("aé", "aê"));
        assert!(!key_less("aê", "aé"));
        assert!(key_less("é", "éa"));
    }
}
