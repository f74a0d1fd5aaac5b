//! kustomization files are read with go-yaml v2's non-strict rules: a repeated key replaces
//! the earlier value (kustomize's TestGeneratorRepeatsInKustomization relies on it), where
//! resources reject it.

#![allow(clippy::unwrap_used)]

#[test]
fn repeated_keys_replace_in_kustomization_mode_and_fail_otherwise() {
    let text = "a: 1\nb:\n  c: x\nb:\n  d: z\na: 2\n";
    let v = tether_yaml::parse_document_last_key_wins(text).unwrap();
    assert_eq!(v, serde_json::json!({"a": 2, "b": {"d": "z"}}));
    let err = tether_yaml::parse_document(text).unwrap_err();
    assert_eq!(err.line, 4, "{err}");
    assert!(
        err.to_string()
            .contains("mapping key \"b\" already defined at line 2"),
        "{err}"
    );
}

/// Comments anywhere (before, between and after entries and items) are dropped; `#` inside a
/// block scalar is content. (kustomize's TestVarRefBig has a comment between annotations.)
#[test]
fn comments_between_entries_are_skipped() {
    let text = "# top\na: 1 # trailing\n# between\nb:\n  # inner\n  - x # after\n  # end\nc: |\n  # not a comment\n";
    let v = tether_yaml::parse_document(text).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"a": 1, "b": ["x"], "c": "# not a comment\n"})
    );
}

/// kustomization files resolve plain scalars by YAML 1.1: `y`/`on` are booleans there, strings
/// in resources.
#[test]
fn kustomization_mode_reads_yaml_1_1_booleans() {
    let text = "a: y\nb: on\nc: 'y'\nd: yes\n";
    let v = tether_yaml::parse_document_last_key_wins(text).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"a": true, "b": true, "c": "y", "d": true})
    );
    let v = tether_yaml::parse_document(text).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"a": "y", "b": "on", "c": "y", "d": "yes"})
    );
}
