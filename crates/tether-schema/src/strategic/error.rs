//! Errors of strategic merge patch, with apimachinery's messages (clients and the conformance
//! suite match them) prefixed by the path of the field at fault.

use serde_json::Value;

use super::gofmt::{go_type, go_v};
use super::meta::LookupError;

/// A strategic merge patch failed at `path` (`.spec.containers[name="web"]`, empty for the
/// document root).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}{kind}", if path.is_empty() { String::new() } else { format!("{path}: ") })]
pub struct SmpError {
    pub path: String,
    pub kind: SmpErrorKind,
}

impl SmpError {
    /// A three-way patch conflicts with changes made from the original to the current object
    /// (`create_three_way_merge_patch` with `overwrite: false`).
    pub fn is_conflict(&self) -> bool {
        matches!(self.kind, SmpErrorKind::Conflict { .. })
    }
}

/// What went wrong. Messages are apimachinery's (`strategicpatch` and `mergepatch`); values in
/// them are printed as Go's `%v` would.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SmpErrorKind {
    #[error("invalid JSON document")]
    BadJsonDoc,
    #[error("lists of lists are not supported")]
    NoListOfLists,
    #[error("invalid patch format of primitive list")]
    BadPatchFormatForPrimitiveList,
    #[error("invalid patch format of retainKeys")]
    BadPatchFormatForRetainKeys,
    #[error("invalid patch format of setElementOrder list")]
    BadPatchFormatForSetElementOrderList,
    #[error("map: {map} does not contain declared merge key: {key}")]
    NoMergeKey { map: String, key: String },
    #[error("expected a {expected}, but received a {actual}")]
    BadArgType {
        expected: &'static str,
        actual: &'static str,
    },
    #[error("unknown patch type: {directive} in map: {map}")]
    BadPatchType { directive: String, map: String },
    #[error("merging lists cannot yet be specified in the patch")]
    MergeListDirective,
    #[error("cannot merge lists without merge key for {0}")]
    NoMergeKeyForList(String),
    #[error("the order in patch list:\n{patch}\n doesn't match $setElementOrder list:\n{order}")]
    SetElementOrderMismatch { patch: String, order: String },
    #[error("list element types are not identical: {0}")]
    ListElementTypes(String),
    #[error("no elements in any of the given slices")]
    NoElements,
    #[error("unexpected patch strategy: [{}]", .0.join(" "))]
    UnexpectedPatchStrategy(Vec<String>),
    #[error("invalid value for special key: $patch")]
    BadDirectiveValue,
    #[error(
        "{original} and {patch} are not deep equal: this may happen when calculating the 3-way diff patch"
    )]
    RetainKeysMismatch { original: String, patch: String },
    #[error("value for key {0} is not a map")]
    NotAMap(usize),
    #[error("invalid element type in merging list:{0}")]
    BadMergingListElement(String),
    #[error("cannot find merge key `{key}` in merging list element:{element}")]
    MergeKeyMissingInElement { key: String, element: String },
    #[error(transparent)]
    Lookup(#[from] LookupError),
    #[error("patch:\n{patch}\nconflicts with changes made from original to current:\n{changed}\n")]
    Conflict { patch: String, changed: String },
}

impl SmpErrorKind {
    pub(crate) fn no_merge_key(map: &Value, key: &str) -> Self {
        SmpErrorKind::NoMergeKey {
            map: go_v(map),
            key: key.to_owned(),
        }
    }

    pub(crate) fn bad_arg_type(expected: &'static str, actual: &Value) -> Self {
        SmpErrorKind::BadArgType {
            expected,
            actual: go_type(actual),
        }
    }
}

pub(crate) const GO_MAP: &str = "map[string]interface {}";
pub(crate) const GO_SLICE: &str = "[]interface {}";

/// Where in the document a walk is: a chain of segments rendered only when an error occurs.
#[derive(Clone, Copy)]
pub(crate) struct Loc<'a> {
    parent: Option<&'a Loc<'a>>,
    seg: Seg<'a>,
}

#[derive(Clone, Copy)]
enum Seg<'a> {
    Root,
    Field(&'a str),
    Item(&'a str, &'a Value),
}

impl<'a> Loc<'a> {
    pub(crate) const ROOT: Loc<'static> = Loc {
        parent: None,
        seg: Seg::Root,
    };

    pub(crate) fn field(&'a self, name: &'a str) -> Loc<'a> {
        Loc {
            parent: Some(self),
            seg: Seg::Field(name),
        }
    }

    /// The list item whose merge key `key` is `value`.
    pub(crate) fn item(&'a self, key: &'a str, value: &'a Value) -> Loc<'a> {
        Loc {
            parent: Some(self),
            seg: Seg::Item(key, value),
        }
    }

    pub(crate) fn render(&self) -> String {
        let mut segs = Vec::new();
        let mut cur = Some(self);
        while let Some(loc) = cur {
            segs.push(loc.seg);
            cur = loc.parent;
        }
        let mut out = String::new();
        for seg in segs.iter().rev() {
            match seg {
                Seg::Root => {}
                Seg::Field(name) => {
                    out.push('.');
                    out.push_str(name);
                }
                Seg::Item(key, value) => {
                    out.push('[');
                    out.push_str(key);
                    out.push('=');
                    out.push_str(&value.to_string());
                    out.push(']');
                }
            }
        }
        out
    }

    pub(crate) fn err(&self, kind: impl Into<SmpErrorKind>) -> SmpError {
        SmpError {
            path: self.render(),
            kind: kind.into(),
        }
    }
}

/// Attaches a location to a helper's error kind.
pub(crate) trait At<T> {
    fn at(self, loc: &Loc<'_>) -> Result<T, SmpError>;
}

impl<T, E: Into<SmpErrorKind>> At<T> for Result<T, E> {
    fn at(self, loc: &Loc<'_>) -> Result<T, SmpError> {
        self.map_err(|e| loc.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_render_fields_and_keyed_items() {
        let root = Loc::ROOT;
        let spec = root.field("spec");
        let containers = spec.field("containers");
        let name = json!("web");
        let item = containers.item("name", &name);
        let image = item.field("image");
        assert_eq!(image.render(), r#".spec.containers[name="web"].image"#);
        assert_eq!(
            image.err(SmpErrorKind::NoElements).to_string(),
            r#".spec.containers[name="web"].image: no elements in any of the given slices"#
        );
        assert_eq!(
            root.err(SmpErrorKind::BadJsonDoc).to_string(),
            "invalid JSON document"
        );
    }
}
