//! Field-spec paths as kustomize's `filters/fieldspec` reads them for name references: `/`
//! separates fields, `\/` is a literal slash inside one (annotation keys), a `[]` suffix only
//! says the field is a list, and lists met on the way are walked element by element.
//! Nothing is ever created; a missing or null field ends the walk quietly.

use serde_json::Value;

use crate::error::{Error, Result};

/// Splits `path` on unescaped `/` and drops `[]` suffixes.
pub fn split(path: &str) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    for piece in path.split('/') {
        match parts.last_mut() {
            Some(last) if last.ends_with('\\') => {
                last.pop();
                last.push('/');
                last.push_str(piece);
            }
            _ => parts.push(piece.to_owned()),
        }
    }
    for p in &mut parts {
        if let Some(stripped) = p.strip_suffix("[]") {
            *p = stripped.to_owned();
        }
    }
    parts
}

/// Calls `leaf` on every node at `path` below `node`.
pub fn walk(
    node: &mut Value,
    path: &[String],
    leaf: &mut dyn FnMut(&mut Value) -> Result<()>,
) -> Result<()> {
    let Some((first, rest)) = path.split_first() else {
        return leaf(node);
    };
    match node {
        Value::Array(items) => {
            for item in items {
                walk(item, path, leaf)?;
            }
            Ok(())
        }
        Value::Object(map) => match map.get_mut(first.as_str()) {
            None | Some(Value::Null) => Ok(()),
            Some(child) => walk(child, rest, leaf),
        },
        Value::Null => Ok(()),
        _ => Err(Error::msg("expected sequence or mapping node")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn split_keeps_escaped_slashes_and_drops_list_marks() {
        assert_eq!(
            split(r"metadata/annotations/nginx.ingress.kubernetes.io\/auth-secret"),
            [
                "metadata",
                "annotations",
                "nginx.ingress.kubernetes.io/auth-secret"
            ]
        );
        assert_eq!(
            split("spec/containers[]/env"),
            ["spec", "containers", "env"]
        );
    }

    #[test]
    fn walk_visits_list_elements_and_skips_nulls() {
        let mut v = json!({"spec": {"containers": [
            {"env": [{"name": "a"}, {"name": "b"}]},
            {"env": null},
            {"image": "x"},
        ]}});
        let mut seen = Vec::new();
        walk(&mut v, &split("spec/containers/env/name"), &mut |n| {
            seen.push(n.as_str().unwrap_or_default().to_owned());
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, ["a", "b"]);
    }

    #[test]
    fn walk_through_a_scalar_fails() {
        let mut v = json!({"spec": "oops"});
        let err = walk(&mut v, &split("spec/x"), &mut |_| Ok(())).unwrap_err();
        assert!(
            err.to_string()
                .contains("expected sequence or mapping node")
        );
    }
}
