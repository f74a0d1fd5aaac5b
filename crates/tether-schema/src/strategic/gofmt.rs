//! The few Go runtime behaviours apimachinery's strategic merge patch depends on, reproduced on
//! JSON values: Go's `%v` text (merge lists are sorted by it), dynamic types (after
//! `k8s.io/apimachinery/pkg/util/json` decoding: integers are `int64`, other numbers `float64`),
//! and the exact element orders of `sort.Sort`, `sort.SliceStable` and `deduplicateScalars`,
//! which decide where list items land.

use serde_json::{Map, Value};

/// The dynamic type of a decoded JSON value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GoKind {
    Nil,
    Bool,
    Int,
    Float,
    String,
    Slice,
    Map,
}

pub(crate) fn go_kind(v: &Value) -> GoKind {
    match v {
        Value::Null => GoKind::Nil,
        Value::Bool(_) => GoKind::Bool,
        Value::Number(n) if n.is_f64() => GoKind::Float,
        Value::Number(_) => GoKind::Int,
        Value::String(_) => GoKind::String,
        Value::Array(_) => GoKind::Slice,
        Value::Object(_) => GoKind::Map,
    }
}

/// Go's name of the dynamic type (`reflect.TypeOf(v)` printed with `%s`).
pub(crate) fn go_type(v: &Value) -> &'static str {
    match go_kind(v) {
        GoKind::Nil => "%!s(<nil>)",
        GoKind::Bool => "bool",
        GoKind::Int => "int64",
        GoKind::Float => "float64",
        GoKind::String => "string",
        GoKind::Slice => "[]interface {}",
        GoKind::Map => "map[string]interface {}",
    }
}

/// Go's `%v` of a decoded JSON value.
pub(crate) fn go_v(v: &Value) -> String {
    let mut out = String::new();
    write_v(&mut out, v);
    out
}

fn write_v(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("<nil>"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => out.push_str(&go_float(f)),
            _ => out.push_str(&n.to_string()),
        },
        Value::String(s) => out.push_str(s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_v(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => write_map(out, map),
    }
}

fn write_map(out: &mut String, map: &Map<String, Value>) {
    // fmt prints maps with sorted keys.
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort();
    out.push_str("map[");
    for (i, k) in keys.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(k);
        out.push(':');
        write_v(out, &map[k.as_str()]);
    }
    out.push(']');
}

/// `strconv.FormatFloat(f, 'g', -1, 64)` with `%v`'s exponent threshold.
fn go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    // Rust's `{:e}` prints the shortest round-tripping digits, like Go's shortest mode.
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let exp: i32 = exp.parse().unwrap_or(0);
    let sign = if f < 0.0 { "-" } else { "" };
    // Shortest %g switches to the exponent form outside [-4, 6): Go prints 1e6 as 1e+06.
    if !(-4..6).contains(&exp) {
        return format!("{sign}{}", exp_form(&digits, exp));
    }
    let dp = exp + 1;
    let nd = digits.len() as i32;
    let mut s = String::from(sign);
    if dp <= 0 {
        s.push_str("0.");
        for _ in 0..(-dp) {
            s.push('0');
        }
        s.push_str(&digits);
    } else if dp >= nd {
        s.push_str(&digits);
        for _ in 0..(dp - nd) {
            s.push('0');
        }
    } else {
        s.push_str(&digits[..dp as usize]);
        s.push('.');
        s.push_str(&digits[dp as usize..]);
    }
    s
}

fn exp_form(digits: &str, exp: i32) -> String {
    let mut s = String::new();
    s.push_str(&digits[..1]);
    if digits.len() > 1 {
        s.push('.');
        s.push_str(&digits[1..]);
    }
    s.push('e');
    s.push(if exp < 0 { '-' } else { '+' });
    let e = exp.unsigned_abs();
    if e < 10 {
        s.push('0');
    }
    s.push_str(&e.to_string());
    s
}

/// `sort.Sort` with `Less(i, j) = key(i) <= key(j)` (apimachinery's sortable slices use
/// `sort.StringsAreSorted`, which accepts equal strings). Go sorts up to 12 elements by
/// insertion, which with that `Less` reverses runs of equal keys; longer inputs use pdqsort,
/// whose placement of equal keys this stable sort does not reproduce.
pub(crate) fn go_sort_by_text<T>(items: &mut Vec<T>, text: impl Fn(&T) -> String) {
    let mut keyed: Vec<(String, T)> = items.drain(..).map(|t| (text(&t), t)).collect();
    if keyed.len() <= 12 {
        for i in 1..keyed.len() {
            let mut j = i;
            while j > 0 && keyed[j].0 <= keyed[j - 1].0 {
                keyed.swap(j, j - 1);
                j -= 1;
            }
        }
    } else {
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
    }
    items.extend(keyed.into_iter().map(|(_, t)| t));
}

/// `sortScalars`: scalars ordered by their `%v` text.
pub(crate) fn sort_scalars(mut items: Vec<Value>) -> Vec<Value> {
    go_sort_by_text(&mut items, go_v);
    items
}

/// apimachinery's `deduplicateScalars`: a duplicate is replaced by the last element.
pub(crate) fn deduplicate_scalars(mut s: Vec<Value>) -> Vec<Value> {
    let len = deduplicate_in_place(&mut s);
    s.truncate(len);
    s
}

/// `deduplicateScalars` on a Go backing array: returns the new length and leaves `s` as the
/// array looks afterwards (positions past the new length keep what was last written there).
pub(crate) fn deduplicate_in_place(s: &mut [Value]) -> usize {
    let Some(mut last) = s.len().checked_sub(1) else {
        return 0;
    };
    let mut i = 0;
    while i < last {
        let mut j = i + 1;
        while j <= last {
            if s[i] == s[j] {
                s[j] = s[last].clone();
                last -= 1;
            } else {
                j += 1;
            }
        }
        i += 1;
    }
    last + 1
}

/// The capacity Go's JSON decoder leaves on a decoded array of `n` elements: it appends one
/// element at a time, so the capacity follows `append`'s growth and the allocator's size
/// classes. apimachinery merges lists in place, so what a later step sees of a list can
/// depend on it (see `Backing`).
pub(crate) fn go_decoded_cap(n: usize) -> usize {
    let mut cap = 0;
    while cap < n {
        cap = go_grow(cap, cap + 1);
    }
    cap
}

/// `runtime.nextslicecap` then `roundupsize` for 16-byte elements (`interface{}`).
fn go_grow(old: usize, new_len: usize) -> usize {
    let double = old * 2;
    let cap = if new_len > double {
        new_len
    } else if old < 256 {
        double
    } else {
        let mut c = old;
        while c < new_len {
            c += (c + 3 * 256) / 4;
        }
        c
    };
    round_up_size(cap * 16) / 16
}

fn round_up_size(bytes: usize) -> usize {
    const CLASSES: &[usize] = &[
        8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256, 288, 320,
        352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536, 1792,
        2048, 2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472,
        9728, 10240, 10880, 12288, 13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264,
        28672, 32768,
    ];
    match CLASSES.iter().find(|c| **c >= bytes) {
        Some(c) => *c,
        None => bytes.div_ceil(8192) * 8192,
    }
}

pub(crate) fn deduplicate_and_sort_scalars(s: Vec<Value>) -> Vec<Value> {
    sort_scalars(deduplicate_scalars(s))
}

/// Go's `sort.SliceStable` (insertion sort of blocks of 20, then `symMerge`), reproduced
/// exactly because apimachinery's `less` functions are not strict weak orders and the result
/// depends on the algorithm.
pub(crate) fn go_slice_stable<T>(data: &mut [T], less: impl Fn(&T, &T) -> bool) {
    let n = data.len();
    let mut block = 20;
    let (mut a, mut b) = (0, block);
    while b <= n {
        insertion_sort(data, a, b, &less);
        a = b;
        b += block;
    }
    insertion_sort(data, a, n, &less);
    while block < n {
        let (mut a, mut b) = (0, 2 * block);
        while b <= n {
            sym_merge(data, a, a + block, b, &less);
            a = b;
            b += 2 * block;
        }
        let m = a + block;
        if m < n {
            sym_merge(data, a, m, n, &less);
        }
        block *= 2;
    }
}

fn insertion_sort<T>(data: &mut [T], a: usize, b: usize, less: &impl Fn(&T, &T) -> bool) {
    for i in a + 1..b {
        let mut j = i;
        while j > a && less(&data[j], &data[j - 1]) {
            data.swap(j, j - 1);
            j -= 1;
        }
    }
}

fn sym_merge<T>(data: &mut [T], a: usize, m: usize, b: usize, less: &impl Fn(&T, &T) -> bool) {
    if m - a == 1 {
        let (mut i, mut j) = (m, b);
        while i < j {
            let h = (i + j) / 2;
            if less(&data[h], &data[a]) {
                i = h + 1;
            } else {
                j = h;
            }
        }
        for k in a..i.saturating_sub(1) {
            data.swap(k, k + 1);
        }
        return;
    }
    if b - m == 1 {
        let (mut i, mut j) = (a, m);
        while i < j {
            let h = (i + j) / 2;
            if !less(&data[m], &data[h]) {
                i = h + 1;
            } else {
                j = h;
            }
        }
        let mut k = m;
        while k > i {
            data.swap(k, k - 1);
            k -= 1;
        }
        return;
    }
    let mid = (a + b) / 2;
    let n = mid + m;
    let (mut start, mut r) = if m > mid { (n - b, mid) } else { (a, m) };
    let p = n - 1;
    while start < r {
        let c = (start + r) / 2;
        if !less(&data[p - c], &data[c]) {
            start = c + 1;
        } else {
            r = c;
        }
    }
    let end = n - start;
    if start < m && m < end {
        rotate(data, start, m, end);
    }
    if a < start && start < mid {
        sym_merge(data, a, start, mid, less);
    }
    if mid < end && end < b {
        sym_merge(data, mid, end, b, less);
    }
}

fn rotate<T>(data: &mut [T], a: usize, m: usize, b: usize) {
    let mut i = m - a;
    let mut j = b - m;
    while i != j {
        if i > j {
            swap_range(data, m - i, m, j);
            i -= j;
        } else {
            swap_range(data, m - i, m + j - i, i);
            j -= i;
        }
    }
    swap_range(data, m - i, m, i);
}

fn swap_range<T>(data: &mut [T], a: usize, b: usize, n: usize) {
    for i in 0..n {
        data.swap(a + i, b + i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn percent_v_matches_go() {
        assert_eq!(go_v(&json!(1)), "1");
        assert_eq!(go_v(&json!(-3)), "-3");
        assert_eq!(go_v(&json!(1.5)), "1.5");
        assert_eq!(go_v(&json!(1e21)), "1e+21");
        assert_eq!(go_v(&json!(1e6)), "1e+06");
        assert_eq!(go_v(&json!(123456.5)), "123456.5");
        assert_eq!(go_v(&json!(0.0001)), "0.0001");
        assert_eq!(go_v(&json!(0.00001)), "1e-05");
        assert_eq!(
            go_v(&json!(3.4028234663852886e38)),
            "3.4028234663852886e+38"
        );
        assert_eq!(go_v(&json!(null)), "<nil>");
        assert_eq!(
            go_v(&json!({"value": "a", "name": 1, "l": [1, "x"]})),
            "map[l:[1 x] name:1 value:a]"
        );
    }

    #[test]
    fn insertion_sort_reverses_equal_keys_like_go() {
        let mut v = vec![("b", 1), ("a", 1), ("b", 2), ("a", 2)];
        go_sort_by_text(&mut v, |x| x.0.to_owned());
        assert_eq!(v, [("a", 2), ("a", 1), ("b", 2), ("b", 1)]);
    }

    #[test]
    fn deduplicate_moves_the_last_element_into_the_gap() {
        let v = deduplicate_scalars(vec![json!(1), json!(2), json!(1), json!(3), json!(4)]);
        assert_eq!(v, [json!(1), json!(2), json!(4), json!(3)]);
    }

    #[test]
    fn decoded_capacities_follow_append_growth() {
        let caps: Vec<usize> = [0, 1, 2, 3, 5, 9, 100, 256, 257]
            .iter()
            .map(|n| go_decoded_cap(*n))
            .collect();
        assert_eq!(caps, [0, 1, 2, 4, 8, 16, 128, 256, 512]);
    }

    #[test]
    fn slice_stable_sorts_and_keeps_equal_elements_in_order() {
        let mut v: Vec<(u32, u32)> = (0..100).map(|i| ((i * 37) % 10, i)).collect();
        go_slice_stable(&mut v, |a, b| a.0 < b.0);
        let mut expected = v.clone();
        expected.sort_by_key(|x| x.0);
        assert_eq!(v, expected);
        assert!(v.windows(2).all(|w| w[0].0 < w[1].0 || w[0].1 < w[1].1));
    }
}
