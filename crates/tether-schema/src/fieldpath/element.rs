//! Path elements and paths, ordered and printed as smd orders and prints them.

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use crate::value;

/// One step into a value.
#[derive(Clone, Debug)]
pub enum PathElement {
    /// A field of a map or struct: `.name`.
    Field(Arc<str>),
    /// An item of an associative list, by its key fields sorted by name: `[name="nginx"]`.
    Key(Vec<(Arc<str>, Value)>),
    /// An item of a set (an associative list of scalars), by its value: `[="a"]`.
    Value(Value),
    /// An item of a list by position: `[3]`.
    Index(usize),
}

impl PathElement {
    /// A field element.
    pub fn field(name: &str) -> Self {
        PathElement::Field(Arc::from(name))
    }

    /// A key element; the fields are sorted by name, as smd keeps them.
    pub fn key<I, S>(fields: I) -> Self
    where
        I: IntoIterator<Item = (S, Value)>,
        S: AsRef<str>,
    {
        let mut fields: Vec<(Arc<str>, Value)> = fields
            .into_iter()
            .map(|(k, v)| (Arc::from(k.as_ref()), v))
            .collect();
        fields.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        PathElement::Key(fields)
    }

    fn kind_rank(&self) -> u8 {
        match self {
            PathElement::Field(_) => 0,
            PathElement::Key(_) => 1,
            PathElement::Value(_) => 2,
            PathElement::Index(_) => 3,
        }
    }

    /// The field name, when this is a field element.
    pub fn as_field(&self) -> Option<&str> {
        match self {
            PathElement::Field(name) => Some(name),
            _ => None,
        }
    }
}

fn compare_keys(a: &[(Arc<str>, Value)], b: &[(Arc<str>, Value)]) -> Ordering {
    for ((an, av), (bn, bv)) in a.iter().zip(b) {
        let c = an.as_bytes().cmp(bn.as_bytes());
        if c != Ordering::Equal {
            return c;
        }
        let c = value::compare(av, bv);
        if c != Ordering::Equal {
            return c;
        }
    }
    a.len().cmp(&b.len())
}

impl Ord for PathElement {
    /// Field names < keys < set values < indexes, then by content (smd's `PathElement.Compare`).
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (PathElement::Field(a), PathElement::Field(b)) => a.as_bytes().cmp(b.as_bytes()),
            (PathElement::Key(a), PathElement::Key(b)) => compare_keys(a, b),
            (PathElement::Value(a), PathElement::Value(b)) => value::compare(a, b),
            (PathElement::Index(a), PathElement::Index(b)) => a.cmp(b),
            _ => self.kind_rank().cmp(&other.kind_rank()),
        }
    }
}

impl PartialOrd for PathElement {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for PathElement {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for PathElement {}

impl fmt::Display for PathElement {
    /// smd's string form: `.name`, `[k1=v1,k2="v2"]`, `[="a"]`, `[3]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathElement::Field(name) => write!(f, ".{name}"),
            PathElement::Key(fields) => {
                f.write_str("[")?;
                for (i, (name, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{name}={}", value::go_string(v))?;
                }
                f.write_str("]")
            }
            PathElement::Value(v) => write!(f, "[={}]", value::go_string(v)),
            PathElement::Index(i) => write!(f, "[{i}]"),
        }
    }
}

/// A sequence of path elements from the root of an object.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Path(pub Vec<PathElement>);

impl Path {
    /// The path of fields `names`, e.g. `Path::fields(["spec", "replicas"])`.
    pub fn fields<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        Path(names.into_iter().map(PathElement::field).collect())
    }

    pub fn elements(&self) -> &[PathElement] {
        &self.0
    }

    /// The path as Kubernetes prints field paths in unknown-field warnings and errors:
    /// `spec.containers[0].foo`, with keyed items as `[name="x"]`.
    pub fn to_kube_string(&self) -> String {
        let mut out = String::new();
        for (i, pe) in self.0.iter().enumerate() {
            match pe {
                PathElement::Field(name) => {
                    if i > 0 {
                        out.push('.');
                    }
                    out.push_str(name);
                }
                other => out.push_str(&other.to_string()),
            }
        }
        out
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for pe in &self.0 {
            write!(f, "{pe}")?;
        }
        Ok(())
    }
}

impl From<Vec<PathElement>> for Path {
    fn from(v: Vec<PathElement>) -> Self {
        Path(v)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn elements_order_by_kind_then_content() {
        let mut elements = [
            PathElement::Index(1),
            PathElement::Value(json!("a")),
            PathElement::key([("name", json!("b"))]),
            PathElement::field("z"),
            PathElement::field("a"),
            PathElement::key([("name", json!("a"))]),
        ];
        elements.sort();
        let printed: Vec<String> = elements.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            printed,
            [
                ".a",
                ".z",
                "[name=\"a\"]",
                "[name=\"b\"]",
                "[=\"a\"]",
                "[1]"
            ]
        );
    }

    #[test]
    fn paths_print_like_smd_and_kubernetes() {
        let path = Path(vec![
            PathElement::field("spec"),
            PathElement::field("ports"),
            PathElement::key([("protocol", json!("TCP")), ("containerPort", json!(80))]),
            PathElement::field("name"),
        ]);
        assert_eq!(
            path.to_string(),
            ".spec.ports[containerPort=80,protocol=\"TCP\"].name"
        );
        assert_eq!(
            Path(vec![
                PathElement::field("spec"),
                PathElement::Index(0),
                PathElement::field("x")
            ])
            .to_kube_string(),
            "spec[0].x"
        );
        assert_eq!(
            PathElement::key([("page", json!(2.0))]).to_string(),
            "[page=2]"
        );
    }
}
