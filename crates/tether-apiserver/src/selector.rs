//! Label and field selectors, parsed and matched as `k8s.io/apimachinery/pkg/labels` and
//! `pkg/fields` do.

use serde_json::Value;

use crate::status::ApiError;
use crate::validation;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    Exists,
    DoesNotExist,
    In(Vec<String>),
    NotIn(Vec<String>),
    Gt(i64),
    Lt(i64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Requirement {
    key: String,
    op: Op,
}

/// A parsed label selector; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
}

impl LabelSelector {
    pub fn parse(text: &str) -> Result<LabelSelector, ApiError> {
        let bad =
            |why: String| ApiError::bad_request(format!("unable to parse requirement: {why}"));
        let mut requirements = vec![];
        for raw in split_top_level(text) {
            let part = raw.trim();
            if part.is_empty() {
                if text.trim().is_empty() {
                    continue;
                }
                return Err(bad(format!("found '', expected: identifier in {text:?}")));
            }
            let requirement = if let Some(key) = part.strip_prefix('!') {
                Requirement {
                    key: key.trim().to_owned(),
                    op: Op::DoesNotExist,
                }
            } else if let Some((key, rest)) = split_word(part, "notin") {
                Requirement {
                    key,
                    op: Op::NotIn(parse_set(rest).map_err(bad)?),
                }
            } else if let Some((key, rest)) = split_word(part, "in") {
                Requirement {
                    key,
                    op: Op::In(parse_set(rest).map_err(bad)?),
                }
            } else if let Some((key, value)) = part.split_once("!=") {
                Requirement {
                    key: key.trim().to_owned(),
                    op: Op::NotIn(vec![value.trim().to_owned()]),
                }
            } else if let Some((key, value)) =
                part.split_once("==").or_else(|| part.split_once('='))
            {
                Requirement {
                    key: key.trim().to_owned(),
                    op: Op::In(vec![value.trim().to_owned()]),
                }
            } else if let Some((key, value)) = part.split_once('>') {
                Requirement {
                    key: key.trim().to_owned(),
                    op: Op::Gt(parse_int(value).map_err(bad)?),
                }
            } else if let Some((key, value)) = part.split_once('<') {
                Requirement {
                    key: key.trim().to_owned(),
                    op: Op::Lt(parse_int(value).map_err(bad)?),
                }
            } else {
                Requirement {
                    key: part.to_owned(),
                    op: Op::Exists,
                }
            };
            if let Some(why) = validation::label_key_error(&requirement.key) {
                return Err(bad(format!(
                    "key: Invalid value: {:?}: {why}",
                    requirement.key
                )));
            }
            if let Op::In(values) | Op::NotIn(values) = &requirement.op {
                for value in values {
                    if let Some(why) = validation::label_value_error(value) {
                        return Err(bad(format!(
                            "values[0][{}]: Invalid value: {value:?}: {why}",
                            requirement.key
                        )));
                    }
                }
            }
            requirements.push(requirement);
        }
        Ok(LabelSelector { requirements })
    }

    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Matches an object's `metadata.labels`.
    pub fn matches(&self, object: &Value) -> bool {
        let labels = object
            .pointer("/metadata/labels")
            .and_then(Value::as_object);
        let get = |key: &str| labels.and_then(|l| l.get(key)).and_then(Value::as_str);
        self.requirements.iter().all(|r| match &r.op {
            Op::Exists => get(&r.key).is_some(),
            Op::DoesNotExist => get(&r.key).is_none(),
            Op::In(values) => get(&r.key).is_some_and(|v| values.iter().any(|x| x == v)),
            Op::NotIn(values) => get(&r.key).is_none_or(|v| !values.iter().any(|x| x == v)),
            Op::Gt(n) => get(&r.key)
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|v| v > *n),
            Op::Lt(n) => get(&r.key)
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|v| v < *n),
        })
    }
}

/// Splits on commas that are not inside `( )`.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = vec![];
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// `key in (a,b)`: splits at the operator word when it stands alone before a parenthesis.
fn split_word<'a>(part: &'a str, word: &str) -> Option<(String, &'a str)> {
    let mut tokens = part.splitn(2, char::is_whitespace);
    let key = tokens.next()?.trim();
    let rest = tokens.next()?.trim_start();
    let after = rest.strip_prefix(word)?;
    after
        .trim_start()
        .starts_with('(')
        .then(|| (key.to_owned(), after.trim_start()))
}

fn parse_set(text: &str) -> Result<Vec<String>, String> {
    let inner = text
        .strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .ok_or_else(|| format!("found {text:?}, expected: '(' and ')'"))?;
    let values: Vec<String> = inner.split(',').map(|v| v.trim().to_owned()).collect();
    Ok(values)
}

fn parse_int(text: &str) -> Result<i64, String> {
    text.trim().parse().map_err(|_| {
        format!("for 'Gt', 'Lt' operators, the value must be an integer, got {text:?}")
    })
}

/// A parsed field selector: `=`, `==` and `!=` terms over supported fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSelector {
    terms: Vec<(String, bool, String)>,
}

impl FieldSelector {
    /// Parses `text`, accepting only fields in `supported` (plus `metadata.name` and
    /// `metadata.namespace`, which every resource supports).
    pub fn parse(text: &str, supported: &[&str]) -> Result<FieldSelector, ApiError> {
        let mut terms = vec![];
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (field, equal, value) = if let Some((f, v)) = part.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
                (f, true, v)
            } else {
                return Err(ApiError::bad_request(format!(
                    "invalid selector: '{text}'; can't understand '{part}'"
                )));
            };
            let field = field.trim();
            if !matches!(field, "metadata.name" | "metadata.namespace")
                && !supported.contains(&field)
            {
                return Err(ApiError::bad_request(format!(
                    "field label not supported: {field}"
                )));
            }
            terms.push((field.to_owned(), equal, value.trim().to_owned()));
        }
        Ok(FieldSelector { terms })
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The name this selector pins with `metadata.name=<name>`, if any (lets a watch or list of
    /// one object skip the rest).
    pub fn exact_name(&self) -> Option<&str> {
        self.terms
            .iter()
            .find(|(f, eq, _)| f == "metadata.name" && *eq)
            .map(|(_, _, v)| v.as_str())
    }

    pub fn matches(&self, object: &Value) -> bool {
        if self.terms.is_empty() {
            return true;
        }
        self.terms.iter().all(|(field, equal, value)| {
            let actual = field_value(object, field);
            (actual == *value) == *equal
        })
    }
}

/// A field's value as the field selector compares it: strings as they are, other scalars as
/// their JSON text, missing as "".
fn field_value(object: &Value, field: &str) -> String {
    let mut at = object;
    for step in field.split('.') {
        match at.get(step) {
            Some(next) => at = next,
            None => return String::new(),
        }
    }
    match at {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(labels: Value) -> Value {
        json!({"metadata": {"name": "web", "namespace": "demo", "labels": labels}})
    }

    #[test]
    fn every_operator() {
        let o = obj(json!({"app": "web", "tier": "front", "size": "5"}));
        for (selector, expected) in [
            ("", true),
            ("app=web", true),
            ("app==web", true),
            ("app!=web", false),
            ("app!=db", true),
            ("missing!=x", true),
            ("app in (web, db)", true),
            ("app notin (web,db)", false),
            ("missing notin (a)", true),
            ("tier", true),
            ("!tier", false),
            ("!missing", true),
            ("size>4", true),
            ("size<5", false),
            ("app=web,tier=back", false),
            ("app in (web),tier notin (back)", true),
        ] {
            let s = LabelSelector::parse(selector).unwrap();
            assert_eq!(s.matches(&o), expected, "{selector}");
        }
    }

    #[test]
    fn bad_selectors_are_400() {
        for bad in ["app in web", "a b=c", "app=we b", "size>x", "-x=1"] {
            let err = LabelSelector::parse(bad).unwrap_err();
            assert_eq!(err.code, 400, "{bad}");
        }
    }

    #[test]
    fn field_selectors() {
        let o = obj(json!({}));
        let s =
            FieldSelector::parse("metadata.name=web,metadata.namespace!=kube-system", &[]).unwrap();
        assert!(s.matches(&o));
        assert_eq!(s.exact_name(), Some("web"));
        assert!(
            !FieldSelector::parse("metadata.name=db", &[])
                .unwrap()
                .matches(&o)
        );
        let err = FieldSelector::parse("spec.foo=1", &[]).unwrap_err();
        assert_eq!(err.message, "field label not supported: spec.foo");
        let typed = json!({"type": "Opaque", "metadata": {"name": "s"}});
        assert!(
            FieldSelector::parse("type=Opaque", &["type"])
                .unwrap()
                .matches(&typed)
        );
    }
}
