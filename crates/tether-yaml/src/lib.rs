//! Kubernetes-flavoured YAML as kustomize reads and writes it.
//!
//! TEMPORARY: signatures only, on serde-saphyr; the real parser (yaml.v3 scalar resolution)
//! and emitter (sigs.k8s.io/yaml's JSON → yaml.v2 path) replace this.

use serde_json::Value;

/// A YAML syntax or structure error, with the 1-based line where it was found.
#[derive(Debug, thiserror::Error)]
#[error("yaml: line {line}: {message}")]
pub struct Error {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// One document of a stream and the line it starts on.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub value: Value,
    pub line: usize,
}

/// Every non-empty document of a YAML stream, as kustomize's reader resolves scalars.
pub fn parse_documents(text: &str) -> Result<Vec<Document>, Error> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(text).map_err(|e| Error {
        line: 0,
        column: 0,
        message: e.to_string(),
    })?;
    Ok(docs
        .into_iter()
        .filter(|v| !v.is_null())
        .map(|value| Document { value, line: 1 })
        .collect())
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

/// One resource as `kustomize build` prints it.
pub fn to_yaml(value: &Value) -> String {
    serde_saphyr::to_string(value).unwrap_or_default()
}
