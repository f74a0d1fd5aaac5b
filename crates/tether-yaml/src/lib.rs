//! Kubernetes-flavoured YAML, read and written exactly as `kustomize build` (v5.6.0) does.
//!
//! (Full documentation below is filled in with the implementation notes.)

mod base64;
mod emit;
mod gonum;
mod read;
mod resolve;
mod sort;
mod timestamp;

use serde_json::Value;

/// A YAML syntax or structure error, with the 1-based line and column where it was found
/// (column 0 when unknown). Lines count from the start of the whole stream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("yaml: line {line}: {message}")]
pub struct Error {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// One document of a stream and the 1-based line its root node starts on.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub value: Value,
    pub line: usize,
}

/// Every non-empty document of a YAML stream, with scalars resolved as kustomize resolves them.
pub fn parse_documents(text: &str) -> Result<Vec<Document>, Error> {
    read::parse_documents(text)
}

/// Exactly one document (`null` when the text holds none).
pub fn parse_document(text: &str) -> Result<Value, Error> {
    let mut docs = parse_documents(text)?;
    match docs.len() {
        0 => Ok(Value::Null),
        1 => Ok(docs.remove(0).value),
        n => Err(Error {
            line: docs[1].line,
            column: 0,
            message: format!("expected one document, found {n}"),
        }),
    }
}

/// yaml.v2's key order (`keyList.Less`), for tests that must tell when it is not a total order
/// (then Go's output depends on its random map iteration).
#[doc(hidden)]
pub fn key_less(a: &str, b: &str) -> bool {
    sort::key_less(a, b)
}

/// One resource as `kustomize build` prints it: block style, keys in yaml.v2's natural order,
/// ending with a newline (documents are joined with `---\n`).
pub fn to_yaml(value: &Value) -> String {
    emit::to_yaml(value)
}
