//! Name, label and annotation validation with kube-apiserver's messages
//! (`k8s.io/apimachinery/pkg/util/validation`).

use serde_json::Value;

use crate::status::Cause;

const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_SUBDOMAIN_FMT: &str =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const QUALIFIED_NAME_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const LABEL_VALUE_FMT: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
/// kube-apiserver's limit on the total size of an object's annotations.
const TOTAL_ANNOTATION_SIZE_LIMIT: usize = 256 * 1024;

/// How a resource's names are validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRule {
    /// Most resources: an RFC 1123 subdomain.
    Subdomain,
    /// Namespaces: an RFC 1123 label.
    Label,
    /// Services: an RFC 1035 label (starts with a letter).
    Dns1035,
    /// RBAC objects: anything that is a valid path segment (`system:controller:x`).
    PathSegment,
}

fn is_alnum_lower(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

fn is_dns1123_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && is_alnum_lower(b[0])
        && is_alnum_lower(b[b.len() - 1])
        && b.iter().all(|&c| is_alnum_lower(c) || c == b'-')
}

pub fn dns1123_label_errors(s: &str) -> Vec<String> {
    let mut errs = vec![];
    if s.len() > 63 {
        errs.push("must be no more than 63 characters".to_owned());
    }
    if !is_dns1123_label(s) {
        errs.push(format!(
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '{DNS1123_LABEL_FMT}')"
        ));
    }
    errs
}

pub fn dns1123_subdomain_errors(s: &str) -> Vec<String> {
    let mut errs = vec![];
    if s.len() > 253 {
        errs.push("must be no more than 253 characters".to_owned());
    }
    if !s.split('.').all(is_dns1123_label) {
        errs.push(format!(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '{DNS1123_SUBDOMAIN_FMT}')"
        ));
    }
    errs
}

pub fn dns1035_label_errors(s: &str) -> Vec<String> {
    let mut errs = vec![];
    if s.len() > 63 {
        errs.push("must be no more than 63 characters".to_owned());
    }
    if !is_dns1123_label(s) || !s.starts_with(|c: char| c.is_ascii_lowercase()) {
        errs.push("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')".to_owned());
    }
    errs
}

pub fn path_segment_errors(s: &str) -> Vec<String> {
    let mut errs = vec![];
    if s == "." || s == ".." {
        errs.push(format!("may not be '{s}'"));
    }
    for bad in ["/", "%"] {
        if s.contains(bad) {
            errs.push(format!("may not contain '{bad}'"));
        }
    }
    errs
}

pub fn name_errors(rule: NameRule, name: &str) -> Vec<String> {
    match rule {
        NameRule::Subdomain => dns1123_subdomain_errors(name),
        NameRule::Label => dns1123_label_errors(name),
        NameRule::Dns1035 => dns1035_label_errors(name),
        NameRule::PathSegment => path_segment_errors(name),
    }
}

fn is_qualified_name_part(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// Errors of a qualified name (`example.com/name` or `name`): label and annotation keys.
pub fn qualified_name_errors(key: &str) -> Vec<String> {
    let mut errs = vec![];
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if name.contains('/') {
        errs.push(format!(
            "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '{QUALIFIED_NAME_FMT}') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ));
        return errs;
    }
    if let Some(prefix) = prefix {
        if prefix.is_empty() {
            errs.push("prefix part must be non-empty".to_owned());
        } else {
            errs.extend(
                dns1123_subdomain_errors(prefix)
                    .into_iter()
                    .map(|e| format!("prefix part {e}")),
            );
        }
    }
    if name.is_empty() {
        errs.push("name part must be non-empty".to_owned());
    } else {
        if name.len() > 63 {
            errs.push("name part must be no more than 63 characters".to_owned());
        }
        if !is_qualified_name_part(name) {
            errs.push(format!(
                "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '{QUALIFIED_NAME_FMT}')"
            ));
        }
    }
    errs
}

pub fn label_key_error(key: &str) -> Option<String> {
    let errs = qualified_name_errors(key);
    (!errs.is_empty()).then(|| errs.join(", "))
}

pub fn label_value_error(value: &str) -> Option<String> {
    let mut errs = vec![];
    if value.len() > 63 {
        errs.push("must be no more than 63 characters".to_owned());
    }
    if !value.is_empty() && !is_qualified_name_part(value) {
        errs.push(format!(
            "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '{LABEL_VALUE_FMT}')"
        ));
    }
    (!errs.is_empty()).then(|| errs.join(", "))
}

/// Go's `%q` of a string, as `field.Invalid` prints values.
pub fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

fn invalid(field: &str, value: &str, why: &str) -> Cause {
    Cause::new(
        "FieldValueInvalid",
        field,
        format!("Invalid value: {}: {why}", quote(value)),
    )
}

/// Validates `metadata` of an object being written: name (unless it will be generated), labels
/// and annotations.
pub fn validate_metadata(rule: NameRule, object: &Value, name_required: bool) -> Vec<Cause> {
    let mut causes = vec![];
    let meta = object.get("metadata");
    let name = meta
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("");
    if name.is_empty() {
        if name_required {
            causes.push(Cause::new(
                "FieldValueRequired",
                "metadata.name",
                "Required value: name or generateName is required",
            ));
        }
    } else {
        let errs = name_errors(rule, name);
        if !errs.is_empty() {
            causes.push(invalid("metadata.name", name, &errs.join(", ")));
        }
    }
    if let Some(labels) = meta
        .and_then(|m| m.get("labels"))
        .and_then(Value::as_object)
    {
        for (key, value) in labels {
            if let Some(why) = label_key_error(key) {
                causes.push(invalid("metadata.labels", key, &why));
            }
            match value {
                Value::String(v) => {
                    if let Some(why) = label_value_error(v) {
                        causes.push(invalid("metadata.labels", v, &why));
                    }
                }
                _ => causes.push(Cause::new(
                    "FieldValueTypeInvalid",
                    format!("metadata.labels.{key}"),
                    "Invalid value: label values must be strings",
                )),
            }
        }
    }
    if let Some(annotations) = meta
        .and_then(|m| m.get("annotations"))
        .and_then(Value::as_object)
    {
        let mut total = 0;
        for (key, value) in annotations {
            total += key.len() + value.as_str().map_or(0, str::len);
            let errs = qualified_name_errors(&key.to_lowercase());
            if !errs.is_empty() {
                causes.push(invalid("metadata.annotations", key, &errs.join(", ")));
            }
        }
        if total > TOTAL_ANNOTATION_SIZE_LIMIT {
            causes.push(Cause::new(
                "FieldValueTooLong",
                "metadata.annotations",
                format!("Too long: may not be more than {TOTAL_ANNOTATION_SIZE_LIMIT} bytes"),
            ));
        }
    }
    causes
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn subdomain_names() {
        assert!(dns1123_subdomain_errors("web-1.example").is_empty());
        assert_eq!(dns1123_subdomain_errors("Foo").len(), 1);
        assert!(dns1123_subdomain_errors("-a").len() == 1);
        assert!(
            dns1123_subdomain_errors(&"a".repeat(254))
                .iter()
                .any(|e| e.contains("253"))
        );
    }

    #[test]
    fn label_names_and_path_segments() {
        assert!(dns1123_label_errors("a.b").len() == 1);
        assert!(path_segment_errors("system:controller:x").is_empty());
        assert_eq!(path_segment_errors("a/b"), ["may not contain '/'"]);
    }

    #[test]
    fn label_keys_and_values() {
        assert!(label_key_error("app.kubernetes.io/name").is_none());
        assert!(label_key_error("Bad Key").is_some());
        assert!(label_key_error("UPPER.example/x").is_some());
        assert!(label_value_error("").is_none());
        assert!(label_value_error("v1.2_3").is_none());
        assert!(label_value_error("-bad").is_some());
    }

    #[test]
    fn metadata_causes_name_the_field() {
        let causes = validate_metadata(
            NameRule::Subdomain,
            &json!({"metadata": {"name": "Bad", "labels": {"ok": "-x"}}}),
            true,
        );
        assert_eq!(causes.len(), 2);
        assert_eq!(causes[0].field, "metadata.name");
        assert!(
            causes[0]
                .message
                .starts_with("Invalid value: \"Bad\": a lowercase RFC 1123 subdomain")
        );
        assert_eq!(causes[1].field, "metadata.labels");
        let missing = validate_metadata(NameRule::Subdomain, &json!({"metadata": {}}), true);
        assert_eq!(missing[0].reason, "FieldValueRequired");
    }
}
