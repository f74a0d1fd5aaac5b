//! Differential tests against `kubectl.1.33 kustomize`: tricky resources go through kustomize
//! and through `parse_documents` + `to_yaml`; the outputs must be byte-identical.

mod common;

use common::{assert_same, kubectl_or_skip, kustomize, ours, resource};

/// Scalars of every kind, one `key: value` line each, as they appear in a mapping.
const SCALARS: &[&str] = &[
    // booleans: YAML 1.2 reading, YAML 1.1 quoting on output
    "t: true",
    "t2: True",
    "t3: TRUE",
    "f: false",
    "y: y",
    "yes: yes",
    "n: no",
    "on: on",
    "off: Off",
    "qy: 'y'",
    "qtrue: \"true\"",
    "qyes: 'YES'",
    // nulls
    "n1: ~",
    "n2: null",
    "n3:",
    "n4: Null",
    "qnull: 'null'",
    "qtilde: '~'",
    "qempty: ''",
    // integers
    "i1: 0",
    "i2: -0",
    "i3: 0755",
    "i4: 0x1F",
    "i5: 0b101",
    "i6: 0o17",
    "i7: 1_000",
    "i8: +12",
    "i9: 9223372036854775807",
    "i10: -9223372036854775808",
    "i11: 9223372036854775808",
    "i12: 18446744073709551615",
    "i13: 18446744073709551616",
    "i14: 0b+1",
    "i15: 0o+7",
    "i16: -0b11",
    "i17: -0o17",
    "i18: 0x_ff",
    "i19: 08",
    "i20: 0xFFFFFFFFFFFFFFFFF",
    "qi: '0755'",
    "qi2: \"12\"",
    // floats
    "f1: 1.5",
    "f2: 1e3",
    "f3: 1.0",
    "f4: -0.0",
    "f5: 0.0000001",
    "f6: 1e21",
    "f7: 1e20",
    "f8: .5",
    "f9: 1234567.5",
    "f10: 123456.5",
    "f11: 1e400",
    "f12: 1e-400",
    "f13: 6.02e+23",
    "f14: -1.5e-10",
    "f15: 3.",
    "f16: 0.1",
    "f17: 100000000000000000000.5",
    "f18: 12e-1",
    "f19: ._5",
    "f20: .5_5",
    "qf: '1e3'",
    "qf2: '.5'",
    // timestamps become RFC 3339 when plain
    "ts1: 2001-12-14",
    "ts2: 2001-12-14t21:59:43.10-05:00",
    "ts3: 2001-12-14 21:59:43.10",
    "ts4: 2001-1-2T3:4:5Z",
    "ts5: 2001-12-14T21:59:43,5+00:00",
    "ts6: 2001-02-30",
    "qts: '2001-12-14'",
    "ts7: 2002-12-14T21:59:43.123456789123Z",
    "ts8: 1999-12-31T23:59:59+23:59",
    "ts9: 2001-12-14T00:00:00-00:00",
    // explicit tags
    "tag1: !!str 123",
    "tag2: !!int \"0x10\"",
    "tag3: !!float 3",
    "tag4: !foo bar",
    "tag5: ! 123",
    "tag6: !!binary aGVsbG8=",
    "tag7: !!null ''",
    "tag8: !!bool true",
    "tag9: !!timestamp 2001-12-14",
    "tag10: !foo {a: 1}",
    "tag11: !!str",
    "tag12: !!binary |\n    aGVs\n    bG8=",
    // strings needing quotes on output
    "s1: 'a: b'",
    "s2: '- x'",
    "s3: '#x'",
    "s4: ' space'",
    "s5: 'trail '",
    "s6: 'a #b'",
    "s7: 'x:'",
    "s8: '?x'",
    "s9: '? x'",
    "s10: ':x'",
    "s11: '-x'",
    "s12: '---'",
    "s13: '...'",
    "s14: '[x'",
    "s15: '{x}'",
    "s16: '&a'",
    "s17: '*a'",
    "s18: '!a'",
    "s19: '|'",
    "s20: '>'",
    "s21: \"'\"",
    "s22: '\"'",
    "s23: '%'",
    "s24: '@'",
    "s25: '`'",
    "s26: 'a,b'",
    "s27: 'it''s'",
    "s28: 'x: '",
    "s29: \"a\\tb\"",
    "s30: '1:20'",
    "s31: '190:20:30.15'",
    "s32: '<<'",
    "s33: 'a#b'",
    "s34: '-'",
    "s35: \"\\x01\"",
    "s36: \"\\0\"",
    "s37: \"\\e\\a\\b\\v\\f\\r\"",
    "s38: '0x1FFFFFFFFFFFFFFFFF'",
    "s39: '+'",
    "s40: '+.inf'",
    "s41: '.nan'",
    "s42: '1_000'",
    "s43: 'x\\y'",
    // unicode
    "u1: héllo",
    "u2: 日本語",
    "u3: \"😀 x\"",
    "u4: \"\\uFEFFab\"",
    "u5: \"a\\u00a0b\"",
    "u6: \"a\\u2028b\"",
    "u7: \"x  \\u0085\\u0085  y\"",
    "u8: \"\\u0085y\"",
    "u9: \"\\U0001F600\"",
    "u10: \"ab\\uFEFF\"",
    "u11: \"\\u00e9\\u0301\"",
    // multi-line strings
    "m1: |\n    line1\n    line2\n",
    "m2: |-\n    no newline",
    "m3: |+\n    keep\n\n",
    "m4: \"a\\nb \\nc\"",
    "m5: \"trailing\\n\"",
    "m6: \"\\nleading\"",
    "m7: \"  indented\\nx\"",
    "m8: \"a\\n\\n\\nb\"",
    "m9: \"tab\\tin\\nblock\"",
    "m10: \"\\n\"",
    "m11: \"\\n\\n\"",
    "m12: \"x\\n \"",
    "m13: \"x\\n y\"",
    "m14: >\n    folded\n    text\n",
    "m15: \"a\\r\\nb\"",
    "m16: \"a\\u2029b\\nc\"",
    "m17: \"#!/bin/sh\\necho hi\\n\"",
    "m18: \"   \\n\"",
];

/// Long values: line folding at width 80 in plain, single- and double-quoted styles.
fn long_values() -> Vec<String> {
    let words: Vec<String> = (0..30).map(|i| format!("w{i:03}")).collect();
    let sentence = words.join(" ");
    vec![
        format!("long1: {sentence}"),
        format!("long2: '# {sentence}'"),
        format!("long3: \"true {sentence}\\t\""),
        format!("long4: \"{}\"", "x".repeat(120)),
        format!("long5: '{}'", words.join("  ")),
        format!("long6: \"{}\"", words.join("  ")),
        format!("long7: \"{}\\t\"", words.join("  ")),
        format!("long8: '{} '", sentence),
        format!("long9: \"é{}\"", " éé".repeat(40)),
        format!("long10: |\n    {sentence}\n"),
        format!("{}: long key", "k".repeat(128)),
        format!("{}: longer key", "k".repeat(129)),
        format!("'{} {}': key with spaces", "k".repeat(70), "k".repeat(70)),
        format!("'{}': unicode key", "é".repeat(70)),
        format!("deep:\n  a:\n    b:\n      c:\n        d: {sentence}"),
        format!("list:\n- {sentence}\n- - {sentence}"),
    ]
}

/// Keys: natural sort order and quoting.
const KEYS: &[&str] = &[
    "a10: 1",
    "a9: 1",
    "A: 1",
    "_x: 1",
    "z: 1",
    "a: 1",
    "'': 1",
    "'0': 1",
    "'10': 1",
    "'9': 1",
    "'09': 1",
    "a-b: 1",
    "a_b: 1",
    "aB: 1",
    "ab: 1",
    "a0: 1",
    "a00: 1",
    "b1: 1",
    "b01: 1",
    "x.10: 1",
    "x.9: 1",
    "é: 1",
    "Z: 1",
    "'y': 1",
    "'n': 1",
    "'on': 1",
    "'null': 1",
    "'123': 1",
    "'true': 1",
    "'a: b': 1",
    "'#k': 1",
    "'- k': 1",
    "'k ': 1",
    "\"a\\nb\": 1",
    "\"t\\tab\": 1",
    "'<<': dropped",
    "'x1y2': 1",
    "'x1y10': 1",
    "'x01y2': 1",
    "'1.5': 1",
    "'-1': 1",
    "'~': 1",
    "'@': 1",
    "'%': 1",
    "'!': 1",
    "'&': 1",
    "'*': 1",
    "'?': 1",
    "':': 1",
    "'-': 1",
    "'.': 1",
    "'日本': 1",
    "'Ω': 1",
    "'ǅ': 1",
    "'٣': 1",
    "'a٣': 1",
    "'a3': 1",
    "'Ⅻ': 1",
];

/// Structures: nesting, empty collections, lists of lists, anchors and merges.
const STRUCTURES: &[&str] = &[
    "spec:\n  empty_map: {}\n  empty_list: []\n  nested: {a: {}, b: [], c: [[]], d: [{}]}",
    "spec:\n  list:\n  - a\n  - - b\n    - c\n  - - - d\n  - {x: 1, y: [1, 2]}\n  - []\n  - {}\n  - null\n  - ''\n  - |\n    block\n",
    "spec:\n  maps:\n  - name: a\n    value: 1\n    sub:\n      k: v\n    list:\n    - 1\n  - name: b",
    "spec:\n  deep: {a: {b: {c: {d: {e: {f: {g: [1, [2, [3, {h: i}]]]}}}}}}}",
    "base: &base {a: 1, b: 2, nested: {x: y}}\nother: &o {c: 3, a: 9}\nspec:\n  <<: [*base, *o]\n  b: own\n  d: *base",
    "anchors:\n  s: &s scalar\n  n: &n 12\n  l: &l [1, 2]\n  use: [*s, *n, *l]\n  <<: {m: merged}",
    "spec:\n  '<<': quoted first is dropped\n  k: v",
    "spec:\n  <<: {a: 1}\n  '<<': quoted after merge stays",
    "? |\n  multi\n  line key\n: value",
    "flow: {a: [1, 2, {b: c}], 'd': \"e\"}",
    "spec: {\"json\": [1, 2.5, true, null, \"s\"], \"k\": {\"n\": -1}}",
    "spec:\n  folded: plain\n    continued\n    lines\n  other: x",
    "list: [a, b, c]\nnum: [0x10, 1e3, .inf_not, 'q']",
    "spec:\n  x: !!map {a: 1}\n  y: !!seq [1]\n  z: !custom\n    k: v",
    "1: root int key\ntrue: root bool key\n1.5: root float key\n0x10: root hex key\n2001-12-14: root date key",
];

fn check(stream: &str) {
    let Some(k) = kubectl_or_skip("kustomize_diff") else {
        return;
    };
    let expected =
        kustomize(&k, stream).unwrap_or_else(|e| panic!("kustomize failed: {e}\ninput:\n{stream}"));
    let actual =
        ours(stream).unwrap_or_else(|e| panic!("tether-yaml failed: {e}\ninput:\n{stream}"));
    assert_same(stream, &expected, &actual);
}

fn data_resources(prefix: &str, entries: &[String], per: usize) -> String {
    entries
        .chunks(per)
        .enumerate()
        .map(|(i, chunk)| {
            let body: String = chunk
                .iter()
                .map(|e| format!("  {}\n", e.replace('\n', "\n  ")))
                .collect();
            resource(&format!("{prefix}{i}"), &format!("data:\n{body}"))
        })
        .collect::<Vec<_>>()
        .join("---\n")
}

#[test]
fn scalars_match_kustomize() {
    let entries: Vec<String> = SCALARS.iter().map(|s| (*s).to_owned()).collect();
    check(&data_resources("scalars", &entries, 12));
}

#[test]
fn long_lines_fold_like_kustomize() {
    check(&data_resources("long", &long_values(), 4));
}

#[test]
fn keys_sort_and_quote_like_kustomize() {
    let entries: Vec<String> = KEYS.iter().map(|s| (*s).to_owned()).collect();
    check(&data_resources("keys", &entries, 60));
}

#[test]
fn structures_match_kustomize() {
    let stream = STRUCTURES
        .iter()
        .enumerate()
        .map(|(i, body)| resource(&format!("s{i}"), &format!("{body}\n")))
        .collect::<Vec<_>>()
        .join("---\n");
    check(&stream);
}

#[test]
fn streams_split_like_kustomize() {
    let a = resource("a", "data:\n  k: |+\n    keep\n\n");
    let b = resource("b", "data:\n  k: v\n");
    let streams = [
        format!("---\n{a}---\n{b}"),
        format!("{a}--- # comment\n{b}"),
        format!("{a}---\n# only a comment\n---\n~\n---\n{b}---\n"),
        format!("{a}...\n{b}"),
        format!("# head\n{a}\n\n---\n\n{b}"),
        format!("{a}---\n---\n{b}"),
        format!(
            "{}---\r\n{}",
            a.replace('\n', "\r\n"),
            b.replace('\n', "\r\n")
        ),
        format!("\u{feff}{a}"),
        format!("{a}---\n{}", b.trim_end()),
        resource("c", "data:\n  k: |\n    no newline at the end"),
    ];
    for stream in streams {
        check(&stream);
    }
}

/// Inputs kustomize refuses; tether-yaml must refuse them too.
#[test]
fn errors_match_kustomize() {
    let Some(k) = kubectl_or_skip("errors_match_kustomize") else {
        return;
    };
    let bodies = [
        "data:\n  a: 1\n  a: 2",
        "data:\n  1: int key",
        "data:\n  true: bool key",
        "data:\n  ~: null key",
        "data:\n  [a]: seq key",
        "data:\n  {a: 1}: map key",
        "data:\n  x: .inf",
        "data:\n  x: 1999-12-31T23:59:59+24:00",
        "data:\n  x: -.Inf",
        "data:\n  x: .nan",
        "data:\n  x: \"a\\x7fb\"",
        "data:\n  x: \"a\\x80b\"",
        "data:\n  x: \"\\uFFFE\"",
        "data:\n  x: !!int abc",
        "data:\n  x: !!float 18446744073709551615",
        "data:\n  x: !!bool yes",
        "data:\n  x: !!null 0",
        "data:\n  x: !!binary not-base64",
        "data:\n  <<: 5",
        "data:\n  <<: [[{}]]",
        "data:\n  bad: [",
        "data:\n  x: \u{7f}",
        "data:\n  x: *unknown",
        "data:\n  <<: {a: 1}\n  <<: {b: 2}",
        "data:\n  plain multi\n    line key: x",
        "data:\n  x: 1999-12-31T23:59:59+23:60",
    ];
    for body in bodies {
        let stream = resource("e", &format!("{body}\n"));
        let expected = kustomize(&k, &stream);
        assert!(
            expected.is_err(),
            "kustomize accepted {stream:?}: {expected:?}"
        );
        let actual = tether_yaml::parse_documents(&stream);
        assert!(
            actual.is_err(),
            "tether-yaml accepted {stream:?}: {actual:?}"
        );
    }
    for separator in ["---foo", "----", "--- x # y"] {
        let stream = format!("{}{separator}\n{}", resource("a", ""), resource("b", ""));
        assert!(
            kustomize(&k, &stream).is_err(),
            "kustomize accepted {separator}"
        );
        let e = tether_yaml::parse_documents(&stream).expect_err("bad separator");
        assert_eq!(
            (e.line, e.message),
            (5, format!("invalid document separator: {separator}"))
        );
    }
}
