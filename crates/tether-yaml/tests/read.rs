//! Reader behaviour that needs no reference binary: documents and their lines, error
//! positions, merges, and robustness on arbitrary input.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed assertion.

use proptest::prelude::*;
use serde_json::json;
use tether_yaml::{Document, Error, parse_document, parse_documents, to_yaml};

fn lines(text: &str) -> Vec<usize> {
    parse_documents(text)
        .unwrap()
        .iter()
        .map(|d| d.line)
        .collect()
}

#[test]
fn documents_and_their_lines() {
    let text = "# head\na: 1\n---\n\n# c\nb: 2\n--- # sep\n~\n---\n---\nc: [1]\n";
    let docs = parse_documents(text).unwrap();
    assert_eq!(
        docs,
        vec![
            Document {
                value: json!({"a": 1}),
                line: 2
            },
            Document {
                value: json!({"b": 2}),
                line: 6
            },
            Document {
                value: json!({"c": [1]}),
                line: 11
            },
        ]
    );
    // go-yaml decodes only the first document of each piece kyaml splits off, so what follows
    // an explicit end (or a null document) in the same piece is lost, as in kustomize.
    assert_eq!(lines("x: 1\n...\ny: 2\n"), vec![1]);
    assert_eq!(lines("~\n...\ny: 2\n"), Vec::<usize>::new());
    assert_eq!(lines("---\nx: 1\n---\ny: 2\n"), vec![2, 4]);
    assert_eq!(lines("x: 1\r\n---\r\ny: 2\r\n"), vec![1, 3]);
}

#[test]
fn parse_document_wants_at_most_one() {
    assert_eq!(parse_document("").unwrap(), serde_json::Value::Null);
    assert_eq!(
        parse_document("# nothing\n").unwrap(),
        serde_json::Value::Null
    );
    assert_eq!(parse_document("a: b\n").unwrap(), json!({"a": "b"}));
    let e = parse_document("a: 1\n---\nb: 2\n").unwrap_err();
    assert_eq!(
        (e.line, e.message.as_str()),
        (3, "expected one document, found 2")
    );
}

#[test]
fn errors_carry_stream_lines() {
    let e = parse_documents("a: 1\n---\nb: 2\nc: [\n").unwrap_err();
    assert_eq!(e.line, 4, "{e}");
    let e = parse_documents("a:\n  x: 1\n  x: 2\n").unwrap_err();
    assert_eq!(
        e,
        Error {
            line: 3,
            column: 3,
            message: "mapping key \"x\" already defined at line 2".into()
        }
    );
    assert_eq!(
        e.to_string(),
        "yaml: line 3: mapping key \"x\" already defined at line 2"
    );
    let e = parse_documents("a: 1\n---\nb: .inf\n").unwrap_err();
    assert_eq!((e.line, e.column), (3, 4));
    let e = parse_documents("a: 1\n\nb: \"x\u{7f}\"\n").unwrap_err();
    assert_eq!((e.line, e.column), (3, 6));
    let e = parse_documents("a:\n  1: x\n").unwrap_err();
    assert_eq!(e.line, 2);
    assert!(e.message.contains("not a string"), "{e}");
}

#[test]
fn scalars_resolve_like_yaml_v3() {
    let v = parse_document(
        "a: yes\nb: 0755\nc: 1e3\nd: 2001-12-14\ne: '0755'\nf: !!str 1\ng: ~\nh: 18446744073709551615\ni: 0o17\n",
    )
    .unwrap();
    assert_eq!(
        v,
        json!({"a": "yes", "b": 493, "c": 1000.0, "d": "2001-12-14T00:00:00Z", "e": "0755", "f": "1",
               "g": null, "h": 18446744073709551615u64, "i": 15})
    );
    assert!(v["c"].is_f64() && v["b"].is_i64());
    // Non-string keys are text at the root only.
    assert_eq!(
        parse_document("1: a\ntrue: b\n0x10: c\n").unwrap(),
        json!({"1": "a", "true": "b", "0x10": "c"})
    );
}

#[test]
fn anchors_and_merges_expand() {
    let v = parse_document(
        "base: &b {a: 1, b: 2}\nmore: &m {b: 3, c: 4}\nx:\n  <<: [*b, *m]\n  c: own\ny: *b\n'<<': gone\n",
    )
    .unwrap();
    assert_eq!(
        v,
        json!({"base": {"a": 1, "b": 2}, "more": {"b": 3, "c": 4}, "x": {"a": 1, "b": 2, "c": "own"},
               "y": {"a": 1, "b": 2}})
    );
    let e = parse_documents("a: &a [*a]\n").unwrap_err();
    assert_eq!(e.line, 1);
    let laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n\
                  c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n\
                  e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n\
                  g: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
    let e = parse_documents(laughs).unwrap_err();
    assert_eq!(e.message, "document contains excessive aliasing");
}

#[test]
fn printed_output_is_a_fixed_point() {
    let v = json!({"b": [1, {"x": "a: b", "y": "multi\nline\n"}], "a": {"k": "", "e": [], "o": {}}, "n": 1.5});
    let once = to_yaml(&v);
    assert_eq!(
        once,
        "a:\n  e: []\n  k: \"\"\n  o: {}\nb:\n- 1\n- x: 'a: b'\n  \"y\": |\n    multi\n    line\n\"n\": 1.5\n"
    );
    assert_eq!(to_yaml(&parse_document(&once).unwrap()), once);
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let text = "\\PC{0,12}".prop_map(|s| s.replace(['\u{2028}', '\u{2029}', '\u{85}'], ""));
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_filter_map("finite", |f| f
            .is_finite()
            .then(|| serde_json::Value::from(f))),
        text.clone().prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(3, 24, 5, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(serde_json::Value::Array),
            proptest::collection::btree_map(
                text.clone().prop_filter("merge key", |k| k != "<<"),
                inner,
                0..5
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

fn kustomize_printable(s: &str) -> bool {
    !s.chars().any(|c| {
        c == '\u{7f}' || ('\u{80}'..='\u{9f}').contains(&c) || c == '\u{fffe}' || c == '\u{ffff}'
    })
}

proptest! {
    /// Never panics, whatever the bytes.
    #[test]
    fn arbitrary_input_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = parse_documents(&text);
    }

    /// Never panics on YAML-ish text either.
    #[test]
    fn yamlish_input_never_panics(text in "([a-z0-9:{}\\[\\],&*!|>'\"#%@` \\-?<~.\n\t]|---\n|<<: ){0,120}") {
        if let Ok(docs) = parse_documents(&text) {
            for d in docs {
                let _ = to_yaml(&d.value);
            }
        }
    }

    /// What we print reads back to the same printout (kustomize's output is stable too).
    #[test]
    fn printing_is_idempotent(v in json_value()) {
        let doc = serde_json::json!({"v": v});
        let once = to_yaml(&doc);
        if kustomize_printable(&once) {
            let back = parse_document(&once).map_err(|e| TestCaseError::fail(format!("{e}\n{once}")))?;
            prop_assert_eq!(to_yaml(&back), once);
        }
    }
}
