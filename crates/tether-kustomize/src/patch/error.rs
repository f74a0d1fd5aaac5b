//! Errors of the patch engines. Messages keep kustomize's wording (users search for it) and add
//! where the problem is: the field path for strategic merge patches, the operation index and
//! path for JSON 6902 patches.

use std::fmt;

use serde_json::Value;

/// The node kinds kyaml names in its messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    Mapping,
    Sequence,
    Scalar,
}

impl NodeKind {
    pub(crate) fn of(value: &Value) -> NodeKind {
        match value {
            Value::Object(_) => NodeKind::Mapping,
            Value::Array(_) => NodeKind::Sequence,
            _ => NodeKind::Scalar,
        }
    }
}

impl fmt::Display for NodeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NodeKind::Mapping => "MappingNode",
            NodeKind::Sequence => "SequenceNode",
            NodeKind::Scalar => "ScalarNode",
        })
    }
}

/// Why a patch could not be applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PatchError {
    /// The patch and the target disagree on the shape of a field (a map where the target has a
    /// list, ...). kustomize: `wrong node kind: expected SequenceNode but got MappingNode: node
    /// contents: ...`.
    #[error(
        "wrong node kind at {}: expected {expected} but got {found}: node contents:\n{contents}",
        display_path(path)
    )]
    WrongNodeKind {
        /// Dotted field path from the resource root (`spec.template.spec.containers`).
        path: String,
        expected: NodeKind,
        found: NodeKind,
        /// The offending node, as JSON.
        contents: String,
    },
    /// A `$patch` directive other than `merge`, `replace` or `delete`.
    #[error("unknown patch strategy '{value}' at {}", display_path(path))]
    UnknownPatchStrategy { path: String, value: String },
    /// A JSON 6902 patch that is not a list of operation objects.
    #[error("invalid JSON patch: {0}")]
    InvalidJsonPatch(String),
    /// A JSON 6902 operation failed; `message` is evanphx/json-patch's, as kustomize prints it.
    #[error("JSON patch operation {index} ({op} {path:?}): {message}")]
    JsonPatchOperation {
        /// Position of the operation in the list, from 0.
        index: usize,
        op: String,
        path: String,
        message: String,
    },
    /// The JSON patch left something that is not an object at the root.
    #[error("the JSON patch turned the resource into a {0}; a resource must be a map")]
    NotAnObject(&'static str),
}

fn display_path(path: &str) -> &str {
    if path.is_empty() { "the root" } else { path }
}

impl PatchError {
    pub(crate) fn wrong_kind(expected: NodeKind, node: &Value) -> PatchError {
        PatchError::WrongNodeKind {
            path: String::new(),
            expected,
            found: NodeKind::of(node),
            contents: node.to_string(),
        }
    }

    /// Prefixes the path of a strategic merge error with `segment` while the error unwinds, so
    /// the success path never builds paths.
    pub(crate) fn within(mut self, segment: &str) -> PatchError {
        if let PatchError::WrongNodeKind { path, .. }
        | PatchError::UnknownPatchStrategy { path, .. } = &mut self
        {
            if path.is_empty() {
                *path = segment.to_owned();
            } else if path.starts_with('[') {
                path.insert_str(0, segment);
            } else {
                path.insert(0, '.');
                path.insert_str(0, segment);
            }
        }
        self
    }
}
